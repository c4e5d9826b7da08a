# amaranth: UnusedElaboratable=no
"""Random number generator: the reference CTR_DRBG (reference/drbg.py) against
published NIST CAVP vectors, then the gateware (hdl/engines/drbg.py) in
Amaranth's simulator against the reference.

* Reference: CAVP records of CTR_DRBG AES-256 without derivation function
  (instantiate, reseed, generate discarded, generate returned), with and
  without personalization string and additional input; its refusals.
* Gateware: CAVP records without additional input; random command
  sequences (seeds, personalization, additional reseed input, request
  lengths, uninstantiation, commands out of order) with random stalls on
  ``o.ready``, every status and output against the reference; status codes;
  the power-on and per-instantiate known-answer self-test, passing and with
  an injected corruption; the continuous output test with an injected stuck
  output; timing against the documented clock counts; Verilog conversion.

``cryptography_vectors`` and ``pycryptodome_test_vectors`` hold no DRBG
vectors, so the records below are copied from a repository that embeds them.
"""
import random

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pacsim.contract.rng import KAT_ENTROPY, DrbgCommand, DrbgFault, DrbgStatus
from pacsim.hdl.engines.drbg import CtrDrbg
from pacsim.reference.drbg import (INSTANTIATE_ZERO, KAT_BLOCKS, InvalidInput, NotInstantiated, ReseedRequired,
                                   seed_material)
from pacsim.reference.drbg import CtrDrbg as ReferenceDrbg

PERIOD = 1 / 33e6
PATIENCE = 1000     # clocks without progress before a testbench gives up (no hangs)

# NIST CAVP DRBGVS CTR_DRBG vectors, AES-256 without derivation function, as
# embedded in aws/aws-lc crypto/fipsmodule/rand/ctrdrbg_vectors.txt (inherited
# from BoringSSL; its header: "taken from NIST's CAVP tests for CTR-DRBG ...
# AES-256 with no derivation function"). The record layout (reseed, two
# generate calls, 512 returned bits) is that of drbgvectors_pr_false/
# CTR_DRBG.rsp [AES-256 no df] [PredictionResistance = False]. The procedure,
# as in aws-lc's ctrdrbg_test.cc: instantiate(EntropyInput,
# PersonalizationString), reseed(EntropyInputReseed, AdditionalInputReseed),
# generate 512 bits with AdditionalInput1 (discarded), generate 512 bits with
# AdditionalInput2: ReturnedBits. Copied: records 1 and 2 of the file (no
# personalization, no additional input), the first with additional input
# (record 16), and one with both a personalization string and additional
# input (entropy input 8598996f...).
CAVP_RECORDS = [
    {"entropy": "e4bc23c5089a19d86f4119cb3fa08c0a4991e0a1def17e101e4c14d9c323460a"
                "7c2fb58e0b086c6c57b55f56cae25bad",
     "personalization": "",
     "reseed": "fd85a836bba85019881e8c6bad23c9061adc75477659acaea8e4a01dfe07a183"
               "2dad1c136f59d70f8653a5dc118663d6",
     "additional_reseed": "", "additional_1": "", "additional_2": "",
     "returned": "b2cb8905c05e5950ca31895096be29ea3d5a3b82b269495554eb80fe07de43e1"
                 "93b9e7c3ece73b80e062b1c1f68202fbb1c52a040ea2478864295282234aaada"},
    {"entropy": "edfdb55e77d418a63e4414dfd42225ed257cf74e99325fba26e8f3a4524a71bc"
                "80a731af23256908cb4675a9c253ea6f",
     "personalization": "",
     "reseed": "a9372fea93d607fbbc75a97b7f65f2d4ae8c06bd184981572e888a35c5794d2b"
               "b380a4ae04bba27f2efcc9e7914b96dc",
     "additional_reseed": "", "additional_1": "", "additional_2": "",
     "returned": "11b1a0f0bb935ec0c54e089e0cd20832d1f00e7069f30e9ea2e35b7f15ecf057"
                 "7d0e90035bf0f91ffd9e8a1fa8a507503739afbec19393e02c9b7c230cdea36f"},
    {"entropy": "99903165903fea49c2db26ed675e44cc14cb2c1f28b836b203240b02771e8311"
                "46ffc4335373bb344688c5c950670291",
     "personalization": "",
     "reseed": "b4ee99fa9e0eddaf4a3612013cd636c4af69177b43eebb3c58a305b9979b68b5"
               "cc820504f6c029aad78a5d29c66e84a0",
     "additional_reseed": "2d8c5c28b05696e74774eb69a10f01c5fabc62691ddf7848a8004bb5eeb4d2c5"
                          "febe1aa01f4d557b23d7e9a0e4e90655",
     "additional_1": "0dc9cde42ac6e856f01a55f219c614de90c659260948db5053d414bab0ec2e13"
                     "e995120c3eb5aafc25dc4bdcef8ace24",
     "additional_2": "711be6c035013189f362211889248ca8a3268e63a7eb26836d915810a680ac4a"
                     "33cd1180811a31a0f44f08db3dd64f91",
     "returned": "11c7a0326ea737baa7a993d510fafee5374e7bbe17ef0e3e29f50fa68aac2124"
                 "b017d449768491cac06d136d691a4e80785739f9aaedf311bba752a3268cc531"},
    {"entropy": "8598996f8b6adcb8ac644d7384eb95bf6f9529ac0f3dabd238855e6d4545c43b"
                "85bff29976d67cf1c97b4b33301767b1",
     "personalization": "ff207a4f36eb9daedce0acd99e63913c16c368b467562a92ea2c47cc4dd6b5c9"
                        "b637691d6d07f61c05f4b86954a2bd26",
     "reseed": "5a748c44bee475862db1e0d1d49679e934b03a5a4b199dddcb5e6a91acc01263"
               "fdc8eaabdf7ae0fb7b752b20731b03d1",
     "additional_reseed": "9498d3a665f78745d65a04141420cb5ca1389c154782fa10174e484cf7bf27f8"
                          "292bad48956e2a16dc80ad135379c2a8",
     "additional_1": "a1f1b6815799ed98f3056247c71c17485ec61583922116cdf4ceb8fba24b80f0"
                     "87cf919f3aae6962ae2a353305469151",
     "additional_2": "b6f256ef1c62d4d7b06057cc93968eeb18c5474d0bb8c218d36d89097a89d759"
                     "91ad80c9e39537515c5aec3e55b32051",
     "returned": "2b69dfb0eb743eaf892689117a3017a62de63f653ea7440fb29c473d0b729e64"
                 "9a416fee202b2de94e19e0915c38fcbb8139da4076caca865f0124ae8b6bacd2"},
]


