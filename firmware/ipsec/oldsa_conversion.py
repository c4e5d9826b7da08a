# Ref: spec/ipsec-commands.md §4.1 (activate ipsec convertoldsa, L2540-2571, L1004-1021), §5.14 (B89-B99)
"""``activate ipsec convertoldsa [sa=]``: old SAs become the equivalent
IPsec configuration, and the old SA configuration is removed.

The manual states what the command does (§4.1): IPsec must be enabled; one
SA, or all of them, is converted "to a functionality equivalent IPsec
configuration in memory"; the old SA configuration is destroyed; the IPsec
policies made "do not have valid IPsec peer addresses", which the user
enters before the configuration can be used; a message says so. How an old
SA maps onto the SPD is not described (§4.1 rule 6); this is the model's
reading, from what an old SA is (B92-B99):

- The transform: one manual ESP SA specification with the old SA's
  ENCalg (DES, 3DES2key or 3DESInner, all ESP ciphers), its ENCKey, and
  its SPI as both INSPI and OUTSPI ("the SPI must be same on all
  instances", B93); no authentication, as old SAs had none (B89); tunnel
  mode (the default), as old SAs protect traffic between networks behind
  routers (B94). Its id is the old SA's id when free, else the lowest free.
- A manual bundle specification of that one SA specification (same ids rule).
- The members: old SA processing applies on the interfaces it is enabled
  on (B90, B95), to traffic between a local and a remote member (B92,
  B94). For each such interface, one IPsec policy per (local member,
  remote member) pair: action IPSEC, LADDRESS/LMASK the local member,
  RADDRESS/RMASK the remote one, PEERADDRESS :data:`PLACEHOLDER_PEER`
  (0.0.0.0, not a valid peer: the manual's "do not have valid IPsec peer
  addresses"). Named ``oldsa<sa>_<interface>_<n>``, added after the
  interface's policies. An old SA without a local or a remote member, or
  with old SA processing enabled on no interface, matched no traffic: it
  gets no policy, and the message says so.
- DIrection: an IPsec policy protects both directions; an old SA limited
  to In or Out is converted all the same, and the message says so.
- Several member pairs or interfaces: the old SA's one SPI served them
  all, but a manual SA's inbound SPI belongs to one policy's bundle, so
  only the first of the old SA's policies can get one (manual keying warns
  about the others when IPsec makes their bundles); the message says so,
  for the user to give the others SA specifications of their own.

All the SPD entries of a conversion are made, or none: if one is refused
(an id or a name taken, a missing ENCO key), those already made are
destroyed again and the old SAs are kept. After a conversion the old SAs
are destroyed (``destroy sa``, counted as such); when none is left, old
SA processing is disabled on every interface (the rest of the old SA
configuration). The manual's confirmation question is not asked (a script
cannot answer it): its warning is printed with the result.
"""
import ipaddress
import itertools
from dataclasses import dataclass

from .config_errors import InvalidConfiguration, InvalidState, IpsecConfigError, NotFound
from .module import IpsecModule
from .oldsa import OLD_SA_IDS, OldSa, OldSaDirection
from .selectors import AddressKind, AddressSelector
from .spd import Action, KeyManagement
from .transforms import Protocol

__all__ = ["convert_old_sas", "OldSaConversion", "PLACEHOLDER_PEER"]

#: The peer address of converted policies: not a valid peer, to be set by the user.
PLACEHOLDER_PEER = ipaddress.IPv4Address("0.0.0.0")
_MANUAL = KeyManagement.MANUAL


@dataclass(frozen=True)
class OldSaConversion:
    """What one old SA becomes: SA and bundle specification ids, the
    policies (name, interface, keyword arguments of ``create_policy``) and
    notes for the message."""
    sa: OldSa
    saspecification: int
    bundlespecification: int
    policies: tuple[tuple[str, str, dict], ...]
    notes: tuple[str, ...]


def convert_old_sas(module: IpsecModule, sa: int | None = None) -> str:
    """``activate ipsec convertoldsa``: convert old SA ``sa`` (all when
    None) on ``module``; returns the message (warning and reminder). Raises
    :class:`InvalidState` (IPsec disabled), :class:`NotFound` (no such SA,
    no old SAs) or the SPD's error, having changed nothing."""
    table = module.old_sas
    if not module.enabled:
        raise InvalidState("IPsec must be enabled before old SAs can be converted (enable ipsec)")
    if sa is not None:
        table.sa(sa)
    if not table.sas:
        raise NotFound("there are no old SAs to convert")
    plans = _plan(module, [table.sas[i] for i in ([sa] if sa is not None else sorted(table.sas))])
    warnings = _apply(module, plans)
    for plan in plans:
        table.destroy(plan.sa.id)
    if not table.sas:
        for interface in sorted(table.interfaces):
            table.enable_interface(interface, False)
    return _message(plans, warnings)


