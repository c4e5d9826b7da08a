"""Quick mode between two sans-I/O daemons on model cards (RFC 2409 5.5):
the three messages decrypted by the reference cipher and their HASH(1),
HASH(2), HASH(3) and the KEYMAT recomputed with hmac; a forged HASH, a
proposal the responder refuses, traffic no policy covers, a lost QM2,
mutated messages; and the proposal and identity rules of phase2_proposal."""
import hashlib
import hmac
import ipaddress
import random
from dataclasses import replace
from types import SimpleNamespace

import pytest

from crypto_reference import cipher_reference
from ike_peers import pair, run
from isakmp_vpn_support import reference_keymat
from pacsim.contract.codes import CipherMode
from pacsim.firmware.ipsec.selectors import AddressSelector, PolicySelectors, PortSelector, ProtocolSelector
from pacsim.firmware.ipsec.spd import KeyManagement, SaSpecification
from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg, Mode, Protocol
from pacsim.firmware.isakmp import quick_mode
from pacsim.firmware.isakmp.constants import EncapsulationMode, ExchangeType, IdType, Phase2Attribute
from pacsim.firmware.isakmp.payloads import Attribute, Transform
from pacsim.firmware.isakmp.phase2_proposal import (accept_answer, answer, choose, id_bounds, identities, offer,
                                                    transform_of)
from pacsim.firmware.isakmp.quick_mode import Phase2Request, QuickModeInitiator, quick_mode_factory

HEADER = 28
MESSAGE_ID = 0x01020304
AES_SHA = SaSpecification(1, KeyManagement.ISAKMP, Protocol.ESP, Mode.TUNNEL, EncAlg.AES128, HashAlg.SHA)
DES_MD5 = SaSpecification(2, KeyManagement.ISAKMP, Protocol.ESP, Mode.TUNNEL, EncAlg.DES, HashAlg.MD5)
AH_MD5 = SaSpecification(3, KeyManagement.ISAKMP, Protocol.AH, Mode.TUNNEL, None, HashAlg.MD5)


class Host:
    """The IPsec side of one daemon: SPIs from a counter, one responder request, the outcomes kept."""

    def __init__(self, request, first_spi):
        self.request, self.next_spi = request, first_spi
        self.outcomes, self.released, self.failures = [], [], []

    async def spis(self, protocols):
        self.next_spi += 1
        return {p: self.next_spi for p in protocols}

    def release(self, spis):
        self.released.append(spis)

    def failed(self, request):
        self.failures.append(request)

    def responder_offer(self, sa, idci, idcr):
        return self.request

    async def installed(self, outcome):
        self.outcomes.append(outcome)


def request(*alternatives, group=None):
    return Phase2Request(SimpleNamespace(name="vpn"), tuple(alternatives), 3600, None, group)


async def negotiate(offered, accepted, tap=None, forge=False):
    network, initiator, responder = await pair()
    await network.deliver(await initiator.initiate("p"))
    (sa_i,) = list(initiator.sas)
    host_i, host_r = Host(offered, 0x1000), Host(accepted, 0x2000)
    initiator.register_exchange(ExchangeType.QUICK, quick_mode_factory(host_i))
    responder.register_exchange(ExchangeType.QUICK, quick_mode_factory(host_r))
    phase1_last = network.log[-1][1].data[-8:]
    network.tap = tap
    exchange = QuickModeInitiator(initiator, sa_i, host_i, offered, MESSAGE_ID, network.now)
    if forge:
        real = quick_mode.quick_hash1

        async def forged(*args):
            return bytes(b ^ 1 for b in await real(*args))
        quick_mode.quick_hash1 = forged
        try:
            sent = await initiator.start_exchange(exchange)
        finally:
            quick_mode.quick_hash1 = real
    else:
        sent = await initiator.start_exchange(exchange)
    start = len(network.log)
    await network.deliver(sent)
    return SimpleNamespace(network=network, initiator=initiator, responder=responder, sa=sa_i, host_i=host_i,
                           host_r=host_r, phase1_last=phase1_last, qm=[d for _, d in network.log[start:]])