def record(index):
    return {name: bytes.fromhex(value) for name, value in CAVP_RECORDS[index].items()}


def returned_blocks(data):
    return [int.from_bytes(data[k:k + 16], "big") for k in range(0, len(data), 16)]


# -- the reference --------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(CAVP_RECORDS)))
def test_reference_cavp(index):
    r = record(index)
    drbg = ReferenceDrbg(r["entropy"], r["personalization"])
    drbg.reseed(r["reseed"], r["additional_reseed"])
    drbg.generate(len(r["returned"]), r["additional_1"])
    assert drbg.generate(len(r["returned"]), r["additional_2"]) == r["returned"]


def test_reference_refusals_and_lengths():
    entropy = bytes(range(48))
    drbg = ReferenceDrbg(entropy, reseed_interval=2)
    first = drbg.generate(20)
    assert len(first) == 20
    drbg.generate(0)
    with pytest.raises(ReseedRequired):
        drbg.generate(16)
    drbg.reseed(entropy)
    assert len(drbg.generate(65536)) == 65536
    with pytest.raises(InvalidInput):
        drbg.generate(65537)
    with pytest.raises(InvalidInput):
        drbg.reseed(entropy[:47])
    with pytest.raises(InvalidInput):
        ReferenceDrbg(entropy, bytes(49))
    with pytest.raises(InvalidInput):
        seed_material(entropy + b"\0")
    drbg.uninstantiate()
    with pytest.raises(NotInstantiated):
        drbg.generate(16)
    with pytest.raises(NotInstantiated):
        drbg.reseed(entropy)
    # a request returns the prefix of the blocks a whole-block request would return
    a, b = ReferenceDrbg(entropy), ReferenceDrbg(entropy)
    assert a.generate(20) == b.generate(32)[:20]
    assert a.generate(16) == b.generate(16)


