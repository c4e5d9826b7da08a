# Ref: ../shared/spec/isakmp-commands.md R58-R63 (retryikeattempts), §8 item 21; spec/show-outputs.md
#      (show isakmp policy: Retry IKE Attempts, Current IKE Retries, Required IKE Retry Phase)
"""``retryikeattempts``: ISAKMP attempts a negotiation again when it fails.

By default (0) a negotiation is attempted once (R58). With
``retryikeattempts=N`` (1..16) on the ISAKMP policy, ISAKMP re-attempts
it up to N times after the first attempt fails, and with ``continuous``
until the connection is established or 24 hours have passed since the
first failure (R62). The attempts are counted per ISAKMP policy, shown as
``Current IKE Retries`` by ``show isakmp policy=name``, and start again
from 0 once a bundle with the policy's peer is up.

A re-attempt is made when (R59, R61), as the initiator of the acquire:

- phase 1 fails: its proposals were refused (NO-PROPOSAL-CHOSEN), the
  exchange timed out (a wrong pre-shared key ends this way: the peer
  drops our HASH) or the card failed it: phase 1 is negotiated again;
- quick mode fails (refused, timed out): the IKE SA it ran over is deleted
  and a new phase 1 carries the next quick mode ("attempted over new
  ISAKMP SAs");
- the peer deletes the most recent SA: a Delete of the SPIs of a bundle we
  negotiated makes a new one at once.

XAUTH failures are not re-attempted (R60; XAUTH is not negotiated here).
The manual does not say how long ISAKMP waits between the first 16
attempts (§8 item 21): here it re-attempts at once (the failed exchange
already waited out its retransmissions); ``continuous`` then waits
:data:`CONTINUOUS_DELAY` seconds between attempts. N counts re-attempts
after the first, so ``retryikeattempts=2`` makes at most three attempts.
The ISAKMP policy must name a specific peer (R63, checked by
:mod:`.policy_config`), and the IPsec policy one too (an IPsec policy with
a wildcard peer never acquires).

:class:`IkeRetries(config)` keeps the count; the key manager
(:mod:`.keying`) reports failures and successes and asks which
re-attempts are due (:meth:`~IkeRetries.due`, :meth:`~IkeRetries.next_timer`).
"""
from collections import Counter

from .policy_config import PEER_ANY
from .transport import address

__all__ = ["IkeRetries", "CONTINUOUS", "IMMEDIATE_RETRIES", "CONTINUOUS_DELAY", "CONTINUOUS_WINDOW"]

#: The ``retryikeattempts`` value that retries until the connection is up or the window has passed.
CONTINUOUS = "continuous"
#: Re-attempts ``continuous`` makes without delay (R62: "the first 16 attempts").
IMMEDIATE_RETRIES = 16
#: Seconds between the later re-attempts of ``continuous`` (R62: "a five minute delay").
CONTINUOUS_DELAY = 300
#: Seconds after the first failure that ``continuous`` stops re-attempting (R62: "24 hours").
CONTINUOUS_WINDOW = 24 * 3600


class IkeRetries:
    """The re-attempts of one daemon's ISAKMP policies (``config``: its :class:`~.policy_config.IsakmpConfig`)."""

    def __init__(self, config):
        self.config = config
        self.retries = Counter()      # ISAKMP policy name -> re-attempts made since the last success
        self._first_failure = {}      # ISAKMP policy name -> time (seconds) of the first failure
        self._due = {}                # IPsec policy name -> (time, ISAKMP policy name, new IKE SA first)

    def isakmp_policy(self, ipsec_policy):
        """The ISAKMP policy that negotiates for ``ipsec_policy`` (its ISAKMPPOLICY, else the one of its peer), or None."""
        named = self.config.policies.get(ipsec_policy.isakmppolicy or "")
        if named is not None:
            return named
        peer = ipsec_policy.peeraddress
        return next((p for p in self.config.policies.values()
                     if p.peer != PEER_ANY and peer is not None and address(p.peer) == address(peer)), None)

    def failed(self, ipsec_names, policy, now, renew_ike=False) -> bool:
        """The negotiation of ``ipsec_names`` (IPsec policy names) under
        ISAKMP ``policy`` failed at ``now``; schedule a re-attempt (True) or
        give up (False). ``renew_ike``: the quick mode failed, the next one
        goes over a new IKE SA (R61)."""
        if policy is None or not ipsec_names or not policy.retryikeattempts:
            return False
        name, limit = policy.name, policy.retryikeattempts
        first = self._first_failure.setdefault(name, now)
        made = self.retries[name]
        if limit == CONTINUOUS:
            if now - first >= CONTINUOUS_WINDOW:
                return False
            delay = 0 if made < IMMEDIATE_RETRIES else CONTINUOUS_DELAY
        elif made >= limit:
            return False
        else:
            delay = 0
        for ipsec_name in ipsec_names:
            self._due[ipsec_name] = (now + delay, name, renew_ike)
        return True

    def succeeded(self, policy_name) -> None:
        """A bundle under ISAKMP policy ``policy_name`` is up: its count starts again."""
        self.retries.pop(policy_name, None)
        self._first_failure.pop(policy_name, None)

    def due(self, now) -> list:
        """``[(IPsec policy name, renew_ike)]`` whose re-attempt is due at
        ``now`` (taken off the list and counted, once per ISAKMP policy)."""
        found = [(name, renew) for name, (at, _, renew) in self._due.items() if at <= now]
        for policy_name in {self._due[name][1] for name, _ in found}:
            self.retries[policy_name] += 1
        for name, _ in found:
            del self._due[name]
        return found

    def next_timer(self):
        """When the next re-attempt is due (seconds), or None."""
        return min((at for at, _, _ in self._due.values()), default=None)

    def current(self, policy_name) -> int:
        """``Current IKE Retries`` of ISAKMP policy ``policy_name``."""
        return self.retries.get(policy_name, 0)

    def waiting(self, policy_name) -> bool:
        """Whether a re-attempt under ISAKMP policy ``policy_name`` is pending
        (``Required IKE Retry Phase``: each starts with phase 1 when no IKE SA is up)."""
        return any(name == policy_name for _, name, _ in self._due.values())
