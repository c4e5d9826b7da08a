# Ref: PCI Local Bus Specification 2.3, sections 2.2.6 (INTA#), 3.2 (bus commands), 6.1 (configuration space)
"""The abstract PCI bus the host driver is written against.

Two implementations exist: :class:`pacsim.sim.rtl_bus.RtlBus` (cocotb, the
PCI bus model and the card's RTL) and :class:`pacsim.sim.model_bus.ModelBus`
(a behavioural card model, no simulator). The driver sees only this class.

All methods that take bus time are coroutines, awaited under cocotb's
scheduler on the RTL bus and under ``asyncio`` on the model bus; the driver
must therefore await nothing but these methods. Time is counted in PCI
clocks (30 ns at 33 MHz).
"""
import abc
from dataclasses import dataclass

__all__ = ["PciBus", "DmaBuffer", "BusError", "MasterAbort", "TargetAbort", "RetryLimit"]


class BusError(Exception):
    """A host-initiated PCI transaction failed."""


class MasterAbort(BusError):
    """No device claimed the transaction (no DEVSEL#)."""


class TargetAbort(BusError):
    """The target claimed the transaction and then aborted it."""


class RetryLimit(BusError):
    """The target kept answering Retry past the host bridge's retry limit."""


@dataclass(frozen=True)
class DmaBuffer:
    """A region of host memory the card may read or write by DMA.

    ``address`` is the bus (= physical) byte address, ``size`` in bytes.
    """
    address: int
    size: int

    def __contains__(self, address: int) -> bool:
        return self.address <= address < self.address + self.size


class PciBus(abc.ABC):
    """Host side of one conventional PCI bus segment (bus 0).

    Configuration accesses name the device number (0-20, the IDSEL line
    AD[11 + device]) and a dword-aligned register offset. A configuration
    read that no device claims returns 0xFFFFFFFF, as a host bridge does.
    Memory accesses are dword-granular; ``byte_enables`` are active-high.

    Each device's INTA# reaches the host on its own interrupt line (the
    platform's interrupt router gives each slot its own input), so the
    interrupt methods take the ``device`` whose line is meant; ``None``
    means any line. BAR addresses come from the platform's resource
    allocator, :meth:`assign_mmio`, so several cards never overlap.
    """

    #: Device numbers a type-0 configuration scan may probe.
    DEVICES = range(21)

    @abc.abstractmethod
    async def reset(self, clocks: int = 16) -> None:
        """Assert RST# for ``clocks`` PCI clocks, then release it."""

    @abc.abstractmethod
    async def config_read(self, device: int, offset: int) -> int:
        """Read one configuration dword; 0xFFFFFFFF if no device answers."""

    @abc.abstractmethod
    async def config_write(self, device: int, offset: int, value: int, byte_enables: int = 0xF) -> None:
        """Write one configuration dword (silently dropped if no device answers)."""

    @abc.abstractmethod
    async def mem_read(self, address: int, count: int = 1) -> list:
        """Read ``count`` consecutive dwords (a burst where the bus allows)."""

    @abc.abstractmethod
    async def mem_write(self, address: int, values, byte_enables: int = 0xF) -> None:
        """Write consecutive dwords (a burst where the bus allows)."""

    @abc.abstractmethod
    def alloc(self, size: int, align: int = 64) -> DmaBuffer:
        """Allocate host memory for DMA (zero-filled)."""

    @abc.abstractmethod
    def free(self, buffer: DmaBuffer) -> None:
        """Return host memory allocated by :meth:`alloc`."""

    @abc.abstractmethod
    def host_write(self, address: int, data: bytes) -> None:
        """CPU store into host memory (no bus time)."""

    @abc.abstractmethod
    def host_read(self, address: int, length: int) -> bytes:
        """CPU load from host memory (no bus time)."""

    @abc.abstractmethod
    def mmio_window(self) -> tuple:
        """``(base, size)`` of the address range the host may assign to BARs."""

    def assign_mmio(self, device: int, size: int) -> int:
        """The platform's address for a BAR of ``size`` bytes (a power of two)
        of ``device``: the lowest ``size``-aligned range of :meth:`mmio_window`
        that no other device holds. A device asking again gets its range
        back (re-probing it after a reset); asking with another size
        releases its old range first. Raises ValueError when the window is full.
        """
        if size <= 0 or size & (size - 1):
            raise ValueError(f"BAR size {size:#x}: expected a power of two")
        held = self.__dict__.setdefault("_mmio_ranges", {})
        if device in held and held[device][1] == size:
            return held[device][0]
        held.pop(device, None)
        base, window = self.mmio_window()
        address = -(-base // size) * size
        for start, length in sorted(held.values()):
            if address + size <= start:
                break
            address = max(address, -(-(start + length) // size) * size)
        if address + size > base + window:
            raise ValueError(f"no {size}-byte aligned range left for device {device} in the MMIO window "
                             f"{base:#010x}+{window:#x} (held: {sorted(held.values())})")
        held[device] = (address, size)
        return address

    @abc.abstractmethod
    def new_lock(self):
        """A lock (``async with``) for tasks of the scheduler this bus runs
        under (cocotb's or asyncio's), for drivers with concurrent callers."""

    @abc.abstractmethod
    async def wait_interrupt(self, timeout_clocks: int, device: int | None = None) -> bool:
        """Wait until ``device``'s INTA# (any, for None) is asserted; False if
        ``timeout_clocks`` pass first."""

    @abc.abstractmethod
    def interrupt_asserted(self, device: int | None = None) -> bool:
        """``device``'s INTA# level now (any line asserted, for None)."""

    def annotate(self, **fields) -> None:
        """Tell the waveform which job, channel, packet or phase the bus
        traffic from now on serves (names and shapes:
        ``pacsim.sim.annotations.ANNOTATIONS``, e.g. ``job=tag,
        opcode=Opcode.COPY``). Buses without waveforms ignore it."""

    @abc.abstractmethod
    def clocks(self) -> int:
        """PCI clocks elapsed since the bus was created."""
