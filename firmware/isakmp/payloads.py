# Ref: RFC 2408 sections 3.2-3.15 (payload formats), RFC 2407 sections 4.6.1-4.6.3
# Ref: RFC 3947 sections 3.2, 4 (NAT-D, NAT-OA), draft-ietf-ipsec-isakmp-mode-cfg-05 section 3.2
"""ISAKMP payloads as frozen dataclasses and ONE generic codec.

Each payload class lists its wire layout in ``LAYOUT``, a tuple of field
descriptions read left to right after the 4-octet generic payload header:

* :class:`Int` -- a big-endian unsigned integer field of the dataclass;
* :class:`Reserved` -- octets that must be zero (checked on decode);
* :class:`SizeOf` -- a length field derived from a bytes field;
* :class:`CountOf` -- a count derived from a tuple field;
* :class:`Octets` -- bytes; sized by a :class:`SizeOf`, or the rest;
* :class:`SpiList` -- the Delete payload's ``count`` SPIs of ``size`` octets;
* :class:`Attributes` -- the rest as TV/TLV data attributes;
* :class:`Chain` -- the rest as nested payloads of one type (proposals in
  an SA, transforms in a proposal).

Each description decodes itself from a :class:`_BodyReader` and encodes
itself from a payload; the codec only runs the layout.

:func:`decode_chain` and :func:`encode_chain` walk a payload chain (the
``next payload`` links); the header is in :mod:`.message`. Every fault
raises :class:`~.errors.MalformedMessage` with an offset relative to
``base`` (the caller's offset of ``data[0]``).
"""

from dataclasses import dataclass, replace
from typing import ClassVar

from .constants import GENERIC_HEADER_LENGTH, PayloadType
from .errors import EncodingError, MalformedMessage, Rejection

__all__ = [
    "Int", "Reserved", "SizeOf", "CountOf", "Octets", "SpiList", "Attributes", "Chain", "Attribute",
    "Transform", "Proposal", "SecurityAssociation", "KeyExchange", "Identification", "Certificate",
    "CertificateRequest", "Hash", "Signature", "Nonce", "Notification", "Delete", "VendorId",
    "ConfigAttributes", "NatDiscovery", "NatOriginalAddress", "PAYLOAD_CLASSES", "wire_type",
    "decode_chain", "encode_chain", "decode_attributes", "encode_attributes", "VendorIds",
]

ATTRIBUTE_FORMAT_TV = 0x8000


class _BodyReader:
    """Cursor over one payload body while its LAYOUT is decoded.

    ``body``: the octets after the generic header; ``base``: offset of
    ``body[0]`` for errors; ``values``/``sizes``/``counts``: what the fields
    read so far found (dataclass fields, SizeOf and CountOf values).
    """

    def __init__(self, cls, body, base):
        self.cls, self.body, self.base, self.at = cls, body, base, 0
        self.values, self.sizes, self.counts = {}, {}, {}

    @property
    def left(self):
        """Octets not read yet."""
        return len(self.body) - self.at

    def take(self, size, what):
        """The next ``size`` octets (bytes); MalformedMessage when fewer are left."""
        if size > self.left:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, self.base + self.at,
                                   f"{self.cls.__name__} {what} needs {size} octet(s), {self.left} left")
        self.at += size
        return bytes(self.body[self.at - size:self.at])

    def number(self, size, what):
        """The next ``size`` octets as a big-endian unsigned integer."""
        return int.from_bytes(self.take(size, what), "big")

    def rest(self):
        """The unread octets and their offset; the body counts as read."""
        data, offset, self.at = self.body[self.at:], self.base + self.at, len(self.body)
        return data, offset


@dataclass(frozen=True)
class Int:
    """An unsigned big-endian field ``name`` of ``size`` octets."""
    name: str
    size: int

    def decode(self, reader):
        reader.values[self.name] = reader.number(self.size, self.name)

    def encode(self, payload):
        return _int_bytes(getattr(payload, self.name), self.size)


