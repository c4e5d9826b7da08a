# Ref: docs/rings.md "Public-key unit"
# Ref: RFC 2409 section 5, RFC 2631 section 2.1 (Diffie-Hellman)
"""The public-key unit: modular exponentiation through its registers and
operand slots, and Diffie-Hellman key pairs and shared secrets on it.

:class:`PublicKeyUnit` is the part of :class:`~.device.PacDevice` that
holds these. One operation at a time: callers take the unit's lock
(``_pk_lock``), start the unit, wait for ``INT_STATUS.pk`` (INTA#) and read
the result. Operands are non-negative integers, times PCI clocks.
"""
from ..contract.pk import ModExpSlot, ModExpStatus, modexp_clocks
from ..contract.regmap import BAR0
from .arguments import timeout
from .errors import CardTimeout, InvalidArgument, PacError, PkFailed
from .job_queue import TIMEOUT_BASE_CLOCKS
from .pk import value_of, words_of
from ..reference.modp import modp_group

__all__ = ["PublicKeyUnit", "DH_PRIVATE_BITS"]

#: Default bits of a Diffie-Hellman private exponent: twice the 128-bit
#: strength of AES-128 (RFC 3526 section 8 asks for at least twice the
#: strength wanted), above the strength of every group of ``reference/modp.py``.
DH_PRIVATE_BITS = 256


