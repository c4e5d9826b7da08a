# Ref: docs/rings.md, "Jobs" (validation order) and "Counters"
"""Job validation and the counter additions a finished job makes.

``JobCheck`` is combinational: from the command's fields, the contexts of the
channels it names and the destination's total length it gives the
:class:`~.layouts.ResultStatus` of the validation (OK or the first failing
check, in the documented order), the output length and what the datapath
needs to know. :func:`count_plan` lists the counter additions for a job.

Ports (all combinational): ``opcode`` In(4), ``length`` In(24), ``skip``
In(16), ``cipher_channel``/``mac_channel``/``comp_channel`` In(8),
``cipher_context``/``mac_context`` In(1024), ``comp_config`` In(32) (the
compression channel's CONFIG dword, all its context), ``channels`` In(9), ``src_total``/``dst_total``
In(28) (bytes of the source and destination segments);
``status`` Out(8), ``out_bytes`` Out(24) (COMPRESS/DECOMPRESS and
ENCODE/DECODE chained with a compression channel: the most output the
destination takes), ``chained`` Out(1) (ENCODE/DECODE with a compression
channel: compress, encrypt, MAC / MAC check, decrypt, decompress), ``payload_bytes`` Out(24) (the cipher
region, or the message of a HASH, COMPRESS or DECOMPRESS job: what a good
job adds to its channels' BYTES), ``use_cipher``/``use_mac``/``use_comp``
Out(1), ``icv_bytes`` Out(5), ``cipher_unit``/``mac_unit``/``comp_unit``
Out(4) (AlgUnit) with ``cipher_unit_known``/``mac_unit_known``/
``comp_unit_known`` Out(1).
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..contract.codes import (CIPHER_BLOCK_BYTES, FAILURES, MAC_DIGEST_BYTES, NO_CHANNEL, RANDOM_MAX_BYTES, CipherAlg,
                              CipherMode, CompAlg, Direction, IvSource, MacAlg, Opcode, ResultStatus, Service,
                              alg_unit)
from ..contract.layouts import CONTEXT
from .channel_store import CONTEXT_BITS

__all__ = ["JobCheck", "count_plan", "context_field"]


def context_field(context, register: str, field: str):
    """Slice a field of a 1024-bit context (dword k at bits [32k+31:32k])."""
    reg = getattr(CONTEXT, register)
    f = getattr(reg, field)
    base = reg.offset * 8 + f.offset
    return context[base:base + f.width]


def _is_any(value, members):
    result = Const(0)
    for member in members:
        result = result | (value == int(member))
    return result


class JobCheck(wiring.Component):
    def __init__(self):
        super().__init__({
            "opcode": In(4), "length": In(24), "skip": In(16),
            "cipher_channel": In(8), "mac_channel": In(8), "comp_channel": In(8),
            "cipher_context": In(CONTEXT_BITS), "mac_context": In(CONTEXT_BITS), "comp_config": In(32),
            "chained": Out(1),
            "channels": In(9), "src_total": In(28), "dst_total": In(28),
            "status": Out(8), "out_bytes": Out(24), "payload_bytes": Out(24),
            "use_cipher": Out(1), "use_mac": Out(1), "use_comp": Out(1),
            "icv_bytes": Out(5), "cipher_unit": Out(4), "mac_unit": Out(4), "comp_unit": Out(4),
            "cipher_unit_known": Out(1), "mac_unit_known": Out(1), "comp_unit_known": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        crypto = _is_any(self.opcode, (Opcode.ENCODE, Opcode.DECODE))
        hashing = self.opcode == Opcode.HASH
        compression = _is_any(self.opcode, (Opcode.COMPRESS, Opcode.DECOMPRESS))
        decode = _is_any(self.opcode, (Opcode.DECODE, Opcode.DECOMPRESS))
        want_direction = Mux(decode, Direction.DECODE, Direction.ENCODE)
        m.d.comb += [
            self.use_cipher.eq(crypto & (self.cipher_channel != NO_CHANNEL)),
            self.use_mac.eq((crypto | hashing) & (self.mac_channel != NO_CHANNEL)),
            self.use_comp.eq((compression | crypto) & (self.comp_channel != NO_CHANNEL)),
            self.chained.eq(crypto & self.use_comp),
        ]
        slots = []
        comp_context = Cat(self.comp_config, Const(0, CONTEXT_BITS - 32))
        for name, service, algs, ctx in (("cipher", Service.CIPHER, CipherAlg, self.cipher_context),
                                         ("mac", Service.MAC, MacAlg, self.mac_context),
                                         ("comp", Service.COMPRESSION, CompAlg, comp_context)):
            used = getattr(self, f"use_{name}")
            alg = context_field(ctx, "CONFIG", "alg")
            slots.append({
                "used": used,
                "exists": getattr(self, f"{name}_channel") < self.channels,
                "open": context_field(ctx, "CONFIG", "open"),
                "fits": (context_field(ctx, "CONFIG", "service") == service) &
                        (context_field(ctx, "CONFIG", "direction") == want_direction),
                "alg": alg,
                "known": _is_any(alg, algs),
                "ctx": ctx,
            })
            unit = getattr(self, f"{name}_unit")
            with m.Switch(alg):
                for member in algs:
                    with m.Case(int(member)):
                        m.d.comb += unit.eq(alg_unit(service, member))
            m.d.comb += getattr(self, f"{name}_unit_known").eq(
                slots[-1]["exists"] & slots[-1]["open"] &
                (context_field(ctx, "CONFIG", "service") == service) & slots[-1]["known"])
        cipher, mac, _ = slots

        # ICV length and its validity for the MAC channel's algorithm.
        icv = context_field(mac["ctx"], "CONFIG", "icv_bytes")
        digest = Signal(5)
        with m.Switch(mac["alg"]):
            for alg, size in MAC_DIGEST_BYTES.items():
                with m.Case(int(alg)):
                    m.d.comb += digest.eq(size)
        icv_ok = (icv[:2] == 0) & (icv >= 4) & (icv <= digest)
        m.d.comb += self.icv_bytes.eq(Mux(self.use_mac, icv, 0))

        block = Signal(5)
        with m.Switch(cipher["alg"]):
            for alg, size in CIPHER_BLOCK_BYTES.items():
                with m.Case(int(alg)):
                    m.d.comb += block.eq(size)
        cbc = context_field(cipher["ctx"], "CONFIG", "mode") == CipherMode.CBC
        iv_in_packet = cbc & (context_field(cipher["ctx"], "CONFIG", "iv_source") == IvSource.PACKET)

        trailer = Mux(decode, self.icv_bytes, 0)
        region = Signal(25)
        m.d.comb += [region.eq(self.length - self.skip - trailer), self.payload_bytes.eq(region)]
        random = self.opcode == Opcode.RANDOM
        room = Mux(self.dst_total[24:] != 0, (1 << 24) - 1, self.dst_total[:24])
        chained_encode = self.chained & (self.opcode == Opcode.ENCODE)
        m.d.comb += self.out_bytes.eq(Mux(compression | self.chained, room & ~3,
                                      Mux(self.opcode == Opcode.ENCODE, self.length + self.icv_bytes,
                                          Mux(self.opcode == Opcode.DECODE, self.length - self.icv_bytes,
                                              Mux(hashing, self.icv_bytes,
                                                  Mux(random, (self.length + 3) & ~3, self.length))))))
        bytewise = hashing | compression | random
        # A chained ENCODE takes a payload of any byte length (the card pads the compressed stream).
        lengths_bad = (Mux(bytewise, self.skip != 0,
                           ~chained_encode & ((self.length == 0) | (self.length[:2] != 0))) |
                       (random & ((self.length == 0) | (self.length > RANDOM_MAX_BYTES))) |
                       (crypto & ((self.skip[:2] != 0) | (self.length < self.skip + trailer))) |
                       (self.use_cipher & ~chained_encode & ((region & (block - 1)) != 0)) |
                       (self.use_cipher & iv_in_packet & (self.skip < block)) |
                       (~random & (self.src_total < self.length)) | (self.dst_total < self.out_bytes))

        def any_slot(key, invert=False):
            result = Const(0)
            for slot in slots:
                value = ~slot[key] if invert else slot[key]
                result = result | (slot["used"] & value)
            return result

        with m.If(~_is_any(self.opcode, Opcode)):
            m.d.comb += self.status.eq(ResultStatus.BAD_OPCODE)
        with m.Elif(any_slot("exists", invert=True)):
            m.d.comb += self.status.eq(ResultStatus.BAD_CHANNEL)
        with m.Elif(any_slot("open", invert=True)):
            m.d.comb += self.status.eq(ResultStatus.CHANNEL_CLOSED)
        with m.Elif(any_slot("fits", invert=True) | (crypto & ~self.use_cipher & ~self.use_mac & ~self.use_comp) |
                    (hashing & ((self.cipher_channel != NO_CHANNEL) | ~self.use_mac)) |
                    (compression & ((self.cipher_channel != NO_CHANNEL) | (self.mac_channel != NO_CHANNEL) |
                                    ~self.use_comp))):
            m.d.comb += self.status.eq(ResultStatus.CHANNEL_MISMATCH)
        with m.Elif(any_slot("known", invert=True) | (self.use_mac & ~icv_ok)):
            m.d.comb += self.status.eq(ResultStatus.BAD_CONTEXT)
        with m.Elif(lengths_bad):
            m.d.comb += self.status.eq(ResultStatus.BAD_LENGTH)
        with m.Else():
            m.d.comb += self.status.eq(ResultStatus.OK)
        return m


def count_plan(check, status, opcode, cipher_channel, mac_channel, comp_channel, channels, addr_width):
    """Counter additions for a finished job: ``[(enable, bank, address, value)]``.

    A channel named in both crypto slots counts once (the compression slot is
    used alone). Bank 0 holds the channel counters (channel * 4 + GOOD/FAIL/DISCARD/BYTES),
    bank 1 the algorithm-unit counters (unit * 8 + the COUNTER_KINDS index).
    """
    good = status == ResultStatus.OK
    failed = _is_any(status, FAILURES)
    kind = Mux(good, 0, Mux(failed, 1, 2))            # GOOD, FAIL, DISCARD
    decode = _is_any(opcode, (Opcode.DECODE, Opcode.DECOMPRESS))
    plan = []
    for use, channel in ((check.use_cipher, cipher_channel),
                         (check.use_mac & ~(check.use_cipher & (mac_channel == cipher_channel)), mac_channel),
                         (check.use_comp, comp_channel)):
        known = use & (channel < channels)
        plan.append((known, 0, (channel * 4 + kind)[:addr_width], Const(1, 32)))
        plan.append((known & good, 0, (channel * 4 + 3)[:addr_width], check.payload_bytes))
    for use, unit, known in ((check.use_cipher, check.cipher_unit, check.cipher_unit_known),
                             (check.use_mac, check.mac_unit, check.mac_unit_known),
                             (check.use_comp, check.comp_unit, check.comp_unit_known)):
        plan.append((use & known, 1, (unit * 8 + Mux(decode, 3, 0) + kind)[:addr_width], Const(1, 32)))
    return plan
