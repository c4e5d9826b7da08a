# Ref: ANSI X3.241-1994, RFC 2395
"""LZS compressor: one packet (empty history, as IPComp uses LZS) from a
32-bit word stream into an LZS bitstream on a 32-bit word stream. The
bitstream is the one :mod:`pacsim.reference.lzs` documents and decodes.

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

============== ===== ===== ==================================================
port           dir   width meaning
============== ===== ===== ==================================================
``start``      In    1     pulse: begin a packet of ``length`` bytes.
                           Honoured only while ``busy`` is low.
``length``     In    24    input bytes (0 allowed: the output is the end
                           marker alone); sampled with ``start``
``i.payload``  In    32    4 input bytes in PCI byte order: the first byte
                           in ``[7:0]``. ceil(``length`` / 4) words are
                           taken, never more; in the last one only the low
                           ``length`` mod 4 bytes (all 4 if 0) are message.
``i.valid``    In    1     ``i.payload`` holds a word
``i.ready``    Out   1     a word is taken in a clock with ``i.valid &
                           i.ready``; never depends on ``i.valid``
``o.payload``  Out   32    4 bitstream bytes in the same byte order. The
                           bitstream is packed most significant bit first
                           into bytes; the last word is padded with zero
                           bytes.
``o.valid``    Out   1     ``o.payload`` holds a word; held with a stable
                           payload until taken
``o.ready``    In    1     the word is taken in a clock with ``o.valid &
                           o.ready``
``out_bytes``  Out   24    bitstream bytes (end marker and its padding
                           included, the zero bytes of the last word not);
                           valid while ``done``. Modulo 2**24: only a packet
                           of over 14.9 MB could need more.
``done``       Out   1     level: high from the clock after the last output
                           word is taken until the next accepted ``start``
``busy``       Out   1     from the edge after ``start`` until ``done``
============== ===== ===== ==================================================

Match finding. Input bytes are *consumed* (stage 1) one per clock: each is
written into the 2048-byte ``history`` memory at its position modulo 2048,
and indexes two tables of ``2**hash_bits`` entries with the byte(s) before
it: ``triples`` by the 3 bytes ending with it (:func:`triple_hash`),
``pairs`` by the 2 bytes (:func:`pair_hash`). Each table returns its old
entry and takes (position of the first byte, the bytes themselves) in the
same clock, so an entry is the most recent earlier occurrence of its key,
unless another key with the same hash replaced it.

The *encoder* (stage 2) works one clock behind, on the byte consumed in the
previous clock, and decides a token at position p when byte p + 2 arrives:

- the ``triples`` entry for (p, p+1, p+2) is a candidate when it holds the
  same 3 bytes, lies in this packet and at most 2047 bytes back: a match of
  3 starts and ``1`` + offset is emitted;
- otherwise the ``pairs`` entry for (p, p+1), checked the same way one clock
  earlier: a match of 2 starts; the history byte one offset back from p + 2
  was already read on speculation, so the match goes on to 3, or ends at 2
  (``1`` + offset + ``00`` in one go);
- otherwise byte p is emitted as a literal.

A running match compares each next byte with the history byte one offset
back (read in the clock the byte was consumed): equal extends it, different
ends it (the length code is emitted) and that byte starts the next token.
From 8 bytes on, a ``1111`` group is emitted whenever the length passes
8 + 15 k, so the final code is one nibble.

So the encoder is greedy with *one candidate per position* (3-byte first,
then 2-byte), not the longest match over the window that
:func:`pacsim.reference.lzs.compress` searches for: its output is a different,
equally valid bitstream and somewhat longer (measured on the test corpora:
about 5 % longer on text, 15 % on HTML and on packet headers; a single
2-byte table would be 13 % and 29 % longer). :func:`pacsim.sim.lzs_model.hardware_compress` is a bit-exact Python model.

Clearing the tables per packet: entries hold global byte positions
(``position_bits`` wide, counting across packets) and a candidate must lie
at or after the packet's first position, so stale entries are never used and
nothing is wiped between packets. Only when the position counter would
overflow within the packet (after about 2**``position_bits`` bytes, and at
the first packet after reset) are the tables wiped, one entry per clock
(:attr:`~LzsCompressor.wipe_clocks` = 2**``hash_bits`` clocks), and the
count restarts.

Throughput: ``clocks_per_byte`` = 1, literal or match alike, with ``i``
words offered every 4 clocks and ``o`` ready (the encoder emits at most 15
bits per clock into a 48-bit packer that sends 32-bit words; a word is
taken in the clock its last byte is consumed, so there is no bubble). With
``start`` in clock 0, input offered from clock 1 and ``o`` always ready,
``done`` is sampled high ``length + 7`` to ``length + 9`` clocks after
``start`` (measured, 1..1000-byte packets), plus :attr:`wipe_clocks` when a
wipe is due.
"""
from amaranth import C, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...reference.lzs import WINDOW

