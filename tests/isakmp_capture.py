# Ref: /work/shared/interop/README.md, interop/ikt-kat-check.py (key and IV formats), RFC 2409 appendix B
# Ref: RFC 2408 sections 3.1, 3.2 (header and generic payload header, walked here without the firmware's codec)
"""The strongSwan IKEv1 interop capture and the keys charon logged, as test
vectors (../shared/interop/samples, made by ikt-demo.sh); no tests of its own.

Read with scapy (UDP 500, and UDP 4500 after the non-ESP marker):

* :func:`capture_messages` -- ``(frame, ISAKMP message bytes, port)`` of every ISAKMP datagram;
* :func:`messages`, :func:`payloads`, :func:`payload` -- the header fields
  and generic payload chain walked here (RFC 2408 3.1, 3.2), so a test
  need not trust the firmware's codec; :data:`EXCHANGES` pairs each logged
  IKE SA with its messages and :func:`derive` runs its phase-1 derivation
  on a card;
* :func:`tshark_fields` -- tshark's dissection (optionally with the lab's
  Wireshark profile, which decrypts IKEv1);
* :func:`decrypted_messages` -- the encrypted messages decrypted here with
  ``cryptography`` as an independent reference: phase 1 from IV =
  hash(g^xi | g^xr) truncated (``initial_iv`` in the keys file), then the
  last ciphertext block of the previous phase-1 message; quick mode and
  informational from IV = hash(last phase-1 IV | message ID) truncated,
  then the last ciphertext block of the previous message with that ID.
"""
import functools
import hashlib
import json
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.algorithms import AES
from scapy.layers.inet import UDP
from scapy.utils import rdpcap

from pacsim.firmware.isakmp.crypto import IkeCrypto, IkeHash
from pacsim.firmware.isakmp.keymat import Phase1Keys, phase1_keys
from pacsim.firmware.isakmp.message import EncryptedMessage, decode_message, strip_non_esp_marker
from pacsim.firmware.isakmp.payloads import Chain, wire_type
from pacsim.contract.codes import CipherAlg

#: ../shared/interop/samples beside the project (the nearest enclosing folder that has one).
SAMPLES = next(folder / "shared" / "interop" / "samples" for folder in pathlib.Path(__file__).resolve().parents
               if (folder / "shared" / "interop" / "samples").is_dir())
CAPTURE = SAMPLES / "strongswan-ikev1-demo.pcapng"
KEYS = SAMPLES / "strongswan-ikev1-demo.keys.json"
PROFILE = SAMPLES / "wireshark-profile-ikt"
PSK = b"interop-test-psk"

HEADER_BYTES = 28
IKE_PORT, NAT_T_PORT = 500, 4500
#: ISAKMP payload types (RFC 2408 section 3.1) and exchange types the tests use.
SA, KE, ID, HASH, NONCE = 1, 4, 5, 8, 10
MAIN, AGGRESSIVE, INFORMATIONAL, QUICK = 2, 4, 5, 32
ENCRYPTED = 0x01
_HASHES = {20: IkeHash.SHA1, 16: IkeHash.MD5}
_CIPHERS = {(8, 8): CipherAlg.DES, (24, 8): CipherAlg.TDES_INNER, (16, 16): CipherAlg.AES128,
            (24, 16): CipherAlg.AES192, (32, 16): CipherAlg.AES256}


@functools.cache
def capture_messages():
    """``(frame number, ISAKMP message bytes, udp port)`` of every ISAKMP datagram, in capture order."""
    found = []
    for number, packet in enumerate(rdpcap(str(CAPTURE)), 1):
        if UDP not in packet:
            continue
        udp = packet[UDP]
        raw = bytes(udp.payload)
        if IKE_PORT in (udp.sport, udp.dport):
            found.append((number, raw, IKE_PORT))
        elif NAT_T_PORT in (udp.sport, udp.dport) and strip_non_esp_marker(raw) is not None:
            found.append((number, strip_non_esp_marker(raw), NAT_T_PORT))
    return tuple(found)


@functools.cache
def keys() -> dict:
    """The keys charon logged (``ike_sas``, ``child_sas``)."""
    return json.loads(KEYS.read_text())


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
    """Every ISAKMP message of the capture in order, its header unpacked here."""
    found = []
    for _, data, _ in capture_messages():
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


def tshark_fields(pcap, fields, decrypt=False, display_filter="isakmp", profile=PROFILE):
    """tshark's ``fields`` per frame: {frame: [all occurrences joined by ','...]}.

    ``decrypt`` runs tshark with a Wireshark profile (default the lab's; its
    IKEv1 decryption table) in a private configuration directory.
    """
    command = ["tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields", "-E", "occurrence=a",
               "-E", "aggregator=,", "-e", "frame.number"]
    for field in fields:
        command += ["-e", field]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as config:
        if decrypt:
            shutil.copytree(profile, pathlib.Path(config, "wireshark", "profiles", "ikt"))
            env["XDG_CONFIG_HOME"] = config
            command[1:1] = ["-C", "ikt"]
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        columns = line.split("\t")
        rows[int(columns[0])] = columns[1:]
    return rows


def _cipher(key, iv):
    algorithm = AES(key) if len(iv) == 16 else TripleDES(key if len(key) == 24 else key * 3)
    return Cipher(algorithm, modes.CBC(iv))


@functools.cache
def decrypted_messages():
    """``(frame, EncryptedMessage, plaintext, block size)`` of every encrypted
    message whose IKE SA is in the keys file, decrypted by the reference."""
    sas = {bytes.fromhex(sa["cookie_i"]): sa for sa in keys()["ike_sas"]}
    phase1_iv, message_ivs, found = {}, {}, []
    for frame, raw, _ in capture_messages():
        message = decode_message(raw)
        if not isinstance(message, EncryptedMessage):
            continue
        cookie = message.header.initiator_cookie
        sa = sas[cookie]
        key, block = bytes.fromhex(sa["enc_key"]), len(sa["initial_iv"]) // 2
        digest = hashlib.sha1 if len(sa["skeyid"]) == 40 else hashlib.md5
        message_id = message.header.message_id
        if message_id == 0:
            iv = phase1_iv.get(cookie, bytes.fromhex(sa["initial_iv"]))
        else:
            iv = message_ivs.get((cookie, message_id))
            if iv is None:
                iv = digest(phase1_iv[cookie] + message_id.to_bytes(4, "big")).digest()[:block]
        decryptor = _cipher(key, iv).decryptor()
        plaintext = decryptor.update(message.ciphertext) + decryptor.finalize()
        last = message.ciphertext[-block:]
        if message_id == 0:
            phase1_iv[cookie] = last
        else:
            message_ivs[(cookie, message_id)] = last
        found.append((frame, message, plaintext, block))
    return tuple(found)


def flatten(payloads):
    """Payload type numbers in dissection order (SA, its proposals, their transforms, ...)."""
    out = []
    for payload in payloads:
        out.append(int(wire_type(payload)))
        for spec in payload.LAYOUT:
            if isinstance(spec, Chain):
                out += flatten(getattr(payload, spec.name))
    return out
