# Ref: docs/rings.md "Rings"
"""Descriptor rings in host memory, as the driver keeps them.

A :class:`Ring` is ``entries`` descriptors of one layout (``CMD``, ``SEG``
or ``RESULT`` of :mod:`pacsim.contract.layouts`) in a host buffer. The driver
writes and reads it with CPU stores and loads (no bus time); the card
reaches it by DMA. ``head`` is the driver's next entry (to write, or for
the result ring to read) and ``used`` counts entries handed to the card and
not yet given back by a collected result.
"""
import struct

from ..contract.layouts import RESULT
from ..contract.regmap import RING_ALIGN
from .bus import PciBus

__all__ = ["Ring"]


class Ring:
    """One descriptor ring: ``name`` (one of regmap.RINGS), ``layout`` of each entry."""

    def __init__(self, bus: PciBus, name: str, layout, entries: int):
        self.bus = bus
        self.name = name
        self.layout = layout
        self.entries = entries
        self.buffer = bus.alloc(layout.size * entries, align=RING_ALIGN)
        self.head = 0
        self.used = 0
        self._offsets = {reg.name: reg.offset for reg in layout}      # looked up on every entry written
        self._entry = struct.Struct(f"<{layout.size // 4}I")

    def address(self, index: int) -> int:
        """Bus byte address of entry ``index``."""
        return self.buffer.address + (index % self.entries) * self.layout.size

    def write(self, index: int, **words) -> None:
        """Store entry ``index`` from ``{register name: word}`` (others 0)."""
        data = bytearray(self.layout.size)
        for name, word in words.items():
            struct.pack_into("<I", data, self._offsets[name], word)
        self.bus.host_write(self.address(index), bytes(data))

    def read(self, index: int) -> dict:
        """Entry ``index`` as ``{register name: word}``."""
        words = self._entry.unpack(self.bus.host_read(self.address(index), self.layout.size))
        return {name: words[offset // 4] for name, offset in self._offsets.items()}

    def take(self, count: int) -> list:
        """The next ``count`` entry indices, handed to the card."""
        indices = [(self.head + i) % self.entries for i in range(count)]
        self.head = (self.head + count) % self.entries
        self.used += count
        return indices

    def start(self) -> None:
        """Empty the ring: every entry 0 (nothing owned by the card), index 0."""
        self.bus.host_write(self.buffer.address, bytes(self.buffer.size))
        self.head = self.used = 0

    def arm(self, index: int) -> None:
        """Give result slot ``index`` to the card (``RESULT.STATUS.own = 1``)."""
        self.write(index, STATUS=RESULT.STATUS.encode(own=1))
