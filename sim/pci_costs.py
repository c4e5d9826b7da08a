# Ref: PCI Local Bus Specification 2.3, sections 3.3 (burst timing), 3.5 (latency); docs/rings.md
"""The behavioural model's timing, in one place: PCI clocks of bus
transactions, of a job's descriptors and data, and of the crypto engines.

Every clock the model spends comes from :class:`PciCosts`: host transactions
and the card's DMA transactions (descriptors and data alike) cost
:meth:`PciCosts.transaction`; the crypto engines run alongside the data
transfer and add only the clocks by which they are slower than it
(:meth:`PciCosts.engine_clocks`). The card's core runs on the PCI clock, so
engine clocks are PCI clocks.

The engine figures are read from the card's own units (the
``clocks_per_block`` and ``ready_clocks`` each of :class:`CipherUnit` and
:class:`MacUnit` documents and its tests measure), so the model cannot
drift from the RTL's engines.

The other engines, likewise from their own documented figures:

- LZS (:mod:`.lzs_model`): compression one clock per input byte plus a small
  fixed overhead; decompression per token (a literal 1 clock, a match its
  length + 2, + 1 per length nibble after ``1111``). Estimates, within a few
  clocks of the engines' measurements; the ring engine's own overhead
  around them is not modelled.
- Public-key unit: :func:`~pacsim.contract.pk.modexp_clocks`, the
  engine's exact busy count (64-bit multiplier, the default build).
- Random number generator: the clock counts of
  :class:`~pacsim.hdl.engines.drbg.CtrDrbg` (power-on self-test, instantiate,
  reseed, a one-block generate, uninstantiate).
"""
import functools
from dataclasses import dataclass

from ..contract.codes import CIPHER_BLOCK_BYTES, CipherAlg, CipherMode, Direction, MacAlg
from ..contract.layouts import CMD, RESULT, SEG
from ..contract.pk import modexp_clocks
from . import lzs_model

__all__ = ["PciCosts", "COSTS"]

#: The padding a SHA-1/MD5 message needs at least (0x80 and the 8-byte length).
_HASH_PAD_BYTES = 9


