# Ref: docs/architecture.md, "The copy command"
"""The copy command: host memory to host memory through the burst buffer.

Validates a start (see :class:`~.regmap.DmaError` for the codes, checked in
the order BUSY, BUS_MASTER_OFF, BAD_ALIGNMENT, BAD_LENGTH), then moves the
data in chunks of at most ``depth`` dwords: the master reads a chunk into the
buffer, then writes it out, until ``length`` bytes are done or a transaction
fails. ``abort`` (the card's soft reset) ends the command after the master's
current burst, without an interrupt.

Ports (``sync`` = PCI CLK):

==================== ===== ===== ============================================
port                 dir   width meaning
==================== ===== ===== ============================================
``start``            In    1     pulse: COPY_CTRL.start was written
``src`` ``dst``      In    32    COPY_SRC, COPY_DST byte addresses
``length``           In    24    COPY_LEN, bytes
``bus_master``       In    1     COMMAND.bus_master
``abort``            In    1     stop after the current burst, no interrupt
``busy``             Out   1     a command is running
``error``            Out   4     DmaError of the last command
``count``            Out   32    bytes written to ``dst`` by the last command
``error_address``    Out   32    bus address of the failed data phase
``done``             Out   1     pulse: a command completed (INT copy_done)
``failed``           Out   1     pulse: a start was rejected or a command
                                 failed (INT dma_error)
``m_*``              Out/In      the :class:`~.pci_master.PciMaster` command
                                 port (start, write, address, words, done,
                                 status, error_address, moved,
                                 master_parity_error)
==================== ===== ===== ============================================
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .pci_master import MasterStatus
from .regmap import DmaError

__all__ = ["DmaCopy"]


class DmaCopy(wiring.Component):
    def __init__(self, depth: int):
        self.depth = depth
        w = depth.bit_length()
        super().__init__({
            "start": In(1), "src": In(32), "dst": In(32), "length": In(24),
            "bus_master": In(1), "abort": In(1),
            "busy": Out(1), "error": Out(4), "count": Out(32),
            "error_address": Out(32), "done": Out(1), "failed": Out(1),
            "m_start": Out(1), "m_write": Out(1), "m_address": Out(32),
            "m_words": Out(w), "m_done": In(1), "m_status": In(MasterStatus),
            "m_error_address": In(32), "m_moved": In(w),
            "m_parity_error": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        src = Signal(32)
        dst = Signal(32)
        left = Signal(23)           # dwords still to copy
        chunk = Signal(range(self.depth + 1))
        parity = Signal()           # a data parity error during this command

        m.d.comb += chunk.eq(Mux(left > self.depth, self.depth, left))
        m.d.comb += self.m_words.eq(chunk)
        with m.If(self.m_parity_error):
            m.d.sync += parity.eq(1)

        def fail(code):
            m.d.sync += [self.error.eq(code), self.busy.eq(0)]
            m.d.comb += self.failed.eq(1)

        with m.FSM(name="copy"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += self.count.eq(0)
                    with m.If(~self.bus_master):
                        fail(DmaError.BUS_MASTER_OFF)
                    with m.Elif((self.src[:2] != 0) | (self.dst[:2] != 0)):
                        fail(DmaError.BAD_ALIGNMENT)
                    with m.Elif((self.length == 0) | (self.length[:2] != 0)):
                        fail(DmaError.BAD_LENGTH)
                    with m.Else():
                        m.d.sync += [
                            src.eq(self.src), dst.eq(self.dst),
                            left.eq(self.length[2:]), parity.eq(0),
                            self.busy.eq(1), self.error.eq(DmaError.NONE),
                        ]
                        m.next = "READ"

            with m.State("READ"):
                m.d.comb += [self.m_start.eq(1), self.m_write.eq(0), self.m_address.eq(src)]
                m.next = "READING"

            with m.State("READING"):
                with m.If(self.m_done):
                    with m.If(self.m_status != MasterStatus.OK):
                        m.d.sync += self.error_address.eq(self.m_error_address)
                        fail(Mux(self.m_status == MasterStatus.MASTER_ABORT,
                                 DmaError.MASTER_ABORT, DmaError.TARGET_ABORT))
                        m.next = "IDLE"
                    with m.Elif(self.abort):
                        m.d.sync += self.busy.eq(0)
                        m.next = "IDLE"
                    with m.Else():
                        m.next = "WRITE"

            with m.State("WRITE"):
                m.d.comb += [self.m_start.eq(1), self.m_write.eq(1), self.m_address.eq(dst)]
                m.next = "WRITING"

            with m.State("WRITING"):
                with m.If(self.m_done):
                    m.d.sync += self.count.eq(self.count + (self.m_moved << 2))
                    with m.If(self.m_status != MasterStatus.OK):
                        m.d.sync += self.error_address.eq(self.m_error_address)
                        fail(Mux(self.m_status == MasterStatus.MASTER_ABORT,
                                 DmaError.MASTER_ABORT, DmaError.TARGET_ABORT))
                        m.next = "IDLE"
                    with m.Elif(self.abort):
                        m.d.sync += self.busy.eq(0)
                        m.next = "IDLE"
                    with m.Elif(left == chunk):
                        m.d.sync += self.busy.eq(0)
                        with m.If(parity):
                            fail(DmaError.PARITY)
                        with m.Else():
                            m.d.comb += self.done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [
                            src.eq(src + (chunk << 2)), dst.eq(dst + (chunk << 2)),
                            left.eq(left - chunk),
                        ]
                        m.next = "READ"

        # A start while a command runs is refused; the command goes on.
        with m.If(self.start & self.busy):
            m.d.sync += self.error.eq(DmaError.BUSY)
            m.d.comb += self.failed.eq(1)
        return m
