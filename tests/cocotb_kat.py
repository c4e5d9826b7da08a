"""cocotb module: known-answer tests of the crypto datapath through the whole PCI path.

Every vector goes the way a packet goes: the driver opens a channel (context
written over PCI), writes descriptors into the rings in host memory, the
card fetches them and the data by bus-master DMA, runs its RTL engines and
writes the output and the result back by DMA. Expected values come only
from published vector files (NIST CAVP AES, TDES and SHA-1, RFC 2202 HMAC,
RFC 1321 MD5, read from ``cryptography_vectors``) or, where no file exists (3DES outer CBC,
DES-MAC), from the independent references of :mod:`crypto_reference`.

Vectors run in batches: up to :data:`BATCH` channels opened, one job each,
one :meth:`PacDevice.run` call (results coalesced into one interrupt),
channels closed, next batch. Each test
collects every mismatch (naming the file, section and COUNT, what was sent,
what came back and what was expected) and fails at its end if there was
any; it also checks the algorithm-unit counters against the number of
vectors run and ends with the PCI protocol checker's verdict.

Environment: ``PACSIM_HOSTMEM`` (JSON of :meth:`RtlBus.configure_memory`
settings, default zero-wait memory); ``PACSIM_KAT_STRIDE`` (default 1:
every vector; N: every N-th vector of each file section, always including
its first and last); ``PACSIM_KAT_MONTE`` (default 1: SHA1Monte checkpoints
run, of the file's 100, each 1000 chained HASH jobs).
"""
import json
import os
import random
from dataclasses import dataclass

import cocotb

from crypto_reference import cipher_reference, hash_vectors, mac_reference, monte_vectors, read_rsp, rfc2202_vectors
from driver_suite_support import Buffers
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, MAC_DIGEST_BYTES, AlgUnit, CipherAlg,
                                   CipherMode, Direction, IvSource, MacAlg, Opcode, ResultStatus, Service, alg_unit)
from pacsim.host.device import PacDevice
from pacsim.host.jobs import Job
from pacsim.sim.rtl_bus import RtlBus

MEMORY = json.loads(os.environ.get("PACSIM_HOSTMEM", "{}"))
STRIDE = max(1, int(os.environ.get("PACSIM_KAT_STRIDE", "1")))
MONTE_CHECKPOINTS = max(1, int(os.environ.get("PACSIM_KAT_MONTE", "1")))
#: Jobs (and channels opened) per batch; the card has 64 channels, the command ring keeps 63 in flight.
BATCH = 60
#: Source bytes per batch of MAC jobs (host memory is 256 KiB).
BATCH_BYTES = 64 * 1024
#: Result interrupt coalescing timeout (PCI clocks): a batch signals once, after its last result.
COALESCE_TIMEOUT = 100_000
#: Mismatches quoted in a failure message.
QUOTED = 8

AES_KINDS = ("GFSbox", "KeySbox", "VarKey", "VarTxt", "MMT")
AES_ALGS = {128: CipherAlg.AES128, 192: CipherAlg.AES192, 256: CipherAlg.AES256}
#: NIST TDES CBC files and the channel algorithm each exercises (TCBCMMT1 and
#: the single-key KATs have K1 = K2 = K3, i.e. single DES).
TDES_FILES = {
    "TCBCMMT1.rsp": CipherAlg.DES,
    "TCBCMMT2.rsp": CipherAlg.TDES_2KEY,
    "TCBCMMT3.rsp": CipherAlg.TDES_INNER,
    "TCBCinvperm.rsp": CipherAlg.DES,
    "TCBCpermop.rsp": CipherAlg.DES,
    "TCBCsubtab.rsp": CipherAlg.DES,
    "TCBCvarkey.rsp": CipherAlg.DES,
    "TCBCvartext.rsp": CipherAlg.DES,
}
SECTIONS = {"ENCRYPT": Direction.ENCODE, "DECRYPT": Direction.DECODE}
OPCODE = {Direction.ENCODE: Opcode.ENCODE, Direction.DECODE: Opcode.DECODE}


# -- vectors -------------------------------------------------------------------------

