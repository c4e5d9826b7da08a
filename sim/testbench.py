# Ref: PCI Local Bus Specification 2.3 sections 2.2.1 (RST#), 3.4 (arbitration)
"""The PCI test bench: one or more cards on a bus with a host bridge, host memory, an arbiter and a checker.

Everything that acts per clock is HDL, so cocotb works per transaction. With
``cards`` = n:

===================== =========================================== ==========
agent                 what                                        arbiter
===================== =========================================== ==========
0 ``card``            the PAC (:class:`~pacsim.hdl.card.PacCard`) master 0
``card<k>``, k ≥ 1    further PACs, the same design (a router     master k
                      with two cards, or two routers' cards on
                      one backplane)
n host bridge         a :class:`~pacsim.hdl.pci_master.PciMaster` master n
                      with a burst buffer, commanded from cocotb
n+1 ``hostmem``       :class:`~.vip.hostmem.HostMemory`, the
                      memory every card's DMA reads and writes
===================== =========================================== ==========

plus :class:`~.vip.resolution.BusResolver`, :class:`~.vip.arbiter.Arbiter`
(round robin over all masters) and :class:`~.vip.checker.ProtocolChecker`
(and, on Icarus, the X/Z monitor). RST# releases every agent's outputs at
once (section 2.2.1): the cards by their asynchronous reset, host memory and
the arbiter by gating their enables and GNT# with RST#, the host bridge here
(its enables gated, its REQ# deasserted). Card k sits in slot k: its device
number is ``CARD_DEVICES[k]`` (IDSEL = AD[11 + device]) and its INTA# pin is routed
to its own interrupt-controller input, bit k of ``inta_n``, as a host
bridge's interrupt router gives each slot its own PIRQ line.

Top-level ports (Python's handles on the bench):

===================== ===== ===== ============================================
port                  dir   width meaning
===================== ===== ===== ============================================
``clk`` ``rst``       In    1     PCI CLK; RST# asserted while ``rst`` is 1
``hb_start``          In    1     pulse: the host bridge runs one transaction
``hb_command``        In    4     PCI command (0: memory read/write by
                                  ``hb_write``)
``hb_write``          In    1     1: data from ``hb_buffer`` to the target
``hb_address``        In    32    byte address (config: IDSEL bits + offset)
``hb_words``          In    5     dwords, 1..16
``hb_byte_enables``   In    4     active-high byte enables of every data phase
``hb_par_invert``     In    2     fault injection: invert the bridge's PAR
                                  for the address phase (bit 0) and for
                                  data phases (bit 1)
``hb_busy``           Out   1     the transaction is running
``hb_status``         Out   2     MasterStatus when it ended
``hb_retries``        Out   32    Retries the bridge has been answered with
``hb_disconnects``    Out   32    Disconnects the bridge has been answered with
``hb_buffer``         mem   16x32 burst data (cocotb reads/writes it directly)
``mem_*``             In          host-memory behaviour (see HostMemory)
``mem_reads`` ...     Out   32    host-memory counters (reads, writes,
                                  retries, disconnects, target_aborts,
                                  parity_errors)
``arb_preempt``       In    16    arbiter pre-emption, clocks (0 = never)
``inta_n``            Out   n     INTA# of card k (bit k) at the interrupt
                                  controller
``chk_*``             Out         protocol checker status; ``chk_clear`` In
``ann_*``             In          bench-only annotations (:mod:`.annotations`):
                                  the job, channel, packet and phase being
                                  served; nothing reads them
===================== ===== ===== ============================================

The submodule ``mon`` (:class:`~.vip.transactions.TransactionMonitor`)
decodes each bus transaction for the waveforms; it drives nothing.
"""
from amaranth import Cat, ClockDomain, ClockSignal, Elaboratable, Module, Mux, ResetSignal, Signal
from amaranth.lib.memory import Memory