def _plan(module: IpsecModule, sas: list[OldSa]) -> list[OldSaConversion]:
    spd, interfaces = module.spd, sorted(module.old_sas.interfaces)
    specs, bundles, names = set(spd.saspecifications), set(spd.bundlespecifications), set()
    plans = []
    for old in sas:
        spec_id, bundle_id = _free_id(old.id, specs, "SA"), _free_id(old.id, bundles, "bundle")
        pairs = list(itertools.product(old.local_members(), old.remote_members()))
        policies, notes = [], []
        for interface in interfaces:
            for n, (local, remote) in enumerate(pairs, 1):
                name = f"oldsa{old.id}_{interface}_{n}"
                if spd.has_policy(name) or name in names:
                    raise InvalidConfiguration(f'old SA {old.id} cannot be converted: IPsec policy "{name}" '
                                               "already exists (rename or destroy it first)")
                names.add(name)
                policies.append((name, interface, dict(
                    keymanagement=_MANUAL, bundlespecification=bundle_id, peeraddress=PLACEHOLDER_PEER,
                    laddress=AddressSelector(AddressKind.SINGLE, 4, local.address), lmask=local.mask,
                    raddress=AddressSelector(AddressKind.SINGLE, 4, remote.address), rmask=remote.mask)))
        if not pairs:
            notes.append(f"old SA {old.id} has no {'local' if not old.local_members() else 'remote'} member, so "
                         "it matched no traffic: no IPsec policy was made for it")
        elif not interfaces:
            notes.append(f"old SA processing is enabled on no interface, so old SA {old.id} applied nowhere: no "
                         "IPsec policy was made for it")
        if len(policies) > 1:
            notes.append(f"old SA {old.id} makes {len(policies)} IPsec policies sharing its SPI {old.spi}: a "
                         f"manual SA's inbound SPI serves one policy, so only {policies[0][0]} can have an SA "
                         "bundle; give the others SA specifications of their own (and the peers the same SPIs)")
        if old.direction is not OldSaDirection.BOTH and policies:
            notes.append(f"old SA {old.id} applied to {old.direction.value} traffic only; its IPsec policies "
                         "protect both directions")
        plans.append(OldSaConversion(old, spec_id, bundle_id, tuple(policies), tuple(notes)))
    return plans


def _free_id(preferred: int, taken: set[int], what: str) -> int:
    """``preferred`` if not ``taken``, else the lowest free id; the id is then taken."""
    chosen = preferred if preferred not in taken else next((i for i in OLD_SA_IDS if i not in taken), None)
    if chosen is None:
        raise InvalidConfiguration(f"no free {what} specification id (0-255) for the converted old SA {preferred}")
    taken.add(chosen)
    return chosen


def _apply(module: IpsecModule, plans: list[OldSaConversion]) -> list[str]:
    """Make every plan's SPD entries, or none (see the module docstring); the warnings of manual keying."""
    undo, warnings = [], []
    try:
        for plan in plans:
            old = plan.sa
            module.create_saspecification(saspecification=plan.saspecification, keymanagement=_MANUAL,
                                          protocol=Protocol.ESP, encalg=old.encalg, enckey=old.enckey,
                                          inspi=old.spi, outspi=old.spi)
            undo.append(lambda s=plan.saspecification: module.destroy_saspecification(s))
            module.create_bundlespecification(bundlespecification=plan.bundlespecification, keymanagement=_MANUAL,
                                              string=str(plan.saspecification))
            undo.append(lambda b=plan.bundlespecification: module.destroy_bundlespecification(b))
            for name, interface, params in plan.policies:
                warnings += module.create_policy(name, interface, Action.IPSEC, **params)
                undo.append(lambda n=name: module.destroy_policy(n))
    except IpsecConfigError:
        for step in reversed(undo):
            step()
        raise
    return warnings


def _message(plans: list[OldSaConversion], warnings: list[str]) -> str:
    ids = ", ".join(str(plan.sa.id) for plan in plans)
    lines = [f"Warning: this destroys the old SA configuration: old SA{'s' if len(plans) > 1 else ''} {ids} "
             "converted to IPsec and removed from memory."]
    for plan in plans:
        made = ", ".join(name for name, _, _ in plan.policies) or "none"
        lines.append(f"Info: old SA {plan.sa.id}: SA specification {plan.saspecification}, bundle specification "
                     f"{plan.bundlespecification}, IPsec policies: {made}.")
        lines += [f"Warning: {note}." for note in plan.notes]
    lines += warnings
    lines.append(f"Info: the IPsec policies made have PEERADDRESS={PLACEHOLDER_PEER}, not a valid peer: set each "
                 "policy's peer address (set ipsec policy=name peeraddress=ipadd) before the configuration is "
                 "used, and save it to a new boot configuration script (create config=filename).")
    return "\n".join(lines)
