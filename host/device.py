"""The PAC host driver: finds the card on a :class:`PciBus` and runs its commands.

The driver awaits nothing but :class:`PciBus` methods, so the same code runs
under cocotb against the RTL and under ``asyncio`` against the behavioural
model. Every register offset and bit position comes from
:mod:`pacsim.hdl.regmap`. Addresses are bus byte addresses, lengths are
bytes, times are PCI clocks.

The driver does not pre-check what the card itself validates (alignment,
length, bus mastering, a command already running): those reach the card and
come back as :class:`DmaFailed` with the card's error code.
"""
from dataclasses import dataclass

from ..hdl.regmap import BAR0, CONFIG, IDENTITY, PCI_IDS, VERSION, Access, DmaError
from .bus import DmaBuffer, PciBus
from .errors import CardNotFound, CardTimeout, DmaFailed, PacError, UnsupportedCard

__all__ = ["PacDevice", "CardIdentity", "CopyResult", "COUNTERS", "default_copy_timeout"]

#: BAR0 registers :meth:`PacDevice.counters` reports (event counters since reset).
COUNTERS = ("DMA_TRANSACTIONS", "DMA_RETRIES", "DMA_DISCONNECTS",
            "DMA_LATENCY_EXPIRIES", "PCI_PARITY_ERRORS")

#: PCI clocks allowed for CONTROL.reset to complete (the RTL needs 32 plus retries).
RESET_TIMEOUT_CLOCKS = 2_000
#: Default copy timeout: a fixed allowance plus a per-word allowance, in PCI
#: clocks; several times what a copy takes with retries and disconnects.
COPY_TIMEOUT_BASE_CLOCKS = 10_000
COPY_TIMEOUT_CLOCKS_PER_WORD = 16

#: Config status bits a failed DMA command sets, which :meth:`PacDevice.copy` clears.
#: Codes with which the card refuses a start (nothing was moved).
_REFUSALS = (DmaError.BUSY, DmaError.BUS_MASTER_OFF, DmaError.BAD_ALIGNMENT, DmaError.BAD_LENGTH)

_STATUS_BITS_OF_ERROR = {
    DmaError.MASTER_ABORT: ("received_master_abort",),
    DmaError.TARGET_ABORT: ("received_target_abort",),
    DmaError.PARITY: ("master_data_parity_error", "detected_parity_error"),
}

_BAR0_REGISTERS = {reg.name: reg for reg in BAR0}
_CONFIG_REGISTERS = {reg.name: reg for reg in CONFIG}


