# Ref: FIPS-197
"""AES block cipher core (FIPS-197): ECB encryption and decryption of single
128-bit blocks with 128, 192 or 256-bit keys.

The key schedule is expanded once per ``key_load`` into a 15-entry memory of
round keys, stored in the order the rounds use them (reversed for
decryption). Blocks then go through ``rounds_per_clock`` unrolled rounds per
clock. Decryption is the inverse cipher of FIPS-197 section 5.3 with the
round keys in reverse order; each clock has the same depth in both
directions because a round is

* encrypt: ``MixColumns(ShiftRows(SubBytes(s))) ^ k``
* decrypt: ``InvMixColumns(InvShiftRows(InvSubBytes(s)) ^ k)``

(the final round without the column mix) and InvMixColumns is computed as
MixColumns after a multiplication by ``{04}x^2 + {05}`` (The Design of
Rijndael, section 4.1.3), so the two directions share one MixColumns. The
S-box and the inverse S-box are one 512-entry ROM, the direction being the
top address bit.

Ports (``sync`` = PCI CLK, 33 MHz):

=============== ===== ====== ================================================
port            dir   width  meaning
=============== ===== ====== ================================================
``key``         In    256    key, right-aligned big-endian: AES-128 uses
                             ``key[0:128]``, AES-192 ``key[0:192]``, AES-256
                             all bits; the key's first byte is the most
                             significant byte used
``key_size``    In    2      0: 128, 1: 192, 2: 256 bits (3: as 2)
``decrypt``     In    1      0: encrypt, 1: decrypt
``key_load``    In    1      pulse: latch ``key``, ``key_size``, ``decrypt``
                             and expand the key schedule; a block still in
                             its rounds is dropped (a result already in the
                             ``o`` register is kept); no block is accepted
                             while ``key_load`` is high
``key_ready``   Out   1      the schedule is ready, blocks are accepted; low
                             from the clock after ``key_load`` for
                             ``key_expansion_clocks`` clocks (11, 13, 15 for
                             128, 192, 256-bit keys), and after reset
``i``           In    stream 128-bit input blocks, first byte in bits
                             [127:120]; ``i.ready`` is high while
                             ``key_ready`` and the core is idle or finishing a
                             block whose result can be stored (it depends
                             combinationally on ``o.ready`` and
                             ``key_load``)
``o``           Out   stream 128-bit result blocks, same order and format,
                             from a register held until ``o.ready``; latency:
                             ``o.valid`` rises at the ``clocks_per_block``-th
                             clock edge after the edge that accepted the
                             block (if ``o`` is free by then)
``busy``        Out   1      key expansion running, a block in its rounds or
                             a result waiting in ``o``
=============== ===== ====== ================================================

``clocks_per_block`` is ``{128: 10, 192: 12, 256: 14}`` divided by
``rounds_per_clock`` (1 or 2, which divide every round count; the default 2
gives ``{128: 5, 192: 6, 256: 7}``), the same in both directions: the
steady-state period with ``o.ready`` high, a new block being accepted in the
clock that stores the previous result.
``key_expansion_clocks`` is ``{128: 11, 192: 13, 256: 15}``: one round key
(four schedule words) per clock.
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, memory, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AesCore", "SBOX", "INV_SBOX"]

KEY_BITS = (128, 192, 256)         # by key_size
NK = {128: 4, 192: 6, 256: 8}      # key length, 32-bit words
NR = {128: 10, 192: 12, 256: 14}   # rounds


# -- GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 ------------------

def gf_mul(a: int, b: int) -> int:
    """Product of two field elements (FIPS-197 section 4.2)."""
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = (a << 1) ^ (0x11B if a & 0x80 else 0)
        b >>= 1
    return p


def gf_inv(a: int) -> int:
    """Multiplicative inverse, with 0 mapped to 0: a^254."""
    r = 1
    for _ in range(254):
        r = gf_mul(r, a)
    return r


def _sbox_entry(a: int) -> int:
    """FIPS-197 section 5.1.1: inverse, then the affine transformation."""
    b = gf_inv(a)
    s = 0x63
    for shift in range(5):
        s ^= ((b << shift) | (b >> (8 - shift))) & 0xFF
    return s


SBOX = [_sbox_entry(a) for a in range(256)]
INV_SBOX = [SBOX.index(a) for a in range(256)]
RCON = [1]                         # round constants {02}^(i-1), FIPS-197 section 5.2
while len(RCON) < 10:
    RCON.append(gf_mul(RCON[-1], 2))


def xtime(b):
    """Hardware multiplication of an 8-bit value by {02}."""
    return (b << 1)[:8] ^ Mux(b[7], 0x1B, 0)


def mix_column(a):
    """MixColumns of one column (four 8-bit values), FIPS-197 section 5.1.3."""
    return [xtime(a[i] ^ a[(i + 1) % 4]) ^ a[(i + 1) % 4] ^ a[(i + 2) % 4] ^ a[(i + 3) % 4]
            for i in range(4)]


def inv_premix_column(a):
    """Multiplication of one column by {04}x^2 + {05}: MixColumns of the
    result is InvMixColumns of the input."""
    return [a[i] ^ xtime(xtime(a[i] ^ a[(i + 2) % 4])) for i in range(4)]


# -- block and state layout ---------------------------------------------------

def block_bytes(v):
    """The 16 bytes of a 128-bit block, byte 0 (state[0][0]) first."""
    return [v[(15 - b) * 8:(16 - b) * 8] for b in range(16)]


def bytes_block(bs):
    return Cat(*reversed(bs))


def shift_rows(bs, inverse):
    """(Inv)ShiftRows on a list of 16 bytes, byte index r + 4c."""
    d = -1 if inverse else 1
    return [bs[r + 4 * ((c + d * r) % 4)] for c in range(4) for r in range(4)]


def columns_map(f, bs):
    return [x for c in range(4) for x in f(bs[4 * c:4 * c + 4])]


# -- key schedule plan --------------------------------------------------------

class KeyOp(enum.Enum, shape=2):
    """What is XORed into w[i-Nk] to make schedule word w[i]."""
    XOR = 0             # w[i-1]
    SUB = 1             # SubWord(w[i-1])
    ROT_SUB_RCON = 2    # SubWord(RotWord(w[i-1])) ^ Rcon[i/Nk]


WordPlan = data.StructLayout({"from_key": 1, "op": KeyOp, "rcon": 8})
StepPlan = data.ArrayLayout(WordPlan, 4)


def key_plan(bits):
    """Per expansion step (one round key, words 4c..4c+3): for each word,
    whether it is a key word, or the transformation of w[i-1] that is XORed
    with w[i-Nk] (FIPS-197 section 5.2)."""
    nk = NK[bits]
    steps = []
    for c in range(NR[bits] + 1):
        step = []
        for n in range(4 * c, 4 * c + 4):
            word = {"from_key": 0, "op": KeyOp.XOR, "rcon": 0}
            if n < nk:
                word["from_key"] = 1
            elif n % nk == 0:
                word["op"] = KeyOp.ROT_SUB_RCON
                word["rcon"] = RCON[n // nk - 1]
            elif nk > 6 and n % nk == 4:
                word["op"] = KeyOp.SUB
            step.append(word)
        steps.append(step)
    return steps


PLAN_STEPS = 16                    # plan ROM rows per key size


class AesCore(wiring.Component):
    def __init__(self, rounds_per_clock: int = 2):
        if any(NR[bits] % rounds_per_clock for bits in KEY_BITS):
            raise ValueError(f"rounds_per_clock must divide 10, 12 and 14, not {rounds_per_clock}")
        self.rounds_per_clock = rounds_per_clock
        self.clocks_per_block = {bits: NR[bits] // rounds_per_clock for bits in KEY_BITS}
        self.key_expansion_clocks = {bits: NR[bits] + 1 for bits in KEY_BITS}
        super().__init__({
            "key": In(256), "key_size": In(2), "decrypt": In(1), "key_load": In(1),
            "key_ready": Out(1),
            "i": In(stream.Signature(128)), "o": Out(stream.Signature(128)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        rpc = self.rounds_per_clock

        # S-box (address 0..255) and inverse S-box (256..511)
        m.submodules.sbox = sbox = memory.Memory(shape=8, depth=512, init=SBOX + INV_SBOX)

        def substitute(byte, inverse):
            port = sbox.read_port(domain="comb")
            m.d.comb += port.addr.eq(Cat(byte, inverse))
            return port.data

        # round keys, in the order of use
        m.submodules.round_keys = round_keys = memory.Memory(shape=128, depth=15, init=[])
        rk_write = round_keys.write_port()

        # latched key parameters
        key = Signal(256)                     # left-aligned: word 0 in [255:224]
        size = Signal(range(3))               # index into KEY_BITS
        dec = Signal()

        def per_size(values):                 # {bits: value} -> value for `size`
            return Mux(size == 0, values[128], Mux(size == 1, values[192], values[256]))

        nr = Signal(range(15))
        last_step = Signal(range(15))         # the clock of a block's final round
        m.d.comb += [
            nr.eq(per_size(NR)),
            last_step.eq(per_size({bits: n - 1 for bits, n in self.clocks_per_block.items()})),
        ]

        # -- key expansion: round key c from the last eight schedule words ----
        m.submodules.plan = plan = memory.Memory(
            shape=StepPlan, depth=3 * PLAN_STEPS,
            init=[step for bits in KEY_BITS                       # unused rows: zero
                  for step in key_plan(bits) + [[{}] * 4] * (PLAN_STEPS - NR[bits] - 1)])
        plan_rd = plan.read_port(domain="comb")
        c = Signal(range(15))                 # expansion step
        window = Signal(256)                  # w[4c-8] in [255:224] .. w[4c-1] in [31:0]
        m.d.comb += plan_rd.addr.eq(Cat(c, size))

        def word(v, n):                       # word n of a left-aligned 256-bit value
            return v[(7 - n) * 32:(8 - n) * 32]

        # the word positions of a step that ever need SubWord (0 and 2)
        sub_positions = {k for bits in KEY_BITS for step in key_plan(bits)
                         for k, w in enumerate(step) if w["op"] != KeyOp.XOR}
        prev = word(window, 7)
        new = []
        for k in range(4):
            ctrl = plan_rd.data[k]
            older = per_size({bits: word(window, 8 - NK[bits] + k)    # w[n - Nk]
                              for bits in KEY_BITS})
            mixed = Signal(32, name=f"ks_t{k}")
            if k in sub_positions:
                subbed = Cat(*(substitute(prev[8 * b:8 * b + 8], Const(0, 1)) for b in range(4)))
                with m.Switch(ctrl.op):
                    with m.Case(KeyOp.XOR):
                        m.d.comb += mixed.eq(prev)
                    with m.Case(KeyOp.SUB):
                        m.d.comb += mixed.eq(subbed)
                    with m.Default():
                        m.d.comb += mixed.eq(subbed.rotate_left(8) ^ Cat(Const(0, 24), ctrl.rcon))
            else:
                m.d.comb += mixed.eq(prev)
            w = Signal(32, name=f"ks_w{k}")
            m.d.comb += w.eq(Mux(ctrl.from_key, Mux(c == 0, word(key, k), word(key, 4 + k)),
                                 older ^ mixed))
            new.append(w)
            prev = w
        m.d.comb += [
            rk_write.addr.eq(Mux(dec, nr - c, c)),
            rk_write.data.eq(Cat(*reversed(new))),
        ]

        def start_expansion():
            m.d.sync += [
                key.eq(Mux(self.key_size == 0, self.key[:128] << 128,
                           Mux(self.key_size == 1, self.key[:192] << 64, self.key))),
                size.eq(Mux(self.key_size[1], 2, self.key_size)),
                dec.eq(self.decrypt),
                c.eq(0),
            ]
            m.next = "EXPAND"

        with m.FSM(name="key_schedule") as key_fsm:
            with m.State("NO_KEY"):
                with m.If(self.key_load):
                    start_expansion()
            with m.State("EXPAND"):
                m.d.comb += rk_write.en.eq(1)
                m.d.sync += [c.eq(c + 1), window.eq(Cat(rk_write.data, window[:128]))]
                with m.If(c == nr):
                    m.next = "READY"
                with m.If(self.key_load):
                    start_expansion()
            with m.State("READY"):
                m.d.comb += self.key_ready.eq(1)
                with m.If(self.key_load):
                    start_expansion()

        # -- block datapath: rpc rounds per clock ------------------------------
        state = Signal(128)
        step = Signal(range(15))              # clocks of rounds done for this block
        first_key = round_keys.read_port(domain="comb")   # address 0
        loaded = Signal(128)                  # the input block after AddRoundKey
        m.d.comb += loaded.eq(self.i.payload ^ first_key.data)

        s = state
        for j in range(rpc):
            rk = round_keys.read_port(domain="comb")
            m.d.comb += rk.addr.eq(step * rpc + j + 1)
            subbed = [substitute(b, dec) for b in block_bytes(s)]
            t = Signal(128, name=f"r{j}_shifted")
            m.d.comb += t.eq(Mux(dec, bytes_block(shift_rows(subbed, True)),
                                 bytes_block(shift_rows(subbed, False))))
            mix_in = Signal(128, name=f"r{j}_mix_in")
            u = t ^ rk.data
            m.d.comb += mix_in.eq(Mux(dec, bytes_block(columns_map(inv_premix_column,
                                                                   block_bytes(u))), t))
            out = Signal(128, name=f"r{j}_out")
            mixed = bytes_block(columns_map(mix_column, block_bytes(mix_in))) \
                ^ Mux(dec, 0, rk.data)
            if j == rpc - 1:              # the final round (no column mix) ends a clock
                m.d.comb += out.eq(Mux(step == last_step, u, mixed))
            else:
                m.d.comb += out.eq(mixed)
            s = out
        result = s

        out_free = ~self.o.valid | self.o.ready
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        def accept():
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [state.eq(loaded), step.eq(0)]
                m.next = "ROUNDS"

        with m.FSM(name="block") as block_fsm:
            with m.State("IDLE"):
                m.d.comb += self.i.ready.eq(self.key_ready & ~self.key_load)
                accept()
            with m.State("ROUNDS"):
                with m.If(self.key_load):
                    m.next = "IDLE"
                with m.Elif(step != last_step):
                    m.d.sync += [state.eq(result), step.eq(step + 1)]
                with m.Elif(out_free):
                    m.d.sync += [self.o.payload.eq(result), self.o.valid.eq(1)]
                    m.d.comb += self.i.ready.eq(1)
                    m.next = "IDLE"
                    accept()

        m.d.comb += self.busy.eq(key_fsm.ongoing("EXPAND") | block_fsm.ongoing("ROUNDS")
                                 | self.o.valid)
        return m
