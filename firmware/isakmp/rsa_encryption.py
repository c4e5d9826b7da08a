# Ref: RFC 2409 section 5.2 (phase 1 authenticated with public key encryption), section 5 (SKEYID)
# Ref: RFC 8017 section 7.2 (RSAES-PKCS1-v1_5); ../shared/spec/isakmp-commands.md §2.1 (AUTHType=RSAEncr, KEY)
"""Phase 1 authenticated with RSA encryption (``authtype=rsaencr``): what
main and aggressive mode change.

::

    Main mode                                    Aggressive mode
    MM3  HDR, KE, <IDii_b>PubKey_r, <Ni_b>PubKey_r      AM1  HDR, SA, KE, <IDii_b>PubKey_r, <Ni_b>PubKey_r
    MM4  HDR, KE, <IDir_b>PubKey_i, <Nr_b>PubKey_i      AM2  HDR, SA, KE, <IDir_b>PubKey_i, <Nr_b>PubKey_i,
    MM5  HDR*, HASH_I                                        HASH_R
    MM6  HDR*, HASH_R                                   AM3  HDR*, HASH_I

Each side encrypts the body of its ID payload and of its nonce payload
(generic headers in the clear) with the peer's RSA public key, PKCS#1
v1.5 (block type 2, padding from the card's RNG, the exponentiation on the
card), and decrypts the peer's with its own private key on the card.
SKEYID = prf(hash(Ni_b | Nr_b), CKY-I | CKY-R); HASH_I/HASH_R are those of
pre-shared keys over the decrypted IDs, so only the holder of the private
key can compute them. No certificates are involved and no HASH(1) is
sent (one key per peer); a received HASH(1) is not accepted (the message
rules below do not allow it).

Keys: our private key is ``localrsakey`` (or ``enable isakmp
localrsakey``); the peer's public key is the policy's ``key`` (an ENCO RSA
key, private or public: ``create enco key=N type=rsa file=peer-public.pem``)
or, when ``key`` is not given, "a key matching the IP address of the peer"
(§2.1): an ENCO RSA key whose DESCRIPTION is the peer's address, else the
key of a loaded (untrusted) certificate with that address among its
alternative names. Missing keys count
``cantFindLocalRSAKey``/``cantFindPeerRSAKey``; a body that does not
decrypt counts ``decryptIDiiFailed``/``decryptNiFailed`` (responder) or
``decryptIDirFailed``/``decryptNrFailed`` (initiator) and is an
AUTHENTICATION-FAILED that leaves no SA.

strongSwan does not implement IKEv1 RSA encryption: this method runs
between two pacsim routers only.
"""
from dataclasses import replace

from ..enco.rsa_keys import RsaKeyError, rsa_decrypt, rsa_encrypt
from .constants import GENERIC_HEADER_LENGTH, ExchangeType, NotifyType
from .exchange import ExchangeFailed, MessageRejected
from .payloads import Identification, Nonce, encode_chain
from .rsa_signature import local_rsa_key
from .rules import NONCE_LENGTHS, RULES, PayloadRule

__all__ = ["RSAENCR_RULES", "sealed", "opened"]


def _with_id(key, count):
    """RULES[key] with exactly ``count`` ID payloads (MM3/MM4 carry the encrypted ID, MM5/MM6 none)."""
    rule = RULES[key]
    others = tuple(r for r in rule.payloads if r.payload is not Identification)
    return replace(rule, payloads=others + ((PayloadRule(Identification, 1),) if count else ()))


#: The main mode rules that differ under RSA encryption (aggressive mode's are the same).
RSAENCR_RULES = {(ExchangeType.MAIN, 3): _with_id((ExchangeType.MAIN, 3), 1),
                 (ExchangeType.MAIN, 4): _with_id((ExchangeType.MAIN, 4), 1),
                 (ExchangeType.MAIN, 5): _with_id((ExchangeType.MAIN, 5), 0),
                 (ExchangeType.MAIN, 6): _with_id((ExchangeType.MAIN, 6), 0)}
