# Ref: ANSI X3.241-1994, RFC 2395
"""LZS decompressor: one LZS bitstream (empty history, as IPComp uses LZS)
from a 32-bit word stream into the packet bytes on a 32-bit word stream,
checking everything: a malformed stream ends the job with an error
:class:`LzsStatus`, never a hang, never more than ``limit`` output bytes, and
the input is always taken to its last word. Bitstream and error rules are
those of :func:`pacsim.reference.lzs.decompress`; the bytes sent before an error
are exactly that function's ``LzsError.output``.

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

============== ===== ===== ==================================================
port           dir   width meaning
============== ===== ===== ==================================================
``start``      In    1     pulse: begin a job. Honoured only while ``busy``
                           is low.
``length``     In    24    bitstream bytes; sampled with ``start``
``limit``      In    24    largest allowed output, bytes; sampled with
                           ``start``
``i.payload``  In    32    4 bitstream bytes in PCI byte order (the first in
                           ``[7:0]``; bits most significant first within a
                           byte). Exactly ceil(``length`` / 4) words are
                           taken, whatever the stream holds; in the last one
                           only the low ``length`` mod 4 bytes (all 4 if 0)
                           count.
``i.valid``    In    1     ``i.payload`` holds a word
``i.ready``    Out   1     a word is taken in a clock with ``i.valid &
                           i.ready``; never depends on ``i.valid``
``o.payload``  Out   32    4 output bytes in the same byte order; the last
                           word holds the remaining 1..4 bytes, zero-padded
``o.valid``    Out   1     ``o.payload`` holds a word; held with a stable
                           payload until taken
``o.ready``    In    1     the word is taken in a clock with ``o.valid &
                           o.ready``
``out_bytes``  Out   24    bytes output so far (all of them, ``<= limit``,
                           once ``done``)
``status``     Out   3     :class:`LzsStatus` of the job; valid while ``done``
``done``       Out   1     level: high from the clock after the last input
                           word and the last output word are taken until the
                           next accepted ``start``
``busy``       Out   1     from the edge after ``start`` until ``done``
============== ===== ===== ==================================================

Datapath. Input words enter a 48-bit bit buffer (oldest bit in the MSB)
whenever it keeps 16 bits or fewer after the clock's field; the parser looks at the 13 oldest bits:

- ``TOKEN``: a literal (9 bits) is output; an offset (9 or 13 bits with its
  ``1``) is checked against the bytes output so far; the end marker ends
  the job (the rest of the input is drained unread).
- ``LENGTH``: 2 or 4 bits; ``1111`` goes on to ``NIBBLE``, 4 bits a clock,
  the length saturating at 2**24 (beyond any ``limit``), so a stream of
  endless ``1111`` nibbles ends ``OVERFLOW`` (or ``TRUNCATED``) like any
  other.
- With the whole length known, the output count plus the length is checked
  against ``limit``, then ``COPY`` copies one byte per clock from the
  2048-byte ``history`` memory (which holds the output, position modulo
  2048), reading one clock ahead through a port transparent to the write, so
  overlapping matches (offset 1) run at full rate too.

A field is decoded once its bits are in the buffer; when they are not and
no input word is left, the job ends ``TRUNCATED``. After any error the
remaining input words are taken and dropped (``DRAIN``) and the bytes
already produced are sent.

Throughput (input words and output ready whenever wanted): a literal takes
1 clock; a match 2 clocks (offset, length field) plus one per further
length nibble plus one per copied byte: ``clocks_per_literal`` = 1,
``match_overhead`` = 2 (lengths up to 7; 3 for 8..22, +1 per 15 beyond).
Measured: 400 literals in 407 clocks from ``start`` to ``done``; a
1000-byte run (a literal and one match of 999) in 1074 clocks.
"""
import enum

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["HISTORY_BYTES", "LzsDecompressor", "LzsStatus"]

#: History memory size (a power of two: positions modulo it).
HISTORY_BYTES = 2048
#: Bits of the input bit buffer.
BUFFER_BITS = 48
#: The parser's match length saturates here: above every ``limit`` (< 2**24),
#: and with a last nibble added it still fits the 25-bit length.
LENGTH_MAX = 2 ** 24


class LzsStatus(enum.IntEnum):
    """Result of a decompression job (``status`` port)."""
    OK = 0              #: end marker reached
    BAD_OFFSET = 1      #: 11-bit offset 0, or an offset beyond the bytes output so far
    TRUNCATED = 2       #: the stream ends before its end marker
    OVERFLOW = 3        #: a literal or match would take the output past ``limit``