__all__ = [
    "HISTORY_BYTES",
    "LzsCompressor",
    "pair_hash",
    "pair_hash_value",
    "triple_hash",
    "triple_hash_value",
]

#: History memory size (a power of two: positions modulo it).
HISTORY_BYTES = 2048
#: Widest piece the encoder emits in one clock (``1`` + 11-bit-form offset + ``00``).
EMIT_BITS = 15
#: Bits of the output packer.
PACKER_BITS = 48
#: Multiplier of the hash step (0x45 = 1 + 4 + 64: two adders).
HASH_MULTIPLIER = 0x45


def pair_hash_value(first: int, second: int, bits: int) -> int:
    """The ``pairs`` index of two bytes (Python model of :func:`pair_hash`):
    ``(first * 0x45) ^ second``, low ``bits`` bits. On text and packet
    headers this loses almost nothing against a collision-free table (a
    plain XOR fold of the two bytes costs about 8 % of output on text)."""
    return ((first * HASH_MULTIPLIER) ^ second) & ((1 << bits) - 1)


def triple_hash_value(first: int, second: int, third: int, bits: int) -> int:
    """The ``triples`` index of three bytes: the same step once more,
    ``(pair_hash_value(first, second) * 0x45) ^ third``, low ``bits`` bits."""
    return ((pair_hash_value(first, second, bits) * HASH_MULTIPLIER) ^ third) & ((1 << bits) - 1)


def pair_hash(first, second, bits: int):
    """:func:`pair_hash_value` of Amaranth values."""
    return ((first * HASH_MULTIPLIER) ^ second)[:bits]


def triple_hash(first_pair_hash, third, bits: int):
    """:func:`triple_hash_value` of Amaranth values, from the pair hash of the
    first two bytes (computed a clock earlier)."""
    return ((first_pair_hash * HASH_MULTIPLIER) ^ third)[:bits]


