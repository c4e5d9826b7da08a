# Ref: PCI Local Bus Specification 2.3 sections 2.2.1 (RST#), 3.2-3.8 (protocol rules)
"""Rule identifiers of the PCI protocol checker: the single source of truth.

``Rule`` members are numbered from 0 in definition order; the checker's
``violations`` output has bit ``Rule.X`` set once rule X was violated, and
``first_rule`` holds the number of the first one. Every member carries a
one-line ``description``. Timing words follow the checker's convention: an
*edge* is a rising CLK edge where all signals are sampled; ``A`` is the
address edge (FRAME# first sampled asserted after an idle edge), a data phase
*completes* at an edge with IRDY# and (TRDY# or STOP#) asserted.
"""
import enum

__all__ = ["Rule", "RESET_RULES"]


class Rule(enum.IntEnum):
    """A PCI protocol rule the checker enforces; ``Rule.X.description`` quotes it."""

    def __new__(cls, description):
        value = len(cls.__members__)
        obj = int.__new__(cls, value)
        obj._value_ = value
        obj._description = description
        return obj

    @property
    def description(self):
        """One-line statement of the rule."""
        return self._description

    FRAME_WITHOUT_IRDY = (
        "FRAME# may only be deasserted while IRDY# is asserted (3.3.3.1)")
    IRDY_OUTSIDE_TRANSACTION = (
        "IRDY# asserted outside a transaction (at the address edge or after the final data phase)")
    IRDY_RELEASED_EARLY = (
        "IRDY# deasserted before its data phase completed (other than after master-abort)")
    TARGET_WITHOUT_DEVSEL = (
        "TRDY# or STOP# asserted without DEVSEL# (STOP# alone allowed after DEVSEL#: target-abort)")
    DEVSEL_LATE = (
        "DEVSEL# first asserted later than subtractive timing (A+4) during a transaction")
    MASTER_ABORT_MISSING = (
        "no DEVSEL# by A+4 but the master did not master-abort "
        "(FRAME# still asserted at A+5 or IRDY# at A+6)")
    DEVSEL_DROPPED = (
        "DEVSEL# deasserted before the final data phase completed, without STOP# (not a target-abort)")
    TARGET_NOT_HELD = (
        "TRDY#/STOP# changed after TRDY# or STOP# was asserted and before the data phase completed, "
        "or STOP# released before the final data phase completed")
    TARGET_SIGNAL_IDLE = (
        "DEVSEL#, TRDY# or STOP# asserted while no transaction is in progress (incl. the address edge)")
    TARGET_INITIAL_LATENCY = (
        "TRDY# or STOP# not asserted within 16 clocks of the address phase (edge A+16)")
    TARGET_SUBSEQUENT_LATENCY = (
        "TRDY# or STOP# not asserted within 8 clocks of the previous data phase's completion")
    MASTER_LATENCY = (
        "IRDY# not asserted within 8 clocks of the address phase or the previous completion")
    AD_UNSTABLE = (
        "AD changed during a wait state (write: IRDY# asserted, phase incomplete; "
        "read: TRDY# asserted, IRDY# not)")
    CBE_UNSTABLE = (
        "C/BE# changed while IRDY# was asserted and the data phase had not completed")
    PARITY = (
        "PAR is not the even parity of the previous clock's AD and C/BE# (PAR and AD both driven)")
    MULTIPLE_DRIVERS = (
        "more than one agent drives the same tri-state signal in the same clock")
    TURNAROUND = (
        "a tri-state signal was driven by a new agent right after another agent drove it "
        "(no turnaround clock)")
    STS_RELEASED_ASSERTED = (
        "a sustained tri-state signal was released while asserted (it must be driven high for "
        "one clock first)")
    START_WITHOUT_GNT = (
        "a master started a transaction without GNT# asserted to it at the previous edge")
    NO_IDLE_BEFORE_ADDRESS = (
        "FRAME# asserted without an idle edge (FRAME# and IRDY# deasserted) before it")
    MULTIPLE_GNT = (
        "more than one GNT# asserted at the same time")
    DRIVE_IN_RESET = (
        "an agent drives a bus signal (any _oe, SERR# and INTA# included) while RST# is asserted, "
        "the first clock of the reset included (2.2.1: outputs tri-stated asynchronously)")
    ARBITRATION_IN_RESET = (
        "a REQ# or GNT# asserted while RST# is asserted (2.2.1: both tri-stated in reset; "
        "the arbiter ignores REQ# and grants nobody)")
    XZ_ON_BUS = (
        "X or Z bits on a bus signal or driver enable (4-state simulators only, via xcheck.v)")


#: The rules evaluated only while RST# is asserted; every other rule only while it is not.
RESET_RULES = frozenset({Rule.DRIVE_IN_RESET, Rule.ARBITRATION_IN_RESET})
