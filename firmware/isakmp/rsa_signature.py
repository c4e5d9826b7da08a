# Ref: RFC 2409 sections 5 and 5.1 (phase 1 authenticated with signatures: SIG over HASH_I/HASH_R)
# Ref: RFC 2408 sections 3.9-3.10 (CERT, CR); RFC 2407 section 4.6.2.1 (ID_DER_ASN1_DN)
# Ref: RFC 5280 sections 4.1.1.3, 6.1 (certificate signature and validity); RFC 8017 section 9.2 (DigestInfo)
# Ref: ../shared/spec/isakmp-commands.md R26, R30, R49 (rsasig, certificates, the DN as the default local ID)
"""Phase 1 authenticated with RSA signatures (``authtype=rsasig``): what
main and aggressive mode add to the pre-shared-key exchange.

The exchange is the pre-shared-key one with SKEYID = prf(Ni_b | Nr_b,
g^xy) and, where HASH_I/HASH_R went, ``[CERT,] SIG``: SIG is the PKCS#1
v1.5 signature of the raw HASH (no DigestInfo, as RFC 2409 implementations
and strongSwan do for IKEv1) with the local RSA key, the ENCO key
``localrsakey`` of the policy or of ``enable isakmp``. The messages that
carry the key exchange (MM3/MM4, AM1/AM2) carry a CR (X.509 signature,
encoding 4) naming each trusted certification authority.

The local ID is the subject DN of our certificate (ID_DER_ASN1_DN, R49:
"the system's distinguished name") unless ``localid`` is set. The CERT
payload carries that certificate (the loaded end-entity certificate whose
key is ``localrsakey``; ``certSent``, or ``certNotSent`` without one).

The peer's key comes from its CERT payload (X.509, encoding 4) or, when it
sent none, from a loaded certificate naming its ID. The certificate must
be signed by a trusted authority (issuer DN and an RSA signature with
SHA-1 or MD5: the digest is a HASH job on the card and the signature a
public-key modexp on the card), be valid now (wall-clock UTC) and name
the peer's ID (its subject DN, or an FQDN, user FQDN or address among its
alternative names); a ``remoteid`` given as a DN (``cn=user, o=co``) must
be that subject (attributes in any order and case, else
INVALID-ID-INFORMATION, ``badIDirPayLoad``). A certificate that fails counts ``cantFindPeerRSAKey``
and a SIG that does not verify ``verifySigFailed``; either is an
AUTHENTICATION-FAILED (``authFailed``) that leaves no SA.
"""
import ipaddress
from datetime import datetime, timezone

from ..enco.certificates import CertificateError, parse_certificate
from ..enco.rsa_keys import RsaKeyError, rsa_sign, rsa_verify
from .constants import CertEncoding, IdType, NotifyType
from .crypto import IkeHash
from .exchange import ExchangeFailed, MessageRejected
from .payloads import Certificate, CertificateRequest, Identification, Signature

__all__ = ["local_rsa_key", "own_identification", "certificate_requests", "signature_payloads", "verify_signature",
           "certificate_problem", "names_peer", "DIGEST_INFO"]

#: DER DigestInfo prefixes of the certificate signatures the card can hash (RFC 8017 section 9.2 note 1).
DIGEST_INFO = {"sha1": (IkeHash.SHA1, bytes.fromhex("3021300906052b0e03021a05000414")),
               "md5": (IkeHash.MD5, bytes.fromhex("3020300c06082a864886f70d020505000410"))}
_ADDRESS_IDS = (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR)


def local_rsa_key(exchange):
    """The policy's local RSA key (``localrsakey``, else ``enable isakmp localrsakey``); ExchangeFailed
    (``cantFindLocalRSAKey``) when it is not a private RSA key in the ENCO key database."""
    daemon, policy = exchange.daemon, exchange.sa.policy
    key_id = policy.localrsakey if policy.localrsakey is not None else daemon.config.localrsakey
    key = daemon.keys.rsa(key_id)
    if key is None or not key.private:
        raise ExchangeFailed(f"LOCALRSAKEY {key_id} of policy {policy.name} is not a private RSA key",
                             counter=(exchange.GROUP, "cantFindLocalRSAKey"))
    return key


def own_identification(exchange):
    """ID_DER_ASN1_DN of our certificate's subject, or None when we have no certificate."""
    own = exchange.daemon.keys.certificates.own(local_rsa_key(exchange))
    return None if own is None else Identification(IdType.ID_DER_ASN1_DN, 0, 0, own.subject_der)


def certificate_requests(exchange):
    """One CR (X.509 signature) per trusted authority, or one naming none when we trust none."""
    authorities = exchange.daemon.keys.certificates.trusted()
    return [CertificateRequest(CertEncoding.X509_SIGNATURE, ca.subject_der)
            for ca in authorities] or [CertificateRequest(CertEncoding.X509_SIGNATURE, b"")]


