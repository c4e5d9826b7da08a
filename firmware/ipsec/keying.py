# Ref: spec/ipsec-commands.md §5.5-§5.7 (B42, B45-B47, B51-B54); strongSwan kernel_interface / kernel_listener
"""The seam between IPsec (SPD and SAD) and key management.

Two small interfaces, after strongSwan's kernel interface and listener:

:class:`SadKeying` is what a key manager calls on the SAD; :class:`~.sad.Sad`
implements it (the card's side, :class:`~.kernel.SaKernel`, hears of each
bundle added or removed from the SAD's listener and sets it up or takes it
down on the card):

- ``get_spi(protocol) -> int``: an unused inbound SPI to offer;
- ``add_sa_bundle(policy_name, pairs, limits, selectors, role) -> SaBundle``;
- ``del_sa_bundle(policy_name, bundle_id) -> SaBundle``.

:class:`KeyManager` is what IPsec calls; one per key-management method
(``keymanagement=manual`` here, ``isakmp`` when ISAKMP exists):

- ``acquire(policy, packet)``: a packet needs a bundle the policy does not
  have (B51); a key manager starts a negotiation (ISAKMP) or does nothing
  (manual);
- ``expire(bundle, expiry)``: a bundle reached its soft (renegotiate, B54)
  or hard (removed) limit.

:class:`ManualKeying` is the manual key manager: it builds a policy's one
bundle from its bundle specification's SA specifications, with their SPIs
and ENCO keys (B42, B48); :class:`~.module.IpsecModule` calls
:meth:`ManualKeying.establish` on the events of B46 and removes the bundles
on those of B47. Both directions of a manual SA pair use the same keys
(an SA specification names one ENCALG key and one HASH key).
"""
from collections.abc import Callable
from typing import Protocol as TypingProtocol

from .config_errors import InvalidConfiguration
from .sad import Expiry, KeyMaterial, LifetimeLimits, Role, SaBundle, SaPairSpec
from .selectors import Direction, PacketSelector
from .spd import IpsecPolicy, SaSelector, SaSpecification, Spd
from .transforms import Protocol

__all__ = ["SadKeying", "KeyManager", "ManualKeying", "bundle_selectors"]


class SadKeying(TypingProtocol):
    """What key management calls on the SAD (see the module docstring)."""

    def get_spi(self, protocol: Protocol) -> int: ...

    def add_sa_bundle(self, policy_name: str, pairs: list[SaPairSpec], limits: LifetimeLimits | None = None,
                      selectors: dict[str, object] | None = None, role: Role = Role.MANUAL) -> SaBundle: ...

    def del_sa_bundle(self, policy_name: str, bundle_id: int) -> SaBundle: ...


class KeyManager(TypingProtocol):
    """What IPsec calls on a key manager (see the module docstring)."""

    def acquire(self, policy: IpsecPolicy, packet: PacketSelector | None) -> None: ...

    def expire(self, bundle: SaBundle, expiry: Expiry) -> None: ...


def bundle_selectors(policy: IpsecPolicy, packet: PacketSelector, direction: Direction) -> dict[str, object] | None:
    """The packet values a new bundle of ``policy`` is bound to (B30, B41):
    for each SASElectorfrompkt selector, the packet field it takes, as
    :attr:`~.sad.SaBundle.selectors` wants them; None if the policy takes none."""
    if not policy.saselectorfrompkt:
        return None
    out = direction is Direction.OUTBOUND
    fields = {
        SaSelector.LADDRESS: "src" if out else "dst",
        SaSelector.RADDRESS: "dst" if out else "src",
        SaSelector.LPORT: "src_port" if out else "dst_port",
        SaSelector.RPORT: "dst_port" if out else "src_port",
        SaSelector.TRANSPORTPROTOCOL: "protocol",
    }
    return {fields[s]: getattr(packet, fields[s]) for s in SaSelector if s in policy.saselectorfrompkt}


class ManualKeying:
    """The manual key manager (see the module docstring). ``key_bytes(id)``
    gives an ENCO key's bytes, or None if it does not exist."""

    def __init__(self, spd: Spd, kernel: SadKeying, key_bytes: Callable[[int], bytes | None]):
        self.spd = spd
        self.kernel = kernel
        self.key_bytes = key_bytes

    def pairs(self, policy: IpsecPolicy) -> list[SaPairSpec]:
        """The SA pairs of ``policy``'s bundle, from its specifications;
        InvalidConfiguration if a key it needs is missing or unfit."""
        bundle_spec = self.spd.bundlespecification(policy.bundlespecification)
        proposal = bundle_spec.bundle.proposals[0]
        return [self._pair(self.spd.saspecification(pair.spec_ids[0])) for pair in proposal.pairs]

    def _pair(self, spec: SaSpecification) -> SaPairSpec:
        self.spd._check_saspecification(spec)          # keys may have changed since the spec was made
        enc = self._key(spec.enckey) if spec.encrypts else b""
        hsh = self._key(spec.hashkey) if spec.authenticates else b""
        keys = KeyMaterial(enc, hsh)
        if spec.protocol is Protocol.IPCOMP:
            inbound, outbound = spec.cpis
        else:
            inbound, outbound = spec.inspi, spec.outspi
        return SaPairSpec(spec.id, spec.protocol, spec.mode, outbound, inbound, spec.encalg, spec.hashalg,
                          spec.compalg, keys, keys, antireplay=False, replay_window=spec.replaywindowsize)

    def _key(self, key_id: int) -> bytes:
        data = self.key_bytes(key_id)
        if data is None:
            raise InvalidConfiguration(f"ENCO key {key_id} does not exist")
        return data

    def establish(self, policy: IpsecPolicy) -> SaBundle:
        """Create ``policy``'s SA bundle (B46)."""
        return self.kernel.add_sa_bundle(policy.name, self.pairs(policy), None, None, Role.MANUAL)

    def acquire(self, policy: IpsecPolicy, packet: PacketSelector | None) -> None:
        """Manual bundles are made only on the events of B46; nothing to negotiate."""

    def expire(self, bundle: SaBundle, expiry: Expiry) -> None:
        """Manual bundles have no lifetime limits (§7.16); nothing to do."""
