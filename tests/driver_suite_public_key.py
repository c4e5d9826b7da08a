# Ref: docs/rings.md "Public-key unit"; RFC 2631 section 2.1
"""Driver-suite checks of one unit.

The public-key unit: modular exponentiation against ``pow()``, its statuses and interrupt, and
Diffie-Hellman against ``cryptography``.

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from cryptography.hazmat.primitives.asymmetric import dh

from pacsim.contract.pk import ModExpSlot, ModExpStatus, modexp_clocks
from pacsim.contract.regmap import BAR0
from pacsim.host.errors import InvalidArgument, PkFailed
from pacsim.host.pk import value_of, words_of
from pacsim.reference.modp import GROUPS
from driver_suite_support import fresh_device, raises, window_address, poll, INTA_SETTLE_CLOCKS, POLL_CLOCKS


def odd_modulus(rng, bits: int) -> int:
    return rng.getrandbits(bits) | 1 << (bits - 1) | 1


async def pk_raw_start(dev, *, base: int, exponent: int, modulus: int, words: int, exp_bits: int) -> None:
    """Operands straight into the PK_OPERANDS window, PK_SIZE, then start."""
    for slot, value in ((ModExpSlot.BASE, base), (ModExpSlot.EXPONENT, exponent), (ModExpSlot.MODULUS, modulus)):
        count = max(1, -(-value.bit_length() // 32), words if slot is not ModExpSlot.EXPONENT else 1)
        count = min(count, dev.identity.pk_words)
        await dev.bus.mem_write(window_address(dev, "PK_OPERANDS", slot), words_of(value, count))
    await dev.write("PK_SIZE", BAR0.PK_SIZE.encode(words=words, exp_bits=exp_bits))
    await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))


async def pk_wait(dev, clocks: int = POLL_CLOCKS) -> dict:
    """Wait for INT_STATUS.pk; acknowledge it; PK_STATUS."""
    await poll(dev, "INT_STATUS", lambda f: f["pk"], clocks)
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
    return await dev.read_fields("PK_STATUS")


async def check_modexp_against_pow(bus):
    """modexp on 512- and 768-bit moduli (random odd ones and groups 0 and 1)
    with 0..160-bit exponents, a base at or above the modulus, equals
    Python's pow; the driver refuses what the unit cannot take."""
    dev = await fresh_device(bus)
    rng = seeded_random(44)
    assert dev.identity.pk_words >= 24, f"PK_STATUS.max_words = {dev.identity.pk_words}"
    n512, n768 = odd_modulus(rng, 512), odd_modulus(rng, 768)
    cases = [
        (rng.getrandbits(511), rng.getrandbits(64) | 1 << 63, n512),
        ((1 << 512) - 1, rng.getrandbits(160) | 1 << 159, n512),                 # base above the modulus
        (n512, 65537, n512),                                                     # base = modulus: 0
        (2, rng.getrandbits(128) | 1 << 127, GROUPS[1].prime),
        (rng.getrandbits(767), rng.getrandbits(160) | 1 << 159, n768),
        (rng.getrandbits(500), 0, GROUPS[0].prime),                              # exponent 0: 1
        (rng.getrandbits(500), 1, n512),
    ]
    for base, exponent, modulus in cases:
        got = await dev.modexp(base, exponent, modulus)
        assert got == pow(base, exponent, modulus), \
            f"{modulus.bit_length()}-bit modulus, {exponent.bit_length()}-bit exponent: wrong result"
    max_bits = 32 * dev.identity.pk_words
    for base, exponent, modulus in ((2, 3, n512 + 1), (2, 3, 1), (2, 3, 0), (-1, 3, n512), (2, -3, n512),
                                    (2, 3, (1 << max_bits) + 1), (2, 1 << max_bits, n512)):
        await raises(InvalidArgument, dev.modexp(base, exponent, modulus))
    status = await dev.read_fields("PK_STATUS")
    assert (status["busy"], status["status"]) == (0, ModExpStatus.OK), status


