# Ref: PCI Local Bus Specification 2.3, sections 3.3 (master), 3.4 (arbitration), 3.5 (latency)
"""The card's PCI bus master: one burst command at a time.

A command moves ``words`` dwords between host memory at ``address`` and the
card's burst buffer. The master arbitrates (REQ#/GNT#), starts a memory read
(MEM_READ for one dword or when no cache line size is set, MEM_READ_LINE up
to a cache line, MEM_READ_MULTIPLE beyond) or MEM_WRITE burst, and keeps
going until every dword has moved, re-issuing the rest after a target Retry
or Disconnect and after the latency timer ended a burst (GNT# removed and
``latency_timer`` clocks since the address phase). IRDY# is asserted in every
data phase (no master wait states: the buffer always has the data or the
room). Ends with ``status`` OK, MASTER_ABORT (no DEVSEL# by the subtractive
decode clock) or TARGET_ABORT; ``error_address`` is the bus address of the
data phase that failed. After a target-initiated termination REQ# is
deasserted for two clocks, as the specification asks.

Parity: PAR is driven one clock after AD in the address and write data
phases; read data parity is checked (PERR# two clocks after the data phase
when ``parity_error_response``), and PERR# from the target during a write is
reported as ``master_parity_error``.

Ports (``sync`` = PCI CLK; bus levels, active-low names end in ``_n``):

========================== ===== ===== ======================================
port                       dir   width meaning
========================== ===== ===== ======================================
``ad_i``                   In    32    resolved AD
``par_i`` ``perr_n_i``     In    1     resolved PAR, PERR#
``frame_n_i`` ``irdy_n_i`` In    1     resolved FRAME#, IRDY# (idle detection)
``trdy_n_i`` ``devsel_n_i``In    1     resolved TRDY#, DEVSEL#
``stop_n_i`` ``gnt_n``     In    1     resolved STOP#, this agent's GNT#
``ad_o/_oe``               Out   32/1  address, write data
``cbe_n_o/_oe``            Out   4/1   command, byte enables (all enabled)
``par_o/_oe``              Out   1     parity of the previous clock
``frame_n_o/_oe``          Out   1     FRAME#
``irdy_n_o/_oe``           Out   1     IRDY#
``perr_n_o/_oe``           Out   1     PERR# for bad read-data parity
``req_n``                  Out   1     REQ#
``latency_timer``          In    8     config latency timer, PCI clocks
``cache_line_size``        In    8     config cache line size, dwords
``parity_error_response``  In    1     COMMAND.parity_error_response
``start``                  In    1     pulse: begin the command below
``write``                  In    1     1: buffer to host memory, 0: host to buffer
``address``                In    32    host byte address, dword aligned
``command``                In    4     if non-zero: the bus command to use
                                       instead of the memory command chosen
                                       above (the host bridge's config cycles)
``byte_enables``           In    4     active-high byte enables of every data
                                       phase (all four on the card)
``words``                  In    w     dwords to move, 1..depth
``busy``                   Out   1     a command is running
``moved``                  Out   w     dwords moved so far by this command
``owner``                  Out   1     the master is driving a transaction
``done``                   Out   1     pulse: the command ended
``status``                 Out   2     MasterStatus of the command
``error_address``          Out   32    failing data phase's address
``buf_addr``               Out   w     buffer dword index (read port address
                                       for writes, write address for reads)
``buf_wdata`` ``buf_we``   Out   32/1  read data into the buffer
``buf_rdata``              In    32    buffer read port (1-clock latency)
``retry`` ``disconnect``   Out   1     pulses: target terminations seen
``latency_expired``        Out   1     pulse: a burst ended by the timer
``transaction``            Out   1     pulse: an address phase was driven
``parity_error``           Out   1     pulse: bad read-data parity detected
``master_parity_error``    Out   1     pulse: data parity error as master
                                       (PERR# seen, or bad read parity), with
                                       ``parity_error_response``
========================== ===== ===== ======================================
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

from .pci_protocol import PciCommand
from .pci_target import check_data_parity, parity37

__all__ = ["PciMaster", "MasterStatus"]


class MasterStatus(enum.Enum, shape=2):
    OK = 0
    MASTER_ABORT = 1
    TARGET_ABORT = 2


#: Clocks after the address phase by which DEVSEL# must be seen (subtractive).
DEVSEL_DEADLINE = 4


class PciMaster(wiring.Component):
    def __init__(self, depth: int):
        self.depth = depth
        w = depth.bit_length()
        super().__init__({
            "ad_i": In(32), "par_i": In(1), "perr_n_i": In(1, init=1),
            "frame_n_i": In(1, init=1), "irdy_n_i": In(1, init=1),
            "trdy_n_i": In(1, init=1), "devsel_n_i": In(1, init=1),
            "stop_n_i": In(1, init=1), "gnt_n": In(1, init=1),
            "ad_o": Out(32), "ad_oe": Out(1),
            "cbe_n_o": Out(4), "cbe_n_oe": Out(1),
            "par_o": Out(1), "par_oe": Out(1),
            "frame_n_o": Out(1, init=1), "frame_n_oe": Out(1),
            "irdy_n_o": Out(1, init=1), "irdy_n_oe": Out(1),
            "perr_n_o": Out(1, init=1), "perr_n_oe": Out(1),
            "req_n": Out(1, init=1),
            "latency_timer": In(8), "cache_line_size": In(8),
            "parity_error_response": In(1),
            "start": In(1), "write": In(1), "address": In(32), "words": In(w),
            "command": In(4), "byte_enables": In(4, init=0xF),
            "busy": Out(1), "moved": Out(w), "owner": Out(1), "done": Out(1),
            "status": Out(MasterStatus), "error_address": Out(32),
            "buf_addr": Out(w), "buf_wdata": Out(32), "buf_we": Out(1),
            "buf_rdata": In(32),
            "retry": Out(1), "disconnect": Out(1), "latency_expired": Out(1),
            "transaction": Out(1), "parity_error": Out(1),
            "master_parity_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.depth.bit_length()

        is_write = Signal()
        base = Signal(32)
        command_q = Signal(4)
        byte_enables_q = Signal(4)
        total = Signal(w)       # dwords in the command
        idx = Signal(w)         # dwords moved so far
        left = Signal(w)        # dwords left in the command
        addr_phase = Signal()   # this clock is our address phase
        devsel_seen = Signal()
        waited = Signal(range(DEVSEL_DEADLINE + 1))
        lt_count = Signal(8)
        holdoff = Signal(2)     # clocks REQ# stays deasserted after a stop
        first_phase = Signal()
        stopped = Signal()      # STOP# seen in this transaction

        m.d.comb += [
            left.eq(total - idx),
            self.moved.eq(idx),
            self.owner.eq(self.frame_n_oe | self.irdy_n_oe),
        ]

        xfer = Signal()
        stop = Signal()
        complete = Signal()
        in_data = Signal()
        m.d.comb += [
            xfer.eq(in_data & ~self.irdy_n_o & ~self.trdy_n_i & ~self.devsel_n_i),
            stop.eq(in_data & ~self.irdy_n_o & ~self.stop_n_i),
            complete.eq(xfer | stop),
        ]

        # Buffer: reads land at idx; writes present buffer[idx] on AD, so
        # the read port looks one dword ahead when a data phase completes.
        m.d.comb += [
            self.buf_addr.eq(idx + (xfer & is_write)),
            self.buf_wdata.eq(self.ad_i),
            self.buf_we.eq(xfer & ~is_write),
            self.ad_o.eq(Mux(addr_phase, base + (idx << 2), self.buf_rdata)),
        ]

        command = Signal(4)
        with m.If(command_q != 0):
            m.d.comb += command.eq(command_q)
        with m.Elif(is_write):
            m.d.comb += command.eq(PciCommand.MEM_WRITE)
        with m.Elif((left == 1) | (self.cache_line_size == 0)):
            m.d.comb += command.eq(PciCommand.MEM_READ)
        with m.Elif(left <= self.cache_line_size):
            m.d.comb += command.eq(PciCommand.MEM_READ_LINE)
        with m.Else():
            m.d.comb += command.eq(PciCommand.MEM_READ_MULTIPLE)

        lt_expired = Signal()
        m.d.comb += lt_expired.eq((lt_count >= self.latency_timer) & self.gnt_n)
        with m.If(self.frame_n_oe & ~(lt_count == 0xFF)):
            m.d.sync += lt_count.eq(lt_count + 1)

        with m.If(holdoff != 0):
            m.d.sync += holdoff.eq(holdoff - 1)

        bus_idle = self.frame_n_i & self.irdy_n_i

        with m.FSM(name="master"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        is_write.eq(self.write), base.eq(self.address),
                        command_q.eq(self.command), byte_enables_q.eq(self.byte_enables),
                        total.eq(self.words), idx.eq(0),
                        self.status.eq(MasterStatus.OK), self.busy.eq(1),
                        self.req_n.eq(0),
                    ]
                    m.next = "REQUEST"

            with m.State("REQUEST"):
                m.d.sync += self.req_n.eq(holdoff != 0)
                with m.If(~self.gnt_n & bus_idle & ~self.req_n):
                    # Address phase in the next clock.
                    m.d.sync += [
                        addr_phase.eq(1),
                        self.frame_n_oe.eq(1), self.frame_n_o.eq(0),
                        self.ad_oe.eq(1), self.cbe_n_oe.eq(1), self.cbe_n_o.eq(command),
                        lt_count.eq(0),
                    ]
                    m.d.comb += self.transaction.eq(1)
                    m.next = "ADDRESS"

            with m.State("ADDRESS"):
                # IRDY# is driven from the first data phase on: the previous
                # owner may have driven it in the clock before our address.
                m.d.sync += [
                    addr_phase.eq(0),
                    self.irdy_n_oe.eq(1), self.irdy_n_o.eq(0),
                    self.frame_n_o.eq(left == 1),
                    self.ad_oe.eq(is_write),
                    self.cbe_n_o.eq(~byte_enables_q),
                    devsel_seen.eq(0), waited.eq(0),
                    first_phase.eq(1), stopped.eq(0),
                ]
                m.next = "DATA"

            with m.State("DATA"):
                m.d.comb += in_data.eq(1)
                with m.If(~self.devsel_n_i):
                    m.d.sync += devsel_seen.eq(1)
                with m.If(waited != DEVSEL_DEADLINE):
                    m.d.sync += waited.eq(waited + 1)
                with m.If(xfer):
                    m.d.sync += idx.eq(idx + 1)
                with m.If(complete):
                    m.d.sync += first_phase.eq(0)

                # The first STOP# of a transaction says how the target ends it.
                with m.If(stop & ~stopped):
                    m.d.sync += stopped.eq(1)
                    with m.If(self.devsel_n_i):
                        m.d.sync += [
                            self.status.eq(MasterStatus.TARGET_ABORT),
                            self.error_address.eq(base + (idx << 2)),
                        ]
                    with m.Elif(first_phase & ~xfer):
                        m.d.comb += self.retry.eq(1)
                    with m.Else():
                        m.d.comb += self.disconnect.eq(1)

                master_abort = (waited == DEVSEL_DEADLINE - 1) & ~devsel_seen & self.devsel_n_i
                final = complete & self.frame_n_o
                release = [
                    self.frame_n_oe.eq(0), self.ad_oe.eq(0), self.cbe_n_oe.eq(0),
                    self.irdy_n_o.eq(1),
                ]
                with m.If(master_abort):
                    m.d.sync += [
                        self.status.eq(MasterStatus.MASTER_ABORT),
                        self.error_address.eq(base + (idx << 2)),
                    ]
                    with m.If(self.frame_n_o):
                        m.d.sync += release
                        m.next = "END"
                    with m.Else():
                        m.d.sync += self.frame_n_o.eq(1)
                        m.next = "ABORT_FRAME"
                with m.Elif(final):
                    m.d.sync += release
                    m.d.sync += holdoff.eq(Mux(stopped | stop, 2, 0))
                    m.next = "END"
                with m.Elif(~self.frame_n_o & (stop | lt_expired | (xfer & (left == 2)))):
                    # The next data phase is the last one of this transaction.
                    m.d.sync += self.frame_n_o.eq(1)
                    with m.If(lt_expired & ~stop & ~(xfer & (left == 2))):
                        m.d.comb += self.latency_expired.eq(1)

            with m.State("ABORT_FRAME"):
                # Master abort with FRAME# still asserted: FRAME# went up
                # last clock, IRDY# follows now.
                m.d.sync += [
                    self.frame_n_oe.eq(0), self.ad_oe.eq(0), self.cbe_n_oe.eq(0),
                    self.irdy_n_o.eq(1),
                ]
                m.next = "END"

            with m.State("END"):
                # IRDY# was driven high for one clock; release it.
                m.d.sync += self.irdy_n_oe.eq(0)
                with m.If((self.status != MasterStatus.OK) | (idx == total)):
                    m.d.sync += [self.busy.eq(0), self.req_n.eq(1)]
                    m.d.comb += self.done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += self.req_n.eq(holdoff != 0)
                    m.next = "REQUEST"

        # PAR follows AD and C/BE# by one clock.
        m.d.sync += [
            self.par_o.eq(parity37(self.ad_o, self.cbe_n_o)),
            self.par_oe.eq(self.ad_oe),
        ]

        # Read-data parity check, PERR# two clocks after the data phase.
        read_parity_error = check_data_parity(m, self, xfer & ~is_write, self.cbe_n_o)

        # PERR# from the target within the window after our write data.
        perr_window = Signal(2)
        with m.If(xfer & is_write):
            m.d.sync += perr_window.eq(3)
        with m.Elif(perr_window != 0):
            m.d.sync += perr_window.eq(perr_window - 1)
        m.d.comb += self.master_parity_error.eq(
            self.parity_error_response &
            (read_parity_error | ((perr_window != 0) & ~self.perr_n_i & ~self.perr_n_oe)))
        return m
