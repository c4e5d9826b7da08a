# Ref: docs/architecture.md, "The card"
"""The PCI Accelerator Card: top level.

Ports: ``clk`` (PCI CLK, 33 MHz), ``rst_n`` (RST#, asynchronous assert) and
the conventional PCI signal set of :class:`~.pci_port.PciSignature` (see
there for names, widths and the ``_i/_o/_oe`` split).

Inside: the configuration header and the BAR0 registers (both generated
from :mod:`pacsim.contract.regmap`) and windows (channel contexts, counters), the PCI
target that serves them, the bus master, the ring engine with its input and
output buffers and the datapath (:mod:`.crypto_pipe`), the key-exchange
units behind their own registers (the public-key unit :class:`~.engines.modexp.ModExp`
with its operand window, the random number generator
:class:`~.engines.drbg.CtrDrbg`), the soft-reset sequencer, the event
counters and the coalesced INTA# logic. Build
parameters: ``burst_words`` (a power of two, 4-128: the longest burst the
card masters), ``channels`` (1-256) and ``buffer_words`` (each data buffer).
"""
from amaranth import (Cat, ClockDomain, ClockSignal, Const, DomainRenamer, Elaboratable, Module, Mux,
                      ResetSignal, Signal)
from amaranth.hdl import ResetInserter
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from ..contract.build import BUILD
from ..contract.codes import AlgUnit
from ..contract.regmap import BAR0, CONFIG, MAX_CHANNELS, WINDOWS
from ..contract.rng import DrbgCommand
from .channel_store import ChannelStore, CounterBank
from .crypto_pipe import CryptoPipe
from .csr import RegisterBlock
from .engines.drbg import CtrDrbg
from .engines.modexp import ModExp
from .pci_master import MasterStatus, PciMaster
from .pci_port import PciSignature
from .pci_target import PciTarget
from .ring_engine import BufferSelect, RingEngine
from .stream_buffer import InBuffer, OutBuffer

__all__ = ["PacCard", "SOFT_RESET_CLOCKS"]

#: Clocks the card's internal reset lasts; BAR0 accesses are retried meanwhile.
SOFT_RESET_CLOCKS = 32