#: The ID and nonce names of each side's counters (the initiator sends IDii/Ni, the responder IDir/Nr).
_NAMES = {True: ("IDii", "Ni"), False: ("IDir", "Nr")}


def _peer_key(exchange):
    """The peer's public key (see the module docstring); ExchangeFailed (``cantFindPeerRSAKey``)."""
    policy, keys, peer = exchange.sa.policy, exchange.daemon.keys, str(exchange.sa.peer)
    if policy.key is not None:
        key = keys.rsa(policy.key)
    else:
        by_description = [k.rsa for k in keys.keys() if k.rsa is not None and k.description == peer]
        by_certificate = [c.public_key for c in keys.certificates.certificates()
                          if not c.trusted and peer in c.alt_names]
        key = next(iter(by_description + by_certificate), None)
    if key is None:
        what = f"KEY {policy.key}" if policy.key is not None else f"no RSA key or certificate for {peer}"
        raise ExchangeFailed(f"{what} of policy {policy.name}: not the peer's RSA key",
                             counter=(exchange.GROUP, "cantFindPeerRSAKey"))
    return key.public()


async def sealed(exchange, initiator, identification, nonce):
    """``[<ID_b>, <N_b>]``: our ID and Nonce payloads with bodies encrypted to the peer's key."""
    key, device = _peer_key(exchange), exchange.sa.crypto.device
    id_name, nonce_name = _NAMES[initiator]
    try:
        id_body = await rsa_encrypt(device, key, _body(identification))
        nonce_body = await rsa_encrypt(device, key, nonce.data)
    except RsaKeyError as error:
        exchange.count(f"encrypt{id_name}Failed")
        raise ExchangeFailed(f"cannot encrypt to the peer's key: {error}",
                             counter=(exchange.GROUP, "cantFindPeerRSAKey")) from None
    exchange.count(f"encrypt{id_name}Good")
    exchange.count(f"encrypt{nonce_name}Good")
    return [Identification(id_body[0], id_body[1], int.from_bytes(id_body[2:4], "big"), id_body[4:]),
            Nonce(nonce_body)]


def _body(identification):
    """IDii_b/IDir_b: the ID payload's body."""
    return encode_chain((identification,))[GENERIC_HEADER_LENGTH:]


async def opened(exchange, initiator, message):
    """(the peer's nonce data, its ID payload) decrypted with our private key
    from ``message`` (sent by the initiator when ``initiator``); MessageRejected when either does not decrypt."""
    key, device = local_rsa_key(exchange), exchange.sa.crypto.device
    id_name, nonce_name = _NAMES[initiator]
    encrypted_id = message.first(Identification)
    id_body = await rsa_decrypt(device, key, _body(encrypted_id))
    nonce = await rsa_decrypt(device, key, message.first(Nonce).data)
    failed = [name for name, value in ((id_name, id_body), (nonce_name, nonce)) if value is None]
    if not failed and (len(id_body) < 4 or len(nonce) not in NONCE_LENGTHS):
        failed = [id_name if len(id_body) < 4 else nonce_name]
    if failed:
        for name in failed:
            exchange.count("decryptNrFaileD" if (name, exchange.GROUP) == ("Nr", "aggressive") else
                           f"decrypt{name}Failed")
        raise MessageRejected(f"the peer's {' and '.join(failed)} do not decrypt with LOCALRSAKEY: it encrypted "
                              "to another key", NotifyType.AUTHENTICATION_FAILED, (exchange.GROUP, "authFailed"))
    exchange.count(f"decrypt{id_name}Good")
    exchange.count(f"decrypt{nonce_name}Good")
    return nonce, Identification(id_body[0], id_body[1], int.from_bytes(id_body[2:4], "big"), id_body[4:])
