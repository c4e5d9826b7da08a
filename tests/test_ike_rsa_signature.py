"""Phase 1 with RSA signatures (authtype=rsasig) between two ISAKMP daemons
on behavioural-model cards in virtual time: RSA keys generated in the ENCO
key store, certificates issued by a per-test CA, main and aggressive mode.

The SIG payloads are checked independently: the exchange is decrypted and
HASH_I/HASH_R recomputed with ``hmac``/``cryptography`` from the wire (with
the initiator's DH exponent), and the signature checked with
``cryptography``'s RSA (PKCS#1 v1.5 over the raw HASH, no DigestInfo).
An untrusted, expired or mis-named certificate and a wrong key are each
counted and fail the exchange without an SA and without an exception.
"""
import datetime
import hashlib
import hmac

import pytest
from crypto_reference import cipher_reference
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from ike_peers import ADDRESS_I, ADDRESS_R, VirtualNetwork, run
from isakmp_capture import HASH, ID, KE, NONCE, SA, payload

from pacsim.contract.codes import CipherMode
from pacsim.firmware.enco.certificates import parse_certificate
from pacsim.firmware.isakmp.crypto import IkeCrypto, group_of
from pacsim.firmware.isakmp.ike_sa import IkeSaState, Phase1Established, Phase1Failed
from pacsim.firmware.isakmp.policy_config import IsakmpPolicy
from pacsim.firmware.isakmp.proposal import CIPHERS
from pacsim.firmware.isakmp.rsa_signature import certificate_problem
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus
from pacsim.sim.interop.certificate_authority import CertificateAuthority

CERT, CR, SIG = 6, 7, 9
KEY_ID = 3


@pytest.fixture(scope="module")
def authority():
    return CertificateAuthority(bits=1024)


def _policy(peer, **params):
    return IsakmpPolicy("p", peer=peer, **{"authtype": "rsasig", "localrsakey": KEY_ID, "sendnotify": True, **params})


async def _router(network, address, peer, authority, folder, params, certificate=None, trust=True, bits=1024):
    """A daemon with a generated RSA key, its certificate from ``authority`` and the CA trusted."""
    daemon = await network.add(address, [_policy(peer, **params)])
    if daemon.config.policies["p"].localrsakey is None:     # the default of enable isakmp localrsakey
        daemon.config.localrsakey = KEY_ID
    key = daemon.keys.create_rsa(KEY_ID, bits=bits)
    path = folder / f"{address}.pem"
    path.write_bytes(certificate(key.rsa) if certificate else authority.issue(f"router {address}", key.rsa,
                                                                                [address]))
    daemon.keys.certificates.add("own", path)
    if trust:
        authority.write(folder)
        daemon.keys.certificates.add("ca", folder / "ca.pem", trusted=True)
    return daemon


async def _negotiate(authority, folder, mode="main", responder_certificate=None, responder_trusts=True,
                     initiator_params=None, bits=1024):
    network = VirtualNetwork()
    params = {"mode": mode, "encalg": "3desinner", "hashalg": "sha", "group": 2}
    initiator = await _router(network, ADDRESS_I, ADDRESS_R, authority, folder,
                              {**params, **(initiator_params or {})}, bits=bits)
    responder = await _router(network, ADDRESS_R, ADDRESS_I, authority, folder, params, responder_certificate,
                              responder_trusts, bits=bits)
    await network.deliver(await initiator.initiate("p"))
    private = next(iter(initiator.sas), None)
    private = initiator.exchange_for(private.cky_i, 0).private if private else None
    await network.run(until=400)
    return network, initiator, responder, private


def _messages(network):
    return [(d.data[:28], d.data[28:], d.data[16], d.data[19] & 1) for _, d in network.log]


