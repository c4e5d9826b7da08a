# Ref: docs in README.md, "Register map" (PK_* registers, PK_OPERANDS window)
"""The public-key unit's contract: operand slots, statuses and operation time.

The card's modular-exponentiation unit (:class:`pacsim.hdl.engines.modexp.ModExp`)
reads its operands from, and writes its result to, the BAR0 ``PK_OPERANDS``
window (:data:`~.regmap.WINDOWS`): one slot per :class:`ModExpSlot`, 32-bit
words least significant first. ``PK_STATUS.status``
reports a :class:`ModExpStatus`; :func:`modexp_clocks` is the exact time of an
operation in PCI clocks, which the driver uses for its timeouts and the
behavioural model for its timing.
"""
import enum
from math import ceil

from .build import BUILD

__all__ = ["ModExpSlot", "ModExpStatus", "modexp_clocks"]


class ModExpStatus(enum.IntEnum):
    """Outcome of an operation (``PK_STATUS.status``, the unit's ``status`` port)."""
    OK = 0              #: the result is in the RESULT slot
    EVEN_MODULUS = 1    #: the modulus is even (or zero): no Montgomery arithmetic
    BAD_SIZE = 2        #: ``words`` 0 or > max_bits/32, or ``exp_bits`` > max_bits
    TIMEOUT = 3         #: stopped by the watchdog
    ABORTED = 4         #: stopped by ``abort``


class ModExpSlot(enum.IntEnum):
    """The operand memory's slots (``mem_addr`` = slot * max_bits/32 + word)."""
    BASE = 0
    EXPONENT = 1
    MODULUS = 2
    RESULT = 3


def modexp_clocks(bits: int, exp_bits: int, *, words=None, mul_bits: int = BUILD.pk_mul_bits) -> int:
    """Busy clocks of one modular exponentiation of the public-key unit (exact;
    the tests compare it with the measured count). It does not depend on the
    exponent's value: every one of the ``exp_bits`` bits costs a squaring and a
    multiplication.

    ``bits``: the modulus' bit length; ``exp_bits``: the ``exp_bits`` port;
    ``words``: the ``words`` port (default ``ceil(bits / 32)``); ``mul_bits``:
    the unit's digit width. Returns PCI clocks.
    """
    w = mul_bits
    words = ceil(bits / 32) if words is None else words
    s = ceil(words * 32 / w)
    loads = s * w // 32
    doublings = w * s - max(bits, 1) + 1
    mont = 2 * s * s + 3 * s + 1
    products = (w.bit_length() - 1) + 2 + 2 * exp_bits
    return (2 * loads + 1) + max((doublings + s + 1) * (s + 1), w) + products * mont + words + 1