def _chain(first_type, plain):
    """[(type, payload octets with header)] of a decrypted body (padding after the chain ignored)."""
    out, at, kind = [], 0, first_type
    while kind:
        length = int.from_bytes(plain[at + 2:at + 4], "big")
        out.append((kind, plain[at:at + length]))
        kind, at = plain[at], at + length
    return out


def test_hashes_and_keymat_against_the_reference():
    result = run(negotiate(request(((AES_SHA,),)), request(((AES_SHA,),))))
    sa = result.sa
    assert len(result.qm) == 3 and all(d.data[18] == ExchangeType.QUICK and d.data[19] & 1 for d in result.qm)
    iv = hashlib.sha1(result.phase1_last + MESSAGE_ID.to_bytes(4, "big")).digest()[:8]
    bodies = []
    for datagram in result.qm:
        cipher = datagram.data[HEADER:]
        plain = cipher_reference(sa.keys.cipher, CipherMode.CBC, sa.keys.enc_key, iv, cipher, decrypt=True)
        bodies.append(_chain(datagram.data[16], plain))
        iv = cipher[-8:]
    mid = MESSAGE_ID.to_bytes(4, "big")
    prf = lambda data: hmac.new(sa.keys.skeyid_a, data, hashlib.sha1).digest()     # noqa: E731
    qm1, qm2, qm3 = bodies
    nonce = lambda chain: next(p[4:] for t, p in chain if t == 10)                    # noqa: E731
    ni, nr = nonce(qm1), nonce(qm2)
    assert qm1[0][0] == 8 and qm1[0][1][4:] == prf(mid + b"".join(p for _, p in qm1[1:]))
    assert qm2[0][0] == 8 and qm2[0][1][4:] == prf(mid + ni + b"".join(p for _, p in qm2[1:]))
    assert [t for t, _ in qm3] == [8] and qm3[0][1][4:] == prf(b"\0" + mid + ni + nr)
    (out_i,), (out_r,) = result.host_i.outcomes, result.host_r.outcomes
    assert out_i.nonces == out_r.nonces == (ni, nr)
    (pair_i,), (pair_r,) = out_i.pairs, out_r.pairs
    assert (pair_i.inbound_spi, pair_i.outbound_spi) == (pair_r.outbound_spi, pair_r.inbound_spi) == (0x1001, 0x2001)
    for spi, keys in ((pair_i.inbound_spi, pair_i.inbound_keys), (pair_i.outbound_spi, pair_i.outbound_keys)):
        assert keys.encryption + keys.hash == reference_keymat(hashlib.sha1, sa.keys.skeyid_d, 3, spi, ni, nr, 36)
        assert len(keys.encryption) == 16 and len(keys.hash) == 20
    assert pair_i.inbound_keys == pair_r.outbound_keys and pair_i.outbound_keys == pair_r.inbound_keys


def test_pfs_adds_ke_and_changes_keymat():
    result = run(negotiate(request(((AES_SHA,),), group=2), request(((AES_SHA,),), group=2)))
    (out_i,), (out_r,) = result.host_i.outcomes, result.host_r.outcomes
    assert out_i.pairs[0].inbound_keys == out_r.pairs[0].outbound_keys
    ni, nr = out_i.nonces
    plain = reference_keymat(hashlib.sha1, result.sa.keys.skeyid_d, 3, out_i.pairs[0].inbound_spi, ni, nr, 36)
    assert out_i.pairs[0].inbound_keys.encryption + out_i.pairs[0].inbound_keys.hash != plain
    assert len(result.qm[0].data) > 128 + HEADER                 # a 1024-bit KE in QM1


def test_a_forged_hash1_is_dropped_and_counted():
    result = run(negotiate(request(((AES_SHA,),)), request(((AES_SHA,),)), forge=True))
    assert not result.host_r.outcomes and not result.host_i.outcomes
    assert result.responder.counters.get("quick.responder.errors", "respHash1Fail") == 1
    assert result.responder.faults == []


