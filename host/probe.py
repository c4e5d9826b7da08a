# Ref: PCI Local Bus Specification 2.3, sections 6.1 (configuration header), 6.2.5 (base address registers)
# Ref: docs/rings.md "Counters"
"""Finding and configuring the card, and its registers: the type-0
configuration scan, BAR0 sizing and assignment, COMMAND/STATUS, IDENT and
VERSION checks, named BAR0 and configuration register access, and the
card's event, channel and algorithm counters.

:class:`CardAccess` is the part of :class:`~.device.PacDevice` that holds
these; its ``bus`` is the :class:`PciBus`, ``_device`` the device number
(IDSEL) and ``_bar0`` the bus byte address of BAR0. Register names are those
of :mod:`pacsim.contract.regmap`; values are 32-bit register words.
"""
from dataclasses import dataclass

from ..contract.codes import AlgUnit
from ..contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CMD, RESULT, SEG
from ..contract.regmap import BAR0, CONFIG, IDENTITY, PCI_IDS, RING_SIZES, RINGS, VERSION, WINDOWS, Access
from .bus import PciBus
from .arguments import integer, named
from .errors import CardNotFound, InvalidArgument, PacError, UnknownName, UnsupportedCard
from .jobs import channel_number
from .rings import Ring

__all__ = ["CardAccess", "CardIdentity", "COUNTERS", "byte_enables", "encode_fields"]

#: BAR0 registers :meth:`CardAccess.counters` reports (event counters since reset).
COUNTERS = ("JOBS", "DMA_TRANSACTIONS", "DMA_RETRIES", "DMA_DISCONNECTS",
            "DMA_LATENCY_EXPIRIES", "PCI_PARITY_ERRORS")
_RING_LAYOUT = {"CMD": CMD, "SRC": SEG, "DST": SEG, "RES": RESULT}

_BAR0_REGISTERS = {reg.name: reg for reg in BAR0}
_CONFIG_REGISTERS = {reg.name: reg for reg in CONFIG}


def byte_enables(reg, *field_names) -> int:
    """Active-high byte enables covering the named fields of ``reg``."""
    mask = 0
    for f in reg.fields:
        if f.name in field_names:
            mask |= f.mask
    return sum(1 << byte for byte in range(4) if mask >> (8 * byte) & 0xFF)


def encode_fields(reg, what: str, **values) -> int:
    """``reg.encode(**values)``; :class:`InvalidArgument` naming ``what``
    (and the field, when there are several) and the field's range for a
    value that is not an integer or does not fit its field."""
    word = 0
    for name, value in values.items():
        f = getattr(reg, name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << f.width:
            label = what if len(values) == 1 else f"{what} {name}"
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"{label} {value!r}: expected an integer from 0 to {(1 << f.width) - 1}")
            raise InvalidArgument(f"{label} {value} does not fit {f.width} bits; expected 0 to {(1 << f.width) - 1}")
        word |= int(value) << f.offset
    return word


def _pci_bus(bus) -> PciBus:
    """``bus`` if it is a :class:`PciBus`."""
    if not isinstance(bus, PciBus):
        raise InvalidArgument(f"bus {bus!r}: expected a PciBus (RtlBus or ModelBus)")
    return bus


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


