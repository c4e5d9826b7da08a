# Ref: ANSI X3.241-1994, RFC 2395; docs/rings.md, "Jobs" (COMPRESS and DECOMPRESS)
"""``pacsim lzs compress|decompress IN OUT``: a file through the card's LZS
unit as one COMPRESS or DECOMPRESS job (on either bus).

The whole file is one job (the card's history window is 2047 bytes
whatever the length). ``limit`` bounds a decompressed file (the job's
destination); a stream that decodes longer fails with OUTPUT_OVERFLOW.
"""
from pathlib import Path

from ..contract.codes import Direction
from ..host.device import PacDevice

__all__ = ["run_lzs_file"]


async def run_lzs_file(bus, mode: str, source: Path, target: Path, limit: int) -> dict:
    """Run ``source`` through the card; write ``target``; a summary for the console."""
    device = await PacDevice.probe(bus)
    data = Path(source).read_bytes()
    start = bus.clocks()
    if mode == "compress":
        channel = await device.open_comp_channel(Direction.ENCODE)
        out = await device.compress(data, channel=channel)
    elif mode == "decompress":
        channel = await device.open_comp_channel(Direction.DECODE)
        out = await device.decompress(data, channel=channel, limit=limit)
    else:
        raise ValueError(f"mode must be compress or decompress, not {mode!r}")
    Path(target).write_bytes(out)
    return {"mode": mode, "bytes_in": len(data), "bytes_out": len(out), "pci_clocks": bus.clocks() - start}
