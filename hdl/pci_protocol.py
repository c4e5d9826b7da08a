# Ref: PCI Local Bus Specification 2.3, sections 3.1 (commands), 6.2 (config header)
"""Encodings defined by the PCI specification itself (not by the card)."""

from amaranth.lib import enum as hdl_enum

__all__ = ["PciCommand", "MEMORY_READS", "MEMORY_WRITES", "even_parity"]


class PciCommand(hdl_enum.Enum, shape=4):
    """Bus command on C/BE#[3:0] during the address phase."""
    INTERRUPT_ACK = 0x0
    SPECIAL_CYCLE = 0x1
    IO_READ = 0x2
    IO_WRITE = 0x3
    MEM_READ = 0x6
    MEM_WRITE = 0x7
    CONFIG_READ = 0xA
    CONFIG_WRITE = 0xB
    MEM_READ_MULTIPLE = 0xC
    DUAL_ADDRESS_CYCLE = 0xD
    MEM_READ_LINE = 0xE
    MEM_WRITE_INVALIDATE = 0xF


MEMORY_READS = (PciCommand.MEM_READ, PciCommand.MEM_READ_LINE, PciCommand.MEM_READ_MULTIPLE)
MEMORY_WRITES = (PciCommand.MEM_WRITE, PciCommand.MEM_WRITE_INVALIDATE)


def even_parity(ad: int, cbe_n: int) -> int:
    """PAR for a clock that carried ``ad`` and ``cbe_n``: makes the 37 bits even."""
    return (bin(ad & 0xFFFF_FFFF).count("1") + bin(cbe_n & 0xF).count("1")) & 1