class PublicKeyUnit:
    """Modular exponentiation and Diffie-Hellman (a part of :class:`~.device.PacDevice`).

    The driver's public-key counters: :attr:`pk_operations` (operations
    ended OK) and :attr:`pk_clocks` (the sum of their ``PK_CLOCKS``, PCI
    clocks the unit was busy), since the device was probed.
    """
    pk_operations = 0
    pk_clocks = 0

    def _pk_window(self, slot: ModExpSlot) -> int:
        return self._window("PK_OPERANDS", slot)

    async def modexp(self, base: int, exponent: int, modulus: int, *, timeout_clocks: int | None = None) -> int:
        """``base ** exponent mod modulus`` on the card's public-key unit.

        ``modulus``: odd, above 1, at most ``32 * identity.pk_words`` bits
        (2048); ``base`` and ``exponent`` non-negative, the exponent at most
        as many bits (a base wider than the modulus' words is reduced by the
        driver first). The operands go into the PK_OPERANDS slots, PK_SIZE
        gets the modulus' words and the exponent's bit length, then
        ``PK_CONTROL.start``; the driver waits for ``INT_STATUS.pk`` (INTA#)
        and acknowledges it. ``timeout_clocks`` defaults to twice the
        engine's own count (:func:`~pacsim.contract.pk.modexp_clocks`
        for a 32-bit multiplier, the slower build) plus a fixed allowance.

        Raises :class:`InvalidArgument` for operands the unit cannot take,
        :class:`PkFailed` (its ``status`` a
        :class:`~pacsim.contract.pk.ModExpStatus`) when the operation
        ends otherwise than OK (e.g. TIMEOUT by ``PK_WATCHDOG``),
        :class:`CardTimeout` (after aborting the operation) when no end is
        signalled in time, and :class:`PacError` if the unit is busy with an
        operation the driver did not start.
        """
        timeout(timeout_clocks, "modexp timeout_clocks")
        max_bits = 32 * self.identity.pk_words
        for name, value in (("base", base), ("exponent", exponent), ("modulus", modulus)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(f"modexp {name} {value!r}: expected a non-negative integer")
        if max_bits == 0:
            raise InvalidArgument("the card has no public-key unit (PK_STATUS.max_words = 0)")
        if modulus < 3 or modulus % 2 == 0 or modulus.bit_length() > max_bits:
            what = "even" if modulus % 2 == 0 else "1" if modulus == 1 else f"{modulus.bit_length()} bits"
            raise InvalidArgument(f"modexp modulus ({what}): expected an odd modulus above 1 of at most "
                                  f"{max_bits} bits (PK_STATUS.max_words = {self.identity.pk_words})")
        if exponent.bit_length() > max_bits:
            raise InvalidArgument(f"modexp exponent of {exponent.bit_length()} bits: expected at most {max_bits} bits")
        words = -(-modulus.bit_length() // 32)
        if base >> (32 * words):
            base %= modulus
        exp_bits = exponent.bit_length()
        if timeout_clocks is None:
            timeout_clocks = TIMEOUT_BASE_CLOCKS + 2 * modexp_clocks(modulus.bit_length(), exp_bits, words=words,
                                                                     mul_bits=32)
        async with self._pk_lock:
            return await self._modexp(base, exponent, modulus, words, timeout_clocks)

    async def _modexp(self, base: int, exponent: int, modulus: int, words: int, timeout_clocks: int) -> int:
        """One operation on the public-key unit, its lock held."""
        exp_bits = exponent.bit_length()
        if (await self.read_fields("PK_STATUS"))["busy"]:
            raise PacError("the public-key unit is busy with an operation this driver did not start; "
                           "expected it idle (PK_CONTROL.abort stops it)")
        await self.bus.mem_write(self._pk_window(ModExpSlot.BASE), words_of(base, words))
        if exp_bits:
            await self.bus.mem_write(self._pk_window(ModExpSlot.EXPONENT), words_of(exponent, -(-exp_bits // 32)))
        await self.bus.mem_write(self._pk_window(ModExpSlot.MODULUS), words_of(modulus, words))
        await self.write("PK_SIZE", BAR0.PK_SIZE.encode(words=words, exp_bits=exp_bits))
        await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))        # no stale event
        await self.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))
        status = await self._pk_wait(timeout_clocks, words, exp_bits)
        if status["status"] != ModExpStatus.OK:
            raise PkFailed(ModExpStatus(status["status"]), clocks=await self.read("PK_CLOCKS"),
                           what=f"modular exponentiation ({32 * words}-bit modulus, {exp_bits}-bit exponent)")
        self.pk_operations += 1
        self.pk_clocks += await self.read("PK_CLOCKS")
        return value_of(await self.bus.mem_read(self._pk_window(ModExpSlot.RESULT), words))

    async def _pk_wait(self, timeout_clocks: int, words: int, exp_bits: int) -> dict:
        """Wait for INT_STATUS.pk (by INTA#; polling while INTA# is held by
        another event), acknowledge it and return PK_STATUS."""
        deadline = self.bus.clocks() + timeout_clocks
        while True:
            if (await self.read_fields("INT_STATUS"))["pk"]:
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
                return await self.read_fields("PK_STATUS")
            remaining = deadline - self.bus.clocks()
            if remaining <= 0:
                await self.write("PK_CONTROL", BAR0.PK_CONTROL.encode(abort=1))
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
                raise CardTimeout(f"the public-key unit did not end a {32 * words}-bit modular exponentiation "
                                  f"({exp_bits}-bit exponent) within {timeout_clocks} PCI clocks; expected "
                                  f"INT_STATUS.pk (the operation was aborted; PK_WATCHDOG "
                                  f"{await self.read('PK_WATCHDOG')}, INT_ENABLE "
                                  f"{await self.read_fields('INT_ENABLE')})")
            if not self.bus.interrupt_asserted(self._device):
                await self.bus.wait_interrupt(remaining, self._device)

    async def dh_keypair(self, group, *, private_bits: int | None = None) -> tuple:
        """A Diffie-Hellman key pair ``(private, public)`` in MODP ``group``
        (a number of :data:`~pacsim.reference.modp.GROUPS` or a :class:`~pacsim.reference.modp.ModpGroup`).

        The private exponent has exactly ``private_bits`` bits (default
        :data:`DH_PRIVATE_BITS`, 256, at most the prime's bits - 1): random
        bits from the card's generator (:meth:`random`) with the top bit set;
        ``public = g ** private mod p`` on the public-key unit.
        """
        group = modp_group(group, InvalidArgument)
        bits = min(DH_PRIVATE_BITS, group.bits - 1) if private_bits is None else private_bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= group.bits - 1:
            raise InvalidArgument(f"private exponent of {bits!r} bits: expected 2 to {group.bits - 1} bits "
                                  f"for group {group.number}")
        raw = int.from_bytes(await self.random(-(-bits // 8)), "big")
        private = raw & ((1 << bits) - 1) | 1 << (bits - 1)
        return private, await self.modexp(group.generator, private, group.prime)

    async def dh_shared(self, group, private: int, peer_public: int) -> bytes:
        """The Diffie-Hellman shared secret ``peer_public ** private mod p``
        of MODP ``group``, as big-endian bytes left-padded with zeros to the
        prime's byte length (as ``cryptography``'s ``exchange`` returns it).
        ``peer_public`` must lie in 2 .. p - 2, ``private`` in 1 .. p - 2
        (:class:`InvalidArgument` otherwise)."""
        group = modp_group(group, InvalidArgument)
        p = group.prime
        if isinstance(peer_public, bool) or not isinstance(peer_public, int) or not 2 <= peer_public <= p - 2:
            raise InvalidArgument(f"peer public value of group {group.number} out of range: expected "
                                  f"2 <= y <= p - 2 (RFC 2631 2.1.5, SP 800-56A 5.6.2.3.1)")
        if isinstance(private, bool) or not isinstance(private, int) or not 1 <= private <= p - 2:
            raise InvalidArgument(f"private exponent of group {group.number} out of range: expected 1 .. p - 2")
        secret = await self.modexp(peer_public, private, p)
        return secret.to_bytes((group.bits + 7) // 8, "big")
