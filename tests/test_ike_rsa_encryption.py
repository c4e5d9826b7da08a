"""Phase 1 with RSA encryption (authtype=rsaencr, RFC 2409 section 5.2)
between two ISAKMP daemons on behavioural-model cards in virtual time:
each has its own private key (generated in its ENCO store) and the other's
public key (loaded from a PEM file as ENCO key ``key``).

Checked independently with ``cryptography``/``hmac``: the ID and nonce
bodies on the wire decrypt (PKCS#1 v1.5) with the receiver's private key
to the ID and nonce the exchange used, SKEYID = prf(hash(Ni_b | Nr_b),
CKY-I | CKY-R), and the IDs never appear in the clear. A peer that
encrypts to the wrong key is counted and fails without an SA or an
exception. strongSwan does not implement this method.
"""
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ike_peers import ADDRESS_I, ADDRESS_R, VirtualNetwork, run
from isakmp_capture import ID, NONCE, payload
from rsa_reference import private_key

from pacsim.firmware.isakmp.ike_sa import IkeSaState, Phase1Established
from pacsim.firmware.isakmp.policy_config import IsakmpPolicy
from pacsim.firmware.views.ios import show_crypto_isakmp_sa
from pacsim.sim.interop.certificate_authority import CertificateAuthority

OWN, PEER = 3, 4


def _public_pem(key, folder, name):
    path = folder / f"{name}.pem"
    path.write_bytes(rsa.RSAPublicNumbers(key.e, key.n).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


async def _negotiate(folder, mode, wrong_key=False, responder_key=PEER, found_by="description"):
    network = VirtualNetwork()
    daemons = []
    for local, peer, key in ((ADDRESS_I, ADDRESS_R, PEER), (ADDRESS_R, ADDRESS_I, responder_key)):
        policy = IsakmpPolicy("p", peer=peer, authtype="rsaencr", localrsakey=OWN, key=key, mode=mode,
                              encalg="aes128", hashalg="sha", group=2, sendnotify=True)
        daemon = await network.add(local, [policy])
        daemon.keys.create_rsa(OWN, bits=1024)
        daemons.append(daemon)
    initiator, responder = daemons
    stranger = responder.keys.create_rsa(9, bits=1024).rsa
    initiator.keys.create_rsa(PEER, file=_public_pem(stranger if wrong_key else responder.keys.rsa(OWN), folder,
                                                     "responder"))
    responder.keys.create_rsa(PEER, file=_public_pem(initiator.keys.rsa(OWN), folder, "initiator"),
                              description=ADDRESS_I if found_by == "description" else None)
    if found_by == "certificate":
        issued = CertificateAuthority(bits=1024).issue("initiator", initiator.keys.rsa(OWN), [ADDRESS_I])
        responder.keys.certificates.insert("initiator", issued)
    await network.deliver(await initiator.initiate("p"))
    await network.run(until=400)
    return network, initiator, responder


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_rsaencr_establishes_with_ids_and_nonces_encrypted(tmp_path, mode):
    network, initiator, responder = run(_negotiate(tmp_path, mode))
    assert initiator.faults == responder.faults == []
    (sa_i,), (sa_r,) = list(initiator.sas), list(responder.sas)
    assert sa_i.state is sa_r.state is IkeSaState.ESTABLISHED and sa_i.keys == sa_r.keys
    assert all(any(isinstance(e, Phase1Established) for e in d.events) for d in (initiator, responder))
    group = "main" if mode == "main" else "aggressive"
    ids = 2 if mode == "main" else 1        # main mode also counts MM5/MM6, encrypted under SKEYID_e, as IDii/IDir
    assert [responder.counters.get(group, n) for n in ("decryptIDiiGood", "decryptNiGood", "encryptIDirGood",
                                                        "authGood")] == [ids, 1, ids, 1]
    assert [initiator.counters.get(group, n) for n in ("decryptIDirGood", "decryptNrGood", "encryptIDiiGood",
                                                        "authGood")] == [ids, 1, ids, 1]
    messages = [(d.data[16], d.data[28:]) for _, d in network.log if not d.data[19] & 1]
    first, second = [m for m in messages if payload(m[0], m[1], NONCE)][:2]
    key_r, key_i = private_key(responder.keys.rsa(OWN)), private_key(initiator.keys.rsa(OWN))
    ni = key_r.decrypt(payload(first[0], first[1], NONCE), padding.PKCS1v15())
    idii_b = key_r.decrypt(payload(first[0], first[1], ID), padding.PKCS1v15())
    nr = key_i.decrypt(payload(second[0], second[1], NONCE), padding.PKCS1v15())
    idir_b = key_i.decrypt(payload(second[0], second[1], ID), padding.PKCS1v15())
    assert idii_b == b"\x01\x00\x00\x00" + bytes(map(int, ADDRESS_I.split(".")))
    assert idir_b == b"\x01\x00\x00\x00" + bytes(map(int, ADDRESS_R.split(".")))
    assert len(ni) == len(nr) == 16
    cookies = sa_i.cky_i + sa_i.cky_r
    assert sa_i.keys.skeyid == hmac.new(hashlib.sha1(ni + nr).digest(), cookies, hashlib.sha1).digest()
    # IOS's "show crypto isakmp sa detail" names the method in its Auth column
    view = type("View", (), {"ike_sas": lambda self: (sa_i.snapshot(),), "now": lambda self: 0.0})()
    (row,) = [line for line in show_crypto_isakmp_sa(view, detail=True).splitlines() if line.startswith(
        f"{sa_i.sa_id} ")]
    assert row.split()[6] == "renc", row
    clear = b"".join(data for _, data in messages)
    assert bytes(map(int, ADDRESS_I.split("."))) not in clear and len(payload(first[0], first[1], NONCE)) == 128


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_rsaencr_to_the_wrong_key_is_counted_and_fails(tmp_path, mode):
    """The initiator encrypts to a key that is not the responder's: the
    responder counts the bodies it cannot decrypt, before any DH work."""
    network, initiator, responder = run(_negotiate(tmp_path, mode, wrong_key=True))
    group = "main" if mode == "main" else "aggressive"
    assert len(initiator.sas) == len(responder.sas) == 0
    assert initiator.faults == responder.faults == []
    assert responder.counters.get(group, "decryptIDiiFailed") >= 1
    assert responder.counters.get(group, "decryptNiFailed") >= 1
    assert responder.counters.get(group, "authFailed") >= 1
    # main mode notifies AUTHENTICATION-FAILED once; a rejected AM1 is dropped without a trace (it made no SA)
    assert responder.counters.get("info", "txNotifyMsg") == (1 if mode == "main" else 0)
    assert responder.counters.get(group, "generateLocalDHGood") == 0
    assert not [e for d in (initiator, responder) for e in d.events if isinstance(e, Phase1Established)]


def test_rsaencr_without_key_finds_the_peers_key_by_its_address(tmp_path):
    """The responder's policy has no KEY: the ENCO RSA key described by the
    initiator's address, else a loaded certificate naming that address, is
    used (§2.1 "a key matching the IP address of the peer"); without either
    the failure is counted (cantFindPeerRSAKey)."""
    for found_by in ("description", "certificate", None):
        network, initiator, responder = run(_negotiate(tmp_path, "main", responder_key=None, found_by=found_by))
        assert initiator.faults == responder.faults == []
        assert len(responder.sas) == int(found_by is not None), found_by
        assert responder.counters.get("main", "cantFindPeerRSAKey") == int(found_by is None)
