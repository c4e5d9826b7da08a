# Ref: docs/rings.md "Jobs", "Channels", "Counters"; FIPS 197, FIPS 46-3, RFC 2202
"""Driver-suite checks of one unit.

Cipher, MAC and hash jobs against the published vectors and ``cryptography``, channel
exhaustion and the channel and algorithm counters.

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from crypto_reference import (FIPS81_DES_CBC, FIPS113_DES_MAC, hash_vectors, mac_reference, nist_cipher_vectors,
                              rfc2202_vectors)
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, COUNTER_KINDS, MAC_DIGEST_BYTES, NO_CHANNEL, AlgUnit, CipherAlg,
                                   CipherMode, Direction, IvSource, MacAlg, Opcode, ResultStatus, Service, alg_unit)
from pacsim.host.errors import ChannelsExhausted, JobFailed
from pacsim.host.jobs import Job
from driver_suite_support import (fresh_device, raises, Buffers, run_one, esp_packet, cipher_key, open_pair,
                                  open_mac_pair, close_all, expected_esp)


CIPHER_VARIANTS = [(CipherMode.CBC, IvSource.PACKET), (CipherMode.CBC, IvSource.CONTEXT),
                   (CipherMode.ECB, IvSource.PACKET)]


async def check_cipher_known_answers(bus):
    """NIST CAVP multi-block vectors (DES, 2- and 3-key 3DES, AES-128/192/256;
    CBC and ECB) and FIPS 81: ENCODE with the IV from the context and from
    the packet, DECODE of the ciphertext."""
    dev = await fresh_device(bus)
    vectors = []
    for alg, mode in ((CipherAlg.DES, CipherMode.CBC), (CipherAlg.TDES_2KEY, CipherMode.CBC),
                      (CipherAlg.TDES_INNER, CipherMode.CBC), (CipherAlg.AES128, CipherMode.CBC),
                      (CipherAlg.AES192, CipherMode.CBC), (CipherAlg.AES256, CipherMode.CBC),
                      (CipherAlg.TDES_INNER, CipherMode.ECB), (CipherAlg.AES128, CipherMode.ECB)):
        for section in ("ENCRYPT", "DECRYPT"):
            vectors += [(alg, mode, v) for v in nist_cipher_vectors(alg, mode, section, (1, 3))]
    key, iv, plaintext, ciphertext = FIPS81_DES_CBC
    vectors.append((CipherAlg.DES, CipherMode.CBC, {"key": key, "iv": iv, "plaintext": plaintext,
                                                    "ciphertext": ciphertext, "count": "FIPS 81"}))
    for alg, mode, v in vectors:
        what = f"{alg.name}-{mode.name} vector {v['count']}"
        context_iv = v["iv"] if mode is CipherMode.CBC else b""
        encode, decode = await open_pair(dev, alg, v["key"], mode=mode, iv_source=IvSource.CONTEXT, iv=context_iv)
        assert await dev.encode(v["plaintext"], cipher=encode) == v["ciphertext"], f"{what}: ENCODE"
        assert await dev.decode(v["ciphertext"], cipher=decode) == v["plaintext"], f"{what}: DECODE"
        await close_all(dev)
        if mode is CipherMode.CBC:
            encode = await dev.open_cipher_channel(alg, Direction.ENCODE, v["key"])
            out = await dev.encode(v["iv"] + v["plaintext"], skip=len(v["iv"]), cipher=encode)
            assert out == v["iv"] + v["ciphertext"], f"{what}: ENCODE with the IV in the packet"
            await close_all(dev)


async def check_cipher_round_trips(bus):
    """Every CipherAlg in CBC (IV from the packet and from the context) and
    ECB: ENCODE matches the reference, DECODE gives the packet back."""
    dev = await fresh_device(bus)
    rng = seeded_random(24)
    for alg in CipherAlg:
        block = CIPHER_BLOCK_BYTES[alg]
        for mode, iv_source in CIPHER_VARIANTS:
            what = f"{alg.name}-{mode.name}-{iv_source.name}"
            key = cipher_key(rng, alg)
            blocks = 3 if alg is CipherAlg.TDES_OUTER else 1      # 3DES outer: IV1..IV3
            if mode is CipherMode.ECB:
                ivs, iv = b"", b""
            elif iv_source is IvSource.CONTEXT:
                ivs = iv = rng.randbytes(blocks * block)
            else:
                iv = rng.randbytes((blocks - 1) * block)        # IV2‖IV3 from the context
                ivs = iv
            packet, skip = esp_packet(rng, block, block * rng.randrange(1, 9),
                                      iv_in_packet=mode is CipherMode.CBC and iv_source is IvSource.PACKET)
            encode, decode = await open_pair(dev, alg, key, mode=mode, iv_source=iv_source, iv=iv)
            out = await dev.encode(packet, skip=skip, cipher=encode)
            assert out == expected_esp(packet, skip, encode, key, ivs), f"{what}: ENCODE differs from the reference"
            assert await dev.decode(out, skip=skip, cipher=decode) == packet, f"{what}: DECODE"
            await close_all(dev)


async def check_mac_known_answers(bus):
    """RFC 2202 HMAC-SHA1/MD5 vectors (whole ICV and 96-bit) as HASH jobs
    and, for whole-dword messages, MAC-only ENCODE jobs; the RFC 1321 MD5
    suite on an MD5 channel; the FIPS 113 DES-MAC example."""
    dev = await fresh_device(bus)
    for alg in (MacAlg.HMAC_SHA1, MacAlg.HMAC_MD5):
        for key, message, digest in rfc2202_vectors(alg):
            for icv_bytes in (len(digest), 12):
                mac = await dev.open_mac_channel(alg, Direction.ENCODE, key, icv_bytes=icv_bytes)
                what = f"{alg.name} RFC 2202 key {key.hex()}, {icv_bytes}-byte ICV"
                assert await dev.hash(message, mac=mac) == digest[:icv_bytes], f"{what}: HASH"
                if len(message) % 4 == 0:
                    assert await dev.encode(message, mac=mac) == message + digest[:icv_bytes], f"{what}: ENCODE"
                await dev.close_channel(mac)
    md5 = await dev.open_mac_channel(MacAlg.MD5, Direction.ENCODE)
    for message, digest in hash_vectors("hashes/MD5/rfc-1321.txt"):
        assert await dev.hash(message, mac=md5) == digest, f"RFC 1321 MD5 of {message!r}"
    await dev.close_channel(md5)
    key, message, expected = FIPS113_DES_MAC
    mac = await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, key, icv_bytes=len(expected))
    assert await dev.encode(message, mac=mac) == message + expected, "DES-MAC FIPS 113 example"


async def check_hash_jobs(bus):
    """HASH: any message length (0..300 bytes, partial last dwords with junk
    after the message in the source buffer) on SHA1/MD5/HMAC/DES-MAC
    channels gives the reference digest in one batch per channel, writes
    exactly the ICV, and counts as an encode on the channel (BYTES = message
    bytes) and its algorithm unit; a HASH on a DECODE channel is
    CHANNEL_MISMATCH."""
    dev = await fresh_device(bus)
    rng = seeded_random(28)
    keys = {MacAlg.HMAC_SHA1: rng.randbytes(20), MacAlg.HMAC_MD5: rng.randbytes(16), MacAlg.DES_MAC: rng.randbytes(8),
            MacAlg.SHA1: b"", MacAlg.MD5: b""}
    lengths = (0, 1, 2, 3, 5, 55, 56, 57, 64, 119, 300)
    for alg, key in keys.items():
        channel = await dev.open_mac_channel(alg, Direction.ENCODE, key)
        icv = channel.icv_bytes
        before = (await dev.alg_counters())[alg_unit(Service.MAC, alg)]
        channel_before = await dev.channel_counters(channel)      # counters outlive a channel's closing
        async with Buffers(bus) as buffers:
            jobs, expected = [], []
            for length in lengths:
                message = rng.randbytes(length)
                padded = -(-length // 4) * 4 or 4
                source = buffers.filled(message + rng.randbytes(padded - length))   # junk after the message
                destination = buffers.alloc(icv + 8)
                bus.host_write(destination.address, bytes([0xA5]) * destination.size)
                jobs.append(Job(Opcode.HASH, source, destination, length=length, mac=channel))
                expected.append((message, destination))
            for (message, destination), result in zip(expected, await dev.run(jobs)):
                what = f"HASH {alg.name} of {len(message)} bytes"
                assert (result.status, result.bytes) == (ResultStatus.OK, icv), \
                    f"{what}: {result.status!r}, {result.bytes} bytes"
                out = bus.host_read(destination.address, destination.size)
                assert out[:icv] == mac_reference(alg, key, message)[:icv], f"{what}: digest"
                assert out[icv:] == bytes([0xA5]) * (destination.size - icv), f"{what}: wrote past the ICV"
        counters = await dev.channel_counters(channel)
        assert (counters["good"] - channel_before["good"], counters["bytes"] - channel_before["bytes"]) == \
            (len(lengths), sum(lengths)), f"{alg.name} channel counters {channel_before} -> {counters}"
        after = (await dev.alg_counters())[alg_unit(Service.MAC, alg)]
        assert after["encode_good"] - before["encode_good"] == len(lengths), f"{alg.name}: {before} -> {after}"
        await dev.close_channel(channel)
    decode = await dev.open_mac_channel(MacAlg.SHA1, Direction.DECODE)
    async with Buffers(bus) as buffers:
        result = await run_one(dev, Job(Opcode.HASH, buffers.filled(b"abcd"), buffers.alloc(32), mac=decode))
    assert result.status is ResultStatus.CHANNEL_MISMATCH, f"HASH on a DECODE channel: {result.status!r}"


async def check_mac_round_trips_and_mismatch(bus):
    """Every MacAlg, alone and after AES-128-CBC (ESP: MAC over header and
    ciphertext): ENCODE matches the reference ICV, DECODE restores the
    packet, an altered ICV or ciphertext gives MAC_MISMATCH."""
    dev = await fresh_device(bus)
    rng = seeded_random(25)
    for alg in MacAlg:
        key_sizes = {MacAlg.DES_MAC: (8,), MacAlg.SHA1: (0,), MacAlg.MD5: (0,)}.get(alg, (MAC_DIGEST_BYTES[alg], 80))
        for key_bytes in key_sizes:
            for with_cipher in (False, True):
                what = f"{alg.name} ({key_bytes}-byte key{', AES-128-CBC' if with_cipher else ''})"
                mac_key = rng.randbytes(key_bytes)
                icv_bytes = 8 if alg is MacAlg.DES_MAC else 12
                mac, mac_decode = await open_mac_pair(dev, alg, mac_key, icv_bytes=icv_bytes)
                cipher = cipher_decode = None
                key = cipher_key(rng, CipherAlg.AES128)
                if with_cipher:
                    cipher, cipher_decode = await open_pair(dev, CipherAlg.AES128, key)
                packet, skip = esp_packet(rng, 16, 16 * rng.randrange(1, 6), iv_in_packet=with_cipher)
                out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
                assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key), f"{what}: ENCODE"
                assert await dev.decode(out, skip=skip, cipher=cipher_decode, mac=mac_decode) == packet, \
                    f"{what}: DECODE"
                for position in (len(out) - 1, skip + 3):
                    altered = bytearray(out)
                    altered[position] ^= 0x40
                    error = await raises(JobFailed, dev.decode(bytes(altered), skip=skip, cipher=cipher_decode,
                                                               mac=mac_decode))
                    assert error.status is ResultStatus.MAC_MISMATCH, f"{what}, byte {position} altered: {error}"
                await close_all(dev)


async def check_channel_exhaustion(bus):
    """Channels are allocated lowest first; with all open, opening raises
    ChannelsExhausted naming the card's count; a closed number is reused."""
    dev = await fresh_device(bus)
    rng = seeded_random(26)
    usable = min(dev.identity.channels, NO_CHANNEL)
    opened = [await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, rng.randbytes(8), icv_bytes=4)
              for _ in range(usable)]
    assert [c.number for c in opened] == list(range(usable))
    error = await raises(ChannelsExhausted, dev.open_cipher_channel(CipherAlg.DES, Direction.ENCODE,
                                                                    rng.randbytes(8)))
    assert str(dev.identity.channels) in str(error), str(error)
    middle = opened[usable // 2]
    await dev.close_channel(middle)
    again = await dev.open_cipher_channel(CipherAlg.DES, Direction.ENCODE, rng.randbytes(8))
    assert again.number == middle.number
    packet = rng.randbytes(16)
    out = await dev.encode(packet, mac=opened[0])
    assert len(out) == len(packet) + 4


async def check_channel_and_alg_counters(bus):
    """Per-channel (GOOD/FAIL/DISCARD/BYTES) and per-algorithm-unit counters
    after good, failed (MAC mismatch) and refused jobs: a refused job counts
    in every channel it names, and in the unit of each of them that is open
    and in its own slot; COPY and unknown opcodes count in neither; a
    channel's counters outlive its closing."""
    dev = await fresh_device(bus)
    rng = seeded_random(27)
    expected = {number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0)
                for number in range(dev.identity.channels)}
    units = {unit: dict.fromkeys(COUNTER_KINDS, 0) for unit in AlgUnit}
    jobs = 0

    def count(kind: str, direction: str, payload: int, *channels, unit_channels=None):
        """Expected counts of an ENCODE/DECODE job naming ``channels``; the
        units of ``unit_channels`` (default: all of them, each open and in
        its own slot) count too."""
        nonlocal jobs
        jobs += 1
        for channel in channels:
            expected[channel.number][kind] += 1
            expected[channel.number]["bytes"] += payload if kind == "good" else 0
        for channel in channels if unit_channels is None else unit_channels:
            units[alg_unit(channel.service, channel.alg)][f"{direction}_{kind}"] += 1

    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        des_mac = await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, rng.randbytes(8), icv_bytes=8)
        packet = rng.randbytes(40)
        await dev.encode(packet, mac=des_mac)
        count("good", "encode", len(packet), des_mac)
        await dev.close_channel(des_mac)            # its number is reused below; counters accumulate
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, mac=des_mac))
        assert refused.status is ResultStatus.CHANNEL_CLOSED
        count("discard", "encode", 0, des_mac, unit_channels=())            # closed: no unit

        key, mac_key = cipher_key(rng, CipherAlg.AES256), rng.randbytes(16)
        cipher, cipher_decode = await open_pair(dev, CipherAlg.AES256, key)
        mac, mac_decode = await open_mac_pair(dev, MacAlg.HMAC_MD5, mac_key)
        encoded = []
        for _ in range(3):
            packet, skip = esp_packet(rng, 16, 16 * rng.randrange(1, 5))
            encoded.append((await dev.encode(packet, skip=skip, cipher=cipher, mac=mac), skip))
            count("good", "encode", len(packet) - skip, cipher, mac)
        refused = await run_one(dev, Job(Opcode.ENCODE, (src.address, 44), dst, skip=24, cipher=cipher, mac=mac))
        assert refused.status is ResultStatus.BAD_LENGTH
        count("discard", "encode", 0, cipher, mac)
        refused = await run_one(dev, Job(Opcode.DECODE, (src.address, 8), dst, mac=mac_decode))
        assert refused.status is ResultStatus.BAD_LENGTH
        count("discard", "decode", 0, mac_decode)
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, cipher=mac))
        assert refused.status is ResultStatus.CHANNEL_MISMATCH
        count("discard", "encode", 0, mac, unit_channels=())                # a MAC channel in the cipher slot
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, cipher=cipher_decode, mac=mac))
        assert refused.status is ResultStatus.CHANNEL_MISMATCH
        count("discard", "encode", 0, cipher_decode, mac)                    # wrong direction, right slots
        for opcode in (Opcode.COPY, 0):                                      # in JOBS only
            await run_one(dev, Job(opcode, src, dst, cipher=cipher, mac=mac))
            jobs += 1
        for out, skip in encoded[:2]:
            await dev.decode(out, skip=skip, cipher=cipher_decode, mac=mac_decode)
            count("good", "decode", len(out) - mac.icv_bytes - skip, cipher_decode, mac_decode)
        out, skip = encoded[2]
        await raises(JobFailed, dev.decode(out[:-1] + bytes([out[-1] ^ 1]), skip=skip, cipher=cipher_decode,
                                           mac=mac_decode))
        count("fail", "decode", 0, cipher_decode, mac_decode)

    for number, counters in expected.items():
        assert await dev.channel_counters(number) == counters, f"channel {number} counters"
    assert await dev.alg_counters() == units
    assert await dev.read("JOBS") == jobs



# -- compression (COMPRESS / DECOMPRESS) ---------------------------------------------------

#: The card's status for each outcome of the software decompressor (docs/rings.md, DECOMPRESS).
