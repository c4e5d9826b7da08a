# Ref: RFC 2409 sections 5 (SKEYID, HASH_I/HASH_R), 5.1-5.2 (signatures, public key encryption), 5.4 (pre-shared keys)
# Ref: RFC 2407 sections 4.6.2 (phase-1 ID payload), 4.6.3.3 (INITIAL-CONTACT); RFC 3706 section 5 (DPD VID)
# Ref: ../shared/spec/isakmp-commands.md R6, R25-R27, R34-R37, R49, R87
"""What main and aggressive mode share: the policy's transform, the
Diffie-Hellman values and nonce, the keys, the ID payload, HASH_I/HASH_R,
the vendor IDs and the checks of each received message.

:class:`Phase1Exchange` is the base of the four phase-1 exchanges
(:mod:`.main_mode`, :mod:`.aggressive_mode`). Subclasses set ``EXCHANGE``,
``GROUP`` (the counter group, ``main`` or ``aggressive``), ``ROLE``,
``NAMES`` (the manual's exchange state per message number) and
``HANDLERS`` (message number -> handler), and implement ``start`` (the
initiators) from the helpers here.

Received messages are checked in this order and nothing is changed
before every check passed (a malformed message is dropped, R6):
header rules (:func:`~.rules.check_header`), decryption (the IV chain
does not move), payload rules, KE length and value. An authentication
message whose HASH does not verify, or whose decrypted body does not
even decode (the two signs of a different key: a wrong pre-shared key),
fails the exchange with AUTHENTICATION-FAILED and leaves no SA.

The authentication method is the policy's ``authtype``: pre-shared keys
here, RSA signatures (``[CERT,] SIG`` instead of HASH, CR with the KE:
:mod:`.rsa_signature`) and RSA encryption (ID and nonce bodies encrypted
to the peer's key: :mod:`.rsa_encryption`) through the hooks
:meth:`Phase1Exchange.proof`, :meth:`~Phase1Exchange.certificate_requests`,
:meth:`~Phase1Exchange.nonce_payloads`, :meth:`~Phase1Exchange.peer_nonce`,
:meth:`~Phase1Exchange.id_payloads` and :meth:`~Phase1Exchange.rule`.

The local ID (R49): ID_IPV4_ADDR/ID_IPV6_ADDR of the local address
unless ``localid`` is set, then that address, ID_USER_FQDN (with an
``@``) or ID_FQDN. The peer's ID is checked against ``remoteid`` when
set (INVALID-ID-INFORMATION otherwise); an address ID that differs from
the peer's address is only counted (``peerIdAndIpDifferent``: NAT).
"""

import hmac
import ipaddress
from dataclasses import replace

from . import rsa_encryption, rsa_signature
from .constants import GENERIC_HEADER_LENGTH, HEADER_LENGTH, AuthMethod, Doi, IdType, NotifyType, ProtocolId
from .crypto import InvalidPublicValue, group_of
from .errors import MalformedMessage, Rejection
from .exchange import Exchange, ExchangeFailed, MessageRejected
from .informational import act_on_phase1_notify
from .keymat import AuthMethod as SkeyidMethod, IvChain, hash_i, hash_r, phase1_keys
from .message import EncryptedMessage
from .payloads import Hash, Identification, KeyExchange, Nonce, Notification, VendorId, VendorIds, encode_chain
from .proposal import PolicyNotNegotiable, offer, policy_transform
from .rules import RULES, Encryption, check_header, check_payloads
from .transport import discovery_payloads, is_address, nat_t_supported

__all__ = ["Phase1Exchange", "NONCE_BYTES", "body"]

#: Octets of our nonces (RFC 2409 section 5: 8..256).
NONCE_BYTES = 16
#: The SKEYID of each negotiated authentication method (RFC 2409 section 5).
SKEYID_METHODS = {AuthMethod.PRE_SHARED_KEY: SkeyidMethod.PRE_SHARED_KEY,
                  AuthMethod.RSA_SIGNATURES: SkeyidMethod.SIGNATURE,
                  AuthMethod.RSA_ENCRYPTION: SkeyidMethod.PUBLIC_KEY_ENCRYPTION}


def body(payload):
    """A payload's body without its generic header (RFC 2409's ``_b``)."""
    return encode_chain((payload,))[GENERIC_HEADER_LENGTH:]


