# Ref: FIPS 180-4
# Ref: RFC 1321
"""Message padding and block assembly for SHA-1 (FIPS 180-4 5.1.1) and MD5
(RFC 1321 3.1, 3.2) over a 32-bit word stream.

:class:`HashUnit` collects the message words into a 16-word block buffer,
appends the 0x80 byte, the zero bytes and the 64-bit length field (in bits,
of ``prefix_bytes`` + the message; big-endian for SHA-1, little-endian for
MD5), using an extra block when the 0x80 byte falls in bytes 56..63 of the
last block, and hands the blocks to a :class:`~.sha1.Sha1Core` or
:class:`~.md5.Md5Core`. The buffer fills while the core compresses the
previous block.

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

================ ===== ======== =============================================
port             dir   width    meaning
================ ===== ======== =============================================
``start``        In    1        pulse: begin a message. Honoured only while
                                ``busy`` is low (ignored otherwise).
``iv``           In    160/128  chaining state to start from (packing of the
                                core's ``iv``); sampled with ``start``
``prefix_bytes`` In    32       bytes already absorbed into ``iv`` (a
                                multiple of 64, e.g. 64 after an HMAC key
                                block; 0 for a plain hash), counted in the
                                length field; sampled with ``start``
``i.payload``    In    36       :data:`WORD` = ``data`` [31:0], ``last``
                                [32], ``bytes`` [35:33]
  ``.data``            32       4 message bytes, in message order
                                little-endian: the word's first byte is
                                ``data[0:8]`` (as PCI AD[31:0] carries bytes
                                from increasing addresses)
  ``.last``            1        this is the message's last word
  ``.bytes``           3        with ``last``: how many of ``data``'s bytes
                                (from ``data[0:8]`` up) belong to the
                                message, 0..4 (5..7 count as 4); ignored
                                without ``last`` (all 4 bytes are message).
                                ``last`` with ``bytes`` = 0 ends the message
                                after the previous word; as the only word it
                                is the empty message.
``i.valid``      In    1        ``i.payload`` holds a word
``i.ready``      Out   1        a word is taken in a clock with ``i.valid &
                                i.ready``. High while the message is being
                                absorbed and the block buffer has room (it
                                does not depend on ``i.valid``).
``o.payload``    Out   160/128  the digest bytes, packed big-endian:
                                ``int.from_bytes(hashlib.sha1(m).digest(),
                                "big")`` (or ``md5``)
``o.valid``      Out   1        the digest is ready; held with a stable
                                payload until taken
``o.ready``      In    1        the digest is taken in a clock with
                                ``o.valid & o.ready``; ``busy`` falls at
                                that edge
``busy``         Out   1        from the edge after ``start`` until the
                                digest is taken
================ ===== ======== =============================================

Throughput: :attr:`clocks_per_block` = the core's clocks per block (21 for
SHA-1, 17 for MD5 with the default cores) with words offered every clock;
the buffer itself needs 17 (16 words and the clock the core takes the block
in), never more than the core. Latency: with ``start`` in clock 0 and a word
offered in every clock from clock 1, ``o.valid`` rises in clock
17 + B * :attr:`clocks_per_block`, B = (message bytes + 9 + 63) // 64 being
the number of padded blocks: padding words are generated one per clock after
the word with ``last``, so a message ending inside a block costs no extra
clock.
"""
from amaranth import Array, C, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .md5 import Md5Core
from .sha1 import Sha1Core

__all__ = ["HashUnit", "WORD", "DIGEST_BITS", "byteswap", "digest_bytes", "make_core"]

#: Payload layout of the message word stream.
WORD = data.StructLayout({"data": 32, "last": 1, "bytes": 3})

#: Digest (and chaining state) width of each algorithm, in bits.
DIGEST_BITS = {"sha1": 160, "md5": 128}


