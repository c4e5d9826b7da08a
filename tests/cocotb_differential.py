"""cocotb module: random differential test of the crypto datapath, RTL against model against reference.

Several hundred random packets run through the card's RTL (DMA from
deliberately hostile host memory: wait states, retries, disconnects) and,
inside the same cocotb test, through the behavioural model on a
:class:`ModelBus` with the same channels opened in the same order and the
identical job list. For every job three answers are compared: the RTL's,
the model's and the one :mod:`crypto_reference` (``cryptography``,
``hmac``) computes from docs/rings.md. They must agree on the status, the
result's byte count and the destination memory, to the byte: the output,
the destination's unwritten tail and guard bytes around every segment, and
every source byte left unchanged. At the end the per-channel and
per-algorithm-unit counters and ``JOBS`` of the RTL, of the model and of
the expectation from the reference statuses must agree too, and the PCI
protocol checker must be clean.

What is random (from fixed seeds): security associations (a cipher, a MAC
or both; every :class:`CipherAlg` in CBC with the IV from the packet or
the context and in ECB; every :class:`MacAlg` with ICVs of 4 bytes to the
digest; random keys, HMAC keys also longer than a block), rotated in
phases so that channel numbers are closed and reused; per packet the SA,
ENCODE or DECODE, header skip, payload length (whole blocks, sometimes
none, sometimes past the card's 2 KiB data buffer), scatter-gather
segments of random sizes at random dword addresses on both sides, a
destination larger than needed; DECODE input is a reference ENCODE output,
sometimes with a bit flipped (MAC_MISMATCH with a MAC); a few jobs are
refused (payload not whole blocks: BAD_LENGTH; the SA's other-direction
channels: CHANNEL_MISMATCH). Some jobs of SAs with a MAC are HASH jobs: a
message of any byte length (0..``max_bytes``, the source's last dword
padded with junk) on the SA's ENCODE MAC channel, the ICV out. Jobs of many channels are interleaved in
batches of up to :data:`BATCH`.

Environment: ``PACSIM_HOSTMEM`` (JSON of :meth:`RtlBus.configure_memory`
settings; default :data:`DEFAULT_MEMORY`), ``PACSIM_DIFF`` (JSON: ``seed``,
``packets``, ``max_bytes`` (largest payload), ``phases``).
"""
import json
import os
import random
from dataclasses import dataclass, field

import cocotb

from crypto_reference import cipher_reference, mac_reference
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, COUNTER_KINDS, MAC_DIGEST_BYTES, MAX_SEGMENTS,
                                   AlgUnit, CipherAlg, CipherMode, Direction, IvSource, MacAlg, Opcode, ResultStatus,
                                   Service, alg_unit)
from pacsim.host.device import PacDevice
from pacsim.host.jobs import Job
from pacsim.sim.model_bus import ModelBus
from pacsim.sim.rtl_bus import RtlBus

#: Host memory misbehaving moderately: medium DEVSEL#, wait states, retries and disconnects.
DEFAULT_MEMORY = {"devsel_speed": 1, "seed": 5, "wait_rate": 40, "initial_wait": 2,
                  "retry_rate": 32, "disconnect_rate": 32}
MEMORY = json.loads(os.environ.get("PACSIM_HOSTMEM") or json.dumps(DEFAULT_MEMORY))
SETTINGS = {"seed": 1, "packets": 480, "max_bytes": 3072, "phases": 3,
            **json.loads(os.environ.get("PACSIM_DIFF", "{}"))}

#: Jobs per batch (the command ring keeps at most 63 in flight).
BATCH = 60
#: Segment ring entries the driver is probed with, and the most a batch may use per side.
SEGMENT_ENTRIES = 256
#: Host memory a batch may occupy (the RTL bench has 256 KiB).
BATCH_MEMORY = 96 * 1024
#: Channels the SAs of a phase may use at most.
CHANNEL_BUDGET = 60
#: Mismatches quoted in the failure message.
QUOTED = 10
OPCODE = {Direction.ENCODE: Opcode.ENCODE, Direction.DECODE: Opcode.DECODE}
HMAC_KEY_BYTES = (4, 16, 20, 32, 64, 80)     # 80: longer than the hash block, hashed first (RFC 2104)