async def signature_payloads(exchange, digest):
    """``[CERT,] SIG``: our certificate and the signature of HASH_I/HASH_R ``digest`` (on the card)."""
    key = local_rsa_key(exchange)
    own = exchange.daemon.keys.certificates.own(key)
    payloads = []
    if own is None:
        exchange.count("certNotSent")
    else:
        payloads.append(Certificate(CertEncoding.X509_SIGNATURE, own.der))
        exchange.count("certSent")
    try:
        signature = await rsa_sign(exchange.sa.crypto.device, key, digest)
    except RsaKeyError as error:
        exchange.count("signFailed")
        raise ExchangeFailed(f"cannot sign with LOCALRSAKEY: {error}", counter=(exchange.GROUP, "signFailed")) \
            from None
    exchange.count("signGood")
    return [*payloads, Signature(signature)]


def names_peer(certificate, identification) -> bool:
    """Whether ``certificate`` names the peer's ``identification``: its subject
    DN (ID_DER_ASN1_DN, compared as DER) or one of its alternative names."""
    data = identification.data
    if identification.id_type == IdType.ID_DER_ASN1_DN:
        return data == certificate.subject_der
    if identification.id_type in _ADDRESS_IDS:
        try:
            return str(ipaddress.ip_address(data)) in certificate.alt_names
        except ValueError:
            return False
    if identification.id_type in (IdType.ID_FQDN, IdType.ID_USER_FQDN):
        return data.decode("ascii", "replace") in certificate.alt_names
    return False


async def certificate_problem(crypto, certificate, authorities, now=None):
    """Why ``certificate`` (a StoredCertificate) is not to be trusted, or None:
    issued and signed by one of ``authorities`` (signature digest and RSA on
    the card, via ``crypto``, an IkeCrypto) and valid at ``now`` (UTC, default the wall clock)."""
    now = now or datetime.now(timezone.utc)
    if not certificate.not_before <= now <= certificate.not_after:
        return f"certificate of {certificate.subject} is valid {certificate.not_before} to {certificate.not_after}"
    issuers = [ca for ca in authorities if ca.subject_der == certificate.issuer_der]
    if not issuers:
        return f"certificate of {certificate.subject} is issued by {certificate.issuer}, not a trusted authority"
    if certificate.signature_hash not in DIGEST_INFO:
        return (f"certificate of {certificate.subject} is signed with {certificate.signature_hash}: the card "
                f"hashes {' and '.join(DIGEST_INFO)} only")
    hash_alg, prefix = DIGEST_INFO[certificate.signature_hash]
    digest = await crypto.hash(hash_alg, certificate.tbs)
    for ca in issuers:
        if await rsa_verify(crypto.device, ca.public_key, prefix + digest, certificate.signature):
            return None
    return f"the signature of {certificate.subject}'s certificate does not verify with {certificate.issuer}'s key"


async def _peer_certificate(exchange, message, identification):
    """The peer's StoredCertificate (from CERT, else a loaded one naming
    ``identification``), checked; MessageRejected otherwise."""
    store = exchange.daemon.keys.certificates
    problem, found = None, None
    for payload in message.find(Certificate):
        if payload.encoding != CertEncoding.X509_SIGNATURE:
            problem = f"CERT encoding {payload.encoding}: expected X.509 signature (4)"
            continue
        try:
            found = parse_certificate(payload.data, "peer")
        except CertificateError as error:
            problem = f"peer CERT: {error}"
            continue
        break
    if found is None:
        found = next((c for c in store.certificates() if not c.trusted and names_peer(c, identification)), None)
    if found is None:
        problem = problem or f"no certificate for the peer's ID (type {identification.id_type})"
    else:
        problem = await certificate_problem(exchange.sa.crypto, found, store.trusted())
        if problem is None and not names_peer(found, identification):
            problem = f"the peer's ID (type {identification.id_type}) is not a name of the certificate of " \
                      f"{found.subject}"
    if problem:
        exchange.count("cantFindPeerRSAKey")
        raise MessageRejected(problem, NotifyType.AUTHENTICATION_FAILED, (exchange.GROUP, "authFailed"))
    remoteid = exchange.sa.policy.remoteid
    if identification.id_type == IdType.ID_DER_ASN1_DN and remoteid and _dn_parts(remoteid) != _dn_parts(
            found.subject):
        raise ExchangeFailed(f"peer DN {found.subject} is not REMOTEID {remoteid}", NotifyType.INVALID_ID_INFORMATION,
                             (exchange.GROUP, "badIDirPayLoad"))
    return found


def _dn_parts(text):
    """A DN's attributes as a set of ``type=value`` in lower case (``cn=user, o=co`` equals ``O=co,CN=user``)."""
    return {part.strip().lower() for part in text.split(",")}


async def verify_signature(exchange, message, digest, identification):
    """Check the peer's SIG in ``message`` over HASH ``digest`` with the key of its checked certificate."""
    certificate = await _peer_certificate(exchange, message, identification)
    signature = message.first(Signature)
    if signature is None or not await rsa_verify(exchange.sa.crypto.device, certificate.public_key, digest,
                                                 signature.data):
        exchange.count("verifySigFailed")
        raise MessageRejected(f"the SIG of {certificate.subject} does not verify: not its key, or a forgery",
                              NotifyType.AUTHENTICATION_FAILED, (exchange.GROUP, "authFailed"))
