# Ref: ../shared/spec/isakmp-commands.md R12-R14 (phase 2 waits for phase 1), R44, R67 (SA deletion)
# Ref: RFC 2408 section 4.8 (informational exchange), RFC 3706 section 5 (DPD)
"""What the ISAKMP daemon tells the layers above it, as frozen events.

The quick-mode layer and the router take them from
:attr:`~.daemon.IsakmpDaemon.events` (a queue, oldest first) or subscribe
a callback with :meth:`~.daemon.IsakmpDaemon.subscribe`. Every event
carries the :class:`~.ike_sa.IkeSaSnapshot` it is about (as it was when
the event happened) where there is one.
"""

from dataclasses import dataclass

__all__ = ["Phase1Established", "Phase1Failed", "IkeSaDeleted", "NotifyReceived", "PeerDeleted", "DpdAcknowledged"]


@dataclass(frozen=True)
class Phase1Established:
    """An IKE SA is authenticated and ready for phase 2 (``sa``);
    ``replaces``: the SA number it rekeys, or None."""
    sa: object
    replaces: int | None = None


@dataclass(frozen=True)
class Phase1Failed:
    """A phase-1 exchange failed: ``policy`` name, ``peer`` address,
    ``reason`` (a sentence), ``notify`` (the NotifyType involved, or None)."""
    policy: str
    peer: object
    reason: str
    notify: object = None


@dataclass(frozen=True)
class IkeSaDeleted:
    """An IKE SA is gone: ``sa`` (state DELETED or EXPIRED), ``reason``
    (``"expired"``, ``"rekeyed"``, ``"peer delete"``, ``"initial contact"``,
    ``"local"``)."""
    sa: object
    reason: str


@dataclass(frozen=True)
class NotifyReceived:
    """A protected notify over ``sa`` the daemon does not act on itself:
    ``notify_type`` (int), ``protocol``, ``spi``, ``data``."""
    sa: object
    notify_type: int
    protocol: int
    spi: bytes
    data: bytes


@dataclass(frozen=True)
class PeerDeleted:
    """A protected Delete of phase-2 SAs over ``sa``: ``protocol``
    (ProtocolId) and ``spis`` (tuple of bytes), for the quick-mode layer."""
    sa: object
    protocol: int
    spis: tuple


@dataclass(frozen=True)
class DpdAcknowledged:
    """The peer answered our R-U-THERE ``sequence`` over ``sa``."""
    sa: object
    sequence: int
