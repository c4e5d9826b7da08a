# Ref: RFC 2407 sections 4.4 (IPsec proposals and transforms), 4.5 (SA attributes), 4.5.4 (RESPONDER-LIFETIME),
#      4.6.2 (phase-2 identities); RFC 2408 section 4.2 (proposal numbering: AND, OR); RFC 3947 section 5.1
# Ref: ../shared/spec/ipsec-commands.md (bundle specification, B10-B17); ../shared/spec/isakmp-commands.md R38
"""Phase-2 SA payloads and identities from an IPsec policy, and the
responder's choice.

The policy's bundle specification (:class:`~..ipsec.bundle_string.BundleString`)
becomes one SA payload (RFC 2408 section 4.2): each comma alternative
(most wanted first) gets its own proposal number; its AND-joined SA pairs
are proposal payloads of that number, one per protocol (ESP+AH,
ESP+IPComp); the OR choices of a pair are transforms of its proposal
payload. Every transform carries the encapsulation mode (UDP-encapsulated
when a NAT is on the path), the bundle specification's lifetimes (seconds
and kilobytes) and, with ``usepfskey``, the policy's group. The IPsec DOI
has only GROUP-DESCRIPTION for it (RFC 2407 4.5), and the manual's group 0
(MODP512) has no description number: it is sent as
:data:`PFS_GROUP_0_DESCRIPTION`, from RFC 2409's private-use range, which
only another pacsim router understands (groups 1, 2, 5 and 14 are their
own numbers).

- :func:`offer` builds the SA payload from ``(spec, alternatives)`` and
  the inbound SPIs (one per protocol, ``{Protocol: spi}``);
- :func:`choose` is the responder's choice: the peer's first proposal
  number (in the peer's order) whose proposal payloads all match one of
  our alternatives pair by pair (protocol, transform ID, key length,
  authentication, mode, group), each pair taking the peer's first
  acceptable transform; a :class:`Choice` (or None). ``udp`` None accepts
  the plain or UDP-encapsulated mode the peer offers (NAT-T negotiated:
  the peer may see a NAT we do not);
- :func:`answer` is the SA payload of the choice (the one proposal number,
  one transform per protocol, our SPIs);
- :func:`accept_answer` is the initiator's check of the responder's SA.

Identities (RFC 2407 4.6.2): :func:`identities` gives (IDci, IDcr) of a
policy's selectors: a single address is ID_IPV4/6_ADDR, a mask or prefix
ID_..._ADDR_SUBNET, a range ID_..._ADDR_RANGE, ANY the whole address
space as a subnet; the transport protocol and a single port go in the ID's
protocol and port. Both are None when the traffic is between the two IKE
endpoints themselves with no protocol or port (host to host: RFC 2409
section 5.5 lets the IDs be omitted). :func:`id_bounds` reads one back as
(version, low, high, protocol, port).
"""
import ipaddress
from dataclasses import dataclass

from ..ipsec.selectors import AddressKind
from ..ipsec.transforms import EncAlg, HashAlg, Mode, Protocol
from .constants import (AhTransformId, AuthAlgorithm, Doi, EncapsulationMode, EspTransformId, IdType,
                        IpcompTransformId, LifeType, NotifyType, Phase2Attribute, ProtocolId, Situation)
from .payloads import (Attribute, Identification, Notification, Proposal, SecurityAssociation, Transform,
                       encode_attributes)

__all__ = ["Phase2Transform", "Choice", "ChosenPair", "PROTOCOL_IDS", "offer", "choose", "answer",
           "accept_answer", "transform_of", "lifetime_notify", "identities", "id_bounds", "host_id",
           "auth_key_bytes", "keymat_bytes", "cipher_key", "spi_bytes"]

#: ISAKMP protocol ID of each IPsec protocol.
PROTOCOL_IDS = {Protocol.ESP: ProtocolId.IPSEC_ESP, Protocol.AH: ProtocolId.IPSEC_AH,
                Protocol.IPCOMP: ProtocolId.IPCOMP}