def _recovered(certificate_der, signature):
    """The octets inside a PKCS#1 v1.5 signature, recovered by ``cryptography`` with the certificate's key."""
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    return key.recover_data_from_signature(signature, padding.PKCS1v15(), None)


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_rsasig_establishes_and_signatures_verify_independently(authority, tmp_path, mode):
    """The initiator's policy has no LOCALRSAKEY: ``enable isakmp localrsakey`` gives it."""
    network, initiator, responder, private = run(_negotiate(authority, tmp_path, mode,
                                                            initiator_params={"localrsakey": None}))
    assert initiator.config.policies["p"].localrsakey is None
    assert initiator.faults == responder.faults == []
    (sa_i,), (sa_r,) = list(initiator.sas), list(responder.sas)
    assert sa_i.state is sa_r.state is IkeSaState.ESTABLISHED and sa_i.keys == sa_r.keys
    group = "main" if mode == "main" else "aggressive"
    for daemon in (initiator, responder):
        assert [daemon.counters.get(group, n) for n in ("signGood", "certSent", "authGood", "authFailed")] == [
            1, 1, 1, 0]
    messages = _messages(network)
    keyed = [m for m in messages if payload(m[2], m[1], NONCE)]
    first, second = keyed[0], keyed[1]
    # CR naming the CA with each KE
    ca_dn = authority.certificate.subject.public_bytes()
    assert payload(first[2], first[1], CR) == payload(second[2], second[1], CR) == b"\x04" + ca_dn
    # SKEYID = prf(Ni_b | Nr_b, g^xy) (RFC 2409 section 5), recomputed here
    ni, nr = payload(first[2], first[1], NONCE), payload(second[2], second[1], NONCE)
    gxi, gxr = payload(first[2], first[1], KE), payload(second[2], second[1], KE)
    modp = group_of(2)
    gxy = pow(int.from_bytes(gxr, "big"), private, modp.prime).to_bytes(modp.bits // 8, "big")
    cookies = messages[1][0][:16]
    skeyid = hmac.new(ni + nr, gxy, hashlib.sha1).digest()
    assert sa_i.keys.skeyid == skeyid
    sai_b = payload(messages[0][2], messages[0][1], SA)
    auth_i = next(m for m in messages if m[3])
    iv = hashlib.sha1(gxi + gxr).digest()[:8]
    plain_i = cipher_reference(CIPHERS["3desinner"][2], CipherMode.CBC, sa_i.keys.enc_key, iv, auth_i[1],
                               decrypt=True)
    if mode == "main":
        idii_b = payload(auth_i[2], plain_i, ID)
        auth_r = [m for m in messages if m[3]][1]
        plain_r = cipher_reference(CIPHERS["3desinner"][2], CipherMode.CBC, sa_i.keys.enc_key, auth_i[1][-8:],
                                   auth_r[1], decrypt=True)
        idir_b, cert_r, sig_r = (payload(auth_r[2], plain_r, kind) for kind in (ID, CERT, SIG))
    else:
        idii_b = payload(first[2], first[1], ID)
        idir_b, cert_r, sig_r = (payload(second[2], second[1], kind) for kind in (ID, CERT, SIG))
    cert_i, sig_i = payload(auth_i[2], plain_i, CERT), payload(auth_i[2], plain_i, SIG)
    hash_i = hmac.new(skeyid, gxi + gxr + cookies + sai_b + idii_b, hashlib.sha1).digest()
    hash_r = hmac.new(skeyid, gxr + gxi + cookies[8:] + cookies[:8] + sai_b + idir_b, hashlib.sha1).digest()
    assert _recovered(cert_i[1:], sig_i) == hash_i
    assert _recovered(cert_r[1:], sig_r) == hash_r
    assert len(sig_i) == len(sig_r) == 128
    # IDs: DER_ASN1_DN of each router's certificate subject (R49); CERT encoding 4 with that certificate
    assert cert_i[0] == cert_r[0] == 4
    for id_b, cert in ((idii_b, cert_i), (idir_b, cert_r)):
        assert id_b == b"\x09\x00\x00\x00" + x509.load_der_x509_certificate(cert[1:]).subject.public_bytes()
    assert x509.load_der_x509_certificate(cert_i[1:]).subject.rfc4514_string() == f"CN=router {ADDRESS_I},O=pacsim"


def _failed(network, initiator, responder, counter, group="main"):
    """Neither side has an SA, nothing raised, ``counter`` and authFailed counted by the responder, notified."""
    assert len(initiator.sas) == len(responder.sas) == 0
    assert initiator.faults == responder.faults == []
    assert responder.counters.get(group, counter) >= 1
    assert responder.counters.get(group, "authFailed") >= 1
    assert responder.counters.get("info", "txNotifyMsg") == 1
    assert not [e for d in (initiator, responder) for e in d.events if isinstance(e, Phase1Established)]
    assert [e for e in responder.events if isinstance(e, Phase1Failed)]


def test_untrusted_certificate_is_counted_and_fails(authority, tmp_path):
    """The responder trusts no CA: the initiator's certificate cannot be checked."""
    network, initiator, responder, _ = run(_negotiate(authority, tmp_path, responder_trusts=False))
    _failed(network, initiator, responder, "cantFindPeerRSAKey")


def test_certificate_from_another_ca_and_expired_certificate_fail(authority, tmp_path):
    other = CertificateAuthority("another CA", bits=1024)
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=10)
    for n, certificate in enumerate((
            lambda key: other.issue(f"router {ADDRESS_I}", key, [ADDRESS_I]),
            lambda key: authority.issue(f"router {ADDRESS_I}", key, [ADDRESS_I], signer=other.key),
            lambda key: authority.issue(f"router {ADDRESS_I}", key, [ADDRESS_I], not_before=past - datetime.timedelta(
                days=5), not_after=past))):
        async def body():
            network = VirtualNetwork()
            params = {"mode": "main", "encalg": "des", "hashalg": "sha", "group": 1}
            folder = tmp_path / str(n)
            folder.mkdir()
            initiator = await _router(network, ADDRESS_I, ADDRESS_R, authority, folder, params, certificate)
            responder = await _router(network, ADDRESS_R, ADDRESS_I, authority, folder, params)
            await network.deliver(await initiator.initiate("p"))
            await network.run(until=400)
            return network, initiator, responder
        _failed(*run(body()), "cantFindPeerRSAKey")


