# Ref: host/bus.py (the PciBus interface it implements); PCI Local Bus Specification 2.3, chapter 6 (configuration space)
"""A :class:`PciBus` with the behavioural card model and no simulator.

Host memory is a bytearray at bus address 0; the card model sits at one
device number; a virtual PCI clock advances by the cost of every transaction
(:class:`~.pci_costs.PciCosts`). Memory faults can be injected so the
driver's DMA error paths run on the model too.

Simplifications, by design: host and card transactions do not contend for
the bus (a host access during a copy does not delay it); the host memory
never retries and never has parity errors, so the card's DMA_RETRIES,
DMA_LATENCY_EXPIRIES and PCI_PARITY_ERRORS stay 0; DMA_DISCONNECTS counts the
disconnects of bursts that run past the end of claimed memory.
"""
import asyncio
import struct

from ..contract.build import BUILD
from ..contract.regmap import BAR0
from ..host.bus import DmaBuffer, MasterAbort, PciBus
from .allocator import Allocator
from .card_model import Burst, CardModel, Termination
from .pci_costs import COSTS, PciCosts

__all__ = ["ModelBus", "HostMemory", "PciCosts", "COSTS"]


async def _yield() -> None:
    """Let other tasks of the event loop run, where the RTL bus would wait
    for its clock (every host transaction and interrupt wait). Under
    another scheduler (cocotb runs a model card beside the RTL one in the
    differential and router co-simulations) there is no asyncio loop to
    yield to, and the bus does not yield."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    await asyncio.sleep(0)


class HostMemory:
    """Host DRAM behind the host bridge, the target of the card's DMA.

    It claims every address below ``size`` except the injected master-abort
    ranges, target-aborts the data phases in injected target-abort ranges,
    and disconnects a burst at the first data phase it does not claim.
    Data is little-endian: byte ``address`` travels on AD[7:0].
    """

    def __init__(self, size: int, costs: PciCosts = COSTS):
        self.data = bytearray(size)
        self.costs = costs
        self.master_abort_ranges = []
        self.target_abort_ranges = []

    def check_range(self, address: int, length: int) -> None:
        """Raise ValueError unless ``[address, address + length)`` lies in host memory."""
        if address < 0 or length < 0 or address + length > len(self.data):
            raise ValueError(f"host memory range {address:#x}+{length:#x} is outside the "
                             f"{len(self.data):#x} bytes of host memory at 0")

    def _claims(self, address: int) -> bool:
        return address < len(self.data) and not any(address in r for r in self.master_abort_ranges)

    def _phases(self, address: int, count: int) -> tuple:
        """``(termination, data phases completed)`` of a burst of ``count`` dwords."""
        if not self.master_abort_ranges and not self.target_abort_ranges and address + 4 * count <= len(self.data):
            return Termination.COMPLETED, count          # no faults injected: every phase completes
        if not self._claims(address):
            return Termination.MASTER_ABORT, 0
        for phase in range(count):
            at = address + 4 * phase
            if any(at in r for r in self.target_abort_ranges):
                return Termination.TARGET_ABORT, phase
            if not self._claims(at):
                return Termination.DISCONNECT, phase
        return Termination.COMPLETED, count

    def _clocks(self, termination: Termination, phases: int) -> int:
        if termination is Termination.MASTER_ABORT:
            return self.costs.master_abort()
        if termination is Termination.TARGET_ABORT:
            return self.costs.target_abort(phases)
        return self.costs.transaction(phases)

    def burst_read(self, address: int, count: int) -> Burst:
        """One card memory-read transaction of up to ``count`` dwords at ``address``."""
        termination, phases = self._phases(address, count)
        data = struct.unpack_from(f"<{phases}I", self.data, address) if phases else ()
        return Burst(termination, phases, self._clocks(termination, phases), data)

    def burst_write(self, address: int, words) -> Burst:
        """One card memory-write transaction of up to ``len(words)`` dwords at ``address``."""
        termination, phases = self._phases(address, len(words))
        if phases:
            struct.pack_into(f"<{phases}I", self.data, address, *words[:phases])
        return Burst(termination, phases, self._clocks(termination, phases))


class ModelBus(PciBus):
    """PCI bus 0 with host memory and the behavioural card; no simulator.

    ``memory_size`` bytes of host memory at bus address 0 (buffers come from
    the shared first-fit :class:`Allocator`, which keeps the first 4 KiB
    free); the card at device ``card_device`` (None: an empty bus) with a
    DMA chunk of ``burst_words`` 32-bit words, ``channels`` channels, a
    public-key unit of ``pk_words`` words and a random number generator
    that serves ``rng_reseed_interval`` requests between seeds; timing from
    ``costs``. Every transaction takes effect at its end; the clock counts
    PCI clocks.
    """

    #: ``(base, size)`` of the BAR address range, in bytes.
    MMIO_WINDOW = (0x8000_0000, 0x1000_0000)

    def __init__(self, memory_size: int = 1 << 20, *, card_device: int | None = 4,
                 burst_words: int = BUILD.burst_words, channels: int = BUILD.model_channels,
                 pk_words: int = BUILD.pk_words, rng_reseed_interval: int = BUILD.rng_reseed_interval, costs: PciCosts = COSTS):
        if not Allocator.RESERVED < memory_size <= self.MMIO_WINDOW[0]:
            raise ValueError(f"memory_size {memory_size:#x}: expected more than "
                             f"{Allocator.RESERVED:#x} and at most {self.MMIO_WINDOW[0]:#x} bytes")
        if card_device is not None and card_device not in self.DEVICES:
            raise ValueError(f"card_device {card_device}: expected one of {self.DEVICES}")
        self.costs = costs
        self.memory = HostMemory(memory_size, costs)
        self._allocator = Allocator(0, memory_size)
        self.card_device = card_device
        self.card = None
        if card_device is not None:
            self.card = CardModel(self.memory, burst_words=burst_words, channels=channels, pk_words=pk_words,
                                  rng_reseed_interval=rng_reseed_interval, costs=costs)
        self._clock = 0

    # -- time --------------------------------------------------------------

    def clocks(self) -> int:
        """PCI clocks elapsed since the bus was created."""
        return self._clock

    def _spend(self, clocks: int) -> None:
        self._clock += clocks
        if self.card is not None:
            self.card.advance_to(self._clock)

    async def reset(self, clocks: int = 16) -> None:
        """RST# for ``clocks`` PCI clocks: the card returns to its power-on state."""
        if self.card is not None:
            self.card.power_on_reset()
        self._spend(clocks)

    # -- configuration -------------------------------------------------------

    def _config_target(self, device: int, offset: int):
        if device not in self.DEVICES:
            raise ValueError(f"device {device}: expected one of {self.DEVICES}")
        if offset % 4 or not 0 <= offset < 256:
            raise ValueError(f"config offset {offset:#x}: expected a dword offset below 0x100")
        return self.card if device == self.card_device else None

    async def config_read(self, device: int, offset: int) -> int:
        """Read one configuration dword; 0xFFFFFFFF (master abort) if no device answers."""
        await _yield()
        card = self._config_target(device, offset)
        if card is None:
            self._spend(self.costs.master_abort())
            return 0xFFFF_FFFF
        self._spend(self.costs.transaction(1))
        return card.config_read(offset)

    async def config_write(self, device: int, offset: int, value: int, byte_enables: int = 0xF) -> None:
        """Write one configuration dword; dropped if no device answers."""
        await _yield()
        card = self._config_target(device, offset)
        if card is None:
            self._spend(self.costs.master_abort())
            return
        self._spend(self.costs.transaction(1))
        card.config_write(offset, value, byte_enables)

    # -- memory --------------------------------------------------------------

    def _claim(self, address: int, count: int, what: str) -> None:
        """Raise MasterAbort unless the card claims all ``count`` dwords at ``address``."""
        if address % 4 or count < 1:
            raise ValueError(f"{what} of {count} dword(s) at {address:#x}: expected a dword-aligned "
                             "address and at least one dword")
        last = address + 4 * (count - 1)
        if self.card is not None and self.card.claims(address) and self.card.claims(last):
            return                          # the card claims one contiguous range: both ends claimed, all are
        unclaimed = [address + 4 * i for i in range(count)
                     if self.card is None or not self.card.claims(address + 4 * i)]
        if unclaimed:
            self._spend(self.costs.master_abort())
            where = ("no card on the bus" if self.card is None else
                     f"the card decodes {self.card.bar0:#010x}+{BAR0.size:#x} when memory_space is 1")
            raise MasterAbort(f"{what} at {unclaimed[0]:#010x}: no device claimed it ({where})")

    async def mem_read(self, address: int, count: int = 1) -> list:
        """Read ``count`` consecutive dwords of the card's BAR0 in one burst."""
        await _yield()
        self._claim(address, count, "memory read")
        self._spend(self.costs.transaction(count))
        return self.card.burst_read(address, count)

    async def mem_write(self, address: int, values, byte_enables: int = 0xF) -> None:
        """Write consecutive dwords of the card's BAR0 in one burst (same byte enables each)."""
        await _yield()
        values = list(values)
        self._claim(address, len(values), "memory write")
        self._spend(self.costs.transaction(len(values)))
        self.card.burst_write(address, values, byte_enables)

    def mmio_window(self) -> tuple:
        """``(base, size)`` of the address range the host may assign to BARs."""
        return self.MMIO_WINDOW

    # -- interrupt -----------------------------------------------------------

    def new_lock(self):
        """An :class:`asyncio.Lock`: every transaction and wait of this bus
        yields to the event loop, so concurrent callers interleave as on
        the RTL bus and need the driver's locks as much."""
        return asyncio.Lock()

    def interrupt_asserted(self, device: int | None = None) -> bool:
        """``device``'s INTA# level now (the card's, for None)."""
        return self.card is not None and device in (None, self.card_device) and self.card.inta

    async def wait_interrupt(self, timeout_clocks: int, device: int | None = None) -> bool:
        """Advance the clock to ``device``'s INTA# assertion (True), or by
        ``timeout_clocks`` (False)."""
        if timeout_clocks < 0:
            raise ValueError(f"timeout_clocks {timeout_clocks}: expected >= 0")
        await _yield()
        deadline = self._clock + timeout_clocks
        if self.card is None or device not in (None, self.card_device):
            self._spend(timeout_clocks)                 # no card there: nothing asserts INTA#
            return False
        asserted = self.card.advance_to(deadline, until_interrupt=True)
        self._clock = deadline if asserted is None else max(asserted, self._clock)
        return asserted is not None

    # -- host memory ---------------------------------------------------------

    def alloc(self, size: int, align: int = 64) -> DmaBuffer:
        """Allocate ``size`` zero-filled bytes of host memory aligned to ``align`` bytes."""
        buffer = self._allocator.alloc(size, align)
        self.memory.data[buffer.address:buffer.address + size] = bytes(size)
        return buffer

    def free(self, buffer: DmaBuffer) -> None:
        """Return host memory allocated by :meth:`alloc`."""
        self._allocator.free(buffer)

    def host_write(self, address: int, data: bytes) -> None:
        """CPU store into host memory (no bus time)."""
        self.memory.check_range(address, len(data))
        self.memory.data[address:address + len(data)] = data

    def host_read(self, address: int, length: int) -> bytes:
        """CPU load from host memory (no bus time)."""
        self.memory.check_range(address, length)
        return bytes(self.memory.data[address:address + length])

    # -- fault injection -----------------------------------------------------

    def inject_master_abort(self, address: int, size: int) -> None:
        """Make host memory ignore card accesses to ``[address, address + size)``."""
        self.memory.check_range(address, size)
        self.memory.master_abort_ranges.append(range(address, address + size))

    def inject_target_abort(self, address: int, size: int) -> None:
        """Make host memory target-abort card data phases in ``[address, address + size)``."""
        self.memory.check_range(address, size)
        self.memory.target_abort_ranges.append(range(address, address + size))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.memory.master_abort_ranges.clear()
        self.memory.target_abort_ranges.clear()