def byteswap(value):
    """Reverse the byte order of ``value`` (a multiple of 8 bits wide)."""
    return Cat(*reversed([value.word_select(n, 8) for n in range(len(value) // 8)]))


def digest_bytes(algorithm: str, state):
    """The digest-byte packing of a core's ``state`` port value.

    SHA-1's digest is H0..H4 big-endian, which is the state packing itself;
    MD5's is A..D each little-endian, so every word is byte-swapped in place.
    """
    if algorithm == "sha1":
        return state
    return Cat(*(byteswap(state.word_select(n, 32)) for n in range(4)))


def make_core(algorithm: str, per_clock: int):
    """A :class:`~.sha1.Sha1Core` or :class:`~.md5.Md5Core` with ``per_clock``
    rounds (steps) per clock."""
    if algorithm == "sha1":
        return Sha1Core(per_clock)
    if algorithm == "md5":
        return Md5Core(per_clock)
    raise ValueError(f"algorithm must be 'sha1' or 'md5', not {algorithm!r}")


class HashUnit(wiring.Component):
    """A complete SHA-1 or MD5 hash over a word stream (see the module doc).

    Parameters
    ----------
    algorithm : ``"sha1"`` or ``"md5"``
    per_clock : int
        Rounds (SHA-1) or steps (MD5) of the core per clock.

    Attributes
    ----------
    core : :class:`~.sha1.Sha1Core` or :class:`~.md5.Md5Core`
    clocks_per_block : int
        Steady-state clocks per 64-byte block.
    """

    def __init__(self, algorithm: str, per_clock: int = 4):
        self.algorithm = algorithm
        self.core = make_core(algorithm, per_clock)
        self.clocks_per_block = self.core.clocks_per_block
        width = DIGEST_BITS[algorithm]
        super().__init__({
            "start": In(1), "iv": In(width), "prefix_bytes": In(32),
            "i": In(stream.Signature(WORD)),
            "o": Out(stream.Signature(width)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        buf = Array(Signal(32, name=f"buf{k}") for k in range(16))  # word k: bytes 4k..4k+3
        index = Signal(4)           # next buffer word to write
        full = Signal()             # the buffer holds a block for the core
        need_80 = Signal()          # the message ended on a word boundary: 0x80 still due
        length = Signal(61)         # bytes absorbed, prefix included
        bit_length = Cat(C(0, 3), length)
        if self.algorithm == "sha1":
            length_words = [byteswap(bit_length[32:64]), byteswap(bit_length[0:32])]
        else:
            length_words = [bit_length[0:32], bit_length[32:64]]

        m.d.comb += [
            core.iv.eq(self.iv),
            core.i.payload.eq(Cat(*(byteswap(buf[k]) for k in reversed(range(16))))),
            core.i.valid.eq(full),
        ]
        with m.If(core.i.valid & core.i.ready):
            m.d.sync += full.eq(0)

        def put(word):
            m.d.sync += [buf[index].eq(word), index.eq(index + 1)]
            with m.If(index == 15):
                m.d.sync += full.eq(1)

        payload = self.i.payload
        n = Signal(3)               # message bytes in the last word
        m.d.comb += n.eq(Mux(payload.bytes > 4, 4, payload.bytes))
        last_word = Signal(32)      # its message bytes, then 0x80 if it fits
        with m.Switch(n):
            for count in range(4):
                with m.Case(count):
                    m.d.comb += last_word.eq(Cat(payload.data[:8 * count], C(0x80, 8)))
            with m.Default():
                m.d.comb += last_word.eq(payload.data)

        with m.FSM(name="pad") as fsm:
            with m.State("IDLE"):
                m.d.comb += core.init.eq(self.start)
                with m.If(self.start):
                    m.d.sync += length.eq(self.prefix_bytes)
                    m.next = "ABSORB"
            with m.State("ABSORB"):
                m.d.comb += self.i.ready.eq(~full)
                with m.If(self.i.valid & ~full):
                    with m.If(payload.last):
                        put(last_word)
                        m.d.sync += [length.eq(length + n), need_80.eq(n == 4)]
                        m.next = "PAD"
                    with m.Else():
                        put(payload.data)
                        m.d.sync += length.eq(length + 4)
            with m.State("PAD"):
                with m.If(~full):
                    with m.If(need_80):
                        put(0x80)
                        m.d.sync += need_80.eq(0)
                    with m.Elif(index == 14):
                        put(length_words[0])
                        m.next = "LENGTH"
                    with m.Else():
                        put(0)
            with m.State("LENGTH"):
                with m.If(~full):
                    put(length_words[1])
                    m.next = "LAST_BLOCK"
            with m.State("LAST_BLOCK"):
                with m.If(core.i.ready):
                    m.next = "DIGEST"
            with m.State("DIGEST"):
                m.d.comb += self.o.valid.eq(~core.busy)
                with m.If(self.o.valid & self.o.ready):
                    m.next = "IDLE"
        m.d.comb += [
            self.busy.eq(~fsm.ongoing("IDLE")),
            self.o.payload.eq(digest_bytes(self.algorithm, core.state)),
        ]
        return m
