# Ref: RFC 2409 sections 5 and 5.4 (aggressive mode with pre-shared keys), RFC 2408 section 4.7
# Ref: RFC 3947 sections 3-4 (NAT-D in AM2/AM3, float with AM3); ../shared/spec/isakmp-commands.md R25
"""Aggressive mode, both sides: shown with pre-shared keys; RSA signatures
put ``[CERT,] SIG`` where HASH is and CR in AM1/AM2, RSA encryption
encrypts the ID and nonce bodies of AM1/AM2 (:mod:`.phase1`'s hooks).

::

    Initiator                                  Responder
    AM1  HDR, SA, KE, Ni, IDii, VID            -->
                                               <--  AM2  HDR, SA, KE, Nr, IDir, HASH_R [, NAT-D, NAT-D], VID
    AM3  HDR*, HASH_I [, NAT-D, NAT-D] [, N(INITIAL-CONTACT)]  -->   (UDP 4500 after a NAT)

AM3 is sent encrypted (RFC 2409 allows either; strongSwan sends it
encrypted) and accepted either way. The initiator is ESTABLISHED once
AM2's HASH_R verifies and AM3 is sent; AM3 is kept for deletedelay and
resent when AM2 comes again (a lost AM3). The responder is AG_AUTH after
AM2 and ESTABLISHED when AM3 verifies; a shorter lifetime of ours goes
to the initiator as RESPONDER-LIFETIME in a protected informational
exchange (AM2 has no room for a notify).
"""

from .constants import ExchangeType, NotifyType
from .exchange import ExchangeFailed
from .ike_sa import IkeSaState
from .informational import notify_message
from .message import EncryptedMessage, encode_message
from .payloads import Identification, SecurityAssociation
from .phase1 import Phase1Exchange, body
from .proposal import answer, lifetime_notify, select
from .rules import Role
from .transport import detect, start_float

__all__ = ["AggressiveModeInitiator", "AggressiveModeResponder"]

_NAMES = {1: "SAKE", 2: "SAKEAUTH", 3: "AUTH"}


class _AggressiveMode(Phase1Exchange):
    EXCHANGE = ExchangeType.AGGRESSIVE
    GROUP = "aggressive"
    NAMES = _NAMES


class AggressiveModeInitiator(_AggressiveMode):
    """The initiator of aggressive mode (``start`` sends AM1)."""
    ROLE = Role.INITIATOR

    async def start(self, now):
        sa = self.sa
        proposal = self.proposal()
        ke, nonce = await self.keying()
        self.ke_i, self.ni = ke.data, nonce.data
        self.own_id = self.identification()
        message = encode_message(sa.header(self.EXCHANGE), (proposal, ke, *await self.nonce_payloads(True, nonce,
                                                                                                       self.own_id),
                                                            *self.certificate_requests(), *self.vendor_ids()))
        self.count("initSendSAKE")
        sa.state, self.expected = IkeSaState.AG_INIT_EXCH, 2
        return self.transmit(1, message, now)

    async def _am2(self, message, datagram, now):
        message = self.checked(message, 2)
        selection = select(message.first(SecurityAssociation), self.offered)
        if selection is None:
            raise ExchangeFailed("AM2 chose a transform that was not offered", NotifyType.NO_PROPOSAL_CHOSEN,
                                 ("aggressive", "transformInvalid"))
        ke_r = self.peer_ke(message)
        sa = self.sa
        sa.cky_r, sa.transform = message.header.responder_cookie, selection.chosen
        self.ke_r, self.nr = ke_r, await self.peer_nonce(False, message)
        await self.derive(ke_r)
        await self.verify(message, False, self.peer_id)
        self.note_peer(message)
        self.count("initRecvSAKEAUTH")
        natd = []
        if sa.nat.supported:
            sa.nat = await detect(sa, message, datagram)
            natd = await self.nat_discovery()
            self.count("initRecvNatD")
            self.count("initSendNatD")
        start_float(sa)
        payloads = (*await self.proof(True, self.own_id), *natd, *self.initial_contact())
        reply = await sa.seal(self.EXCHANGE, 0, payloads)
        self.count("initSendAUTH")
        self.transmit(3, reply, now, expect_reply=False)
        await self.established(message, now)
        return [reply]

    HANDLERS = {2: _am2}


class AggressiveModeResponder(_AggressiveMode):
    """The responder of aggressive mode (created by the daemon for a received AM1)."""
    ROLE = Role.RESPONDER

    async def _am1(self, message, datagram, now):
        message = self.checked(message, 1)
        proposal = message.first(SecurityAssociation)
        selection = select(proposal, self.policy_transform())
        if selection is None:
            raise ExchangeFailed("no transform of AM1 matches the policy", NotifyType.NO_PROPOSAL_CHOSEN,
                                 ("aggressive", "noTransformChosen"))
        sa = self.sa
        sa.transform = selection.chosen
        ke_i = self.peer_ke(message)
        self.sai_b, self.notify_lifetime = body(proposal), selection.notify_lifetime
        self.peer_id = message.first(Identification)
        ni = await self.peer_nonce(True, message)
        ke, nonce = await self.keying()
        self.ke_i, self.ni, self.ke_r, self.nr = ke_i, ni, ke.data, nonce.data
        await self.derive(ke_i)
        self.note_peer(message)
        self.count("respRecvSAKE")
        identification = self.identification()
        natd = await self.nat_discovery()
        if natd:
            self.count("respSendNatD")
        payloads = (answer(proposal, selection), ke, *await self.nonce_payloads(False, nonce, identification),
                    *await self.proof(False, identification),
                    *self.certificate_requests(), *natd, *self.vendor_ids())
        self.count("respSendSAKEAUTH")
        sa.state, self.expected = IkeSaState.AG_AUTH, 3
        return [self.transmit(2, encode_message(sa.header(self.EXCHANGE), payloads), now)]

    async def _am3(self, message, datagram, now):
        opened = await self.opened(message, 3) if isinstance(message, EncryptedMessage) else self.checked(message, 3)
        await self.verify(opened, True, self.peer_id)
        sa = self.sa
        if isinstance(message, EncryptedMessage):
            sa.accept(message)
        if sa.nat.supported:
            sa.nat = await detect(sa, opened, datagram)
            self.count("respRecvNatD")
        self.count("respRecvAUTH")
        self.last_number = 3
        await self.established(opened, now)
        if self.notify_lifetime:
            self.daemon.send(sa, await notify_message(self.daemon, sa, lifetime_notify(sa.cookies, sa.transform)))
        return []

    HANDLERS = {1: _am1, 3: _am3}
