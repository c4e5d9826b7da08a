# Ref: RFC 2408 sections 2.5.3 (cookies), 3.1 (header); RFC 2409 sections 5, 5.5 and appendix B
# Ref: ../shared/spec/isakmp-commands.md R4, R6, R12-R14, R32, R39-R44; ../shared/spec/show-outputs.md 18.4
# Ref: RFC 2408 section 4.8 (informational exchange), RFC 3706 section 5 (DPD)
"""The ISAKMP (IKE) SA: its identity, negotiated transform, keys and state,
and the database of them keyed by cookies.

An :class:`IkeSa` is created by the phase-1 exchange that negotiates it
and lives in the :class:`IkeSaDatabase` from then on; it is usable for
phase 2 only in :attr:`IkeSaState.ESTABLISHED` (R6: a failed negotiation
leaves no SA). Its state is one value, never a history:

* main mode: MM_NO_STATE -> MM_SA_SETUP -> MM_KEY_EXCH -> MM_KEY_AUTH -> ESTABLISHED
* aggressive mode: AG_NO_STATE -> AG_INIT_EXCH -> AG_AUTH -> ESTABLISHED
* then DYING (replaced by a rekeyed SA), EXPIRED (lifetime reached) and
  DELETED (deleted by either side).

The phase-2 layer protects its messages with the SA's methods:
:meth:`IkeSa.seal` (encode and encrypt a message of any exchange/message
ID), :meth:`IkeSa.unseal` (decrypt and decode without moving the IV chain),
:meth:`IkeSa.accept` (move the chain once the message is accepted) and
:meth:`IkeSa.prf_a` (prf under SKEYID_a); :attr:`IkeSa.crypto` and
:attr:`IkeSa.keys` give the rest of :mod:`.keymat`. :meth:`IkeSa.snapshot`
returns a frozen :class:`IkeSaSnapshot` for displays.

What the daemon tells the layers above about IKE SAs is here too, as
frozen events (:class:`Phase1Established`, :class:`Phase1Failed`,
:class:`IkeSaDeleted`, :class:`NotifyReceived`, :class:`PeerDeleted`,
:class:`DpdAcknowledged`): the quick-mode layer and the router take them
from :attr:`~.daemon.IsakmpDaemon.events` (a queue, oldest first) or
subscribe a callback (:meth:`~.daemon.IsakmpDaemon.subscribe`). An event
carries the :class:`IkeSaSnapshot` it is about, as it was then.
"""

from dataclasses import dataclass
from enum import Enum

from ...contract.codes import CIPHER_BLOCK_BYTES
from .constants import ExchangeType, HeaderFlag
from .message import Header, encode_encrypted, padded_body
from .rules import Role

__all__ = ["KBYTE", "Phase1Mode", "IkeSaState", "NatTraversal", "IkeSa", "IkeSaSnapshot", "IkeSaDatabase",
           "ZERO_COOKIE", "Phase1Established", "Phase1Failed", "IkeSaDeleted", "NotifyReceived", "PeerDeleted", "DpdAcknowledged"]

ZERO_COOKIE = bytes(8)
KBYTE = 1024


class Phase1Mode(Enum):
    """The phase-1 exchange that made the SA (``show isakmp sa`` prints M/A)."""
    MAIN = "M"
    AGGRESSIVE = "A"

    @property
    def exchange(self):
        """The :class:`ExchangeType` of this mode."""
        return ExchangeType.MAIN if self is Phase1Mode.MAIN else ExchangeType.AGGRESSIVE


class IkeSaState(Enum):
    """Where an IKE SA is (see the module docstring for the order)."""
    MM_NO_STATE = "MM_NO_STATE"
    MM_SA_SETUP = "MM_SA_SETUP"
    MM_KEY_EXCH = "MM_KEY_EXCH"
    MM_KEY_AUTH = "MM_KEY_AUTH"
    AG_NO_STATE = "AG_NO_STATE"
    AG_INIT_EXCH = "AG_INIT_EXCH"
    AG_AUTH = "AG_AUTH"
    ESTABLISHED = "ESTABLISHED"
    DYING = "DYING"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"

    @property
    def usable(self):
        """True when the SA may protect new exchanges (established or replaced but not yet deleted)."""
        return self in (IkeSaState.ESTABLISHED, IkeSaState.DYING)


@dataclass(frozen=True)
class NatTraversal:
    """NAT-T of an IKE SA (RFC 3947): ``supported`` (both sides sent the
    RFC 3947 VID and the policy allows it), ``nat_local`` (we are behind a
    NAT: our NAT-D hash did not match), ``nat_peer`` (the peer is),
    ``floated`` (IKE moved to UDP 4500)."""
    supported: bool = False
    nat_local: bool = False
    nat_peer: bool = False
    floated: bool = False

    @property
    def detected(self):
        """A NAT on either side: ESP must be UDP-encapsulated."""
        return self.nat_local or self.nat_peer


