"""The strongSwan IKEv1 interop capture and the keys charon logged, read for
known-answer tests (../shared/interop/samples, made by ikt-demo.sh).

The capture is read with scapy (``rdpcap``) and the ISAKMP header and
generic payload headers are walked here (RFC 2408 sections 3.1, 3.2), so
the test does not depend on the firmware's own codec. :data:`EXCHANGES`
pairs each logged IKE SA with its messages; :func:`derive` runs its phase-1
derivation on a card.
"""
import json
import pathlib
import struct
from dataclasses import dataclass

from scapy.layers.inet import UDP
from scapy.utils import rdpcap

from pacsim.firmware.isakmp.crypto import IkeCrypto, IkeHash
from pacsim.firmware.isakmp.keymat import Phase1Keys, phase1_keys
from pacsim.hdl.layouts import CipherAlg

#: ../shared/interop/samples beside the project (the nearest enclosing folder that has one).
SAMPLES = next(folder / "shared" / "interop" / "samples" for folder in pathlib.Path(__file__).resolve().parents
               if (folder / "shared" / "interop" / "samples").is_dir())
CAPTURE = SAMPLES / "strongswan-ikev1-demo.pcapng"
KEYS = SAMPLES / "strongswan-ikev1-demo.keys.json"
PSK = b"interop-test-psk"

HEADER_BYTES = 28
NAT_T_PORT = 4500
#: ISAKMP payload types (RFC 2408 section 3.1) and exchange types the tests use.
SA, KE, ID, HASH, NONCE = 1, 4, 5, 8, 10
MAIN, AGGRESSIVE, INFORMATIONAL, QUICK = 2, 4, 5, 32
ENCRYPTED = 0x01
_HASHES = {20: IkeHash.SHA1, 16: IkeHash.MD5}
_CIPHERS = {(8, 8): CipherAlg.DES, (24, 8): CipherAlg.TDES_INNER, (16, 16): CipherAlg.AES128,
            (24, 16): CipherAlg.AES192, (32, 16): CipherAlg.AES256}


@dataclass(frozen=True)
class IsakmpMessage:
    """One ISAKMP message of the capture: header fields and the bytes after the header."""
    cky_i: bytes
    cky_r: bytes
    first_payload: int
    exchange: int
    flags: int
    msg_id: bytes
    body: bytes


def messages() -> list:
    """Every ISAKMP message of the capture in order (port 4500: after the non-ESP marker)."""
    found = []
    for packet in rdpcap(str(CAPTURE)):
        if UDP not in packet:
            continue
        data = bytes(packet[UDP].payload)
        if NAT_T_PORT in (packet[UDP].sport, packet[UDP].dport):
            if data[:4] != bytes(4):
                continue                                  # ESP in UDP
            data = data[4:]
        if len(data) < HEADER_BYTES:
            continue
        cky_i, cky_r, first, _version, exchange, flags, msg_id, length = struct.unpack(">8s8sBBBB4sI",
                                                                                        data[:HEADER_BYTES])
        found.append(IsakmpMessage(cky_i, cky_r, first, exchange, flags, msg_id, data[HEADER_BYTES:length]))
    return found


def payloads(first: int, body: bytes) -> list:
    """``[(type, payload body without its generic header, whole payload)]`` of a
    chain starting with type ``first`` (trailing padding ignored)."""
    found, kind, offset = [], first, 0
    while kind and offset + 4 <= len(body):
        following, length = body[offset], struct.unpack_from(">H", body, offset + 2)[0]
        found.append((kind, body[offset + 4:offset + length], body[offset:offset + length]))
        kind, offset = following, offset + length
    return found


def payload(first: int, body: bytes, kind: int) -> bytes:
    """The body of the first payload of type ``kind`` (b"" if none)."""
    return next((data for k, data, _ in payloads(first, body) if k == kind), b"")


def keys() -> dict:
    """The keys charon logged (``ike_sas``, ``child_sas``)."""
    return json.loads(KEYS.read_text())


def exchanges() -> list:
    """``(logged IKE SA, initiator's phase-1 message, responder's, the SA's
    messages)`` for every logged SA with a DH secret found in the capture."""
    captured = messages()
    found = []
    for sa in keys()["ike_sas"]:
        mine = [m for m in captured if m.cky_i.hex() == sa["cookie_i"]]
        keyed = [m for m in mine if m.exchange in (MAIN, AGGRESSIVE) and not m.flags & ENCRYPTED
                 and payload(m.first_payload, m.body, NONCE)]
        if "dh_secret" not in sa or not keyed:
            continue
        responder = next(m for m in keyed if payload(m.first_payload, m.body, NONCE)
                         != payload(keyed[0].first_payload, keyed[0].body, NONCE))
        found.append((sa, keyed[0], responder, mine))
    return found


EXCHANGES = exchanges()


def algorithms(sa: dict) -> tuple:
    """``(IkeHash, CipherAlg)`` of a logged IKE SA, told by its key and IV sizes."""
    return _HASHES[len(sa["skeyid"]) // 2], _CIPHERS[(len(sa["enc_key"]) // 2, len(sa["initial_iv"]) // 2)]


async def derive(crypto: IkeCrypto, sa: dict, initiator, responder) -> Phase1Keys:
    """The phase-1 keys of logged IKE SA ``sa`` from its two keying messages, on the card."""
    hash_alg, cipher = algorithms(sa)
    return await phase1_keys(
        crypto, hash_alg, cipher, psk=PSK,
        ni=payload(initiator.first_payload, initiator.body, NONCE),
        nr=payload(responder.first_payload, responder.body, NONCE),
        gxi=payload(initiator.first_payload, initiator.body, KE),
        gxr=payload(responder.first_payload, responder.body, KE),
        gxy=bytes.fromhex(sa["dh_secret"]), cky_i=bytes.fromhex(sa["cookie_i"]), cky_r=bytes.fromhex(sa["cookie_r"]))
