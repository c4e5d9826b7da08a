"""Phase 1 between two ISAKMP daemons, each on its own behavioural-model
card, in virtual time: main and aggressive mode for every cipher, hash and
group the router negotiates, checked against a reference computed here
with ``hashlib``/``hmac``/``cryptography`` from the datagrams on the wire
(walked with the capture helper's own parser, not the firmware's codec)
and the initiator's Diffie-Hellman exponent; wrong keys, refused
proposals, lifetimes, INITIAL-CONTACT and rekeying.
"""
import hashlib
import hmac
import itertools

import pytest
from crypto_reference import cipher_reference
from isakmp_capture import HASH, ID, KE, NONCE, SA, payload
from ike_peers import ADDRESS_I, ADDRESS_R, PSK, pair, run

from pacsim.firmware.isakmp.constants import NotifyType
from pacsim.firmware.isakmp.counters import UnknownCounter
from pacsim.firmware.isakmp.crypto import IkeHash, group_of
from pacsim.firmware.isakmp.ike_sa import IkeSaDeleted, IkeSaState, Phase1Established, Phase1Failed
from pacsim.firmware.isakmp.proposal import CIPHERS
from pacsim.contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherMode
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus

HEADER = 28
ENCALGS = ("des", "3desinner", "aes128", "aes192", "aes256")
HASHALGS = ("md5", "sha")
GROUPS = (1, 2, 5, 14, 0)
_DIGEST = {"md5": hashlib.md5, "sha": hashlib.sha1}


def _messages(network):
    """(header fields, body) of every ISAKMP datagram in the log, in order."""
    found = []
    for _, datagram in network.log:
        data = datagram.data[4:] if datagram.dport == 4500 else datagram.data
        found.append((data[:HEADER], data[HEADER:], data[16], data[19] & 1))
    return found


def reference_keys(digest, psk, ni, nr, gxi, gxr, gxy, cookies, key_bytes, block):
    """RFC 2409 section 5 and appendix B, with hmac/hashlib."""
    def prf(key, data):
        return hmac.new(key, data, digest).digest()
    skeyid = prf(psk, ni + nr)
    skeyid_d = prf(skeyid, gxy + cookies + b"\0")
    skeyid_a = prf(skeyid, skeyid_d + gxy + cookies + b"\1")
    skeyid_e = prf(skeyid, skeyid_a + gxy + cookies + b"\2")
    ka, block_k = b"", b"\0"
    if key_bytes <= len(skeyid_e):
        ka = skeyid_e[:key_bytes]
    else:
        while len(ka) < key_bytes:
            block_k = prf(skeyid_e, block_k)
            ka += block_k
        ka = ka[:key_bytes]
    return skeyid, skeyid_d, skeyid_a, skeyid_e, ka, digest(gxi + gxr).digest()[:block]


async def _negotiate(mode, encalg, hashalg, group):
    params = {"mode": mode, "encalg": encalg, "hashalg": hashalg, "group": group}
    network, initiator, responder = await pair(params, params)
    await network.deliver(await initiator.initiate("p"))
    (sa_i,), (sa_r,) = list(initiator.sas), list(responder.sas)
    private = initiator.exchange_for(sa_i.cky_i, 0).private
    return network, initiator, responder, sa_i, sa_r, private


@pytest.mark.parametrize("mode, encalg, hashalg, group", list(itertools.product(("main", "aggressive"), ENCALGS,
                                                                                HASHALGS, GROUPS)))