_PROTOCOLS = {v: k for k, v in PROTOCOL_IDS.items()}
#: GROUP-DESCRIPTION of PFS with the manual's group 0 (MODP512): RFC 2409 appendix A's private-use range.
PFS_GROUP_0_DESCRIPTION = 32768
#: ESP transform ID and key length (bits, AES only) of each encryption algorithm.
_ESP_IDS = {EncAlg.DES: (EspTransformId.ESP_DES, None), EncAlg.TDESINNER: (EspTransformId.ESP_3DES, None),
            EncAlg.TDESOUTER: (EspTransformId.ESP_3DES, None), EncAlg.TDES2KEY: (EspTransformId.ESP_3DES, None),
            EncAlg.AES128: (EspTransformId.ESP_AES, 128), EncAlg.AES192: (EspTransformId.ESP_AES, 192),
            EncAlg.AES256: (EspTransformId.ESP_AES, 256), EncAlg.NULL: (EspTransformId.ESP_NULL, None)}
_AUTH = {HashAlg.MD5: AuthAlgorithm.HMAC_MD5, HashAlg.SHA: AuthAlgorithm.HMAC_SHA}
_AH_IDS = {HashAlg.MD5: AhTransformId.AH_MD5, HashAlg.SHA: AhTransformId.AH_SHA}
#: HMAC key octets of the negotiated authentication algorithms (RFC 2403, RFC 2404).
_AUTH_KEY_BYTES = {HashAlg.MD5: 16, HashAlg.SHA: 20}
#: KEYMAT octets of 3DES whatever the manual's variant (RFC 2451: three keys).
_TDES_KEY_BYTES = 24
_ENCAPSULATION = {(Mode.TUNNEL, False): EncapsulationMode.TUNNEL, (Mode.TRANSPORT, False): EncapsulationMode.TRANSPORT,
                  (Mode.TUNNEL, True): EncapsulationMode.UDP_ENCAPSULATED_TUNNEL,
                  (Mode.TRANSPORT, True): EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT}
#: What a received encapsulation value means: (mode, UDP-encapsulated); the draft values are what older peers send.
_MODES = {EncapsulationMode.TUNNEL: (Mode.TUNNEL, False), EncapsulationMode.TRANSPORT: (Mode.TRANSPORT, False),
          EncapsulationMode.UDP_ENCAPSULATED_TUNNEL: (Mode.TUNNEL, True),
          EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT: (Mode.TRANSPORT, True),
          EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT: (Mode.TUNNEL, True),
          EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT_DRAFT: (Mode.TRANSPORT, True)}
_SPI_BYTES = {Protocol.ESP: 4, Protocol.AH: 4, Protocol.IPCOMP: 2}


@dataclass(frozen=True)
class Phase2Transform:
    """What one transform of a phase-2 proposal says: ``protocol``
    (:class:`~..ipsec.transforms.Protocol`), ``transform_id``, ``key_bits``
    (AES; None otherwise), ``auth`` (AuthAlgorithm or None), ``mode``
    (:class:`~..ipsec.transforms.Mode`), ``udp`` (UDP-encapsulated),
    ``group`` (PFS group or None), ``life_seconds``/``life_kbytes`` (None:
    not given)."""
    protocol: Protocol
    transform_id: int
    key_bits: int | None
    auth: int | None
    mode: Mode
    udp: bool
    group: int | None
    life_seconds: int | None
    life_kbytes: int | None

    def matches(self, other):
        """Whether ``other`` (a received transform) is this one, lifetimes aside."""
        return (self.protocol, self.transform_id, self.key_bits, self.auth, self.mode, self.udp, self.group) == \
            (other.protocol, other.transform_id, other.key_bits, other.auth, other.mode, other.udp, other.group)

    def attributes(self):
        """The SA attributes (RFC 2407 4.5) of this transform."""
        out = _life_attributes(self.life_seconds, self.life_kbytes)
        if self.group is not None:
            out.append(Attribute.of(Phase2Attribute.GROUP_DESCRIPTION,
                                    PFS_GROUP_0_DESCRIPTION if self.group == 0 else self.group))
        out.append(Attribute.of(Phase2Attribute.ENCAPSULATION_MODE, _ENCAPSULATION[(self.mode, self.udp)]))
        if self.auth is not None:
            out.append(Attribute.of(Phase2Attribute.AUTHENTICATION_ALGORITHM, self.auth))
        if self.key_bits is not None:
            out.append(Attribute.of(Phase2Attribute.KEY_LENGTH, self.key_bits))
        return tuple(out)


