# Ref: docs/architecture.md, "The card"
"""The PCI Accelerator Card: top level.

Ports: ``clk`` (PCI CLK, 33 MHz), ``rst_n`` (RST#, asynchronous assert) and
the conventional PCI signal set of :class:`~.pci_port.PciSignature` (see
there for names, widths and the ``_i/_o/_oe`` split).

Inside: the configuration header and the BAR0 registers (both generated
from :mod:`.regmap`), the PCI target that serves them, the bus master and
the copy engine with its burst buffer, the soft-reset sequencer, the event
counters and the INTA# logic. ``burst_words`` (a power of two, 4-128) sets the
buffer size and so the longest burst the card masters.
"""
from amaranth import (ClockDomain, ClockSignal, Const, DomainRenamer, Elaboratable, Module, Mux,
                      ResetSignal, Signal)
from amaranth.hdl import ResetInserter
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from .csr import RegisterBlock
from .dma_copy import DmaCopy
from .pci_master import MasterStatus, PciMaster
from .pci_port import PciSignature
from .pci_target import PciTarget
from .regmap import BAR0, CONFIG

__all__ = ["PacCard", "SOFT_RESET_CLOCKS"]

#: Clocks the card's internal reset lasts; BAR0 accesses are retried meanwhile.
SOFT_RESET_CLOCKS = 32