@dataclass(frozen=True)
class Reserved:
    """``size`` octets that must be zero (RESERVED_NOT_ZERO otherwise)."""
    size: int

    def decode(self, reader):
        if any(reader.take(self.size, "reserved")):
            raise MalformedMessage(Rejection.RESERVED_NOT_ZERO, reader.base + reader.at - self.size,
                                   f"{reader.cls.__name__} reserved octets not zero")

    def encode(self, payload):
        return bytes(self.size)


@dataclass(frozen=True)
class SizeOf:
    """A ``size``-octet field giving the length of bytes field ``of`` (or of
    each of its items, which must all be that long)."""
    of: str
    size: int

    def decode(self, reader):
        reader.sizes[self.of] = reader.number(self.size, self.of + " size")

    def encode(self, payload):
        value = getattr(payload, self.of)
        lengths = {len(item) for item in value} if isinstance(value, tuple) else {len(value)}
        if len(lengths) > 1:
            raise EncodingError(f"{type(payload).__name__}.{self.of} items differ in length")
        return _int_bytes(lengths.pop() if lengths else 0, self.size)


@dataclass(frozen=True)
class CountOf:
    """A ``size``-octet count of the items of tuple field ``of``; decoding
    checks it against the items found."""
    of: str
    size: int

    def decode(self, reader):
        reader.counts[self.of] = reader.number(self.size, self.of + " count")

    def encode(self, payload):
        return _int_bytes(len(getattr(payload, self.of)), self.size)


@dataclass(frozen=True)
class Octets:
    """Bytes field ``name``: as long as its :class:`SizeOf`, else the rest."""
    name: str

    def decode(self, reader):
        reader.values[self.name] = reader.take(reader.sizes.get(self.name, reader.left), self.name)

    def encode(self, payload):
        return getattr(payload, self.name)


@dataclass(frozen=True)
class SpiList:
    """Tuple field ``name`` of SPIs, as many as its CountOf, each as long as
    its SizeOf (RFC 2408 section 3.15); at least one."""
    name: str

    def decode(self, reader):
        count = reader.counts.pop(self.name)
        if not count:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, reader.base + reader.at,
                                   f"{reader.cls.__name__} without SPIs")
        reader.values[self.name] = tuple(reader.take(reader.sizes[self.name], "SPI") for _ in range(count))

    def encode(self, payload):
        return b"".join(getattr(payload, self.name))


@dataclass(frozen=True)
class Attributes:
    """Tuple field ``name`` of :class:`Attribute`, filling the rest."""
    name: str

    def decode(self, reader):
        reader.values[self.name] = decode_attributes(*reader.rest())

    def encode(self, payload):
        return encode_attributes(getattr(payload, self.name))


@dataclass(frozen=True)
class Chain:
    """Tuple field ``name`` of nested payloads of ``payload_type``, filling the rest."""
    name: str
    payload_type: PayloadType

    def decode(self, reader):
        reader.values[self.name], _ = decode_chain(self.payload_type, *reader.rest(), nested=True)

    def encode(self, payload):
        return encode_chain(getattr(payload, self.name))