def test_elaboration_constants():
    """The instantiation shortcut: from Key = 0, V = 0 the Update encrypts 1, 2
    and 3 under the zero key (checked here with ``cryptography`` directly)."""
    encryptor = Cipher(algorithms.AES(bytes(32)), modes.ECB()).encryptor()
    blocks = encryptor.update(b"".join(n.to_bytes(16, "big") for n in (1, 2, 3)))
    assert INSTANTIATE_ZERO == int.from_bytes(blocks, "big")
    kat = ReferenceDrbg(KAT_ENTROPY)
    assert KAT_BLOCKS == kat.generate_blocks(1) + kat.generate_blocks(1)
    assert KAT_BLOCKS[0] != KAT_BLOCKS[1]


# -- gateware driver ------------------------------------------------------------

class Outcome:
    """What one command did: status, output blocks taken, the edge (counted from
    the edge that sampled ``start``, edge 0) after which ``done`` was high, and
    the edge after which the first block was offered."""

    def __init__(self):
        self.status = None
        self.blocks = []
        self.clocks = None
        self.offered_at = None
        self.take_edges = []


class DrbgDriver:
    """Runs commands on the gateware; ``p_ready``: probability of ``o.ready``
    per clock; ``after_take(n)`` is called after the edge that took the n-th
    block of a command."""

    def __init__(self, ctx, dut, rng=None, p_ready=1.0):
        self.ctx, self.dut = ctx, dut
        self.rng = rng or random.Random(0)
        self.p_ready = p_ready

    async def power_on(self):
        """Clocks from reset until ``busy`` is low."""
        for clocks in range(PATIENCE):
            if not self.ctx.get(self.dut.busy):
                return clocks
            assert not self.ctx.get(self.dut.done), "done without a command"
            await self.ctx.tick()
        raise AssertionError(f"no progress in {PATIENCE} clocks: busy after reset")

    async def run(self, command, seed=0, blocks=0, after_take=None, extra_start=None):
        ctx, dut = self.ctx, self.dut
        assert not ctx.get(dut.busy)
        ctx.set(dut.command, command)
        ctx.set(dut.seed, seed)
        ctx.set(dut.blocks, blocks)
        ctx.set(dut.start, 1)
        ctx.set(dut.o.ready, 0)
        await ctx.tick()
        ctx.set(dut.start, 0)
        out = Outcome()
        edges = quiet = 0
        held = None
        while not ctx.get(dut.done):
            assert ctx.get(dut.busy), "busy low before done"
            valid, payload = ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            if held is not None:
                assert valid and payload == held, "output changed or dropped before it was taken"
            if valid and out.offered_at is None:
                out.offered_at = edges
            ready = self.rng.random() < self.p_ready
            ctx.set(dut.o.ready, ready)
            if extra_start is not None:
                extra_start(edges)
            await ctx.tick()
            edges += 1
            quiet += 1
            if valid and ready:
                out.blocks.append(payload)
                out.take_edges.append(edges)
                held = None
                quiet = 0
                if after_take is not None:
                    after_take(len(out.blocks))
            else:
                held = payload if valid else None
            if quiet > PATIENCE:
                raise AssertionError(f"no progress in {PATIENCE} clocks: {command.name}, "
                                     f"{len(out.blocks)} blocks taken")
        ctx.set(dut.o.ready, 0)
        out.clocks = edges
        out.status = DrbgStatus(ctx.get(dut.status))
        await ctx.tick()
        assert not ctx.get(dut.done), "done longer than one clock"
        assert not ctx.get(dut.o.valid), "output offered after done"
        return out