@dataclass(frozen=True)
class IkeSaSnapshot:
    """A read-only copy of an :class:`IkeSa` for displays (no key material
    beyond what ``show isakmp sa`` prints: none); ``heartbeat_sent`` and
    ``heartbeat_received`` are the last heartbeat sequence numbers."""
    sa_id: int
    cky_i: bytes
    cky_r: bytes
    role: Role
    mode: Phase1Mode
    state: IkeSaState
    policy: str
    local: object
    local_port: int
    peer: object
    peer_port: int
    transform: object
    nat: NatTraversal
    created: float
    established: float | None
    expires: float | None
    phase2_exchanges: int
    kbytes: int
    peer_dpd: bool
    heartbeat_sent: int = 0
    heartbeat_received: int = 0


class IkeSa:
    """One ISAKMP SA.

    Arguments: ``sa_id`` (the database's number), ``cky_i``/``cky_r``
    (8 octets; ``cky_r`` zero until the responder's first message),
    ``role`` (:class:`~.rules.Role` INITIATOR or RESPONDER), ``mode``
    (:class:`Phase1Mode`), ``policy`` (the IsakmpPolicy it follows),
    ``local``/``peer`` addresses and ports, ``crypto`` (its
    :class:`~.crypto.IkeCrypto`, closed with the SA), ``created`` (seconds).
    Set by the phase-1 exchange: ``transform`` (:class:`~.proposal.Phase1Transform`),
    ``keys`` (:class:`~.keymat.Phase1Keys`), ``ivs`` (:class:`~.keymat.IvChain`),
    ``nat`` (:class:`NatTraversal`), ``peer_dpd`` (the peer sent the DPD VID),
    ``established``/``expires``/``rekey_at`` (seconds).
    ``phase2_exchanges`` counts phase-2 exchanges started over it,
    ``protected_bytes`` the octets it encrypted and decrypted (for
    ``expirykbytes``), ``replaces`` the number of the SA it rekeys (or
    None), ``dpd_sequence`` the last R-U-THERE sequence number sent and
    ``heartbeat`` its :class:`~.heartbeat.HeartbeatState` once established;
    ``peer_id`` the peer's phase-1 Identification once checked.
    """

    def __init__(self, sa_id, cky_i, cky_r, role, mode, policy, local, local_port, peer, peer_port, crypto, created):
        self.sa_id, self.cky_i, self.cky_r = sa_id, bytes(cky_i), bytes(cky_r)
        self.role, self.mode, self.policy = role, mode, policy
        self.local, self.local_port, self.peer, self.peer_port = local, local_port, peer, peer_port
        self.crypto, self.created = crypto, created
        crypto.owner = f"ISAKMP SA {sa_id}"          # its channels' owner in show enco
        self.state = IkeSaState.MM_NO_STATE if mode is Phase1Mode.MAIN else IkeSaState.AG_NO_STATE
        self.transform = self.keys = self.ivs = None
        self.nat = NatTraversal()
        self.peer_dpd = False
        self.established = self.expires = self.rekey_at = None
        self.phase2_exchanges = 0
        self.protected_bytes = 0
        self.replaces = None
        self.dpd_sequence = 0
        self.heartbeat = None
        self.peer_id = None

    @property
    def cookies(self):
        """CKY-I | CKY-R (16 octets): the SA's SPI in Notify and Delete payloads."""
        return self.cky_i + self.cky_r

    @property
    def kbytes(self):
        """Whole kilobytes protected so far."""
        return self.protected_bytes // KBYTE

    def header(self, exchange, message_id=0, flags=HeaderFlag.NONE):
        """A :class:`~.message.Header` of this SA for ``exchange``/``message_id``."""
        return Header(self.cky_i, self.cky_r, exchange, flags, message_id)

    async def seal(self, exchange, message_id, payloads, flags=HeaderFlag.NONE):
        """The encrypted message (bytes) of ``payloads`` in exchange
        ``exchange`` with ``message_id`` (an int; 0 = phase 1), encrypted
        with the SA's key and IV chain on the card."""
        body = padded_body(payloads, CIPHER_BLOCK_BYTES[self.keys.cipher])
        ciphertext = await self.ivs.encrypt(message_id.to_bytes(4, "big"), body)
        self.protected_bytes += len(body)
        return encode_encrypted(self.header(exchange, message_id, flags), payloads, ciphertext)

    async def unseal(self, encrypted):
        """The decoded :class:`~.message.Message` of a received
        :class:`~.message.EncryptedMessage`; the IV chain does not move
        (call :meth:`accept` when the message passes its checks). Raises
        :class:`~.errors.MalformedMessage` for a body that does not decode."""
        plaintext = await self.ivs.decrypt(encrypted.header.message_id.to_bytes(4, "big"), encrypted.ciphertext,
                                           advance=False)
        return encrypted.open(plaintext, CIPHER_BLOCK_BYTES[self.keys.cipher])

    def accept(self, encrypted):
        """Move the IV chain past an accepted ``encrypted`` message and count its octets."""
        self.ivs.advance(encrypted.header.message_id.to_bytes(4, "big"), encrypted.ciphertext)
        self.protected_bytes += len(encrypted.ciphertext)

    async def prf_a(self, data):
        """prf(SKEYID_a, ``data``): the phase-2 and informational HASHes."""
        return await self.crypto.prf(self.keys.hash_alg, self.keys.skeyid_a, data)

    def snapshot(self):
        """A frozen :class:`IkeSaSnapshot`."""
        return IkeSaSnapshot(self.sa_id, self.cky_i, self.cky_r, self.role, self.mode, self.state, self.policy.name,
                             self.local, self.local_port, self.peer, self.peer_port, self.transform, self.nat,
                             self.created, self.established, self.expires, self.phase2_exchanges, self.kbytes,
                             self.peer_dpd, *((self.heartbeat.sent, self.heartbeat.received) if self.heartbeat
                                              else ()))

    async def close(self):
        """Free the SA's card channels (its keys are gone)."""
        await self.crypto.close()


