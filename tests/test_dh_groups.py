"""The Diffie-Hellman groups of ``reference/modp.py``: primality, structure, agreement.

Each prime is checked as typed (Miller-Rabin, 40 rounds, for p and for
(p - 1)/2), against its pi formula from RFC 2409/3526 (recomputed with
mpmath), and in a key agreement against ``cryptography``'s DH.
"""
import random

import mpmath
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import dh

from pacsim.host.errors import InvalidArgument
from pacsim.host.pk import value_of, words_of
from pacsim.reference.modp import GROUPS

ONES64 = (1 << 64) - 1
SMALL_PRIMES = [r for r in range(3, 2000) if all(r % d for d in range(2, int(r ** 0.5) + 1))]


def is_probable_prime(n, rounds=40, seed=0):
    """Miller-Rabin with ``rounds`` seeded random bases (error below 4^-rounds)."""
    if n < 2:
        return False
    for r in [2] + SMALL_PRIMES[:50]:
        if n % r == 0:
            return n == r
    d, twos = n - 1, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    rng = random.Random(seed)
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(twos - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def pi_part(bits):
    """floor(2^(bits - 130) * pi), the middle of an Oakley/MODP prime."""
    with mpmath.workprec(bits + 64):
        return int(mpmath.floor(mpmath.ldexp(mpmath.pi, bits - 130)))


def oakley_prime(bits, k):
    """2^bits - 2^(bits-64) - 1 + 2^64 * (floor(2^(bits-130) pi) + k)."""
    return 2 ** bits - 2 ** (bits - 64) - 1 + 2 ** 64 * (pi_part(bits) + k)


def smallest_safe_offset(bits, limit):
    """The smallest k < ``limit`` making ``oakley_prime(bits, k)`` a safe prime
    (RFC 2412 appendix E's search), candidates sieved by small primes."""
    base = oakley_prime(bits, 0)
    keep = np.ones(limit, dtype=bool)
    ks = np.arange(limit, dtype=np.int64)
    for r in SMALL_PRIMES:
        residues = (base % r + ks * pow(2, 64, r)) % r
        keep &= (residues != 0) & (residues != 1)      # r divides neither p nor (p - 1)/2
    for k in np.nonzero(keep)[0]:
        p = base + (int(k) << 64)
        if pow(2, p - 1, p) == 1 and is_probable_prime((p - 1) // 2, 5) and is_probable_prime(p, 5):
            return int(k)
    return None


@pytest.mark.parametrize("number", sorted(GROUPS))
def test_group_is_a_safe_prime_group(number):
    group = GROUPS[number]
    p = group.prime
    assert group.number == number
    assert p.bit_length() == group.bits
    assert p & ONES64 == ONES64 and p >> (group.bits - 64) == ONES64
    assert is_probable_prime(p, 40, seed=number)
    assert is_probable_prime(group.order, 40, seed=number + 100)
    # p = 7 mod 8: 2 is a quadratic residue, so it generates the order-q subgroup
    assert p % 8 == 7 and group.generator == 2
    assert pow(group.generator, group.order, p) == 1
    assert group.words == group.bits // 32


@pytest.mark.parametrize("number", sorted(GROUPS))
def test_group_prime_matches_its_pi_formula(number):
    group = GROUPS[number]
    assert group.prime == oakley_prime(group.bits, group.pi_offset)


def test_pi_offsets_are_those_of_the_rfcs():
    assert {n: g.pi_offset for n, g in GROUPS.items()} == {
        0: 131, 1: 149686, 2: 129093, 5: 741804, 14: 124476}


def test_group0_recipe():
    """Group 0's k is the smallest at 512 bits, and the same search at 768 bits
    finds RFC 2409's k for group 1 (so the recipe is the RFCs' recipe)."""
    assert smallest_safe_offset(512, 1000) == GROUPS[0].pi_offset
    assert smallest_safe_offset(768, GROUPS[1].pi_offset + 1) == GROUPS[1].pi_offset


@pytest.mark.parametrize("number", [2, 14])
def test_agreement_with_cryptography(number):
    group = GROUPS[number]
    p, g = group.prime, group.generator
    length = (group.bits + 7) // 8
    parameters = dh.DHParameterNumbers(p, g).parameters()
    rng = random.Random(number)
    for _ in range(3):
        theirs = parameters.generate_private_key()
        x = rng.getrandbits(160) | 1 << 159
        ours_public = pow(g, x, p)
        peer = theirs.public_key().public_numbers().y
        ours_secret = pow(peer, x, p).to_bytes(length, "big")
        public = dh.DHPublicNumbers(ours_public, parameters.parameter_numbers()).public_key()
        assert theirs.exchange(public) == ours_secret


@pytest.mark.parametrize("number", [0, 1, 5])
def test_agreement_by_pow(number):
    group = GROUPS[number]
    rng = random.Random(number)
    x, y = rng.getrandbits(160), rng.getrandbits(160)
    gx, gy = pow(group.generator, x, group.prime), pow(group.generator, y, group.prime)
    assert pow(gy, x, group.prime) == pow(gx, y, group.prime) not in (0, 1)


def test_words_of_and_value_of():
    rng = random.Random(7)
    for words in (1, 2, 16, 64):
        value = rng.getrandbits(32 * words)
        packed = words_of(value, words)
        assert len(packed) == words and all(0 <= w < 2 ** 32 for w in packed)
        assert packed[0] == value & 0xFFFF_FFFF
        assert value_of(packed) == value
    assert words_of(0x1_0000_0002, 3) == [2, 1, 0]
    assert value_of([]) == 0
    with pytest.raises(InvalidArgument):
        words_of(1 << 64, 2)
    with pytest.raises(InvalidArgument):
        words_of(-1, 2)
    with pytest.raises(InvalidArgument):
        value_of([1 << 32])


def test_one_group_lookup_for_the_driver_and_isakmp():
    """The driver and the ISAKMP daemon look groups up with one function
    (``reference.modp.modp_group``), each raising its own layer's error."""
    from pacsim.firmware.isakmp.crypto import UnknownAlgorithm, group_of
    from pacsim.reference.modp import modp_group
    for number, group in GROUPS.items():
        assert modp_group(number) is group and group_of(number) is group and modp_group(group) is group
    for bad in (3, "2", None, 2.5):
        with pytest.raises(LookupError, match=r"expected one of \[0, 1, 2, 5, 14\]"):
            modp_group(bad)
        with pytest.raises(UnknownAlgorithm, match=r"expected one of \[0, 1, 2, 5, 14\]"):
            group_of(bad)
        with pytest.raises(InvalidArgument, match=r"expected one of \[0, 1, 2, 5, 14\]"):
            modp_group(bad, InvalidArgument)
