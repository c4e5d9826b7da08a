# Ref: RFC 3947 sections 3 (NAT-T vendor ID), 3.2 (NAT-D), 4 (changing to new ports); RFC 3948 section 4
# Ref: ../shared/spec/isakmp-commands.md R84-R98 (NAT-T on the router)
"""NAT-Traversal in phase 1: the vendor ID, NAT discovery, the float to
UDP 4500 and the keepalives.

* Support: both sides sent the RFC 3947 vendor ID and the policy has
  ``nattraversal=true`` (:func:`supported`); only then are NAT-D payloads
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

from dataclasses import replace

from .payloads import NatDiscovery, VendorIds
from .transport import NAT_KEEPALIVE, NAT_T_PORT, Datagram

__all__ = ["supported", "natd_hash", "discovery_payloads", "detect", "start_float", "float_ports", "keepalive"]


def supported(sa, message):
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
