"""The PAC host driver: finds the card on a :class:`PciBus`, keeps its
descriptor rings and channels, and runs jobs (docs/rings.md).

The driver awaits nothing but :class:`PciBus` methods, so the same code runs
under cocotb against the RTL and under ``asyncio`` against the behavioural
model. Every register offset, field position and descriptor layout comes
from :mod:`pacsim.hdl.regmap` and :mod:`pacsim.hdl.layouts`. Addresses are
bus byte addresses, lengths are bytes, times are PCI clocks.

The driver does not pre-check what the card itself validates (segment
alignment and lengths, job lengths, channel use): those reach the card and
come back as a :class:`JobResult` status (or :class:`JobFailed` from the
one-job conveniences). It refuses only what cannot be encoded into a
descriptor or context (:class:`InvalidArgument`, :class:`InvalidKey`).

Ring policy: all four rings are in host memory, written and read with CPU
stores and loads. At most ``CMD entries - 1`` commands are in flight, so a
command entry is never rewritten before the card has cleared its ``own``
bit (the card clears it after writing the result, and a later result
proves it did); at most one job per result slot is in flight, so the
result ring never fills by itself. Segment entries are given back (zeroed)
when their job's result is collected. ``RING_CTRL.enable`` stays 1.

The public-key unit and the random number generator are driven through
their registers (docs/rings.md, "Public-key unit", "Random number
generator"), one operation at a time: :meth:`PacDevice.modexp` waits for
``INT_STATUS.pk`` (INTA#), the generator's commands are polled
(``RNG_STATUS.busy``; a one-block GENERATE takes about 50 PCI clocks).
"""
import collections
import os
from dataclasses import dataclass

from ..hdl.engines.drbg import DrbgCommand, DrbgStatus
from ..hdl.engines.modexp import ModExpSlot, ModExpStatus, modexp_clocks
from ..hdl.layouts import (ALG_COUNTERS, CHANNEL_COUNTERS, CIPHER_BLOCK_BYTES, CMD, CONTEXT, NO_CHANNEL, RANDOM_MAX_BYTES,
                           RESULT, SEG, AlgUnit, CipherAlg, CipherMode, CompAlg, Direction, IvSource, MacAlg,
                           Opcode, ResultStatus, Service)
from ..hdl.regmap import BAR0, CONFIG, IDENTITY, PCI_IDS, RINGS, VERSION, WINDOWS, Access
from .bus import DmaBuffer, PciBus
from .channels import DEFAULT_ICV_BYTES, Channel, cipher_context, comp_context, mac_context
from .drbg import BLOCK_BYTES, SEED_BYTES
from .errors import (CardNotFound, CardTimeout, ChannelsExhausted, InvalidArgument, JobFailed, PacError,
                     PkFailed, RingAborted, RingFull, RngFailed, UnsupportedCard)
from .jobs import DriverStatus, Job, JobResult, channel_number
from .pk import GROUPS, ModpGroup, value_of, words_of
from .rings import Ring

__all__ = ["PacDevice", "CardIdentity", "CopyResult", "COUNTERS", "DH_PRIVATE_BITS", "default_timeout",
           "lzs_bound"]

#: BAR0 registers :meth:`PacDevice.counters` reports (event counters since reset).
COUNTERS = ("JOBS", "DMA_TRANSACTIONS", "DMA_RETRIES", "DMA_DISCONNECTS",
            "DMA_LATENCY_EXPIRIES", "PCI_PARITY_ERRORS")

#: Default timeout of waiting for results: a fixed allowance plus a
#: per-dword allowance for the data in flight, in PCI clocks; several times
#: what the slowest engine (3DES CBC encrypt, 12 clocks per 8 bytes) and the
#: bus (a read and a write per dword) need, with retries and disconnects.
TIMEOUT_BASE_CLOCKS = 10_000
TIMEOUT_CLOCKS_PER_WORD = 16
#: Longest single wait for INTA# while collecting, in PCI clocks: a caller
#: waiting on jobs that another caller's reset took notices within this.
RESET_CHECK_CLOCKS = 4096
#: PCI clocks a random-number-generator command may take (the slowest,
#: INSTANTIATE with its self-test, takes about 130).
RNG_TIMEOUT_CLOCKS = 10_000
#: Default bits of a Diffie-Hellman private exponent: twice the 128-bit
#: strength of AES-128 (RFC 3526 section 8 asks for at least twice the
#: strength wanted), above the strength of every group of ``host/pk.py``.
DH_PRIVATE_BITS = 256

#: Config status bits a failed job sets, which the driver clears when it collects the result.
_STATUS_BITS_OF_RESULT = {
    ResultStatus.MASTER_ABORT: ("received_master_abort",),
    ResultStatus.TARGET_ABORT: ("received_target_abort",),
    ResultStatus.PARITY: ("master_data_parity_error", "detected_parity_error"),
}
#: Statuses after which output past a caller's byte limit (in the dword
#: rounding of the destination) is the driver's OUTPUT_OVERFLOW: the
#: decoder met it before the end of the stream or its error.
_LIMITED_STATUSES = (ResultStatus.OK, ResultStatus.STREAM_TRUNCATED, ResultStatus.STREAM_BAD_OFFSET)
#: Statuses whose RESULT.ADDRESS is meaningful.
_ADDRESSED = (ResultStatus.MASTER_ABORT, ResultStatus.TARGET_ABORT)
_RING_LAYOUT = {"CMD": CMD, "SRC": SEG, "DST": SEG, "RES": RESULT}
_RING_SIZES = tuple(1 << n for n in range(1, 13))

_BAR0_REGISTERS = {reg.name: reg for reg in BAR0}
_CONFIG_REGISTERS = {reg.name: reg for reg in CONFIG}


