# Ref: ../shared/spec/isakmp-commands.md R47-R50 (policy selection, dynamic addresses, localid/remoteid);
#      ../shared/spec/ipsec-commands.md B36, B59-B64 (rname, peeraddress any/dynamic), B32 (isakmppolicy)
"""Which ISAKMP IPsec policy may carry a bundle negotiated over an IKE SA:
the rule that binds dynamic peers to their policies.

The peer of a ``peer=any`` ISAKMP policy is learnt from the exchange: the
IKE SA's address is the one its messages came from, and its name is the
phase-1 ID it sent (``localid`` on its side: an FQDN such as the
manual's ``remote_site``, a user FQDN with ``@``, or an address; kept on
the SA as ``peer_id`` by :mod:`.phase1`). :func:`admits` then decides,
for the responder's choice of IPsec policy (:mod:`.keying`):

- an IPsec policy naming an ISAKMP policy (``isakmppolicy``) takes only
  IKE SAs negotiated under that one, so a peer authenticated by another
  policy's key never reaches it;
- a fixed ``peeraddress`` takes only that peer;
- ``peeraddress=any`` or ``dynamic`` takes the learnt peer when the
  policy's ``rname`` (if set) is the peer's phase-1 name (R48 method 1:
  ``rname`` set to the dynamic router's name);
- ``dynamic`` takes one peer at a time (B64): while the policy has a
  bundle with one address, another address is refused.

The bundle made is then bound to the learnt address (its tunnel end).

:func:`responder_policy` picks the ISAKMP policy for an aggressive-mode
initiator, whose first message carries its ID in the clear: among the
``peer=any`` policies (of its IP version, in creation order) the first
whose ``remoteid`` is that ID, so that each named peer gets its own
pre-shared key; without one, the policy of its address or the first
``peer=any`` one (R47). Main mode chooses by address only (its ID comes
encrypted under a key that depends on the choice).
"""
from ..ipsec.spd import PeerWildcard
from .constants import IdType
from .payloads import Identification
from .policy_config import PEER_ANY

__all__ = ["admits", "peer_name", "responder_policy", "NAME_TYPES"]

#: Phase-1 ID types that carry a name rather than an address.
NAME_TYPES = (IdType.ID_FQDN, IdType.ID_USER_FQDN, IdType.ID_KEY_ID)


def peer_name(ike):
    """The name ``ike``'s peer gave in phase 1 (text), or None when it sent an address."""
    return _name(ike.peer_id)


def _name(identification):
    if identification is None or identification.id_type not in NAME_TYPES:
        return None
    return identification.data.decode("utf-8", "replace")


def responder_policy(daemon, message, peer, aggressive):
    """The ISAKMP policy (or None) for a phase 1 that ``peer`` starts with
    ``message`` (its first, decoded); ``aggressive``: aggressive mode."""
    name = _name(message.first(Identification)) if aggressive else None
    if name is not None:
        named = [p for p in daemon.config.policies.values()
                 if p.peer == PEER_ANY and p.ipversion == peer.version and p.remoteid == name]
        if named:
            daemon.count("spd", "getPolicyByPeerGood")
            return named[0]
    return daemon.policy_for_peer(peer)


def admits(policy, ike, sad):
    """Whether IPsec ``policy`` may carry a bundle negotiated over IKE SA
    ``ike`` (see the module docstring); ``sad``: the IPsec SAD (bundles by policy)."""
    if policy.isakmppolicy is not None and policy.isakmppolicy != ike.policy.name:
        return False
    if not isinstance(policy.peeraddress, PeerWildcard):
        return policy.peeraddress == ike.peer
    if policy.rname is not None and peer_name(ike) != policy.rname:
        return False
    if policy.peeraddress is PeerWildcard.DYNAMIC:
        return all(bundle.peer in (None, ike.peer) for bundle in sad.bundles(policy.name))
    return True