@dataclass(frozen=True)
class Attribute:
    """One data attribute (RFC 2408 section 3.3).

    ``type`` is the attribute class (without the AF bit), ``value`` the
    value octets, ``basic`` True for the TV form (AF=1, exactly 2 octets).
    """
    type: int
    value: bytes
    basic: bool = True

    @classmethod
    def of(cls, type, number):
        """The attribute with integer ``number``: TV when it fits 16 bits,
        else TLV with the fewest octets (variable-length classes such as
        life duration, RFC 2408 section 3.3)."""
        if 0 <= number <= 0xFFFF:
            return cls(type, number.to_bytes(2, "big"), True)
        return cls(type, number.to_bytes((number.bit_length() + 7) // 8, "big"), False)

    @property
    def number(self):
        """The value as an unsigned integer (any length)."""
        return int.from_bytes(self.value, "big")


class Payload:
    """Base of every payload dataclass: ``TYPE`` and ``LAYOUT`` are class data."""
    TYPE: ClassVar[PayloadType]
    DRAFT_TYPE: ClassVar[PayloadType | None] = None
    LAYOUT: ClassVar[tuple]


def _payload(type, layout, draft_type=None):
    """Class decorator: a frozen dataclass payload with its type and layout."""
    def wrap(cls):
        cls = dataclass(frozen=True)(cls)
        cls.TYPE, cls.LAYOUT, cls.DRAFT_TYPE = type, layout, draft_type
        return cls
    return wrap


@_payload(PayloadType.TRANSFORM, (Int("number", 1), Int("transform_id", 1), Reserved(2),
                                  Attributes("attributes")))
class Transform(Payload):
    """Transform payload: ``number``, ``transform_id``, ``attributes``."""
    number: int
    transform_id: int
    attributes: tuple = ()

    def value(self, type, default=None):
        """The integer value of the first attribute of class ``type``, or ``default``."""
        return next((a.number for a in self.attributes if a.type == type), default)


@_payload(PayloadType.PROPOSAL, (Int("number", 1), Int("protocol", 1), SizeOf("spi", 1),
                                 CountOf("transforms", 1), Octets("spi"),
                                 Chain("transforms", PayloadType.TRANSFORM)))
class Proposal(Payload):
    """Proposal payload: ``number``, ``protocol`` (ProtocolId), ``spi``, ``transforms``."""
    number: int
    protocol: int
    spi: bytes
    transforms: tuple


@_payload(PayloadType.SA, (Int("doi", 4), Int("situation", 4), Chain("proposals", PayloadType.PROPOSAL)))
class SecurityAssociation(Payload):
    """SA payload (IPsec DOI): ``doi``, ``situation``, ``proposals``."""
    doi: int
    situation: int
    proposals: tuple


@_payload(PayloadType.KE, (Octets("data"),))
class KeyExchange(Payload):
    """Key exchange payload: ``data`` is g^x, big-endian, group-sized."""
    data: bytes


@_payload(PayloadType.ID, (Int("id_type", 1), Int("protocol", 1), Int("port", 2), Octets("data")))
class Identification(Payload):
    """ID payload (RFC 2407 section 4.6.2): ``id_type`` (IdType), IP ``protocol``, ``port``, ``data``."""
    id_type: int
    protocol: int
    port: int
    data: bytes


@_payload(PayloadType.CERT, (Int("encoding", 1), Octets("data")))
class Certificate(Payload):
    """Certificate payload: ``encoding`` (CertEncoding), ``data``."""
    encoding: int
    data: bytes


@_payload(PayloadType.CR, (Int("cert_type", 1), Octets("authority")))
class CertificateRequest(Payload):
    """Certificate request payload: ``cert_type`` (CertEncoding), ``authority``."""
    cert_type: int
    authority: bytes


@_payload(PayloadType.HASH, (Octets("data"),))
class Hash(Payload):
    """Hash payload: ``data`` is the prf output."""
    data: bytes


@_payload(PayloadType.SIG, (Octets("data"),))
class Signature(Payload):
    """Signature payload: ``data``."""
    data: bytes


@_payload(PayloadType.NONCE, (Octets("data"),))
class Nonce(Payload):
    """Nonce payload: ``data`` (8..256 octets per RFC 2409, checked by the rules)."""
    data: bytes


@_payload(PayloadType.N, (Int("doi", 4), Int("protocol", 1), SizeOf("spi", 1), Int("notify_type", 2),
                          Octets("spi"), Octets("data")))
class Notification(Payload):
    """Notification payload: ``doi``, ``protocol``, ``notify_type`` (NotifyType), ``spi``, ``data``."""
    doi: int
    protocol: int
    notify_type: int
    spi: bytes = b""
    data: bytes = b""


@_payload(PayloadType.D, (Int("doi", 4), Int("protocol", 1), SizeOf("spis", 1), CountOf("spis", 2),
                          SpiList("spis")))
class Delete(Payload):
    """Delete payload: ``doi``, ``protocol``, ``spis`` (tuple of equal-length bytes)."""
    doi: int
    protocol: int
    spis: tuple


@_payload(PayloadType.VID, (Octets("data"),))
class VendorId(Payload):
    """Vendor ID payload: ``data`` (known values in :class:`VendorIds`)."""
    data: bytes


@_payload(PayloadType.ATTRIBUTE, (Int("cfg_type", 1), Reserved(1), Int("identifier", 2),
                                  Attributes("attributes")))
class ConfigAttributes(Payload):
    """Mode-cfg/XAUTH attribute payload: ``cfg_type`` (ConfigType), ``identifier``, ``attributes``."""
    cfg_type: int
    identifier: int
    attributes: tuple = ()


@_payload(PayloadType.NAT_D, (Octets("data"),), PayloadType.NAT_D_DRAFT)
class NatDiscovery(Payload):
    """NAT-D payload: ``data`` is HASH(CKY-I|CKY-R|IP|port); ``draft`` sends type 130."""
    data: bytes
    draft: bool = False


@_payload(PayloadType.NAT_OA, (Int("id_type", 1), Reserved(3), Octets("address")), PayloadType.NAT_OA_DRAFT)
class NatOriginalAddress(Payload):
    """NAT-OA payload: ``id_type`` (IPv4/IPv6 address), ``address``; ``draft`` sends type 131."""
    id_type: int
    address: bytes
    draft: bool = False


class VendorIds:
    """Vendor ID payload data this router knows (each the MD5 of a text).

    RFC 3947 section 3 ("RFC 3947"); the NAT-T drafts (strongSwan 5.9.8
    sends RFC 3947 and draft-02 hashed with a trailing newline, ``_02_N``);
    RFC 3706 section 5 (DPD, version 1.0); draft-beaulieu-ike-xauth-02
    section 4.2; Cisco Unity (version 1.0); Cisco IKE fragmentation (the
    hash followed by its capability flags, as strongSwan sends it).
    """
    NAT_T_RFC3947 = bytes.fromhex("4a131c81070358455c5728f20e95452f")
    NAT_T_DRAFT_02 = bytes.fromhex("cd60464335df21f87cfdb2fc68b6a448")
    NAT_T_DRAFT_02_N = bytes.fromhex("90cb80913ebb696e086381b5ec427b1f")
    NAT_T_DRAFT_03 = bytes.fromhex("7d9419a65310ca6f2c179d9215529d56")
    DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")
    XAUTH = bytes.fromhex("09002689dfd6b712")
    CISCO_UNITY = bytes.fromhex("12f5f28c457168a9702d9fe274cc0100")
    CISCO_FRAGMENTATION = bytes.fromhex("4048b7d56ebce88525e7de7f00d6c2d380000000")


#: Payload class of every known wire type number (both NAT-T numberings).
PAYLOAD_CLASSES = {}
for _cls in (Transform, Proposal, SecurityAssociation, KeyExchange, Identification, Certificate,
             CertificateRequest, Hash, Signature, Nonce, Notification, Delete, VendorId, ConfigAttributes,
             NatDiscovery, NatOriginalAddress):
    PAYLOAD_CLASSES[_cls.TYPE] = _cls
    if _cls.DRAFT_TYPE is not None:
        PAYLOAD_CLASSES[_cls.DRAFT_TYPE] = _cls
del _cls


def wire_type(payload):
    """The payload type number ``payload`` is sent with."""
    return payload.DRAFT_TYPE if getattr(payload, "draft", False) else payload.TYPE


def decode_attributes(data, base):
    """Decode ``data`` as consecutive TV/TLV attributes; returns a tuple of :class:`Attribute`."""
    attributes, at = [], 0
    while at < len(data):
        if len(data) - at < 4:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, base + at, "attribute header truncated")
        word = int.from_bytes(data[at:at + 2], "big")
        if word & ATTRIBUTE_FORMAT_TV:
            attributes.append(Attribute(word & 0x7FFF, bytes(data[at + 2:at + 4]), True))
            at += 4
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if at + 4 + length > len(data):
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, base + at,
                                   f"attribute length {length} beyond the payload")
        attributes.append(Attribute(word, bytes(data[at + 4:at + 4 + length]), False))
        at += 4 + length
    return tuple(attributes)


