# Ref: RFC 3947 sections 5.1-5.2 (NAT-OA in quick mode); ../shared/spec/isakmp-commands.md R93
"""NAT-OA payloads in quick mode: who sends them and what the receiver keeps.

When quick mode negotiates UDP-encapsulated *transport* mode (a NAT is on
the path, RFC 3947 section 5.1), each side sends two NAT-OA payloads after
the IDs: NAT-OAi, the initiator's address, then NAT-OAr, the responder's,
each as the sender sees them (its own untranslated address and the address
it sends to). The receiver keeps the peer's pair as an
:class:`~..ipsec.nat_original.OriginalAddresses` (the peer's original
source and destination) with the bundle; the data plane corrects TCP and
UDP checksums with it (R93, :mod:`..ipsec.nat_original`). Tunnel mode
needs none: the inner packet's addresses are not translated.
"""
import ipaddress

from ..ipsec.nat_original import OriginalAddresses
from ..ipsec.transforms import Mode
from .constants import HEADER_LENGTH, IdType
from .errors import MalformedMessage, Rejection
from .payloads import NatOriginalAddress

__all__ = ["wants_nat_oa", "nat_oa_payloads", "peer_original"]


def wants_nat_oa(udp: bool, modes) -> bool:
    """Whether NAT-OA goes with a quick mode that is ``udp``-encapsulated in ``modes`` (SA specification modes)."""
    return bool(udp) and any(mode is Mode.TRANSPORT for mode in modes)


def nat_oa_payloads(sa, initiator: bool) -> tuple:
    """NAT-OAi and NAT-OAr as ``sa``'s side sees them (IPv4 IKE SAs only: NAT-T is IPv4, R96)."""
    if sa.local.version != 4:
        return ()
    ours, theirs = sa.local.packed, sa.peer.packed
    pair = (ours, theirs) if initiator else (theirs, ours)
    return tuple(NatOriginalAddress(IdType.ID_IPV4_ADDR, address) for address in pair)


def peer_original(message, peer_is_initiator: bool) -> OriginalAddresses | None:
    """The peer's original addresses from ``message``'s two NAT-OA payloads
    (None without them); MalformedMessage for one alone or a bad one."""
    found = tuple(message.find(NatOriginalAddress))
    if not found:
        return None
    if len(found) != 2 or any(p.id_type != IdType.ID_IPV4_ADDR or len(p.address) != 4 for p in found):
        raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH,
                               "NAT-OA: expected NAT-OAi and NAT-OAr, each an IPv4 address", NatOriginalAddress.TYPE)
    initiator, responder = (ipaddress.IPv4Address(p.address) for p in found)
    return OriginalAddresses(initiator, responder) if peer_is_initiator else OriginalAddresses(responder, initiator)