def _life_attributes(seconds, kbytes):
    """SA life type/duration attribute pairs (RFC 2407 4.5) of the lifetimes given (None: none)."""
    out = []
    for life_type, value in ((LifeType.SECONDS, seconds), (LifeType.KILOBYTES, kbytes)):
        if value:
            out += [Attribute.of(Phase2Attribute.SA_LIFE_TYPE, life_type),
                    Attribute.of(Phase2Attribute.SA_LIFE_DURATION, value)]
    return out


def transform_of(spec, udp, group, life_seconds, life_kbytes):
    """The :class:`Phase2Transform` of SA specification ``spec``."""
    if spec.protocol is Protocol.ESP:
        transform_id, bits = _ESP_IDS[spec.encalg or EncAlg.NULL]
        auth = _AUTH.get(spec.hashalg)
    elif spec.protocol is Protocol.AH:
        transform_id, bits, auth = _AH_IDS[spec.hashalg], None, _AUTH[spec.hashalg]
    else:
        transform_id, bits, auth = IpcompTransformId.IPCOMP_LZS, None, None
    return Phase2Transform(spec.protocol, int(transform_id), bits, None if auth is None else int(auth), spec.mode,
                           udp, group, life_seconds, life_kbytes)


def _received(protocol, transform):
    """A received Transform payload of ``protocol`` as a :class:`Phase2Transform`, or None when unusable."""
    seconds = kbytes = None
    life_type = None
    for attribute in transform.attributes:
        if attribute.type == Phase2Attribute.SA_LIFE_TYPE:
            life_type = attribute.number
        elif attribute.type == Phase2Attribute.SA_LIFE_DURATION:
            if life_type == LifeType.SECONDS:
                seconds = attribute.number
            elif life_type == LifeType.KILOBYTES:
                kbytes = attribute.number
    encapsulation = transform.value(Phase2Attribute.ENCAPSULATION_MODE, EncapsulationMode.TUNNEL)
    if encapsulation not in _MODES:
        return None
    mode, udp = _MODES[encapsulation]
    group = transform.value(Phase2Attribute.GROUP_DESCRIPTION)
    return Phase2Transform(protocol, transform.transform_id, transform.value(Phase2Attribute.KEY_LENGTH),
                           transform.value(Phase2Attribute.AUTHENTICATION_ALGORITHM), mode, udp,
                           0 if group == PFS_GROUP_0_DESCRIPTION else group, seconds, kbytes)


def spi_bytes(protocol, spi):
    """``spi`` as the octets of a proposal of ``protocol`` (a CPI is 2 octets, RFC 2393)."""
    return spi.to_bytes(_SPI_BYTES[protocol], "big")


@dataclass(frozen=True)
class ChosenPair:
    """One negotiated SA pair: ``spec`` (our SA specification),
    ``transform`` (the :class:`Phase2Transform`), ``peer_spi`` (octets, the
    SPI the peer receives on: our outbound SPI) and ``proposal`` (the
    proposal payload of the choice)."""
    spec: object
    transform: Phase2Transform
    peer_spi: bytes
    proposal: Proposal


@dataclass(frozen=True)
class Choice:
    """The responder's choice: ``number`` (the peer's proposal number),
    ``pairs`` (:class:`ChosenPair` in our bundle's order), ``life_seconds``
    and ``life_kbytes`` (what the SAs live: the shorter of both sides'),
    ``notify`` (True when ours is shorter: RESPONDER-LIFETIME)."""
    number: int
    pairs: tuple
    life_seconds: int | None
    life_kbytes: int | None
    notify: bool


def offer(alternatives, spis, udp, group, life_seconds, life_kbytes):
    """The SA payload of ``alternatives`` (a tuple of alternatives, each a
    tuple of pairs, each a tuple of SA specifications in OR order) with our
    inbound ``spis`` ({Protocol: spi})."""
    proposals = []
    for number, alternative in enumerate(alternatives, 1):
        for pair in alternative:
            protocol = pair[0].protocol
            transforms = tuple(Transform(n, t.transform_id, t.attributes()) for n, t in enumerate(
                (transform_of(spec, udp, group, life_seconds, life_kbytes) for spec in pair), 1))
            proposals.append(Proposal(number, PROTOCOL_IDS[protocol], spi_bytes(protocol, spis[protocol]),
                                      transforms))
    return SecurityAssociation(Doi.IPSEC, Situation.IDENTITY_ONLY, tuple(proposals))