class Phase1Exchange(Exchange):
    """Base of main and aggressive mode (see the module docstring).

    Arguments: ``daemon``, ``sa`` (the new :class:`~.ike_sa.IkeSa`), ``now``.
    Kept for the keys and hashes: ``sai_b`` (the initiator's SA body),
    ``ke_i``/``ke_r``/``ni``/``nr`` (KE and nonce data), ``private`` (our
    DH exponent, until the exchange is forgotten), ``offered`` (the
    initiator's :class:`~.proposal.Phase1Transform`), ``expected`` (the
    message number awaited next), ``notify_lifetime`` (the responder owes a
    RESPONDER-LIFETIME).
    """
    GROUP = None
    ROLE = None
    NAMES = {}

    def __init__(self, daemon, sa, now):
        super().__init__(daemon, sa, self.ROLE, 0, now)
        self.expected = 1
        self.last_number = 0
        self.sai_b = self.private = self.ke_i = self.ke_r = self.ni = self.nr = self.offered = None
        self.own_id = self.peer_id = None
        self.notify_lifetime = False

    def state_name(self):
        """SASENT, KERECV, SAKEAUTHSENT, ... as ``show isakmp exchange`` prints
        them (the last message and whether a reply is awaited); IDLE before
        the first message, DELETEDELAY once complete."""
        if self.done:
            return "DELETEDELAY"
        if not self.last_number:
            return "IDLE"
        return self.NAMES[self.last_number] + ("SENT" if self.awaiting else "RECV")

    async def process(self, message, datagram, now):
        """Dispatch to the handler of the awaited message (``HANDLERS`` by
        number); a message encrypted where its rule says clear (or the
        reverse) is dropped here, before any work."""
        handler = self.HANDLERS.get(self.expected)
        encrypted = isinstance(message, EncryptedMessage)
        rule = RULES.get((self.EXCHANGE, self.expected))
        wrong = rule is not None and rule.encryption is (Encryption.CLEAR if encrypted else Encryption.ENCRYPTED)
        if handler is None or wrong:
            raise MalformedMessage(Rejection.ENCRYPTED_UNEXPECTED if encrypted else Rejection.PLAIN_UNEXPECTED, 19,
                                   f"{self.EXCHANGE.name} awaits message {self.expected}")
        return await handler(self, message, datagram, now)

    async def nat_discovery(self):
        """Our NAT-D payloads when NAT-T is supported, else none."""
        return list(await discovery_payloads(self.sa)) if self.sa.nat.supported else []

    def count(self, name):
        """Increment counter ``name`` of this mode's group."""
        self.daemon.count(self.GROUP, name)

    def transmit(self, number, message, now, expect_reply=True):
        """Record our message ``number`` as sent; returns it."""
        self.last_number = number
        self.transmitted(message, now, expect_reply)
        return message

    def policy_transform(self):
        """The policy's :class:`~.proposal.Phase1Transform`, or ExchangeFailed (``invalidPolicy``)."""
        try:
            return policy_transform(self.sa.policy)
        except PolicyNotNegotiable as error:
            raise ExchangeFailed(str(error), counter=(self.GROUP, "invalidPolicy")) from None

    def proposal(self):
        """Initiator: the SA payload offering the policy's transform (sets
        ``offered``, ``sa.transform`` and ``sai_b``)."""
        self.offered = self.sa.transform = self.policy_transform()
        proposal = offer(self.offered)
        self.sai_b = body(proposal)
        return proposal

    # -- checks of received messages ---------------------------------------------------------------

    def rule(self, number):
        """The rule of message ``number`` (RSA encryption moves main mode's IDs: :mod:`.rsa_encryption`)."""
        key = (self.EXCHANGE, number)
        return rsa_encryption.RSAENCR_RULES.get(key, RULES[key]) if self.encrypted_ids else RULES[key]

    def checked(self, message, number):
        """``message`` (clear) after the rules of message ``number``; MalformedMessage otherwise."""
        rule = self.rule(number)
        problem = check_header(rule, message.header) or check_payloads(rule, message)
        if problem:
            raise problem
        return message

    async def opened(self, encrypted, number):
        """The decrypted message ``number`` (the IV chain not moved yet).
        A body that does not decode is an authentication failure (see the
        module docstring); a header or payload-rule fault is a drop."""
        return await self.decrypted(encrypted, self.rule(number),
                                    lambda problem: self._undecodable(number, problem))

    def _undecodable(self, number, problem):
        """A body that does not decode under our keys: the pre-shared keys differ."""
        self.daemon.count("general", "rxDecryptFail")
        return MessageRejected(f"message {number} does not decode under our keys ({problem}): "
                               "the peer's pre-shared key differs", NotifyType.AUTHENTICATION_FAILED,
                               (self.GROUP, "authFailed"))

    def peer_ke(self, message):
        """The KE data of ``message`` if it is the group's length and in range; MalformedMessage otherwise."""
        group = group_of(self.sa.transform.group)
        data = message.first(KeyExchange).data
        if len(data) != (group.bits + 7) // 8 or not 1 < int.from_bytes(data, "big") < group.prime - 1:
            self.count("keBadLen")
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH,
                                   f"KE of {len(data)} octets: expected a value below the {group.bits}-bit prime",
                                   KeyExchange.TYPE)
        return data

    # -- our values and keys -------------------------------------------------------------------------

    async def keying(self):
        """Our DH key pair and nonce on the card; returns (KE payload, Nonce payload)."""
        crypto, transform = self.sa.crypto, self.sa.transform
        self.private, public = await crypto.dh_keypair(transform.group,
                                                       private_bits=self.sa.policy.dhexponentlength)
        nonce = await crypto.nonce(NONCE_BYTES)
        self.count("generateLocalDHGood")
        return KeyExchange(crypto.public_bytes(transform.group, public)), Nonce(nonce)

    async def derive(self, peer_ke):
        """g^xy from the peer's KE (checked) and the phase-1 keys; sets ``sa.keys`` and ``sa.ivs``."""
        sa = self.sa
        psk = self.daemon.psk(sa.policy) if self.pre_shared else b""
        if self.pre_shared and not psk:
            raise ExchangeFailed(f"pre-shared key {sa.policy.key} of policy {sa.policy.name} does not exist",
                                 counter=(self.GROUP, "cantLoadSharedKey"))
        try:
            gxy = await sa.crypto.dh_shared(sa.transform.group, self.private, peer_ke)
        except InvalidPublicValue as error:
            self.count("generateDHSecretFailed")
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH, str(error), KeyExchange.TYPE) from None
        self.count("generateSharedSecretGood")
        sa.keys = await phase1_keys(sa.crypto, sa.transform.hash, sa.transform.cipher, ni=self.ni, nr=self.nr,
                                    gxi=self.ke_i, gxr=self.ke_r, gxy=gxy, cky_i=sa.cky_i, cky_r=sa.cky_r, psk=psk,
                                    auth=SKEYID_METHODS[sa.transform.auth])
        sa.ivs = IvChain(sa.crypto, sa.keys)
        self.count("generateKeysGood")

    def identification(self):
        """Our ID payload (see the module docstring; with RSA signatures the
        default is our certificate's DN, :mod:`.rsa_signature`)."""
        localid = self.sa.policy.localid
        if not localid and self.signed:
            own = rsa_signature.own_identification(self)
            if own is not None:
                return own
        try:
            local = ipaddress.ip_address(localid) if localid else self.sa.local
        except ValueError:
            id_type = IdType.ID_USER_FQDN if "@" in localid else IdType.ID_FQDN
            return Identification(id_type, 0, 0, localid.encode())
        return Identification(IdType.ID_IPV4_ADDR if local.version == 4 else IdType.ID_IPV6_ADDR, 0, 0, local.packed)

    def check_peer_id(self, identification):
        """The peer's ID against ``remoteid`` (ExchangeFailed) and its address (counted only)."""
        remoteid, peer = self.sa.policy.remoteid, self.sa.peer
        self.sa.peer_id = identification          # the learnt peer's name (.dynamic_peer)
        if identification.id_type == IdType.ID_DER_ASN1_DN:
            return          # a DN is checked against the certificate's subject (rsa_signature)
        if identification.id_type in (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR):
            value = identification.data
            if value != peer.packed:
                self.count("peerIdAndIpDifferent")
            expected = ipaddress.ip_address(remoteid).packed if remoteid and is_address(remoteid) else None
        else:
            value, expected = identification.data, remoteid.encode() if remoteid else None
        if expected is not None and value != expected:
            raise ExchangeFailed(f"peer ID {value!r} is not REMOTEID {remoteid}", NotifyType.INVALID_ID_INFORMATION,
                                 (self.GROUP, "badIDirPayLoad"))

    def vendor_ids(self):
        """Our VIDs: DPD always (we answer R-U-THERE), NAT-T RFC 3947 when the policy enables NAT-T."""
        found = [VendorId(VendorIds.DPD)]
        if self.sa.policy.nattraversal:
            found.insert(0, VendorId(VendorIds.NAT_T_RFC3947))
        return found

    def note_peer(self, message):
        """Remember what the peer's VIDs announce (DPD, NAT-T)."""
        sa = self.sa
        sa.peer_dpd = sa.peer_dpd or any(p.data == VendorIds.DPD for p in message.find(VendorId))
        if nat_t_supported(sa, message) and not sa.nat.supported:
            sa.nat = replace(sa.nat, supported=True)

    async def authentication(self, initiator, identification):
        """HASH_I (``initiator``) or HASH_R over ``identification``."""
        sa = self.sa
        compute = hash_i if initiator else hash_r
        return await compute(sa.crypto, sa.keys, gxi=self.ke_i, gxr=self.ke_r, cky_i=sa.cky_i, cky_r=sa.cky_r,
                             sai=self.sai_b, id_body=body(identification))

    @property
    def method(self):
        """The negotiated (or, before MM2, offered) authentication method; None before the responder chose."""
        return None if self.sa.transform is None else self.sa.transform.auth

    @property
    def pre_shared(self):
        """Whether the method is pre-shared keys."""
        return self.method is AuthMethod.PRE_SHARED_KEY

    @property
    def signed(self):
        """Whether it is RSA signatures (:mod:`.rsa_signature`)."""
        return self.method is AuthMethod.RSA_SIGNATURES

    @property
    def encrypted_ids(self):
        """Whether it is RSA encryption (:mod:`.rsa_encryption`)."""
        return self.method is AuthMethod.RSA_ENCRYPTION

    async def proof(self, initiator, identification):
        """Our authentication payloads: HASH_I (``initiator``) or HASH_R over
        ``identification``, or with RSA signatures [CERT,] SIG of it."""
        digest = await self.authentication(initiator, identification)
        if not self.signed:
            return [Hash(digest)]
        return await rsa_signature.signature_payloads(self, digest)

    def certificate_requests(self):
        """CR payloads to send with our KE when we authenticate with RSA signatures, else none."""
        return rsa_signature.certificate_requests(self) if self.signed else []

    async def nonce_payloads(self, initiator, nonce, identification=None):
        """What carries our nonce (and, in aggressive mode, ``identification``):
        ``[nonce, identification]``, or with RSA encryption our ID (default
        :meth:`identification`, kept as ``own_id``) and nonce encrypted to the peer."""
        if self.encrypted_ids:
            self.own_id = identification or self.identification()
            return await rsa_encryption.sealed(self, initiator, self.own_id, nonce)
        return [nonce, *([identification] if identification else [])]

    async def peer_nonce(self, initiator, message):
        """The peer's nonce data in ``message`` (sent by the initiator when
        ``initiator``); with RSA encryption decrypted, and its ID kept as ``peer_id``."""
        if self.encrypted_ids:
            nonce, self.peer_id = await rsa_encryption.opened(self, initiator, message)
            return nonce
        return message.first(Nonce).data

    def id_payloads(self, identification):
        """Main mode's MM5/MM6 ID: ``[identification]``, none with RSA encryption (it went in MM3/MM4)."""
        return [] if self.encrypted_ids else [identification]

    async def verify(self, message, initiator, identification=None):
        """Check the peer's HASH_I/HASH_R (or SIG, :mod:`.rsa_signature`) in
        ``message`` over its ID (``identification``, else the message's ID
        payload); MessageRejected AUTHENTICATION-FAILED when it differs."""
        identification = identification or message.first(Identification)
        received = message.first(Hash)
        expected = await self.authentication(initiator, identification)
        if self.signed:
            await rsa_signature.verify_signature(self, message, expected, identification)
        elif received is None or not hmac.compare_digest(received.data, expected):
            raise MessageRejected(f"HASH_{'I' if initiator else 'R'} does not verify: the pre-shared keys differ",
                                 NotifyType.AUTHENTICATION_FAILED, (self.GROUP, "authFailed"))
        self.check_peer_id(identification)
        self.count("authGood")

    def initial_contact(self):
        """INITIAL-CONTACT (RFC 2407 4.6.3.3) when this is our first SA with the peer, else nothing."""
        others = [s for s in self.daemon.sas.with_peer(self.sa.peer) if s is not self.sa]
        if others:
            return []
        return [Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.INITIAL_CONTACT, self.sa.cookies)]

    async def established(self, message, now):
        """Finish: honour the peer's INITIAL-CONTACT and RESPONDER-LIFETIME
        notifies in ``message`` and tell the daemon the SA is up."""
        for notification in message.find(Notification):
            await act_on_phase1_notify(self.daemon, self.sa, notification)
        self.finish(now)
        await self.daemon.established(self.sa, now)
