# Ref: PCI Local Bus Specification 2.3 section 3.2.4 (bus driving: driven signals carry valid levels)
"""Amaranth wrapper around the hand-written ``xcheck.v`` (module ``pacsim_xcheck``).

X/Z can only exist in a 4-state simulator (Icarus); Verilator and Amaranth's
own simulator are 2-state, so there the check can never fire (and Amaranth's
simulator cannot simulate the :class:`~amaranth.hdl.Instance` at all: only
use :class:`XCheck` in a design converted to Verilog). The top level
instantiates it next to the checker and adds :data:`XCHECK_VERILOG` to the
simulator's sources::

    m.submodules.xcheck = xc = XCheck(n_agents)
    wiring.connect(m, res.bus, xc.bus)     # or connect(m, res.bus, chk.bus, xc.bus)
    m.d.comb += [xc.clear.eq(chk.clear), chk.xz.eq(xc.xz_seen)]

Ports:

============ ===== =============== ==============================================
port         dir   width           meaning / timing
============ ===== =============== ==============================================
``bus``      In    --              ResolvedBusSignature(n_agents): every level and
                                   driver mask is checked at each rising edge
``clear``    In    1               synchronous clear of ``xz_seen``
``xz_seen``  Out   1               sticky, 1 from the edge after an X/Z was seen
============ ===== =============== ==============================================

Not checked while RST# (the ``sync`` reset) is asserted.
"""
from pathlib import Path

from amaranth.hdl import Cat, ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .resolution import ResolvedBusSignature

__all__ = ["XCHECK_VERILOG", "XCheck"]

#: Path of the Verilog source to add to the simulator's file list.
XCHECK_VERILOG = Path(__file__).with_name("xcheck.v")


class XCheck(wiring.Component):
    """Instance of ``pacsim_xcheck`` over all resolved bus signals; see module docstring."""

    def __init__(self, n_agents):
        self.n_agents = n_agents
        super().__init__({
            "bus": In(ResolvedBusSignature(n_agents)),
            "clear": In(1),
            "xz_seen": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        flat = Cat(*(getattr(self.bus, name) for name in self.bus.signature.members))
        m.submodules.xcheck = Instance(
            "pacsim_xcheck",
            p_W=len(flat),
            i_clk=ClockSignal("sync"),
            i_rst=ResetSignal("sync"),
            i_clear=self.clear,
            i_bus=flat,
            o_xz_seen=self.xz_seen,
        )
        return m