async def check_modexp_statuses_and_interrupt(bus):
    """The unit's statuses through its registers: an operation raises
    INT_STATUS.pk (INTA# when enabled, RW1C); EVEN_MODULUS; BAD_SIZE (words 0
    or above max_words, exp_bits above the slot); TIMEOUT by a tiny
    PK_WATCHDOG (PK_CLOCKS just above it; the driver raises PkFailed);
    ABORTED; the operand window is read-only while busy; afterwards the unit
    works."""
    dev = await fresh_device(bus)
    rng = seeded_random(45)
    modulus, base, exponent = odd_modulus(rng, 512), rng.getrandbits(500), rng.getrandbits(64) | 1 << 63
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=16, exp_bits=64)
    assert await bus.wait_interrupt(2 * modexp_clocks(512, 64) + POLL_CLOCKS), \
        "no INTA# for a finished public-key operation"
    assert (await dev.read_fields("INT_STATUS"))["pk"] == 1
    status = await dev.read_fields("PK_STATUS")
    assert (status["busy"], status["status"]) == (0, ModExpStatus.OK), status
    assert await dev.read("PK_CLOCKS") > 0
    result = await bus.mem_read(window_address(dev, "PK_OPERANDS", ModExpSlot.RESULT), 16)
    assert value_of(result) == pow(base, exponent, modulus)
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
    assert (await dev.read_fields("INT_STATUS"))["pk"] == 0
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# stays asserted after clearing pk"

    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1))
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus - 1, words=16, exp_bits=64)
    assert (await pk_wait(dev))["status"] == ModExpStatus.EVEN_MODULUS
    assert not bus.interrupt_asserted(), "INTA# asserted for pk with INT_ENABLE.pk = 0"
    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1, pk=1))
    max_words = dev.identity.pk_words
    for words, exp_bits in ((0, 8), (max_words + 1, 8), (16, 32 * max_words + 1)):
        if words < 1 << BAR0.PK_SIZE.words.width and exp_bits < 1 << BAR0.PK_SIZE.exp_bits.width:
            await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=words, exp_bits=exp_bits)
            assert (await pk_wait(dev))["status"] == ModExpStatus.BAD_SIZE, (words, exp_bits)

    await dev.write("PK_WATCHDOG", 100)
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=16, exp_bits=64)
    assert (await pk_wait(dev))["status"] == ModExpStatus.TIMEOUT
    clocks = await dev.read("PK_CLOCKS")
    assert 100 <= clocks <= 104, f"PK_CLOCKS = {clocks} for a watchdog of 100"
    error = await raises(PkFailed, dev.modexp(base, exponent, modulus))
    assert error.status is ModExpStatus.TIMEOUT, error
    await dev.write("PK_WATCHDOG", 0)                      # no limit

    big = odd_modulus(rng, 768)
    await pk_raw_start(dev, base=base, exponent=rng.getrandbits(160) | 1 << 159, modulus=big, words=24,
                       exp_bits=160)
    status = await dev.read_fields("PK_STATUS")
    assert status["busy"] == 1, f"PK_STATUS {status} just after starting a 768-bit operation"
    base_address = window_address(dev, "PK_OPERANDS", ModExpSlot.BASE)
    (word,) = await bus.mem_read(base_address)
    await bus.mem_write(base_address, [word ^ 0xFFFF_FFFF])
    assert (await bus.mem_read(base_address))[0] == word, "the operand window was written while busy"
    await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(abort=1))
    assert (await pk_wait(dev, INTA_SETTLE_CLOCKS * 4))["status"] == ModExpStatus.ABORTED
    assert await dev.modexp(base, exponent, modulus) == pow(base, exponent, modulus)


async def check_dh_agrees_with_cryptography(bus):
    """A Diffie-Hellman exchange in group 1 (RFC 2409, 768 bits) between the
    card (160-bit private exponent from its generator) and ``cryptography``
    gives the same secret, padded to the prime's length; peer values
    outside 2..p-2 are refused."""
    dev = await fresh_device(bus)
    group = GROUPS[1]
    parameters = dh.DHParameterNumbers(group.prime, group.generator).parameters()
    private, public = await dev.dh_keypair(1, private_bits=160)
    assert private.bit_length() == 160, f"private exponent of {private.bit_length()} bits"
    assert public == pow(group.generator, private, group.prime)
    theirs = parameters.generate_private_key()
    secret = await dev.dh_shared(1, private, theirs.public_key().public_numbers().y)
    ours = dh.DHPublicNumbers(public, parameters.parameter_numbers()).public_key()
    assert secret == theirs.exchange(ours), "the card's shared secret differs from cryptography's"
    assert len(secret) == group.bits // 8
    for peer in (0, 1, group.prime - 1, group.prime):
        await raises(InvalidArgument, dev.dh_shared(1, private, peer))
    await raises(InvalidArgument, dev.dh_keypair(3))