class CardAccess:
    """Probing, configuration space, BAR0 registers and counters of one card
    (a part of :class:`~.device.PacDevice`)."""

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
        _pci_bus(bus)
        entries = {"CMD": command_entries, "SRC": segment_entries, "DST": segment_entries,
                   "RES": result_entries}
        for name, count in entries.items():
            if isinstance(count, bool) or not isinstance(count, int) or count not in RING_SIZES:
                raise InvalidArgument(f"{name} ring of {count} entries; expected a power of two "
                                      f"from {RING_SIZES[0]} to {RING_SIZES[-1]}")
        timing = CONFIG.BIST_HEADER_LATENCY_CACHE
        timing_word = timing.encode(latency_timer=integer(latency_timer, "probe latency_timer (PCI clocks)", 0, 255),
                                    cache_line_size=integer(cache_line_dwords, "probe cache_line_dwords", 0, 255))
        encode_fields(BAR0.COALESCE, "probe coalesce", count=coalesce_count, timeout=coalesce_timeout)
        device = await cls._find(bus, device)
        command = CONFIG.COMMAND_STATUS
        command_bytes = byte_enables(command, *(f.name for f in command.fields if f.access is Access.RW))
        await bus.config_write(device, command.offset, 0, command_bytes)   # no decoding while sizing
        bar0, bar0_size = await cls._assign_bar0(bus, device)
        await bus.config_write(
            device, timing.offset, timing_word,
            byte_enables(timing, "latency_timer", "cache_line_size"))
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
        return [device for device, ids in await CardAccess._scan(_pci_bus(bus)) if CardAccess._is_pac(ids)]

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
                raise InvalidArgument(f"device {wanted!r}: expected a device number "
                                      f"{bus.DEVICES.start}-{bus.DEVICES.stop - 1}")
            ids = CONFIG.ID.decode(await bus.config_read(wanted, CONFIG.ID.offset))
            if CardAccess._is_pac(ids):
                return wanted
            seen = [(wanted, ids)] if ids["vendor_id"] != 0xFFFF else []
            where = f"at device {wanted}"
        else:
            seen = await CardAccess._scan(bus)
            for device, ids in seen:
                if CardAccess._is_pac(ids):
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

    async def read(self, reg_name: str) -> int:
        """Read the BAR0 register ``reg_name`` (a name from regmap.BAR0)."""
        reg = named(_BAR0_REGISTERS, "BAR0", reg_name)
        return (await self.bus.mem_read(self._bar0 + reg.offset))[0]

    async def write(self, reg_name: str, value: int) -> None:
        """Write the 32-bit ``value`` to the BAR0 register ``reg_name``."""
        reg = named(_BAR0_REGISTERS, "BAR0", reg_name)
        integer(value, f"{reg_name} value (a 32-bit register word)", 0, 0xFFFF_FFFF)
        await self.bus.mem_write(self._bar0 + reg.offset, [value])

    async def read_fields(self, reg_name: str) -> dict:
        """Read the BAR0 register ``reg_name`` decoded as ``{field: value}``."""
        reg = named(_BAR0_REGISTERS, "BAR0", reg_name)
        return reg.decode(await self.read(reg_name))

    async def config_read(self, reg_name: str) -> int:
        """Read the configuration register ``reg_name`` (a name from regmap.CONFIG)."""
        reg = named(_CONFIG_REGISTERS, "configuration space", reg_name)
        return await self.bus.config_read(self._device, reg.offset)

    async def config_write(self, reg_name: str, value: int, byte_enables: int = 0xF) -> None:
        """Write the configuration register ``reg_name`` (active-high byte enables)."""
        reg = named(_CONFIG_REGISTERS, "configuration space", reg_name)
        integer(value, f"{reg_name} value (a 32-bit register word)", 0, 0xFFFF_FFFF)
        integer(byte_enables, f"{reg_name} byte_enables (active high)", 0, 0xF)
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
            raise UnknownName(f"not writable COMMAND bits: {', '.join(sorted(unknown))}; "
                              f"expected some of {', '.join(writable)}")
        for name, value in bits.items():
            integer(value, f"COMMAND bit {name}", 0, 1)
        current = await self.config_status()
        values = {name: bits.get(name, current[name]) for name in writable}
        await self.config_write("COMMAND_STATUS", reg.encode(**values),
                                byte_enables(reg, *writable))

    async def clear_config_errors(self, *names: str) -> None:
        """Clear RW1C status bits of COMMAND_STATUS: the ``names`` given, or all of them."""
        reg = CONFIG.COMMAND_STATUS
        clearable = tuple(f.name for f in reg.fields if f.access is Access.RW1C)
        unknown = [name for name in names if name not in clearable]
        if unknown:
            raise UnknownName(f"not RW1C status bits: {', '.join(map(repr, unknown))}; "
                              f"expected some of {', '.join(clearable)}")
        names = names or clearable
        await self.config_write("COMMAND_STATUS", reg.encode(**{name: 1 for name in names}),
                                byte_enables(reg, *names))

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