class PacCard(wiring.Component):
    def __init__(self, burst_words: int = BUILD.burst_words, channels: int = BUILD.card_channels,
                 buffer_words: int = BUILD.buffer_words):
        if not (4 <= burst_words <= 128 and burst_words & (burst_words - 1) == 0):
            raise ValueError(f"burst_words must be a power of two in 4..128, not {burst_words}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1..{MAX_CHANNELS}, not {channels}")
        if buffer_words < 2 * burst_words or buffer_words & (buffer_words - 1):
            raise ValueError(f"buffer_words must be a power of two of at least 2 bursts, not {buffer_words}")
        self.burst_words = burst_words
        self.channels = channels
        self.buffer_words = buffer_words
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
        reset_domain = ResetInserter(soft_reset)
        bar_bits = (BAR0.size - 1).bit_length()
        m.submodules.config = config = RegisterBlock(CONFIG)
        m.submodules.bar = bar = reset_domain(RegisterBlock(BAR0))
        m.submodules.target = target = PciTarget(bar_bits=bar_bits)
        m.submodules.master = master = PciMaster(self.burst_words)
        m.submodules.ring = ring = reset_domain(
            RingEngine(self.burst_words, self.buffer_words, counter_bits=(4 * self.channels - 1).bit_length()))
        m.submodules.inbuf = inbuf = reset_domain(InBuffer(self.buffer_words))
        m.submodules.outbuf = outbuf = reset_domain(OutBuffer(self.buffer_words))
        pipe_reset = Signal()       # CONTROL.reset, or a job's transfer failed
        m.submodules.pipe = pipe = ResetInserter(pipe_reset)(CryptoPipe())
        m.submodules.store = store = ChannelStore(self.channels)
        m.submodules.channel_counters = chan_counters = CounterBank(4 * self.channels)
        m.submodules.alg_counters = alg_counters = CounterBank(len(AlgUnit) * 8)
        m.submodules.pk = pk = reset_domain(ModExp(max_bits=32 * BUILD.pk_words, mul_bits=BUILD.pk_mul_bits))
        m.submodules.rng = rng = reset_domain(CtrDrbg())

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

        # --- target <-> configuration space and BAR0 (registers and windows)
        word = target.bar_addr
        regions = {name: (offset // 4, offset // 4 + entries * size // 4)
                   for name, (offset, size), entries in (
                       ("ALG_COUNTERS", WINDOWS["ALG_COUNTERS"], len(AlgUnit)),
                       ("CHANNEL_COUNTERS", WINDOWS["CHANNEL_COUNTERS"], self.channels),
                       ("CONTEXT", WINDOWS["CONTEXT"], self.channels),
                       ("PK_OPERANDS", WINDOWS["PK_OPERANDS"], 4))}
        hit = {name: (word >= lo) & (word < hi) for name, (lo, hi) in regions.items()}
        m.d.comb += [
            config.addr.eq(target.cfg_addr), config.we.eq(target.cfg_we),
            config.wdata.eq(target.cfg_wdata), config.wbe.eq(target.cfg_wbe),
            target.cfg_rdata.eq(config.rdata),
            bar.addr.eq(word), bar.we.eq(target.bar_we), bar.wdata.eq(target.bar_wdata),
            bar.wbe.eq(target.bar_wbe),
            alg_counters.bar_addr.eq(word - regions["ALG_COUNTERS"][0]),
            chan_counters.bar_addr.eq(word - regions["CHANNEL_COUNTERS"][0]),
            store.bar_addr.eq(word - regions["CONTEXT"][0]),
            store.bar_we.eq(target.bar_we & hit["CONTEXT"]),
            store.bar_wdata.eq(target.bar_wdata), store.bar_wbe.eq(target.bar_wbe),
            pk.mem_addr.eq(word - regions["PK_OPERANDS"][0]),
            pk.mem_we.eq(target.bar_we & hit["PK_OPERANDS"]), pk.mem_wdata.eq(target.bar_wdata),
            target.bar_rdata.eq(Mux(hit["CONTEXT"], store.bar_rdata,
                                Mux(hit["CHANNEL_COUNTERS"], chan_counters.bar_rdata,
                                Mux(hit["ALG_COUNTERS"], alg_counters.bar_rdata,
                                Mux(hit["PK_OPERANDS"], pk.mem_rdata, bar.rdata))))),
            target.bar_base.eq(cfg("BAR0", "address")),
            target.memory_space.eq(cfg("COMMAND_STATUS", "memory_space")),
            target.parity_error_response.eq(cfg("COMMAND_STATUS", "parity_error_response")),
            target.serr_enable.eq(cfg("COMMAND_STATUS", "serr_enable")),
            target.master_busy.eq(master.owner),
        ]

        # --- the master's buffer: descriptor scratch, input or output buffer
        select = ring.buffer_select
        m.d.comb += [
            ring.scratch_addr.eq(master.buf_addr), ring.scratch_wdata.eq(master.buf_wdata),
            ring.scratch_we.eq(master.buf_we & (select == BufferSelect.SCRATCH)),
            inbuf.bus_addr.eq(master.buf_addr), inbuf.bus_wdata.eq(master.buf_wdata),
            inbuf.bus_we.eq(master.buf_we & (select == BufferSelect.IN)),
            outbuf.bus_addr.eq(master.buf_addr),
            master.buf_rdata.eq(Mux(select == BufferSelect.OUT, outbuf.bus_rdata, ring.scratch_rdata)),
            master.latency_timer.eq(cfg("BIST_HEADER_LATENCY_CACHE", "latency_timer")),
            master.cache_line_size.eq(cfg("BIST_HEADER_LATENCY_CACHE", "cache_line_size")),
            master.parity_error_response.eq(cfg("COMMAND_STATUS", "parity_error_response")),
            master.write.eq(ring.m_write), master.address.eq(ring.m_address),
            master.words.eq(ring.m_words),
            ring.m_done.eq(master.done), ring.m_status.eq(master.status),
            ring.m_error_address.eq(master.error_address), ring.m_moved.eq(master.moved),
            ring.m_parity_error.eq(master.master_parity_error),
        ]
        # Data buffers: the master's bursts at their bases, the datapath between.
        m.d.comb += [
            inbuf.commit.eq(ring.in_commit), outbuf.commit.eq(ring.out_commit),
            inbuf.commit_words.eq(ring.commit_words), outbuf.commit_words.eq(ring.commit_words),
            inbuf.flush.eq(ring.in_flush), outbuf.flush.eq(ring.out_flush),
            ring.in_free.eq(inbuf.free), ring.in_count.eq(inbuf.count),
            ring.out_count.eq(outbuf.count),
        ]
        wiring.connect(m, inbuf.o, pipe.i)
        wiring.connect(m, pipe.o, outbuf.i)
        m.d.comb += [
            pipe.start.eq(ring.job_start), pipe.opcode.eq(ring.job_opcode),
            pipe.length.eq(ring.job_length), pipe.skip_words.eq(ring.job_skip_words),
            pipe.use_cipher.eq(ring.job_cipher), pipe.use_mac.eq(ring.job_mac),
            pipe.icv_words.eq(ring.job_icv_words),
            pipe.cipher_context.eq(store.cipher_context), pipe.mac_context.eq(store.mac_context),
            pipe.limit.eq(ring.job_limit),
            ring.job_done.eq(pipe.done),
            ring.job_status.eq(pipe.status), ring.job_out_bytes.eq(pipe.out_bytes),
            pipe_reset.eq(soft_reset | ring.job_abort),
            store.cipher_channel.eq(ring.cipher_channel), store.mac_channel.eq(ring.mac_channel),
            store.comp_channel.eq(ring.comp_channel), ring.comp_config.eq(store.comp_config),
            pipe.use_comp.eq(ring.job_comp),
            ring.cipher_context.eq(store.cipher_context), ring.mac_context.eq(store.mac_context),
            ring.channels.eq(self.channels),
            ring.enable.eq(reg("RING_CTRL", "enable")), ring.kick.eq(reg("RING_CTRL", "kick")),
            ring.bus_master.eq(cfg("COMMAND_STATUS", "bus_master")),
        ]
        for name in ("cmd", "src", "dst", "res"):
            ring_reg = name.upper()
            m.d.comb += [
                getattr(ring, f"{name}_base").eq(reg(f"{ring_reg}_RING_BASE", "address")),
                getattr(ring, f"{name}_size").eq(reg(f"{ring_reg}_RING_SIZE", "entries")),
                reg(f"{ring_reg}_RING_INDEX", "index").eq(getattr(ring, f"{name}_index")),
            ]

        # --- counters: the ring engine adds, CONTROL.reset clears
        for bank, counters in enumerate((chan_counters, alg_counters)):
            m.d.comb += [
                counters.add.eq(ring.count_add & (ring.count_bank == bank)),
                counters.add_addr.eq(ring.count_addr), counters.add_value.eq(ring.count_value),
                counters.clear.eq(soft_reset),
            ]

        # --- soft reset: retry BAR0 accesses, let the master finish its
        # burst, then reset the registers, rings, buffers and counters
        resetting = Signal()
        countdown = Signal(range(SOFT_RESET_CLOCKS + 1))
        with m.If(reg("CONTROL", "reset")):
            m.d.sync += [resetting.eq(1), countdown.eq(SOFT_RESET_CLOCKS)]
        with m.Elif(resetting & (countdown != 0)):
            m.d.sync += countdown.eq(countdown - 1)
        with m.Elif(resetting & ~master.busy):
            m.d.sync += resetting.eq(0)
            m.d.comb += soft_reset.eq(1)
        m.d.comb += [
            target.retry.eq(resetting | chan_counters.clearing | alg_counters.clearing),
            master.start.eq(ring.m_start & ~resetting),
        ]

        # --- status to the register blocks
        m.d.comb += [
            reg("CAPS", "burst_words").eq(Const(self.burst_words, 8)),
            reg("CHANNELS", "count").eq(self.channels),
            reg("RING_STATUS", "busy").eq(ring.busy),
            reg("RING_STATUS", "cmd_empty").eq(ring.cmd_empty),
            reg("RING_STATUS", "result_full").eq(ring.result_full),
            reg("RING_STATUS", "aborted").eq(ring.aborted),
            reg("RING_STATUS", "abort_status").eq(ring.abort_status),
            reg("JOBS", "count").eq(ring.jobs),
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

        # --- result interrupts, coalesced by count and time
        pending = Signal(9)
        waited = Signal(24)
        threshold = reg("COALESCE", "count")
        timeout = reg("COALESCE", "timeout")
        pending_now = Signal(9)
        m.d.comb += pending_now.eq(pending + ring.result)
        fire = (pending_now != 0) & ((pending_now >= threshold) |
                                     ((timeout != 0) & (waited >= timeout)))
        with m.If(soft_reset | fire):
            m.d.sync += [pending.eq(0), waited.eq(0)]
        with m.Else():
            m.d.sync += pending.eq(pending_now)
            with m.If(pending != 0):
                m.d.sync += waited.eq(waited + 1)
        aborted_before = Signal()
        m.d.sync += aborted_before.eq(ring.aborted)
        m.d.comb += [
            bar.int_status_result_set.eq(fire & ~resetting),
            bar.int_status_ring_error_set.eq(ring.aborted & ~aborted_before),
        ]

        self._key_exchange_units(m, bar, pk, rng, pipe, resetting, soft_reset)

        # --- INTA#: level, registered
        pending_irq = Signal()
        m.d.comb += [
            pending_irq.eq((bar.int_status_result & bar.int_enable_result) |
                           (bar.int_status_ring_error & bar.int_enable_ring_error) |
                           (bar.int_status_pk & bar.int_enable_pk)),
            config.command_status_interrupt_status.eq(pending_irq),
        ]
        m.d.sync += self.inta_n_oe.eq(pending_irq & ~cfg("COMMAND_STATUS", "interrupt_disable"))
        return m

    @staticmethod
    def _key_exchange_units(m, bar, pk, rng, pipe, resetting, soft_reset):
        """Register glue of the public-key unit and the RNG (regmap PK_*, RNG_*;
        the operand window is wired with the other BAR0 windows). The RNG
        serves the registers and the datapath's RANDOM jobs: a job's GENERATE
        wins a clock in which both start (the register start is then lost;
        software waits for RNG_STATUS.busy to fall first), and its blocks go
        to the datapath while it waits for them, else into RNG_OUTPUT.
        TEST_CONTROL.rng_fault drives the DRBG's ``inject_fault`` (both are
        reset by CONTROL.reset, so the power-on self-test after it runs
        without a fault)."""
        reg = bar.field
        # Public-key unit: sizes and watchdog sampled at start; done raises INT_STATUS.pk.
        clocks = Signal(32)
        with m.If(soft_reset):
            m.d.sync += clocks.eq(0)
        with m.Elif(reg("PK_CONTROL", "start") & ~pk.busy):
            m.d.sync += clocks.eq(0)
        with m.Elif(pk.busy):
            m.d.sync += clocks.eq(clocks + 1)
        m.d.comb += [
            pk.start.eq(reg("PK_CONTROL", "start")), pk.abort.eq(reg("PK_CONTROL", "abort")),
            pk.words.eq(reg("PK_SIZE", "words")), pk.exp_bits.eq(reg("PK_SIZE", "exp_bits")),
            pk.watchdog.eq(reg("PK_WATCHDOG", "clocks")),
            reg("PK_STATUS", "busy").eq(pk.busy), reg("PK_STATUS", "status").eq(pk.status),
            reg("PK_STATUS", "max_words").eq(pk.slot_words),
            reg("PK_CLOCKS", "clocks").eq(clocks),
            bar.int_status_pk_set.eq(pk.done & ~resetting),
        ]
        # RNG: seed material from RNG_SEED0.. (byte 0 in RNG_SEED0[7:0], the
        # DRBG's first seed byte in its top bits); one block per GENERATE into RNG_OUTPUT.
        seed_bytes = [reg(f"RNG_SEED{i}", "bytes").word_select(j, 8) for i in range(12) for j in range(4)]
        output = Signal(128)
        valid = Signal()
        job = Signal()                  # the running request is a RANDOM job's
        with m.If(soft_reset | rng.done):
            m.d.sync += job.eq(0)
        with m.Elif(pipe.rng_start):
            m.d.sync += job.eq(1)
        to_pipe = job & pipe.rng_wanted
        with m.If(soft_reset):
            m.d.sync += [valid.eq(0), output.eq(0)]
        with m.Elif(reg("RNG_CONTROL", "start")):
            m.d.sync += valid.eq(0)
        with m.Elif(rng.o.valid & ~job):
            m.d.sync += [output.eq(rng.o.payload), valid.eq(1)]
        m.d.comb += [
            rng.command.eq(Mux(pipe.rng_start, DrbgCommand.GENERATE, reg("RNG_CONTROL", "command"))),
            rng.start.eq(reg("RNG_CONTROL", "start") | pipe.rng_start),
            rng.blocks.eq(Mux(pipe.rng_start, pipe.rng_blocks, 1)),
            rng.seed.eq(Cat(*reversed(seed_bytes))),
            rng.inject_fault.eq(reg("TEST_CONTROL", "rng_fault")),
            rng.o.ready.eq(Mux(to_pipe, pipe.rng.ready, 1)),
            pipe.rng.payload.eq(rng.o.payload), pipe.rng.valid.eq(rng.o.valid & to_pipe),
            pipe.rng_busy.eq(rng.busy), pipe.rng_done.eq(rng.done & job), pipe.rng_status.eq(rng.status),
            reg("RNG_STATUS", "busy").eq(rng.busy), reg("RNG_STATUS", "ready").eq(rng.ready_for_use),
            reg("RNG_STATUS", "valid").eq(valid), reg("RNG_STATUS", "status").eq(rng.status),
            *(reg(f"RNG_OUTPUT{i}", "bytes").eq(Cat(*(output.word_select(15 - (4 * i + j), 8) for j in range(4))))
              for i in range(4)),
        ]


class _CardCore(Elaboratable):
    """Elaborates :meth:`PacCard.elaborate_core` as a submodule of its own."""

    def __init__(self, card):
        self.card = card

    def elaborate(self, platform):
        return self.card.elaborate_core(platform)
