# Ref: ../shared/spec/ipsec-commands.md B51-B54 (acquire, soft and hard expiry); ../shared/spec/isakmp-commands.md
#      R12-R16 (phase 2 waits for phase 1), R44 (senddeletes); RFC 2409 section 5.5; strongSwan trap/child_sa
"""ISAKMP key management for ``keymanagement=isakmp`` IPsec policies.

:class:`IsakmpKeying(daemon, ipsec, kernel)` is the
:class:`~..ipsec.keying.KeyManager` of ISAKMP and the ``host`` of
:mod:`.quick_mode`:

- :meth:`acquire` (from the data plane, synchronous) notes that a policy
  needs a bundle; :meth:`pump` (awaited by the router after each packet,
  command and timer) starts phase 1 with the policy's peer when there is no
  IKE SA to it (R14: quick mode waits until phase 1 is up), then quick
  mode over the newest established IKE SA, and returns the datagrams to
  send. An IKE SA that carried ``phase2xchglimit`` quick modes carries no
  more: a new phase 1 replaces it first;
- :meth:`installed` stores a negotiated bundle in the SAD (SA pairs with
  both directions' keys; our inbound SPIs are the ones we offered) and
  puts it on the card at once (``await kernel.add_bundle``);
- :meth:`expire`: a SOFT expiry renegotiates (the new bundle is used as
  soon as it is up: the SAD puts it first; the old one is deleted
  :data:`OLD_BUNDLE_GRACE` seconds later so that packets in flight still
  open; a side whose peer rekeyed first does not rekey again), HARD
  removal is the IPsec module's; when both sides negotiate at once (a
  first packet each way, or a rekey each), two fresh bundles exist: the
  one whose exchange had the lower Ni survives (both sides decide alike),
  the other stops carrying outbound traffic at once and is deleted after
  the grace;
- a received Delete of phase-2 SPIs removes the bundle whose outbound SPI
  it names; an IKE SA deleted for missed heartbeats or the peer's
  INITIAL-CONTACT (:data:`PEER_LOST_REASONS`) takes with it the bundles
  negotiated with that peer over SAs no longer usable; a bundle we remove
  is announced with a Delete when the ISAKMP policy has ``senddeletes``;
- ``retryikeattempts`` (:mod:`.retry`, :attr:`retries`): a failed phase 1,
  a failed quick mode (then over a new IKE SA) or the peer's Delete of a
  policy's last bundle is re-attempted at :meth:`pump` when it is due.

The responder side: :meth:`responder_offer` finds the ISAKMP IPsec
policy that admits the IKE SA (:func:`.dynamic_peer.admits`: its
ISAKMPPOLICY, PEERADDRESS, or ANY/DYNAMIC with RNAME) whose selectors
cover the peer's IDs (host to host without IDs) and gives its
:class:`~.quick_mode.Phase2Request`; the bundle's tunnel end is then the
peer it was negotiated with.
"""
from collections import deque

from ..ipsec.config_errors import IpsecConfigError
from ..ipsec.sad import BundleState, Expiry, Role
from ..ipsec.spd import Action, KeyManagement, PeerWildcard
from ..ipsec.transforms import Protocol
from .constants import ExchangeType
from .dynamic_peer import admits
from .exchange import ExchangeFailed
from .heartbeat import HEARTBEAT_LOST
from .ike_sa import IkeSaDeleted, IkeSaState, PeerDeleted, Phase1Failed
from .phase2_proposal import PROTOCOL_IDS, host_id, id_bounds, identities, spi_bytes
from .quick_mode import Phase2Request, QuickModeInitiator, quick_mode_factory
from .retry import IkeRetries

__all__ = ["IsakmpKeying", "OLD_BUNDLE_GRACE", "PEER_LOST_REASONS"]

#: IKE SA deletions that take the peer's IPsec bundles with them: missed
#: heartbeats (R68, R73) and the peer's INITIAL-CONTACT (R77: "remove all SAs for the router").
PEER_LOST_REASONS = (HEARTBEAT_LOST, "initial contact")

#: Seconds a replaced bundle stays after its successor is up (packets sealed with it may still be in flight).
OLD_BUNDLE_GRACE = 10


