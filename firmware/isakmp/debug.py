# Ref: spec/isakmp-commands.md §2.7 (enable/disable isakmp debug); spec/show-outputs.md §10 (Debug Flag bits)
"""ISAKMP debugging: the manual's debug classes and what each prints.

:data:`DEBUG_BITS` gives each class its bit of ``show isakmp``'s Debug
Flag (PKTRAW bit 0, STATE 1, TRACE 2, TRACEMORE 3, PACKET 4);
:func:`debug_classes` expands the command's values (``default`` is
trace, state and packet; ``all`` every class; ``pkt`` is packet, the
manual describing both alike) and :func:`debug_flags` makes the flag word.
"""
__all__ = ["DEBUG_BITS", "debug_classes", "debug_flags"]

#: debug class -> its bit in the Debug Flag.
DEBUG_BITS = {"pktraw": 0, "state": 1, "trace": 2, "tracemore": 3, "packet": 4}
_ALIASES = {"default": ("trace", "state", "packet"), "all": tuple(DEBUG_BITS), "pkt": ("packet",)}


def debug_classes(values) -> frozenset:
    """The classes of DEBUG= ``values`` (command values; None or empty: default)."""
    return frozenset(c for v in (values or ("default",)) for c in _ALIASES.get(v, (v,)))


def debug_flags(classes) -> int:
    """The Debug Flag word of the enabled ``classes``."""
    return sum(1 << DEBUG_BITS[c] for c in classes)