# -- security associations -------------------------------------------------------

@dataclass
class CipherSpec:
    alg: CipherAlg
    mode: CipherMode
    iv_source: IvSource
    key: bytes
    ivs: bytes          #: IV1 (3DES outer: IV1‖IV2‖IV3); with the IV from the packet IV1 is unused

    @property
    def block(self) -> int:
        return CIPHER_BLOCK_BYTES[self.alg]

    @property
    def packet_iv(self) -> bool:
        return self.mode is CipherMode.CBC and self.iv_source is IvSource.PACKET

    def context_iv(self) -> bytes:
        """The ``iv`` argument of :meth:`PacDevice.open_cipher_channel`."""
        if self.mode is CipherMode.ECB:
            return b""
        return self.ivs[self.block:] if self.iv_source is IvSource.PACKET else self.ivs

    def reference_ivs(self, header: bytes) -> bytes:
        if self.mode is CipherMode.ECB:
            return b""
        return header[-self.block:] + self.ivs[self.block:] if self.packet_iv else self.ivs

    def __str__(self):
        return f"{self.alg.name}-{self.mode.name}" + (f"/IV {self.iv_source.name}" if self.mode is CipherMode.CBC
                                                      else "")


@dataclass
class MacSpec:
    alg: MacAlg
    key: bytes
    icv_bytes: int

    def __str__(self):
        return f"{self.alg.name}/{self.icv_bytes}/{len(self.key)}-byte key"


@dataclass
class Sa:
    """A security association: cipher and/or MAC, and its channel numbers per direction."""
    name: str
    cipher: CipherSpec | None
    mac: MacSpec | None
    channels: dict = field(default_factory=dict)   #: {Direction: (cipher number | None, MAC number | None)}

    @property
    def channel_count(self) -> int:
        return 2 * ((self.cipher is not None) + (self.mac is not None))

    def __str__(self):
        return f"{self.name} ({' + '.join(str(s) for s in (self.cipher, self.mac) if s is not None)})"