def run(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(PERIOD)
    sim.add_testbench(testbench)
    sim.run()


# -- gateware against CAVP and the reference --------------------------------------

def test_hdl_cavp():
    """The records without additional input, through the gateware: seed
    material in, 4 + 4 blocks out, the second request is ReturnedBits."""
    dut = CtrDrbg()

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        await card.power_on()
        for index in (0, 1):
            r = record(index)
            assert (await card.run(DrbgCommand.INSTANTIATE, seed_material(r["entropy"]))).status == DrbgStatus.OK
            assert (await card.run(DrbgCommand.RESEED, seed_material(r["reseed"]))).status == DrbgStatus.OK
            first = await card.run(DrbgCommand.GENERATE, blocks=4)
            second = await card.run(DrbgCommand.GENERATE, blocks=4)
            assert first.status == second.status == DrbgStatus.OK
            assert len(first.blocks) == 4
            assert second.blocks == returned_blocks(r["returned"])

    run(dut, bench)


class Expected:
    """The reference seen as the gateware: the status and blocks a command gives."""

    def __init__(self, reseed_interval, max_request_blocks):
        self.reseed_interval = reseed_interval
        self.max_request_blocks = max_request_blocks
        self.drbg = None

    def apply(self, command, entropy=b"", extra=b"", blocks=0):
        if command == DrbgCommand.INSTANTIATE:
            self.drbg = ReferenceDrbg(entropy, extra, reseed_interval=self.reseed_interval)
            return DrbgStatus.OK, []
        if command == DrbgCommand.UNINSTANTIATE:
            if self.drbg is not None:
                self.drbg.uninstantiate()
            return DrbgStatus.OK, []
        if self.drbg is None or self.drbg.key is None:
            return DrbgStatus.NOT_INSTANTIATED, []
        if command == DrbgCommand.RESEED:
            self.drbg.reseed(entropy, extra)
            return DrbgStatus.OK, []
        if blocks > self.max_request_blocks:
            return DrbgStatus.REQUEST_TOO_LARGE, []
        try:
            return DrbgStatus.OK, self.drbg.generate_blocks(blocks)
        except ReseedRequired:
            return DrbgStatus.RESEED_REQUIRED, []


def random_commands(rng, count):
    """``(command, entropy, extra, blocks)``: mostly generate requests of 0..8
    blocks, sometimes 9..20; (re)seeds with and without personalization or
    additional input; sometimes uninstantiation; the first command at random."""
    commands = []
    for _ in range(count):
        r = rng.random()
        entropy = rng.randbytes(48)
        extra = rng.choice((b"", rng.randbytes(rng.randint(1, 48))))
        if r < 0.12:
            commands.append((DrbgCommand.INSTANTIATE, entropy, extra, 0))
        elif r < 0.27:
            commands.append((DrbgCommand.RESEED, entropy, extra, 0))
        elif r < 0.32:
            commands.append((DrbgCommand.UNINSTANTIATE, b"", b"", 0))
        else:
            blocks = rng.choice((0, 1, 1, 2, 2, 3, 4, 5, 8)) if rng.random() < 0.9 else rng.randint(9, 20)
            commands.append((DrbgCommand.GENERATE, b"", b"", blocks))
    return commands


@pytest.mark.parametrize("seed,reseed_interval,max_request_blocks,p_ready", [
    (1, 1 << 16, 4096, 0.6),
    (2, 3, 4096, 0.3),
    (3, 2, 6, 0.9),
])
def test_hdl_random_against_reference(seed, reseed_interval, max_request_blocks, p_ready):
    rng = random.Random(seed)
    commands = random_commands(rng, 70)
    dut = CtrDrbg(reseed_interval=reseed_interval, max_request_blocks=max_request_blocks)
    expected = Expected(reseed_interval, max_request_blocks)
    seen = {status: 0 for status in DrbgStatus}

    async def bench(ctx):
        card = DrbgDriver(ctx, dut, random.Random(seed + 100), p_ready)
        await card.power_on()
        for k, (command, entropy, extra, blocks) in enumerate(commands):
            seed_value = seed_material(entropy, extra) if entropy else rng.getrandbits(384)
            out = await card.run(command, seed_value, blocks)
            status, want = expected.apply(command, entropy, extra, blocks)
            assert (out.status, out.blocks) == (status, want), (k, command.name, blocks)
            seen[status] += 1
            drbg = expected.drbg
            ready = drbg is not None and drbg.key is not None and drbg.reseed_counter <= reseed_interval
            assert ctx.get(dut.ready_for_use) == ready

    run(dut, bench)
    assert seen[DrbgStatus.OK] > 30 and seen[DrbgStatus.NOT_INSTANTIATED]
    if reseed_interval < 10:
        assert seen[DrbgStatus.RESEED_REQUIRED]
    if max_request_blocks < 20:
        assert seen[DrbgStatus.REQUEST_TOO_LARGE]


# -- status codes -------------------------------------------------------------

def test_status_codes():
    rng = random.Random(21)
    entropy, reseed = rng.randbytes(48), rng.randbytes(48)
    dut = CtrDrbg(reseed_interval=2, max_request_blocks=8)

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        await card.power_on()
        assert ctx.get(dut.status) == DrbgStatus.OK and not ctx.get(dut.ready_for_use)
        for command in (DrbgCommand.GENERATE, DrbgCommand.RESEED):
            out = await card.run(command, seed_material(entropy), 1)
            assert (out.status, out.blocks, out.clocks) == (DrbgStatus.NOT_INSTANTIATED, [], 0)
        assert (await card.run(DrbgCommand.UNINSTANTIATE)).status == DrbgStatus.OK
        assert (await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))).status == DrbgStatus.OK
        assert ctx.get(dut.ready_for_use)
        reference = ReferenceDrbg(entropy, reseed_interval=2)
        out = await card.run(DrbgCommand.GENERATE, blocks=9)              # above max_request_blocks
        assert (out.status, out.blocks, out.clocks) == (DrbgStatus.REQUEST_TOO_LARGE, [], 0)
        for _ in range(2):
            out = await card.run(DrbgCommand.GENERATE, blocks=8)
            assert (out.status, out.blocks) == (DrbgStatus.OK, reference.generate_blocks(8))
        assert not ctx.get(dut.ready_for_use)
        out = await card.run(DrbgCommand.GENERATE, blocks=1)              # the third request
        assert (out.status, out.blocks, out.clocks) == (DrbgStatus.RESEED_REQUIRED, [], 0)
        out = await card.run(DrbgCommand.GENERATE, blocks=9)              # size is checked first
        assert out.status == DrbgStatus.REQUEST_TOO_LARGE
        assert (await card.run(DrbgCommand.RESEED, seed_material(reseed))).status == DrbgStatus.OK
        reference.reseed(reseed)
        assert ctx.get(dut.ready_for_use)

        # a start while busy is ignored: the request runs as asked
        def second_start(edge):
            ctx.set(dut.start, edge == 5)
            ctx.set(dut.command, DrbgCommand.UNINSTANTIATE)
        out = await card.run(DrbgCommand.GENERATE, blocks=3, extra_start=second_start)
        assert (out.status, out.blocks) == (DrbgStatus.OK, reference.generate_blocks(3))
        assert ctx.get(dut.ready_for_use)

        assert (await card.run(DrbgCommand.UNINSTANTIATE)).status == DrbgStatus.OK
        assert not ctx.get(dut.ready_for_use)
        out = await card.run(DrbgCommand.GENERATE, blocks=1)
        assert (out.status, out.blocks) == (DrbgStatus.NOT_INSTANTIATED, [])
        out = await card.run(DrbgCommand.RESEED, seed_material(reseed))
        assert out.status == DrbgStatus.NOT_INSTANTIATED
        # instantiated again, the same seed gives the same output
        assert (await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))).status == DrbgStatus.OK
        out = await card.run(DrbgCommand.GENERATE, blocks=2)
        assert out.blocks == ReferenceDrbg(entropy).generate_blocks(2)

    run(dut, bench)