class IkeSaDatabase:
    """The IKE SAs of a daemon, keyed by the initiator cookie (the
    responder cookie is checked when both are known; RFC 2408 section
    2.5.3 makes CKY-I alone unique per initiator)."""

    def __init__(self):
        self._sas = {}
        self._next_id = 1

    def new_id(self):
        """The next SA number (``show isakmp sa`` ids start at 1)."""
        self._next_id += 1
        return self._next_id - 1

    def add(self, sa):
        """Store ``sa``."""
        self._sas[sa.cky_i] = sa

    def get(self, cky_i, cky_r=ZERO_COOKIE):
        """The SA of those cookies, or None (a zero ``cky_r`` matches any)."""
        sa = self._sas.get(bytes(cky_i))
        if sa is None or (cky_r != ZERO_COOKIE and sa.cky_r not in (ZERO_COOKIE, bytes(cky_r))):
            return None
        return sa

    def remove(self, sa):
        """Forget ``sa`` (no-op when absent)."""
        if self._sas.get(sa.cky_i) is sa:
            del self._sas[sa.cky_i]

    def with_peer(self, peer, usable_only=True):
        """The SAs with peer address ``peer`` (only usable ones unless told otherwise), oldest first."""
        return [sa for sa in self._sas.values() if sa.peer == peer and (sa.state.usable or not usable_only)]

    def __iter__(self):
        return iter(list(self._sas.values()))

    def __len__(self):
        return len(self._sas)


@dataclass(frozen=True)
class Phase1Established:
    """An IKE SA is authenticated and ready for phase 2 (``sa``);
    ``replaces``: the SA number it rekeys, or None."""
    sa: object
    replaces: int | None = None


@dataclass(frozen=True)
class Phase1Failed:
    """A phase-1 exchange failed: ``policy`` name, ``peer`` address,
    ``reason`` (a sentence), ``notify`` (the NotifyType involved, or None)."""
    policy: str
    peer: object
    reason: str
    notify: object = None


@dataclass(frozen=True)
class IkeSaDeleted:
    """An IKE SA is gone: ``sa`` (state DELETED or EXPIRED), ``reason``
    (``"expired"``, ``"rekeyed"``, ``"peer delete"``, ``"initial contact"``,
    ``"retry"`` (:mod:`.retry`), ``"collision"`` and
    :data:`~.collision.UNANNOUNCED` (:mod:`.collision`), ``"local"``)."""
    sa: object
    reason: str


@dataclass(frozen=True)
class NotifyReceived:
    """A protected notify over ``sa`` the daemon does not act on itself:
    ``notify_type`` (int), ``protocol``, ``spi``, ``data``."""
    sa: object
    notify_type: int
    protocol: int
    spi: bytes
    data: bytes


@dataclass(frozen=True)
class PeerDeleted:
    """A protected Delete of phase-2 SAs over ``sa``: ``protocol``
    (ProtocolId) and ``spis`` (tuple of bytes), for the quick-mode layer."""
    sa: object
    protocol: int
    spis: tuple


@dataclass(frozen=True)
class DpdAcknowledged:
    """The peer answered our R-U-THERE ``sequence`` over ``sa``."""
    sa: object
    sequence: int
