# Ref: RFC 2408 section 2.5.2 (UDP port 500), RFC 3947 sections 4 and 5.2 (port 4500, non-ESP marker)
# Ref: RFC 3948 sections 2.2 and 4 (NAT-keepalive), ../shared/spec/isakmp-commands.md R2, R89, R90, R92
"""What the ISAKMP daemon sends and receives: UDP datagrams, as data.

The daemon is sans-I/O: it takes a :class:`Datagram` and returns the
datagrams to send; the runtime (a virtual network in tests, sockets on a
real host) moves them. Addresses are :class:`ipaddress.IPv4Address` (or
IPv6) and ports integers.

On :data:`NAT_T_PORT` an ISAKMP message travels after the 4-octet non-ESP
marker (RFC 3947 section 4); a lone ``0xFF`` octet is a NAT-keepalive
(RFC 3948 section 2.3) and anything else is ESP-in-UDP, not for ISAKMP.
:func:`isakmp_payload` sorts a received datagram into those cases and
:func:`frame` builds the datagram of a message for a port.
"""

import ipaddress
from dataclasses import dataclass
from enum import Enum

from .message import add_non_esp_marker, strip_non_esp_marker

__all__ = ["IKE_PORT", "NAT_T_PORT", "NAT_KEEPALIVE", "NAT_KEEPALIVE_INTERVAL", "Datagram", "DatagramKind",
           "classify", "frame", "address", "is_address"]

#: RFC 2408 section 2.5.2; ``enable isakmp udpport`` may change it (R2).
IKE_PORT = 500
#: RFC 3947 section 4: IKE after the float, and ESP-in-UDP.
NAT_T_PORT = 4500
#: RFC 3948 section 2.3: the one-octet NAT-keepalive payload.
NAT_KEEPALIVE = b"\xff"
#: Seconds between NAT-keepalives from the side behind a NAT (R92: "not
#: configurable"; RFC 3948 section 4 suggests 20 s).
NAT_KEEPALIVE_INTERVAL = 20


def address(value):
    """``value`` (text or address) as an :mod:`ipaddress` address."""
    return ipaddress.ip_address(value)


def is_address(value):
    """True when ``value`` is an IP address (text or object), not a name."""
    try:
        address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Datagram:
    """One UDP datagram: ``src``/``dst`` addresses, ``sport``/``dport``
    ports, ``data`` the UDP payload (octets)."""
    src: object
    dst: object
    sport: int
    dport: int
    data: bytes

    def __post_init__(self):
        object.__setattr__(self, "src", address(self.src))
        object.__setattr__(self, "dst", address(self.dst))
        object.__setattr__(self, "data", bytes(self.data))

    def reply(self, data):
        """A datagram back to this one's sender, from the port it came to."""
        return Datagram(self.dst, self.src, self.dport, self.sport, data)


class DatagramKind(Enum):
    """What a datagram on an ISAKMP port carries."""
    ISAKMP = "isakmp"                     #: an ISAKMP message (marker removed on 4500)
    KEEPALIVE = "keepalive"               #: a NAT-keepalive (4500 only)
    NO_MARKER = "no non-esp marker"       #: 4500 without the marker: not ISAKMP (R90)


def classify(datagram):
    """``(DatagramKind, ISAKMP message bytes or None)`` of a datagram that
    arrived on an ISAKMP port (its ``dport``)."""
    if datagram.dport != NAT_T_PORT:
        return DatagramKind.ISAKMP, datagram.data
    if datagram.data == NAT_KEEPALIVE:
        return DatagramKind.KEEPALIVE, None
    message = strip_non_esp_marker(datagram.data)
    if message is None:
        return DatagramKind.NO_MARKER, None
    return DatagramKind.ISAKMP, message


def frame(src, dst, sport, dport, message):
    """The datagram carrying ISAKMP ``message`` between those endpoints
    (with the non-ESP marker when either port is :data:`NAT_T_PORT`)."""
    if NAT_T_PORT in (sport, dport):
        message = add_non_esp_marker(message)
    return Datagram(src, dst, sport, dport, message)
