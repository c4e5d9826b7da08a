"""RSA keys and certificates on the router's console (docs/rsa-authentication.md):
``create enco key=N type=rsa length=bits|file=FILE``, ``show enco key``,
``add/delete/show pki certificate``, and their refusals of bad input with
a clear error that changes nothing. The generated keys are checked with
``cryptography`` (a valid RSA key whose signature it verifies) and the
card's RSA operations against ``cryptography`` in both directions."""
import asyncio

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from rsa_reference import private_key

from pacsim.firmware.cli import CommandFailed
from pacsim.firmware.console import standalone_console
from pacsim.firmware.enco.rsa_keys import RsaKey, rsa_decrypt, rsa_encrypt, rsa_sign, rsa_verify
from pacsim.host.device import PacDevice
from pacsim.sim.interop.certificate_authority import CertificateAuthority
from pacsim.sim.model_bus import ModelBus


@pytest.fixture
def c():
    return standalone_console(clock=lambda: 0.0)


def test_generated_key_is_shown_and_is_a_valid_rsa_key(c):
    c.execute("create enco key=5 type=rsa length=1024 description=router")
    key = c.keys.rsa(5)
    assert key.bits == 1024 and key.e == 65537 and key.private
    private = private_key(key)
    signature = private.sign(b"pacsim", padding.PKCS1v15(), hashes.SHA1())
    private.public_key().verify(signature, b"pacsim", padding.PKCS1v15(), hashes.SHA1())
    shown = c.execute("show enco key=5")
    assert "RSA" in shown and "128" in shown and "RANDOM" in shown and f"{key.n:X}" in shown
    assert "router" in c.execute("show enco key")
    with pytest.raises(CommandFailed, match="1024 or 2048 bits long, not 1000"):
        c.execute("create enco key=6 type=rsa length=1000")
    with pytest.raises(CommandFailed, match="not RANDOM or VALUE"):
        c.execute("create enco key=6 type=rsa random")
    with pytest.raises(CommandFailed, match="FILE= loads RSA keys only"):
        c.execute("create enco key=6 type=general random file=/x")
    assert c.keys.get(6) is None


def test_key_and_certificate_files(c, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "k.pem").write_bytes(CertificateAuthority.key_pem(private))
    (tmp_path / "pub.der").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    c.execute(f"create enco key=7 type=rsa file={tmp_path / 'k.pem'}")
    c.execute(f"create enco key=8 type=rsa file={tmp_path / 'pub.der'}")
    assert c.keys.rsa(7).d == private.private_numbers().d and not c.keys.rsa(8).private
    assert c.keys.rsa(8).matches(c.keys.rsa(7)) and "FILE" in c.execute("show enco key=8")
    authority = CertificateAuthority(bits=1024)
    authority.write(tmp_path)
    (tmp_path / "own.pem").write_bytes(authority.issue("me", private.public_key(), ["192.0.2.1", "me.example"]))
    c.execute(f"add pki certificate=ca location={tmp_path / 'ca.pem'} trusted=yes")
    c.execute(f"add pki certificate=own location={tmp_path / 'own.pem'}")
    summary = c.execute("show pki certificate")
    assert "CN=me,O=pacsim" in summary and "CN=pacsim test CA,O=pacsim" in summary
    detail = c.execute("show pki certificate=own")
    assert "192.0.2.1, me.example" in detail and "RSA 1024 bits" in detail and "SHA1" in detail
    assert c.keys.certificates.own(c.keys.rsa(7)).name == "own"
    (tmp_path / "junk.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    for line, error in ((f"add pki certificate=bad location={tmp_path / 'junk.pem'}", "not a usable X.509"),
                        (f"add pki certificate=bad location={tmp_path / 'none.pem'}", "cannot read certificate"),
                        (f"add pki certificate=own location={tmp_path / 'own.pem'}", "already exists"),
                        (f"create enco key=9 type=rsa file={tmp_path / 'junk.pem'}", "holds no unencrypted RSA"),
                        ("show pki certificate=nobody", "does not exist")):
        with pytest.raises(CommandFailed, match=error):
            c.execute(line)
    assert [x.name for x in c.keys.certificates.certificates()] == ["ca", "own"] and c.keys.get(9) is None
    c.execute("delete pki certificate=own")
    assert [x.name for x in c.keys.certificates.certificates()] == ["ca"]


def test_card_rsa_operations_agree_with_cryptography():
    """Sign/verify (PKCS#1 v1.5 type 1 over raw octets) and encrypt/decrypt
    (type 2) on the card, each checked by ``cryptography`` the other way."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    numbers = private.private_numbers()
    key = RsaKey(numbers.public_numbers.n, numbers.public_numbers.e, numbers.d)
    digest = bytes(range(20))

    async def body():
        device = await PacDevice.probe(ModelBus())
        signature = await rsa_sign(device, key, digest)
        ciphertext = await rsa_encrypt(device, key.public(), digest)
        theirs = private.public_key().encrypt(digest, padding.PKCS1v15())
        return (signature, ciphertext, await rsa_decrypt(device, key, theirs),
                await rsa_verify(device, key, digest, signature),
                await rsa_verify(device, key, digest[::-1], signature),
                await rsa_decrypt(device, key, bytes(128)), device.pk_operations)
    signature, ciphertext, decrypted, good, bad, junk, operations = asyncio.run(body())
    assert private.public_key().recover_data_from_signature(signature, padding.PKCS1v15(), None) == digest
    assert private.decrypt(ciphertext, padding.PKCS1v15()) == digest and decrypted == digest
    assert good and not bad and junk is None and operations == 6


def test_a_certificate_with_an_unknown_string_type_in_its_name_is_refused():
    """A name attribute whose ASN.1 string tag ``cryptography`` does not know (the fuzz campaign's CERT
    payload with tag 51 in the subject) is a CertificateError, never a KeyError out of the daemon."""
    from cryptography import x509

    from pacsim.firmware.enco.certificates import CertificateError, parse_certificate
    authority = CertificateAuthority(bits=1024)
    pem = authority.issue("zqzq", rsa.generate_private_key(65537, 1024).public_key())
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert parse_certificate(der).subject.startswith("CN=zqzq")
    value = der.index(b"zqzq") - 2                      # the UTF8String's tag, before its length
    assert der[value] == 0x0C
    with pytest.raises(CertificateError, match="not a usable X.509 certificate"):
        parse_certificate(der[:value] + bytes([51]) + der[value + 1:])


def test_a_certificate_with_an_undefined_version_is_refused():
    """A version field other than v1-v3 (RFC 5280 section 4.1.2.1: INTEGER 0-2; the fuzz campaign's CERT
    payloads carried 3 and 57) is a CertificateError, never cryptography's InvalidVersion out of the daemon."""
    from cryptography import x509

    from pacsim.firmware.enco.certificates import CertificateError, parse_certificate
    authority = CertificateAuthority(bits=1024)
    pem = authority.issue("zqzq", rsa.generate_private_key(65537, 1024).public_key())
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert parse_certificate(der).subject.startswith("CN=zqzq")
    version = der.index(bytes.fromhex("a003020102")) + 4      # [0] EXPLICIT INTEGER 2 (v3): its value octet
    for undefined in (3, 57, 255):
        with pytest.raises(CertificateError, match="not a usable X.509 certificate"):
            parse_certificate(der[:version] + bytes([undefined]) + der[version + 1:])