class PacCard(wiring.Component):
    def __init__(self, burst_words: int = 128):
        if not (4 <= burst_words <= 128 and burst_words & (burst_words - 1) == 0):
            raise ValueError(f"burst_words must be a power of two in 4..128, not {burst_words}")
        self.burst_words = burst_words
        members = dict(PciSignature().members)
        members["clk"] = In(1)
        members["rst_n"] = In(1, init=1)
        super().__init__(wiring.Signature(members))

    def elaborate(self, platform):
        # The card's logic is written for ``sync``; here ``sync`` becomes the
        # card-local ``pci`` domain clocked by CLK and reset by RST#, so the
        # card nests in any design (a bench with its own ``sync``).
        m = Module()
        m.domains.pci = ClockDomain("pci", local=True, async_reset=True)
        m.d.comb += [ClockSignal("pci").eq(self.clk), ResetSignal("pci").eq(~self.rst_n)]
        m.submodules.core = DomainRenamer({"sync": "pci"})(_CardCore(self))
        return m

    def elaborate_core(self, platform):
        """The card's logic in the ``sync`` domain (see :meth:`elaborate`)."""
        m = Module()

        soft_reset = Signal()       # one-clock pulse at the end of CONTROL.reset
        m.submodules.config = config = RegisterBlock(CONFIG)
        m.submodules.bar = bar = ResetInserter(soft_reset)(RegisterBlock(BAR0))
        m.submodules.target = target = PciTarget()
        m.submodules.master = master = PciMaster(self.burst_words)
        m.submodules.copy = copy = ResetInserter(soft_reset)(DmaCopy(self.burst_words))
        m.submodules.buffer = buffer = Memory(shape=32, depth=self.burst_words, init=[])

        cfg = config.field
        reg = bar.field

        # --- bus inputs to the target and master
        for unit in (target, master):
            m.d.comb += [
                unit.ad_i.eq(self.ad_i), unit.par_i.eq(self.par_i),
                unit.frame_n_i.eq(self.frame_n_i), unit.irdy_n_i.eq(self.irdy_n_i),
            ]
        m.d.comb += [
            target.cbe_n_i.eq(self.cbe_n_i), target.idsel.eq(self.idsel),
            master.trdy_n_i.eq(self.trdy_n_i), master.devsel_n_i.eq(self.devsel_n_i),
            master.stop_n_i.eq(self.stop_n_i), master.perr_n_i.eq(self.perr_n_i),
            master.gnt_n.eq(self.gnt_n),
        ]

        # --- bus outputs: the master and the target never drive together
        for name in ("ad", "par", "perr_n"):
            o_m, oe_m = getattr(master, name + "_o"), getattr(master, name + "_oe")
            o_t, oe_t = getattr(target, name + "_o"), getattr(target, name + "_oe")
            m.d.comb += [
                getattr(self, name + "_o").eq(Mux(oe_m, o_m, o_t)),
                getattr(self, name + "_oe").eq(oe_m | oe_t),
            ]
        for name in ("cbe_n", "frame_n", "irdy_n"):
            for suffix in ("_o", "_oe"):
                m.d.comb += getattr(self, name + suffix).eq(getattr(master, name + suffix))
        for name in ("trdy_n", "devsel_n", "stop_n"):
            for suffix in ("_o", "_oe"):
                m.d.comb += getattr(self, name + suffix).eq(getattr(target, name + suffix))
        m.d.comb += [self.serr_n_oe.eq(target.serr_n_oe), self.req_n.eq(master.req_n)]

        # --- target <-> register blocks and configuration
        m.d.comb += [
            config.addr.eq(target.cfg_addr), config.we.eq(target.cfg_we),
            config.wdata.eq(target.cfg_wdata), config.wbe.eq(target.cfg_wbe),
            target.cfg_rdata.eq(config.rdata),
            bar.addr.eq(target.bar_addr), bar.we.eq(target.bar_we),
            bar.wdata.eq(target.bar_wdata), bar.wbe.eq(target.bar_wbe),
            target.bar_rdata.eq(bar.rdata),
            target.bar_base.eq(cfg("BAR0", "address")),
            target.memory_space.eq(cfg("COMMAND_STATUS", "memory_space")),
            target.parity_error_response.eq(cfg("COMMAND_STATUS", "parity_error_response")),
            target.serr_enable.eq(cfg("COMMAND_STATUS", "serr_enable")),
            target.master_busy.eq(master.owner),
        ]

        # --- master <-> buffer, copy engine, configuration
        wr = buffer.write_port()
        rd = buffer.read_port()
        m.d.comb += [
            wr.addr.eq(master.buf_addr), wr.data.eq(master.buf_wdata), wr.en.eq(master.buf_we),
            rd.addr.eq(master.buf_addr), master.buf_rdata.eq(rd.data),
            master.latency_timer.eq(cfg("BIST_HEADER_LATENCY_CACHE", "latency_timer")),
            master.cache_line_size.eq(cfg("BIST_HEADER_LATENCY_CACHE", "cache_line_size")),
            master.parity_error_response.eq(cfg("COMMAND_STATUS", "parity_error_response")),
            master.start.eq(copy.m_start), master.write.eq(copy.m_write),
            master.address.eq(copy.m_address), master.words.eq(copy.m_words),
            copy.m_done.eq(master.done), copy.m_status.eq(master.status),
            copy.m_error_address.eq(master.error_address), copy.m_moved.eq(master.moved),
            copy.m_parity_error.eq(master.master_parity_error),
            copy.start.eq(reg("COPY_CTRL", "start")),
            copy.src.eq(reg("COPY_SRC", "address")),
            copy.dst.eq(reg("COPY_DST", "address")),
            copy.length.eq(reg("COPY_LEN", "length")),
            copy.bus_master.eq(cfg("COMMAND_STATUS", "bus_master")),
        ]

        # --- soft reset: retry BAR0 accesses, let the DMA finish its burst,
        # then reset the registers and counters
        resetting = Signal()
        countdown = Signal(range(SOFT_RESET_CLOCKS + 1))
        with m.If(reg("CONTROL", "reset")):
            m.d.sync += [resetting.eq(1), countdown.eq(SOFT_RESET_CLOCKS)]
        with m.Elif(resetting & (countdown != 0)):
            m.d.sync += countdown.eq(countdown - 1)
        with m.Elif(resetting & ~copy.busy):
            m.d.sync += resetting.eq(0)
            m.d.comb += soft_reset.eq(1)
        m.d.comb += [target.retry.eq(resetting), copy.abort.eq(resetting)]

        # --- status to the register blocks
        m.d.comb += [
            reg("CAPS", "burst_words").eq(Const(self.burst_words, 8)),
            reg("DMA_STATUS", "busy").eq(copy.busy),
            reg("DMA_STATUS", "error").eq(copy.error),
            reg("DMA_COUNT", "bytes").eq(copy.count),
            reg("DMA_ERROR_ADDR", "address").eq(copy.error_address),
            bar.int_status_copy_done_set.eq(copy.done & ~resetting),
            bar.int_status_dma_error_set.eq(copy.failed & ~resetting),
        ]
        counters = {
            "DMA_RETRIES": master.retry,
            "DMA_DISCONNECTS": master.disconnect,
            "DMA_LATENCY_EXPIRIES": master.latency_expired,
            "DMA_TRANSACTIONS": master.transaction,
            "PCI_PARITY_ERRORS": target.parity_error | master.parity_error,
        }
        for name, event in counters.items():
            counter = Signal(32, name=name.lower())
            with m.If(soft_reset):
                m.d.sync += counter.eq(0)
            with m.Elif(event):
                m.d.sync += counter.eq(counter + 1)
            m.d.comb += reg(name, "count").eq(counter)

        ended = master.done
        m.d.comb += [
            config.command_status_received_master_abort_set.eq(
                ended & (master.status == MasterStatus.MASTER_ABORT)),
            config.command_status_received_target_abort_set.eq(
                ended & (master.status == MasterStatus.TARGET_ABORT)),
            config.command_status_signaled_system_error_set.eq(target.system_error),
            config.command_status_detected_parity_error_set.eq(
                target.parity_error | master.parity_error),
            config.command_status_master_data_parity_error_set.eq(master.master_parity_error),
        ]

        # --- INTA#: level, registered
        pending = Signal()
        m.d.comb += [
            pending.eq((bar.int_status_copy_done & bar.int_enable_copy_done) |
                       (bar.int_status_dma_error & bar.int_enable_dma_error)),
            config.command_status_interrupt_status.eq(pending),
        ]
        m.d.sync += self.inta_n_oe.eq(pending & ~cfg("COMMAND_STATUS", "interrupt_disable"))
        return m



class _CardCore(Elaboratable):
    """Elaborates :meth:`PacCard.elaborate_core` as a submodule of its own."""

    def __init__(self, card):
        self.card = card

    def elaborate(self, platform):
        return self.card.elaborate_core(platform)
