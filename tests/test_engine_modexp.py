"""Public-key unit (ModExp) in Amaranth's simulator, against Python's ``pow``.

Small moduli here (up to 768 bits, long exponents only up to 256 bits);
``test_modexp_verilator`` runs the DH sizes 1024..2048 in Verilator. Every
operation also checks the busy clock count against ``ModExp.clocks`` exactly.
"""
import random

import pytest
from amaranth.sim import Simulator

from pacsim.contract.pk import ModExpSlot, ModExpStatus, modexp_clocks
from pacsim.hdl.engines.modexp import ModExp
from pacsim.host.pk import value_of, words_of
from pacsim.reference.modp import GROUPS

PERIOD = 1 / 33e6
PATIENCE = 1000     # clocks beyond the expected count before a testbench gives up (no hangs)


class UnitDriver:
    """The host side of one ModExp in a testbench: operand memory access and
    operations, each operation's busy clocks counted."""

    def __init__(self, ctx, dut):
        self.ctx, self.dut = ctx, dut

    async def write(self, slot, value, words):
        ctx, dut = self.ctx, self.dut
        for k, word in enumerate(words_of(value, words)):
            ctx.set(dut.mem_addr, dut.address(slot, k))
            ctx.set(dut.mem_wdata, word)
            ctx.set(dut.mem_we, 1)
            await ctx.tick()
        ctx.set(dut.mem_we, 0)

    async def read(self, slot, words):
        """Read ``words`` words, one per clock."""
        ctx, dut = self.ctx, self.dut
        out = []
        for k in range(words):
            ctx.set(dut.mem_addr, dut.address(slot, k))
            await ctx.tick()
            out.append(ctx.get(dut.mem_rdata))
        return value_of(out)

    async def operate(self, words, exp_bits, *, watchdog=0, limit=None, abort_at=None, poke=None):
        """Pulse ``start``; return ``(status, busy clocks)``. ``abort_at``: raise
        ``abort`` for one clock in that busy clock; ``poke(clock)``: awaited in
        every busy clock (to disturb the unit). Checks that ``busy`` is one
        contiguous run and that ``done`` is a one-clock pulse after it."""
        ctx, dut = self.ctx, self.dut
        ctx.set(dut.words, words)
        ctx.set(dut.exp_bits, exp_bits)
        ctx.set(dut.watchdog, watchdog)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        limit = (limit or 0) + PATIENCE
        busy_clocks = 0
        for _ in range(limit):
            if abort_at is not None:
                ctx.set(dut.abort, busy_clocks == abort_at)
            if poke is not None:
                await poke(busy_clocks)
            _, _, busy, done, status = await ctx.tick().sample(dut.busy, dut.done, dut.status)
            if done:
                assert not busy
                ctx.set(dut.abort, 0)
                _, _, done_again = await ctx.tick().sample(dut.done)
                assert not done_again, "done is longer than one clock"
                return ModExpStatus(status), busy_clocks
            assert busy or busy_clocks == 0, "busy fell without done"
            busy_clocks += busy
        raise AssertionError(f"no done within {limit} clocks")

    async def modexp(self, base, exponent, modulus, words, exp_bits, **kwargs):
        """Load the operands, run, read RESULT: ``(status, result, clocks)``."""
        exp_words = max(1, (exp_bits + 31) // 32, (exponent.bit_length() + 31) // 32)
        await self.write(ModExpSlot.BASE, base, words)
        await self.write(ModExpSlot.EXPONENT, exponent, exp_words)
        await self.write(ModExpSlot.MODULUS, modulus, words)
        status, clocks = await self.operate(words, exp_bits, **kwargs)
        return status, await self.read(ModExpSlot.RESULT, words), clocks


def simulate(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(PERIOD)

    async def bench(ctx):
        await testbench(UnitDriver(ctx, dut))
    sim.add_testbench(bench)
    sim.run()


def check_jobs(dut, jobs):
    """``jobs`` = ``[(base, exponent, modulus, words, exp_bits)]`` back to back in
    one simulation: each result equals ``pow`` and each clock count ``clocks()``."""
    got = []

    async def testbench(drv):
        for base, exponent, modulus, words, exp_bits in jobs:
            expected = dut.clocks(modulus.bit_length(), exp_bits, words=words)
            got.append(await drv.modexp(base, exponent, modulus, words, exp_bits, limit=expected))

    simulate(dut, testbench)
    bad = []
    for (base, exponent, modulus, words, exp_bits), (status, result, clocks) in zip(jobs, got):
        want = pow(base, exponent & ((1 << exp_bits) - 1), modulus)
        want_clocks = dut.clocks(modulus.bit_length(), exp_bits, words=words)
        if (status, result, clocks) != (ModExpStatus.OK, want, want_clocks):
            bad.append((modulus.bit_length(), words, exp_bits, status, hex(result), hex(want),
                        clocks, want_clocks))
    assert not bad, f"{len(bad)} of {len(jobs)} wrong: {bad[:3]}"
    return [clocks for _, _, clocks in got]


def random_job(rng, bits, exp_bits, words=None):
    modulus = rng.getrandbits(bits) | 1 | 1 << (bits - 1)
    words = words or (bits + 31) // 32
    return (rng.getrandbits(32 * words), rng.getrandbits(exp_bits) | 1 << (exp_bits - 1),
            modulus, words, exp_bits)


# --- results ------------------------------------------------------------------

def test_random_full_length_exponents():
    rng = random.Random(1)
    jobs = [random_job(rng, bits, bits) for bits in (64, 64, 96, 128, 160, 256)]
    jobs.append(random_job(rng, 61, 64))        # modulus not a whole number of words
    check_jobs(ModExp(), jobs)


def test_random_short_exponents():
    """The DH shape (a short exponent) at 512 and 768 bits, and the 512-bit group."""
    rng = random.Random(2)
    group = GROUPS[0]
    jobs = [random_job(rng, 512, 24), random_job(rng, 768, 16),
            (group.generator, rng.getrandbits(20), group.prime, group.words, 20)]
    check_jobs(ModExp(), jobs)


def test_edge_cases():
    rng = random.Random(3)
    n = rng.getrandbits(128) | 1 | 1 << 127
    e = rng.getrandbits(40) | 1 << 39
    full = 2 ** 128 - 1
    jobs = [
        (rng.getrandbits(128), 0, n, 4, 0),                 # exp_bits 0: 1
        (rng.getrandbits(128), e, n, 4, 0),                 # exponent memory ignored
        (rng.getrandbits(128), 0, n, 4, 40),                # all 40 bits zero: 1
        (n - 12345, 1, n, 4, 1),                            # exponent 1: the base
        (0, e, n, 4, 40),                                   # base 0
        (1, e, n, 4, 40),                                   # base 1
        (n - 1, e, n, 4, 40), (n - 1, e | 1, n, 4, 40),     # (-1)^e
        (n, e, n, 4, 40),                                   # base = modulus: 0
        (n + 5, e, n, 4, 40),                               # base > modulus
        (full, e, n, 4, 40), (full, 1, n, 4, 1),            # largest base, reduced by exponent 1
        (rng.getrandbits(128), e >> 20, n, 4, 40),          # 20 leading zero exponent bits
        (rng.getrandbits(128), e | 1 << 45, n, 4, 40),      # junk above exp_bits ignored
        (rng.getrandbits(128), e, full, 4, 40),             # modulus 2^128 - 1
        (rng.getrandbits(128), e, 2 ** 96 + 2 ** 64 + 1, 4, 40),     # top word 1
        (rng.getrandbits(128), e, 2 ** 96 - 3, 4, 40),      # top word 0: leading zero word
        (rng.getrandbits(128), e, rng.getrandbits(31) | 1, 4, 40),   # 3 leading zero words
        (rng.getrandbits(64), e, 1, 2, 40),                 # modulus 1: 0
        (rng.getrandbits(64), 0, 1, 2, 0),                  # 1 mod 1 = 0
        (rng.getrandbits(32), e, 3, 1, 40),                 # tiny modulus
        (rng.getrandbits(32), e, 0xFFFF_FFFB, 1, 40),       # one word
    ]
    check_jobs(ModExp(), jobs)


@pytest.mark.parametrize("mul_bits", [32, 64])
def test_random_sizes(mul_bits):
    """Random word counts 1..8, random modulus lengths (leading zero words too),
    bases below and above the modulus, short random exponents."""
    rng = random.Random(10 + mul_bits)
    jobs = []
    for _ in range(30):
        words = rng.randint(1, 8)
        bits = rng.randint(1, 32 * words)
        modulus = rng.getrandbits(bits) | 1 | 1 << (bits - 1)
        base = rng.getrandbits(32 * words) if rng.random() < 0.5 else rng.randrange(modulus)
        exp_bits = rng.choice([0, 1, 2, rng.randint(3, 24)])
        jobs.append((base, rng.getrandbits(exp_bits), modulus, words, exp_bits))
    check_jobs(ModExp(max_bits=256, mul_bits=mul_bits), jobs)


def test_mul_bits_32():
    rng = random.Random(4)
    jobs = [random_job(rng, 64, 64), random_job(rng, 96, 40), random_job(rng, 256, 24),
            (7, 1 << 20, 2 ** 64 - 59, 2, 21), (rng.getrandbits(32), 5, 1, 1, 3)]
    check_jobs(ModExp(max_bits=512, mul_bits=32), jobs)


# --- errors and control ---------------------------------------------------------

def test_errors_and_recovery():
    """Each error reports its status, and the unit then works normally."""
    dut = ModExp()
    rng = random.Random(5)
    base, exponent, modulus, words, exp_bits = good = random_job(rng, 96, 40)
    want = pow(base, exponent, modulus)
    clocks = dut.clocks(96, 40)
    log = []

    async def testbench(drv):
        async def normal():
            assert await drv.modexp(*good, limit=clocks) == (ModExpStatus.OK, want, clocks)

        await normal()
        for bad_modulus in (modulus - 1, 0, 2 ** 95):
            assert await drv.modexp(base, exponent, bad_modulus, words, exp_bits) == \
                (ModExpStatus.EVEN_MODULUS, want, 2 * 4 + 1)    # RESULT untouched
            await normal()
        for bad_words, bad_bits in ((0, 40), (65, 40), (3, 2049)):
            status, busy = await drv.operate(bad_words, bad_bits)
            assert (status, busy) == (ModExpStatus.BAD_SIZE, 0)
            await normal()
        # watchdog: exactly enough, one clock short, tiny
        assert await drv.modexp(*good, watchdog=clocks, limit=clocks) == (ModExpStatus.OK, want, clocks)
        status, _, busy = await drv.modexp(*good, watchdog=clocks - 1, limit=clocks)
        assert (status, busy) == (ModExpStatus.TIMEOUT, clocks)
        assert await drv.operate(words, exp_bits, watchdog=5) == (ModExpStatus.TIMEOUT, 6)
        await normal()
        for at in (0, 3, 500, clocks - 2):
            assert await drv.operate(words, exp_bits, abort_at=at, limit=at) == \
                (ModExpStatus.ABORTED, at + 1)
            await normal()
        log.append("ok")

    simulate(dut, testbench)
    assert log == ["ok"]


def test_start_and_host_writes_ignored_while_busy():
    dut = ModExp()
    rng = random.Random(6)
    job = random_job(rng, 128, 32)
    base, exponent, modulus, words, _ = job
    clocks = dut.clocks(128, 32)
    log = []

    async def testbench(drv):
        ctx = drv.ctx

        async def poke(clock):       # restart and overwrite the operands while busy
            active = clock < clocks - 1     # (not in the last busy clock: done follows)
            ctx.set(dut.start, active and clock % 7 == 1)
            ctx.set(dut.words, 0)
            ctx.set(dut.mem_addr, dut.address(rng.choice(list(ModExpSlot)), rng.randrange(4)))
            ctx.set(dut.mem_wdata, rng.getrandbits(32))
            ctx.set(dut.mem_we, active)

        assert await drv.modexp(*job, poke=poke, limit=clocks) == \
            (ModExpStatus.OK, pow(base, exponent, modulus), clocks)
        ctx.set(dut.mem_we, 0)
        assert await drv.read(ModExpSlot.BASE, words) == base
        assert await drv.read(ModExpSlot.MODULUS, words) == modulus
        assert await drv.read(ModExpSlot.EXPONENT, 1) == exponent
        log.append("ok")

    simulate(dut, testbench)
    assert log == ["ok"]


def test_operand_memory():
    """Every word of all four slots writes and reads back; ``mem_rdata`` is the
    word addressed now (combinational) and a write is seen from the next clock."""
    dut = ModExp()
    rng = random.Random(7)
    image = [rng.getrandbits(32) for _ in range(4 * dut.slot_words)]
    log = []

    async def testbench(drv):
        ctx = drv.ctx
        for slot in ModExpSlot:
            await drv.write(slot, value_of(image[slot * 64:slot * 64 + 64]), 64)
        for slot in ModExpSlot:
            assert await drv.read(slot, 64) == value_of(image[slot * 64:slot * 64 + 64])
        ctx.set(dut.mem_addr, 5)
        assert ctx.get(dut.mem_rdata) == image[5]
        ctx.set(dut.mem_addr, 9)
        assert ctx.get(dut.mem_rdata) == image[9]       # no latency
        ctx.set(dut.mem_wdata, 0x1234_5678)
        ctx.set(dut.mem_we, 1)
        assert ctx.get(dut.mem_rdata) == image[9]       # the old word until the edge
        await ctx.tick()
        ctx.set(dut.mem_we, 0)
        assert ctx.get(dut.mem_rdata) == 0x1234_5678
        log.append("ok")

    simulate(dut, testbench)
    assert log == ["ok"]


# --- clocks ---------------------------------------------------------------------

def test_clock_formula_targets():
    assert modexp_clocks(1024, 1024) == 1_153_820         # target: at most ~3 M
    assert modexp_clocks(2048, 160) == 704_876            # target: at most ~1 M
    assert modexp_clocks(768, 160) == 106_856
    assert modexp_clocks(2048, 160, mul_bits=32) == 2_746_379
    with pytest.raises(TypeError):     # no ones argument any more (words is keyword-only)
        modexp_clocks(1024, 1024, 512, 32)


@pytest.mark.parametrize("mul_bits", [32, 64])
def test_clock_formula_measured(mul_bits):
    """Measured clocks equal ``clocks()`` across digit counts, leading-zero words
    and the n' wait (the 64-bit modulus: its doublings take fewer than w clocks,
    so the first multiplication waits for the bit-serial n')."""
    dut = ModExp(max_bits=512, mul_bits=mul_bits)
    rng = random.Random(mul_bits)
    jobs = [random_job(rng, bits, exp_bits) for bits, exp_bits in
            ((33, 8), (64, 12), (100, 8), (192, 8), (320, 6), (512, 4))]
    jobs.append(random_job(rng, 70, 8, words=6))
    check_jobs(dut, jobs)


@pytest.mark.parametrize("mul_bits", [32, 64])
def test_clocks_independent_of_exponent(mul_bits):
    """Constant time: exponents of one declared length but of every weight
    (only the top bit, all ones, alternating bits, all zero, one low bit,
    random) take exactly the same busy clocks for the same modulus size."""
    dut = ModExp(max_bits=512, mul_bits=mul_bits)
    rng = random.Random(20 + mul_bits)
    exp_bits = 48
    exponents = [1 << (exp_bits - 1), (1 << exp_bits) - 1, int("10" * (exp_bits // 2), 2),
                 int("01" * (exp_bits // 2), 2), 0, 1, rng.getrandbits(exp_bits)]
    jobs = []
    for bits in (128, 256):
        modulus = rng.getrandbits(bits) | 1 | 1 << (bits - 1)
        jobs += [(rng.getrandbits(bits), exponent, modulus, bits // 32, exp_bits) for exponent in exponents]
    clocks = check_jobs(dut, jobs)
    per_size = len(exponents)
    for k in range(0, len(jobs), per_size):
        assert len(set(clocks[k:k + per_size])) == 1, clocks[k:k + per_size]
