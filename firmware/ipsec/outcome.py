# Ref: DESIGN.md principles 6 and 8 (everything counted; bad input loses nothing)
"""What the data plane returns for a packet, and why it drops one.

Processing never raises: a packet is either delivered (:class:`Outcome`
with ``packet``) or dropped (``reason``, a :class:`DropReason`, plus a
``detail`` sentence saying what was wrong and what was expected). Inside
the data plane a drop travels as the :class:`Drop` exception, caught and
counted where the SA or bundle returns. :func:`rebuild` is
:meth:`~.packet.IpPacket.rebuild` for the data plane: a packet grown past
the IP length is a TOO_BIG drop.
"""
import enum
from dataclasses import dataclass

from .packet import PacketTooBig

__all__ = ["DropReason", "Drop", "Outcome", "CardFailure", "rebuild"]


class DropReason(enum.Enum):
    """Why the data plane dropped a packet."""
    MALFORMED = "malformed packet"                  #: truncated or inconsistent IP/IPsec header
    FRAGMENT = "fragment"                           #: IPsec takes whole datagrams (reassemble first)
    UNKNOWN_SPI = "unknown SPI"                     #: no inbound SA for (protocol, SPI/CPI, destination)
    WRONG_PROTOCOL = "protocol not the bundle's"    #: the next header or SPI is not what the bundle applies
    REPLAYED = "replayed"                           #: sequence number 0, left of the window or seen
    AUTHENTICATION_FAILED = "authentication failed"  #: ICV mismatch (the card's MAC_MISMATCH or the AH compare)
    BAD_PADDING = "bad padding"                     #: ESP pad length or padding bytes wrong
    BAD_PAYLOAD_LENGTH = "bad AH payload length"    #: AH length field does not fit the SA's ICV or the packet
    DECOMPRESSION_FAILED = "decompression failed"   #: the LZS stream is malformed or decodes too long
    TUNNEL_MISMATCH = "not a tunnelled packet"      #: a tunnel-mode SA whose payload is not an IP packet
    SA_NOT_VALID = "SA not valid"                   #: the SA is not (or no longer) open
    SEQUENCE_EXHAUSTED = "sequence number cycled"   #: an anti-replay SA has sent 2**32 - 1 packets
    TOO_BIG = "too big"                             #: the output would exceed the IP length
    CARD_ERROR = "card error"                       #: the card or its driver failed the job
    UDP_BAD_VERSION = "UDP tunnel bad version"      #: UDP tunnel header of an unknown version or type
    NO_UDP_TUNNEL = "no UDP tunnel"                 #: a UDP-tunnelled packet for a bundle without UDP tunnelling
    INTERNAL_ERROR = "internal error"               #: a bug: an exception the data plane did not expect


class Drop(Exception):
    """A packet is dropped for ``reason``; ``immediate`` when it failed
    before any card job started (the ``...FailImm`` counters)."""

    def __init__(self, reason: DropReason, detail: str, *, immediate: bool = True):
        self.reason = reason
        self.detail = detail
        self.immediate = immediate
        super().__init__(f"{reason.value}: {detail}")


def rebuild(ip, protocol: int, payload: bytes, *, immediate: bool = False) -> bytes:
    """``ip.rebuild(protocol, payload)`` (``ip``: an :class:`~.packet.IpPacket`);
    raises Drop(TOO_BIG) with ``immediate`` when the packet would be longer
    than IP allows."""
    try:
        return ip.rebuild(protocol, payload)
    except PacketTooBig as error:
        raise Drop(DropReason.TOO_BIG, str(error), immediate=immediate) from error


class CardFailure(Exception):
    """A card job did not complete: ``status`` (a ResultStatus, or None when
    the driver or the bus failed), ``immediate`` if the job never reached
    the card (the ring was full, the driver refused it)."""

    def __init__(self, status, immediate: bool, detail: str):
        self.status = status
        self.immediate = immediate
        super().__init__(detail)


@dataclass(frozen=True)
class Outcome:
    """The result of processing one packet: ``packet`` (bytes) when
    delivered; otherwise ``reason`` and ``detail``, and the ``sa`` that
    dropped it (None when no SA was involved); ``immediate`` when the drop
    came before any card job started (the :class:`Drop`'s flag, which the
    SA counted: ``...ProcessFailImm`` rather than ``...ProcessFail``). ``heartbeat`` marks a UDP
    heartbeat consumed by the data plane (no packet, no drop). ``bundle``:
    the :class:`~.datapath.BundleProcessor` that processed the packet
    (delivered or dropped), None when none was found; the router checks an
    inbound packet against the policy of that bundle."""
    packet: bytes | None
    reason: DropReason | None = None
    detail: str = ""
    sa: object = None
    heartbeat: bool = False
    bundle: object = None
    immediate: bool = False

    @property
    def ok(self) -> bool:
        return self.packet is not None

    @classmethod
    def dropped(cls, drop: Drop, sa=None, bundle=None) -> "Outcome":
        return cls(None, drop.reason, drop.detail, sa, bundle=bundle, immediate=drop.immediate)
