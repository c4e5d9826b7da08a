# Ref: PCI Local Bus Specification 2.3, sections 3.2-3.3 (target), 3.7 (parity), 6.1 (config)
"""The card's PCI target: configuration space and the BAR0 registers.

Decodes type-0 configuration cycles (IDSEL asserted, AD[1:0] = 00) and memory
cycles inside BAR0, claims them with medium DEVSEL# timing and answers from
two register blocks (:class:`~.csr.RegisterBlock` for the configuration
header and for BAR0). Single and burst (linear order) accesses both ways;
one data phase per clock with no target wait states (initial latency 2
clocks). Terminations:

- Retry, on BAR0 accesses while ``retry`` is high (the card's internal reset);
- Disconnect with data on a configuration burst, on a memory burst with a
  reserved burst order (AD[1:0] != 00) and on the last dword of the BAR.

Parity: PAR is driven one clock after read data; address parity is checked
(an error is reported, the cycle is not claimed, SERR# pulses if enabled);
write-data parity is checked and PERR# asserted two clocks after the data
phase when ``parity_error_response`` is set.

Ports (``sync`` = PCI CLK; bus levels, active-low names end in ``_n``):

======================= ===== ===== ==========================================
port                    dir   width meaning
======================= ===== ===== ==========================================
``ad_i`` ``cbe_n_i``    In    32/4  resolved AD and C/BE#
``par_i`` ``frame_n_i`` In    1     resolved PAR, FRAME#
``irdy_n_i`` ``idsel``  In    1     resolved IRDY#, this slot's IDSEL
``ad_o`` ``ad_oe``      Out   32/1  read data and its enable
``par_o`` ``par_oe``    Out   1     parity of the previous clock's read data
``trdy_n_o/_oe``        Out   1     TRDY#
``devsel_n_o/_oe``      Out   1     DEVSEL#
``stop_n_o/_oe``        Out   1     STOP#
``perr_n_o/_oe``        Out   1     PERR# (write-data parity error)
``serr_n_oe``           Out   1     SERR# pull-down (address parity error)
``bar_base``            In    32-n  BAR0 address bits 31:n (n = ``bar_bits``)
``memory_space``        In    1     COMMAND.memory_space
``parity_error_response`` In  1     COMMAND.parity_error_response
``serr_enable``         In    1     COMMAND.serr_enable
``retry``               In    1     answer BAR0 accesses with Retry
``master_busy``         In    1     the card's own master owns the bus: do
                                    not decode (no self-targeting)
``cfg_*`` / ``bar_*``   Out/In      ``addr``/``we``/``wdata``/``wbe`` to and
                                    ``rdata`` from the two register blocks
``parity_error``        Out   1     pulse: an address or data parity error
``system_error``        Out   1     pulse: SERR# was asserted
======================= ===== ===== ==========================================
"""
from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .pci_protocol import MEMORY_READS, MEMORY_WRITES, PciCommand

__all__ = ["PciTarget", "parity37", "check_data_parity"]


def parity37(ad, cbe_n):
    """Even parity over AD[31:0] and C/BE#[3:0] (an Amaranth expression)."""
    return ad.xor() ^ cbe_n.xor()


def check_data_parity(m, agent, received, cbe_n):
    """Check PAR for data an agent receives; drive its PERR#.

    ``received``: data is taken from AD at this edge (with ``cbe_n``). PAR
    arrives one clock later; a mismatch pulses ``agent.parity_error`` and,
    with ``agent.parity_error_response``, asserts ``agent.perr_n_o/_oe`` two
    clocks after the data phase, drives it high for one clock and lets go
    (sustained tri-state). Returns the mismatch (combinational).
    """
    check = Signal()
    expected = Signal()
    m.d.sync += [check.eq(received), expected.eq(parity37(agent.ad_i, cbe_n))]
    error = Signal()
    m.d.comb += error.eq(check & (agent.par_i != expected))
    with m.If(error):
        m.d.comb += agent.parity_error.eq(1)
    with m.If(error & agent.parity_error_response):
        m.d.sync += [agent.perr_n_oe.eq(1), agent.perr_n_o.eq(0)]
    with m.Elif(agent.perr_n_oe & ~agent.perr_n_o):
        m.d.sync += agent.perr_n_o.eq(1)
    with m.Elif(agent.perr_n_oe):
        m.d.sync += agent.perr_n_oe.eq(0)
    return error


