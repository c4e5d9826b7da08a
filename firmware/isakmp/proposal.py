# Ref: RFC 2409 section 5 and appendix A (phase-1 attributes), RFC 2408 sections 3.4-3.6 and 4.2
# Ref: RFC 2407 section 4.5.4 (RESPONDER-LIFETIME), RFC 3602 (AES-CBC), ../shared/spec/isakmp-commands.md 2.1.3
"""The phase-1 proposal of an ISAKMP policy and the responder's choice.

:data:`CIPHERS`, :data:`HASHES` and :data:`GROUPS` are the one table that
maps a policy's ``encalg``/``hashalg``/``group`` to the wire
(:mod:`.constants`) and to the card (:class:`~pacsim.contract.codes.CipherAlg`,
:class:`~.crypto.IkeHash`, the router's group numbers of ``host/pk.py``).

Group 0 (the router's MODP512, which has no IKE group description) goes
on the wire the way RFC 2409 section 5 / appendix A defines a new group:
GROUP-TYPE MODP, GROUP-PRIME and GROUP-GENERATOR-ONE; a received
transform naming exactly that prime and generator means group 0.

``3des2key`` and ``3desouter`` are not IKE ciphers (IKE's 3DES is
RFC 2451's three-key CBC-EDE, the card's TDES_INNER):
:func:`policy_transform` refuses them with :class:`PolicyNotNegotiable`.

Functions:

* :func:`policy_transform` -- the :class:`Phase1Transform` of a policy;
* :func:`offer` -- the initiator's SA payload (one proposal, one transform);
* :func:`parse_transform` -- a received Transform payload as a
  :class:`Phase1Transform` (None when it names anything we do not offer);
* :func:`select` -- the responder's choice among a received SA's
  transforms, with the lifetime both sides will use and whether a
  RESPONDER-LIFETIME notify is due;
* :func:`answer` -- the responder's SA payload (the chosen transform, as received);
* :func:`lifetime_notify` / :func:`honour_lifetime` -- RESPONDER-LIFETIME.
"""

from dataclasses import dataclass, replace

from ...contract.codes import CipherAlg
from ...reference.modp import GROUPS as MODP_GROUPS
from .constants import (AuthMethod, Doi, EncryptionAlgorithm, GroupDescription, HashAlgorithm, IsakmpTransformId,
                        LifeType, NotifyType, Phase1Attribute, ProtocolId, Situation)
from .crypto import IkeHash
from .errors import IsakmpError
from .payloads import Attribute, Notification, Proposal, SecurityAssociation, Transform, decode_attributes, \
    encode_attributes

__all__ = ["CIPHERS", "HASHES", "GROUPS", "GROUP_TYPE_MODP", "Phase1Transform", "PolicyNotNegotiable", "Selection",
           "policy_transform", "offer", "parse_transform", "select", "answer", "lifetime_notify", "honour_lifetime"]

#: policy ``encalg`` -> (wire algorithm, KEY_LENGTH attribute or None, card cipher).
CIPHERS = {
    "des": (EncryptionAlgorithm.DES_CBC, None, CipherAlg.DES),
    "3desinner": (EncryptionAlgorithm.DES3_CBC, None, CipherAlg.TDES_INNER),
    "aes128": (EncryptionAlgorithm.AES_CBC, 128, CipherAlg.AES128),
    "aes192": (EncryptionAlgorithm.AES_CBC, 192, CipherAlg.AES192),
    "aes256": (EncryptionAlgorithm.AES_CBC, 256, CipherAlg.AES256),
}
#: policy ``hashalg`` -> (wire algorithm, prf hash on the card).
HASHES = {"md5": (HashAlgorithm.MD5, IkeHash.MD5), "sha": (HashAlgorithm.SHA, IkeHash.SHA1)}
#: router group number -> IKE group description (None: sent as an explicit MODP group).
GROUPS = {0: None, 1: GroupDescription.MODP_768, 2: GroupDescription.MODP_1024, 5: GroupDescription.MODP_1536,
          14: GroupDescription.MODP_2048}
#: GROUP-TYPE value of a MODP group (RFC 2409 appendix A).
GROUP_TYPE_MODP = 1
#: policy ``authtype`` -> wire authentication method (RFC 2409 appendix A).
AUTH_METHODS = {"preshared": AuthMethod.PRE_SHARED_KEY, "rsasig": AuthMethod.RSA_SIGNATURES,
                "rsaencr": AuthMethod.RSA_ENCRYPTION}