def test_signature_with_a_key_not_the_certificates_fails(authority, tmp_path):
    """The initiator's certificate is for another key: its SIG does not verify (verifySigFailed)."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()

    async def body():
        network = VirtualNetwork()
        params = {"mode": "main", "encalg": "des", "hashalg": "sha", "group": 1}
        initiator = await _router(network, ADDRESS_I, ADDRESS_R, authority, tmp_path, params)
        responder = await _router(network, ADDRESS_R, ADDRESS_I, authority, tmp_path, params)
        # the initiator's own certificate names the right DN but certifies a stranger's key
        initiator.keys.certificates.delete("own")
        path = tmp_path / "stranger.pem"
        path.write_bytes(authority.issue(f"router {ADDRESS_I}", stranger, [ADDRESS_I]))
        initiator.keys.certificates.add("stranger", path)
        # ... which is not the key of LOCALRSAKEY, so the router sends no CERT: give the responder the stranger's
        responder.keys.certificates.add("peer", path)
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=400)
        return network, initiator, responder
    network, initiator, responder = run(body())
    assert initiator.counters.get("main", "certNotSent") == 1
    _failed(network, initiator, responder, "verifySigFailed")


def test_missing_local_rsa_key_is_counted(authority, tmp_path):
    async def body():
        network = VirtualNetwork()
        initiator = await network.add(ADDRESS_I, [_policy(ADDRESS_R)])
        await network.add(ADDRESS_R, [_policy(ADDRESS_I)])
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=400)
        return initiator
    initiator = run(body())
    assert initiator.counters.get("main", "cantFindLocalRSAKey") == 1
    assert initiator.faults == [] and len(initiator.sas) == 0


def test_card_checks_certificate_signature_like_cryptography(authority):
    """certificate_problem (digest and RSA on the card) agrees with ``cryptography`` on a good and a forged one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ca = parse_certificate(authority.pem(), "ca", True)
    good = parse_certificate(authority.issue("good", key.public_key()))
    forged = parse_certificate(authority.issue("good", key.public_key(), signer=key))
    authority.certificate.public_key().verify(good.signature, good.tbs, padding.PKCS1v15(), hashes.SHA1())

    async def body():
        device = await PacDevice.probe(ModelBus())
        async with IkeCrypto(device) as crypto:
            return (await certificate_problem(crypto, good, [ca]), await certificate_problem(crypto, forged, [ca]),
                    device.pk_operations)
    ok, bad, operations = run(body())
    assert ok is None and "does not verify" in bad and operations == 2
    with pytest.raises(InvalidSignature):
        authority.certificate.public_key().verify(forged.signature, forged.tbs, padding.PKCS1v15(), hashes.SHA1())


def test_remoteid_as_a_distinguished_name(authority, tmp_path):
    """REMOTEID given as the manual writes a DN (L3563-3584: "cn=user, o=mycompany") matches the peer
    certificate's subject in any order and case; another DN fails with badIDirPayLoad."""
    for n, remoteid in enumerate((f"o=pacsim, cn=router {ADDRESS_I}", "cn=someone else, o=pacsim")):
        folder = tmp_path / str(n)
        folder.mkdir()

        async def body():
            network = VirtualNetwork()
            params = {"mode": "main", "encalg": "des", "hashalg": "sha", "group": 1}
            initiator = await _router(network, ADDRESS_I, ADDRESS_R, authority, folder, params)
            responder = await _router(network, ADDRESS_R, ADDRESS_I, authority, folder, {**params,
                                                                                         "remoteid": remoteid})
            await network.deliver(await initiator.initiate("p"))
            await network.run(until=400)
            return initiator, responder
        initiator, responder = run(body())
        assert initiator.faults == responder.faults == []
        assert len(responder.sas) == (1 - n) and responder.counters.get("main", "badIDirPayLoad") == n
