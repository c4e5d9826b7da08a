# Ref: docs/regress.md "Cells"; FIPS 197, FIPS 46-3, FIPS 180-4, RFC 1321, RFC 2104
"""Differential checks of the campaigns: the card (model or RTL) against the
references, over every length class of :mod:`pacsim.sim.regress.coverage`.

Each ``check_<name>(bus)`` takes a fresh bus like the checks of
:mod:`driver_suite`; what it draws (algorithm, mode, keys, data) comes from
:func:`pacsim.sim.seed.seeded_random`, so each campaign seed checks other
algorithms and data. Lengths that the unit cannot take (a cipher region that
is not a whole number of blocks, a copy that is not whole dwords) must end
``BAD_LENGTH``; every other job must match the reference bit for bit.
"""
from crypto_reference import cipher_reference, mac_reference
from driver_suite_support import Buffers, cipher_key, close_all, fresh_device, open_pair, raises
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CipherAlg, CipherMode, Direction, IvSource, MacAlg, Opcode,
                                   ResultStatus)
from pacsim.host.errors import JobFailed
from pacsim.host.jobs import Job
from pacsim.sim.regress.coverage import GENERIC_BLOCK, MAX_LENGTH
from pacsim.sim.seed import seeded_random

#: Key bytes of each MAC algorithm's channel (SHA1/MD5 take none).
MAC_KEY_BYTES = {MacAlg.HMAC_SHA1: 20, MacAlg.HMAC_MD5: 16, MacAlg.DES_MAC: 8, MacAlg.SHA1: 0, MacAlg.MD5: 0}


def class_lengths(rng, block: int) -> list:
    """One length (bytes) of each length class for a unit of ``block`` bytes."""
    return [0, rng.randrange(1, min(15, block - 1)), block - 1, block, block + 1, 64, 576, 1400, MAX_LENGTH]


async def check_cipher_differential(bus):
    """ENCODE of one drawn cipher algorithm and mode (IVs from the context) over
    every length class equals ``cryptography``; DECODE gives the plaintext
    back; lengths that are not whole blocks end BAD_LENGTH (BAD_DESCRIPTOR when
    the packet's one segment is not whole dwords)."""
    dev = await fresh_device(bus)
    rng = seeded_random("cipher-differential")
    alg, mode = rng.choice(list(CipherAlg)), rng.choice((CipherMode.CBC, CipherMode.ECB))
    block = CIPHER_BLOCK_BYTES[alg]
    key = cipher_key(rng, alg)
    ivs = rng.randbytes(block * (3 if alg is CipherAlg.TDES_OUTER else 1)) if mode is CipherMode.CBC else b""
    encode, decode = await open_pair(dev, alg, key, mode=mode, iv_source=IvSource.CONTEXT, iv=ivs)
    for length in class_lengths(rng, block)[1:]:
        what = f"{alg.name}-{mode.name}, {length} bytes"
        payload = rng.randbytes(length)
        if length % block:
            # a packet of partial dwords makes a segment of partial dwords (refused as a descriptor)
            refusal = ResultStatus.BAD_DESCRIPTOR if length % 4 else ResultStatus.BAD_LENGTH
            for channel, opcode in ((encode, "ENCODE"), (decode, "DECODE")):
                run = dev.encode(payload, cipher=channel) if opcode == "ENCODE" else dev.decode(payload, cipher=channel)
                error = await raises(JobFailed, run)
                assert error.status is refusal, f"{what}: {opcode} ended {error.status!r}; expected {refusal!r}"
            continue
        sealed = await dev.encode(payload, cipher=encode)
        assert sealed == cipher_reference(alg, mode, key, ivs, payload), f"{what}: ENCODE differs from the reference"
        assert await dev.decode(sealed, cipher=decode) == payload, f"{what}: DECODE"
    await close_all(dev)


async def check_hash_differential(bus):
    """HASH on one drawn MAC algorithm over every length class equals
    ``hashlib``/``hmac`` (DES-MAC: the FIPS 113 reference)."""
    dev = await fresh_device(bus)
    rng = seeded_random("hash-differential")
    alg = rng.choice(list(MacAlg))
    key = rng.randbytes(MAC_KEY_BYTES[alg])
    channel = await dev.open_mac_channel(alg, Direction.ENCODE, key)
    for length in class_lengths(rng, GENERIC_BLOCK):
        message = rng.randbytes(length)
        digest = await dev.hash(message, mac=channel)
        assert digest == mac_reference(alg, key, message)[:channel.icv_bytes], f"{alg.name}, {length} bytes: HASH"
    await close_all(dev)


async def check_copy_differential(bus):
    """COPY over every length class in 1 to 8 segments on each side: the
    destination equals the source; lengths that are not whole dwords end BAD_LENGTH."""
    dev = await fresh_device(bus)
    rng = seeded_random("copy-differential")
    async with Buffers(bus) as buffers:
        for length in class_lengths(rng, GENERIC_BLOCK)[1:]:
            data = rng.randbytes(length)
            pieces = min(rng.randrange(1, 9), max(1, length // 4))
            cuts = sorted(rng.sample(range(1, length // 4), pieces - 1)) if pieces > 1 else []
            bounds = [0, *(4 * c for c in cuts), -(-length // 4) * 4]     # whole-dword segments
            source = [(buffers.filled(data[lo:hi] or b"\0").address, hi - lo) for lo, hi in zip(bounds, bounds[1:])]
            destination = buffers.alloc(-(-length // 4) * 4)
            result, = await dev.run([Job(Opcode.COPY, source, destination, length=length)])
            if length % 4:
                assert result.status is ResultStatus.BAD_LENGTH, f"COPY of {length} bytes ended {result.status!r}"
                continue
            assert result.ok, f"COPY of {length} bytes in {pieces} segments ended {result.status!r}"
            assert bus.host_read(destination.address, length) == data, f"COPY of {length} bytes"


#: The checks of this module, by name.
DIFFERENTIAL_CHECKS = [check_cipher_differential, check_hash_differential, check_copy_differential]