def default_timeout(data_bytes: int) -> int:
    """PCI clocks to wait for jobs moving ``data_bytes`` (source plus destination) by default."""
    return TIMEOUT_BASE_CLOCKS + TIMEOUT_CLOCKS_PER_WORD * (max(data_bytes, 0) // 4)


def lzs_bound(length: int) -> int:
    """The longest LZS stream of a ``length``-byte packet: every byte a
    9-bit literal, then the 9-bit end marker, padded to a byte."""
    return (9 * length + 9 + 7) // 8


def _byte_enables(reg, *field_names) -> int:
    """Active-high byte enables covering the named fields of ``reg``."""
    mask = 0
    for f in reg.fields:
        if f.name in field_names:
            mask |= f.mask
    return sum(1 << byte for byte in range(4) if mask >> (8 * byte) & 0xFF)


def _lookup(registers: dict, space: str, name: str):
    try:
        return registers[name]
    except KeyError:
        raise KeyError(f"{space} has no register {name!r}; expected one of "
                       f"{', '.join(registers)}") from None


def _encode(reg, what: str, **values) -> int:
    """``reg.encode(**values)``, with an error naming ``what`` and the field's range."""
    try:
        return reg.encode(**values)
    except ValueError:
        name, value = next((n, v) for n, v in values.items()
                           if not 0 <= int(v) < (1 << getattr(reg, n).width))
        width = getattr(reg, name).width
        raise InvalidArgument(f"{what} {value} does not fit {width} bits; expected 0 to {(1 << width) - 1}") from None


@dataclass(frozen=True)
class CardIdentity:
    """What the card says it is.

    ``vendor_id``/``device_id``/``revision_id``/``class_code`` come from its
    configuration header, ``version`` is ``(major, minor, patch)`` of its
    register map, ``caps`` the decoded CAPS register (``burst_words`` in
    32-bit words), ``bar0_size`` the size of its register BAR in bytes,
    ``channels`` its channel count (CHANNELS.count), ``pk_words`` the
    public-key unit's largest modulus in 32-bit words (PK_STATUS.max_words).
    """
    vendor_id: int
    device_id: int
    revision_id: int
    class_code: int
    version: tuple
    caps: dict
    bar0_size: int
    channels: int
    pk_words: int = 0


@dataclass(frozen=True)
class CopyResult:
    """Outcome of a completed copy: ``bytes`` copied and the PCI ``clocks`` it
    took, from writing the descriptors to collecting the result."""
    bytes: int
    clocks: int


@dataclass(frozen=True)
class _InFlight:
    """A submitted job and the ring entries it holds."""
    job: Job
    sources: tuple
    destinations: tuple
    data_bytes: int


class PacDevice:
    """One PAC on a :class:`PciBus` (``bus``). Create it with :meth:`probe`.

    ``driver_counters`` counts what the driver saw: ``jobs_submitted``,
    ``results_collected``, ``ring_full`` (batches refused with
    :class:`RingFull`), ``jobs_lost`` (to a reset), ``ring_aborts``.
    """

    def __init__(self, bus: PciBus, device: int, bar0: int, identity: CardIdentity | None):
        """Wrap an already configured card; use :meth:`probe` instead."""
        self.bus = bus
        self._device = device
        self._bar0 = bar0
        self._identity = identity
        self.rings = {}
        self._coalesce = (1, 0)
        self._channels = {}
        self._in_flight = collections.deque()
        self._unclaimed = []
        self._job_buffers = {}          # tag: temporary buffers of a timed-out one-job call, freed when it ends
        self._next_tag = 1
        self._collector = bus.new_lock()    # one caller at a time reaps results and acknowledges INTA#
        self._pk_lock = bus.new_lock()      # one public-key operation at a time (its registers and slots)
        self._rng_lock = bus.new_lock()     # one generator command sequence at a time
        self._rng_seeded_by = None      # None, "caller" or "driver": who instantiated the generator
        self.driver_counters = dict.fromkeys(
            ("jobs_submitted", "results_collected", "ring_full", "jobs_lost", "ring_aborts"), 0)

    @property
    def device(self) -> int:
        """Device number (IDSEL) of the card on bus 0."""
        return self._device

    @property
    def bar0(self) -> int:
        """Bus byte address assigned to BAR0."""
        return self._bar0

    @property
    def identity(self) -> CardIdentity:
        """Identity, version, capabilities and channel count read at probe time."""
        return self._identity

    @property
    def channels(self) -> dict:
        """Open channels: ``{number: Channel}``."""
        return dict(self._channels)

    @property
    def in_flight(self) -> int:
        """Jobs submitted whose results have not been collected."""
        return len(self._in_flight)

    # -- discovery ---------------------------------------------------------

    @classmethod
    async def probe(cls, bus: PciBus, *, device: int | None = None, latency_timer: int = 64,
                    cache_line_dwords: int = 16,
                    command_entries: int = 64, segment_entries: int = 64, result_entries: int = 64,
                    coalesce_count: int = 1, coalesce_timeout: int = 0) -> "PacDevice":
        """Find the card, configure it and return a ready driver.

        Takes the card at ``device`` (default: the first PAC that
        :meth:`scan` finds), sizes BAR0 and has the platform assign it an
        address (:meth:`PciBus.assign_mmio`, so several cards never overlap),
        sets the latency timer (PCI clocks) and cache line size (dwords),
        enables memory space, bus mastering, parity error response and SERR#,
        checks IDENT and the register-map major version, reads CAPS and
        CHANNELS, allocates the rings in host memory (``command_entries``
        commands, ``segment_entries`` source and destination segments,
        ``result_entries`` results; powers of two 2..4096), closes every
        channel, then resets the card and starts the rings
        (:meth:`reset`) with result coalescing ``coalesce_count`` results /
        ``coalesce_timeout`` PCI clocks.

        Raises :class:`CardNotFound` if no device matches (or ``device`` is not a PAC),
        :class:`UnsupportedCard` if the card is not one this driver speaks and
        :class:`InvalidArgument` for ring sizes the card does not take.
        """
        entries = {"CMD": command_entries, "SRC": segment_entries, "DST": segment_entries,
                   "RES": result_entries}
        for name, count in entries.items():
            if count not in _RING_SIZES:
                raise InvalidArgument(f"{name} ring of {count} entries; expected a power of two "
                                      f"from {_RING_SIZES[0]} to {_RING_SIZES[-1]}")
        device = await cls._find(bus, device)
        command = CONFIG.COMMAND_STATUS
        command_bytes = _byte_enables(command, *(f.name for f in command.fields if f.access is Access.RW))
        await bus.config_write(device, command.offset, 0, command_bytes)   # no decoding while sizing
        bar0, bar0_size = await cls._assign_bar0(bus, device)
        timing = CONFIG.BIST_HEADER_LATENCY_CACHE
        await bus.config_write(
            device, timing.offset,
            timing.encode(latency_timer=latency_timer, cache_line_size=cache_line_dwords),
            _byte_enables(timing, "latency_timer", "cache_line_size"))
        await bus.config_write(
            device, command.offset,
            command.encode(memory_space=1, bus_master=1, parity_error_response=1, serr_enable=1),
            command_bytes)
        header = CONFIG.ID.decode(await bus.config_read(device, CONFIG.ID.offset))
        klass = CONFIG.CLASS_REVISION.decode(await bus.config_read(device, CONFIG.CLASS_REVISION.offset))
        dev = cls(bus, device, bar0, None)
        ident = await dev.read("IDENT")
        if ident != IDENTITY:
            raise UnsupportedCard(f"device {device}: IDENT reads {ident:#010x}; "
                                  f"expected {IDENTITY:#010x} ('PAC1')")
        version = dev._version(await dev.read("VERSION"))
        if version[0] != VERSION[0]:
            raise UnsupportedCard(f"device {device}: register map version "
                                  f"{'.'.join(map(str, version))}; this driver speaks major version "
                                  f"{VERSION[0]} ({'.'.join(map(str, VERSION))})")
        dev._identity = CardIdentity(
            vendor_id=header["vendor_id"], device_id=header["device_id"],
            revision_id=klass["revision_id"], class_code=klass["class_code"],
            version=version, caps=await dev.read_fields("CAPS"), bar0_size=bar0_size,
            channels=(await dev.read_fields("CHANNELS"))["count"],
            pk_words=(await dev.read_fields("PK_STATUS"))["max_words"])
        dev.rings = {name: Ring(bus, name, _RING_LAYOUT[name], entries[name]) for name in RINGS}
        dev._coalesce = (coalesce_count, coalesce_timeout)
        await dev.clear_config_errors()
        for number in range(dev.identity.channels):
            await dev._write_context_config(number, 0)
        await dev.reset()
        return dev

    @staticmethod
    async def scan(bus: PciBus) -> list:
        """Device numbers of every PAC on the bus, lowest first (a type-0
        configuration scan of ``bus.DEVICES`` for the PCI_IDS vendor/device)."""
        return [device for device, ids in await PacDevice._scan(bus) if PacDevice._is_pac(ids)]

    @staticmethod
    async def _scan(bus: PciBus) -> list:
        """``(device, {vendor_id, device_id})`` of every device that answers."""
        found = []
        for device in bus.DEVICES:
            ids = CONFIG.ID.decode(await bus.config_read(device, CONFIG.ID.offset))
            if ids["vendor_id"] != 0xFFFF:
                found.append((device, ids))
        return found

    @staticmethod
    def _is_pac(ids: dict) -> bool:
        return ids["vendor_id"] == PCI_IDS["vendor_id"] and ids["device_id"] == PCI_IDS["device_id"]

    @staticmethod
    async def _find(bus: PciBus, wanted: int | None) -> int:
        if wanted is not None:
            if wanted not in bus.DEVICES:
                raise InvalidArgument(f"device {wanted}: expected a device number "
                                      f"{bus.DEVICES.start}-{bus.DEVICES.stop - 1}")
            ids = CONFIG.ID.decode(await bus.config_read(wanted, CONFIG.ID.offset))
            if PacDevice._is_pac(ids):
                return wanted
            seen = [(wanted, ids)] if ids["vendor_id"] != 0xFFFF else []
            where = f"at device {wanted}"
        else:
            seen = await PacDevice._scan(bus)
            for device, ids in seen:
                if PacDevice._is_pac(ids):
                    return device
            where = f"among devices {bus.DEVICES.start}-{bus.DEVICES.stop - 1}"
        found = ("; found " + ", ".join(f"{device}: {ids['vendor_id']:#06x}/{ids['device_id']:#06x}"
                                        for device, ids in seen)) if seen else "; no device answered"
        raise CardNotFound(
            f"no PAC (vendor {PCI_IDS['vendor_id']:#06x}, device {PCI_IDS['device_id']:#06x}) "
            f"{where} of bus 0{found}")

    @staticmethod
    async def _assign_bar0(bus: PciBus, device: int) -> tuple:
        bar = CONFIG.BAR0
        await bus.config_write(device, bar.offset, 0xFFFF_FFFF)
        probe = bar.decode(await bus.config_read(device, bar.offset))
        if probe["space"] or probe["type"]:
            raise UnsupportedCard(f"device {device}: BAR0 is not a 32-bit memory BAR "
                                  f"(space={probe['space']}, type={probe['type']}); expected 0 and 0")
        writable = bar.encode(address=probe["address"])
        if not writable:
            raise UnsupportedCard(f"device {device}: BAR0 has no writable address bits")
        size = (~writable & 0xFFFF_FFFF) + 1
        try:
            address = bus.assign_mmio(device, size)
        except ValueError as error:
            raise PacError(f"device {device}: BAR0 of {size} bytes gets no address: {error}") from None
        await bus.config_write(device, bar.offset, address)
        readback = bar.encode(address=bar.decode(await bus.config_read(device, bar.offset))["address"])
        if readback != address:
            raise PacError(f"device {device}: BAR0 reads back {readback:#010x} after assigning "
                           f"{address:#010x}")
        return address, size

    @staticmethod
    def _version(word: int) -> tuple:
        fields = BAR0.VERSION.decode(word)
        return fields["major"], fields["minor"], fields["patch"]

    # -- registers ---------------------------------------------------------

    async def read(self, reg_name: str) -> int:
        """Read the BAR0 register ``reg_name`` (a name from regmap.BAR0)."""
        reg = _lookup(_BAR0_REGISTERS, "BAR0", reg_name)
        return (await self.bus.mem_read(self._bar0 + reg.offset))[0]

    async def write(self, reg_name: str, value: int) -> None:
        """Write the 32-bit ``value`` to the BAR0 register ``reg_name``."""
        reg = _lookup(_BAR0_REGISTERS, "BAR0", reg_name)
        if not 0 <= value <= 0xFFFF_FFFF:
            raise ValueError(f"{reg_name}: value {value:#x} is not a 32-bit register word")
        await self.bus.mem_write(self._bar0 + reg.offset, [value])

    async def read_fields(self, reg_name: str) -> dict:
        """Read the BAR0 register ``reg_name`` decoded as ``{field: value}``."""
        reg = _lookup(_BAR0_REGISTERS, "BAR0", reg_name)
        return reg.decode(await self.read(reg_name))

    async def config_read(self, reg_name: str) -> int:
        """Read the configuration register ``reg_name`` (a name from regmap.CONFIG)."""
        reg = _lookup(_CONFIG_REGISTERS, "configuration space", reg_name)
        return await self.bus.config_read(self._device, reg.offset)

    async def config_write(self, reg_name: str, value: int, byte_enables: int = 0xF) -> None:
        """Write the configuration register ``reg_name`` (active-high byte enables)."""
        reg = _lookup(_CONFIG_REGISTERS, "configuration space", reg_name)
        await self.bus.config_write(self._device, reg.offset, value, byte_enables)

    async def config_status(self) -> dict:
        """COMMAND_STATUS decoded as ``{field: value}``."""
        return CONFIG.COMMAND_STATUS.decode(await self.config_read("COMMAND_STATUS"))

    async def set_command(self, **bits) -> None:
        """Change writable COMMAND bits (e.g. ``bus_master=0``), keeping the others.

        Writes only the command bytes, so no status bit is cleared.
        """
        reg = CONFIG.COMMAND_STATUS
        writable = [f.name for f in reg.fields if f.access is Access.RW]
        unknown = set(bits) - set(writable)
        if unknown:
            raise KeyError(f"not writable COMMAND bits: {', '.join(sorted(unknown))}; "
                           f"expected some of {', '.join(writable)}")
        current = await self.config_status()
        values = {name: bits.get(name, current[name]) for name in writable}
        await self.config_write("COMMAND_STATUS", reg.encode(**values),
                                _byte_enables(reg, *writable))

    async def clear_config_errors(self, *names: str) -> None:
        """Clear RW1C status bits of COMMAND_STATUS: the ``names`` given, or all of them."""
        reg = CONFIG.COMMAND_STATUS
        names = names or tuple(f.name for f in reg.fields if f.access is Access.RW1C)
        await self.config_write("COMMAND_STATUS", reg.encode(**{name: 1 for name in names}),
                                _byte_enables(reg, *names))

    # -- counters ------------------------------------------------------------

    async def counters(self) -> dict:
        """Card event counters since the last reset: ``{register name: count}``."""
        return {name: await self.read(name) for name in COUNTERS}

    def _window(self, name: str, index: int) -> int:
        """Bus byte address of entry ``index`` of the BAR0 window ``name``."""
        base, entry_bytes = WINDOWS[name]
        return self._bar0 + base + index * entry_bytes

    async def channel_counters(self, channel) -> dict:
        """Counters of a channel (a :class:`Channel` or a number):
        ``{"good", "fail", "discard": jobs, "bytes": payload bytes of good jobs}``."""
        number = self._channel_in_range(channel_number(channel))
        words = await self.bus.mem_read(self._window("CHANNEL_COUNTERS", number), CHANNEL_COUNTERS.size // 4)
        return {reg.name.lower(): words[reg.offset // 4] for reg in CHANNEL_COUNTERS}

    async def alg_counters(self) -> dict:
        """Algorithm unit counters: ``{AlgUnit: {kind: count}}``, kinds as in layouts.COUNTER_KINDS."""
        per_unit = WINDOWS["ALG_COUNTERS"][1] // 4
        words = await self.bus.mem_read(self._window("ALG_COUNTERS", 0), len(AlgUnit) * per_unit)
        return {unit: {reg.name.lower(): words[unit * per_unit + reg.offset // 4] for reg in ALG_COUNTERS}
                for unit in AlgUnit}

    # -- reset and rings -----------------------------------------------------

    async def reset(self) -> list:
        """Reset the card (CONTROL.reset), wait until BAR0 answers again, and
        restart the rings from scratch: every entry cleared, indices 0, every
        result slot armed, COALESCE, the result, ring_error and pk interrupts
        and ``RING_CTRL.enable``. Channels stay open (the card keeps
        contexts); the random number generator is uninstantiated (the next
        :meth:`random` instantiates it again).

        Returns a :class:`JobResult` with status ``DriverStatus.LOST_TO_RESET``
        for every job submitted and not collected, in submission order.
        """
        await self.write("CONTROL", BAR0.CONTROL.encode(reset=1))
        ident = await self.read("IDENT")       # the card retries BAR0 accesses until reset completes
        if ident != IDENTITY:
            raise PacError(f"IDENT reads {ident:#010x} after CONTROL.reset; expected {IDENTITY:#010x}")
        status = await self.read_fields("RING_STATUS")
        if status["busy"] or status["aborted"]:
            raise PacError(f"RING_STATUS {status} after CONTROL.reset; expected busy = 0 and aborted = 0")
        self._rng_seeded_by = None
        lost = [JobResult(entry.job.tag, DriverStatus.LOST_TO_RESET, 0, None, entry.job)
                for entry in self._in_flight]
        self._in_flight.clear()
        for result in lost:
            self._free_job_buffers(result.tag)
        self.driver_counters["jobs_lost"] += len(lost)
        for name in RINGS:
            ring = self.rings[name]
            ring.start()
            base, size = getattr(BAR0, f"{name}_RING_BASE"), getattr(BAR0, f"{name}_RING_SIZE")
            await self.write(base.name, base.encode(address=ring.buffer.address))
            await self.write(size.name, size.encode(entries=ring.entries))
        for index in range(self.rings["RES"].entries):
            self.rings["RES"].arm(index)
        await self.set_coalescing(*self._coalesce)
        await self.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1, pk=1))
        await self.write("RING_CTRL", BAR0.RING_CTRL.encode(enable=1))
        return lost

    async def set_coalescing(self, count: int, timeout_clocks: int) -> None:
        """Interrupt after ``count`` results (0 acts as 1) or ``timeout_clocks``
        PCI clocks after the first result not yet signalled (0: no timeout);
        kept across :meth:`reset`."""
        await self.write("COALESCE", _encode(BAR0.COALESCE, "coalescing", count=count, timeout=timeout_clocks))
        self._coalesce = (count, timeout_clocks)

    async def kick(self) -> None:
        """Make the card look at the rings again (``RING_CTRL.kick``; enable stays 1)."""
        await self.write("RING_CTRL", BAR0.RING_CTRL.encode(enable=1, kick=1))

    def _room(self) -> dict:
        """Free entries per ring under the driver's policy (see the module doc)."""
        rings = self.rings
        return {"CMD": rings["CMD"].entries - 1 - rings["CMD"].used,
                "SRC": rings["SRC"].entries - rings["SRC"].used,
                "DST": rings["DST"].entries - rings["DST"].used,
                "RES": rings["RES"].entries - len(self._in_flight)}

    # -- channels ------------------------------------------------------------

    def _channel_in_range(self, number: int) -> int:
        if not 0 <= number < self.identity.channels:
            raise InvalidArgument(f"channel {number}; expected 0 to {self.identity.channels - 1} "
                                  f"(the card has {self.identity.channels} channels)")
        return number

    def _free_channel(self) -> int:
        usable = min(self.identity.channels, NO_CHANNEL)
        for number in range(usable):
            if number not in self._channels:
                return number
        raise ChannelsExhausted(f"all {usable} channels of the card are open (CHANNELS.count = "
                                f"{self.identity.channels}); expected one to be closed before opening another")

    async def _write_context_config(self, number: int, config: int) -> None:
        await self.bus.mem_write(self._window("CONTEXT", number) + CONTEXT.CONFIG.offset, [config])

    async def _open(self, words: dict, config: int, make) -> Channel:
        """Write a context (every word but CONFIG, in bursts of consecutive
        registers, then CONFIG) into the lowest free channel."""
        number = self._free_channel()
        base = self._window("CONTEXT", number)
        regs = [reg for reg in CONTEXT if reg is not CONTEXT.CONFIG]
        run = [regs[0]]
        for reg in regs[1:] + [None]:
            if reg is not None and reg.offset == run[-1].offset + 4:
                run.append(reg)
                continue
            await self.bus.mem_write(base + run[0].offset, [words[r.name] for r in run])
            run = [reg]
        await self._write_context_config(number, config)
        channel = make(number)
        self._channels[number] = channel
        return channel

    async def open_cipher_channel(self, alg: CipherAlg, direction: Direction, key: bytes, *,
                                  mode: CipherMode = CipherMode.CBC, iv_source: IvSource = IvSource.PACKET,
                                  iv: bytes = b"") -> Channel:
        """Open a cipher channel in the lowest free number.

        ``key``: CIPHER_KEY_BYTES[alg] bytes (3DES K1‖K2‖K3, 2-key K1‖K2).
        ``iv``: ECB none; CBC with ``IvSource.CONTEXT`` one block (3DES
        outer: IV1‖IV2‖IV3); CBC with ``IvSource.PACKET`` none (3DES outer:
        IV2‖IV3). Raises :class:`InvalidKey`/:class:`InvalidArgument` for
        wrong sizes, :class:`ChannelsExhausted` when every channel is open.
        """
        words, config = cipher_context(alg, direction, key, mode, iv_source, iv)
        alg = CipherAlg(alg)
        return await self._open(words, config, lambda number: Channel(
            number, Service.CIPHER, alg, Direction(direction), block_bytes=CIPHER_BLOCK_BYTES[alg],
            mode=CipherMode(mode), iv_source=IvSource(iv_source)))

    async def open_mac_channel(self, alg: MacAlg, direction: Direction, key: bytes = b"", *,
                               icv_bytes: int | None = None) -> Channel:
        """Open a MAC channel in the lowest free number: HMAC with any key
        (the driver writes its pad states), DES-MAC with an 8-byte key,
        SHA1/MD5 (plain hash) with none; ``icv_bytes`` a multiple of 4 from 4
        to the digest size (default :data:`~.channels.DEFAULT_ICV_BYTES`:
        12 for HMAC, the whole digest otherwise)."""
        if icv_bytes is None:
            icv_bytes = DEFAULT_ICV_BYTES.get(alg, 12)
        words, config = mac_context(alg, direction, key, icv_bytes)
        return await self._open(words, config, lambda number: Channel(
            number, Service.MAC, MacAlg(alg), Direction(direction), icv_bytes=icv_bytes))

    async def open_comp_channel(self, direction: Direction, alg: CompAlg = CompAlg.LZS) -> Channel:
        """Open a compression channel in the lowest free number: ``direction``
        ENCODE for :meth:`compress`, DECODE for :meth:`decompress`; ``alg``
        LZS (the only one). The context is CONFIG alone."""
        words, config = comp_context(alg, direction)
        return await self._open(words, config, lambda number: Channel(
            number, Service.COMPRESSION, CompAlg(alg), Direction(direction)))

    async def close_channel(self, channel) -> None:
        """Close an open channel (a :class:`Channel` or its number): CONFIG = 0."""
        number = channel_number(channel)
        if number not in self._channels:
            raise InvalidArgument(f"channel {number} is not open; open channels: {sorted(self._channels)}")
        await self._write_context_config(number, 0)
        del self._channels[number]

    # -- jobs ----------------------------------------------------------------

    def _descriptors(self, job: Job) -> tuple:
        """``(command words without own and tag, source words, destination words)``."""
        def segments(pieces, what):
            words = []
            for i, (address, length) in enumerate(pieces):
                control = _encode(SEG.CONTROL, f"{what} segment length", length=length)
                words.append({"CONTROL": control | SEG.CONTROL.encode(last=int(i == len(pieces) - 1), own=1),
                              "ADDRESS": _encode(SEG.ADDRESS, f"{what} segment address", address=address)})
            return words
        control = _encode(CMD.CONTROL, "opcode or channel", opcode=job.opcode,
                          cipher_channel=channel_number(job.cipher), mac_channel=channel_number(job.mac),
                          comp_channel=channel_number(job.comp))
        command = {"CONTROL": control, "LENGTH": _encode(CMD.LENGTH, "command length", length=job.source_length),
                   "SKIP": _encode(CMD.SKIP, "command skip", skip=job.skip)}
        return (command, segments(job.source_segments(), "source"),
                segments(job.destination_segments(), "destination"))

    async def submit(self, jobs) -> list:
        """Hand a batch of :class:`Job` objects to the card: their source and
        destination segment descriptors, then their commands, then one kick.
        Assigns and returns their tags.

        Raises :class:`RingFull` (nothing of the batch written) if the
        command ring, a segment ring or the result slots lack room for the
        whole batch, and :class:`InvalidArgument` for values that do not fit
        a descriptor.
        """
        jobs = list(jobs)
        planned = [self._descriptors(job) for job in jobs]
        need = {"CMD": len(jobs), "SRC": sum(len(p[1]) for p in planned),
                "DST": sum(len(p[2]) for p in planned), "RES": len(jobs)}
        room = self._room()
        short = [f"{name} needs {need[name]} entries, {room[name]} free" for name in need if need[name] > room[name]]
        if short:
            self.driver_counters["ring_full"] += 1
            raise RingFull(f"a batch of {len(jobs)} job(s) does not fit the rings: {'; '.join(short)} "
                           f"({len(self._in_flight)} job(s) in flight); expected results collected first")
        placed = []
        for job, (_, sources, destinations) in zip(jobs, planned):
            job.tag = self._next_tag
            self._next_tag = self._next_tag % 0xFFFF_FFFF + 1
            placed.append((self._place("SRC", sources), self._place("DST", destinations)))
        for job, (command, _, _), (sources, destinations) in zip(jobs, planned, placed):
            self._place("CMD", [{**command, "CONTROL": command["CONTROL"] | CMD.CONTROL.encode(own=1),
                                 "TAG": CMD.TAG.encode(tag=job.tag)}])
            data = sum(n for _, n in job.source_segments()) + sum(n for _, n in job.destination_segments())
            self._in_flight.append(_InFlight(job, sources, destinations, data))
        self.driver_counters["jobs_submitted"] += len(jobs)
        await self.kick()
        return [job.tag for job in jobs]

    def _place(self, name: str, entries: list) -> tuple:
        """Write descriptors (``{register: word}`` each) at the next entries of a ring; their indices."""
        ring = self.rings[name]
        indices = tuple(ring.take(len(entries)))
        for index, words in zip(indices, entries):
            ring.write(index, **words)
        return indices

    async def collect(self, timeout_clocks: int | None = None) -> list:
        """Wait for INTA#, acknowledge INT_STATUS.result, and return the
        results the card has written, in ring order (each slot re-armed).
        Results collected earlier by :meth:`run` for other jobs come first,
        without waiting. Returns [] when nothing is in flight.

        ``timeout_clocks`` (default :func:`default_timeout` of the data in
        flight): raises :class:`CardTimeout` if no interrupt with new
        results comes in time. If the card stopped its rings, resets it
        (see :meth:`reset`) and raises :class:`RingAborted`.
        """
        async with self._collector:
            if self._unclaimed:
                results, self._unclaimed = self._unclaimed, []
                return results
            return await self._collect(timeout_clocks)

    async def _collect(self, timeout_clocks: int | None) -> list:
        if not self._in_flight:
            return []
        if timeout_clocks is None:
            timeout_clocks = default_timeout(sum(entry.data_bytes for entry in self._in_flight))
        deadline = self.bus.clocks() + timeout_clocks
        while (remaining := deadline - self.bus.clocks()) > 0:
            # Waits are cut into slices so that jobs another caller's reset
            # took (no interrupt will come for them) end the wait.
            if not await self.bus.wait_interrupt(min(remaining, RESET_CHECK_CLOCKS), self._device):
                if not self._in_flight:
                    return []
                continue
            events = await self.read_fields("INT_STATUS")
            if events["ring_error"]:
                await self._ring_aborted()
            if events["result"]:
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(result=1))
            results = await self._reap()
            if results:
                return results
        raise CardTimeout(await self._timeout_report(timeout_clocks))

    async def _timeout_report(self, timeout_clocks: int) -> str:
        indices = {name: (await self.read_fields(f"{name}_RING_INDEX"))["index"] for name in RINGS}
        return (f"no result signalled within {timeout_clocks} PCI clocks for {len(self._in_flight)} job(s) "
                f"in flight (oldest: {self._in_flight[0].job.describe() if self._in_flight else 'none'}); "
                "expected INTA# with "
                f"INT_STATUS.result (RING_STATUS {await self.read_fields('RING_STATUS')}, ring indices "
                f"{indices}, INT_STATUS {await self.read_fields('INT_STATUS')}, "
                f"INT_ENABLE {await self.read_fields('INT_ENABLE')}, "
                f"COALESCE {await self.read_fields('COALESCE')}, "
                f"interrupt_disable {(await self.config_status())['interrupt_disable']})")

    async def _reap(self) -> list:
        """Read the results the card has written (own = 0), oldest first; re-arm their slots."""
        ring = self.rings["RES"]
        results, seen = [], set()
        while self._in_flight:
            words = ring.read(ring.head)
            status = RESULT.STATUS.decode(words["STATUS"])
            if status["own"]:
                break
            entry = self._in_flight[0]
            tag = RESULT.TAG.decode(words["TAG"])["tag"]
            if tag != entry.job.tag:
                raise PacError(f"result slot {ring.head} holds tag {tag}; expected {entry.job.tag} "
                               f"({entry.job.describe()}, the oldest job in flight: results come in "
                               "command order)")
            echo = (status["opcode"], status["cipher_channel"], status["mac_channel"],
                    RESULT.BYTES.decode(words["BYTES"])["comp_channel"])
            sent = (entry.job.opcode, channel_number(entry.job.cipher), channel_number(entry.job.mac),
                    channel_number(entry.job.comp))
            if echo != sent:
                raise PacError(f"result slot {ring.head} echoes (opcode, cipher channel, MAC channel, "
                               f"compression channel) {echo}; expected {sent} from {entry.job.describe()}")
            try:
                code = ResultStatus(status["status"])
            except ValueError:
                raise PacError(f"result slot {ring.head} holds status {status['status']}; expected a "
                               f"ResultStatus ({entry.job.describe()})") from None
            ring.arm(ring.head)
            ring.head = (ring.head + 1) % ring.entries
            self._in_flight.popleft()
            self._release(entry)
            self._free_job_buffers(tag)
            address = RESULT.ADDRESS.decode(words["ADDRESS"])["address"] if code in _ADDRESSED else None
            results.append(JobResult(tag, code, RESULT.BYTES.decode(words["BYTES"])["bytes"], address, entry.job))
            seen.add(code)
        bits = [bit for code in seen for bit in _STATUS_BITS_OF_RESULT.get(code, ())]
        if bits:
            await self.clear_config_errors(*bits)
        self.driver_counters["results_collected"] += len(results)
        return results

    def _release(self, entry: _InFlight) -> None:
        """Give a collected job's ring entries back (segment entries zeroed)."""
        self.rings["CMD"].used -= 1
        for name, indices in (("SRC", entry.sources), ("DST", entry.destinations)):
            ring = self.rings[name]
            for index in indices:
                ring.write(index)
            ring.used -= len(indices)

    async def _ring_aborted(self):
        status = await self.read_fields("RING_STATUS")
        try:
            abort = ResultStatus(status["abort_status"])
        except ValueError:
            raise PacError(f"RING_STATUS {status}: abort_status is not a ResultStatus") from None
        lost = await self.reset()
        await self.clear_config_errors()
        self.driver_counters["ring_aborts"] += 1
        raise RingAborted(abort, lost)

    async def run(self, jobs, timeout_clocks: int | None = None) -> list:
        """Submit a batch and collect until each of its jobs has a result;
        returns them in submission order. Results of other jobs collected on
        the way are kept for :meth:`collect`. ``timeout_clocks`` applies to
        each wait (default from the data in flight); after a
        :class:`CardTimeout` the jobs stay in flight (collect them later, or
        :meth:`reset`).

        Safe for concurrent callers (tasks of one scheduler): one of them at
        a time waits for INTA# and reaps; results it reaps for the others
        wait for them in the unclaimed list. Jobs another caller's
        :meth:`reset` took come back with status
        ``DriverStatus.LOST_TO_RESET``."""
        jobs = list(jobs)
        tags = await self.submit(jobs)
        results = {}
        while len(results) < len(tags):
            async with self._collector:
                mine = [result for result in self._unclaimed if result.tag in tags]
                self._unclaimed = [result for result in self._unclaimed if result.tag not in tags]
                results.update((result.tag, result) for result in mine)
                in_flight = {entry.job.tag for entry in self._in_flight}
                if len(results) < len(tags) and not in_flight & set(tags):
                    # Neither reaped nor in flight: another caller's reset took them.
                    results.update((job.tag, JobResult(job.tag, DriverStatus.LOST_TO_RESET, 0, None, job))
                                   for job in jobs if job.tag not in results)
                elif len(results) < len(tags):
                    for result in await self._collect(timeout_clocks):
                        if result.tag in tags:
                            results[result.tag] = result
                        else:
                            self._unclaimed.append(result)
        return [results[tag] for tag in tags]

    # -- one-job conveniences -----------------------------------------------------

    async def copy(self, src, dst, length: int, *, timeout_clocks: int | None = None) -> CopyResult:
        """Copy ``length`` bytes of host memory from ``src`` to ``dst`` as one COPY job.

        ``src``/``dst`` are :class:`DmaBuffer` objects (copied from/to their
        start) or bus byte addresses. Returns a :class:`CopyResult`; raises
        :class:`JobFailed` with the card's status (segment refused, bad
        length, master/target abort, ...), :class:`CardTimeout` if no result
        is signalled in time, and :class:`InvalidArgument` for what the card
        cannot see (a buffer shorter than ``length``, a value that does not
        fit its field).
        """
        source = (self._dma_address(src, length, "source"), length)
        destination = (self._dma_address(dst, length, "destination"), length)
        start = self.bus.clocks()
        (result,) = await self.run([Job(Opcode.COPY, source, destination)], timeout_clocks)
        result.check()
        return CopyResult(bytes=result.bytes, clocks=self.bus.clocks() - start)

    async def encode(self, packet: bytes, *, skip: int = 0, cipher: Channel | None = None,
                     mac: Channel | None = None, comp: Channel | None = None,
                     timeout_clocks: int | None = None) -> bytes:
        """ENCODE one packet (bytes) through temporary host buffers; returns
        header + ciphertext + ICV. With ``comp`` (an ENCODE compression
        channel) the job is chained: the payload (any byte length) is
        LZS-compressed and zero-padded to the cipher block (4 bytes without
        a cipher) before it is encrypted and MACed. Raises :class:`JobFailed`
        unless OK."""
        icv = mac.icv_bytes if mac is not None else 0
        if comp is None:
            return await self._packet(Opcode.ENCODE, packet, len(packet) + icv, skip, cipher, mac, timeout_clocks)
        block = cipher.block_bytes if cipher is not None else 4
        output = skip + -(-lzs_bound(len(packet) - skip) // block) * block + icv
        return await self._packet(Opcode.ENCODE, packet, output, skip, cipher, mac, timeout_clocks, comp=comp)

    async def decode(self, packet: bytes, *, skip: int = 0, cipher: Channel | None = None,
                     mac: Channel | None = None, comp: Channel | None = None, limit: int | None = None,
                     timeout_clocks: int | None = None) -> bytes:
        """DECODE one packet (bytes, ICV at its end); returns header +
        plaintext. With ``comp`` (a DECODE compression channel) the job is
        chained: the decrypted payload is LZS-decompressed into at most
        ``limit`` bytes (header included; default 65536). Raises
        :class:`JobFailed` unless OK (MAC_MISMATCH: the output is dropped)."""
        if comp is None:
            output = len(packet) - (mac.icv_bytes if mac is not None else 0)
            return await self._packet(Opcode.DECODE, packet, output, skip, cipher, mac, timeout_clocks)
        limit = self._byte_limit(65536 if limit is None else limit, "decode limit")
        return await self._packet(Opcode.DECODE, packet, -(-limit // 4) * 4, skip, cipher, mac, timeout_clocks,
                                  comp=comp, limit=limit)

    async def hash(self, message: bytes, *, mac: Channel, timeout_clocks: int | None = None) -> bytes:
        """HASH one message of any length (bytes) with an ENCODE MAC channel:
        returns its ICV (a SHA1/MD5 channel: the digest; HMAC: the MAC, e.g.
        an IKE prf). Raises :class:`JobFailed` unless OK."""
        return await self._packet(Opcode.HASH, message, mac.icv_bytes, 0, None, mac, timeout_clocks)

    async def compress(self, data: bytes, *, channel: Channel, limit: int | None = None,
                       timeout_clocks: int | None = None) -> bytes:
        """COMPRESS one packet (bytes, any length from 0) with an ENCODE
        compression channel; returns the card's LZS stream (end marker and
        padding to a byte included, history empty per packet as IPComp uses
        it, RFC 2395). ``limit``: the longest stream wanted (default
        :func:`lzs_bound`, which always fits).

        Raises :class:`JobFailed` with ``OUTPUT_OVERFLOW`` when the stream
        is longer than ``limit``: the packet is not compressible into it
        (IPComp sends it uncompressed), and other statuses as the card
        reports them. The card's destination is ``limit`` rounded up to
        whole dwords; a stream in the rounding is refused by the driver with
        the same status.
        """
        limit = lzs_bound(len(data)) if limit is None else self._byte_limit(limit, "compress limit")
        return await self._lzs(Opcode.COMPRESS, data, limit, channel, timeout_clocks)

    async def decompress(self, stream: bytes, *, channel: Channel, limit: int,
                         timeout_clocks: int | None = None) -> bytes:
        """DECOMPRESS one LZS stream (bytes, any length) with a DECODE
        compression channel into at most ``limit`` bytes; returns the packet.

        Raises :class:`JobFailed` with ``STREAM_BAD_OFFSET`` or
        ``STREAM_TRUNCATED`` for a malformed stream and ``OUTPUT_OVERFLOW``
        when the packet is longer than ``limit`` (``bytes``: what the card
        wrote before it stopped). The card's destination is ``limit``
        rounded up to whole dwords; a packet in the rounding is refused by
        the driver with ``OUTPUT_OVERFLOW``.
        """
        limit = self._byte_limit(limit, "decompress limit")
        return await self._lzs(Opcode.DECOMPRESS, stream, limit, channel, timeout_clocks)

    @staticmethod
    def _byte_limit(limit, what: str) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit < 1 << SEG.CONTROL.length.width:
            raise InvalidArgument(f"{what} {limit!r}: expected a byte count from 0 to "
                                  f"{(1 << SEG.CONTROL.length.width) - 1}")
        return limit

    async def _lzs(self, opcode: Opcode, data: bytes, limit: int, channel, timeout_clocks) -> bytes:
        return await self._packet(opcode, data, -(-limit // 4) * 4, 0, None, None, timeout_clocks, comp=channel,
                                  limit=limit)

    async def _packet(self, opcode, packet, output, skip, cipher, mac, timeout_clocks, *, comp=None,
                      limit: int | None = None) -> bytes:
        """One job through temporary buffers: ``packet`` in, at most ``output``
        bytes out (``limit``: fewer bytes the caller accepts, a longer
        output is OUTPUT_OVERFLOW)."""
        padded = -(-len(packet) // 4) * 4                 # segments hold whole dwords
        source = self.bus.alloc(max(padded, 4))
        destination = self.bus.alloc(max(output, 4))
        job = None
        try:
            self.bus.host_write(source.address, bytes(packet))
            job = Job(opcode, (source.address, max(padded, 4)), (destination.address, max(output, 4 if comp else 0)),
                      length=len(packet), skip=skip, cipher=cipher, mac=mac, comp=comp)
            (result,) = await self.run([job], timeout_clocks)
            if limit is not None and result.bytes > limit and result.status in _LIMITED_STATUSES:
                raise JobFailed(ResultStatus.OUTPUT_OVERFLOW, job=job, bytes=result.bytes)
            result.check()
            return self.bus.host_read(destination.address, result.bytes)
        finally:
            self._give_back(job, source, destination)

    def _give_back(self, job: Job | None, *buffers: DmaBuffer) -> None:
        """Free a one-job call's temporary ``buffers``; while its ``job`` is
        still in flight (the call timed out), they stay the job's until its
        result is collected or the card is reset."""
        if job is not None and any(entry.job is job for entry in self._in_flight):
            self._job_buffers[job.tag] = buffers
            return
        for buffer in buffers:
            self.bus.free(buffer)

    def _free_job_buffers(self, tag: int) -> None:
        """Free the temporary buffers an ended job held (none for most jobs)."""
        for buffer in self._job_buffers.pop(tag, ()):
            self.bus.free(buffer)

    @staticmethod
    def _dma_address(where, length: int, what: str) -> int:
        if isinstance(where, DmaBuffer):
            if length > where.size:
                raise InvalidArgument(f"{what} buffer at {where.address:#010x} holds {where.size} bytes; "
                                      f"the copy needs {length}")
            where = where.address
        if not 0 <= where <= 0xFFFF_FFFF:
            raise InvalidArgument(f"{what} address {where:#x} is not a 32-bit bus address")
        return where

    # -- public-key unit -------------------------------------------------------------

    def _pk_window(self, slot: ModExpSlot) -> int:
        return self._window("PK_OPERANDS", slot)

    async def modexp(self, base: int, exponent: int, modulus: int, *, timeout_clocks: int | None = None) -> int:
        """``base ** exponent mod modulus`` on the card's public-key unit.

        ``modulus``: odd, above 1, at most ``32 * identity.pk_words`` bits
        (2048); ``base`` and ``exponent`` non-negative, the exponent at most
        as many bits (a base wider than the modulus' words is reduced by the
        driver first). The operands go into the PK_OPERANDS slots, PK_SIZE
        gets the modulus' words and the exponent's bit length, then
        ``PK_CONTROL.start``; the driver waits for ``INT_STATUS.pk`` (INTA#)
        and acknowledges it. ``timeout_clocks`` defaults to twice the
        engine's own count (:func:`~pacsim.hdl.engines.modexp.modexp_clocks`
        for a 32-bit multiplier, the slower build) plus a fixed allowance.

        Raises :class:`InvalidArgument` for operands the unit cannot take,
        :class:`PkFailed` (its ``status`` a
        :class:`~pacsim.hdl.engines.modexp.ModExpStatus`) when the operation
        ends otherwise than OK (e.g. TIMEOUT by ``PK_WATCHDOG``),
        :class:`CardTimeout` (after aborting the operation) when no end is
        signalled in time, and :class:`PacError` if the unit is busy with an
        operation the driver did not start.
        """
        max_bits = 32 * self.identity.pk_words
        for name, value in (("base", base), ("exponent", exponent), ("modulus", modulus)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(f"modexp {name} {value!r}: expected a non-negative integer")
        if max_bits == 0:
            raise InvalidArgument("the card has no public-key unit (PK_STATUS.max_words = 0)")
        if modulus < 3 or modulus % 2 == 0 or modulus.bit_length() > max_bits:
            what = "even" if modulus % 2 == 0 else "1" if modulus == 1 else f"{modulus.bit_length()} bits"
            raise InvalidArgument(f"modexp modulus ({what}): expected an odd modulus above 1 of at most "
                                  f"{max_bits} bits (PK_STATUS.max_words = {self.identity.pk_words})")
        if exponent.bit_length() > max_bits:
            raise InvalidArgument(f"modexp exponent of {exponent.bit_length()} bits: expected at most {max_bits} bits")
        words = -(-modulus.bit_length() // 32)
        if base >> (32 * words):
            base %= modulus
        exp_bits = exponent.bit_length()
        if timeout_clocks is None:
            timeout_clocks = TIMEOUT_BASE_CLOCKS + 2 * modexp_clocks(modulus.bit_length(), exp_bits, words=words,
                                                                     mul_bits=32)
        async with self._pk_lock:
            return await self._modexp(base, exponent, modulus, words, timeout_clocks)

    async def _modexp(self, base: int, exponent: int, modulus: int, words: int, timeout_clocks: int) -> int:
        """One operation on the public-key unit, its lock held."""
        exp_bits = exponent.bit_length()
        if (await self.read_fields("PK_STATUS"))["busy"]:
            raise PacError("the public-key unit is busy with an operation this driver did not start; "
                           "expected it idle (PK_CONTROL.abort stops it)")
        await self.bus.mem_write(self._pk_window(ModExpSlot.BASE), words_of(base, words))
        if exp_bits:
            await self.bus.mem_write(self._pk_window(ModExpSlot.EXPONENT), words_of(exponent, -(-exp_bits // 32)))
        await self.bus.mem_write(self._pk_window(ModExpSlot.MODULUS), words_of(modulus, words))
        await self.write("PK_SIZE", BAR0.PK_SIZE.encode(words=words, exp_bits=exp_bits))
        await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))        # no stale event
        await self.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))
        status = await self._pk_wait(timeout_clocks, words, exp_bits)
        if status["status"] != ModExpStatus.OK:
            raise PkFailed(ModExpStatus(status["status"]), clocks=await self.read("PK_CLOCKS"),
                           what=f"modular exponentiation ({32 * words}-bit modulus, {exp_bits}-bit exponent)")
        return value_of(await self.bus.mem_read(self._pk_window(ModExpSlot.RESULT), words))

    async def _pk_wait(self, timeout_clocks: int, words: int, exp_bits: int) -> dict:
        """Wait for INT_STATUS.pk (by INTA#; polling while INTA# is held by
        another event), acknowledge it and return PK_STATUS."""
        deadline = self.bus.clocks() + timeout_clocks
        while True:
            if (await self.read_fields("INT_STATUS"))["pk"]:
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
                return await self.read_fields("PK_STATUS")
            remaining = deadline - self.bus.clocks()
            if remaining <= 0:
                await self.write("PK_CONTROL", BAR0.PK_CONTROL.encode(abort=1))
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
                raise CardTimeout(f"the public-key unit did not end a {32 * words}-bit modular exponentiation "
                                  f"({exp_bits}-bit exponent) within {timeout_clocks} PCI clocks; expected "
                                  f"INT_STATUS.pk (the operation was aborted; PK_WATCHDOG "
                                  f"{await self.read('PK_WATCHDOG')}, INT_ENABLE "
                                  f"{await self.read_fields('INT_ENABLE')})")
            if not self.bus.interrupt_asserted(self._device):
                await self.bus.wait_interrupt(remaining, self._device)

    @staticmethod
    def _group(group) -> ModpGroup:
        if isinstance(group, ModpGroup):
            return group
        try:
            return GROUPS[group]
        except (KeyError, TypeError):
            raise InvalidArgument(f"Diffie-Hellman group {group!r}: expected one of {sorted(GROUPS)}") from None

    async def dh_keypair(self, group, *, private_bits: int | None = None) -> tuple:
        """A Diffie-Hellman key pair ``(private, public)`` in MODP ``group``
        (a number of :data:`~.pk.GROUPS` or a :class:`~.pk.ModpGroup`).

        The private exponent has exactly ``private_bits`` bits (default
        :data:`DH_PRIVATE_BITS`, 256, at most the prime's bits - 1): random
        bits from the card's generator (:meth:`random`) with the top bit set;
        ``public = g ** private mod p`` on the public-key unit.
        """
        group = self._group(group)
        bits = min(DH_PRIVATE_BITS, group.bits - 1) if private_bits is None else private_bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= group.bits - 1:
            raise InvalidArgument(f"private exponent of {bits!r} bits: expected 2 to {group.bits - 1} bits "
                                  f"for group {group.number}")
        raw = int.from_bytes(await self.random(-(-bits // 8)), "big")
        private = raw & ((1 << bits) - 1) | 1 << (bits - 1)
        return private, await self.modexp(group.generator, private, group.prime)

    async def dh_shared(self, group, private: int, peer_public: int) -> bytes:
        """The Diffie-Hellman shared secret ``peer_public ** private mod p``
        of MODP ``group``, as big-endian bytes left-padded with zeros to the
        prime's byte length (as ``cryptography``'s ``exchange`` returns it).
        ``peer_public`` must lie in 2 .. p - 2, ``private`` in 1 .. p - 2
        (:class:`InvalidArgument` otherwise)."""
        group = self._group(group)
        p = group.prime
        if isinstance(peer_public, bool) or not isinstance(peer_public, int) or not 2 <= peer_public <= p - 2:
            raise InvalidArgument(f"peer public value of group {group.number} out of range: expected "
                                  f"2 <= y <= p - 2 (RFC 2631 2.1.5, SP 800-56A 5.6.2.3.1)")
        if isinstance(private, bool) or not isinstance(private, int) or not 1 <= private <= p - 2:
            raise InvalidArgument(f"private exponent of group {group.number} out of range: expected 1 .. p - 2")
        secret = await self.modexp(peer_public, private, p)
        return secret.to_bytes((group.bits + 7) // 8, "big")

    # -- random number generator ----------------------------------------------------------

    async def rng_instantiate(self, seed_material: bytes) -> None:
        """Instantiate the card's CTR_DRBG (AES-256, no derivation function)
        from 48 bytes of ``seed_material`` (entropy input XOR personalization
        string, :func:`pacsim.host.drbg.seed_material` as bytes). The card has
        no entropy source: its output is exactly as unpredictable as this
        material. Raises :class:`RngFailed` if the card refuses
        (HEALTH_FAILED)."""
        seed = self._seed(seed_material)
        async with self._rng_lock:
            await self._rng_command(DrbgCommand.INSTANTIATE, seed)
            self._rng_seeded_by = "caller"

    async def rng_reseed(self, seed_material: bytes) -> None:
        """Reseed the card's generator with 48 bytes of ``seed_material``
        (entropy input XOR additional input). Raises :class:`RngFailed`
        (NOT_INSTANTIATED before :meth:`rng_instantiate`)."""
        seed = self._seed(seed_material)
        async with self._rng_lock:
            await self._rng_command(DrbgCommand.RESEED, seed)

    async def random(self, count: int, *, job: bool = False) -> bytes:
        """``count`` random bytes from the card's generator: through the RNG
        registers, one 128-bit GENERATE request per 16 bytes (the last block
        cut to size), or with ``job`` by RANDOM commands on the rings (one
        GENERATE request of up to ``RANDOM_MAX_BYTES`` each, written to host
        memory by DMA; the ring's result says ``RNG_FAILED`` if the generator
        refuses, raised as :class:`JobFailed`).

        The card has no entropy source: unless :meth:`rng_instantiate` was
        called since the last reset, the driver instantiates the generator
        itself from ``os.urandom`` (48 bytes of seed material), and reseeds
        it from ``os.urandom`` when the card asks (RESEED_REQUIRED). Raises
        :class:`RngFailed` for the card's other refusals (and
        RESEED_REQUIRED of a caller-seeded generator)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidArgument(f"random byte count {count!r}: expected a non-negative integer")
        async with self._rng_lock:
            return await self._random(count, job)

    async def _random(self, count: int, job: bool) -> bytes:
        """:meth:`random` with the generator's lock held."""
        if count and self._rng_seeded_by is None:
            await self._rng_command(DrbgCommand.INSTANTIATE, os.urandom(SEED_BYTES))
            self._rng_seeded_by = "driver"
        if job:
            return await self._random_jobs(count)
        output = bytearray()
        while len(output) < count:
            try:
                await self._rng_command(DrbgCommand.GENERATE)
            except RngFailed as error:
                if error.status is not DrbgStatus.RESEED_REQUIRED or self._rng_seeded_by != "driver":
                    raise
                await self._rng_command(DrbgCommand.RESEED, os.urandom(SEED_BYTES))
                continue
            words = await self.bus.mem_read(self._bar0 + BAR0.RNG_OUTPUT0.offset, BLOCK_BYTES // 4)
            output += b"".join(word.to_bytes(4, "little") for word in words)
        return bytes(output[:count])

    async def _random_jobs(self, count: int) -> bytes:
        output = bytearray()
        while len(output) < count:
            size = min(count - len(output), RANDOM_MAX_BYTES)
            destination = self.bus.alloc(-(-size // 4) * 4)
            job = Job(Opcode.RANDOM, [], destination, length=size)
            try:
                (result,) = await self.run([job])
                result.check()
                output += self.bus.host_read(destination.address, size)
            finally:
                self._give_back(job, destination)
        return bytes(output)

    @staticmethod
    def _seed(seed_material) -> bytes:
        if not isinstance(seed_material, (bytes, bytearray)) or len(seed_material) != SEED_BYTES:
            size = len(seed_material) if isinstance(seed_material, (bytes, bytearray)) else type(seed_material).__name__
            raise InvalidArgument(f"seed material of {size} bytes: expected exactly {SEED_BYTES} bytes "
                                  "(seedlen = 384 bits, CTR_DRBG AES-256 without derivation function)")
        return bytes(seed_material)

    async def _rng_status(self, done) -> dict:
        """Poll RNG_STATUS until ``done(fields)``; CardTimeout after RNG_TIMEOUT_CLOCKS."""
        deadline = self.bus.clocks() + RNG_TIMEOUT_CLOCKS
        while not done(fields := await self.read_fields("RNG_STATUS")):
            if self.bus.clocks() >= deadline:
                raise CardTimeout(f"RNG_STATUS {fields} for {RNG_TIMEOUT_CLOCKS} PCI clocks; expected the "
                                  "random number generator to finish its command")
        return fields

    async def _rng_command(self, command: DrbgCommand, seed: bytes | None = None) -> dict:
        """Run one generator command (seed material into RNG_SEED first, zeroed
        after); its RNG_STATUS, or :class:`RngFailed`."""
        await self._rng_status(lambda f: not f["busy"])          # e.g. the self-test after a reset
        seed_address = self._bar0 + BAR0.RNG_SEED0.offset
        if seed is not None:
            await self.bus.mem_write(seed_address, [int.from_bytes(seed[k:k + 4], "little")
                                                    for k in range(0, SEED_BYTES, 4)])
        await self.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=command, start=1))
        if command is DrbgCommand.GENERATE:
            status = await self._rng_status(lambda f: not f["busy"] and (f["valid"] or f["status"]))
        else:
            status = await self._rng_status(lambda f: not f["busy"])
        if seed is not None:
            await self.bus.mem_write(seed_address, [0] * (SEED_BYTES // 4))
        if status["status"] != DrbgStatus.OK:
            raise RngFailed(DrbgStatus(status["status"]), command=command)
        return status
