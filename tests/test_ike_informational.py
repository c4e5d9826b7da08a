"""Informational exchanges between two ISAKMP daemons (RFC 2408 4.8,
RFC 2409 5.7): a protected Delete of the IKE SA, protected notifies, DPD
R-U-THERE/R-U-THERE-ACK (RFC 3706), and their HASH(1) checked here with
hmac from SKEYID_a and the decrypted message (``cryptography``).
"""
import hashlib
import hmac

from crypto_reference import cipher_reference
from ike_peers import pair, run

from pacsim.firmware.isakmp.constants import Doi, NotifyType, ProtocolId
from pacsim.firmware.isakmp.ike_sa import DpdAcknowledged, IkeSaDeleted, NotifyReceived, PeerDeleted
from pacsim.firmware.isakmp.payloads import Notification
from pacsim.contract.codes import CipherMode

HEADER = 28


async def _established(**params):
    network, initiator, responder = await pair(params, params)
    await network.deliver(await initiator.initiate("p"))
    (sa_i,), (sa_r,) = list(initiator.sas), list(responder.sas)
    return network, initiator, responder, sa_i, sa_r


def _decrypt_informational(sa, datagram, last_phase1_block):
    """The plaintext of a protected informational message, by the reference (IV from the last phase-1 block)."""
    data = datagram.data
    message_id = data[20:24]
    iv = hashlib.sha1(last_phase1_block + message_id).digest()[:8]
    return message_id, cipher_reference(sa.keys.cipher, CipherMode.CBC, sa.keys.enc_key, iv, data[HEADER:],
                                         decrypt=True)


def test_delete_removes_the_sa_on_both_sides():
    async def body():
        network, initiator, responder, sa_i, _ = await _established(senddeletes=True)
        phase1_last = network.log[-1][1].data[-8:]          # MM6's last cipher block: the phase-1 IV chain
        held = len(initiator.device.channels), len(responder.device.channels)
        sent = await initiator.delete_sa(sa_i)
        await network.deliver(sent)
        assert held[0] > 0 and held[1] > 0
        assert initiator.device.channels == responder.device.channels == {}       # the SAs' card channels freed
        return sent, sa_i, phase1_last, initiator, responder
    sent, sa_i, phase1_last, initiator, responder = run(body())
    assert len(initiator.sas) == len(responder.sas) == 0
    assert [e.reason for e in responder.events if isinstance(e, IkeSaDeleted)] == ["peer delete"]
    assert [e.reason for e in initiator.events if isinstance(e, IkeSaDeleted)] == ["local"]
    (datagram,) = sent
    assert datagram.data[18] == 5 and datagram.data[19] & 1
    message_id, plain = _decrypt_informational(sa_i, datagram, phase1_last)
    hash_length = int.from_bytes(plain[2:4], "big")
    digest, delete = plain[4:hash_length], plain[hash_length:]
    delete = delete[:int.from_bytes(delete[2:4], "big")]
    assert delete[8] == ProtocolId.ISAKMP and delete[9] == 16 and delete[12:28] == sa_i.cookies
    assert digest == hmac.new(sa_i.keys.skeyid_a, message_id + delete, hashlib.sha1).digest()


def test_no_delete_is_sent_without_senddeletes():
    async def body():
        network, initiator, responder, sa_i, _ = await _established()
        return await initiator.delete_sa(sa_i), initiator, responder
    sent, initiator, responder = run(body())
    assert sent == [] and len(initiator.sas) == 0 and len(responder.sas) == 1
    assert initiator.counters.get("info", "txMsgDeleteDenyIkmpPolicy") == 1


def test_dpd_is_answered_and_acknowledged():
    async def body():
        network, initiator, responder, sa_i, sa_r = await _established()
        await network.deliver(await initiator.send_dpd(sa_i))
        await network.deliver(await initiator.send_dpd(sa_i))
        sa_i.peer_dpd = sa_r.peer_dpd = False               # as if the peer had sent no DPD VID
        unanswered = await responder.receive((await initiator.send_dpd(sa_i))[0])
        return initiator, responder, unanswered
    initiator, responder, unanswered = run(body())
    assert [e.sequence for e in initiator.events if isinstance(e, DpdAcknowledged)] == [1, 2]
    assert [s.phase2_exchanges for s in initiator.ike_sas() + responder.ike_sas()] == [0, 0]
    assert unanswered == []
    assert responder.counters.get("info", "rxMsgHashSuccess") == 3


def test_notify_and_phase2_delete_become_events():
    """What the daemon does not act on itself goes to the quick-mode layer as events; the IKE SA stays."""
    async def body():
        network, initiator, responder, sa_i, sa_r = await _established(sendnotify=True, senddeletes=True)
        notification = Notification(Doi.IPSEC, ProtocolId.IPSEC_ESP, NotifyType.INVALID_SPI, b"\x11\x22\x33\x44")
        await network.deliver(await initiator.send_notify(sa_i, notification))
        await network.deliver(await initiator.send_delete(sa_i, ProtocolId.IPSEC_ESP, (b"\x01\x02\x03\x04",)))
        return responder
    responder = run(body())
    (notify,) = [e for e in responder.events if isinstance(e, NotifyReceived)]
    assert (notify.notify_type, notify.protocol, notify.spi) == (NotifyType.INVALID_SPI, ProtocolId.IPSEC_ESP,
                                                                 b"\x11\x22\x33\x44")
    (deleted,) = [e for e in responder.events if isinstance(e, PeerDeleted)]
    assert deleted.protocol == ProtocolId.IPSEC_ESP and deleted.spis == (b"\x01\x02\x03\x04",)
    assert len(responder.sas) == 1


def test_a_replayed_informational_is_ignored():
    async def body():
        network, initiator, responder, sa_i, _ = await _established()
        (dpd,) = await initiator.send_dpd(sa_i)
        first = await responder.receive(dpd)
        again = await responder.receive(dpd)
        return first, again, responder
    first, again, responder = run(body())
    assert len(first) == 1 and again == []
    assert responder.counters.get("info", "rxMsgHashSuccess") == 1
