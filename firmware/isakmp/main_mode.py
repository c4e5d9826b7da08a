# Ref: RFC 2409 section 5 and 5.4 (main mode with pre-shared keys), RFC 2408 section 4.5 (identity protection)
# Ref: RFC 3947 sections 3-4 (NAT-D in MM3/MM4, float from MM5); ../shared/spec/isakmp-commands.md R25-R27
"""Main mode (identity protection), both sides: shown with pre-shared keys;
RSA signatures put ``[CERT,] SIG`` where HASH is and CR beside KE, RSA
encryption moves the IDs, encrypted, to MM3/MM4 (:mod:`.phase1`'s hooks).

::

    Initiator                         Responder
    MM1  HDR, SA, VID                 -->
                                      <--  MM2  HDR, SA (chosen), VID
    MM3  HDR, KE, Ni [, NAT-D, NAT-D] -->
                                      <--  MM4  HDR, KE, Nr [, NAT-D, NAT-D]
    MM5  HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)]  -->     (UDP 4500 after a NAT)
                                      <--  MM6  HDR*, IDir, HASH_R [, N(RESPONDER-LIFETIME)]

States (:class:`~.ike_sa.IkeSaState`): the initiator is MM_SA_SETUP after
MM1, MM_KEY_EXCH after MM3, MM_KEY_AUTH after MM5 and ESTABLISHED after
MM6; the responder MM_SA_SETUP after MM2, MM_KEY_EXCH after MM4 and
ESTABLISHED when MM5 verified (MM6 is sent and kept for deletedelay).
"""

from .constants import ExchangeType, NotifyType
from .exchange import ExchangeFailed
from .ike_sa import IkeSaState
from .message import encode_message
from .payloads import SecurityAssociation
from .phase1 import Phase1Exchange, body
from .proposal import answer, lifetime_notify, select
from .rules import Role
from .transport import detect, start_float

__all__ = ["MainModeInitiator", "MainModeResponder"]

_NAMES = {1: "SA", 2: "SA", 3: "KE", 4: "KE", 5: "AUTH", 6: "AUTH"}


class _MainMode(Phase1Exchange):
    EXCHANGE = ExchangeType.MAIN
    GROUP = "main"
    NAMES = _NAMES


class MainModeInitiator(_MainMode):
    """The initiator of main mode (``start`` sends MM1)."""
    ROLE = Role.INITIATOR

    async def start(self, now):
        message = encode_message(self.sa.header(self.EXCHANGE), (self.proposal(), *self.vendor_ids()))
        self.count("initSendSA")
        self.sa.state, self.expected = IkeSaState.MM_SA_SETUP, 2
        return self.transmit(1, message, now)

    async def _mm2(self, message, datagram, now):
        message = self.checked(message, 2)
        selection = select(message.first(SecurityAssociation), self.offered)
        if selection is None:
            raise ExchangeFailed("MM2 chose a transform that was not offered", NotifyType.NO_PROPOSAL_CHOSEN,
                                 ("main", "transformInvalid"))
        sa = self.sa
        sa.cky_r, sa.transform = message.header.responder_cookie, selection.chosen
        self.note_peer(message)
        self.count("initRecvSA")
        ke, nonce = await self.keying()
        self.ke_i, self.ni = ke.data, nonce.data
        natd = await self.nat_discovery()
        if natd:
            self.count("initSendNatD")
        self.count("initSendKE")
        sa.state, self.expected = IkeSaState.MM_KEY_EXCH, 4
        payloads = (ke, *await self.nonce_payloads(True, nonce), *self.certificate_requests(), *natd)
        return [self.transmit(3, encode_message(sa.header(self.EXCHANGE), payloads), now)]

    async def _mm4(self, message, datagram, now):
        message = self.checked(message, 4)
        ke_r = self.peer_ke(message)
        sa = self.sa
        self.ke_r, self.nr = ke_r, await self.peer_nonce(False, message)
        await self.derive(ke_r)
        self.count("initRecvKE")
        if sa.nat.supported:
            sa.nat = await detect(sa, message, datagram)
            self.count("initRecvNatD")
        start_float(sa)
        identification = self.own_id or self.identification()
        payloads = (*self.id_payloads(identification), *await self.proof(True, identification),
                    *self.initial_contact())
        self.count("initSendAUTH")
        self.count("encryptIDiiGood")
        sa.state, self.expected = IkeSaState.MM_KEY_AUTH, 6
        return [self.transmit(5, await sa.seal(self.EXCHANGE, 0, payloads), now)]

    async def _mm6(self, message, datagram, now):
        opened = await self.opened(message, 6)
        await self.verify(opened, False, self.peer_id)
        self.sa.accept(message)
        self.count("initRecvAUTH")
        self.count("decryptIDirGood")
        self.last_number = 6
        await self.established(opened, now)
        return []

    HANDLERS = {2: _mm2, 4: _mm4, 6: _mm6}


class MainModeResponder(_MainMode):
    """The responder of main mode (created by the daemon for a received MM1)."""
    ROLE = Role.RESPONDER

    async def _mm1(self, message, datagram, now):
        message = self.checked(message, 1)
        proposal = message.first(SecurityAssociation)
        ours = self.policy_transform()
        selection = select(proposal, ours)
        if selection is None:
            raise ExchangeFailed("no transform of MM1 matches the policy", NotifyType.NO_PROPOSAL_CHOSEN,
                                 ("main", "noTransformChosen"))
        sa = self.sa
        self.sai_b = body(proposal)
        sa.transform, self.notify_lifetime = selection.chosen, selection.notify_lifetime
        self.note_peer(message)
        self.count("respRecvSA")
        self.count("respSendSA")
        sa.state, self.expected = IkeSaState.MM_SA_SETUP, 3
        reply = encode_message(sa.header(self.EXCHANGE), (answer(proposal, selection), *self.vendor_ids()))
        return [self.transmit(2, reply, now)]

    async def _mm3(self, message, datagram, now):
        message = self.checked(message, 3)
        ke_i = self.peer_ke(message)
        sa = self.sa
        ni = await self.peer_nonce(True, message)
        ke, nonce = await self.keying()
        self.ke_i, self.ni, self.ke_r, self.nr = ke_i, ni, ke.data, nonce.data
        await self.derive(ke_i)
        self.count("respRecvKE")
        natd = []
        if sa.nat.supported:
            sa.nat = await detect(sa, message, datagram)
            natd = await self.nat_discovery()
            self.count("respRecvNatD")
            self.count("respSendNatD")
        self.count("respSendKE")
        sa.state, self.expected = IkeSaState.MM_KEY_EXCH, 5
        payloads = (ke, *await self.nonce_payloads(False, nonce), *self.certificate_requests(), *natd)
        return [self.transmit(4, encode_message(sa.header(self.EXCHANGE), payloads), now)]

    async def _mm5(self, message, datagram, now):
        opened = await self.opened(message, 5)
        await self.verify(opened, True, self.peer_id)
        sa = self.sa
        sa.accept(message)
        self.count("respRecvAUTH")
        self.count("decryptIDiiGood")
        identification = self.own_id or self.identification()
        payloads = [*self.id_payloads(identification), *await self.proof(False, identification)]
        if self.notify_lifetime:
            payloads.append(lifetime_notify(sa.cookies, sa.transform))
        reply = await sa.seal(self.EXCHANGE, 0, payloads)
        self.count("respSendAUTH")
        self.count("encryptIDirGood")
        self.transmit(6, reply, now, expect_reply=False)
        await self.established(opened, now)
        return [reply]

    HANDLERS = {1: _mm1, 3: _mm3, 5: _mm5}