def encode_attributes(attributes):
    """Encode a sequence of :class:`Attribute` to bytes."""
    out = bytearray()
    for attribute in attributes:
        if not 0 <= attribute.type <= 0x7FFF:
            raise EncodingError(f"attribute type {attribute.type} out of range")
        if attribute.basic:
            if len(attribute.value) != 2:
                raise EncodingError(f"TV attribute {attribute.type} needs a 2-octet value")
            out += (attribute.type | ATTRIBUTE_FORMAT_TV).to_bytes(2, "big") + attribute.value
        else:
            out += _int_bytes(attribute.type, 2) + _int_bytes(len(attribute.value), 2) + attribute.value
    return bytes(out)


def _int_bytes(value, size):
    if not 0 <= value < 1 << (8 * size):
        raise EncodingError(f"value {value} does not fit {size} octet(s)")
    return value.to_bytes(size, "big")


def _decode_body(cls, body, base):
    """Decode one payload body (after its generic header) of class ``cls``."""
    reader = _BodyReader(cls, body, base)
    for spec in cls.LAYOUT:
        spec.decode(reader)
    for name, count in reader.counts.items():
        if count != len(reader.values[name]):
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, base, f"{cls.__name__} announces {count} "
                                   f"{name}, carries {len(reader.values[name])}")
    if reader.left:
        raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, base + reader.at,
                               f"{reader.left} octet(s) after the {cls.__name__} fields")
    return cls(**reader.values)