def _numbered(sa):
    """The proposal payloads of ``sa`` grouped by proposal number, in the peer's order."""
    groups = {}
    for proposal in sa.proposals:
        groups.setdefault(proposal.number, []).append(proposal)
    return groups


def _match_alternative(alternative, proposals, udp, group):
    """Our pairs of ``alternative`` matched to the peer's ``proposals`` (one per protocol), or None."""
    if len(proposals) != len(alternative) or None in (_PROTOCOLS.get(p.protocol) for p in proposals):
        return None
    by_protocol = {_PROTOCOLS[p.protocol]: p for p in proposals}
    chosen = []
    for pair in alternative:
        proposal = by_protocol.get(pair[0].protocol)
        if proposal is None:
            return None
        found = None
        for transform in proposal.transforms:
            received = _received(pair[0].protocol, transform)
            if received is None:
                continue
            wanted = received.udp if udp is None else udp            # None: as the peer offers (NAT-T)
            spec = next((s for s in pair if transform_of(s, wanted, group, None, None).matches(received)), None)
            if spec is not None:
                found = ChosenPair(spec, received, bytes(proposal.spi), Proposal(
                    proposal.number, proposal.protocol, proposal.spi, (transform,)))
                break
        if found is None:
            return None
        chosen.append(found)
    return chosen


def _shorter(ours, theirs):
    """The lifetime in force (None: unlimited) and whether ours is the shorter one."""
    if ours and (not theirs or ours < theirs):
        return ours, True
    return theirs, False


def choose(sa, alternatives, udp, group, life_seconds, life_kbytes):
    """The responder's :class:`Choice` for the peer's SA payload ``sa`` (see the module docstring), or None."""
    for number, proposals in _numbered(sa).items():
        for alternative in alternatives:
            pairs = _match_alternative(alternative, proposals, udp, group)
            if pairs is None:
                continue
            theirs = pairs[0].transform
            seconds, notify_s = _shorter(life_seconds, theirs.life_seconds)
            kbytes, notify_k = _shorter(life_kbytes, theirs.life_kbytes)
            return Choice(number, tuple(pairs), seconds, kbytes, notify_s or notify_k)
    return None


def answer(sa, choice, spis):
    """The responder's SA payload: the chosen proposal number with our SPIs ({Protocol: spi})."""
    proposals = tuple(Proposal(p.proposal.number, p.proposal.protocol, spi_bytes(p.spec.protocol,
                                                                                   spis[p.spec.protocol]),
                               p.proposal.transforms) for p in choice.pairs)
    return SecurityAssociation(sa.doi, sa.situation, proposals)


def lifetime_notify(choice, pair):
    """RESPONDER-LIFETIME (RFC 2407 4.5.4) of ``pair``'s SA with our shorter lifetimes."""
    return Notification(Doi.IPSEC, pair.proposal.protocol, NotifyType.RESPONDER_LIFETIME, pair.peer_spi,
                        encode_attributes(_life_attributes(choice.life_seconds, choice.life_kbytes)))


def accept_answer(sa, alternatives, udp, group, life_seconds, life_kbytes):
    """The initiator's reading of the responder's SA payload ``sa``: a
    :class:`Choice` when it is one proposal number of ours with one of our
    transforms per protocol, else None."""
    groups = _numbered(sa)
    if len(groups) != 1 or any(len(p.transforms) != 1 for p in sa.proposals):
        return None
    number, proposals = next(iter(groups.items()))
    if not 1 <= number <= len(alternatives):
        return None
    pairs = _match_alternative(alternatives[number - 1], proposals, udp, group)
    if pairs is None:
        return None
    return Choice(number, tuple(pairs), life_seconds, life_kbytes, False)


def auth_key_bytes(spec):
    """HMAC key octets of ``spec``'s SA (0 without authentication, and for IPComp)."""
    return 0 if spec.protocol is Protocol.IPCOMP else _AUTH_KEY_BYTES.get(spec.hashalg, 0)