@dataclass
class CipherKat:
    """One cipher vector as a job: ``data`` in, ``expected`` out; ``iv``: the
    context IV(s); ``skip``: header bytes (the IV block when ``iv_source`` is PACKET)."""
    what: str
    alg: CipherAlg
    mode: CipherMode
    direction: Direction
    key: bytes
    iv: bytes
    data: bytes
    expected: bytes
    iv_source: IvSource = IvSource.CONTEXT
    skip: int = 0


def strided(vectors: list) -> list:
    """Every :data:`STRIDE`-th vector of each section, keeping each section's first and last."""
    chosen = []
    for section in SECTIONS:
        group = [v for v in vectors if v["section"] == section]
        chosen += [v for i, v in enumerate(group) if i % STRIDE == 0 or i == len(group) - 1]
    return chosen


def channel_key(alg: CipherAlg, vector: dict, name: str) -> bytes:
    """The channel key of a vector: AES ``KEY``; TDES ``KEYs`` or ``KEY1..3``
    folded to the channel's form (DES K1, 2-key K1‖K2, 3-key K1‖K2‖K3),
    checking that the folded keys are the ones the file repeats."""
    if "key" in vector:
        return vector["key"]
    k1, k2, k3 = (vector["keys"],) * 3 if "keys" in vector else (vector["key1"], vector["key2"], vector["key3"])
    if alg is CipherAlg.DES:
        assert k1 == k2 == k3, f"{name}: K1, K2, K3 differ in a single-DES vector"
        return k1
    if alg is CipherAlg.TDES_2KEY:
        assert k3 == k1, f"{name}: K3 != K1 in a 2-key vector"
        return k1 + k2
    return k1 + k2 + k3


def cipher_kats(path: str, alg: CipherAlg, mode: CipherMode) -> list:
    """The (strided) vectors of one file as :class:`CipherKat` jobs: ENCRYPT
    plaintext -> ciphertext on an ENCODE channel, DECRYPT ciphertext ->
    plaintext on a DECODE channel."""
    name = path.rsplit("/", 1)[-1]
    kats = []
    for v in strided(read_rsp(path)):
        direction = SECTIONS[v["section"]]
        data, expected = ((v["plaintext"], v["ciphertext"]) if direction is Direction.ENCODE
                          else (v["ciphertext"], v["plaintext"]))
        what = f"{name} [{v['section']}] COUNT {v['count']}"
        key = channel_key(alg, v, what)
        assert len(key) == CIPHER_KEY_BYTES[alg], f"{what}: {len(key)}-byte key for {alg.name}"
        kats.append(CipherKat(what, alg, mode, direction, key,
                              v.get("iv", b"") if mode is CipherMode.CBC else b"", data, expected))
    return kats


def aes_kats(mode: CipherMode) -> tuple:
    """``(kats, {file: vectors})`` of every AES KAT and MMT file of ``mode``, 128/192/256."""
    kats, per_file = [], {}
    for kind in AES_KINDS:
        for bits, alg in AES_ALGS.items():
            path = f"ciphers/AES/{mode.name}/{mode.name}{kind}{bits}.rsp"
            chosen = cipher_kats(path, alg, mode)
            per_file[path.rsplit("/", 1)[-1]] = len(chosen)
            kats += chosen
    return kats, per_file


# -- running -------------------------------------------------------------------------

def describe_mismatch(kat, result, out: bytes) -> str:
    """What was sent, what came back and what the vector expects."""
    return (f"{kat.what}: {kat.alg.name}-{kat.mode.name} {kat.direction.name} key {kat.key.hex()} "
            f"context iv {kat.iv.hex() or '-'} in {kat.data.hex()}: status {result.status!r}, "
            f"{result.bytes} bytes, out {out.hex()}; expected {ResultStatus.OK!r}, "
            f"{len(kat.expected)} bytes, {kat.expected.hex()}")


def fail_if_any(what: str, mismatches: list, total: int) -> None:
    if mismatches:
        quoted = "\n  ".join(mismatches[:QUOTED])
        more = f"\n  ... and {len(mismatches) - QUOTED} more" if len(mismatches) > QUOTED else ""
        raise AssertionError(f"{what}: {len(mismatches)} of {total} jobs wrong:\n  {quoted}{more}")


