# Ref: RFC 2408 section 2.5.2 (UDP port 500), RFC 3947 sections 3-5 (NAT-T VID, NAT-D, port 4500, non-ESP marker)
# Ref: RFC 3948 sections 2.3 and 4 (NAT-keepalive), ../shared/spec/isakmp-commands.md R2, R84-R98
"""How ISAKMP travels: UDP datagrams as data, and NAT-Traversal in phase 1.

The daemon is sans-I/O: it takes a :class:`Datagram` and returns the
datagrams to send; the runtime (a virtual network in tests, sockets on a
real host) moves them. Addresses are :class:`ipaddress.IPv4Address` (or
IPv6) and ports integers.

On :data:`NAT_T_PORT` an ISAKMP message travels after the 4-octet non-ESP
marker (RFC 3947 section 4); a lone ``0xFF`` octet is a NAT-keepalive
(RFC 3948 section 2.3) and anything else is ESP-in-UDP, not for ISAKMP.
:func:`classify` sorts a received datagram into those cases and
:func:`frame` builds the datagram of a message for a port.

NAT-Traversal in phase 1 (the vendor ID, NAT discovery, the float to UDP
4500 and the keepalives):

* Support: both sides sent the RFC 3947 vendor ID and the policy has
  ``nattraversal=true`` (:func:`nat_t_supported`); only then are NAT-D payloads
  sent (R87, and no NAT-T VID is sent with NAT-T off).
* NAT-D (RFC 3947 section 3.2): HASH(CKY-I | CKY-R | IP | port) with the
  negotiated hash, computed on the card. Each side sends the hash of the
  peer's address and port as it sends to them, then its own
  (:func:`discovery_payloads`). The receiver (:func:`detect`) compares the
  first with its own address and port as the datagram reached it (no
  match: *we* are behind a NAT) and the others with the datagram's source
  (no match: the *peer* is).
* Float (RFC 3947 section 4, R89): when a NAT is detected on either side
  the initiator sends from MM5 (aggressive mode: AM3) on UDP 4500 with the
  non-ESP marker (:func:`start_float`); a side that receives a phase-1
  message on 4500 moves there too, taking the peer's port from the
  datagram (:func:`float_ports`, the NAT's mapping).
* Keepalives (RFC 3948 section 4, R92): the side behind a NAT sends one
  ``0xFF`` octet every 20 s (:func:`keepalive`; the daemon's timer).
"""

import ipaddress
from dataclasses import dataclass, replace
from enum import Enum

from .message import add_non_esp_marker, strip_non_esp_marker
from .payloads import NatDiscovery, VendorIds

__all__ = ["IKE_PORT", "NAT_T_PORT", "NAT_KEEPALIVE", "NAT_KEEPALIVE_INTERVAL", "Datagram", "DatagramKind",
           "classify", "frame", "address", "is_address", "nat_t_supported", "natd_hash", "discovery_payloads",
           "detect", "start_float", "float_ports", "keepalive"]

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


def nat_t_supported(sa, message):
    """True when ``message`` (the peer's) carries the RFC 3947 VID and ``sa``'s policy enables NAT-T."""
    return bool(sa.policy.nattraversal) and any(getattr(p, "data", None) == VendorIds.NAT_T_RFC3947
                                                for p in message.payloads)


async def natd_hash(sa, address, port):
    """HASH(CKY-I | CKY-R | IP | port) of ``address``/``port`` with the SA's negotiated hash, on the card."""
    return await sa.crypto.hash(sa.transform.hash, sa.cky_i + sa.cky_r + address.packed + port.to_bytes(2, "big"))


async def discovery_payloads(sa):
    """Our NAT-D payloads: the peer's address and port first, then ours."""
    return (NatDiscovery(await natd_hash(sa, sa.peer, sa.peer_port)),
            NatDiscovery(await natd_hash(sa, sa.local, sa.local_port)))


async def detect(sa, message, datagram):
    """The :class:`~.ike_sa.NatTraversal` after the peer's NAT-D payloads in
    ``message``, received in ``datagram``; unchanged when it carries none."""
    found = [p.data for p in message.find(NatDiscovery)]
    if not found:
        return sa.nat
    ours = await natd_hash(sa, datagram.dst, datagram.dport)
    theirs = await natd_hash(sa, datagram.src, datagram.sport)
    return replace(sa.nat, nat_local=found[0] != ours, nat_peer=theirs not in found[1:])


def start_float(sa):
    """Move ``sa`` to UDP 4500 when NAT-T is supported and a NAT was found (initiator, before MM5/AM3)."""
    if sa.nat.supported and sa.nat.detected and not sa.nat.floated:
        sa.local_port = sa.peer_port = NAT_T_PORT
        sa.nat = replace(sa.nat, floated=True)


def float_ports(sa, datagram):
    """After an accepted message: follow the peer to 4500 (its source port as the NAT mapped it)."""
    if datagram.dport == NAT_T_PORT and sa.nat.supported:
        sa.local_port, sa.peer_port = NAT_T_PORT, datagram.sport
        sa.nat = replace(sa.nat, floated=True)


def keepalive(sa):
    """The NAT-keepalive datagram of ``sa`` (from the side behind the NAT)."""
    return Datagram(sa.local, sa.peer, sa.local_port, sa.peer_port, NAT_KEEPALIVE)
