# Ref: docs/rings.md
"""Checks of the arguments the driver's public API takes: each refuses a
value of the wrong type or out of range with :class:`InvalidArgument`
naming the argument (``name``) and what was expected.

The driver checks only what cannot be encoded for the card or has no
meaning (a key given as ``str``, a 33-bit register word, an unknown
register name); what the card itself validates reaches the card
(:mod:`.device`).
"""
import enum

from .bus import DmaBuffer
from .errors import InvalidArgument, UnknownName

__all__ = ["integer", "byte_string", "member", "timeout", "named", "buffer_or_address"]


def integer(value, name: str, low: int = 0, high: int | None = None) -> int:
    """``value`` if it is an ``int`` (not a bool) in ``low`` .. ``high`` (no upper bound for None)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidArgument(f"{name} {value!r}: expected an integer {bound}")
    return value


def byte_string(value, name: str) -> bytes:
    """``value`` as ``bytes`` if it is ``bytes``, ``bytearray`` or ``memoryview``."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidArgument(f"{name} of type {type(value).__name__}: expected bytes")
    return bytes(value)


def member(enum_type: type[enum.Enum], value, name: str):
    """The ``enum_type`` member ``value`` is (a member or its value)."""
    try:
        return enum_type(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name} {value!r}: expected one of "
                              f"{', '.join(m.name for m in enum_type)}") from None



def timeout(value, name: str = "timeout_clocks") -> int | None:
    """``value`` if it is None (the default timeout) or a count of PCI clocks (>= 0)."""
    return None if value is None else integer(value, name)


def named(registers: dict, space: str, name):
    """The register called ``name`` among ``registers`` (``{name: register}``);
    :class:`UnknownName` otherwise."""
    if not isinstance(name, str) or name not in registers:
        raise UnknownName(f"{space} has no register {name!r}; expected a register name, one of "
                          f"{', '.join(registers)}")
    return registers[name]


def buffer_or_address(where, length: int, name: str) -> int:
    """The bus byte address of ``where`` (a :class:`DmaBuffer` holding at
    least ``length`` bytes, or a 32-bit address)."""
    if isinstance(where, DmaBuffer):
        if length > where.size:
            raise InvalidArgument(f"{name} buffer at {where.address:#010x} holds {where.size} bytes; "
                                  f"the copy needs {length}")
        return where.address
    if isinstance(where, bool) or not isinstance(where, int) or not 0 <= where <= 0xFFFF_FFFF:
        raise InvalidArgument(f"{name} address {where!r} is not a 32-bit bus address; expected a DmaBuffer "
                              "or an address from 0 to 0xffffffff")
    return where