from ..contract.build import BUILD
from ..hdl.card import PacCard
from ..hdl.pci_master import PciMaster
from ..hdl.pci_port import OPEN_DRAIN_SIGNALS, TRISTATE_SIGNALS
from .annotations import ANNOTATIONS, annotation_port
from .vip.arbiter import Arbiter
from .vip.checker import ProtocolChecker
from .vip.hostmem import HostMemory
from .vip.resolution import BusResolver, PciBusSignature, connect_agent
from .vip.rules import Rule
from .vip.transactions import TransactionMonitor

__all__ = ["PciTestbench", "CARD_DEVICES", "MAX_CARDS", "HOSTMEM_BASE", "MMIO_WINDOW", "BRIDGE_BURST_WORDS",
           "MEMORY_CONFIG", "MEMORY_STATS"]

#: Device numbers on bus 0 of the cards in slots 0, 1, ... (IDSEL = AD[11 + device]).
CARD_DEVICES = (4, 5, 6, 7)
#: Most cards one bench holds.
MAX_CARDS = len(CARD_DEVICES)
#: Host memory starts at bus address 0.
HOSTMEM_BASE = 0x0000_0000
#: Where the host may place BARs: (base, size).
MMIO_WINDOW = (0x8000_0000, 0x1000_0000)
#: Longest host-bridge burst, dwords.
BRIDGE_BURST_WORDS = 16

#: Host-memory configuration inputs, exposed as ``mem_<name>``.
MEMORY_CONFIG = ("devsel_speed", "seed", "wait_rate", "initial_wait", "retry_rate",
                 "disconnect_rate", "abort_lo", "abort_hi", "perr_enable")
#: Host-memory counters, exposed as ``mem_<name>``.
MEMORY_STATS = ("reads", "writes", "retries", "disconnects", "target_aborts", "parity_errors")