@dataclass(frozen=True)
class PciCosts:
    """PCI clocks of bus events and of the card's engines.

    A transaction of ``n`` data phases costs address phase + DEVSEL wait
    (medium decode; on reads it covers the AD turnaround) + ``n`` + idle,
    i.e. ``n + 4``: a single config or memory access takes 5 clocks, a DMA
    chunk of ``n`` words ``n + 4`` each way.
    """
    address_phase: int = 1      #: FRAME# asserted, address and command on AD/C/BE#
    devsel_wait: int = 2        #: medium DEVSEL#: the first data phase completes 2 clocks later
    idle: int = 1               #: FRAME# and IRDY# deasserted between transactions
    master_abort_wait: int = 5  #: clocks without DEVSEL# before the initiator master-aborts
    abort_phase: int = 1        #: the clock the target signals target abort (STOP#, no TRDY#)


    # -- bus transactions ----------------------------------------------------

    def transaction(self, phases: int) -> int:
        """Clocks of a claimed transaction that completes ``phases`` data phases."""
        return self.address_phase + self.devsel_wait + phases + self.idle

    def master_abort(self) -> int:
        """Clocks of a transaction no target claims."""
        return self.address_phase + self.master_abort_wait + self.idle

    def target_abort(self, phases: int) -> int:
        """Clocks of a transaction target-aborted after ``phases`` data phases."""
        return self.transaction(phases) + self.abort_phase

    # -- jobs ------------------------------------------------------------------

    def descriptor_clocks(self, source_segments: int, destination_segments: int) -> int:
        """Clocks of one job's descriptor traffic when every transaction
        completes: the command read, one read per segment descriptor, the
        result slot's STATUS read, the result write and the command's
        ``own`` clear."""
        words = lambda layout: layout.size // 4
        return (self.transaction(words(CMD))
                + (source_segments + destination_segments) * self.transaction(words(SEG))
                + self.transaction(1) + self.transaction(words(RESULT)) + self.transaction(1))

    def data_clocks(self, read_bytes: int, write_bytes: int, burst_words: int) -> int:
        """Clocks of reading ``read_bytes`` and writing ``write_bytes`` of one
        contiguous segment each, in bursts of at most ``burst_words``."""
        total = 0
        for count in (read_bytes // 4, write_bytes // 4):
            full, rest = divmod(count, burst_words)
            total += full * self.transaction(burst_words) + (self.transaction(rest) if rest else 0)
        return total

    # -- engines ---------------------------------------------------------------

    def cipher_block_clocks(self, alg: CipherAlg, mode: CipherMode, direction: Direction) -> int:
        """Steady-state clocks per cipher block of the card's CipherUnit."""
        return _units()[0].clocks_per_block[(CipherAlg(alg), CipherMode(mode), direction == Direction.DECODE)]

    def cipher_setup_clocks(self, alg: CipherAlg) -> int:
        """Clocks from a job's start until the cipher takes data (AES key expansion)."""
        return _units()[0].ready_clocks[CipherAlg(alg)]

    def mac_clocks(self, alg: MacAlg, message_bytes: int) -> int:
        """Clocks to MAC ``message_bytes``: HMAC hashes the padded message
        from the inner state, then one outer block (a plain SHA-1/MD5 has no
        outer block); DES-MAC chains one DES block per 8 bytes (the last one
        zero-padded)."""
        clocks, block = self.mac_block_clocks(alg)
        if MacAlg(alg) is MacAlg.DES_MAC:
            return -(-message_bytes // block) * clocks
        outer = MacAlg(alg) in (MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1)
        return (-(-(message_bytes + _HASH_PAD_BYTES) // block) + outer) * clocks

    def mac_block_clocks(self, alg: MacAlg) -> tuple:
        """``(clocks, bytes)`` of one MAC block in steady state (the card's MacUnit)."""
        mac = _units()[1]
        return mac.clocks_per_block[MacAlg(alg)], mac.block_bytes[MacAlg(alg)]

    def engine_clocks(self, *, cipher=None, cipher_bytes: int = 0, mac=None, mac_bytes: int = 0) -> int:
        """Clocks the engines need for one job. ``cipher`` is ``(alg, mode,
        direction)`` or None, ``mac`` a :class:`MacAlg` or None; the cipher
        and the MAC stream in parallel, so the slower one sets the time."""
        cipher_time = mac_time = 0
        if cipher is not None:
            alg, mode, direction = cipher
            blocks = cipher_bytes // CIPHER_BLOCK_BYTES[CipherAlg(alg)]
            cipher_time = self.cipher_setup_clocks(alg) + blocks * self.cipher_block_clocks(alg, mode, direction)
        if mac is not None:
            mac_time = self.mac_clocks(mac, mac_bytes)
        return max(cipher_time, mac_time)

    def engine_clocks_per_block(self, cipher: CipherAlg, mode: CipherMode, direction: Direction,
                                mac: MacAlg) -> float:
        """Steady-state clocks per cipher block of a cipher + MAC job (the
        slower of the two, the MAC's scaled from its own block)."""
        block = CIPHER_BLOCK_BYTES[CipherAlg(cipher)]
        mac_clocks, mac_block = self.mac_block_clocks(mac)
        return round(max(self.cipher_block_clocks(cipher, mode, direction), mac_clocks * block / mac_block), 2)


    # -- compression, public key, random numbers ------------------------------------

    def lzs_compress_clocks(self, length: int) -> int:
        """Clocks of the LZS compressor for a packet of ``length`` bytes."""
        return lzs_model.compress_clocks(length)

    def lzs_decompress_clocks(self, stream: bytes) -> int:
        """Clocks of the LZS decompressor for ``stream`` (up to its end marker or first error)."""
        return lzs_model.decompress_clocks(stream)

    def modexp_clocks(self, modulus_bits: int, exp_bits: int, words: int) -> int:
        """Busy clocks of one public-key operation (:func:`~pacsim.contract.pk.modexp_clocks`;
        constant time: the exponent's value does not count, only its declared length)."""
        return modexp_clocks(modulus_bits, exp_bits, words=words)

    def modexp_load_clocks(self, words: int) -> int:
        """Busy clocks until the public-key unit has loaded its operands and
        found an even modulus: ``2 * words' + 1``, ``words'`` rounded up to
        whole 64-bit digits."""
        return 2 * (-(-words // 2) * 2) + 1

    def rng_clocks(self, command) -> int:
        """Busy clocks of an accepted random-number-generator command (a
        :class:`~pacsim.contract.rng.DrbgCommand`; GENERATE of one block)."""
        from ..contract.rng import DrbgCommand
        drbg = _drbg()
        return {DrbgCommand.INSTANTIATE: drbg.instantiate_clocks, DrbgCommand.RESEED: drbg.reseed_clocks,
                DrbgCommand.GENERATE: drbg.generate_clocks(1),
                DrbgCommand.UNINSTANTIATE: drbg.uninstantiate_clocks}[DrbgCommand(command)]

    def rng_generate_clocks(self, blocks: int) -> int:
        """Busy clocks of one GENERATE request of ``blocks`` 128-bit blocks (a RANDOM job's)."""
        return _drbg().generate_clocks(blocks)

    def rng_power_on_clocks(self) -> int:
        """Clocks the random number generator is busy after a reset (its known-answer self-test)."""
        return _drbg().power_on_clocks


@functools.cache
def _drbg():
    """The card's random number generator, for its timing attributes."""
    from ..hdl.engines.drbg import CtrDrbg
    return CtrDrbg()


@functools.cache
def _units():
    """The card's cipher and MAC units, for their timing attributes."""
    from ..hdl.cipher_unit import CipherUnit
    from ..hdl.mac_unit import MacUnit
    return CipherUnit(), MacUnit()


#: The default cost model.
COSTS = PciCosts()