#: Wire methods a responder takes as another: XAUTHInitPreShared (draft-beaulieu-ike-xauth-02 section 7.2) is a
#: pre-shared key whose initiator expects XAUTH (the answer echoes the method as received).
AUTH_ALIASES = {AuthMethod.XAUTH_INIT_PRE_SHARED: AuthMethod.PRE_SHARED_KEY}


class PolicyNotNegotiable(IsakmpError):
    """A policy names an algorithm or method phase 1 cannot offer."""


@dataclass(frozen=True)
class Phase1Transform:
    """What an IKE SA uses: ``cipher`` (CipherAlg), ``hash`` (IkeHash),
    ``group`` (router group number), ``auth`` (AuthMethod), ``life_seconds``
    and ``life_kbytes`` (None: no limit of that kind)."""
    cipher: CipherAlg
    hash: IkeHash
    group: int
    auth: AuthMethod
    life_seconds: int | None
    life_kbytes: int | None

    def algorithms(self):
        """The transform without its lifetimes (what must match to be chosen)."""
        return self.cipher, self.hash, self.group, self.auth


@dataclass(frozen=True)
class Selection:
    """The responder's choice: the received ``transform`` payload, its
    ``chosen`` :class:`Phase1Transform` with the lifetime in force, and
    ``notify_lifetime`` (ours is shorter than proposed: RESPONDER-LIFETIME)."""
    transform: Transform
    chosen: Phase1Transform
    notify_lifetime: bool


def policy_transform(policy):
    """The :class:`Phase1Transform` of an :class:`~.policy_config.IsakmpPolicy`."""
    for value, table, what in ((policy.encalg, CIPHERS, "ENCALG"), (policy.hashalg, HASHES, "HASHALG"),
                               (policy.group, GROUPS, "GROUP"), (policy.authtype, AUTH_METHODS, "AUTHTYPE")):
        if value not in table:
            raise PolicyNotNegotiable(f'ISAKMP policy "{policy.name}": {what}={value} cannot be negotiated in phase 1 '
                                      f"(expected one of {', '.join(map(str, table))})")
    return Phase1Transform(CIPHERS[policy.encalg][2], HASHES[policy.hashalg][1], policy.group,
                           AUTH_METHODS[policy.authtype], policy.expiryseconds, policy.expirykbytes)


def _life_attributes(seconds, kbytes):
    attributes = []
    for life_type, value in ((LifeType.SECONDS, seconds), (LifeType.KILOBYTES, kbytes)):
        if value is not None:
            attributes += [Attribute.of(Phase1Attribute.LIFE_TYPE, life_type),
                           Attribute.of(Phase1Attribute.LIFE_DURATION, value)]
    return attributes


