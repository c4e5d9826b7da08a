# Ref: RFC 2408 sections 3.1-3.15 (the header and payload formats the mutations aim at)
"""Mutations of ISAKMP messages for the fuzz campaign (:mod:`.fuzz_isakmp`).

Two families, both driven by a caller's :class:`random.Random` so a seed
reproduces every mutation:

* :func:`mutate_bytes` ``(rng, data, corpus)``: byte-level mutations of a
  real message (octets): bit flips, byte sets, truncation, extension,
  header fields (next payload, version, exchange, flags, message ID,
  length), a payload's own length or next-payload field found by walking
  the generic payload headers, a repeated slice, a splice with another
  message of ``corpus`` (a sequence of octets) or random octets. The
  result always differs from ``data``.
* :func:`mutate_payloads` ``(rng, payloads, corpus)``: structure-aware
  mutations of a decoded payload chain (a tuple of
  :class:`~pacsim.firmware.isakmp.payloads.Payload`): drop, duplicate,
  swap or move a payload, insert one from ``corpus`` (payload tuples of
  other messages), or change one field (integers to boundary values,
  octets cut, grown or flipped, nested proposals, transforms, attributes
  and SPI lists likewise; integers stay within their field's width). The
  caller encodes the result; a chain the encoder still refuses (an SPI
  list of unequal lengths, a TV attribute value not of 2 octets) is the
  caller's to skip.
"""

from dataclasses import fields, is_dataclass, replace

from ..firmware.isakmp.constants import HEADER_LENGTH
from ..firmware.isakmp.payloads import Attribute, Int

__all__ = ["mutate_bytes", "mutate_payloads", "BYTE_MUTATIONS", "PAYLOAD_MUTATIONS"]

#: Header offsets a header mutation rewrites: next payload (16), version
#: (17), exchange type (18), flags (19), message ID (20-23), length (24-27).
_HEADER_FIELDS = tuple(range(16, HEADER_LENGTH))
#: Values a 16-bit length field is set to: zero, below a generic header, one, maximum.
_LENGTHS = (0, 1, 3, 4, 5, 0xFFFF)
_GENERIC_HEADER = 4
_LONGEST_EXTENSION = 64


def _generic_headers(data):
    """Offsets of the generic payload headers of a clear chain in ``data`` (stops at a bad length)."""
    offsets, at = [], HEADER_LENGTH
    while at + _GENERIC_HEADER <= len(data):
        offsets.append(at)
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < _GENERIC_HEADER:
            break
        at += length
    return offsets


def _bit_flip(rng, data, corpus):
    at = rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)


def _byte_set(rng, data, corpus):
    data[rng.randrange(len(data))] = rng.randrange(256)


def _truncate(rng, data, corpus):
    del data[rng.randrange(len(data)):]


def _extend(rng, data, corpus):
    data += rng.randbytes(rng.randrange(1, _LONGEST_EXTENSION))


def _header_field(rng, data, corpus):
    at = rng.choice(_HEADER_FIELDS)
    if at < len(data):
        data[at] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)))


def _payload_length(rng, data, corpus):
    headers = _generic_headers(data)
    if headers:
        at = rng.choice(headers) + 2
        data[at:at + 2] = rng.choice(_LENGTHS + (int.from_bytes(data[at:at + 2], "big") ^ 1,)).to_bytes(2, "big")


def _payload_type(rng, data, corpus):
    headers = _generic_headers(data)
    if headers:
        data[rng.choice(headers)] = rng.choice((0, 1, 2, 5, 8, 11, 12, 13, 14, 15, 16, 20, 130, 255,
                                                rng.randrange(256)))


def _repeat_slice(rng, data, corpus):
    at = rng.randrange(len(data))
    data[at:at] = data[at:at + rng.randrange(1, 32)]


def _splice(rng, data, corpus):
    other = rng.choice(corpus)
    cut, cut_other = rng.randrange(len(data)), rng.randrange(len(other))
    data[cut:] = other[cut_other:]


def _random(rng, data, corpus):
    data[:] = rng.randbytes(rng.randrange(0, 2 * HEADER_LENGTH + 64))


#: The byte-level mutations, chosen uniformly.
BYTE_MUTATIONS = (_bit_flip, _byte_set, _truncate, _extend, _header_field, _payload_length, _payload_type,
                  _repeat_slice, _splice, _random)


