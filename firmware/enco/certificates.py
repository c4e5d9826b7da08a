# Ref: RFC 5280 sections 4.1 (certificate fields), 4.2.1.6 (subjectAltName); RFC 3279 section 2.2.1 (RSA signatures)
# Ref: ../shared/spec/isakmp-commands.md R30 (keys from CA-signed certificates)
"""The router's X.509 certificate database (``add pki certificate``).

A :class:`StoredCertificate` is one X.509 certificate with an RSA key,
parsed once by ``cryptography`` (parsing only: the signature checks are
the card's, see :mod:`~pacsim.firmware.isakmp.certificate_check`):
``name`` (the database's), ``der``, ``subject``/``issuer`` (RFC 4514
strings) and their DER encodings, ``public_key``
(:class:`~.rsa_keys.RsaKey`), validity ``not_before``/``not_after``
(aware UTC datetimes), ``tbs`` (the signed octets), ``signature``,
``signature_hash`` (``sha1``, ``md5``, ``sha256`` ...), ``alt_names``
(DNS names, e-mail addresses and IP addresses as text) and ``trusted``
(a certification authority the router trusts: a root it checks peers'
certificates against).

:class:`CertificateStore` holds them by name (1-24 characters, case
sensitive); ``own(key)`` is the certificate of a local RSA key (sent in
CERT payloads), ``trusted()`` the roots.
"""
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
from cryptography.hazmat.primitives.serialization import Encoding

from .rsa_keys import RsaKey, RsaKeyError

__all__ = ["StoredCertificate", "CertificateStore", "CertificateError", "parse_certificate", "NAME_LENGTH"]

NAME_LENGTH = 24
#: What ``cryptography`` raises for a malformed certificate or a field it cannot represent.
_PARSE_ERRORS = (ValueError, TypeError, KeyError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType,
                 x509.InvalidVersion, UnsupportedAlgorithm)


class CertificateError(ValueError):
    """A certificate file, name or content the router refuses."""


@dataclass(frozen=True)
class StoredCertificate:
    """One certificate (see the module docstring for the fields)."""
    name: str
    der: bytes
    subject: str
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    public_key: RsaKey
    not_before: datetime
    not_after: datetime
    tbs: bytes
    signature: bytes
    signature_hash: str
    alt_names: tuple
    trusted: bool = False

    def __repr__(self) -> str:
        return f"StoredCertificate({self.name!r}, subject={self.subject!r})"


def _alt_names(certificate) -> tuple:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    found = []
    for general in extension:
        if isinstance(general, (x509.DNSName, x509.RFC822Name)):
            found.append(general.value)
        elif isinstance(general, x509.IPAddress):
            found.append(str(general.value))
    return tuple(found)


def parse_certificate(der: bytes, name: str = "-", trusted: bool = False) -> StoredCertificate:
    """A :class:`StoredCertificate` of DER (or PEM) ``der``; :class:`CertificateError` for anything
    that is not an X.509 certificate with an RSA key."""
    data = bytes(der)
    try:
        certificate = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----")
                       else x509.load_der_x509_certificate(data))
        public = certificate.public_key()
        if not isinstance(public, _rsa.RSAPublicKey):
            raise CertificateError(f"the certificate of {certificate.subject.rfc4514_string()} has no RSA key")
        numbers = public.public_numbers()
        key = RsaKey(numbers.n, numbers.e).check(f"the key of {certificate.subject.rfc4514_string()}")
        hash_alg = certificate.signature_hash_algorithm
        return StoredCertificate(
            name, certificate.public_bytes(Encoding.DER), certificate.subject.rfc4514_string(),
            certificate.issuer.rfc4514_string(), certificate.subject.public_bytes(),
            certificate.issuer.public_bytes(), key, certificate.not_valid_before_utc,
            certificate.not_valid_after_utc, certificate.tbs_certificate_bytes, certificate.signature,
            hash_alg.name if hash_alg is not None else "none", _alt_names(certificate), trusted)
    except CertificateError:
        raise
    except RsaKeyError as error:
        raise CertificateError(str(error)) from None
    except _PARSE_ERRORS as error:       # fields are parsed when first read: any of them may be malformed
        raise CertificateError(f"not a usable X.509 certificate ({error})") from None


class CertificateStore:
    """The certificates by name (see the module docstring)."""

    def __init__(self):
        self._certificates: dict[str, StoredCertificate] = {}

    def add(self, name: str, location, trusted: bool = False) -> StoredCertificate:
        """``add pki certificate=name location=file [trusted=yes]``: the PEM or DER certificate in ``location``."""
        try:
            data = Path(location).read_bytes()
        except OSError as error:
            raise CertificateError(f"cannot read certificate file {location}: {error.strerror}") from None
        return self.insert(name, data, trusted)

    def insert(self, name: str, data: bytes, trusted: bool = False) -> StoredCertificate:
        """Add the PEM or DER certificate ``data`` as ``name`` (what :meth:`add` does after reading the file)."""
        if not 1 <= len(name) <= NAME_LENGTH:
            raise CertificateError(f'certificate name "{name}": expected 1 to {NAME_LENGTH} characters')
        if name in self._certificates:
            raise CertificateError(f'certificate "{name}" already exists (delete it first)')
        stored = parse_certificate(data, name, trusted)
        self._certificates[name] = stored
        return stored

    def delete(self, name: str) -> StoredCertificate:
        """``delete pki certificate=name``."""
        try:
            return self._certificates.pop(name)
        except KeyError:
            raise CertificateError(f'certificate "{name}" does not exist (names are case sensitive)') from None

    def certificates(self) -> list:
        """All certificates by name."""
        return [self._certificates[n] for n in sorted(self._certificates)]

    def trusted(self) -> list:
        """The trusted certification authorities."""
        return [c for c in self.certificates() if c.trusted]

    def own(self, key: RsaKey) -> StoredCertificate | None:
        """The (untrusted, end-entity) certificate of ``key``'s public key, or None."""
        return next((c for c in self.certificates() if not c.trusted and c.public_key.matches(key)), None)