async def run_cipher_kats(dev, kats: list) -> list:
    """Run cipher vectors in batches of :data:`BATCH` channels (one job each);
    return the mismatch descriptions."""
    bus = dev.bus
    mismatches = []
    for start_index in range(0, len(kats), BATCH):
        batch = kats[start_index:start_index + BATCH]
        channels = [await dev.open_cipher_channel(k.alg, k.direction, k.key, mode=k.mode, iv_source=k.iv_source,
                                                  iv=k.iv) for k in batch]
        async with Buffers(bus) as buffers:
            jobs, outputs = [], []
            for kat, channel in zip(batch, channels):
                destination = buffers.alloc(len(kat.expected))
                outputs.append(destination)
                jobs.append(Job(OPCODE[kat.direction], buffers.filled(kat.data), destination, skip=kat.skip,
                                cipher=channel))
            await dev.set_coalescing(len(jobs), COALESCE_TIMEOUT)
            results = await dev.run(jobs)
            for kat, result, destination in zip(batch, results, outputs):
                out = bus.host_read(destination.address, len(kat.expected))
                if (result.status, result.bytes, out) != (ResultStatus.OK, len(kat.expected), kat.expected):
                    mismatches.append(describe_mismatch(kat, result, out))
        for channel in channels:
            await dev.close_channel(channel)
    return mismatches


async def check_unit_counters(dev, expected: dict) -> None:
    """``expected``: ``{AlgUnit: {counter kind: count}}`` of the units a test used (others must be 0)."""
    counters = await dev.alg_counters()
    for unit in AlgUnit:
        want = {kind: expected.get(unit, {}).get(kind, 0) for kind in counters[unit]}
        assert counters[unit] == want, f"{unit.name} counters {counters[unit]}; expected {want}"


def count_units(kats) -> dict:
    """Expected unit counters after every cipher vector of ``kats`` ran once, good."""
    units = {}
    for kat in kats:
        unit = alg_unit(Service.CIPHER, kat.alg)
        key = f"{kat.direction.name.lower()}_good"
        units.setdefault(unit, {}).setdefault(key, 0)
        units[unit][key] += 1
    return units


async def start(dut):
    """A fresh bus (host memory per ``PACSIM_HOSTMEM``) and a probed card."""
    bus = await RtlBus.start(dut, **MEMORY)
    return bus, await PacDevice.probe(bus)


async def cipher_file_test(dut, kats: list, per_file: dict, what: str) -> None:
    bus, dev = await start(dut)
    cocotb.log.info(f"{what}: {len(kats)} vectors: " + ", ".join(f"{n} {c}" for n, c in per_file.items()))
    for direction in Direction:
        assert any(k.direction is direction for k in kats), f"{what}: no {direction.name} vector"
    mismatches = await run_cipher_kats(dev, kats)
    fail_if_any(what, mismatches, len(kats))
    await check_unit_counters(dev, count_units(kats))
    await bus.finish()


@dataclass
class MacCase:
    """MAC-only jobs on one key: ``jobs`` = ``[(label, opcode, input, status, output or None)]``
    (None: MAC_MISMATCH, whose output is to be dropped)."""
    what: str
    alg: MacAlg
    key: bytes
    icv_bytes: int
    jobs: list


def mac_case(rng, what: str, alg: MacAlg, key: bytes, message: bytes, icv: bytes, flips) -> MacCase:
    """HASH of ``message`` (-> ``icv``; any length). For a whole-dword
    message also: ENCODE (-> message + ``icv``), DECODE of message + icv
    (-> message), and a DECODE with one random bit flipped in each part
    named by ``flips`` ("icv", "message") -> MAC_MISMATCH."""
    jobs = [("HASH", Opcode.HASH, message, ResultStatus.OK, icv)]
    if len(message) % 4 or not message:          # ENCODE/DECODE take whole, non-empty dwords
        return MacCase(what, alg, key, len(icv), jobs)
    packet = message + icv
    jobs += [("ENCODE", Opcode.ENCODE, message, ResultStatus.OK, packet),
             ("DECODE", Opcode.DECODE, packet, ResultStatus.OK, message)]
    for part in (part for part in flips if part != "message" or message):
        flipped = bytearray(packet)
        at = len(message) + rng.randrange(len(icv)) if part == "icv" else rng.randrange(len(message))
        flipped[at] ^= 1 << rng.randrange(8)
        jobs.append((f"DECODE, bit flipped in the {part} (byte {at})", Opcode.DECODE, bytes(flipped),
                     ResultStatus.MAC_MISMATCH, None))
    return MacCase(what, alg, key, len(icv), jobs)