class PciTarget(wiring.Component):
    """See the module docstring; ``bar_bits`` = log2 of the BAR0 size in bytes."""

    def __init__(self, bar_bits: int = 12):
        self.bar_bits = bar_bits
        super().__init__({
            "ad_i": In(32), "cbe_n_i": In(4), "par_i": In(1),
            "frame_n_i": In(1, init=1), "irdy_n_i": In(1, init=1), "idsel": In(1),
            "ad_o": Out(32), "ad_oe": Out(1), "par_o": Out(1), "par_oe": Out(1),
            "trdy_n_o": Out(1, init=1), "trdy_n_oe": Out(1),
            "devsel_n_o": Out(1, init=1), "devsel_n_oe": Out(1),
            "stop_n_o": Out(1, init=1), "stop_n_oe": Out(1),
            "perr_n_o": Out(1, init=1), "perr_n_oe": Out(1), "serr_n_oe": Out(1),
            "bar_base": In(32 - bar_bits), "memory_space": In(1),
            "parity_error_response": In(1), "serr_enable": In(1),
            "retry": In(1), "master_busy": In(1),
            "cfg_addr": Out(6), "cfg_we": Out(1), "cfg_wdata": Out(32), "cfg_wbe": Out(4),
            "cfg_rdata": In(32),
            "bar_addr": Out(bar_bits - 2), "bar_we": Out(1), "bar_wdata": Out(32),
            "bar_wbe": Out(4), "bar_rdata": In(32),
            "parity_error": Out(1), "system_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()

        idle_q = Signal(init=1)            # bus was idle at the previous edge
        addr_q = Signal(32)                # address of the current data phase
        cmd_q = Signal(4)
        idsel_q = Signal()
        addr_parity = Signal()             # expected PAR of the address phase
        is_cfg = Signal()
        is_read = Signal()

        m.d.sync += idle_q.eq(self.frame_n_i & self.irdy_n_i)
        addr_phase = Signal()
        m.d.comb += addr_phase.eq(~self.frame_n_i & idle_q)

        # A data phase completes at this edge (with or without data).
        complete = Signal()
        xfer = Signal()
        m.d.comb += [
            complete.eq(~self.irdy_n_i & (~self.trdy_n_o | ~self.stop_n_o) & self.devsel_n_oe),
            xfer.eq(~self.irdy_n_i & ~self.trdy_n_o & self.trdy_n_oe),
        ]

        # Register-block access: reads look one dword ahead when a read data
        # phase completes, so the next word is on AD in the following clock.
        word = Signal(30)
        m.d.comb += word.eq(Mux(is_read & xfer, addr_q[2:] + 1, addr_q[2:]))
        rdata = Signal(32)
        select_cfg = Signal()   # which block answers: the latched decode, or
        m.d.comb += select_cfg.eq(is_cfg)   # the one being decoded (below)
        m.d.comb += [
            self.cfg_addr.eq(word[:6]),
            self.bar_addr.eq(word[:self.bar_bits - 2]),
            rdata.eq(Mux(select_cfg, self.cfg_rdata, self.bar_rdata)),
            self.cfg_wdata.eq(self.ad_i),
            self.bar_wdata.eq(self.ad_i),
            self.cfg_wbe.eq(~self.cbe_n_i),
            self.bar_wbe.eq(~self.cbe_n_i),
        ]

        # Last dword of the BAR: a burst must be disconnected there.
        bar_last = Signal()
        m.d.comb += bar_last.eq(word[:self.bar_bits - 2] == (1 << (self.bar_bits - 2)) - 1)

        with m.FSM(name="target"):
            with m.State("IDLE"):
                with m.If(addr_phase & ~self.master_busy):
                    m.d.sync += [
                        addr_q.eq(self.ad_i),
                        cmd_q.eq(self.cbe_n_i),
                        idsel_q.eq(self.idsel),
                        addr_parity.eq(parity37(self.ad_i, self.cbe_n_i)),
                    ]
                    m.next = "DECODE"

            with m.State("DECODE"):
                # Clock after the address phase: PAR of the address is valid.
                addr_parity_error = Signal()
                cfg_hit = Signal()
                mem_hit = Signal()
                cmd_read = Signal()
                m.d.comb += [
                    addr_parity_error.eq(self.par_i != addr_parity),
                    cfg_hit.eq(idsel_q & (addr_q[:2] == 0) &
                               ((cmd_q == PciCommand.CONFIG_READ) | (cmd_q == PciCommand.CONFIG_WRITE))),
                    mem_hit.eq(self.memory_space & (addr_q[self.bar_bits:] == self.bar_base) &
                               _one_of(cmd_q, MEMORY_READS + MEMORY_WRITES)),
                    cmd_read.eq(_one_of(cmd_q, MEMORY_READS + (PciCommand.CONFIG_READ,))),
                    select_cfg.eq(cfg_hit),
                ]
                with m.If(addr_parity_error):
                    m.d.comb += self.parity_error.eq(1)
                    with m.If(self.serr_enable & self.parity_error_response):
                        m.d.sync += self.serr_n_oe.eq(1)
                        m.d.comb += self.system_error.eq(1)
                claim = (cfg_hit | mem_hit) & ~(addr_parity_error & self.parity_error_response)
                with m.If(claim):
                    retry = mem_hit & self.retry
                    # Disconnect with the first data if the master bursts
                    # where a burst cannot go on.
                    disconnect = ~self.frame_n_i & (cfg_hit | (addr_q[:2] != 0) | bar_last)
                    m.d.sync += [
                        is_cfg.eq(cfg_hit),
                        is_read.eq(cmd_read),
                        self.devsel_n_oe.eq(1), self.devsel_n_o.eq(0),
                        self.trdy_n_oe.eq(1), self.trdy_n_o.eq(retry),
                        self.stop_n_oe.eq(1), self.stop_n_o.eq(~(retry | disconnect)),
                        self.ad_oe.eq(cmd_read),
                        self.ad_o.eq(rdata),
                    ]
                    m.next = "DATA"
                with m.Else():
                    m.next = "IDLE"

            with m.State("DATA"):
                with m.If(xfer & ~is_read):
                    m.d.comb += [self.cfg_we.eq(is_cfg), self.bar_we.eq(~is_cfg)]
                with m.If(xfer):
                    m.d.sync += addr_q.eq(addr_q + 4)
                with m.If(complete & self.frame_n_i):
                    # Final data phase: drive the handshakes high for one
                    # clock, then let go (sustained tri-state rule).
                    m.d.sync += [
                        self.devsel_n_o.eq(1), self.trdy_n_o.eq(1), self.stop_n_o.eq(1),
                        self.ad_oe.eq(0),
                    ]
                    m.next = "RELEASE"
                with m.Elif(complete & ~self.stop_n_o):
                    # Stopping: no more data; STOP# stays until FRAME# goes.
                    m.d.sync += self.trdy_n_o.eq(1)
                with m.Elif(xfer):
                    m.d.sync += [
                        self.ad_o.eq(rdata),
                        self.stop_n_o.eq(~bar_last),
                    ]

            with m.State("RELEASE"):
                m.d.sync += [
                    self.devsel_n_oe.eq(0), self.trdy_n_oe.eq(0), self.stop_n_oe.eq(0),
                ]
                m.next = "IDLE"

        # SERR# is a one-clock pulse.
        with m.If(self.serr_n_oe):
            m.d.sync += self.serr_n_oe.eq(0)

        # PAR follows the read data by one clock.
        m.d.sync += [
            self.par_o.eq(parity37(self.ad_o, self.cbe_n_i)),
            self.par_oe.eq(self.ad_oe),
        ]

        # Write-data parity.
        check_data_parity(m, self, xfer & ~is_read, self.cbe_n_i)
        return m


def _one_of(value, commands):
    """1 if ``value`` equals any of the PCI ``commands``."""
    result = 0
    for command in commands:
        result = result | (value == command.value)
    return result