def _group_attributes(group):
    if GROUPS[group] is not None:
        return [Attribute.of(Phase1Attribute.GROUP_DESCRIPTION, GROUPS[group])]
    modp = MODP_GROUPS[group]
    return [Attribute.of(Phase1Attribute.GROUP_TYPE, GROUP_TYPE_MODP),
            Attribute(Phase1Attribute.GROUP_PRIME, modp.prime.to_bytes(modp.bits // 8, "big"), False),
            Attribute.of(Phase1Attribute.GROUP_GENERATOR_ONE, modp.generator)]


def _transform_payload(number, transform):
    wire_cipher, key_length, _ = next(v for v in CIPHERS.values() if v[2] is transform.cipher)
    attributes = [Attribute.of(Phase1Attribute.ENCRYPTION_ALGORITHM, wire_cipher)]
    if key_length:
        attributes.append(Attribute.of(Phase1Attribute.KEY_LENGTH, key_length))
    attributes += [Attribute.of(Phase1Attribute.HASH_ALGORITHM, HASHES[_hash_name(transform.hash)][0]),
                   Attribute.of(Phase1Attribute.AUTHENTICATION_METHOD, transform.auth),
                   *_group_attributes(transform.group),
                   *_life_attributes(transform.life_seconds, transform.life_kbytes)]
    return Transform(number, IsakmpTransformId.KEY_IKE, tuple(attributes))


def _hash_name(ike_hash):
    return next(name for name, (_, card) in HASHES.items() if card is ike_hash)


def offer(transform):
    """The initiator's SA payload offering ``transform`` (a :class:`Phase1Transform`)."""
    return SecurityAssociation(Doi.IPSEC, Situation.IDENTITY_ONLY, (
        Proposal(1, ProtocolId.ISAKMP, b"", (_transform_payload(1, transform),)),))


def _group_of(values, attributes):
    if Phase1Attribute.GROUP_DESCRIPTION in values:
        return next((n for n, d in GROUPS.items() if d == values[Phase1Attribute.GROUP_DESCRIPTION]), None)
    prime = next((a.number for a in attributes if a.type == Phase1Attribute.GROUP_PRIME), None)
    modp = MODP_GROUPS[0]
    if (values.get(Phase1Attribute.GROUP_TYPE) == GROUP_TYPE_MODP and prime == modp.prime
            and values.get(Phase1Attribute.GROUP_GENERATOR_ONE) == modp.generator):
        return 0
    return None


def _lifetimes(attributes):
    """``(seconds, kbytes)`` from LIFE-TYPE/LIFE-DURATION pairs (None where absent or malformed)."""
    found, life_type = {}, None
    for attribute in attributes:
        if attribute.type == Phase1Attribute.LIFE_TYPE:
            life_type = attribute.number
        elif attribute.type == Phase1Attribute.LIFE_DURATION and life_type in (LifeType.SECONDS, LifeType.KILOBYTES):
            found[life_type] = attribute.number
            life_type = None
    return found.get(LifeType.SECONDS), found.get(LifeType.KILOBYTES)


def parse_transform(transform):
    """A received phase-1 Transform payload as a :class:`Phase1Transform`,
    or None when it names an algorithm, key length, group or method this
    router does not negotiate (RFC 2408 section 3.6: skip it)."""
    if transform.transform_id != IsakmpTransformId.KEY_IKE:
        return None
    values = {a.type: a.number for a in transform.attributes}
    key_length = values.get(Phase1Attribute.KEY_LENGTH)
    cipher = next((card for wire, length, card in CIPHERS.values()
                   if wire == values.get(Phase1Attribute.ENCRYPTION_ALGORITHM) and length == key_length), None)
    ike_hash = next((card for wire, card in HASHES.values() if wire == values.get(Phase1Attribute.HASH_ALGORITHM)),
                    None)
    group = _group_of(values, transform.attributes)
    auth = values.get(Phase1Attribute.AUTHENTICATION_METHOD)
    auth = AUTH_ALIASES.get(auth, auth)
    if None in (cipher, ike_hash, group) or auth not in AUTH_METHODS.values():
        return None
    seconds, kbytes = _lifetimes(transform.attributes)
    return Phase1Transform(cipher, ike_hash, group, AuthMethod(auth), seconds, kbytes)


def _shorter(ours, theirs):
    """The lifetime in force: ours when the peer proposed none or a longer one."""
    if ours is None:
        return theirs
    return ours if theirs is None or theirs > ours else theirs


def select(sa, ours):
    """The responder's :class:`Selection` from a received SA payload: the
    first transform (of the first ISAKMP proposal holding one) whose
    algorithms equal ``ours`` (a :class:`Phase1Transform`), or None."""
    for proposal in sa.proposals:
        if proposal.protocol != ProtocolId.ISAKMP:
            continue
        for transform in proposal.transforms:
            theirs = parse_transform(transform)
            if theirs is None or theirs.algorithms() != ours.algorithms():
                continue
            chosen = replace(theirs, life_seconds=_shorter(ours.life_seconds, theirs.life_seconds),
                             life_kbytes=_shorter(ours.life_kbytes, theirs.life_kbytes))
            shorter = (chosen.life_seconds, chosen.life_kbytes) != (theirs.life_seconds, theirs.life_kbytes)
            return Selection(transform, chosen, shorter)
    return None


def answer(sa, selection):
    """The responder's SA payload: ``sa``'s situation and the chosen transform as received."""
    proposal = next(p for p in sa.proposals if selection.transform in p.transforms)
    return SecurityAssociation(sa.doi, sa.situation, (replace(proposal, transforms=(selection.transform,)),))


def lifetime_notify(cookies, transform):
    """RESPONDER-LIFETIME (RFC 2407 section 4.5.4) for the ISAKMP SA with
    ``cookies`` (CKY-I | CKY-R, its SPI): the lifetimes of ``transform``."""
    data = encode_attributes(_life_attributes(transform.life_seconds, transform.life_kbytes))
    return Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.RESPONDER_LIFETIME, cookies, data)


def honour_lifetime(transform, notification):
    """``transform`` with the shorter lifetimes a received RESPONDER-LIFETIME
    ``notification`` announces (an undecodable one changes nothing)."""
    try:
        seconds, kbytes = _lifetimes(decode_attributes(notification.data, 0))
    except IsakmpError:
        return transform
    return replace(transform, life_seconds=_shorter(transform.life_seconds, seconds),
                   life_kbytes=_shorter(transform.life_kbytes, kbytes))