class LzsDecompressor(wiring.Component):
    """LZS decompressor of one packet per job (see the module doc).

    Attributes
    ----------
    clocks_per_literal : int
    match_overhead : int
        Clocks of a match besides one per copied byte, for lengths 2..7 (one
        more for 8..22, and one more per further 15).
    """

    clocks_per_literal = 1
    match_overhead = 2

    def __init__(self):
        super().__init__({
            "start": In(1), "length": In(24), "limit": In(24),
            "i": In(stream.Signature(32)),
            "o": Out(stream.Signature(32)),
            "out_bytes": Out(24), "status": Out(3), "done": Out(1), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.history = history = Memory(shape=8, depth=HISTORY_BYTES, init=[])
        hist_w = history.write_port()
        hist_r = history.read_port(domain="sync", transparent_for=(hist_w,))

        # --- input: bit buffer ---
        unloaded = Signal(24)               # stream bytes not yet taken from `i`
        buf = Signal(BUFFER_BITS)           # oldest bit in the MSB, zeros below `avail`
        avail = Signal(range(BUFFER_BITS + 1))
        use = Signal(range(14))             # bits consumed this clock
        parsing = Signal()
        draining = Signal()
        exhausted = Signal()
        m.d.comb += exhausted.eq(unloaded == 0)

        # --- parser ---
        limit = Signal(24)
        out_count = Signal(24)
        offset = Signal(11)
        length = Signal(25)                 # match length so far (saturating)
        copy_left = Signal(25)
        final = Signal()                    # the length field ends this clock ...
        final_length = Signal(25)           # ... with this length

        # --- output: byte assembly ---
        put = Signal()
        put_byte = Signal(8)
        assembly = Signal(24)               # bytes 0..2 of the next word; zeros beyond
        assembled = Signal(2)
        out_word = Signal(32)
        out_valid = Signal()
        can_put = Signal()

        m.d.comb += [
            self.o.payload.eq(out_word), self.o.valid.eq(out_valid),
            can_put.eq((assembled != 3) | ~out_valid | self.o.ready),
            self.out_bytes.eq(out_count),
        ]

        # input loading, after this clock's `use`
        take = self.i.valid & self.i.ready
        loaded = Signal(3)
        m.d.comb += loaded.eq(Mux(take, Mux(unloaded >= 4, 4, unloaded[:3]), 0))
        payload = self.i.payload
        big_endian = Cat(payload[24:32], payload[16:24], payload[8:16], payload[0:8])
        mask = Signal(32)
        with m.Switch(loaded):
            for n in range(1, 4):
                with m.Case(n):
                    m.d.comb += mask.eq(((1 << (8 * n)) - 1) << (32 - 8 * n))
            with m.Default():
                m.d.comb += mask.eq(0xFFFF_FFFF)
        left = Signal(range(BUFFER_BITS + 1))       # bits kept from the buffer
        gap = Signal(5)                             # where a loaded word goes (left <= 16)
        m.d.comb += [
            left.eq(avail - use), gap.eq(16 - left),
            self.i.ready.eq(~exhausted & ((parsing & (left <= 16)) | draining)),
        ]
        with m.If(parsing):
            m.d.sync += [
                buf.eq((buf << use)[:BUFFER_BITS]
                       | Mux(take, ((big_endian & mask) << gap)[:BUFFER_BITS], 0)),
                avail.eq(left + 8 * loaded),
            ]
        with m.If(take):
            m.d.sync += unloaded.eq(unloaded - loaded)

        # output: bytes into words
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += out_valid.eq(0)
        with m.If(put):
            m.d.comb += [hist_w.addr.eq(out_count), hist_w.data.eq(put_byte), hist_w.en.eq(1)]
            m.d.sync += out_count.eq(out_count + 1)
            with m.If(assembled == 3):
                m.d.sync += [out_word.eq(Cat(assembly, put_byte)), out_valid.eq(1),
                             assembly.eq(0), assembled.eq(0)]
            with m.Else():
                m.d.sync += [assembly.word_select(assembled, 8).eq(put_byte),
                             assembled.eq(assembled + 1)]

        # history read: the byte one offset back from the next output position
        m.d.comb += hist_r.addr.eq(out_count + put - offset)

        def fail(status):
            m.d.sync += self.status.eq(status)
            m.next = "DRAIN"

        def check_length():
            # the whole length is known: check the limit, start the copy
            with m.If(final):
                with m.If(out_count + final_length > limit):
                    fail(LzsStatus.OVERFLOW)
                with m.Else():
                    m.d.sync += copy_left.eq(final_length)
                    m.next = "COPY"

        bit0, bit1 = buf[BUFFER_BITS - 1], buf[BUFFER_BITS - 2]
        top2, top4 = buf[BUFFER_BITS - 2:], buf[BUFFER_BITS - 4:]
        offset7 = buf[BUFFER_BITS - 9:BUFFER_BITS - 2]
        offset11 = buf[BUFFER_BITS - 13:BUFFER_BITS - 2]
        literal = buf[BUFFER_BITS - 9:BUFFER_BITS - 1]

        with m.FSM(name="lzs_decompress") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        self.done.eq(0), self.status.eq(LzsStatus.OK),
                        unloaded.eq(self.length), limit.eq(self.limit),
                        buf.eq(0), avail.eq(0), out_count.eq(0),
                        assembly.eq(0), assembled.eq(0),
                    ]
                    m.next = "TOKEN"
            with m.State("TOKEN"):
                m.d.comb += parsing.eq(1)
                with m.If(~bit0):                               # 0 bbbbbbbb
                    with m.If(avail >= 9):
                        with m.If(out_count >= limit):
                            fail(LzsStatus.OVERFLOW)
                        with m.Elif(can_put):
                            m.d.comb += [put.eq(1), put_byte.eq(literal), use.eq(9)]
                    with m.Elif(exhausted):
                        fail(LzsStatus.TRUNCATED)
                with m.Elif(bit1):                              # 1 1 ooooooo
                    with m.If(avail >= 9):
                        with m.If(offset7 == 0):
                            m.next = "DRAIN"                    # end marker: status stays OK
                        with m.Elif(offset7 > out_count):
                            fail(LzsStatus.BAD_OFFSET)
                        with m.Else():
                            m.d.comb += use.eq(9)
                            m.d.sync += offset.eq(offset7)
                            m.next = "LENGTH"
                    with m.Elif(exhausted):
                        fail(LzsStatus.TRUNCATED)
                with m.Else():                                  # 1 0 ooooooooooo
                    with m.If(avail >= 13):
                        with m.If((offset11 == 0) | (offset11 > out_count)):
                            fail(LzsStatus.BAD_OFFSET)
                        with m.Else():
                            m.d.comb += use.eq(13)
                            m.d.sync += offset.eq(offset11)
                            m.next = "LENGTH"
                    with m.Elif(exhausted):
                        fail(LzsStatus.TRUNCATED)
            with m.State("LENGTH"):
                m.d.comb += parsing.eq(1)
                with m.If(top2 != 0b11):                        # 00 01 10: 2 3 4
                    with m.If(avail >= 2):
                        m.d.comb += [use.eq(2), final.eq(1), final_length.eq(top2 + 2)]
                    with m.Elif(exhausted):
                        fail(LzsStatus.TRUNCATED)
                with m.Else():
                    with m.If(avail >= 4):
                        m.d.comb += use.eq(4)
                        with m.If(top4 != 0b1111):              # 1100 1101 1110: 5 6 7
                            m.d.comb += [final.eq(1), final_length.eq(top4[:2] + 5)]
                        with m.Else():
                            m.d.sync += length.eq(8)
                            m.next = "NIBBLE"
                    with m.Elif(exhausted):
                        fail(LzsStatus.TRUNCATED)
                check_length()
            with m.State("NIBBLE"):
                m.d.comb += parsing.eq(1)
                with m.If(avail >= 4):
                    m.d.comb += use.eq(4)
                    with m.If(top4 == 0b1111):
                        m.d.sync += length.eq(Mux(length >= LENGTH_MAX, LENGTH_MAX, length + 15))
                    with m.Else():
                        m.d.comb += [final.eq(1), final_length.eq(length + top4)]
                with m.Elif(exhausted):
                    fail(LzsStatus.TRUNCATED)
                check_length()
            with m.State("COPY"):
                m.d.comb += parsing.eq(1)
                with m.If(can_put):
                    m.d.comb += [put.eq(1), put_byte.eq(hist_r.data)]
                    m.d.sync += copy_left.eq(copy_left - 1)
                    with m.If(copy_left == 1):
                        m.next = "TOKEN"
            with m.State("DRAIN"):
                m.d.comb += draining.eq(1)
                with m.If((assembled != 0) & ~out_valid):
                    m.d.sync += [out_word.eq(assembly), out_valid.eq(1), assembled.eq(0)]
                with m.If(exhausted & (assembled == 0) & ~out_valid):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"

        # the read port keeps its byte while a copy waits for the output
        m.d.comb += [
            hist_r.en.eq(~(fsm.ongoing("COPY") & ~put)),
            self.busy.eq(~fsm.ongoing("IDLE")),
        ]
        return m