def test_no_acceptable_proposal_makes_no_bundle():
    async def body():
        result = await negotiate(request(((AES_SHA,),)), request(((DES_MD5,),)))
        await result.network.run(result.network.now + 600)          # the initiator retransmits, then gives up
        return result
    result = run(body())
    assert not result.host_r.outcomes and not result.host_i.outcomes
    assert result.responder.counters.get("quick.responder.errors", "respRemotePropNoMatch") >= 1
    assert result.initiator.counters.get("general", "txRetryXchgTimedOut") == 1
    assert result.host_i.released == [{Protocol.ESP: 0x1001}]          # the SPI it offered is free again
    assert len(result.host_i.failures) == 1


def test_traffic_no_policy_covers_is_refused():
    result = run(negotiate(request(((AES_SHA,),)), None))
    assert not result.host_r.outcomes
    assert result.responder.counters.get("quick.responder.errors", "respAcquireNoPolicy") == 1


def test_a_lost_qm2_is_recovered_by_retransmission():
    lost = []

    def tap(datagram):
        if datagram.sport == 500 and datagram.src == ipaddress.ip_address("192.0.2.2") and not lost and \
                datagram.data[18] == ExchangeType.QUICK:
            lost.append(datagram)
            return None
        return datagram

    async def body():
        result = await negotiate(request(((AES_SHA,),)), request(((AES_SHA,),)), tap=tap)
        await result.network.run(result.network.now + 60)
        return result
    result = run(body())
    assert len(lost) == 1
    assert len(result.host_i.outcomes) == len(result.host_r.outcomes) == 1
    assert result.initiator.counters.get("general", "txRetryTxd") >= 1


# -- proposals and identities ----------------------------------------------------------------------------

def test_comma_alternatives_and_or_transforms_are_chosen_in_the_peers_order():
    ours = (((AES_SHA, DES_MD5),), ((DES_MD5,), (AH_MD5,)))
    sa = offer(ours, {Protocol.ESP: 0x100, Protocol.AH: 0x200}, False, None, 3600, None)
    assert [(p.number, p.protocol, len(p.transforms)) for p in sa.proposals] == [(1, 3, 2), (2, 3, 1), (2, 2, 1)]
    choice = choose(sa, (((DES_MD5,), (AH_MD5,)),), False, None, 3600, None)
    assert choice.number == 2 and [p.spec for p in choice.pairs] == [DES_MD5, AH_MD5]
    choice = choose(sa, (((DES_MD5,),),), False, None, 3600, None)
    assert choice.number == 1 and choice.pairs[0].spec == DES_MD5          # the OR transform of proposal 1
    reply = answer(sa, choice, {Protocol.ESP: 0x300})
    assert accept_answer(reply, ours, False, None, 3600, None).pairs[0].peer_spi == (0x300).to_bytes(4, "big")
    assert choose(sa, (((AH_MD5,),),), False, None, 3600, None) is None


def test_a_shorter_responder_lifetime_is_notified():
    sa = offer((((AES_SHA,),),), {Protocol.ESP: 0x100}, False, None, 28800, None)
    choice = choose(sa, (((AES_SHA,),),), False, None, 3600, 1000)
    assert (choice.life_seconds, choice.life_kbytes, choice.notify) == (3600, 1000, True)
    assert not choose(sa, (((AES_SHA,),),), False, None, 30000, None).notify


@pytest.mark.parametrize("value, udp", [(EncapsulationMode.UDP_ENCAPSULATED_TUNNEL, True),
                                        (EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT, True),
                                        (EncapsulationMode.TUNNEL, False)])
