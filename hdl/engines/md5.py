# Ref: RFC 1321
"""The MD5 compression function (RFC 1321, section 3.4).

:class:`Md5Core` holds the 128-bit chaining state (A, B, C, D) and compresses
one 64-byte block per stream transfer, ``steps_per_clock`` of the 64 steps
per clock. Padding and the length field are not done here (see
:class:`~.hash_unit.HashUnit`).

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

============= ===== ===== ====================================================
port          dir   width meaning
============= ===== ===== ====================================================
``init``      In    1     pulse: ``state`` <- ``iv`` at the next edge. Only
                          honoured while ``busy`` is low (ignored while a
                          block is compressed). A block accepted in the same
                          clock is compressed from ``iv``.
``iv``        In    128   initial chaining value, packed
                          ``A<<96 | B<<64 | C<<32 | D`` with A..D the 32-bit
                          word values as RFC 1321 defines them (the standard
                          IV is A = 0x67452301 ...); sampled only in the
                          clock ``init`` is high
``i.payload`` In    512   one 64-byte message block,
                          ``int.from_bytes(block, "big")``: the block's first
                          byte is bits [511:504]. The core forms RFC 1321's
                          little-endian words itself: X[0] = bytes 0..3 with
                          byte 0 as its least significant byte.
``i.valid``   In    1     ``i.payload`` holds a block
``i.ready``   Out   1     high exactly while ``busy`` is low; a block is
                          taken in a clock with ``i.valid & i.ready``
``state``     Out   128   chaining state (packing as ``iv``), a register. It
                          changes at the edge ending a block's last step
                          clock, i.e. ``64/steps_per_clock`` clocks after the
                          accepting edge; ``busy`` falls at that edge.
``busy``      Out   1     a block is being compressed (from the clock after
                          the accepting edge for ``64/steps_per_clock``
                          clocks)
============= ===== ===== ====================================================

Latency: a block accepted in clock *n* is in ``state`` from clock
*n* + 1 + 64/``steps_per_clock``, the clock in which the next block can be
accepted. :attr:`clocks_per_block` = 64/``steps_per_clock`` + 1 back to back
(17 for the default 4 steps per clock, 33 for 2, 65 for 1).

The block is held in a register for the whole compression; each step's
constant T[i], message word X[k], rotation s and round function are chosen
by the step counter. The final additions happen in the last step clock.
"""
from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...reference.digests import MD5_S, MD5_T, md5_word_index
from .sha1 import table_mux

__all__ = ["Md5Core"]


class Md5Core(wiring.Component):
    """MD5 compression, ``steps_per_clock`` (1, 2 or 4) steps per clock.

    Attributes
    ----------
    steps_per_clock : int
    clocks_per_block : int
        Clocks per 64-byte block with blocks offered back to back
        (``64 // steps_per_clock + 1``).
    """

    def __init__(self, steps_per_clock: int = 4):
        if steps_per_clock not in (1, 2, 4):
            raise ValueError(f"steps_per_clock must be 1, 2 or 4, not {steps_per_clock!r}")
        self.steps_per_clock = steps_per_clock
        self.clocks_per_block = 64 // steps_per_clock + 1
        super().__init__({
            "init": In(1), "iv": In(128),
            "i": In(stream.Signature(512)),
            "state": Out(128), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        s = self.steps_per_clock
        clocks = 64 // s                        # step clocks per block
        step = Signal(range(clocks))            # step clock within the block
        x = [Signal(32, name=f"x{k}") for k in range(16)]           # X[0..15]
        work = [Signal(32, name=name) for name in "abcd"]
        h = [self.state.word_select(3 - k, 32) for k in range(4)]   # A..D

        a, b, c, d = work
        for j in range(s):
            steps = [n * s + j for n in range(clocks)]              # step i per clock
            f = Signal(32, name=f"f{j}")
            table_mux(m, step, f, [i // 16 for i in steps], lambda rnd, b=b, c=c, d=d: (
                (b & c) | (~b & d),
                (b & d) | (c & ~d),
                b ^ c ^ d,
                c ^ (b | ~d),
            )[rnd])
            t = Signal(32, name=f"t{j}")
            table_mux(m, step, t, [MD5_T[i] for i in steps], lambda value: value)
            word = Signal(32, name=f"x_sel{j}")
            table_mux(m, step, word, [md5_word_index(i) for i in steps], lambda k: x[k])
            total = Signal(32, name=f"sum{j}")
            m.d.comb += total.eq(a + f + t + word)
            rotated = Signal(32, name=f"rot{j}")
            table_mux(m, step, rotated, [MD5_S[i] for i in steps], total.rotate_left)
            b_new = Signal(32, name=f"b{j + 1}")
            m.d.comb += b_new.eq(b + rotated)
            a, b, c, d = d, b_new, b, c
        after = [a, b, c, d]

        with m.FSM(name="md5"):
            with m.State("IDLE"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.init):
                    m.d.sync += self.state.eq(self.iv)
                with m.If(self.i.valid):
                    chain = Mux(self.init, self.iv, self.state)
                    m.d.sync += [reg.eq(chain.word_select(3 - k, 32)) for k, reg in enumerate(work)]
                    block = self.i.payload
                    for k, reg in enumerate(x):        # bytes 4k..4k+3, little-endian
                        m.d.sync += reg.eq(Cat(*(block.word_select(63 - n, 8)
                                                 for n in range(4 * k, 4 * k + 4))))
                    m.next = "STEP"
            with m.State("STEP"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [reg.eq(val) for reg, val in zip(work, after)]
                m.d.sync += step.eq(step + 1)
                with m.If(step == clocks - 1):
                    m.d.sync += step.eq(0)
                    sums = [(hk + vk)[:32] for hk, vk in zip(h, after)]
                    m.d.sync += self.state.eq(Cat(*reversed(sums)))
                    m.next = "IDLE"
        return m