def test_phase1_combination_agrees_with_reference(mode, encalg, hashalg, group):
    network, initiator, responder, sa_i, sa_r, private = run(_negotiate(mode, encalg, hashalg, group))
    assert sa_i.state is sa_r.state is IkeSaState.ESTABLISHED
    assert initiator.faults == responder.faults == []
    assert sa_i.keys == sa_r.keys
    assert sa_i.transform == sa_r.transform and sa_i.transform.group == group
    assert sa_i.transform.cipher is CIPHERS[encalg][2]
    assert sa_i.transform.hash is (IkeHash.MD5 if hashalg == "md5" else IkeHash.SHA1)
    messages = _messages(network)
    keyed = [m for m in messages if payload(m[2], m[1], NONCE)]
    first, second = keyed[0], keyed[1]
    ni, nr = payload(first[2], first[1], NONCE), payload(second[2], second[1], NONCE)
    gxi, gxr = payload(first[2], first[1], KE), payload(second[2], second[1], KE)
    modp = group_of(group)
    assert len(gxi) == len(gxr) == modp.bits // 8
    gxy = pow(int.from_bytes(gxr, "big"), private, modp.prime).to_bytes(modp.bits // 8, "big")
    cookies = messages[1][0][:16]
    cipher = CIPHERS[encalg][2]
    block, key_bytes = CIPHER_BLOCK_BYTES[cipher], CIPHER_KEY_BYTES[cipher]
    skeyid, skeyid_d, skeyid_a, skeyid_e, ka, iv = reference_keys(_DIGEST[hashalg], PSK, ni, nr, gxi, gxr, gxy,
                                                                   cookies, key_bytes, block)
    keys = sa_i.keys
    assert (keys.skeyid, keys.skeyid_d, keys.skeyid_a, keys.skeyid_e, keys.enc_key, keys.initial_iv) == (
        skeyid, skeyid_d, skeyid_a, skeyid_e, ka, iv)
    # The initiator's authentication message, decrypted by the reference: HASH_I over SAi_b and IDii_b.
    sai_b = payload(messages[0][2], messages[0][1], SA)
    auth = next(m for m in messages if m[3])
    plain = cipher_reference(cipher, CipherMode.CBC, ka, iv, auth[1], decrypt=True)
    idii_b = payload(auth[2], plain, ID) if mode == "main" else payload(first[2], first[1], ID)
    hash_i = hmac.new(skeyid, gxi + gxr + cookies + sai_b + idii_b, _DIGEST[hashalg]).digest()
    assert payload(auth[2], plain, HASH) == hash_i
    assert idii_b == b"\x01\x00\x00\x00" + bytes(map(int, ADDRESS_I.split(".")))
    if mode == "aggressive":
        idir_b = payload(second[2], second[1], ID)
        hash_r = hmac.new(skeyid, gxr + gxi + cookies[8:] + cookies[:8] + sai_b + idir_b, _DIGEST[hashalg]).digest()
        assert payload(second[2], second[1], HASH) == hash_r
    established = [e for d in (initiator, responder) for e in d.events if isinstance(e, Phase1Established)]
    assert len(established) == 2


@pytest.mark.parametrize("sendnotify", [True, False])
@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_wrong_psk_fails_without_an_sa(mode, sendnotify):
    """The side that can tell (main mode: the responder, MM5 does not
    decrypt; aggressive: the initiator, HASH_R) counts authFailed and sends
    AUTHENTICATION-FAILED once (with sendnotify; without, both sides time
    out); the other side gives up on it, the detector by timeout; neither
    ever has an SA and nothing raises."""
    async def body():
        params = {"mode": mode, "sendnotify": sendnotify}
        network, initiator, responder = await pair(params, params, psk_r=b"not the same key")
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=1000)
        return network, initiator, responder
    network, initiator, responder = run(body())
    assert len(initiator.sas) == len(responder.sas) == 0
    assert initiator.device.channels == responder.device.channels == {}
    assert initiator.faults == responder.faults == []
    group = "main" if mode == "main" else "aggressive"
    detector = responder if mode == "main" else initiator
    assert detector.counters.get(group, "authFailed") >= 1
    assert detector.counters.get("info", "txNotifyMsg") == int(sendnotify)
    assert detector.counters.get("info", "txMsgNotifyDenyIkmpPolicy") == int(not sendnotify)
    failed = [e for d in (initiator, responder) for e in d.events if isinstance(e, Phase1Failed)]
    assert {e.peer.exploded for e in failed} == {ADDRESS_I, ADDRESS_R}
    assert not [e for d in (initiator, responder) for e in d.events if isinstance(e, Phase1Established)]
    # the failure notify is in the clear and names AUTHENTICATION-FAILED
    notify = [d for _, d in network.log if d.data[18] == 5]
    assert len(notify) == int(sendnotify)
    assert all(int.from_bytes(n.data[HEADER + 10:HEADER + 12], "big") == NotifyType.AUTHENTICATION_FAILED
               for n in notify)