def mutate_bytes(rng, data, corpus):
    """One byte-level mutation of ``data`` (octets, never ``data`` itself);
    ``corpus``: other real messages (octets) to splice with."""
    while True:
        mutated = bytearray(data)
        rng.choice(BYTE_MUTATIONS)(rng, mutated, corpus)
        if mutated != data:
            return bytes(mutated)


# -- structure-aware -------------------------------------------------------------------------------------------


def _integer(rng, value, size=4):
    """A boundary or random value for an unsigned field of ``size`` octets now holding ``value``."""
    top = (1 << 8 * size) - 1
    return rng.choice((0, 1, 2, max(value - 1, 0), min(value + 1, top), top, top >> 1, 0xFF & top,
                       rng.randrange(top + 1)))


def _octets(rng, value):
    choice = rng.randrange(5)
    if choice == 0:
        return b""
    if choice == 1 and value:
        return value[:rng.randrange(len(value))]
    if choice == 2:
        return value + rng.randbytes(rng.randrange(1, _LONGEST_EXTENSION))
    if choice == 3 and value:
        at = rng.randrange(len(value))
        return value[:at] + bytes((value[at] ^ 1 << rng.randrange(8),)) + value[at + 1:]
    return rng.randbytes(rng.randrange(0, 300))


def _attribute(rng, attribute):
    choice = rng.randrange(3)
    if choice == 0:
        return replace(attribute, type=_integer(rng, attribute.type, 2) & 0x7FFF)
    if choice == 1:
        return replace(attribute, basic=not attribute.basic)
    value = _octets(rng, attribute.value)
    return Attribute(attribute.type, value, attribute.basic and len(value) == 2)


def _sequence(rng, items, element):
    """A tuple ``items`` with one element changed by ``element(rng, item)``, dropped, duplicated or swapped."""
    items = list(items)
    if not items:
        return ()
    choice = rng.randrange(4)
    if choice == 0:
        at = rng.randrange(len(items))
        items[at] = element(rng, items[at])
    elif choice == 1:
        items.append(items[rng.randrange(len(items))])
    elif choice == 2:
        del items[rng.randrange(len(items))]
    else:
        rng.shuffle(items)
    return tuple(items)


def _value(rng, value, size=4):
    """A mutation of one field value of any kind a payload holds (``size``: octets of an integer field)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return _integer(rng, value, size)
    if isinstance(value, bytes):
        return _octets(rng, value)
    if isinstance(value, Attribute):
        return _attribute(rng, value)
    if is_dataclass(value):
        return _field(rng, value)
    return _sequence(rng, value, _value)


def _field(rng, payload):
    """``payload`` with one field changed (an integer within its field's width)."""
    name = rng.choice([f.name for f in fields(payload)])
    size = next((part.size for part in payload.LAYOUT if isinstance(part, Int) and part.name == name), 4)
    return replace(payload, **{name: _value(rng, getattr(payload, name), size)})


def _drop(rng, payloads, corpus):
    del payloads[rng.randrange(len(payloads))]


def _duplicate(rng, payloads, corpus):
    payloads.insert(rng.randrange(len(payloads) + 1), payloads[rng.randrange(len(payloads))])


def _swap(rng, payloads, corpus):
    a, b = rng.randrange(len(payloads)), rng.randrange(len(payloads))
    payloads[a], payloads[b] = payloads[b], payloads[a]


def _move_to_front(rng, payloads, corpus):
    payloads.insert(0, payloads.pop(rng.randrange(len(payloads))))


def _insert_foreign(rng, payloads, corpus):
    donor = rng.choice(corpus)
    if donor:
        payloads.insert(rng.randrange(len(payloads) + 1), rng.choice(donor))


def _change_field(rng, payloads, corpus):
    at = rng.randrange(len(payloads))
    payloads[at] = _field(rng, payloads[at])


#: The payload-chain mutations; a field change is drawn three times as often as each of the others.
PAYLOAD_MUTATIONS = (_drop, _duplicate, _swap, _move_to_front, _insert_foreign, _change_field, _change_field,
                     _change_field)


def mutate_payloads(rng, payloads, corpus):
    """One structure-aware mutation of the chain ``payloads`` (a tuple,
    never returned unchanged); ``corpus``: payload tuples of other messages."""
    while True:
        mutated = list(payloads)
        if mutated:
            rng.choice(PAYLOAD_MUTATIONS)(rng, mutated, corpus)
        else:
            _insert_foreign(rng, mutated, corpus)
        if tuple(mutated) != tuple(payloads):
            return tuple(mutated)
