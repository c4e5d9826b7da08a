# Ref: RFC 2401 section 5 (IPsec traffic processing); spec/ipsec-commands.md §5.4-§5.6 (B22-B47);
#      spec/show-outputs.md §3.2 (IPSec: ALG counters), §3.5 (main counters), §5 (policy counters)
"""The router's IPsec gate: the SPD check of every packet on an interface
with IPsec policies, and the SA kernel's bundles applied to those an IPSEC
policy protects, each counted in the main, policy and ALG counters.

:class:`IpsecGate` is the part of :class:`~.router.Router` that decides
what IPsec does with a packet (the router mixes it in with
:class:`~.forwarding.Forwarding`, which calls it); it uses the router's
IPsec module (``ipsec``: SPD, SAD), SA kernel (``kernel``: the card's
bundles and the ``IPSec:`` ALG counters), datapath and main counters
(``main``). IPsec applies on an interface when IPsec is enabled and the
interface has policies.

- Outbound (:meth:`IpsecGate._outbound_ipsec`): PERMIT sends
  (``outPermit``), DENY and no match drop (``outDeny``,
  ``outNoPolicyFound``), IPSEC applies the policy's first VALID bundle
  (``outProcessStart``, then ``Done``, ``Fail`` or ``FailImm`` as the SA
  counted it; ``ipsecEncodeGood``/``ipsecEncodeFail``). A policy whose
  bundles are all INVALID drops with ``outBundleStateBad``; one with no
  bundle asks its key manager (``outNoBundle``) and drops
  (``outNoBundleFail``), unless its key manager is ISAKMP: then a few
  packets are held (:data:`HELD`) until the bundle is negotiated.
- Inbound IPsec (:meth:`IpsecGate._inbound_ipsec`): the datapath removes
  the bundle's headers (``inProcessStart``, then ``FailImm`` or ``Fail``
  as the SA counted it, ``ipsecDecodeFail``); a packet it delivers was
  decoded (``inProcessDone``, as in its SAs' counters, and
  ``ipsecDecodeGood``) and must then match the selectors of the policy
  whose bundle processed it, else it is discarded
  (``inPolSelectMatchFail``, ``ipsecDecodeDiscard``); an IPComp bundle's
  packet that came without IPComp counts ``inCompUncompressed``.
- Inbound plaintext (:meth:`IpsecGate._inbound_plain`): PERMIT passes
  (``inPermit``), DENY drops (``inDeny``), IPSEC drops
  (``inActionIpsecFail``), no match drops (``inNoPolicyFound``, B35).

A sealed packet its out interface then refuses (DF set, too big) is an
``ipsecEncodeDiscard`` (counted by the packet path's ``_output``).
"""
import weakref
from collections.abc import Callable

from ..ipsec.counters import IpsecCounters
from ..ipsec.packet import parse_ip
from ..ipsec.selectors import Direction
from ..ipsec.spd import Action, KeyManagement
from ..ipsec.transforms import Protocol
from .stack import selector_of

__all__ = ["IpsecGate", "DataplaneCounters", "HELD"]

#: What the outbound check returns for a packet held while its bundle is negotiated (R16).
HELD = b""


class DataplaneCounters(IpsecCounters):
    """The data plane's counters; its SAD "Find SA" counts also go to the
    module's SAD counters (``show ipsec counter=sad``)."""

    def __init__(self, sad_count: Callable[[str, str, str], None]):
        super().__init__()
        self._sad_count = sad_count

    def count(self, block: str, name: str, n: int = 1) -> None:
        super().count(block, name, n)
        if block == "sad_find":
            for _ in range(n):
                self._sad_count("sad", "sad", f"Find SA {name}")