def test_no_proposal_chosen():
    async def body():
        network, initiator, responder = await pair({"encalg": "aes128", "sendnotify": True},
                                                   {"encalg": "des", "sendnotify": True})
        await network.deliver(await initiator.initiate("p"))
        return initiator, responder
    initiator, responder = run(body())
    assert responder.counters.get("main", "noTransformChosen") == 1
    assert len(initiator.sas) == len(responder.sas) == 0
    (failed,) = [e for e in initiator.events if isinstance(e, Phase1Failed)]
    assert "NO_PROPOSAL_CHOSEN" in failed.reason
    assert initiator.counters.get("info", "rxMsgProcessNotifyPayload") == 1


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_responder_lifetime_shortens_the_initiators(mode):
    async def body():
        network, initiator, responder = await pair({"mode": mode, "expiryseconds": 7200},
                                                   {"mode": mode, "expiryseconds": 3600})
        await network.deliver(await initiator.initiate("p"))
        return initiator, responder
    initiator, responder = run(body())
    (sa_i,), (sa_r,) = initiator.ike_sas(), responder.ike_sas()
    assert sa_r.transform.life_seconds == 3600 == sa_i.transform.life_seconds
    assert sa_i.expires == sa_r.expires == 3600


def test_lifetime_expiry_and_rekey():
    """The initiator rekeys at 90 % of the lifetime and deletes the old SA
    (a Delete, senddeletes); the responder's copy goes with it."""
    async def body():
        params = {"expiryseconds": 1000, "senddeletes": True}
        network, initiator, responder = await pair(params, params)
        await network.deliver(await initiator.initiate("p"))
        first = initiator.ike_sas()[0]
        await network.run(until=950)
        return first, initiator, responder
    first, initiator, responder = run(body())
    (now_i,), (now_r,) = initiator.ike_sas(), responder.ike_sas()
    assert now_i.sa_id != first.sa_id and now_i.cky_i == now_r.cky_i != first.cky_i
    assert now_i.established == 900 and now_i.state is IkeSaState.ESTABLISHED
    deleted = [e for e in initiator.events if isinstance(e, IkeSaDeleted)]
    assert [(e.sa.sa_id, e.reason) for e in deleted] == [(first.sa_id, "rekeyed")]
    assert [e.reason for e in responder.events if isinstance(e, IkeSaDeleted)] == ["peer delete"]
    assert [e.replaces for e in initiator.events if isinstance(e, Phase1Established)] == [None, first.sa_id]


def test_expiry_without_rekey_on_the_responder():
    async def body():
        network, initiator, responder = await pair({"expiryseconds": 1000}, {"expiryseconds": 1000})
        await network.deliver(await initiator.initiate("p"))
        initiator.config.policies["p"].expiryseconds = 1000
        del network.daemons[initiator.local_addresses[0]]      # the initiator is gone: no rekey reaches us
        await network.run(until=1001)
        return responder
    responder = run(body())
    assert len(responder.sas) == 0
    (deleted,) = [e for e in responder.events if isinstance(e, IkeSaDeleted)]
    assert deleted.reason == "expired" and deleted.sa.state is IkeSaState.EXPIRED


def test_initial_contact_replaces_the_peers_old_sa():
    """A restarted initiator (new daemon, same address) sends INITIAL-CONTACT:
    the responder deletes the SA it still had with that address."""
    async def body():
        network, initiator, responder = await pair()
        await network.deliver(await initiator.initiate("p"))
        old = responder.ike_sas()[0]
        restarted = await network.add(ADDRESS_I, list(initiator.config.policies.values()))
        await network.deliver(await restarted.initiate("p"))
        return old, responder, restarted
    old, responder, restarted = run(body())
    (current,) = responder.ike_sas()
    assert current.cky_i == restarted.ike_sas()[0].cky_i != old.cky_i
    assert [(e.sa.sa_id, e.reason) for e in responder.events if isinstance(e, IkeSaDeleted)] == [
        (old.sa_id, "initial contact")]


def test_initiate_refuses_a_second_negotiation_and_unknown_targets():
    async def body():
        network, initiator, _ = await pair()
        first = await initiator.initiate("p")
        again = await initiator.initiate(ADDRESS_R)
        unknown = await initiator.initiate("no such policy")
        return first, again, unknown, initiator
    first, again, unknown, initiator = run(body())
    assert len(first) == 1 and again == [] and unknown == []
    assert initiator.counters.get("general", "acquireEquivFound") == 1
    assert initiator.counters.get("general", "acquireNoPolicy") == 1