class IsakmpKeying:
    """See the module docstring. ``daemon``: the :class:`~.daemon.IsakmpDaemon`;
    ``ipsec``: the :class:`~..ipsec.module.IpsecModule`; ``kernel``: the
    :class:`~..ipsec.kernel.SaKernel`."""

    def __init__(self, daemon, ipsec, kernel):
        self.daemon, self.ipsec, self.kernel = daemon, ipsec, kernel
        self._wanted = set()          # policy names wanting a bundle, no quick mode running yet
        self._negotiating = set()     # policy names with a quick mode in progress
        self._retire = deque()        # (time, policy name, bundle id) of replaced bundles
        self._deleted = deque()       # PeerDeleted events to act on
        self._lost = deque()          # peers whose bundles go (PEER_LOST_REASONS)
        self._announce = deque()      # bundles we removed, to announce with a Delete
        self._quiet = False           # removing because the peer deleted: nothing to announce
        #: The :class:`~.quick_mode.Phase2Outcome` of each bundle in the SAD, by (policy name, bundle id).
        self.negotiated = {}
        #: The re-attempts of ``retryikeattempts`` (:class:`~.retry.IkeRetries`).
        self.retries = IkeRetries(daemon.config)
        daemon.register_exchange(ExchangeType.QUICK, quick_mode_factory(self))
        daemon.subscribe(self._event)

    # -- what IPsec calls -------------------------------------------------------------------------------

    def acquire(self, policy, packet):
        """``policy`` needs a bundle (B51): negotiated at the next :meth:`pump`."""
        if policy.name not in self._negotiating:
            self._wanted.add(policy.name)

    def expire(self, bundle, expiry):
        """SOFT: renegotiate (B54) unless the peer already did (a newer bundle is
        up: the old one is retired); HARD: the bundle is gone already."""
        name = bundle.policy_name
        if expiry is not Expiry.SOFT or not self.ipsec.spd.has_policy(name):
            return
        successor = any(b is not bundle and b.expiry is Expiry.NONE for b in self._live(name))
        self._retire.append((self.daemon.clock() + OLD_BUNDLE_GRACE if successor else None, name, bundle.bundle_id))
        if not successor:
            self._wanted.add(name)

    def _live(self, name):
        """The policy's negotiated bundles in use (VALID)."""
        return [b for b in self.ipsec.sad.bundles(name) if b.state is BundleState.VALID and
                (name, b.bundle_id) in self.negotiated]

    # -- the work ---------------------------------------------------------------------------------------

    async def pump(self):
        """Start what is wanted and retire what is replaced; returns the datagrams to send."""
        out = []
        for deleted in list(self._deleted):
            self._deleted.remove(deleted)
            self._peer_deleted(deleted)
        while self._lost:
            self._peer_lost(self._lost.popleft())
        now = self.daemon.clock()
        for name, renew_ike in self.retries.due(now):
            if not self.ipsec.spd.has_policy(name):
                continue
            if renew_ike:                  # R61: a failed quick mode is attempted over a new IKE SA
                for ike in self.daemon.sas.with_peer(self.ipsec.spd.policy(name).peeraddress):
                    out += await self.daemon.delete_sa(ike, "retry")
            self._wanted.add(name)
        for name in list(self._wanted):
            out += await self._negotiate(name)
        for entry in [e for e in self._retire if e[0] is not None and e[0] <= now]:
            self._retire.remove(entry)
            if self.ipsec.spd.has_policy(entry[1]) and \
                    any(b.bundle_id == entry[2] for b in self.ipsec.sad.bundles(entry[1])):
                self.ipsec.destroy_policy(entry[1], entry[2])
        await self.kernel.settle()
        while self._announce:
            out += await self._send_deletes(self._announce.popleft())
        return out

    def pending(self, name):
        """Whether a bundle for policy ``name`` is being negotiated (phase 1 or quick mode)."""
        return name in self._wanted or name in self._negotiating

    def failed(self, request):
        """The quick mode of ``request`` ended without a bundle: re-attempted
        when its ISAKMP policy has ``retryikeattempts``, else the next packet acquires again."""
        self._negotiating.discard(request.policy.name)
        self.retries.failed((request.policy.name,), self.retries.isakmp_policy(request.policy), self.daemon.clock(),
                            renew_ike=True)

    async def _negotiate(self, name):
        if not self.ipsec.spd.has_policy(name):
            self._wanted.discard(name)
            return []
        policy = self.ipsec.spd.policy(name)
        peer = policy.peeraddress
        if isinstance(peer, PeerWildcard) or peer is None:
            self._wanted.discard(name)
            return []
        established = [sa for sa in self.daemon.sas.with_peer(peer)
                       if sa.state is IkeSaState.ESTABLISHED and sa.established is not None]
        if any(self.daemon.authenticating(sa) for sa in established):
            return []                                  # R18: quick mode waits for XAUTH (phase 1.5)
        ike = next((sa for sa in reversed(established) if not _exhausted(sa)), None)
        if ike is None:
            target = policy.isakmppolicy or str(peer)
            if established and not any(sa.established is None for sa in
                                       self.daemon.sas.with_peer(peer, usable_only=False)):
                # phase2xchglimit reached: a new phase 1 replaces the SA (R14: quick mode waits for it)
                return await self.daemon.initiate(target, replaces=established[-1].sa_id)
            return await self.daemon.initiate(target)          # nothing when phase 1 already runs (R14)
        self._wanted.discard(name)
        self._negotiating.add(name)
        request = self._request(policy, ike)
        message_id = await self.daemon.new_message_id(ike)
        exchange = QuickModeInitiator(self.daemon, ike, self, request, message_id, self.daemon.clock())
        return await self.daemon.start_exchange(exchange)

    def _request(self, policy, ike):
        spd = self.ipsec.spd
        spec = spd.bundlespecification(policy.bundlespecification)
        alternatives = tuple(tuple(tuple(spd.saspecification(i) for i in pair.spec_ids) for pair in proposal.pairs)
                             for proposal in spec.bundle.proposals)
        return Phase2Request(policy, alternatives, spec.expiryseconds, spec.expirykbytes,
                             policy.group if policy.usepfskey else None, identities(policy, ike.local, ike.peer),
                             ike.nat.detected)

    # -- quick mode's host --------------------------------------------------------------------------------

    async def spis(self, protocols):
        """An inbound SPI (CPI) per protocol, held until a bundle takes it up."""
        return {protocol: await self.kernel.get_spi(protocol) for protocol in protocols}

    def release(self, spis):
        """Give back SPIs no bundle took up."""
        for protocol, spi in spis.items():
            self.kernel.release_spi(protocol, spi)

    def responder_offer(self, ike, idci, idcr):
        """The request of the ISAKMP IPsec policy for ``ike``'s peer covering the IDs, or None."""
        remote = id_bounds(idci) if idci is not None else host_id(ike.peer)
        local = id_bounds(idcr) if idcr is not None else host_id(ike.local)
        for policy in self.ipsec.spd.policies():
            if policy.action is not Action.IPSEC or policy.keymanagement is not KeyManagement.ISAKMP:
                continue
            if not admits(policy, ike, self.ipsec.sad):
                continue
            selectors = policy.selectors()
            if _covers(selectors.remote, remote) and _covers(selectors.local, local):
                request = self._request(policy, ike)
                return Phase2Request(policy, request.alternatives, request.life_seconds, request.life_kbytes,
                                     request.group, (idci, idcr), True if ike.nat.detected else
                                     None if ike.nat.supported else False)
        return None

    async def installed(self, outcome):
        """Store and set up the negotiated bundle (see the module docstring)."""
        name = outcome.policy_name
        self._negotiating.discard(name)
        try:
            bundle = self.ipsec.sad.add_sa_bundle(name, list(outcome.pairs), outcome.limits, None, outcome.role,
                                                 peer=outcome.peer)
        except IpsecConfigError as error:             # the policy's bundle limit (B39): no bundle, exchange fails
            counter = (("quick.initiator.errors", "initProc1CBFailed") if outcome.role is Role.INITIATOR
                       else ("quick.responder.errors", "respProc3CBFailed"))
            raise ExchangeFailed(f"the SAD refused the bundle: {error}", counter=counter) from None
        ike = next((sa for sa in self.daemon.sas if sa.sa_id == outcome.ike_sa), None)
        if outcome.udp and ike is not None:                 # ESP in UDP on the IKE SA's (floated) ports
            bundle.natt_ports = (ike.local_port, ike.peer_port)
            bundle.nat_oa = outcome.nat_oa                  # transport mode: checksums fixed with them (R93)
        if ike is not None:
            self._log_keys(outcome, ike)
            self.retries.succeeded(ike.policy.name)
        await self.kernel.add_bundle(bundle)
        self.negotiated[(name, bundle.bundle_id)] = outcome
        now = self.daemon.clock()
        fresh = [b for b in self._live(name) if b.expiry is Expiry.NONE]
        if len(fresh) > 1:                   # both sides negotiated at once: the lower Ni survives
            fresh.sort(key=lambda b: self.negotiated[(name, b.bundle_id)].nonces[0])
            for loser in fresh[1:]:
                loser.state = BundleState.REMOVING          # no longer chosen for outbound; inbound still opens
                self._retire.append((now + OLD_BUNDLE_GRACE, name, loser.bundle_id))
        self._retire = deque(sorted(((now + OLD_BUNDLE_GRACE if when is None and policy == name else when, policy,
                                      bid) for when, policy, bid in self._retire),
                                    key=lambda entry: float("inf") if entry[0] is None else entry[0]))

    def _log_keys(self, outcome, ike):
        """Write each ESP SA of ``outcome`` (both directions) to the key log in force, if any
        (:meth:`KeyLog.esp_sa <.key_log.KeyLog.esp_sa>`); a log that cannot be written is a daemon fault."""
        key_log = self.daemon.key_log()
        if key_log is None:
            return
        for pair in outcome.pairs:
            if pair.protocol is not Protocol.ESP:
                continue
            encalg = pair.encalg.value if pair.encalg is not None else "NULL"
            hashalg = pair.hashalg.value if pair.hashalg is not None else "NULL"
            try:
                key_log.esp_sa(ike.local, ike.peer, pair.outbound_spi, encalg, pair.outbound_keys.encryption,
                               hashalg, pair.outbound_keys.hash)
                key_log.esp_sa(ike.peer, ike.local, pair.inbound_spi, encalg, pair.inbound_keys.encryption,
                               hashalg, pair.inbound_keys.hash)
            except OSError as error:
                self.daemon.faults.append(f"key log {key_log.directory}: {error.strerror}")

    # -- deletes --------------------------------------------------------------------------------------------

    def _event(self, event):
        if isinstance(event, PeerDeleted):
            self._deleted.append(event)
        elif isinstance(event, IkeSaDeleted) and event.reason in PEER_LOST_REASONS:
            self._lost.append(event.sa.peer)
        elif isinstance(event, Phase1Failed):          # re-attempted (retryikeattempts), else the next packet acquires
            failed = []
            for name in list(self._wanted):
                policy = self.ipsec.spd.policy(name) if self.ipsec.spd.has_policy(name) else None
                if policy is None or policy.peeraddress == event.peer:
                    self._wanted.discard(name)
                    failed += [name] if policy is not None else []
            self.retries.failed(failed, self.daemon.config.policies.get(event.policy), self.daemon.clock())

    def _peer_deleted(self, event):
        protocol = next((p for p, i in PROTOCOL_IDS.items() if i == event.protocol), None)
        self._quiet = True
        removed = set()
        try:
            for bundle in list(self.ipsec.sad.all_bundles()):
                if any(rec.pair.protocol is protocol and spi_bytes(protocol, rec.pair.outbound_spi) in event.spis
                       for rec in bundle.sas):
                    self.ipsec.destroy_policy(bundle.policy_name, bundle.bundle_id)
                    removed.add(bundle.policy_name)
        finally:
            self._quiet = False
        for name in sorted(removed):       # R59: the peer deleted the policy's most recent (last) bundle
            if self.ipsec.spd.has_policy(name) and not self._live(name) and not self.pending(name):
                self.retries.failed((name,), self.retries.isakmp_policy(self.ipsec.spd.policy(name)),
                                    self.daemon.clock())

    def _peer_lost(self, peer):
        """Remove the bundles negotiated with ``peer`` over IKE SAs that are no longer usable (nothing announced)."""
        live = {sa.sa_id for sa in self.daemon.sas.with_peer(peer)}
        self._quiet = True
        try:
            for bundle in list(self.ipsec.sad.all_bundles()):
                outcome = self.negotiated.get((bundle.policy_name, bundle.bundle_id))
                if outcome is not None and bundle.peer == peer and outcome.ike_sa not in live:
                    self.ipsec.destroy_policy(bundle.policy_name, bundle.bundle_id)
        finally:
            self._quiet = False

    def bundle_removed(self, bundle):
        """The IPsec module removed ``bundle`` (any reason but the peer's Delete):
        a negotiated one is announced to the peer at the next :meth:`pump`."""
        if self.negotiated.pop((bundle.policy_name, bundle.bundle_id), None) is not None and not self._quiet:
            self._announce.append(bundle)

    async def _send_deletes(self, bundle):
        """Delete payloads of ``bundle``'s inbound SPIs to its peer (sent when the ISAKMP policy has senddeletes)."""
        ike = next(iter(self.daemon.sas.with_peer(bundle.peer)), None) if bundle.peer is not None else None
        out = []
        for rec in bundle.sas if ike is not None and ike.keys is not None else ():
            out += await self.daemon.send_delete(ike, PROTOCOL_IDS[rec.pair.protocol],
                                                 (spi_bytes(rec.pair.protocol, rec.pair.inbound_spi),))
        return out


def _exhausted(ike):
    """Whether IKE SA ``ike`` may carry no more quick modes (its policy's ``phase2xchglimit``)."""
    limit = ike.policy.phase2xchglimit
    return limit is not None and ike.phase2_exchanges >= limit


def _covers(selector, bounds):
    """Whether address selector ``selector`` contains the (version, low, high, ...) of an ID."""
    version, low, high = bounds[:3]
    if selector.bounds is None:
        return True
    first, last = selector.bounds
    return selector.version == version and first <= low and high <= last