# -- health tests -------------------------------------------------------------

async def assert_failed_for_good(ctx, dut, card, entropy):
    """HEALTH_FAILED answers every command, without output, also once the
    fault is gone."""
    ctx.set(dut.inject_fault, DrbgFault.NONE)
    assert not ctx.get(dut.ready_for_use) and ctx.get(dut.status) == DrbgStatus.HEALTH_FAILED
    for command in DrbgCommand:
        out = await card.run(command, seed_material(entropy), 2)
        assert (out.status, out.blocks, out.clocks) == (DrbgStatus.HEALTH_FAILED, [], 0), command.name
    assert not ctx.get(dut.ready_for_use)


def test_self_test_passes_at_power_on():
    dut = CtrDrbg()

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        assert ctx.get(dut.busy)
        assert await card.power_on() == dut.power_on_clocks
        assert ctx.get(dut.status) == DrbgStatus.OK

    run(dut, bench)


@pytest.mark.parametrize("when", ["power_on", "instantiate"])
def test_self_test_failure(when):
    """A corrupted known answer: at power-on (no ``done``: no command ran), or
    at a later INSTANTIATE (which reports it), after the unit served requests."""
    entropy = random.Random(31).randbytes(48)
    dut = CtrDrbg()

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        if when == "power_on":
            ctx.set(dut.inject_fault, DrbgFault.CORRUPT_KAT)
            await card.power_on()
        else:
            await card.power_on()
            assert (await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))).status == DrbgStatus.OK
            ctx.set(dut.inject_fault, DrbgFault.CORRUPT_KAT)      # no effect on GENERATE
            out = await card.run(DrbgCommand.GENERATE, blocks=2)
            assert (out.status, out.blocks) == (DrbgStatus.OK, ReferenceDrbg(entropy).generate_blocks(2))
            out = await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))
            assert out.status == DrbgStatus.HEALTH_FAILED
            assert out.clocks < dut.self_test_clocks
        await assert_failed_for_good(ctx, dut, card, entropy)

    run(dut, bench)


