# Ref: ../shared/spec/isakmp-commands.md R15, R64-R66 (prenegotiate, srcinterface), R99 (enable isakmp),
#      section 9 (acquirePrenegNoPolicy, acqPh1XcgStartFailed)
"""Prenegotiation and the source interface of ISAKMP policies.

- :func:`prenegotiate(daemon) <prenegotiate>`: called once when ``enable
  isakmp`` starts the daemon (R64): phase 1 starts with the peer of every
  policy with ``prenegotiate=true``. A policy created afterwards does not
  prenegotiate (R65: "prenegotiation does not work"), until ISAKMP is
  disabled and enabled again. A ``peer=any`` policy has no address to
  negotiate with: counted ``acquirePrenegNoPolicy``.
- :func:`source_address(daemon, policy, peer) <source_address>`: our
  address towards ``peer`` for a negotiation we start: the IPv4 address
  of the policy's ``srcinterface`` when it has one (R66), else the first
  local address of the peer's IP version. A ``srcinterface`` without an
  IPv4 address gives None (the negotiation is not started and is counted
  ``acqPh1XcgStartFailed``): the simulated router has no PPP interface to
  bring up. The daemon's ``interface_address(name)`` (set by the router)
  answers for interfaces. As responder the address is the one the peer
  sent to.
"""
from .policy_config import PEER_ANY
from .transport import address

__all__ = ["prenegotiate", "source_address"]


async def prenegotiate(daemon):
    """Start phase 1 for the prenegotiating policies; returns the datagrams to send."""
    out = []
    for policy in list(daemon.config.policies.values()):
        if not policy.prenegotiate:
            continue
        if policy.peer == PEER_ANY:
            daemon.count("general", "acquirePrenegNoPolicy")
            continue
        out += await daemon.initiate(policy.name)
    return out


def source_address(daemon, policy, peer):
    """Our address towards ``peer`` under ``policy`` (see the module docstring), or None."""
    if policy is not None and policy.srcinterface is not None:
        lookup = daemon.interface_address
        found = lookup(policy.srcinterface) if lookup is not None else None
        if found is None or found.version != address(peer).version:
            daemon.count("general", "acqPh1XcgStartFailed")
            return None
        return found
    return next((a for a in daemon.local_addresses if a.version == address(peer).version), None)