def mac_batches(cases: list):
    """Consecutive groups of cases within :data:`BATCH` jobs and channels and
    :data:`BATCH_BYTES` source bytes."""
    batch, jobs, size = [], 0, 0
    for case in cases:
        need = len(case.jobs) + len(case_directions(case))
        case_bytes = sum(len(data) for _, _, data, _, _ in case.jobs)
        if batch and (jobs + need > BATCH or size + case_bytes > BATCH_BYTES):
            yield batch
            batch, jobs, size = [], 0, 0
        batch.append(case)
        jobs += need
        size += case_bytes
    if batch:
        yield batch


def case_directions(case: MacCase) -> set:
    """The channel directions a case's jobs need (HASH: an ENCODE channel)."""
    return {Direction.DECODE if opcode is Opcode.DECODE else Direction.ENCODE for _, opcode, _, _, _ in case.jobs}


async def run_mac_test(bus, dev, what: str, cases: list) -> None:
    """Run MAC cases (an ENCODE and, when needed, a DECODE channel each) in
    batches (:func:`mac_batches`); fail on any mismatch; check the unit
    counters and the protocol checker."""
    mismatches, units, total = [], {}, 0
    for batch in mac_batches(cases):
        async with Buffers(bus) as buffers:
            jobs, checks, opened = [], [], []
            for case in batch:
                channels = {direction: await dev.open_mac_channel(case.alg, direction, case.key,
                                                                  icv_bytes=case.icv_bytes)
                            for direction in case_directions(case)}
                opened += channels.values()
                for label, opcode, data, status, expected in case.jobs:
                    destination = buffers.alloc(-(-(len(data) + case.icv_bytes) // 4) * 4)   # whole dwords
                    direction = Direction.DECODE if opcode is Opcode.DECODE else Direction.ENCODE
                    jobs.append(Job(opcode, buffers.filled(data), destination, length=len(data),
                                    mac=channels[direction]))
                    checks.append((f"{case.what}, {label}", data, destination, status, expected))
                    kind = f"{direction.name.lower()}_{'good' if status is ResultStatus.OK else 'fail'}"
                    unit = units.setdefault(alg_unit(Service.MAC, case.alg), {})
                    unit[kind] = unit.get(kind, 0) + 1
            await dev.set_coalescing(len(jobs), COALESCE_TIMEOUT)
            results = await dev.run(jobs)
            total += len(jobs)
            for (label, data, destination, status, expected), result in zip(checks, results):
                out = bus.host_read(destination.address, len(expected)) if expected is not None else b""
                good = result.status is status and (
                    expected is None or (result.bytes, out) == (len(expected), expected))
                if not good:
                    mismatches.append(f"{label}: sent {data.hex()}: status {result.status!r}, {result.bytes} "
                                      f"bytes, out {out.hex()}; expected {status!r}"
                                      + (f", {len(expected)} bytes, {expected.hex()}" if expected is not None
                                         else ""))
        for channel in opened:
            await dev.close_channel(channel)
    cocotb.log.info(f"{what}: {len(cases)} cases, {total} jobs")
    fail_if_any(what, mismatches, total)
    await check_unit_counters(dev, units)
    await bus.finish()


# -- tests ---------------------------------------------------------------------------

@cocotb.test()
async def aes_ecb_nist(dut):
    """NIST CAVP AES-ECB GFSbox, KeySbox, VarKey, VarTxt and MMT vectors
    (128/192/256-bit keys, ENCRYPT and DECRYPT) through DMA and the AES
    engine give the files' outputs."""
    kats, per_file = aes_kats(CipherMode.ECB)
    await cipher_file_test(dut, kats, per_file, "AES-ECB")


@cocotb.test()
async def aes_cbc_nist(dut):
    """NIST CAVP AES-CBC GFSbox, KeySbox, VarKey, VarTxt and MMT vectors
    (128/192/256, both directions) with the IV from the channel context
    give the files' outputs."""
    kats, per_file = aes_kats(CipherMode.CBC)
    await cipher_file_test(dut, kats, per_file, "AES-CBC")


@cocotb.test()
async def tdes_cbc_nist(dut):
    """NIST CAVP TDES-CBC vectors: TCBCMMT3 on 3-key inner-CBC 3DES,
    TCBCMMT2 on 2-key 3DES (the card's K3 = K1), TCBCMMT1 and the
    single-key KATs (inverse permutation, permutation operation,
    substitution table, variable key, variable text) on DES; both directions,
    IV from the context."""
    kats, per_file = [], {}
    for name, alg in TDES_FILES.items():
        chosen = cipher_kats(f"ciphers/3DES/CBC/{name}", alg, CipherMode.CBC)
        per_file[name] = len(chosen)
        kats += chosen
    await cipher_file_test(dut, kats, per_file, "TDES-CBC")


@cocotb.test()
async def hmac_rfc2202(dut):
    """All seven RFC 2202 HMAC-MD5 and HMAC-SHA1 test cases with the full
    ICV and the 96-bit ICV of RFC 2403/2404: a HASH job gives the file's
    digest (truncated) for every message length; for the whole-dword
    messages a MAC-only ENCODE appends it to the message, a DECODE of
    message + that ICV is OK and returns the message, and with one bit
    flipped in the ICV or in the message it is MAC_MISMATCH."""
    bus, dev = await start(dut)
    rng = random.Random(2202)
    cases = []
    for alg in (MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1):
        vectors = rfc2202_vectors(alg)
        assert {len(message) % 4 for _, message, _ in vectors} > {0}, "no partial-dword RFC 2202 message"
        for index, (key, message, digest) in enumerate(vectors):
            assert len(digest) == MAC_DIGEST_BYTES[alg]
            for icv_bytes in (len(digest), 12):
                what = (f"RFC 2202 {alg.name} test case {index + 1} ({len(key)}-byte key, "
                        f"{len(message)}-byte message), {icv_bytes}-byte ICV")
                cases.append(mac_case(rng, what, alg, key, message, digest[:icv_bytes], flips=("icv", "message")))
    await run_mac_test(bus, dev, "HMAC RFC 2202", cases)


@cocotb.test()
async def hash_nist_and_rfc1321(dut):
    """Plain SHA-1 on NIST CAVP SHA1ShortMsg (0..64 bytes) and SHA1LongMsg
    (163..6400 bytes) and MD5 on the RFC 1321 test suite: a HASH job on a
    SHA1/MD5 channel gives the file's digest, for every byte length;
    whole-dword messages also ENCODE/DECODE with the digest as ICV."""
    bus, dev = await start(dut)
    rng = random.Random(180)
    cases = []
    for alg, path in ((MacAlg.SHA1, "hashes/SHA1/SHA1ShortMsg.rsp"), (MacAlg.SHA1, "hashes/SHA1/SHA1LongMsg.rsp"),
                      (MacAlg.MD5, "hashes/MD5/rfc-1321.txt")):
        vectors = hash_vectors(path)
        chosen = [v for i, v in enumerate(vectors) if i % STRIDE == 0 or i == len(vectors) - 1]
        for message, digest in chosen:
            what = f"{path} {len(message)}-byte message"
            cases.append(mac_case(rng, what, alg, b"", message, digest, flips=("message",)))
    await run_mac_test(bus, dev, "SHA-1 NIST / MD5 RFC 1321", cases)


@cocotb.test()
async def sha1_monte_nist(dut):
    """NIST CAVP SHA1Monte: from the seed, each checkpoint is 1000 chained
    HASH jobs, MD[i] = SHA1(MD[i-3] || MD[i-2] || MD[i-1]) (60-byte
    messages, the card's output fed back as the next job's input), and the
    last MD must be the file's checkpoint; the first ``PACSIM_KAT_MONTE``
    checkpoints run."""
    bus, dev = await start(dut)
    seed, checkpoints = monte_vectors("hashes/SHA1/SHA1Monte.rsp")
    sha1 = await dev.open_mac_channel(MacAlg.SHA1, Direction.ENCODE)
    for count, expected in enumerate(checkpoints[:MONTE_CHECKPOINTS]):
        md = [seed, seed, seed]
        for _ in range(1000):
            md = [md[1], md[2], await dev.hash(md[0] + md[1] + md[2], mac=sha1)]
        assert md[2] == expected, (f"SHA1Monte.rsp COUNT = {count}: the card's chain gives {md[2].hex()}; "
                                   f"expected {expected.hex()}")
        seed = md[2]
    counters = await dev.channel_counters(sha1)
    assert counters["good"] == 1000 * min(MONTE_CHECKPOINTS, len(checkpoints)) and counters["fail"] == 0, counters
    await bus.finish()


@cocotb.test()
async def tdes_outer_cbc_reference(dut):
    """3DES outer CBC (no NIST file): random keys, IVs and messages of 1..16
    blocks, IV1..IV3 from the context and IV1 from the packet (IV2, IV3
    from the context), plus 3DES-outer ECB; ENCODE and DECODE outputs equal
    :func:`crypto_reference.cipher_reference`."""
    bus, dev = await start(dut)
    rng = random.Random(3)
    alg, block = CipherAlg.TDES_OUTER, CIPHER_BLOCK_BYTES[CipherAlg.TDES_OUTER]
    kats = []
    for index in range(90):
        mode, iv_source = ((CipherMode.CBC, IvSource.CONTEXT), (CipherMode.CBC, IvSource.PACKET),
                           (CipherMode.ECB, IvSource.CONTEXT))[index % 3]
        direction = Direction(index // 3 % 2)
        key = rng.randbytes(CIPHER_KEY_BYTES[alg])
        ivs = rng.randbytes(3 * block) if mode is CipherMode.CBC else b""
        payload = rng.randbytes(block * rng.randrange(1, 17))
        packet_iv = iv_source is IvSource.PACKET and mode is CipherMode.CBC
        header = ivs[:block] if packet_iv else b""          # IV1 travels just before the payload
        result = cipher_reference(alg, mode, key, ivs, payload, decrypt=direction is Direction.DECODE)
        what = f"3DES outer {mode.name} IV from {iv_source.name} {direction.name} case {index}"
        kats.append(CipherKat(what, alg, mode, direction, key, ivs[block:] if packet_iv else ivs,
                              header + payload, header + result, iv_source, len(header)))
    mismatches = await run_cipher_kats(dev, kats)
    fail_if_any("3DES outer", mismatches, len(kats))
    await check_unit_counters(dev, count_units(kats))
    await bus.finish()


@cocotb.test()
async def des_mac_reference(dut):
    """DES-MAC (ANSI X9.9, no NIST file): random keys and messages of 1..200
    bytes (partial blocks the MAC zero-pads), 4- and 8-byte ICVs: HASH
    gives :func:`crypto_reference.mac_reference`'s MAC; for whole-dword
    messages ENCODE appends it, DECODE with it is OK and returns the
    message, with a bit flipped in the ICV or in the message MAC_MISMATCH."""
    bus, dev = await start(dut)
    rng = random.Random(99)
    cases = []
    for index in range(40):
        key = rng.randbytes(8)
        message = rng.randbytes(4 * rng.randrange(1, 51) if index % 4 else rng.randrange(1, 201))
        icv = mac_reference(MacAlg.DES_MAC, key, message)[:(4, 8)[index % 2]]
        cases.append(mac_case(rng, f"DES-MAC case {index} ({len(message)}-byte message, {len(icv)}-byte ICV)",
                              MacAlg.DES_MAC, key, message, icv, flips=("icv", "message")))
    await run_mac_test(bus, dev, "DES-MAC", cases)