def keymat_bytes(spec):
    """KEYMAT octets one direction of ``spec``'s SA needs: encryption key then HMAC key."""
    enc = 0
    if spec.protocol is Protocol.ESP and spec.encalg not in (None, EncAlg.NULL):
        enc = _TDES_KEY_BYTES if _ESP_IDS[spec.encalg][0] == EspTransformId.ESP_3DES else spec.encalg.key_bytes
    return enc + auth_key_bytes(spec)


def cipher_key(spec, material: bytes) -> bytes:
    """The cipher key of ``spec``'s SA from its KEYMAT share ``material``
    (the encryption part, :func:`keymat_bytes` less the HMAC key): all of
    it, except for 3DES2KEY, negotiated as ESP_3DES with three keys of
    KEYMAT (RFC 2451), which keys the card's two-key 3DES with the first
    two (K1, K2; K3 = K1), as both of our routers do."""
    if spec.protocol is Protocol.ESP and spec.encalg is EncAlg.TDES2KEY:
        return material[:spec.encalg.key_bytes]
    return material


# -- identities -----------------------------------------------------------------------------------------------

_SUBNET = {4: IdType.ID_IPV4_ADDR_SUBNET, 6: IdType.ID_IPV6_ADDR_SUBNET}
_RANGE = {4: IdType.ID_IPV4_ADDR_RANGE, 6: IdType.ID_IPV6_ADDR_RANGE}
_SINGLE = {4: IdType.ID_IPV4_ADDR, 6: IdType.ID_IPV6_ADDR}
_BITS = {4: 32, 6: 128}


def _identity(selector, version, protocol, port):
    octets = _BITS[version] // 8
    if selector.kind is AddressKind.ANY:
        return Identification(_SUBNET[version], protocol, port, bytes(2 * octets))
    low, high = selector.bounds
    if selector.kind is AddressKind.SINGLE:
        return Identification(_SINGLE[version], protocol, port, low.to_bytes(octets, "big"))
    if selector.kind is AddressKind.SUBNET:
        mask = ((1 << _BITS[version]) - 1) ^ (high - low)
        return Identification(_SUBNET[version], protocol, port,
                              low.to_bytes(octets, "big") + mask.to_bytes(octets, "big"))
    return Identification(_RANGE[version], protocol, port, low.to_bytes(octets, "big") + high.to_bytes(octets, "big"))


def identities(policy, local, peer):
    """(IDci, IDcr) of ``policy``'s selectors as the initiator sends them
    (``local``/``peer``: the IKE endpoints), or (None, None) host to host."""
    selectors = policy.selectors()
    protocol = selectors.transport.number or 0
    lport, rport = selectors.local_port.port or 0, selectors.remote_port.port or 0
    host_to_host = (selectors.local.kind is AddressKind.SINGLE and selectors.local.address == local
                    and selectors.remote.kind is AddressKind.SINGLE and selectors.remote.address == peer
                    and not protocol and not lport and not rport)
    if host_to_host:
        return None, None
    version = policy.ipversion
    return (_identity(selectors.local, version, protocol, lport),
            _identity(selectors.remote, version, protocol, rport))


def id_bounds(identification):
    """(version, low, high, protocol, port) of an address ID payload, or None for other ID types."""
    data = identification.data
    kind = identification.id_type
    version = 4 if kind in (IdType.ID_IPV4_ADDR, IdType.ID_IPV4_ADDR_SUBNET, IdType.ID_IPV4_ADDR_RANGE) else 6
    octets = _BITS[version] // 8
    if kind in _SINGLE.values() and len(data) == octets:
        low = high = int.from_bytes(data, "big")
    elif kind in _SUBNET.values() and len(data) == 2 * octets:
        address, mask = int.from_bytes(data[:octets], "big"), int.from_bytes(data[octets:], "big")
        low, high = address & mask, (address & mask) | (((1 << _BITS[version]) - 1) ^ mask)
    elif kind in _RANGE.values() and len(data) == 2 * octets:
        low, high = int.from_bytes(data[:octets], "big"), int.from_bytes(data[octets:], "big")
    else:
        return None
    return version, low, high, identification.protocol, identification.port


def host_id(address):
    """The (version, low, high, protocol, port) of a single address with any protocol and port."""
    address = ipaddress.ip_address(address)
    return address.version, int(address), int(address), 0, 0