class PciTestbench(Elaboratable):
    """Elaboratable bench; convert with ``ports=bench.ports()``.

    ``cards``: PACs on the bus (1 to :data:`MAX_CARDS`); ``burst_words``:
    each card's DMA buffer, dwords; ``hostmem_bytes``: host memory;
    ``xcheck``: add the X/Z monitor (4-state simulators).
    """

    def __init__(self, burst_words: int = BUILD.burst_words, hostmem_bytes: int = 256 * 1024, xcheck: bool = False,
                 cards: int = 1):
        if not 1 <= cards <= MAX_CARDS:
            raise ValueError(f"{cards} cards; a bench holds 1 to {MAX_CARDS}")
        self.cards = [PacCard(burst_words=burst_words) for _ in range(cards)]
        self.bridge = PciMaster(BRIDGE_BURST_WORDS)
        self.hostmem = HostMemory(HOSTMEM_BASE, hostmem_bytes)
        self.xcheck = xcheck

        self.clk = Signal()
        self.rst = Signal()
        self.hb_start = Signal()
        self.hb_command = Signal(4)
        self.hb_write = Signal()
        self.hb_address = Signal(32)
        self.hb_words = Signal(5)
        self.hb_byte_enables = Signal(4)
        self.hb_par_invert = Signal(2)
        self.hb_busy = Signal()
        self.hb_status = Signal(2)
        self.hb_retries = Signal(32)
        self.hb_disconnects = Signal(32)
        self.arb_preempt = Signal(16)
        self.inta_n = Signal(cards, init=(1 << cards) - 1)
        self.chk_clear = Signal()
        self.chk_violations = Signal(len(Rule))
        self.chk_first_rule = Signal(8)
        self.chk_first_cycle = Signal(32)
        self.chk_count = Signal(32)
        self.chk_cycle = Signal(32)
        self.mem_config = {name: Signal(len(getattr(self.hostmem, name)), name=f"mem_{name}")
                           for name in MEMORY_CONFIG}
        self.mem_stats = {name: Signal(32, name=f"mem_{name}") for name in MEMORY_STATS}
        self.annotations = {name: Signal(shape, name=annotation_port(name)) for name, shape in ANNOTATIONS.items()}

    def ports(self):
        inputs = [self.clk, self.rst, self.hb_start, self.hb_command, self.hb_write,
                  self.hb_address, self.hb_words, self.hb_byte_enables, self.hb_par_invert,
                  self.arb_preempt, self.chk_clear, *self.mem_config.values(), *self.annotations.values()]
        outputs = [self.hb_busy, self.hb_status, self.hb_retries, self.hb_disconnects, self.inta_n, self.chk_violations,
                   self.chk_first_rule, self.chk_first_cycle, self.chk_count, self.chk_cycle,
                   *self.mem_stats.values()]
        return inputs + outputs

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = ClockDomain("sync")
        m.d.comb += [ClockSignal("sync").eq(self.clk), ResetSignal("sync").eq(self.rst)]

        n = len(self.cards)
        m.submodules.bridge = bridge = self.bridge
        m.submodules.hostmem = hostmem = self.hostmem
        m.submodules.res = res = BusResolver(n + 2)
        m.submodules.arbiter = arbiter = Arbiter(n + 1)
        m.submodules.checker = checker = ProtocolChecker(n_agents=n + 2, n_masters=n + 1)
        m.submodules.hb_buffer = hb_buffer = Memory(shape=32, depth=BRIDGE_BURST_WORDS, init=[])

        # Named copies of the resolved bus for waveforms.
        for name, width in TRISTATE_SIGNALS.items():
            wire = Signal(width, name=f"bus_{name}")
            m.d.comb += wire.eq(getattr(res.bus, name))
        for name in OPEN_DRAIN_SIGNALS:
            wire = Signal(name=f"bus_{name}")
            m.d.comb += wire.eq(getattr(res.bus, name))

        # --- the cards: slot k is agent k, arbiter master k, device CARD_DEVICES[k]
        requests, grants = [], []
        for k, card in enumerate(self.cards):
            name = "card" if k == 0 else f"card{k}"
            m.submodules[name] = card
            m.d.comb += [card.clk.eq(ClockSignal("sync")), card.rst_n.eq(~ResetSignal("sync"))]
            connect_agent(m, res.agent[k], card)
            idsel = Signal(name=f"{name}_idsel")
            req_n, gnt_n = Signal(name=f"{name}_req_n"), Signal(name=f"{name}_gnt_n")
            m.d.comb += [idsel.eq(res.bus.ad[11 + CARD_DEVICES[k]]), card.idsel.eq(idsel),
                         req_n.eq(card.req_n), card.gnt_n.eq(gnt_n), gnt_n.eq(arbiter.gnt_n[k]),
                         self.inta_n[k].eq(~card.inta_n_oe)]
            requests.append(req_n)

        # --- the host bridge: a PciMaster with a buffer cocotb fills and reads
        port = PciBusSignature().create(path=("hb",))
        # PAR in the clock after the address phase covers the address.
        par_for_address = Signal()
        m.d.sync += par_for_address.eq(bridge.frame_n_oe & ~bridge.irdy_n_oe)
        par_invert = Signal()
        m.d.comb += par_invert.eq(Mux(par_for_address, self.hb_par_invert[0], self.hb_par_invert[1]))
        in_reset = ResetSignal("sync")
        for name in PciBusSignature().members:
            if hasattr(bridge, name):
                ours = getattr(port, name)
                if name.endswith("_i"):
                    m.d.comb += getattr(bridge, name).eq(ours)
                elif name == "par_o":
                    m.d.comb += ours.eq(bridge.par_o ^ par_invert)
                elif name.endswith("_oe"):      # released the moment RST# is asserted
                    m.d.comb += ours.eq(getattr(bridge, name) & ~in_reset)
                else:
                    m.d.comb += ours.eq(getattr(bridge, name))
        connect_agent(m, res.agent[n], port)
        wr, rd = hb_buffer.write_port(), hb_buffer.read_port()
        m.d.comb += [
            bridge.trdy_n_i.eq(res.bus.trdy_n), bridge.devsel_n_i.eq(res.bus.devsel_n),
            bridge.stop_n_i.eq(res.bus.stop_n), bridge.perr_n_i.eq(res.bus.perr_n),
            wr.addr.eq(bridge.buf_addr), wr.data.eq(bridge.buf_wdata), wr.en.eq(bridge.buf_we),
            rd.addr.eq(bridge.buf_addr), bridge.buf_rdata.eq(rd.data),
            bridge.start.eq(self.hb_start), bridge.command.eq(self.hb_command),
            bridge.write.eq(self.hb_write), bridge.address.eq(self.hb_address),
            bridge.words.eq(self.hb_words), bridge.byte_enables.eq(self.hb_byte_enables),
            bridge.parity_error_response.eq(1),
            self.hb_busy.eq(bridge.busy), self.hb_status.eq(bridge.status),
        ]
        with m.If(bridge.retry):
            m.d.sync += self.hb_retries.eq(self.hb_retries + 1)
        with m.If(bridge.disconnect):
            m.d.sync += self.hb_disconnects.eq(self.hb_disconnects + 1)

        # --- host memory
        connect_agent(m, res.agent[n + 1], hostmem.bus)
        for name, signal in self.mem_config.items():
            m.d.comb += getattr(hostmem, name).eq(signal)
        for name, signal in self.mem_stats.items():
            m.d.comb += signal.eq(getattr(hostmem, name))

        # --- arbitration: masters 0..n-1 = the cards, master n = host bridge
        hb_req_n, hb_gnt_n = Signal(name="hb_req_n"), Signal(name="hb_gnt_n")
        m.d.comb += [
            hb_req_n.eq(bridge.req_n | in_reset), arbiter.req_n.eq(Cat(*requests, hb_req_n)),
            hb_gnt_n.eq(arbiter.gnt_n[n]), bridge.gnt_n.eq(hb_gnt_n),
            arbiter.frame_n.eq(res.bus.frame_n), arbiter.irdy_n.eq(res.bus.irdy_n),
            arbiter.trdy_n.eq(res.bus.trdy_n), arbiter.stop_n.eq(res.bus.stop_n),
            arbiter.preempt.eq(self.arb_preempt),
        ]

        # --- protocol checker (and the X/Z monitor on 4-state simulators)
        for name in res.bus.signature.members:
            m.d.comb += getattr(checker.bus, name).eq(getattr(res.bus, name))
        m.d.comb += [
            checker.gnt_n.eq(arbiter.gnt_n), checker.req_n.eq(arbiter.req_n),
            checker.clear.eq(self.chk_clear),
            self.chk_violations.eq(checker.violations), self.chk_first_rule.eq(checker.first_rule),
            self.chk_first_cycle.eq(checker.first_cycle), self.chk_count.eq(checker.count),
            self.chk_cycle.eq(checker.cycle),
        ]
        m.submodules.mon = mon = TransactionMonitor(n + 2)
        for name in ("frame_n", "irdy_n", "trdy_n", "devsel_n", "stop_n", "ad", "cbe_n"):
            m.d.comb += getattr(mon, name).eq(getattr(res.bus, name))
        m.d.comb += mon.frame_drv.eq(res.bus.frame_n_drv)
        if self.xcheck:
            from .vip.xcheck import XCheck
            m.submodules.xcheck = xcheck = XCheck(n_agents=n + 2)
            for name in res.bus.signature.members:
                m.d.comb += getattr(xcheck.bus, name).eq(getattr(res.bus, name))
            m.d.comb += [xcheck.clear.eq(self.chk_clear), checker.xz.eq(xcheck.xz_seen)]
        return m
