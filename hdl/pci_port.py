# Ref: PCI Local Bus Specification 2.3, chapter 2 (signal definition)
"""The conventional PCI signal set, as seen by one agent.

Every bused PCI signal that an agent may drive is split into three ports:
``<name>_i`` (the resolved bus level, sampled on the rising edge of CLK),
``<name>_o`` (the level this agent drives) and ``<name>_oe`` (1 while this
agent drives it). All levels are *bus levels*: the active-low signals carry
their ``_n`` suffix and are asserted at 0. Point-to-point signals (IDSEL,
REQ#, GNT#) have one direction only; the open-drain signals (INTA#, SERR#)
are driven only low, so their ``_o`` is the constant 0 and only ``_oe``
matters.

Signals (32-bit, 33 MHz conventional PCI):

=========== ===== ==========================================================
name        width meaning
=========== ===== ==========================================================
ad          32    multiplexed address / data
cbe_n       4     bus command (address phase) / byte enables (data phases)
par         1     even parity over AD[31:0] and C/BE#[3:0], one clock late
frame_n     1     FRAME#: a transaction is in progress, last data phase next
irdy_n      1     IRDY#: initiator ready
trdy_n      1     TRDY#: target ready
devsel_n    1     DEVSEL#: a target claimed the transaction
stop_n      1     STOP#: target asks to stop (retry, disconnect, abort)
perr_n      1     PERR#: data parity error, two clocks after the data phase
serr_n      1     SERR#: system error (address parity), open drain
inta_n      1     INTA#: level-sensitive interrupt, open drain
idsel       1     IDSEL: configuration chip select (input)
req_n       1     REQ#: this agent requests the bus (output)
gnt_n       1     GNT#: the arbiter grants the bus (input)
=========== ===== ==========================================================

CLK and RST# are the clock and reset of the agent's ``sync`` domain.
"""
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["TRISTATE_SIGNALS", "OPEN_DRAIN_SIGNALS", "PciSignature"]

#: name -> width of the signals every agent may drive and sample.
TRISTATE_SIGNALS = {
    "ad": 32, "cbe_n": 4, "par": 1, "frame_n": 1, "irdy_n": 1, "trdy_n": 1,
    "devsel_n": 1, "stop_n": 1, "perr_n": 1,
}
#: Open-drain outputs: only ``_oe`` (pull low) is meaningful.
OPEN_DRAIN_SIGNALS = ("serr_n", "inta_n")


class PciSignature(wiring.Signature):
    """One PCI agent's port set (the card's top-level ports).

    Members, for each tri-state signal ``s`` of :data:`TRISTATE_SIGNALS`:
    ``s_i`` (In), ``s_o`` (Out), ``s_oe`` (Out, 1 bit); for each open-drain
    signal ``s``: ``s_oe`` (Out); and ``idsel`` (In), ``req_n`` (Out),
    ``gnt_n`` (In).
    """

    def __init__(self):
        members = {}
        for name, width in TRISTATE_SIGNALS.items():
            members[f"{name}_i"] = In(width)
            members[f"{name}_o"] = Out(width)
            members[f"{name}_oe"] = Out(1)
        for name in OPEN_DRAIN_SIGNALS:
            members[f"{name}_oe"] = Out(1)
        members["idsel"] = In(1)
        members["req_n"] = Out(1, init=1)
        members["gnt_n"] = In(1, init=1)
        super().__init__(members)
