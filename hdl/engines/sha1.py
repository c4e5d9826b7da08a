# Ref: FIPS 180-4
"""The SHA-1 compression function (FIPS 180-4, sections 6.1.2 and 5.3.1).

:class:`Sha1Core` holds the 160-bit chaining state and compresses one 64-byte
block per stream transfer, ``rounds_per_clock`` rounds of the 80 per clock.
Padding and the length field are not done here (see
:class:`~.hash_unit.HashUnit`).

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

============= ===== ===== ====================================================
port          dir   width meaning
============= ===== ===== ====================================================
``init``      In    1     pulse: ``state`` <- ``iv`` at the next edge. Only
                          honoured while ``busy`` is low (ignored while a
                          block is compressed). A block accepted in the same
                          clock is compressed from ``iv``.
``iv``        In    160   initial chaining value H0..H4, packed
                          ``H0<<128 | H1<<96 | H2<<64 | H3<<32 | H4``;
                          sampled only in the clock ``init`` is high
``i.payload`` In    512   one 64-byte message block,
                          ``int.from_bytes(block, "big")``: the block's first
                          byte is bits [511:504], so schedule word W0 is bits
                          [511:480] and W15 bits [31:0]
``i.valid``   In    1     ``i.payload`` holds a block
``i.ready``   Out   1     high exactly while ``busy`` is low; a block is
                          taken in a clock with ``i.valid & i.ready``
``state``     Out   160   chaining state (packing as ``iv``), a register. It
                          changes at the edge ending a block's last round
                          clock, i.e. ``80/rounds_per_clock`` clocks after
                          the accepting edge; ``busy`` falls at that edge.
``busy``      Out   1     a block is being compressed (from the clock after
                          the accepting edge for ``80/rounds_per_clock``
                          clocks)
============= ===== ===== ====================================================

Latency: a block accepted in clock *n* is in ``state`` from clock
*n* + 1 + 80/``rounds_per_clock``, the clock in which the next block can be
accepted. :attr:`clocks_per_block` = 80/``rounds_per_clock`` + 1 back to back
(21 for the default 4 rounds per clock, 17 for 5, 41 for 2, 81 for 1).

The message schedule is a 16-word sliding window: in each clock the window
W[t..t+15] advances by ``rounds_per_clock`` words, the new words computed as
W[t] = ROTL1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]). The final additions
H += (a, b, c, d, e) happen in the last round clock.
"""
from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...reference.digests import SHA1_K

__all__ = ["Sha1Core", "table_mux"]


def _logic(kind, b, c, d):
    """f_t of FIPS 180-4 4.1.1: Ch, Parity or Maj."""
    if kind == "ch":
        return (b & c) | (~b & d)
    if kind == "maj":
        return (b & c) | (b & d) | (c & d)
    return b ^ c ^ d


def table_mux(m, select, out, keys, make):
    """Drive ``out`` (comb) with ``make(keys[select])``.

    Selector values with the same key share one ``Case``, so a function of
    the key (a constant, a rotation, a word choice) is built once per
    distinct key; the last key is the ``Default``.
    """
    groups = {}
    for value, key in enumerate(keys):
        groups.setdefault(key, []).append(value)
    *cases, last = groups.items()
    with m.Switch(select):
        for key, values in cases:
            with m.Case(*values):
                m.d.comb += out.eq(make(key))
        with m.Default():
            m.d.comb += out.eq(make(last[0]))


class Sha1Core(wiring.Component):
    """SHA-1 compression, ``rounds_per_clock`` (1, 2, 4 or 5) rounds per clock.

    Attributes
    ----------
    rounds_per_clock : int
    clocks_per_block : int
        Clocks per 64-byte block with blocks offered back to back
        (``80 // rounds_per_clock + 1``).
    """

    def __init__(self, rounds_per_clock: int = 4):
        if rounds_per_clock not in (1, 2, 4, 5):
            raise ValueError(f"rounds_per_clock must be 1, 2, 4 or 5, not {rounds_per_clock!r}")
        self.rounds_per_clock = rounds_per_clock
        self.clocks_per_block = 80 // rounds_per_clock + 1
        super().__init__({
            "init": In(1), "iv": In(160),
            "i": In(stream.Signature(512)),
            "state": Out(160), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        r = self.rounds_per_clock
        clocks = 80 // r                        # round clocks per block
        step = Signal(range(clocks))            # round clock within the block
        window = [Signal(32, name=f"w{k}") for k in range(16)]      # W[t..t+15]
        work = [Signal(32, name=name) for name in "abcde"]
        h = [self.state.word_select(4 - k, 32) for k in range(5)]   # H0..H4

        # Schedule: extend the window by r words, then slide it by r.
        ext = list(window)
        for j in range(r):
            new = Signal(32, name=f"w_new{j}")
            m.d.comb += new.eq((ext[j + 13] ^ ext[j + 8] ^ ext[j + 2] ^ ext[j]).rotate_left(1))
            ext.append(new)

        # The r rounds of this clock all lie in the same 20-round quarter (r divides 20).
        quarter = [(n * r) // 20 for n in range(clocks)]
        kind = [("ch", "parity", "maj", "parity")[q] for q in quarter]
        k_t = Signal(32)
        table_mux(m, step, k_t, quarter, lambda q: SHA1_K[q])

        a, b, c, d, e = work
        for j in range(r):
            f = Signal(32, name=f"f{j}")
            table_mux(m, step, f, kind, lambda fn, b=b, c=c, d=d: _logic(fn, b, c, d))
            temp = Signal(32, name=f"a{j + 1}")
            m.d.comb += temp.eq(a.rotate_left(5) + f + e + k_t + ext[j])
            b_rot = Signal(32, name=f"c{j + 1}")
            m.d.comb += b_rot.eq(b.rotate_left(30))
            a, b, c, d, e = temp, a, b_rot, c, d
        after = [a, b, c, d, e]

        with m.FSM(name="sha1"):
            with m.State("IDLE"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.init):
                    m.d.sync += self.state.eq(self.iv)
                with m.If(self.i.valid):
                    chain = Mux(self.init, self.iv, self.state)
                    m.d.sync += [reg.eq(chain.word_select(4 - k, 32)) for k, reg in enumerate(work)]
                    m.d.sync += [reg.eq(self.i.payload.word_select(15 - k, 32))
                                 for k, reg in enumerate(window)]
                    m.next = "ROUND"
            with m.State("ROUND"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [reg.eq(val) for reg, val in zip(window, ext[r:r + 16])]
                m.d.sync += [reg.eq(val) for reg, val in zip(work, after)]
                m.d.sync += step.eq(step + 1)
                with m.If(step == clocks - 1):
                    m.d.sync += step.eq(0)
                    sums = [(hk + vk)[:32] for hk, vk in zip(h, after)]
                    m.d.sync += self.state.eq(Cat(*reversed(sums)))
                    m.next = "IDLE"
        return m