def test_kbytes_limit_rekeys_before_it_is_reached():
    """expirykbytes=1: DPD traffic over the SA reaches 90 % of 1 KB, the
    initiator negotiates a replacement and deletes the old SA (never expired)."""
    async def body():
        params = {"expirykbytes": 1, "senddeletes": True}
        network, initiator, responder = await pair(params, params)
        await network.deliver(await initiator.initiate("p"))
        first = next(iter(initiator.sas))
        rounds = 0
        while initiator.sas.get(first.cky_i) is not None and rounds < 20:
            await network.deliver(await initiator.send_dpd(first))
            rounds += 1
        return first, rounds, initiator, responder
    first, rounds, initiator, responder = run(body())
    assert 3 < rounds < 20
    assert 0.9 * 1024 <= first.protected_bytes < 1024 + 256
    (deleted,) = [e for e in initiator.events if isinstance(e, IkeSaDeleted)]
    assert (deleted.sa.sa_id, deleted.reason) == (first.sa_id, "rekeyed")
    (now_i,), (now_r,) = initiator.ike_sas(), responder.ike_sas()
    assert now_i.cky_i == now_r.cky_i != first.cky_i and now_i.transform.life_kbytes == 1


def test_identities_localid_and_remoteid():
    """LOCALID as FQDN and USER_FQDN goes out as ID_FQDN / ID_USER_FQDN; a
    REMOTEID that the peer's ID does not match fails phase 1 (INVALID-ID-INFORMATION)."""
    async def body(remoteid):
        network, initiator, responder = await pair(
            {"localid": "gw.example.com", "mode": "aggressive"},
            {"localid": "peer@example.com", "remoteid": remoteid, "mode": "aggressive", "sendnotify": True})
        await network.deliver(await initiator.initiate("p"))
        return network, initiator, responder
    network, initiator, responder = run(body("gw.example.com"))
    assert len(initiator.sas) == len(responder.sas) == 1
    first, second = network.log[0][1].data, network.log[1][1].data
    assert payload(first[16], first[HEADER:], ID) == b"\x02\x00\x00\x00gw.example.com"
    assert payload(second[16], second[HEADER:], ID) == b"\x03\x00\x00\x00peer@example.com"
    network, initiator, responder = run(body("other.example.com"))
    assert len(responder.sas) == 0 and responder.counters.get("aggressive", "badIDirPayLoad") == 1
    assert any(isinstance(e, Phase1Failed) for e in responder.events)


def test_subscribers_and_exchange_snapshots():
    async def body():
        network, initiator, responder = await pair({"deletedelay": 10}, {"deletedelay": 10})
        seen = []
        initiator.subscribe(seen.append)
        (mm1,) = await initiator.initiate("p")
        waiting = initiator.exchanges()
        await network.deliver([mm1])
        return seen, waiting, initiator.exchanges(), responder.exchanges()
    seen, waiting, done_i, done_r = run(body())
    assert [type(e) for e in seen] == [Phase1Established]
    (exchange,) = waiting
    assert (exchange.state, exchange.phase, exchange.initiator, exchange.expecting) == ("SASENT", 1, True, True)
    assert (exchange.retry_limit, exchange.retries_left, exchange.retry_left, exchange.delete_left) == (8, 8, 4, None)
    assert [(e.state, e.delete_left) for e in done_i + done_r] == [("DELETEDELAY", 10), ("DELETEDELAY", 10)]


def test_counters_are_a_schema():
    async def body():
        _, initiator, _ = await pair()
        return initiator
    initiator = run(body())
    initiator.count("main", "authFailed")
    assert initiator.counters.group("main")["authFailed"] == 1
    for group, name in (("main", "authFailedd"), ("mian", "authFailed"), ("general", "authFailed")):
        with pytest.raises(UnknownCounter):
            initiator.count(group, name)
    initiator.counters.reset(["main"])
    assert initiator.counters.get("main", "authFailed") == 0


def test_a_card_out_of_channels_fails_the_exchange_cleanly():
    """R43: the responder's card has too few channels for the SA's keys:
    the exchange fails (counted), no SA is left, nothing raises."""
    async def body():
        network, initiator, responder = await pair()
        responder.device = await PacDevice.probe(ModelBus(channels=2))
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=1000)
        return initiator, responder
    initiator, responder = run(body())
    assert responder.faults == initiator.faults == []
    assert responder.counters.get("general", "msgRxDecryptNoEncoPrc") >= 1
    assert len(responder.sas) == len(initiator.sas) == 0
    assert responder.device.channels == {}
    assert any(isinstance(e, Phase1Failed) for e in initiator.events)
