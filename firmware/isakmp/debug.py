# Ref: spec/isakmp-commands.md §2.7 (enable/disable isakmp debug); spec/show-outputs.md §10 (Debug Flag bits)
"""ISAKMP debugging: the manual's debug classes, the records the daemon
publishes as things happen, and the sink that prints the enabled ones.

:data:`DEBUG_BITS` gives each class its bit of ``show isakmp``'s Debug
Flag (PKTRAW bit 0, STATE 1, TRACE 2, TRACEMORE 3, PACKET 4);
:func:`debug_classes` expands the command's values (``default`` is
trace, state and packet; ``all`` every class; ``pkt`` is packet, the
manual describing both alike) and :func:`debug_flags` makes the flag word.

Records (frozen; ``CLASSES`` says which debug classes print one):

* :class:`PacketDebug`: a datagram received or sent (``packet``: its
  ISAKMP header; ``pktraw``: its octets in hex, as on the wire);
* :class:`StateDebug`: an exchange or an IKE SA changed state (``state``);
* :class:`TraceDebug`: an error or information message (``trace``);
* :class:`ValueDebug`: a value was calculated (``tracemore``): its name
  and size only, never its octets (keys appear only in the key log).

:class:`IsakmpDebug` is the sink: attached to a daemon
(:meth:`IsakmpDebug.attach`), it formats each record with a debug view
(``format(record, classes)`` giving the lines of the enabled classes, e.g.
:func:`pacsim.firmware.views.alliedware.isakmp_debug.debug_lines`), writes
them to ``write`` (the console's output stream) and keeps them in
:attr:`IsakmpDebug.lines` (the log the router exposes).
"""
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEBUG_BITS", "debug_classes", "debug_flags", "PacketDebug", "StateDebug", "TraceDebug", "ValueDebug",
           "IsakmpDebug"]

#: debug class -> its bit in the Debug Flag.
DEBUG_BITS = {"pktraw": 0, "state": 1, "trace": 2, "tracemore": 3, "packet": 4}
_ALIASES = {"default": ("trace", "state", "packet"), "all": tuple(DEBUG_BITS), "pkt": ("packet",)}


def debug_classes(values) -> frozenset:
    """The classes of DEBUG= ``values`` (command values; None or empty: default)."""
    return frozenset(c for v in (values or ("default",)) for c in _ALIASES.get(v, (v,)))


def debug_flags(classes) -> int:
    """The Debug Flag word of the enabled ``classes``."""
    return sum(1 << DEBUG_BITS[c] for c in classes)


@dataclass(frozen=True)
class PacketDebug:
    """``sent`` (else received) ``datagram`` (a :class:`~.transport.Datagram`)."""
    CLASSES = ("packet", "pktraw")
    sent: bool
    datagram: object


@dataclass(frozen=True)
class StateDebug:
    """``what`` (``"exchange"`` or ``"SA"``) number ``number`` went from ``old`` to ``new`` (state names)."""
    CLASSES = ("state",)
    what: str
    number: int
    old: str | None
    new: str


@dataclass(frozen=True)
class TraceDebug:
    """An error or information message: ``text``."""
    CLASSES = ("trace",)
    text: str


@dataclass(frozen=True)
class ValueDebug:
    """Value ``name`` of IKE SA ``sa_id`` was calculated: ``size`` octets (the octets are never published)."""
    CLASSES = ("tracemore",)
    sa_id: int
    name: str
    size: int


class IsakmpDebug:
    """The debug sink of ``config`` (an IsakmpConfig: its ``debug`` classes
    are read at each record, so ``enable/disable isakmp debug`` act at once);
    ``format(record, classes)`` the debug view; ``write(line)`` receives
    each line (default: only kept in :attr:`lines`)."""

    def __init__(self, config, format: Callable, write: Callable[[str], None] | None = None):
        self.config = config
        self.format = format
        self.write = write
        self.lines = []

    def attach(self, daemon) -> None:
        """Receive ``daemon``'s debug records."""
        daemon.debug_sink = self

    def wants(self, record_type) -> bool:
        """Whether any class that prints ``record_type`` is enabled (the daemon asks before building a record)."""
        return any(c in self.config.debug for c in record_type.CLASSES)

    def __call__(self, record) -> None:
        for line in self.format(record, self.config.debug):
            self.lines.append(line)
            if self.write is not None:
                self.write(line)
