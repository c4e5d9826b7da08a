# Ref: /work/shared/interop/README.md, interop/ikt-kat-check.py (key and IV formats), RFC 2409 appendix B
"""The strongSwan IKEv1 demo capture as test vectors for the ISAKMP codec.

Shared by test_isakmp_codec.py and test_isakmp_rules.py; no tests of its
own. Reads the capture with scapy (UDP 500, and UDP 4500 after the
non-ESP marker), asks tshark for its dissection (optionally with the lab's
Wireshark profile, which decrypts IKEv1), and decrypts the encrypted
messages here with ``cryptography`` as an independent reference:

* phase 1: IV = hash(g^xi | g^xr) truncated (``initial_iv`` in the keys
  file), then the last ciphertext block of the previous phase-1 message;
* quick mode / informational: IV = hash(last phase-1 IV | message ID)
  truncated, then the last ciphertext block of the previous message with
  that message ID.
"""
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.all import UDP, rdpcap

from pacsim.firmware.isakmp.message import EncryptedMessage, decode_message, strip_non_esp_marker
from pacsim.firmware.isakmp.payloads import Chain, wire_type

SAMPLES = Path("/work/shared/interop/samples")
CAPTURE = SAMPLES / "strongswan-ikev1-demo.pcapng"
KEYS = SAMPLES / "strongswan-ikev1-demo.keys.json"
PROFILE = SAMPLES / "wireshark-profile-ikt"


@functools.cache
def capture_messages():
    """``(frame number, ISAKMP message bytes, udp port)`` of every ISAKMP datagram, in capture order."""
    found = []
    for number, packet in enumerate(rdpcap(str(CAPTURE)), 1):
        if UDP not in packet:
            continue
        udp = packet[UDP]
        raw = bytes(udp.payload)
        if 500 in (udp.sport, udp.dport):
            found.append((number, raw, 500))
        elif 4500 in (udp.sport, udp.dport) and strip_non_esp_marker(raw) is not None:
            found.append((number, strip_non_esp_marker(raw), 4500))
    return tuple(found)


def tshark_fields(pcap, fields, decrypt=False, display_filter="isakmp"):
    """tshark's ``fields`` per frame: {frame: [all occurrences joined by ','...]}.

    ``decrypt`` runs tshark with the lab's Wireshark profile (its IKEv1
    decryption table) in a private configuration directory.
    """
    command = ["tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields", "-E", "occurrence=a",
               "-E", "aggregator=,", "-e", "frame.number"]
    for field in fields:
        command += ["-e", field]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as config:
        if decrypt:
            shutil.copytree(PROFILE, Path(config, "wireshark", "profiles", "ikt"))
            env["XDG_CONFIG_HOME"] = config
            command[1:1] = ["-C", "ikt"]
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        columns = line.split("\t")
        rows[int(columns[0])] = columns[1:]
    return rows


def _cipher(key, iv):
    algorithm = algorithms.AES(key) if len(iv) == 16 else TripleDES(key if len(key) == 24 else key * 3)
    return Cipher(algorithm, modes.CBC(iv))


@functools.cache
def decrypted_messages():
    """``(frame, EncryptedMessage, plaintext, block size)`` of every encrypted
    message whose IKE SA is in the keys file, decrypted by the reference."""
    sas = {bytes.fromhex(sa["cookie_i"]): sa for sa in json.loads(KEYS.read_text())["ike_sas"]}
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
