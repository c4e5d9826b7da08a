# Ref: RFC 2104
"""HMAC-SHA1 / HMAC-MD5 (RFC 2104) from precomputed pad states.

HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)). The card never sees the
key: per channel it stores only the two chaining states after compressing
the 64-byte blocks K ^ ipad and K ^ opad (``inner_iv``, ``outer_iv``), which
the host computes once per key with
:func:`pacsim.reference.digests.hmac_pad_states`. Truncation to 96 bits
(HMAC-MD5-96, RFC 2403; HMAC-SHA1-96, RFC 2404) is the caller's: the top 96 bits of ``o.payload``.

Hardware: a :class:`~.hash_unit.HashUnit` hashes the message from
``inner_iv`` with a 64-byte prefix; its digest (20 or 16 bytes) plus the
fixed padding and length field ((64 + digest) * 8 bits) forms the single
outer block, which a second core compresses from ``outer_iv``.

With ``keyed`` low the unit is a plain hash: the inner unit starts from the
standard IV (FIPS 180-4 5.3.1 / RFC 1321 3.3) with no prefix, and its digest
is the result; ``inner_iv``/``outer_iv`` are ignored and no outer pass runs.

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

============== ===== ======== ===============================================
port           dir   width    meaning
============== ===== ======== ===============================================
``start``      In    1        pulse: begin a MAC. Honoured only while
                              ``busy`` is low (ignored otherwise).
``inner_iv``   In    160/128  state after K ^ ipad (core ``iv`` packing:
                              SHA-1 ``H0<<128 | ... | H4``, MD5
                              ``A<<96 | ... | D``); sampled with ``start``
``outer_iv``   In    160/128  state after K ^ opad; sampled with ``start``
``keyed``      In    1        1: HMAC; 0: plain SHA-1/MD5 of the message;
                              sampled with ``start``
``i.payload``  In    36       the message as
                              :data:`~.hash_unit.WORD` words: ``data``
                              [31:0] (first byte in ``data[0:8]``),
                              ``last`` [32], ``bytes`` [35:33] (message
                              bytes in the last word, 0..4); exactly as
                              :class:`~.hash_unit.HashUnit`'s ``i``
``i.valid``    In    1        ``i.payload`` holds a word
``i.ready``    Out   1        a word is taken in a clock with ``i.valid &
                              i.ready`` (does not depend on ``i.valid``)
``o.payload``  Out   160/128  the MAC bytes packed big-endian,
                              ``int.from_bytes(hmac.digest(...), "big")``
``o.valid``    Out   1        the MAC is ready; held with a stable payload
                              until taken
``o.ready``    In    1        the MAC is taken in a clock with ``o.valid &
                              o.ready``; ``busy`` falls at that edge
``busy``       Out   1        from the edge after ``start`` until the MAC is
                              taken
============== ===== ======== ===============================================

Throughput over the message: :attr:`clocks_per_block` (the inner
:class:`~.hash_unit.HashUnit`'s: 21 for SHA-1, 17 for MD5). Latency: the MAC
is valid :attr:`outer_clocks` clocks (the outer core's clocks per block, 21 or
17) after the inner digest is ready; with ``start`` in clock 0 and a word
offered in every clock from clock 1, ``o.valid`` rises in clock
17 + B * :attr:`clocks_per_block` + :attr:`outer_clocks`, B = (message bytes
+ 9 + 63) // 64. A plain hash saves the :attr:`outer_clocks`.
"""
from amaranth import C, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...reference.digests import HMAC_BLOCK_BYTES, MD5_IV, SHA1_IV
from .hash_unit import DIGEST_BITS, WORD, HashUnit, digest_bytes, make_core

__all__ = ["Hmac"]


class Hmac(wiring.Component):
    """HMAC over a word stream from precomputed pad states (see the module doc).

    Parameters
    ----------
    algorithm : ``"sha1"`` or ``"md5"``
    per_clock : int
        Rounds (SHA-1) or steps (MD5) per clock of both cores.

    Attributes
    ----------
    inner : :class:`~.hash_unit.HashUnit`
    outer : :class:`~.sha1.Sha1Core` or :class:`~.md5.Md5Core`
    clocks_per_block : int
        Steady-state clocks per 64-byte message block.
    outer_clocks : int
        Clocks from the inner digest to the MAC.
    """

    def __init__(self, algorithm: str, per_clock: int = 4):
        self.per_clock = per_clock
        self.algorithm = algorithm
        self.inner = HashUnit(algorithm, per_clock)
        self.outer = make_core(algorithm, per_clock)
        self.clocks_per_block = self.inner.clocks_per_block
        self.outer_clocks = self.outer.clocks_per_block
        width = DIGEST_BITS[algorithm]
        super().__init__({
            "start": In(1), "inner_iv": In(width), "outer_iv": In(width), "keyed": In(1),
            "i": In(stream.Signature(WORD)),
            "o": Out(stream.Signature(width)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = inner = self.inner
        m.submodules.outer = outer = self.outer
        width = DIGEST_BITS[self.algorithm]

        # The outer block: inner digest || 0x80 || zeros || length of opad block + digest.
        bits = (HMAC_BLOCK_BYTES + width // 8) * 8
        order = "big" if self.algorithm == "sha1" else "little"
        length_field = int.from_bytes(bits.to_bytes(8, order), "big")
        outer_block = Cat(C(length_field, 64), C(0, 512 - 64 - 8 - width), C(0x80, 8),
                          inner.o.payload)

        keyed = Signal()                # latched: HMAC (1) or plain hash (0)
        standard_iv = SHA1_IV if self.algorithm == "sha1" else MD5_IV
        wiring.connect(m, wiring.flipped(self.i), inner.i)
        m.d.comb += [
            inner.iv.eq(Mux(self.keyed, self.inner_iv, standard_iv)),
            inner.prefix_bytes.eq(Mux(self.keyed, HMAC_BLOCK_BYTES, 0)),
            outer.iv.eq(self.outer_iv),
            outer.i.payload.eq(outer_block),
            self.o.payload.eq(Mux(keyed, digest_bytes(self.algorithm, outer.state), inner.o.payload)),
        ]

        with m.FSM(name="hmac") as fsm:
            with m.State("IDLE"):
                m.d.comb += [inner.start.eq(self.start), outer.init.eq(self.start & self.keyed)]
                with m.If(self.start):
                    m.d.sync += keyed.eq(self.keyed)
                    m.next = "INNER"
            with m.State("INNER"):
                with m.If(keyed):
                    m.d.comb += [outer.i.valid.eq(inner.o.valid), inner.o.ready.eq(outer.i.ready)]
                with m.Else():
                    m.d.comb += [self.o.valid.eq(inner.o.valid), inner.o.ready.eq(self.o.ready)]
                with m.If(inner.o.valid & inner.o.ready):
                    with m.If(keyed):
                        m.next = "OUTER"
                    with m.Else():
                        m.next = "IDLE"
            with m.State("OUTER"):
                m.d.comb += self.o.valid.eq(~outer.busy)
                with m.If(self.o.valid & self.o.ready):
                    m.next = "IDLE"
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        return m
