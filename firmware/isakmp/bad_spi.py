# Ref: ../shared/spec/isakmp-commands.md R75-R77 and section 9 (badSpi* counters); ../shared/spec/ipsec-commands.md
#      B78-B81 (respondbadspi); ../shared/spec/show-outputs.md (ISAKMP general counters badSpi*)
"""Responding to IPsec packets with an unknown SPI (``respondbadspi``).

:class:`BadSpiResponder(daemon, spd)`: the data plane calls
:meth:`~BadSpiResponder.unknown_spi` (synchronous, the
:class:`~..ipsec.datapath.Datapath`'s ``on_unknown_spi``) for every IPsec
packet whose SPI no bundle has; :meth:`~BadSpiResponder.pump` (awaited by
the router with the key manager) then turns each into a bad-SPI request
when an IPsec policy of that peer asks for it (B79: ``respondbadspi``,
``action=ipsec``, ``keymanagement=isakmp``, the sender as its IPv4
``peeraddress``, tunnel-mode SA specifications). A request
(``badSpiRequests``) is refused, counted, when an ISAKMP SA with the peer
exists or is being negotiated (``badSpiFromKnownPeer``: an established
tunnel is not destroyed, and a flood of bad packets starts one exchange),
when the peer's ISAKMP policy uses aggressive mode (``badSpiInAggrMode``)
or does not send notifies (``badSpiSendNotifyUnset``); a peer without an
ISAKMP policy counts ``acquireNoPolicy``. Otherwise a main mode starts to
the peer; as our first SA with it, it carries INITIAL-CONTACT
(:meth:`.phase1.Phase1Exchange.initial_contact`), on which the peer
deletes every SA it has for us (R77; :mod:`.keying` removes its bundles)
and negotiates a fresh tunnel when its traffic needs one.
"""
import ipaddress
from collections import deque

from ..ipsec.spd import Action, KeyManagement
from ..ipsec.transforms import Mode

__all__ = ["BadSpiResponder", "PENDING_LIMIT"]

#: Unknown-SPI packets kept between two pumps (more are dropped: one per peer is enough).
PENDING_LIMIT = 16


class BadSpiResponder:
    """See the module docstring. ``daemon``: the :class:`~.daemon.IsakmpDaemon`;
    ``spd``: the IPsec :class:`~..ipsec.spd.Spd`."""

    def __init__(self, daemon, spd):
        self.daemon, self.spd = daemon, spd
        self._pending = deque()

    def unknown_spi(self, src, dst, protocol, spi):
        """An IPsec packet from ``src`` to ``dst`` (``protocol``, ``spi``) matched no bundle."""
        if len(self._pending) < PENDING_LIMIT and src not in self._pending:
            self._pending.append(src)

    def _policy_for(self, peer):
        """The IPsec policy that responds to bad SPIs from ``peer`` (B79), or None."""
        for policy in self.spd.policies():
            if (policy.respondbadspi and policy.action is Action.IPSEC
                    and policy.keymanagement is KeyManagement.ISAKMP
                    and isinstance(policy.peeraddress, ipaddress.IPv4Address) and policy.peeraddress == peer
                    and self._tunnel_only(policy)):
                return policy
        return None

    def _tunnel_only(self, policy):
        bundle = self.spd.bundlespecifications.get(policy.bundlespecification)
        return bundle is not None and all(self.spd.saspecifications[i].mode is Mode.TUNNEL
                                          for i in bundle.bundle.spec_ids if i in self.spd.saspecifications)

    async def pump(self):
        """Act on the unknown-SPI packets seen since the last call; returns the datagrams to send."""
        out = []
        while self._pending:
            out += await self._request(self._pending.popleft())
        return out

    async def _request(self, peer):
        daemon = self.daemon
        policy = self._policy_for(peer)
        if policy is None:
            return []
        daemon.count("general", "badSpiRequests")
        isakmp = (daemon.config.policies.get(policy.isakmppolicy) if policy.isakmppolicy
                  else daemon.policy_for_peer(peer))
        if isakmp is None:
            daemon.count("general", "acquireNoPolicy")
            return []
        if daemon.sas.with_peer(peer, usable_only=False):
            daemon.count("general", "badSpiFromKnownPeer")
            return []
        if isakmp.mode != "main":
            daemon.count("general", "badSpiInAggrMode")
            return []
        if not isakmp.sendnotify:
            daemon.count("general", "badSpiSendNotifyUnset")
            return []
        return await daemon.initiate(isakmp.name)