def decode_chain(first_type, data, base, nested=False):
    """Decode the payload chain starting with ``first_type`` from ``data``.

    ``base`` is the offset of ``data[0]`` for error offsets. A ``nested``
    chain (proposals, transforms) must have only ``first_type`` payloads
    and end exactly at the end of ``data``. Returns ``(payloads, end)``
    where ``end`` is the offset in ``data`` after the last payload; a
    top-level caller decides what bytes after ``end`` mean (none allowed in
    the clear, padding after decryption).
    """
    payloads, at, next_type = [], 0, first_type
    while next_type != PayloadType.NONE:
        cls = PAYLOAD_CLASSES.get(next_type)
        if cls is None or (nested and next_type != first_type) or (not nested and cls in (Proposal, Transform)):
            raise MalformedMessage(Rejection.INVALID_PAYLOAD_TYPE, base + at,
                                   f"payload type {next_type} not expected here")
        if len(data) - at < GENERIC_HEADER_LENGTH:
            raise MalformedMessage(Rejection.PAYLOAD_LENGTH, base + at,
                                   f"payload header needs 4 octets, {len(data) - at} left")
        following, reserved = data[at], data[at + 1]
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if reserved:
            raise MalformedMessage(Rejection.RESERVED_NOT_ZERO, base + at + 1, "generic header reserved octet")
        if length < GENERIC_HEADER_LENGTH or at + length > len(data):
            raise MalformedMessage(Rejection.PAYLOAD_LENGTH, base + at,
                                   f"payload length {length} with {len(data) - at} octet(s) left")
        payload = _decode_body(cls, data[at + GENERIC_HEADER_LENGTH:at + length],
                               base + at + GENERIC_HEADER_LENGTH)
        if cls.DRAFT_TYPE is not None and next_type == cls.DRAFT_TYPE:
            payload = replace(payload, draft=True)
        payloads.append(payload)
        at += length
        next_type = following
    if nested and at != len(data):
        raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, base + at,
                               f"{len(data) - at} octet(s) after the last nested payload")
    return tuple(payloads), at


def encode_chain(payloads):
    """Encode ``payloads`` as a linked chain (the last one's next payload is NONE)."""
    out = bytearray()
    for index, payload in enumerate(payloads):
        body = b"".join(spec.encode(payload) for spec in payload.LAYOUT)
        following = wire_type(payloads[index + 1]) if index + 1 < len(payloads) else PayloadType.NONE
        out += bytes((following, 0)) + _int_bytes(GENERIC_HEADER_LENGTH + len(body), 2) + body
    return bytes(out)