@pytest.mark.parametrize("stuck_after", [0, 2])
def test_continuous_test_stuck_output(stuck_after):
    """A stuck output: the repeated block is never offered, the request ends
    short with HEALTH_FAILED. ``stuck_after`` = 0: the first block of a request
    repeats the previous request's last block."""
    rng = random.Random(41 + stuck_after)
    entropy = rng.randbytes(48)
    dut = CtrDrbg()
    reference = ReferenceDrbg(entropy)

    async def bench(ctx):
        card = DrbgDriver(ctx, dut, rng, p_ready=0.5)
        await card.power_on()
        assert (await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))).status == DrbgStatus.OK
        out = await card.run(DrbgCommand.GENERATE, blocks=3)
        assert out.blocks == reference.generate_blocks(3)

        def stick(taken):
            if taken == stuck_after:
                ctx.set(dut.inject_fault, DrbgFault.STUCK_OUTPUT)
        if stuck_after == 0:
            stick(0)
        out = await card.run(DrbgCommand.GENERATE, blocks=6, after_take=stick)
        assert out.status == DrbgStatus.HEALTH_FAILED
        assert out.blocks == reference.generate_blocks(6)[:stuck_after]
        assert len(set(out.blocks)) == len(out.blocks)
        await assert_failed_for_good(ctx, dut, card, entropy)

    run(dut, bench)


# -- timing -------------------------------------------------------------------

def test_timing():
    entropy = random.Random(51).randbytes(48)
    dut = CtrDrbg()
    reference = ReferenceDrbg(entropy)
    assert dut.clocks_per_block == 7
    assert [dut.generate_clocks(n) for n in (0, 1, 4)] == [40, 47, 68]
    assert (dut.reseed_clocks, dut.instantiate_clocks, dut.uninstantiate_clocks,
            dut.self_test_clocks, dut.power_on_clocks) == (40, 128, 17, 111, 112)

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        assert await card.power_on() == dut.power_on_clocks
        out = await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))
        assert out.clocks == dut.instantiate_clocks
        for n in (0, 1, 2, 5, 16):
            out = await card.run(DrbgCommand.GENERATE, blocks=n)
            assert out.blocks == reference.generate_blocks(n)
            assert out.clocks == dut.generate_clocks(n), n
            if n:
                assert out.offered_at == 8
                periods = {b - a for a, b in zip(out.take_edges, out.take_edges[1:])}
                assert periods <= {dut.clocks_per_block}, periods
        out = await card.run(DrbgCommand.RESEED, seed_material(entropy))
        assert out.clocks == dut.reseed_clocks
        out = await card.run(DrbgCommand.UNINSTANTIATE)
        assert out.clocks == dut.uninstantiate_clocks

    run(dut, bench)


@pytest.mark.slow
def test_longest_request():
    """A request of ``max_request_blocks`` = 4096 blocks (2^19 bits, the
    SP 800-90A limit) at full rate; one more block is refused (about 20 s)."""
    entropy = random.Random(61).randbytes(48)
    dut = CtrDrbg()

    async def bench(ctx):
        card = DrbgDriver(ctx, dut)
        await card.power_on()
        await card.run(DrbgCommand.INSTANTIATE, seed_material(entropy))
        out = await card.run(DrbgCommand.GENERATE, blocks=4097)
        assert (out.status, out.blocks) == (DrbgStatus.REQUEST_TOO_LARGE, [])
        out = await card.run(DrbgCommand.GENERATE, blocks=4096)
        assert out.status == DrbgStatus.OK
        assert out.blocks == ReferenceDrbg(entropy).generate_blocks(4096)
        assert out.clocks == dut.generate_clocks(4096)

    run(dut, bench)


# -- conversion and parameters ------------------------------------------------

def test_verilog():
    text = verilog.convert(CtrDrbg(), name="ctr_drbg")
    assert "module ctr_drbg" in text
    for port in ("command", "start", "seed", "blocks", "inject_fault", "o__payload", "o__valid",
                 "o__ready", "busy", "done", "status", "ready_for_use"):
        assert f" {port};" in text or f" {port}," in text, port


def test_parameters():
    for bad in ({"reseed_interval": 0}, {"reseed_interval": (1 << 48) + 1},
                {"max_request_blocks": 0}, {"max_request_blocks": 4097}):
        with pytest.raises(ValueError):
            CtrDrbg(**bad)