def default_copy_timeout(length: int) -> int:
    """PCI clocks :meth:`PacDevice.copy` waits for a ``length``-byte copy by default."""
    return COPY_TIMEOUT_BASE_CLOCKS + COPY_TIMEOUT_CLOCKS_PER_WORD * (max(length, 0) // 4)


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


@dataclass(frozen=True)
class CardIdentity:
    """What the card says it is.

    ``vendor_id``/``device_id``/``revision_id``/``class_code`` come from its
    configuration header, ``version`` is ``(major, minor, patch)`` of its
    register map, ``caps`` the decoded CAPS register (``burst_words`` in
    32-bit words), ``bar0_size`` the size of its register BAR in bytes.
    """
    vendor_id: int
    device_id: int
    revision_id: int
    class_code: int
    version: tuple
    caps: dict
    bar0_size: int


@dataclass(frozen=True)
class CopyResult:
    """Outcome of a completed copy: ``bytes`` copied and the PCI ``clocks`` it
    took, from programming the registers to reading back the completion."""
    bytes: int
    clocks: int


class PacDevice:
    """One PAC on a :class:`PciBus` (``bus``). Create it with :meth:`probe`."""

    def __init__(self, bus: PciBus, device: int, bar0: int, identity: CardIdentity):
        """Wrap an already configured card; use :meth:`probe` instead."""
        self.bus = bus
        self._device = device
        self._bar0 = bar0
        self._identity = identity

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
        """Identity, version and capabilities read at probe time."""
        return self._identity

    # -- discovery ---------------------------------------------------------

    @classmethod
    async def probe(cls, bus: PciBus, *, latency_timer: int = 64,
                    cache_line_dwords: int = 16) -> "PacDevice":
        """Find the card, configure it and return a ready driver.

        Scans ``bus.DEVICES`` for the PCI_IDS vendor/device, sizes BAR0 and
        assigns it at the first suitably aligned address of the MMIO window,
        sets the latency timer (PCI clocks) and cache line size (dwords),
        enables memory space, bus mastering, parity error response and SERR#,
        checks IDENT and the register-map major version, reads CAPS, resets
        the card and enables its interrupts.

        Raises :class:`CardNotFound` if no device matches and
        :class:`UnsupportedCard` if the card is not one this driver speaks.
        """
        device = await cls._find(bus)
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
            version=version, caps=await dev.read_fields("CAPS"), bar0_size=bar0_size)
        await dev.clear_config_errors()
        await dev.reset()
        return dev

    @staticmethod
    async def _find(bus: PciBus) -> int:
        seen = []
        for device in bus.DEVICES:
            ids = CONFIG.ID.decode(await bus.config_read(device, CONFIG.ID.offset))
            if ids["vendor_id"] == PCI_IDS["vendor_id"] and ids["device_id"] == PCI_IDS["device_id"]:
                return device
            if ids["vendor_id"] != 0xFFFF:
                seen.append(f"{device}: {ids['vendor_id']:#06x}/{ids['device_id']:#06x}")
        found = "; found " + ", ".join(seen) if seen else "; no device answered"
        raise CardNotFound(
            f"no PAC (vendor {PCI_IDS['vendor_id']:#06x}, device {PCI_IDS['device_id']:#06x}) "
            f"among devices {bus.DEVICES.start}-{bus.DEVICES.stop - 1} of bus 0{found}")

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
        base, window = bus.mmio_window()
        address = -(-base // size) * size
        if address + size > base + window:
            raise PacError(f"BAR0 of {size} bytes does not fit the MMIO window "
                           f"{base:#010x}+{window:#x} at a {size}-byte aligned address")
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

    async def counters(self) -> dict:
        """Event counters since the last reset: ``{register name: count}``."""
        return {name: await self.read(name) for name in COUNTERS}

    # -- commands ----------------------------------------------------------

    async def reset(self) -> None:
        """Reset the card's registers and engines (CONTROL.reset), wait until
        DMA_STATUS reads idle, then enable the copy_done and dma_error interrupts.

        Raises :class:`CardTimeout` if the card is still busy after
        ``RESET_TIMEOUT_CLOCKS`` PCI clocks.
        """
        await self.write("CONTROL", BAR0.CONTROL.encode(reset=1))
        deadline = self.bus.clocks() + RESET_TIMEOUT_CLOCKS
        while (status := await self.read_fields("DMA_STATUS"))["busy"]:
            if self.bus.clocks() > deadline:
                raise CardTimeout(f"DMA_STATUS still reads busy {RESET_TIMEOUT_CLOCKS} PCI clocks "
                                  f"after CONTROL.reset ({status}); expected busy = 0")
        await self.write("INT_ENABLE", BAR0.INT_ENABLE.encode(copy_done=1, dma_error=1))

    async def copy(self, src, dst, length: int, *, timeout_clocks: int | None = None) -> CopyResult:
        """Copy ``length`` bytes of host memory from ``src`` to ``dst`` by the card's DMA.

        ``src``/``dst`` are :class:`DmaBuffer` objects (copied from/to their
        start) or bus byte addresses. Waits for INTA# at most
        ``timeout_clocks`` PCI clocks (default :func:`default_copy_timeout`),
        acknowledges the interrupt and returns a :class:`CopyResult`.

        Raises :class:`DmaFailed` with the card's error code (rejected command,
        master/target abort, parity), :class:`CardTimeout` if no completion is
        signalled in time, and ValueError for what the card cannot see (a
        buffer shorter than ``length``, a value that does not fit its register).
        """
        src_address = self._dma_address(src, length, "source")
        dst_address = self._dma_address(dst, length, "destination")
        length_word = self._length_word(length)
        timeout = default_copy_timeout(length) if timeout_clocks is None else timeout_clocks
        start = self.bus.clocks()
        both = BAR0.INT_STATUS.encode(copy_done=1, dma_error=1)
        await self.write("INT_STATUS", both)   # drop events nobody acknowledged
        await self.write("COPY_SRC", BAR0.COPY_SRC.encode(address=src_address))
        await self.write("COPY_DST", BAR0.COPY_DST.encode(address=dst_address))
        await self.write("COPY_LEN", length_word)
        await self.write("COPY_CTRL", BAR0.COPY_CTRL.encode(start=1))
        events = await self._wait_events(start + timeout, src_address, dst_address, length, timeout)
        await self.write("INT_STATUS", BAR0.INT_STATUS.encode(**events))
        status = await self.read_fields("DMA_STATUS")
        done = (await self.read_fields("DMA_COUNT"))["bytes"]
        code = DmaError(status["error"])
        if events["dma_error"]:
            if code is DmaError.NONE:
                raise PacError(f"INT_STATUS.dma_error set but DMA_STATUS.error reads NONE "
                               f"({status}); expected an error code")
            address = None
            if code in _STATUS_BITS_OF_ERROR:
                address = (await self.read_fields("DMA_ERROR_ADDR"))["address"]
                await self.clear_config_errors(*_STATUS_BITS_OF_ERROR[code])
            # A refused start moved nothing; DMA_COUNT then belongs to the
            # command that is still running (BUSY) or to none.
            if code in _REFUSALS:
                done = 0
            raise DmaFailed(code, src=src_address, dst=dst_address, length=length,
                            address=address, bytes_done=done)
        if status["busy"] or done != length:
            raise PacError(f"copy signalled completion with DMA_STATUS {status} and "
                           f"DMA_COUNT {done}; expected busy 0 and {length} bytes")
        return CopyResult(bytes=done, clocks=self.bus.clocks() - start)

    async def _wait_events(self, deadline: int, src: int, dst: int, length: int, timeout: int) -> dict:
        """Wait for INTA# with copy_done or dma_error pending; returns the INT_STATUS fields."""
        while (remaining := deadline - self.bus.clocks()) > 0 and await self.bus.wait_interrupt(remaining):
            events = await self.read_fields("INT_STATUS")
            if events["copy_done"] or events["dma_error"]:
                return events
        status = await self.read_fields("DMA_STATUS")
        raise CardTimeout(
            f"copy of {length} bytes from {src:#010x} to {dst:#010x} not signalled within "
            f"{timeout} PCI clocks; expected INTA# with INT_STATUS.copy_done or dma_error "
            f"(DMA_STATUS {status}, DMA_COUNT {await self.read('DMA_COUNT')}, "
            f"INT_STATUS {await self.read_fields('INT_STATUS')}, "
            f"INT_ENABLE {await self.read_fields('INT_ENABLE')}, "
            f"interrupt_disable {(await self.config_status())['interrupt_disable']})")

    @staticmethod
    def _dma_address(where, length: int, what: str) -> int:
        if isinstance(where, DmaBuffer):
            if length > where.size:
                raise ValueError(f"{what} buffer at {where.address:#010x} holds {where.size} bytes; "
                                 f"the copy needs {length}")
            where = where.address
        if not 0 <= where <= 0xFFFF_FFFF:
            raise ValueError(f"{what} address {where:#x} is not a 32-bit bus address")
        return where

    @staticmethod
    def _length_word(length: int) -> int:
        try:
            return BAR0.COPY_LEN.encode(length=length)
        except ValueError:
            raise ValueError(f"length {length} bytes does not fit COPY_LEN; expected 0 to "
                             f"{(1 << BAR0.COPY_LEN.length.width) - 1} bytes") from None