class LzsCompressor(wiring.Component):
    """LZS compressor of one packet per job (see the module doc).

    Parameters
    ----------
    hash_bits : int
        log2 of the entries of each match table (8..16).
    position_bits : int
        Width of the global byte positions kept in the tables; packets must
        be shorter than ``2**position_bits - 2`` bytes.

    Attributes
    ----------
    clocks_per_byte : int
        Steady-state clocks per input byte.
    wipe_clocks : int
        Clocks of a table wipe.
    """

    clocks_per_byte = 1

    def __init__(self, *, hash_bits: int = 9, position_bits: int = 26):
        if not 8 <= hash_bits <= 16:
            raise ValueError(f"hash_bits must be 8..16, not {hash_bits}")
        if position_bits < 12:
            raise ValueError(f"position_bits must be at least 12, not {position_bits}")
        self.hash_bits = hash_bits
        self.position_bits = position_bits
        self.wipe_clocks = 2 ** hash_bits
        super().__init__({
            "start": In(1), "length": In(24),
            "i": In(stream.Signature(32)),
            "o": Out(stream.Signature(32)),
            "out_bytes": Out(24), "done": Out(1), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        pbits, hbits = self.position_bits, self.hash_bits

        m.submodules.history = history = Memory(shape=8, depth=HISTORY_BYTES, init=[])
        hist_w = history.write_port()
        # The byte read is always at least one clock older than the byte written
        # in the same clock (offsets are 1..2047), so no transparency is needed.
        hist_r = history.read_port(domain="sync")
        pair_entry = data.StructLayout({"position": pbits, "bytes": 16})
        triple_entry = data.StructLayout({"position": pbits, "bytes": 24})
        m.submodules.pairs = pairs = Memory(shape=pair_entry, depth=2 ** hbits, init=[])
        m.submodules.triples = triples = Memory(shape=triple_entry, depth=2 ** hbits, init=[])
        pairs_w, pairs_r = pairs.write_port(), pairs.read_port(domain="sync")
        triples_w, triples_r = triples.write_port(), triples.read_port(domain="sync")
        # (read ports are not transparent: a key's old entry is read as it is replaced)

        # --- global state ---
        position = Signal(pbits, init=2 ** pbits - 1)   # of the next byte consumed; reset forces a wipe
        packet_start = Signal(pbits)                    # position of the packet's first byte
        wipe_index = Signal(hbits)

        # --- stage 1: unpacking and consuming ---
        unloaded = Signal(24)       # packet bytes not yet loaded from `i`
        word = Signal(32)           # loaded bytes, next one in [7:0]
        lanes = Signal(3)           # packet bytes left in `word`
        byte = Signal(8)            # the byte consumed this clock
        prev = Signal(8)            # the bytes consumed before it
        prev2 = Signal(8)
        consumed = Signal(2)        # bytes of this packet consumed so far, up to 2
        prev_hash = Signal(hbits)   # pair_hash(prev2, prev)
        byte_hash = Signal(hbits)   # pair_hash(prev, byte)
        consuming = Signal()        # the FSM lets stage 1 run
        advance = Signal()          # the packer has room: both stages step
        consume = Signal()
        finished = Signal()         # every packet byte consumed

        # --- stage 2: encoder ---
        s2_valid = Signal()         # a byte was consumed in the last step
        s2_byte = Signal(8)         # ... this one (y below)
        s2_position = Signal(pbits)
        pend0 = Signal(8)           # the undecided bytes p, p+1 before y
        pend1 = Signal(8)
        pair_ok = Signal()          # the pairs candidate for (p, p+1) is good ...
        offset = Signal(11)         # ... at this offset; then the running match's offset
        offset_now = Signal(11)     # offset for this clock's history read
        match_length = Signal(4)    # 2..7, 8 = eight or more
        nibble = Signal(4)          # (length - 8) mod 15 once 8 or more
        go = Signal()               # stage 2 steps with a byte
        tail = Signal()             # stage 2 steps after the last byte

        # --- output packer ---
        acc = Signal(PACKER_BITS)   # oldest bit in the MSB
        count = Signal(range(PACKER_BITS + 1))
        total_bits = Signal(28)
        emit_field = Signal(EMIT_BITS)      # left-aligned bits to append this clock
        emit_count = Signal(range(EMIT_BITS + 1))
        draining = Signal()

        def emit(value, bits):
            m.d.comb += [emit_field.eq(value << (EMIT_BITS - bits)), emit_count.eq(bits)]

        def emit_offset(distance, then_length_2=False):
            # 1 1 ooooooo  or  1 0 ooooooooooo  (then 00: a match of 2)
            extra = 2 if then_length_2 else 0
            with m.If(distance <= 127):
                emit(Cat(C(0, extra), distance[:7], C(0b11, 2)), 9 + extra)
            with m.Else():
                emit(Cat(C(0, extra), distance[:11], C(0b10, 2)), 13 + extra)

        def emit_length():
            with m.If(match_length <= 4):
                emit(match_length - 2, 2)
            with m.Elif(match_length <= 7):
                emit(match_length + 7, 4)                   # 1100 + length - 5
            with m.Else():
                emit(nibble, 4)

        def set_offset(value):
            m.d.comb += offset_now.eq(value)
            m.d.sync += offset.eq(value)

        m.d.comb += [
            byte.eq(word[:8]),
            finished.eq((unloaded == 0) & (lanes == 0)),
            advance.eq(~self.o.valid | self.o.ready),
            consume.eq(consuming & advance & (lanes != 0)),
            go.eq(advance & s2_valid),
            tail.eq(advance & ~s2_valid & finished),
            self.i.ready.eq(consuming & (unloaded != 0) & ((lanes == 0) | ((lanes == 1) & consume))),
            byte_hash.eq(pair_hash(prev, byte, hbits)),
            offset_now.eq(offset),
        ]

        # stage 1
        with m.If(self.i.valid & self.i.ready):
            loaded = Mux(unloaded >= 4, 4, unloaded[:3])
            m.d.sync += [word.eq(self.i.payload), lanes.eq(loaded), unloaded.eq(unloaded - loaded)]
        with m.Elif(consume):
            m.d.sync += [word.eq(word >> 8), lanes.eq(lanes - 1)]
        m.d.comb += [
            hist_w.addr.eq(position), hist_w.data.eq(byte), hist_w.en.eq(consume),
            hist_r.addr.eq(position - offset_now), hist_r.en.eq(advance),
            pairs_r.addr.eq(byte_hash), pairs_r.en.eq(advance),
            triples_r.addr.eq(triple_hash(prev_hash, byte, hbits)), triples_r.en.eq(advance),
        ]
        with m.If(consume):
            m.d.sync += [position.eq(position + 1), prev.eq(byte), prev2.eq(prev),
                         prev_hash.eq(byte_hash), consumed.eq(Mux(consumed == 2, 2, consumed + 1))]
        with m.If(advance):
            m.d.sync += s2_valid.eq(consume)
            with m.If(consume):
                m.d.sync += [s2_byte.eq(byte), s2_position.eq(position)]

        # stage 2: the entries read for (y-1, y) and (y-2, y-1, y)
        pair_distance = Signal(pbits)
        triple_distance = Signal(pbits)
        m.d.comb += [
            pair_distance.eq(s2_position - 1 - pairs_r.data.position),
            triple_distance.eq(s2_position - 2 - triples_r.data.position),
        ]

        def pair_good(first):
            return ((pairs_r.data.bytes == Cat(s2_byte, first))
                    & (pairs_r.data.position >= packet_start) & (pair_distance <= WINDOW))

        triple_ok = ((triples_r.data.bytes == Cat(s2_byte, pend1, pend0))
                     & (triples_r.data.position >= packet_start) & (triple_distance <= WINDOW))

        with m.FSM(name="lzs_compress") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        self.done.eq(0), unloaded.eq(self.length), lanes.eq(0),
                        consumed.eq(0), s2_valid.eq(0), total_bits.eq(0),
                        packet_start.eq(position), wipe_index.eq(0),
                    ]
                    with m.If(position + self.length >= 2 ** pbits - 1):
                        m.next = "WIPE"
                    with m.Else():
                        m.next = "WAIT2"
            with m.State("WIPE"):
                m.d.comb += [
                    pairs_w.addr.eq(wipe_index), pairs_w.data.eq(0), pairs_w.en.eq(1),
                    triples_w.addr.eq(wipe_index), triples_w.data.eq(0), triples_w.en.eq(1),
                ]
                m.d.sync += wipe_index.eq(wipe_index + 1)
                with m.If(wipe_index == 2 ** hbits - 1):
                    m.d.sync += [position.eq(1), packet_start.eq(1)]
                    m.next = "WAIT2"
            with m.State("WAIT2"):                      # no byte pending
                m.d.comb += consuming.eq(1)
                with m.If(go):
                    m.d.sync += pend0.eq(s2_byte)
                    m.next = "WAIT1"
                with m.Elif(tail):
                    m.next = "END"
            with m.State("WAIT1"):                      # p = y - 1 pending
                m.d.comb += consuming.eq(1)
                with m.If(go):
                    set_offset(pair_distance)           # history read of y+1 on speculation
                    m.d.sync += [pend1.eq(s2_byte), pair_ok.eq(pair_good(pend0))]
                    m.next = "SCAN"
                with m.Elif(tail):
                    emit(pend0, 9)
                    m.next = "END"
            with m.State("SCAN"):                       # p = y - 2 and p + 1 pending: decide p
                m.d.comb += consuming.eq(1)
                with m.If(go):
                    with m.If(triple_ok):
                        emit_offset(triple_distance)
                        set_offset(triple_distance)
                        m.d.sync += match_length.eq(3)
                        m.next = "MATCH"
                    with m.Elif(pair_ok):
                        with m.If(hist_r.data == s2_byte):
                            emit_offset(offset)
                            m.d.sync += match_length.eq(3)
                            m.next = "MATCH"
                        with m.Else():
                            emit_offset(offset, then_length_2=True)
                            m.d.sync += pend0.eq(s2_byte)
                            m.next = "WAIT1"
                    with m.Else():
                        emit(pend0, 9)
                        set_offset(pair_distance)
                        m.d.sync += [pend0.eq(pend1), pend1.eq(s2_byte), pair_ok.eq(pair_good(pend1))]
                with m.Elif(tail):
                    with m.If(pair_ok):
                        emit_offset(offset, then_length_2=True)
                        m.next = "END"
                    with m.Else():
                        emit(pend0, 9)
                        m.d.sync += pend0.eq(pend1)
                        m.next = "WAIT1"
            with m.State("MATCH"):                      # y against the history byte one offset back
                m.d.comb += consuming.eq(1)
                with m.If(go):
                    with m.If(hist_r.data == s2_byte):
                        with m.If(match_length < 7):
                            m.d.sync += match_length.eq(match_length + 1)
                        with m.Elif(match_length == 7):
                            emit(0b1111, 4)
                            m.d.sync += [match_length.eq(8), nibble.eq(0)]
                        with m.Elif(nibble == 14):
                            emit(0b1111, 4)
                            m.d.sync += nibble.eq(0)
                        with m.Else():
                            m.d.sync += nibble.eq(nibble + 1)
                    with m.Else():
                        emit_length()
                        m.d.sync += pend0.eq(s2_byte)
                        m.next = "WAIT1"
                with m.Elif(tail):
                    emit_length()
                    m.next = "END"
            with m.State("END"):
                with m.If(advance):
                    emit(0b110000000, 9)
                    m.next = "DRAIN"
            with m.State("DRAIN"):                      # send the rest, zero-padded
                m.d.comb += draining.eq(1)
                with m.If(self.o.valid & self.o.ready & (count <= 32)):
                    m.d.sync += self.done.eq(1)
                    m.next = "IDLE"

        # table updates of stage 1 (not while wiping)
        with m.If(consume):
            with m.If(consumed != 0):
                m.d.comb += [
                    pairs_w.addr.eq(byte_hash), pairs_w.en.eq(1),
                    pairs_w.data.position.eq(position - 1), pairs_w.data.bytes.eq(Cat(byte, prev)),
                ]
            with m.If(consumed == 2):
                m.d.comb += [
                    triples_w.addr.eq(triples_r.addr), triples_w.en.eq(1),
                    triples_w.data.position.eq(position - 2),
                    triples_w.data.bytes.eq(Cat(byte, prev, prev2)),
                ]

        # output packer: pop a word, then append this clock's bits
        pop = self.o.valid & self.o.ready
        after_pop = Signal.like(count)
        m.d.comb += [
            after_pop.eq(Mux(pop, Mux(count > 32, count - 32, 0), count)),
            self.o.valid.eq(Mux(draining, count != 0, count >= 32)),
            self.o.payload.eq(Cat(*(acc.word_select(PACKER_BITS // 8 - 1 - k, 8) for k in range(4)))),
            self.out_bytes.eq((total_bits + 7) >> 3),
            self.busy.eq(~fsm.ongoing("IDLE")),
        ]
        shifted = Mux(pop, acc << 32, acc)[:PACKER_BITS]
        appended = (Cat(C(0, PACKER_BITS - EMIT_BITS), emit_field) >> after_pop)[:PACKER_BITS]
        m.d.sync += [
            acc.eq(Mux(fsm.ongoing("IDLE"), 0, shifted | appended)),
            count.eq(Mux(fsm.ongoing("IDLE"), 0, after_pop + emit_count)),
        ]
        with m.If(emit_count != 0):
            m.d.sync += total_bits.eq(total_bits + emit_count)
        return m
