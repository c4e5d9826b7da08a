# Ref: docs/rings.md, "Rings" (buffers in host memory the descriptors point at)
"""First-fit allocator of host memory for DMA buffers (both buses use it)."""
from ..host.bus import DmaBuffer

__all__ = ["Allocator", "OutOfHostMemory"]


class OutOfHostMemory(MemoryError):
    """No free host-memory range is large enough."""


class Allocator:
    """Hands out aligned, zero-based ranges of ``[base, base + size)``.

    The first 4 KiB stay unallocated so that address 0 is never a buffer.
    """

    RESERVED = 4096

    def __init__(self, base: int, size: int):
        self.base = base
        self.size = size
        self._free = [(base + self.RESERVED, size - self.RESERVED)]   # (start, length), sorted

    def alloc(self, size: int, align: int = 64) -> DmaBuffer:
        if size <= 0:
            raise ValueError(f"buffer size must be positive, not {size}")
        if align <= 0 or align & (align - 1):
            raise ValueError(f"alignment must be a power of two, not {align}")
        for i, (start, length) in enumerate(self._free):
            aligned = (start + align - 1) & ~(align - 1)
            if aligned + size <= start + length:
                pieces = []
                if aligned > start:
                    pieces.append((start, aligned - start))
                if aligned + size < start + length:
                    pieces.append((aligned + size, start + length - aligned - size))
                self._free[i:i + 1] = pieces
                return DmaBuffer(aligned, size)
        raise OutOfHostMemory(f"no {size}-byte range (align {align}) free in host memory "
                              f"of {self.size} bytes; free ranges: {self._free}")

    def free(self, buffer: DmaBuffer) -> None:
        for start, length in self._free:
            if start < buffer.address + buffer.size and buffer.address < start + length:
                raise ValueError(f"double free of {buffer}")
        self._free.append((buffer.address, buffer.size))
        self._free.sort()
        merged = []
        for start, length in self._free:
            if merged and merged[-1][0] + merged[-1][1] == start:
                merged[-1] = (merged[-1][0], merged[-1][1] + length)
            else:
                merged.append((start, length))
        self._free = merged
