# Ref: FIPS 46-3
"""DES block cipher (FIPS 46-3) and the 3DES EDE block function (SP 800-67).

Bit order everywhere: a 64-bit block or key is ``int.from_bytes(8 bytes,
"big")``, so FIPS bit 1 (the leftmost) is bit 63 of the value. All ports are
in the ``sync`` domain (PCI CLK).

:class:`DesCore` (``rounds_per_clock`` = 1, 2, 4, 8 or 16; default 4)

============== ===== ===== ===================================================
port           dir   width meaning
============== ===== ===== ===================================================
``key``        In    64    the 8 key bytes; the parity bits (LSB of every
                           byte) are ignored. Sampled on the ``i`` handshake
                           clock, free to change afterwards.
``decrypt``    In    1     0 encrypt, 1 decrypt; sampled like ``key``.
``i``          In    64    stream (``valid``, ``ready``, ``payload``) of input
                           blocks. ``i.ready`` is 1 while idle; while a result
                           is offered it equals ``o.ready`` (combinational),
                           so a new block enters on the clock the result
                           leaves. It never depends on ``i.valid``.
``o``          Out   64    stream of results. ``o.payload`` is held with
                           ``o.valid`` until ``o.ready``; it is wired from the
                           state registers (IP^-1 is only wiring).
``busy``       Out   1     a block has been accepted and its result has not
                           been taken yet.
============== ===== ===== ===================================================

Python attributes: ``clocks_per_block`` = ``latency`` = ``16 //
rounds_per_clock`` (16, 8, 4, 2, 1).

Timing: the clock edge that accepts a block (``i`` handshake) already
computes its first ``rounds_per_clock`` rounds (input through IP, key through
PC-1, then the rounds, all combinational); each further edge does
``rounds_per_clock`` more. ``o.valid`` is high after edge ``latency - 1``
counted from the accepting edge, so the result is taken at the earliest on
edge ``latency`` — which can accept the next block. Latency (``i`` handshake
to ``o`` handshake) and steady-state throughput (``i.valid`` and ``o.ready``
held high) are therefore both ``16 / rounds_per_clock`` clocks; 4 by default.

Subkeys are generated on the fly, not precomputed: the C/D halves (after
PC-1) are rotated left by the FIPS schedule before each encryption round; for
decryption the same registers start from C0 D0 (= C16 D16, as the schedule
rotates 28 bits in total) and rotate right by the schedule reversed (0, 1, 2,
2, ...), which yields K16 ... K1. Each unrolled round selects its rotation
from (clock within the block, direction) with a small case.

:class:`TripleDesCore` (same ``rounds_per_clock``) — the EDE block function:
encrypt ``E_k3(D_k2(E_k1(x)))``, decrypt ``D_k1(E_k2(D_k3(x)))``; 2-key 3DES
is ``key3 = key1``, single DES ``key1 = key2 = key3``.

============== ===== ===== ===================================================
port           dir   width meaning
============== ===== ===== ===================================================
``key1``       In    64    key bytes as for :class:`DesCore`. The three keys
``key2``       In    64    and ``decrypt`` are sampled on the ``i``
``key3``       In    64    handshake clock and travel with the block.
``decrypt``    In    1     0 encrypt, 1 decrypt.
``i``          In    64    stream of input blocks (as :class:`DesCore`).
``o``          Out   64    stream of results (as :class:`DesCore`).
``busy``       Out   1     any of the three stages holds a block.
============== ===== ===== ===================================================

A pipeline of three :class:`DesCore` stages with combinational handshakes
between them, so up to three blocks are in flight: ``clocks_per_block = 16 /
rounds_per_clock`` (ECB, CBC decryption, interleaved messages), ``latency = 3
* 16 / rounds_per_clock`` clocks from ``i`` handshake to ``o`` handshake (4
and 12 by default). A dependent chain (CBC encryption, CBC-MAC) runs at one
block per ``latency`` clocks.
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["DesCore", "TripleDesCore"]


# Permutation tables: entry i is the 1-based FIPS input bit (1 = leftmost)
# that becomes output bit i + 1.

# Initial permutation IP (64 -> 64).
IP = [
    58, 50, 42, 34, 26, 18, 10, 2,
    60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6,
    64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1,
    59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5,
    63, 55, 47, 39, 31, 23, 15, 7,
]

# Final permutation IP^-1 (64 -> 64), applied to R16 L16.
FP = [
    40, 8, 48, 16, 56, 24, 64, 32,
    39, 7, 47, 15, 55, 23, 63, 31,
    38, 6, 46, 14, 54, 22, 62, 30,
    37, 5, 45, 13, 53, 21, 61, 29,
    36, 4, 44, 12, 52, 20, 60, 28,
    35, 3, 43, 11, 51, 19, 59, 27,
    34, 2, 42, 10, 50, 18, 58, 26,
    33, 1, 41, 9, 49, 17, 57, 25,
]

# Expansion E (32 -> 48) of R in the cipher function f.
E = [
    32, 1, 2, 3, 4, 5,
    4, 5, 6, 7, 8, 9,
    8, 9, 10, 11, 12, 13,
    12, 13, 14, 15, 16, 17,
    16, 17, 18, 19, 20, 21,
    20, 21, 22, 23, 24, 25,
    24, 25, 26, 27, 28, 29,
    28, 29, 30, 31, 32, 1,
]

# Permutation P (32 -> 32) of the S-box outputs.
P = [
    16, 7, 20, 21, 29, 12, 28, 17,
    1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9,
    19, 13, 30, 6, 22, 11, 4, 25,
]

# Permuted choice 1 (64 -> 56, drops the parity bits): C0 = bits 1-28, D0 = 29-56.
PC1 = [
    57, 49, 41, 33, 25, 17, 9,
    1, 58, 50, 42, 34, 26, 18,
    10, 2, 59, 51, 43, 35, 27,
    19, 11, 3, 60, 52, 44, 36,
    63, 55, 47, 39, 31, 23, 15,
    7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29,
    21, 13, 5, 28, 20, 12, 4,
]

# Permuted choice 2 (C D, 56 -> 48): the round subkey.
PC2 = [
    14, 17, 11, 24, 1, 5,
    3, 28, 15, 6, 21, 10,
    23, 19, 12, 4, 26, 8,
    16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55,
    30, 40, 51, 45, 33, 48,
    44, 49, 39, 56, 34, 53,
    46, 42, 50, 36, 29, 32,
]

# Left rotations of C and D before encryption rounds 1..16 (they total 28).
SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]

# Right rotations before decryption rounds 1..16: round 1 uses K16 = PC2(C0 D0),
# then the encryption schedule is undone from its end.
DECRYPT_SHIFTS = [0] + SHIFTS[:0:-1]

# S-boxes S1..S8: row (b1 b6), column (b2 b3 b4 b5) of the 6-bit input b1..b6.
SBOXES = [
    [[14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7],
     [0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8],
     [4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0],
     [15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13]],
    [[15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10],
     [3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5],
     [0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15],
     [13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9]],
    [[10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8],
     [13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1],
     [13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7],
     [1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12]],
    [[7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15],
     [13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9],
     [10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4],
     [3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14]],
    [[2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9],
     [14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6],
     [4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14],
     [11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3]],
    [[12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11],
     [10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8],
     [9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6],
     [4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13]],
    [[4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1],
     [13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6],
     [1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2],
     [6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12]],
    [[13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7],
     [1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2],
     [7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8],
     [2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11]],
]

ROUNDS_PER_CLOCK = (1, 2, 4, 8, 16)


def _check_rounds_per_clock(rounds_per_clock):
    if rounds_per_clock not in ROUNDS_PER_CLOCK:
        raise ValueError(f"rounds_per_clock must be one of {ROUNDS_PER_CLOCK}")


def _permute(value, table):
    """``table`` applied to ``value`` in FIPS bit numbering (bit 1 = MSB)."""
    width = len(value)
    return Cat(value[width - bit] for bit in reversed(table))


def _sbox(index, six_bits):
    """S-box ``index`` (0 = S1) as a 64 x 4-bit constant, word-selected by the
    raw 6-bit input."""
    table = SBOXES[index]
    flat = [table[(v >> 4 & 2) | (v & 1)][v >> 1 & 15] for v in range(64)]
    return Const(sum(x << 4 * v for v, x in enumerate(flat)), 256).word_select(six_bits, 4)


class _Round(wiring.Component):
    """One unrolled DES round: rotate C/D by ``amounts[index]`` (constants,
    left, mod 28), take the subkey PC2(C D), then L' = R, R' = L ^ f(R, K).

    A submodule of its own, so the simulator settles the rounds one after
    the other instead of re-running all of them at every step.
    """

    def __init__(self, amounts):
        self.amounts = amounts
        super().__init__({
            "index": In(range(len(amounts))),
            "lr": In(64),        # L (high) R (low)
            "cd": In(56),        # C (high) D (low)
            "lr_out": Out(64),
            "cd_out": Out(56),
        })

    def elaborate(self, platform):
        m = Module()
        with m.Switch(self.index):
            for amount in sorted(set(self.amounts)):
                with m.Case(*(i for i, a in enumerate(self.amounts) if a == amount)):
                    m.d.comb += self.cd_out.eq(Cat(self.cd[:28].rotate_left(amount),
                                                   self.cd[28:].rotate_left(amount)))
        l, r = self.lr[32:], self.lr[:32]
        x = Signal(48)              # E(R) ^ K, the S-box inputs
        m.d.comb += x.eq(_permute(r, E) ^ _permute(self.cd_out, PC2))
        # S1 reads FIPS bits 1-6 (the top of x) and yields output bits 1-4.
        s_out = Signal(32)
        m.d.comb += s_out.eq(Cat(reversed([_sbox(i, x[42 - 6 * i:48 - 6 * i])
                                            for i in range(8)])))
        m.d.comb += self.lr_out.eq(Cat(l ^ _permute(s_out, P), r))
        return m


class DesCore(wiring.Component):
    """One DES engine; see the module docstring for ports and timing."""

    def __init__(self, rounds_per_clock: int = 4):
        _check_rounds_per_clock(rounds_per_clock)
        self.rounds_per_clock = rounds_per_clock
        self.clocks_per_block = 16 // rounds_per_clock
        self.latency = self.clocks_per_block
        super().__init__({
            "key": In(64), "decrypt": In(1),
            "i": In(stream.Signature(64)), "o": Out(stream.Signature(64)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.rounds_per_clock
        steps = self.clocks_per_block

        lr = Signal(64)             # L (high) R (low) after the rounds done
        cd = Signal(56)             # C (high) D (low) of the last subkey
        decrypt = Signal()
        step = Signal(range(steps))  # clock within the block (width 0 if 1)

        load = Signal()             # the i handshake happens this clock
        advance = Signal()          # the state registers take n more rounds
        m.d.comb += load.eq(self.i.valid & self.i.ready)

        lr_in = Mux(load, _permute(self.i.payload, IP), lr)
        cd_in = Mux(load, _permute(self.key, PC1), cd)
        decrypt_in = Mux(load, self.decrypt, decrypt)
        step_in = Signal.like(step)
        m.d.comb += step_in.eq(Mux(load, 0, step))

        lr_out, cd_out = lr_in, cd_in
        for j in range(n):
            # rotation before round k * n + j, at index decrypt * steps + k
            rnd = m.submodules[f"round{j}"] = _Round(
                [SHIFTS[k * n + j] for k in range(steps)]
                + [-DECRYPT_SHIFTS[k * n + j] % 28 for k in range(steps)])
            m.d.comb += [rnd.index.eq(Cat(step_in, decrypt_in)),
                         rnd.lr.eq(lr_out), rnd.cd.eq(cd_out)]
            lr_out, cd_out = rnd.lr_out, rnd.cd_out

        with m.If(advance):
            m.d.sync += [lr.eq(lr_out), cd.eq(cd_out), decrypt.eq(decrypt_in),
                         step.eq(step_in + 1)]

        # preoutput R16 L16, then IP^-1
        m.d.comb += self.o.payload.eq(_permute(Cat(lr[32:], lr[:32]), FP))

        after_load = "ROUND" if steps > 1 else "OUTPUT"
        with m.FSM(name="des"):
            with m.State("IDLE"):
                m.d.comb += [self.i.ready.eq(1), advance.eq(load)]
                with m.If(load):
                    m.next = after_load
            if steps > 1:
                with m.State("ROUND"):
                    m.d.comb += [self.busy.eq(1), advance.eq(1)]
                    with m.If(step == steps - 1):
                        m.next = "OUTPUT"
            with m.State("OUTPUT"):
                m.d.comb += [self.busy.eq(1), self.o.valid.eq(1),
                             self.i.ready.eq(self.o.ready), advance.eq(load)]
                with m.If(load):
                    m.next = after_load
                with m.Elif(self.o.ready):
                    m.next = "IDLE"
        return m


class TripleDesCore(wiring.Component):
    """The 3DES EDE block function; see the module docstring."""

    def __init__(self, rounds_per_clock: int = 4):
        _check_rounds_per_clock(rounds_per_clock)
        self.rounds_per_clock = rounds_per_clock
        self.clocks_per_block = 16 // rounds_per_clock
        self.latency = 3 * self.clocks_per_block
        super().__init__({
            "key1": In(64), "key2": In(64), "key3": In(64), "decrypt": In(1),
            "i": In(stream.Signature(64)), "o": Out(stream.Signature(64)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.stage1 = s1 = DesCore(self.rounds_per_clock)
        m.submodules.stage2 = s2 = DesCore(self.rounds_per_clock)
        m.submodules.stage3 = s3 = DesCore(self.rounds_per_clock)

        wiring.connect(m, wiring.flipped(self.i), s1.i)
        wiring.connect(m, s1.o, s2.i)
        wiring.connect(m, s2.o, s3.i)
        wiring.connect(m, s3.o, wiring.flipped(self.o))

        # Side-band of the block each stage holds: what its later stages
        # need, loaded when the block enters the stage.
        s1_key2 = Signal(64)        # key of stage 2
        s1_key_last = Signal(64)    # key of stage 3: key3 to encrypt, key1 to decrypt
        s1_decrypt = Signal()
        s2_key_last = Signal(64)
        s2_decrypt = Signal()

        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [s1_key2.eq(self.key2),
                         s1_key_last.eq(Mux(self.decrypt, self.key1, self.key3)),
                         s1_decrypt.eq(self.decrypt)]
        with m.If(s1.o.valid & s1.o.ready):
            m.d.sync += [s2_key_last.eq(s1_key_last), s2_decrypt.eq(s1_decrypt)]

        m.d.comb += [
            s1.key.eq(Mux(self.decrypt, self.key3, self.key1)),
            s1.decrypt.eq(self.decrypt),
            s2.key.eq(s1_key2),
            s2.decrypt.eq(~s1_decrypt),
            s3.key.eq(s2_key_last),
            s3.decrypt.eq(s2_decrypt),
            self.busy.eq(s1.busy | s2.busy | s3.busy),
        ]
        return m
