# Ref: RFC 2409 sections 5 and 5.5 and appendix B (SKEYID, SKEYID_d/a/e, Ka, the phase-1 IV); RFC 2408 section 3.2
"""A reference for the keys of a main mode with pre-shared keys, computed
from the datagrams on the wire with ``hmac``/``hashlib`` only (not the
firmware's codec or the card), for the demo and the co-simulation.

:func:`phase1_reference` takes the ISAKMP messages of one main mode (UDP
payloads, port 500, in order), the pre-shared key, the initiator's
Diffie-Hellman exponent and the group's prime, and returns
``(SKEYID, SKEYID_d, SKEYID_a, SKEYID_e, Ka, IV)`` with the SHA-1 prf and
a ``key_bytes``-byte Ka (at most 20: no appendix B expansion needed) and a
``block``-byte IV. :func:`keymat_reference` is the quick mode's KEYMAT
(RFC 2409 section 5.5; with PFS, g(qm)^xy first) from SKEYID_d, the SPI and the nonces;
:func:`phase2_keys_match` checks a quick mode's outcome against it.
"""
import hashlib
import hmac
import struct

__all__ = ["phase1_reference", "keymat_reference", "phase2_keys_match", "wire_chain", "wire_payload"]

HEADER_BYTES = 28
#: ISAKMP protocol numbers of the IPsec protocols with KEYMAT (RFC 2407 4.4.1), by name.
PROTOCOL_NUMBERS = {"ESP": 3, "AH": 2}
NONCE, KE = 10, 4


def wire_chain(message: bytes) -> list:
    """``[(payload type, body)]`` of an unencrypted ISAKMP ``message``,
    walking the generic payload headers from the ISAKMP header's Next Payload."""
    found, following, offset = [], message[16], HEADER_BYTES
    while following and offset + 4 <= len(message):
        length = struct.unpack_from(">H", message, offset + 2)[0]
        found.append((following, message[offset + 4:offset + length]))
        following, offset = message[offset], offset + length
    return found


def wire_payload(message: bytes, kind: int) -> bytes:
    """The body of the first payload of type ``kind`` in an unencrypted ISAKMP ``message`` (b"" if none)."""
    return next((body for k, body in wire_chain(message) if k == kind), b"")


def phase1_reference(messages, psk: bytes, private: int, prime: int, key_bytes: int = 16, block: int = 16) -> tuple:
    """RFC 2409 keys of a SHA-1 main mode from its ``messages`` (see the module docstring)."""
    if key_bytes > hashlib.sha1().digest_size:
        raise ValueError(f"Ka of {key_bytes} bytes needs the appendix B expansion: expected at most 20")
    keyed = [m for m in messages if wire_payload(m, NONCE)][:2]
    (ni, gxi), (nr, gxr) = [(wire_payload(m, NONCE), wire_payload(m, KE)) for m in keyed]
    gxy = pow(int.from_bytes(gxr, "big"), private, prime).to_bytes(len(gxr), "big")
    cookies = messages[1][:16]

    def prf(key, data):
        return hmac.new(key, data, hashlib.sha1).digest()
    skeyid = prf(psk, ni + nr)
    skeyid_d = prf(skeyid, gxy + cookies + b"\0")
    skeyid_a = prf(skeyid, skeyid_d + gxy + cookies + b"\1")
    skeyid_e = prf(skeyid, skeyid_a + gxy + cookies + b"\2")
    return skeyid, skeyid_d, skeyid_a, skeyid_e, skeyid_e[:key_bytes], hashlib.sha1(gxi + gxr).digest()[:block]


def keymat_reference(prf_hash, skeyid_d: bytes, protocol: int, spi: int, ni: bytes, nr: bytes, length: int,
                     gxy_qm: bytes = b"") -> bytes:
    """RFC 2409 5.5 KEYMAT, by ``hmac`` with ``prf_hash`` (a ``hashlib``
    constructor): ``length`` bytes of K1 | K2 | ..., where
    Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b);
    ``protocol`` is the ISAKMP protocol number (ESP 3, AH 2), ``spi`` the
    32-bit SPI, ``gxy_qm`` the quick mode's Diffie-Hellman secret with PFS
    (left-padded to the prime's length; empty without PFS)."""
    seed = gxy_qm + bytes([protocol]) + spi.to_bytes(4, "big") + ni + nr
    out, block = b"", b""
    while len(out) < length:
        block = hmac.new(skeyid_d, block + seed, prf_hash).digest()
        out += block
    return out[:length]


def phase2_keys_match(outcome, skeyid_d: bytes) -> bool:
    """Whether every ESP/AH SA pair of ``outcome`` (a quick mode's
    ``Phase2Outcome``: ``pairs`` with ``protocol``, the SPIs and keys each
    way, and the ``nonces``) holds :func:`keymat_reference`'s KEYMAT with
    the SHA-1 prf for both its SPIs."""
    ni, nr = outcome.nonces
    return all(keys.encryption + keys.hash == keymat_reference(
                   hashlib.sha1, skeyid_d, PROTOCOL_NUMBERS[pair.protocol.name], spi, ni, nr,
                   len(keys.encryption + keys.hash))
               for pair in outcome.pairs
               for spi, keys in ((pair.inbound_spi, pair.inbound_keys), (pair.outbound_spi, pair.outbound_keys)))