def random_sa(rng, name: str) -> Sa:
    kind = rng.choice(("both",) * 5 + ("cipher",) * 2 + ("mac",) * 2)
    cipher = mac = None
    if kind != "mac":
        alg = rng.choice(list(CipherAlg))
        mode = CipherMode.ECB if rng.random() < 0.25 else CipherMode.CBC
        block = CIPHER_BLOCK_BYTES[alg]
        cipher = CipherSpec(alg, mode, rng.choice(list(IvSource)), rng.randbytes(CIPHER_KEY_BYTES[alg]),
                            rng.randbytes((3 if alg is CipherAlg.TDES_OUTER else 1) * block))
    if kind != "cipher":
        alg = rng.choice(list(MacAlg))
        key_bytes = {MacAlg.DES_MAC: 8, MacAlg.SHA1: 0, MacAlg.MD5: 0}.get(alg, rng.choice(HMAC_KEY_BYTES))
        key = rng.randbytes(key_bytes)
        mac = MacSpec(alg, key, 4 * rng.randrange(1, MAC_DIGEST_BYTES[alg] // 4 + 1))
    return Sa(name, cipher, mac)


async def open_sa(dev, sa: Sa) -> dict:
    """Open the SA's channels (cipher ENCODE, cipher DECODE, MAC ENCODE, MAC DECODE); their numbers."""
    cipher, mac = dict.fromkeys(Direction), dict.fromkeys(Direction)
    if sa.cipher is not None:
        c = sa.cipher
        for direction in Direction:
            cipher[direction] = (await dev.open_cipher_channel(c.alg, direction, c.key, mode=c.mode,
                                                               iv_source=c.iv_source, iv=c.context_iv())).number
    if sa.mac is not None:
        for direction in Direction:
            mac[direction] = (await dev.open_mac_channel(sa.mac.alg, direction, sa.mac.key,
                                                         icv_bytes=sa.mac.icv_bytes)).number
    return {direction: (cipher[direction], mac[direction]) for direction in Direction}


async def close_sa(dev, sa: Sa) -> None:
    for pair in sa.channels.values():
        for number in pair:
            if number is not None:
                await dev.close_channel(number)


# -- the reference -----------------------------------------------------------------

def reference_encode(sa: Sa, packet: bytes, skip: int) -> bytes:
    """docs/rings.md ENCODE: header, payload encrypted, ICV over header + ciphertext appended."""
    header, payload = packet[:skip], packet[skip:]
    if sa.cipher is not None:
        c = sa.cipher
        payload = cipher_reference(c.alg, c.mode, c.key, c.reference_ivs(header), payload)
    out = header + payload
    if sa.mac is not None:
        out += mac_reference(sa.mac.alg, sa.mac.key, out)[:sa.mac.icv_bytes]
    return out


def reference_decode(sa: Sa, data: bytes, skip: int) -> tuple:
    """docs/rings.md DECODE: ``(header + plaintext, OK or MAC_MISMATCH)``."""
    icv_bytes = sa.mac.icv_bytes if sa.mac is not None else 0
    body, icv = data[:len(data) - icv_bytes], data[len(data) - icv_bytes:]
    status = ResultStatus.OK
    if sa.mac is not None and mac_reference(sa.mac.alg, sa.mac.key, body)[:icv_bytes] != icv:
        status = ResultStatus.MAC_MISMATCH
    header, payload = body[:skip], body[skip:]
    if sa.cipher is not None:
        c = sa.cipher
        payload = cipher_reference(c.alg, c.mode, c.key, c.reference_ivs(header), payload, decrypt=True)
    return header + payload, status


# -- packets -----------------------------------------------------------------------

@dataclass
class Piece:
    """A segment of ``size`` bytes inside a host region of ``lead`` + size + ``trail`` bytes
    whose initial content is ``background`` (a source segment's data is already in it)."""
    lead: int
    size: int
    trail: int
    background: bytes


@dataclass
class Packet:
    index: int
    sa: Sa
    opcode: Opcode
    channels: tuple         #: (cipher number | None, MAC number | None) named by the command
    data: bytes
    skip: int
    sources: list
    destinations: list
    status: ResultStatus    #: the reference status
    output: bytes | None    #: the reference output (None: none defined, MAC_MISMATCH)
    payload_bytes: int      #: the cipher region, what a good job adds to its channels' BYTES
    note: str = ""

    def region_bytes(self) -> int:
        return sum(p.lead + p.size + p.trail for p in self.sources + self.destinations)

    def describe(self) -> str:
        sizes = lambda pieces: "+".join(str(p.size) for p in pieces)
        return (f"packet {self.index} {self.opcode.name} {self.sa} channels {self.channels} skip {self.skip} "
                f"length {len(self.data)} src {sizes(self.sources)} dst {sizes(self.destinations)}"
                + (f" [{self.note}]" if self.note else ""))


def split(rng, total: int) -> list:
    """``total`` bytes (a positive multiple of 4) as 1..MAX_SEGMENTS random dword-multiple sizes."""
    words = total // 4
    count = min(words, rng.choice((1, 1, 2, 2, 3, 4, 5, MAX_SEGMENTS)))
    cuts = sorted(rng.sample(range(1, words), count - 1)) if count > 1 else []
    bounds = [0, *cuts, words]
    return [4 * (b - a) for a, b in zip(bounds, bounds[1:])]


def pieces(rng, sizes, data: bytes | None) -> list:
    """Regions for segments of ``sizes``: random guard bytes around each, ``data`` in them if given."""
    out, offset = [], 0
    for size in sizes:
        lead, trail = 4 * rng.randrange(0, 9), 4 * rng.randrange(0, 9)
        body = data[offset:offset + size] if data is not None else rng.randbytes(size)
        out.append(Piece(lead, size, trail, rng.randbytes(lead) + body + rng.randbytes(trail)))
        offset += size
    return out


def payload_length(rng, block: int, max_bytes: int) -> int:
    roll = rng.random()
    if roll < 0.04:
        return 0
    if roll < 0.5:
        return block * rng.randrange(1, 5)
    if roll < 0.85:
        return block * rng.randrange(1, 512 // block + 1)
    return block * rng.randrange(1, max_bytes // block + 1)


def hash_packet(rng, index: int, sa: Sa, max_bytes: int) -> Packet:
    """A HASH job of a random-length message on the SA's ENCODE MAC channel."""
    length = rng.choice((0, rng.randrange(1, 9), rng.randrange(max_bytes + 1)))
    message = rng.randbytes(length)
    padded = -(-length // 4) * 4 or 4
    junk = message + rng.randbytes(padded - length)
    icv = mac_reference(sa.mac.alg, sa.mac.key, message)[:sa.mac.icv_bytes]
    room = sa.mac.icv_bytes + (4 * rng.randrange(1, 5) if rng.random() < 0.3 else 0)
    channels = (None, sa.channels[Direction.ENCODE][1])
    return Packet(index, sa, Opcode.HASH, channels, message, 0, pieces(rng, split(rng, padded), junk),
                  pieces(rng, split(rng, room), None), ResultStatus.OK, icv, length, "HASH")


def random_packet(rng, index: int, sa: Sa, max_bytes: int) -> Packet:
    if sa.mac is not None and rng.random() < 0.12:
        return hash_packet(rng, index, sa, max_bytes)
    opcode = rng.choice((Opcode.ENCODE, Opcode.DECODE))
    direction = Direction.ENCODE if opcode is Opcode.ENCODE else Direction.DECODE
    icv_bytes = sa.mac.icv_bytes if sa.mac is not None else 0
    block = sa.cipher.block if sa.cipher is not None else 4
    # The IV block travels in the header when CBC takes it from the packet; ECB
    # channels with IvSource.PACKET get one too (the contract's wording does not exempt them).
    if sa.cipher is not None and sa.cipher.iv_source is IvSource.PACKET:
        skip = 4 * rng.randrange(0, 5) + block
    else:
        skip = 4 * rng.randrange(0, 9)
    payload = payload_length(rng, block, max_bytes)
    if skip + payload == 0:
        payload = block
    plain = rng.randbytes(skip + payload)
    note, channels = "", sa.channels[direction]
    defect = rng.random()
    if defect < 0.03 and sa.cipher is not None:
        # Cipher region not whole blocks: refused before any data moves.
        data = rng.randbytes(skip + payload + 4 + (icv_bytes if opcode is Opcode.DECODE else 0))
        status, output, note = ResultStatus.BAD_LENGTH, b"", "cipher region not whole blocks"
    elif defect < 0.06:
        # The SA's channels of the other direction: refused.
        channels = sa.channels[Direction(1 - direction)]
        data = plain if opcode is Opcode.ENCODE else reference_encode(sa, plain, skip)
        status, output, note = ResultStatus.CHANNEL_MISMATCH, b"", "other direction's channels"
    elif opcode is Opcode.ENCODE:
        data = plain
        status, output = ResultStatus.OK, reference_encode(sa, plain, skip)
    else:
        data = reference_encode(sa, plain, skip)
        if sa.mac is not None and rng.random() < 0.12:
            flipped = bytearray(data)
            position = rng.randrange(len(flipped))
            flipped[position] ^= 1 << rng.randrange(8)
            data, note = bytes(flipped), f"bit flipped in byte {position}"
        output, status = reference_decode(sa, data, skip)
        if status is ResultStatus.OK:
            assert output == plain, f"packet {index}: the reference does not invert itself"
    if status is ResultStatus.MAC_MISMATCH:
        output = None
    need = len(data) + icv_bytes if opcode is Opcode.ENCODE else len(data) - icv_bytes
    room = max(need, 4) + (4 * rng.randrange(1, 17) if rng.random() < 0.3 else 0)
    return Packet(index, sa, opcode, channels, data, skip, pieces(rng, split(rng, len(data)), data),
                  pieces(rng, split(rng, room), None), status, output,
                  (len(data) - (0 if opcode is Opcode.ENCODE else icv_bytes)) - skip, note)


# -- running a batch on one bus ---------------------------------------------------------

@dataclass
class Outcome:
    status: object
    bytes: int
    destination: bytes      #: every destination region (guards included), concatenated
    source_intact: bool


def place(bus, piece_list, held: list) -> tuple:
    """Allocate and fill each Piece's region (the buffers are added to
    ``held``); ``(segments, buffers)``."""
    segments, spots = [], []
    for piece in piece_list:
        buffer = bus.alloc(piece.lead + piece.size + piece.trail, align=4)
        held.append(buffer)
        bus.host_write(buffer.address, piece.background)
        segments.append((buffer.address + piece.lead, piece.size))
        spots.append(buffer)
    return segments, spots


async def execute(dev, packets: list) -> list:
    """Place the packets' regions in host memory, run them as one batch, read the regions back."""
    bus = dev.bus
    held, jobs, regions = [], [], []

    try:
        for p in packets:
            sources, source_spots = place(bus, p.sources, held)
            destinations, destination_spots = place(bus, p.destinations, held)
            cipher, mac = p.channels
            jobs.append(Job(p.opcode, sources, destinations, length=len(p.data), skip=p.skip,
                            cipher=cipher, mac=mac))
            regions.append((source_spots, destination_spots))
        results = await dev.run(jobs)
        outcomes = []
        for p, result, (source_spots, destination_spots) in zip(packets, results, regions):
            intact = all(bus.host_read(b.address, b.size) == piece.background
                         for b, piece in zip(source_spots, p.sources))
            written = b"".join(bus.host_read(b.address, b.size) for b in destination_spots)
            outcomes.append(Outcome(result.status, result.bytes, written, intact))
        return outcomes
    finally:
        for buffer in held:
            bus.free(buffer)


def reference_destination(p: Packet) -> bytes | None:
    """The destination regions as the reference expects them after the job (None: undefined)."""
    if p.status is ResultStatus.MAC_MISMATCH:
        return None
    output = p.output if p.status is ResultStatus.OK else b""
    regions, offset = [], 0
    for piece in p.destinations:
        region = bytearray(piece.background)
        chunk = output[offset:offset + piece.size]
        region[piece.lead:piece.lead + len(chunk)] = chunk
        offset += piece.size
        regions.append(bytes(region))
    return b"".join(regions)


def first_difference(a: bytes, b: bytes) -> str:
    if len(a) != len(b):
        return f"lengths {len(a)} and {len(b)}"
    at = next(i for i in range(len(a)) if a[i] != b[i])
    return f"first at region byte {at} ({a[at]:#04x} vs {b[at]:#04x}), {sum(x != y for x, y in zip(a, b))} bytes"


def compare(p: Packet, rtl: Outcome, model: Outcome) -> list:
    """Disagreements among RTL, model and reference for one packet."""
    problems = []
    if not rtl.status == model.status == p.status:
        problems.append(f"status RTL {rtl.status!r}, model {model.status!r}, reference {p.status!r}")
    if rtl.bytes != model.bytes:
        problems.append(f"result bytes RTL {rtl.bytes}, model {model.bytes}")
    if p.status is ResultStatus.OK and rtl.bytes != len(p.output):
        problems.append(f"result bytes {rtl.bytes}; reference output {len(p.output)} bytes")
    if rtl.destination != model.destination:
        problems.append(f"destination RTL vs model: {first_difference(rtl.destination, model.destination)}")
    expected = reference_destination(p)
    if expected is not None and rtl.destination != expected:
        problems.append(f"destination RTL vs reference: {first_difference(rtl.destination, expected)}")
    for name, outcome in (("RTL", rtl), ("model", model)):
        if not outcome.source_intact:
            problems.append(f"{name} changed the source or its guard bytes")
    return problems


# -- counters ----------------------------------------------------------------------

def expected_counters(packets: list, channels: int, opened: dict) -> tuple:
    """Per-channel and per-unit counters from the reference statuses (docs/rings.md,
    "Counters"): each named channel counts the job; each of their units counts it
    once (the channels here are always open and in their own slot)."""
    per_channel = {n: dict.fromkeys(("good", "fail", "discard", "bytes"), 0) for n in range(channels)}
    units = {unit: dict.fromkeys(COUNTER_KINDS, 0) for unit in AlgUnit}
    for p in packets:
        kind = {ResultStatus.OK: "good", ResultStatus.MAC_MISMATCH: "fail"}.get(p.status, "discard")
        direction = "decode" if p.opcode is Opcode.DECODE else "encode"
        for number in p.channels:
            if number is None:
                continue
            per_channel[number][kind] += 1
            if kind == "good":
                per_channel[number]["bytes"] += p.payload_bytes
        for unit in {opened[(p.index, number)] for number in p.channels if number is not None}:
            units[unit][f"{direction}_{kind}"] += 1
    return per_channel, units


# -- the test ----------------------------------------------------------------------

def batches(packets: list) -> list:
    """Consecutive groups within the batch, segment-ring and host-memory limits."""
    groups, current = [], []
    for p in packets:
        trial = current + [p]
        if (len(trial) > BATCH or sum(len(q.sources) for q in trial) > SEGMENT_ENTRIES
                or sum(len(q.destinations) for q in trial) > SEGMENT_ENTRIES
                or sum(q.region_bytes() for q in trial) > BATCH_MEMORY):
            groups.append(current)
            trial = [p]
        current = trial
    return groups + [current] if current else groups


@cocotb.test()
async def rtl_model_reference_differential(dut):
    """Random packets on many interleaved channels, with scatter-gather and
    hostile host memory: the RTL, the behavioural model and the reference
    agree on every job's status, byte count and destination memory (and
    leave sources alone), and RTL and model agree with the reference-derived
    per-channel and per-algorithm counters and JOBS."""
    seed, total, max_bytes, phases = (SETTINGS[k] for k in ("seed", "packets", "max_bytes", "phases"))
    rng = random.Random(seed)
    cocotb.log.info(f"differential: seed {seed}, {total} packets, payloads up to {max_bytes} bytes, "
                    f"{phases} phases, host memory {MEMORY}")
    bus = await RtlBus.start(dut, **MEMORY)
    rtl = await PacDevice.probe(bus, segment_entries=SEGMENT_ENTRIES)
    model = await PacDevice.probe(ModelBus(channels=rtl.identity.channels,
                                           burst_words=rtl.identity.caps["burst_words"]),
                                  segment_entries=SEGMENT_ENTRIES)
    assert model.identity.channels == rtl.identity.channels
    channels = rtl.identity.channels
    budget = min(CHANNEL_BUDGET, channels)

    open_sas, packets, problems = [], [], []
    unit_of = {}            # (packet index, channel number) -> AlgUnit, as the channel was when the job ran
    stats = {"sa": 0, "bytes": 0, "jobs": 0, **{s.name: 0 for s in ResultStatus}}
    per_phase = -(-total // phases)
    for phase in range(phases):
        # Close about half the SAs (their numbers get reused), then open new ones up to the budget.
        for sa in [sa for sa in open_sas if rng.random() < 0.5]:
            for dev in (rtl, model):
                await close_sa(dev, sa)
            open_sas.remove(sa)
        while True:
            sa = random_sa(rng, f"SA{stats['sa']}")
            if sum(s.channel_count for s in open_sas) + sa.channel_count > budget:
                break
            numbers = [await open_sa(dev, sa) for dev in (rtl, model)]
            assert numbers[0] == numbers[1], f"{sa}: RTL channels {numbers[0]}, model channels {numbers[1]}"
            sa.channels = numbers[0]
            open_sas.append(sa)
            stats["sa"] += 1
        phase_packets = []
        for _ in range(min(per_phase, total - len(packets))):
            p = random_packet(rng, len(packets) + len(phase_packets), rng.choice(open_sas), max_bytes)
            for slot, number in zip((Service.CIPHER, Service.MAC), p.channels):
                if number is not None:
                    spec = p.sa.cipher if slot is Service.CIPHER else p.sa.mac
                    unit_of[(p.index, number)] = alg_unit(slot, spec.alg)
            phase_packets.append(p)
        for group in batches(phase_packets):
            rtl_outcomes = await execute(rtl, group)
            model_outcomes = await execute(model, group)
            for p, r, m in zip(group, rtl_outcomes, model_outcomes):
                problems += [f"{p.describe()}: {problem}" for problem in compare(p, r, m)]
        packets += phase_packets
        cocotb.log.info(f"phase {phase}: {len(open_sas)} SAs open, {len(phase_packets)} packets, "
                        f"{len(problems)} problems so far")

    for p in packets:
        stats["jobs"] += 1
        stats["bytes"] += len(p.data)
        stats[p.status.name] += 1
    cocotb.log.info(f"differential: {stats['sa']} SAs, {stats['jobs']} jobs, {stats['bytes']} source bytes; "
                    + ", ".join(f"{s.name} {stats[s.name]}" for s in ResultStatus if stats[s.name]))
    if problems:
        quoted = "\n  ".join(problems[:QUOTED])
        more = f"\n  ... and {len(problems) - QUOTED} more" if len(problems) > QUOTED else ""
        raise AssertionError(f"{len(problems)} disagreements in {len(packets)} packets:\n  {quoted}{more}")

    per_channel, units = expected_counters(packets, channels, unit_of)
    for number in range(channels):
        counts = [await dev.channel_counters(number) for dev in (rtl, model)]
        assert counts[0] == counts[1] == per_channel[number], (
            f"channel {number} counters: RTL {counts[0]}, model {counts[1]}, expected {per_channel[number]}")
    rtl_units, model_units = await rtl.alg_counters(), await model.alg_counters()
    for unit in AlgUnit:
        assert rtl_units[unit] == model_units[unit] == units[unit], (
            f"{unit.name} counters: RTL {rtl_units[unit]}, model {model_units[unit]}, expected {units[unit]}")
    jobs = [await dev.read("JOBS") for dev in (rtl, model)]
    assert jobs[0] == jobs[1] == len(packets), f"JOBS: RTL {jobs[0]}, model {jobs[1]}, expected {len(packets)}"
    await bus.finish()


# -- LZS: RTL against model against the software reference ---------------------------

async def lzs_run(dev, channels: dict, jobs_spec) -> list:
    """Run ``[(opcode, data, source Pieces, destination Pieces)]`` as one
    batch with the compression ``channels`` (by opcode); returns ``(status,
    bytes, [destination region per Piece])`` per job."""
    bus, held, jobs, spots = dev.bus, [], [], []
    try:
        for opcode, data, sources, destinations in jobs_spec:
            source_segments, _ = place(bus, sources, held)
            destination_segments, destination_spots = place(bus, destinations, held)
            jobs.append(Job(opcode, source_segments, destination_segments, length=len(data),
                            comp=channels[opcode]))
            spots.append(destination_spots)
        results = await dev.run(jobs)
        return [(r.status, r.bytes, [bus.host_read(b.address, b.size) for b in buffers])
                for r, buffers in zip(results, spots)]
    finally:
        for buffer in held:
            bus.free(buffer)


@cocotb.test()
async def lzs_rtl_model_reference_differential(dut):
    """COMPRESS of random packets (text, HTML, binary, zeros, random; 0..1500
    bytes) and DECOMPRESS of valid, mutated and random streams, over random
    scatter-gather segments and destinations from too small to roomy, in
    batches on the RTL (hostile host memory) and on the model: status,
    RESULT.BYTES and every destination region (guards included) agree, the
    compressed streams decode with the software reference, the stream
    errors are the reference's, and the LZS unit counters agree."""
    from driver_suite_lzs import STREAM_STATUS
    from pacsim.reference import lzs
    from pacsim.contract.codes import Direction
    from pacsim.sim.lzs_corpus import corpus
    from test_lzs_reference import mutate, outcome

    bus = await RtlBus.start(dut, **MEMORY)
    rng = random.Random(SETTINGS["seed"] + 500)
    rtl = await PacDevice.probe(bus, segment_entries=SEGMENT_ENTRIES)
    model = await PacDevice.probe(ModelBus(channels=rtl.identity.channels,
                                           burst_words=rtl.identity.caps["burst_words"]),
                                  segment_entries=SEGMENT_ENTRIES)
    channels = {dev: {Opcode.COMPRESS: await dev.open_comp_channel(Direction.ENCODE),
                      Opcode.DECOMPRESS: await dev.open_comp_channel(Direction.DECODE)} for dev in (rtl, model)}
    problems, jobs_run = [], 0
    for batch in range(4):
        spec, expected = [], []
        for _ in range(15):
            data = corpus(rng, rng.choice(("text", "html", "binary", "zeros", "random")), rng.randrange(0, 1501))
            if rng.random() < 0.5:
                opcode, room = Opcode.COMPRESS, 4 * rng.randrange(1, 450)
            else:
                opcode = Opcode.DECOMPRESS
                stream = lzs.compress(data)
                data = rng.choice((stream, mutate(rng, stream), rng.randbytes(rng.randrange(1, 100))))
                room = 4 * rng.randrange(1, 450)
            padded = max(4, -(-len(data) // 4) * 4)
            sources = pieces(rng, split(rng, padded), data + bytes(padded - len(data)))
            spec.append((opcode, data, sources, pieces(rng, split(rng, room), None)))
            if opcode is Opcode.DECOMPRESS:
                error, output = outcome(data, room)
                expected.append((STREAM_STATUS[error], output))
            else:
                expected.append((None, None))
        rtl_out, model_out = await lzs_run(rtl, channels[rtl], spec), await lzs_run(model, channels[model], spec)
        for index, ((opcode, data, _, _), (status, output), r, m) in enumerate(zip(spec, expected, rtl_out,
                                                                                      model_out)):
            what = f"batch {batch} job {index} {opcode.name} of {len(data)} bytes"
            if r != m:
                rtl_regions, model_regions = b"".join(r[2]), b"".join(m[2])
                problems.append(f"{what}: RTL {r[0]!r} {r[1]} bytes, model {m[0]!r} {m[1]} bytes; regions "
                                + (first_difference(rtl_regions, model_regions) if rtl_regions != model_regions
                                   else "equal"))
            if opcode is Opcode.DECOMPRESS and (r[0], r[1]) != (status, len(output)):
                problems.append(f"{what}: RTL {r[0]!r} {r[1]} bytes; the reference {status!r} {len(output)} bytes")
            if opcode is Opcode.COMPRESS and r[0] is ResultStatus.OK:
                stream = b"".join(region[p.lead:p.lead + p.size] for p, region in zip(spec[index][3], r[2]))[:r[1]]
                if lzs.decompress(stream, max(len(data), 1)) != data:
                    problems.append(f"{what}: the card's stream does not decode to the packet")
        jobs_run += len(spec)
    if problems:
        raise AssertionError(f"{len(problems)} LZS disagreements in {jobs_run} jobs:\n  " + "\n  ".join(problems[:QUOTED]))
    rtl_units, model_units = await rtl.alg_counters(), await model.alg_counters()
    assert rtl_units[AlgUnit.LZS] == model_units[AlgUnit.LZS], (rtl_units[AlgUnit.LZS], model_units[AlgUnit.LZS])
    await bus.finish()
