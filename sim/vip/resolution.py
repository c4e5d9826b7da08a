# Ref: PCI Local Bus Specification 2.3 sections 2.1 (signal types), 3.1 (bus states)
"""Bus resolution: turns every agent's ``_o``/``_oe`` pair into the bus level.

A PCI bus is a set of wires shared by tri-state and open-drain drivers. The
simulation has no real tri-states: each agent exposes ``<s>_o``/``<s>_oe``
(see :mod:`pacsim.hdl.pci_port`) and :class:`BusResolver` computes, every
clock period (purely combinationally), the level an agent samples at the next
rising edge, and which agents drove each signal (for the protocol checker).

Resolution, for each signal ``s``:

* tri-state signals of :data:`TRISTATE_SIGNALS`: the OR of ``s_o & s_oe`` over
  all agents; when no agent drives, the pull level: 1 (pull-up) for the
  sustained tri-state controls ``frame_n irdy_n trdy_n devsel_n stop_n
  perr_n``, 0 for ``ad cbe_n par`` (their value is then meaningless; 0 keeps
  traces clean). Two drivers at once is a contention the checker flags; the
  OR is only a deterministic stand-in for it.
* open-drain signals ``serr_n`` and ``inta_n``: 0 if any agent's ``_oe`` is 1,
  else 1 (pull-up). Several drivers at once are legal (wired-OR).

Wiring in the testbench top (recommended agent order, which the checker's
``n_masters`` relies on: bus masters first, in arbiter REQ#/GNT# order)::

    res = BusResolver(3)      # 0 = card, 1 = host-bridge initiator, 2 = host memory
    connect_agent(m, res.agent[0], card.pci)        # PciSignature port
    connect_agent(m, res.agent[1], bridge.bus)      # cocotb-driven initiator
    wiring.connect(m, res.agent[2], hostmem.bus)    # PciBusSignature port
    wiring.connect(m, res.bus, checker.bus)         # resolved levels + driver masks

The resolved levels are fed back to every agent's ``<s>_i`` member, and are
also available on ``res.bus.<s>`` for the arbiter, checker and cocotb.
"""
from amaranth.hdl import Cat, Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from pacsim.hdl.pci_port import OPEN_DRAIN_SIGNALS, TRISTATE_SIGNALS, PciSignature

__all__ = ["PULL_UP_SIGNALS", "PciBusSignature", "ResolvedBusSignature",
           "BusResolver", "connect_agent"]

#: Sustained tri-state signals; resolved to 1 (deasserted) when nobody drives.
PULL_UP_SIGNALS = ("frame_n", "irdy_n", "trdy_n", "devsel_n", "stop_n", "perr_n")


class PciBusSignature(wiring.Signature):
    """The shared-bus subset of :class:`~pacsim.hdl.pci_port.PciSignature`.

    Members, seen from the agent: for each tri-state signal ``s`` (widths as
    in :data:`TRISTATE_SIGNALS`) ``s_i`` In, ``s_o`` Out, ``s_oe`` Out(1); for
    ``serr_n`` and ``inta_n`` only ``s_oe`` Out(1) (pull low). Point-to-point
    IDSEL/REQ#/GNT# are not part of the shared bus (see :class:`Arbiter`).
    """

    def __init__(self):
        point_to_point = ("idsel", "req_n", "gnt_n")
        super().__init__({name: member for name, member in PciSignature().members.items()
                          if name not in point_to_point})


class ResolvedBusSignature(wiring.Signature):
    """Resolved bus levels plus per-signal driver masks, for ``n_agents`` agents.

    Members (Out, from the resolver's point of view), for each signal ``s`` of
    :data:`TRISTATE_SIGNALS` and :data:`OPEN_DRAIN_SIGNALS`: ``s`` (the bus
    level, same width as the signal) and ``s_drv`` (``n_agents`` bits, bit k =
    agent k drives ``s`` in this clock period).
    """

    def __init__(self, n_agents):
        self.n_agents = n_agents
        members = {}
        for name, width in TRISTATE_SIGNALS.items():
            members[name] = Out(width, init=1 if name in PULL_UP_SIGNALS else 0)
            members[f"{name}_drv"] = Out(n_agents)
        for name in OPEN_DRAIN_SIGNALS:
            members[name] = Out(1, init=1)
            members[f"{name}_drv"] = Out(n_agents)
        super().__init__(members)


class BusResolver(wiring.Component):
    """Combinational resolution of the shared PCI bus for ``n_agents`` agents.

    Ports (all combinational, bus levels, no clock):

    ``agent[k]`` (k < ``n_agents``), flipped :class:`PciBusSignature`:
        In ``<s>_o`` (signal width) / ``<s>_oe`` (1): what agent k drives;
        Out ``<s>_i`` (signal width): the resolved level fed back to agent k.
        Open drain: In ``serr_n_oe`` / ``inta_n_oe`` (1).
    ``bus``, :class:`ResolvedBusSignature` (Out):
        ``<s>``: resolved level; ``<s>_drv`` (``n_agents`` bits): driver mask,
        bit k set while agent k's ``_oe`` is 1.
    """

    def __init__(self, n_agents):
        if n_agents < 1:
            raise ValueError("need at least one agent")
        self.n_agents = n_agents
        super().__init__({
            "agent": In(PciBusSignature()).array(n_agents),
            "bus": Out(ResolvedBusSignature(n_agents)),
        })

    def elaborate(self, platform):
        m = Module()
        for name, width in TRISTATE_SIGNALS.items():
            oes = [getattr(a, f"{name}_oe") for a in self.agent]
            masked = Const(0, width)
            for agent, oe in zip(self.agent, oes):
                masked = masked | (getattr(agent, f"{name}_o") & oe.replicate(width))
            pull = Const((1 << width) - 1 if name in PULL_UP_SIGNALS else 0, width)
            level = getattr(self.bus, name)
            drv = getattr(self.bus, f"{name}_drv")
            m.d.comb += [
                drv.eq(Cat(*oes)),
                level.eq(masked | (pull & (drv == 0).replicate(width))),
            ]
            for agent in self.agent:
                m.d.comb += getattr(agent, f"{name}_i").eq(level)
        for name in OPEN_DRAIN_SIGNALS:
            drv = getattr(self.bus, f"{name}_drv")
            m.d.comb += [
                drv.eq(Cat(*(getattr(a, f"{name}_oe") for a in self.agent))),
                getattr(self.bus, name).eq(drv == 0),
            ]
        return m


def connect_agent(m, resolver_port, agent_port):
    """Wire ``resolver_port`` (``resolver.agent[k]``) to an agent's bus port.

    ``agent_port`` may be a :class:`PciBusSignature` or a full
    :class:`~pacsim.hdl.pci_port.PciSignature` interface (its IDSEL, REQ# and
    GNT# members are left for the top level to wire to the arbiter).
    """
    for name, member in PciBusSignature().members.items():
        ours, theirs = getattr(resolver_port, name), getattr(agent_port, name)
        if member.flow == Out:
            m.d.comb += ours.eq(theirs)
        else:
            m.d.comb += theirs.eq(ours)
