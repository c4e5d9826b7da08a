# Ref: RFC 5280 sections 4.1, 4.2.1.6 (X.509 certificates, subjectAltName); RFC 3279 section 2.2.1 (sha1WithRSA)
"""A throw-away certification authority for one test or interop run.

:class:`CertificateAuthority` makes a self-signed root (RSA, ``bits``
bits) and issues end-entity certificates for RSA public keys, with a
subject ``CN=<name>, O=pacsim`` and alternative names (addresses, DNS
names). Certificates are signed with SHA-1 (``sha1WithRSAEncryption``):
the card hashes SHA-1 and MD5 only, and the router checks certificate
signatures on the card. ``cryptography`` does the work here (this is the
test harness's CA, not the router's code); as it no longer signs
certificates with SHA-1, :func:`_resigned_sha1` builds a SHA-256 one and
swaps the algorithm identifiers (OIDs of equal length, so no DER length
changes) and the signature, made with ``sign(PKCS1v15, SHA1)``.

Files: :meth:`CertificateAuthority.write` puts ``ca.pem`` (the root) in a
directory; :meth:`issue` returns PEM bytes, :meth:`key_pem` a private key
in PEM (PKCS#8) for a peer such as strongSwan.
"""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from ...firmware.isakmp.transport import is_address

__all__ = ["CertificateAuthority", "name_of"]

#: Validity of the certificates issued: from a day ago (clock skew) for ``VALID_DAYS``.
VALID_DAYS = 30
#: DER of the OIDs sha256WithRSAEncryption and sha1WithRSAEncryption (RFC 4055, RFC 3279): equal lengths.
_SHA256_RSA, _SHA1_RSA = bytes.fromhex("06092a864886f70d01010b"), bytes.fromhex("06092a864886f70d010105")


def _resigned_sha1(certificate, signer) -> x509.Certificate:
    """``certificate`` (signed with SHA-256 by ``signer``) signed with SHA-1 instead (see the module docstring)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    tbs = certificate.tbs_certificate_bytes.replace(_SHA256_RSA, _SHA1_RSA)
    signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    old = certificate.signature
    head = der[:-len(old)].replace(certificate.tbs_certificate_bytes, tbs).replace(_SHA256_RSA, _SHA1_RSA)
    return x509.load_der_x509_certificate(head + signature)


def name_of(common_name: str) -> x509.Name:
    """``CN=<common_name>, O=pacsim``."""
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pacsim"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _public(key):
    """A cryptography public key from one, or from an object with ``n`` and ``e`` (an RsaKey)."""
    if hasattr(key, "public_numbers"):
        return key
    return rsa.RSAPublicNumbers(key.e, key.n).public_key()


class CertificateAuthority:
    """A root CA named ``CN=<common_name>, O=pacsim`` with a ``bits``-bit key."""

    def __init__(self, common_name: str = "pacsim test CA", bits: int = 2048):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        self.name = name_of(common_name)
        self.certificate = self._build(self.name, self.key.public_key(), (), ca=True)

    def _build(self, subject, public_key, alt_names, ca=False, not_before=None, not_after=None, signer=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
                   .public_key(_public(public_key)).serial_number(x509.random_serial_number())
                   .not_valid_before(not_before or now - datetime.timedelta(days=1))
                   .not_valid_after(not_after or now + datetime.timedelta(days=VALID_DAYS))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if alt_names:
            general = [x509.IPAddress(ipaddress.ip_address(n)) if is_address(n) else x509.DNSName(n)
                       for n in alt_names]
            builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
        signer = signer or self.key
        return _resigned_sha1(builder.sign(signer, hashes.SHA256()), signer)

    def issue(self, common_name: str, public_key, alt_names=(), *, not_before=None, not_after=None,
              signer=None) -> bytes:
        """A PEM certificate for ``public_key`` (a cryptography key or an
        RsaKey) named ``common_name`` with ``alt_names``; ``not_before``/
        ``not_after`` (aware datetimes) and ``signer`` (another private key:
        a forged issuer) make bad certificates for tests."""
        certificate = self._build(name_of(common_name), public_key, tuple(alt_names), not_before=not_before,
                                  not_after=not_after, signer=signer)
        return certificate.public_bytes(serialization.Encoding.PEM)

    def pem(self) -> bytes:
        """The root certificate in PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def write(self, directory) -> Path:
        """Write the root to ``directory``/ca.pem; returns the path."""
        path = Path(directory) / "ca.pem"
        path.write_bytes(self.pem())
        return path

    @staticmethod
    def key_pem(key) -> bytes:
        """A cryptography private key as unencrypted PKCS#8 PEM."""
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
