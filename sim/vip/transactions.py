# Ref: PCI Local Bus Specification 2.3 sections 3.2-3.3 (transactions, terminations)
"""Passive PCI transaction monitor: one decoded row per bus transaction, for waveforms.

It watches the resolved bus (:class:`~.resolution.BusResolver`) and
describes the transaction in progress, or the last one, with enum-shaped
signals whose names the Verilog carries (``enum_value_*`` attributes), so
the waveform filters (:mod:`pacsim.sim.wave_filters`) show them by name.
It drives nothing back: the bench's behaviour is the same with or without
it. Timing words follow :mod:`.checker`: signals are sampled at rising
CLK edges; the *address edge* is FRAME# asserted after an idle edge (FRAME#
and IRDY# deasserted); a data phase *completes* at an edge with IRDY# and
(TRDY# or STOP#) asserted.

Ports (``n_agents`` = agents on the resolver):

================ ===== =========== ==============================================
port             dir   width       meaning
================ ===== =========== ==============================================
``frame_n`` ...  In    1           resolved FRAME#, IRDY#, TRDY#, DEVSEL#, STOP#
``ad``           In    32          resolved AD
``cbe_n``        In    4           resolved C/BE#
``frame_drv``    In    n_agents    who drives FRAME# (one-hot agent mask)
``phase``        Out   BusPhase    IDLE, ADDRESS (combinational with the bus),
                                   DATA (until the idle edge)
``command``      Out   PciCommand  C/BE# of the address phase (held after)
``address``      Out   32          AD of the address phase (held after)
``initiator``    Out   n_agents    FRAME# driver mask at the address phase
``byte_enables`` Out   4           active-high byte enables of the data phase
``words``        Out   16          data phases completed with TRDY#
``termination``  Out   Termination NONE while running; how it ended, from the
                                   clock after its idle edge
``count``        Out   32          transactions started
================ ===== =========== ==============================================
"""
from amaranth import Elaboratable, Module, Mux, Signal
from amaranth.lib import enum

from pacsim.hdl.pci_protocol import PciCommand

__all__ = ["BusPhase", "Termination", "TransactionMonitor"]


class BusPhase(enum.Enum, shape=2):
    """Where the bus is in a transaction."""
    IDLE = 0
    ADDRESS = 1
    DATA = 2


class Termination(enum.Enum, shape=3):
    """How a transaction ended (PCI 2.3 section 3.3.3)."""
    NONE = 0                        #: running, or none yet
    COMPLETED = 1                   #: the master ended it (final data phase with TRDY#)
    RETRY = 2                       #: STOP# without TRDY# before any data
    DISCONNECT_WITH_DATA = 3        #: STOP# together with TRDY#
    DISCONNECT_WITHOUT_DATA = 4     #: STOP# without TRDY# after data
    MASTER_ABORT = 5                #: no DEVSEL#
    TARGET_ABORT = 6                #: STOP# with DEVSEL# deasserted


class TransactionMonitor(Elaboratable):
    """The decoded transaction row; see the module docstring for ports."""

    def __init__(self, n_agents: int):
        self.frame_n, self.irdy_n, self.trdy_n = Signal(init=1), Signal(init=1), Signal(init=1)
        self.devsel_n, self.stop_n = Signal(init=1), Signal(init=1)
        self.ad, self.cbe_n = Signal(32), Signal(4)
        self.frame_drv = Signal(n_agents)
        self.phase = Signal(BusPhase)
        self.command = Signal(PciCommand)
        self.address = Signal(32)
        self.initiator = Signal(n_agents)
        self.byte_enables = Signal(4)
        self.words = Signal(16)
        self.termination = Signal(Termination)
        self.count = Signal(32)

    def elaborate(self, platform):
        m = Module()
        idle_before = Signal(init=1)        # the previous edge was idle
        active = Signal()                   # between the address edge and the idle edge
        devsel_seen, aborted, stopped, stop_with_data = Signal(), Signal(), Signal(), Signal()
        command_q, address_q = Signal(4), Signal(32)   # the address phase's, held after it

        idle = self.frame_n & self.irdy_n
        address_edge = ~self.frame_n & idle_before
        completes = ~self.irdy_n & (~self.trdy_n | ~self.stop_n)
        m.d.sync += idle_before.eq(idle)
        m.d.comb += [
            self.phase.eq(Mux(address_edge, BusPhase.ADDRESS, Mux(active, BusPhase.DATA, BusPhase.IDLE))),
            self.command.eq(Mux(address_edge, self.cbe_n, command_q)),
            self.address.eq(Mux(address_edge, self.ad, address_q)),
        ]
        with m.If(address_edge):
            m.d.sync += [active.eq(1), command_q.eq(self.cbe_n), address_q.eq(self.ad),
                         self.initiator.eq(self.frame_drv), self.words.eq(0), self.count.eq(self.count + 1),
                         self.termination.eq(Termination.NONE), devsel_seen.eq(0), aborted.eq(0),
                         stopped.eq(0), stop_with_data.eq(0)]
        with m.Elif(active & idle):
            m.d.sync += active.eq(0)
            with m.If(~devsel_seen):
                m.d.sync += self.termination.eq(Termination.MASTER_ABORT)
            with m.Elif(aborted):
                m.d.sync += self.termination.eq(Termination.TARGET_ABORT)
            with m.Elif(stopped & stop_with_data):
                m.d.sync += self.termination.eq(Termination.DISCONNECT_WITH_DATA)
            with m.Elif(stopped & (self.words == 0)):
                m.d.sync += self.termination.eq(Termination.RETRY)
            with m.Elif(stopped):
                m.d.sync += self.termination.eq(Termination.DISCONNECT_WITHOUT_DATA)
            with m.Else():
                m.d.sync += self.termination.eq(Termination.COMPLETED)
        with m.Elif(active):
            with m.If(~self.devsel_n):
                m.d.sync += devsel_seen.eq(1)
            with m.If(~self.stop_n & self.devsel_n & devsel_seen):
                m.d.sync += aborted.eq(1)
            with m.If(~self.irdy_n):
                m.d.sync += self.byte_enables.eq(~self.cbe_n)
            with m.If(completes & ~self.trdy_n):
                m.d.sync += self.words.eq(self.words + 1)
            with m.If(completes & ~self.stop_n & ~stopped):
                m.d.sync += [stopped.eq(1), stop_with_data.eq(~self.trdy_n)]
        return m