def test_encapsulation_values_a_peer_sends(value, udp):
    sa = offer((((AES_SHA,),),), {Protocol.ESP: 0x100}, False, None, None, None)
    (proposal,) = sa.proposals
    attributes = tuple(Attribute.of(Phase2Attribute.ENCAPSULATION_MODE, value)
                       if a.type == Phase2Attribute.ENCAPSULATION_MODE else a
                       for a in proposal.transforms[0].attributes)
    transform = Transform(1, proposal.transforms[0].transform_id, attributes)
    sa = type(sa)(sa.doi, sa.situation, (type(proposal)(1, proposal.protocol, proposal.spi, (transform,)),))
    choice = choose(sa, (((AES_SHA,),),), None, None, None, None)
    assert choice.pairs[0].transform.udp is udp
    assert choose(sa, (((AES_SHA,),),), not udp, None, None, None) is None
    assert transform_of(AES_SHA, udp, None, None, None).matches(choice.pairs[0].transform)


def _policy(local, remote, protocol=None, lport=None, rport=None):
    selectors = PolicySelectors(local, remote, PortSelector(lport), PortSelector(rport), ProtocolSelector(protocol))
    return SimpleNamespace(selectors=lambda: selectors, ipversion=4)


def test_identities_of_selectors():
    a, b = ipaddress.ip_address("202.45.12.8"), ipaddress.ip_address("202.78.65.4")
    assert identities(_policy(AddressSelector.parse(str(a)), AddressSelector.parse(str(b))), a, b) == (None, None)
    subnet = AddressSelector.parse("10.1.1.0").with_mask(ipaddress.ip_address("255.255.255.0"))
    idci, idcr = identities(_policy(subnet, AddressSelector.parse("10.2.1.5-10.2.1.9"), 17, 500, 0), a, b)
    assert (idci.id_type, idci.protocol, idci.port) == (IdType.ID_IPV4_ADDR_SUBNET, 17, 500)
    assert idci.data == bytes([10, 1, 1, 0, 255, 255, 255, 0])
    assert idcr.id_type == IdType.ID_IPV4_ADDR_RANGE and idcr.data == bytes([10, 2, 1, 5, 10, 2, 1, 9])
    assert id_bounds(idci)[1:3] == (int(ipaddress.ip_address("10.1.1.0")), int(ipaddress.ip_address("10.1.1.255")))
    idci, _ = identities(_policy(AddressSelector.any(), AddressSelector.parse(str(b))), a, b)
    assert idci.id_type == IdType.ID_IPV4_ADDR_SUBNET and idci.data == bytes(8)



def test_mutated_quick_mode_messages_are_counted_and_change_nothing():
    """Seeded mutations of QM1 (bit flips, truncations, extensions of the
    encrypted body) at the responder: nothing raises, no bundle is made, and
    the genuine QM1 then negotiates as if nothing had happened."""
    async def body():
        network, initiator, responder = await pair()
        await network.deliver(await initiator.initiate("p"))
        (sa_i,) = list(initiator.sas)
        offered = request(((AES_SHA,),))
        host_i, host_r = Host(offered, 0x1000), Host(offered, 0x2000)
        initiator.register_exchange(ExchangeType.QUICK, quick_mode_factory(host_i))
        responder.register_exchange(ExchangeType.QUICK, quick_mode_factory(host_r))
        (qm1,) = await initiator.start_exchange(QuickModeInitiator(initiator, sa_i, host_i, offered, MESSAGE_ID,
                                                                   network.now))
        rng = random.Random(12)
        received_before = responder.counters.get("general", "msgRxd")
        for _ in range(300):
            data = bytearray(qm1.data)
            kind = rng.randrange(3)
            if kind == 0:
                at = rng.randrange(HEADER, len(data))
                data[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                data = data[:rng.randrange(HEADER, len(data))]
            else:
                data += bytes(rng.randrange(1, 17))
            assert await responder.receive(replace(qm1, data=bytes(data))) == []       # dropped, no reply
        assert responder.faults == [] and not host_r.outcomes
        assert responder.counters.get("general", "msgRxd") == received_before + 300
        await network.deliver([qm1])
        return host_i, host_r
    host_i, host_r = run(body())
    assert len(host_i.outcomes) == len(host_r.outcomes) == 1
    assert host_i.outcomes[0].pairs[0].inbound_keys == host_r.outcomes[0].pairs[0].outbound_keys