class IpsecGate:
    """The IPsec gate of a :class:`~.router.Router` (see the module docstring)."""

    def _init_gate(self) -> None:
        #: Each IPComp SA's ``inProcessStart`` at its bundle's last inbound packet.
        self._comp_seen: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _ipsec_on(self, interface: str) -> bool:
        return self.ipsec.enabled and bool(self.ipsec.spd.policies(interface))

    def _pcount(self, policy: str, block: str, name: str) -> None:
        self.ipsec.count_policy(policy, block, name)

    async def _outbound_ipsec(self, packet: bytes, interface: str) -> bytes | None:
        ip = parse_ip(packet)
        selector = selector_of(ip)
        self.main["outProcessPkt"] += 1
        policy = self.ipsec.spd.lookup(selector, interface, Direction.OUTBOUND)
        if policy is None:
            self.main["outNoPolicyFound"] += 1
            self._drop(interface, "out", "outNoPolicyFound", f"{ip.src} -> {ip.dst} matches no policy")
            return None
        if policy.action is Action.DENY:
            self._pcount(policy.name, "out", "outDeny")
            self._drop(interface, "out", "outDeny", f"policy {policy.name}")
            return None
        if policy.action is Action.PERMIT:
            self._pcount(policy.name, "out", "outPermit")
            return packet
        bundle = self.ipsec.sad.find_bundle(policy.name, selector)
        if bundle is None and self.ipsec.sad.bundles(policy.name):
            self._pcount(policy.name, "out", "outBundleStateBad")
            self._drop(interface, "out", "outBundleStateBad", f"policy {policy.name} has no VALID SA bundle")
            return None
        if bundle is None:
            self.ipsec.acquire(policy, selector, Direction.OUTBOUND)          # counts outNoBundle
            if policy.keymanagement is KeyManagement.ISAKMP and self.isakmp_daemon is not None and \
                    self._hold(policy, packet, interface):
                return HELD
            self._pcount(policy.name, "out", "outNoBundleFail")
            self._drop(interface, "out", "outNoBundleFail", f"policy {policy.name} has no SA bundle")
            return None
        proc = self.kernel.processor(bundle)
        if proc is None:
            self._pcount(policy.name, "out", "outBundleStateBad")
            self._drop(interface, "out", "outBundleStateBad",
                       f"SA bundle {bundle.bundle_id} of policy {policy.name} has no card channels")
            return None
        self._pcount(policy.name, "out", "outProcessStart")
        outcome = await self.datapath.outbound(proc, packet)
        if not outcome.ok:
            self._pcount(policy.name, "out", "outProcessFailImm" if outcome.immediate else "outProcessFail")
            self.kernel.alg["ipsecEncodeFail"] += 1
            self._drop(interface, "out", outcome.reason.value, outcome.detail)
            return None
        self._pcount(policy.name, "out", "outProcessDone")
        self.main["outProcessPktFinished"] += 1
        self.kernel.alg["ipsecEncodeGood"] += 1
        self.ipsec.sad.charge(bundle, len(ip.payload))
        return outcome.packet

    def _inbound_plain(self, ip, interface: str) -> bool:
        """The inbound policy check of a packet that is not for IPsec; True to pass it on."""
        selector = selector_of(ip)
        self.main["inProcessPkt"] += 1
        policy = self.ipsec.spd.lookup(selector, interface, Direction.INBOUND)
        verdict, counter = False, None
        if policy is None:
            self.main["inNoPolicyFound"] += 1
            counter = "inNoPolicyFound"
        elif policy.action is Action.PERMIT:
            self._pcount(policy.name, "in", "inPermit")
            verdict = True
        elif policy.action is Action.DENY:
            counter = "inDeny"
        else:
            counter = "inActionIpsecFail"        # plaintext where the policy wants IPsec
        if counter is not None:
            if policy is not None:
                self._pcount(policy.name, "in", counter)
            self._module(ip.version).count("ipsecDiscards")
            self._drop(interface, "in", counter, f"{ip.src} -> {ip.dst} protocol {ip.protocol}"
                       + (f", policy {policy.name}" if policy is not None else ""))
        return verdict

    async def _inbound_ipsec(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        self.main["inProcessPkt"] += 1
        module = self._module(packet[0] >> 4)
        outcome = await self.datapath.inbound(packet)
        if outcome.heartbeat:
            self.main["inProcessPktKeepalive"] += 1
            return []
        bundle = self.kernel.owner(outcome.bundle) if outcome.bundle is not None else None
        policy = bundle.policy_name if bundle is not None else None
        if policy is not None:
            self._pcount(policy, "in", "inProcessStart")
        if not outcome.ok:
            if policy is not None:
                self._pcount(policy, "in", "inProcessFailImm" if outcome.immediate else "inProcessFail")
                self.kernel.alg["ipsecDecodeFail"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", outcome.reason.value, outcome.detail)
        inner = parse_ip(outcome.packet)
        spd = self.ipsec.spd
        self.kernel.alg["ipsecDecodeGood"] += 1                # the SAs processed it (their inProcessDone)
        if bundle is None or not spd.has_policy(policy):
            self.kernel.alg["ipsecDecodeDiscard"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", "inPolicyActionFail", "the bundle's policy is gone")
        self._pcount(policy, "in", "inProcessDone")
        selector = selector_of(inner)
        failed = spd.policy(policy).selectors().mismatch(selector, Direction.INBOUND)
        if failed is not None:                                 # decoded, then discarded (RFC 2401 5.2.1 step 4)
            self._pcount(policy, "in", "inPolSelectMatchFail")
            self.kernel.alg["ipsecDecodeDiscard"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", "inPolSelectMatchFail",
                              f"{inner.src} -> {inner.dst} fails {failed} of policy {policy}")
        for sa in outcome.bundle.sas:
            if sa.protocol is Protocol.IPCOMP:           # the peer sent it without IPComp (RFC 3173 2.2)
                seen = sa.counters["inProcessStart"]
                if self._comp_seen.get(sa) == seen:
                    self._pcount(policy, "in", "inCompUncompressed")
                self._comp_seen[sa] = seen
        self.main["inProcessPktFinished"] += 1
        self.ipsec.sad.charge(bundle, len(inner.payload))
        return await self._route(outcome.packet, forwarded=True)
