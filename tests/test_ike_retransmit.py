"""Retransmission (spec/isakmp-commands.md R51-R57), repeated messages and
the deletedelay (R46), between ISAKMP daemons in virtual time.

R57's worked example with the defaults (msgtimeout=4, msgbackoff=
incremental, msgretrylimit=8) puts the retransmissions at 4, 12, 28, 52,
84, 124, 172 and 228 s; the exchange then fails after one more gap of
the pattern (64 s: exchange.py's documented choice).
"""
import pytest
from ike_peers import ADDRESS_I, ADDRESS_R, VirtualNetwork, pair, policy, run

from pacsim.firmware.isakmp.exchange import RetransmitSchedule
from pacsim.firmware.isakmp.ike_sa import IkeSaState, Phase1Failed

R57_TIMELINE = [4, 12, 28, 52, 84, 124, 172, 228]


async def _silent_peer(**params):
    network = VirtualNetwork()
    initiator = await network.add(ADDRESS_I, [policy(peer=ADDRESS_R, **params)])
    await network.deliver(await initiator.initiate("p"))
    await network.run(until=10_000)
    return network, initiator


def _failure_time(initiator, network):
    return network.now if any(isinstance(e, Phase1Failed) for e in initiator.events) else None


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_r57_timeline_with_a_silent_peer(mode):
    network, initiator = run(_silent_peer(mode=mode))
    times = [t for t, _ in network.log]
    assert times == [0] + R57_TIMELINE
    assert len({d.data for _, d in network.log}) == 1          # the same message every time
    (failed,) = [e for e in initiator.events if isinstance(e, Phase1Failed)]
    assert "8 retransmissions" in failed.reason
    assert initiator.counters.get("general", "txRetryTxd") == 8
    assert initiator.counters.get("general", "txRetryXchgTimedOut") == 1
    assert len(initiator.sas) == 0 and initiator.exchanges() == ()
    assert initiator.next_timer() is None


def test_the_timeout_comes_one_gap_after_the_last_retransmission():
    schedule = RetransmitSchedule(4, True, 8)
    assert schedule.times() == R57_TIMELINE + [228 + 64]
    assert RetransmitSchedule(4, False, 3).times() == [4, 8, 12, 16]
    assert RetransmitSchedule(10, True, 0).times() == [10]


def test_backoff_none_retransmits_every_msgtimeout():
    network, initiator = run(_silent_peer(msgbackoff="none", msgtimeout=5, msgretrylimit=3))
    assert [t for t, _ in network.log] == [0, 5, 10, 15]
    assert initiator.counters.get("general", "txRetryXchgTimedOut") == 1


def test_retry_limit_zero_sends_once():
    network, initiator = run(_silent_peer(msgretrylimit=0))
    assert [t for t, _ in network.log] == [0]
    assert initiator.counters.get("general", "txRetryTxd") == 0
    assert initiator.counters.get("general", "txRetryXchgTimedOut") == 1
    assert any(isinstance(e, Phase1Failed) for e in initiator.events)


def test_a_lost_reply_is_retransmitted_and_the_exchange_completes():
    """MM2 is lost twice (at 0 s, and the responder's own retransmission at
    4 s): the initiator's retransmission of MM1 at 4 s gets the cached MM2
    and the exchange completes then."""
    async def body():
        network, initiator, responder = await pair()
        lost = []

        def tap(datagram):
            if datagram.src.exploded == ADDRESS_R and len(lost) < 2:
                lost.append(datagram)
                return None
            return datagram
        network.tap = tap
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=20)
        return network, initiator, responder, lost
    network, initiator, responder, lost = run(body())
    assert [s.state for s in initiator.ike_sas()] == [IkeSaState.ESTABLISHED]
    assert [s.state for s in responder.ike_sas()] == [IkeSaState.ESTABLISHED]
    assert lost[0].data == lost[1].data                     # the cached MM2, byte for byte
    assert responder.counters.get("main", "respRecvSA") == 1  # the repeats created nothing
    assert [t for t, d in network.log if d.src.exploded == ADDRESS_I][:2] == [0, 4]
    assert initiator.ike_sas()[0].established == responder.ike_sas()[0].established == 4


def test_duplicate_mm3_gets_the_cached_mm4_and_creates_nothing():
    """Step by step: MM3 arrives twice (its MM4 was lost); the second gets
    MM4 again byte for byte and the responder's SAs, exchanges, events and
    key counters do not change."""
    async def body():
        network, initiator, responder = await pair()
        (mm1,) = await initiator.initiate("p")
        (mm2,) = await responder.receive(mm1)
        (mm3,) = await initiator.receive(mm2)
        (mm4,) = await responder.receive(mm3)
        before = (responder.ike_sas(), responder.exchanges(), len(responder.events))
        keys_before = responder.counters.group("main")
        again = await responder.receive(mm3)
        after = (responder.ike_sas(), responder.exchanges(), len(responder.events))
        return mm4, again, before, after, keys_before, responder
    mm4, again, before, after, keys_before, responder = run(body())
    assert [(d.data, d.dst, d.dport) for d in again] == [(mm4.data, mm4.dst, mm4.dport)]
    assert after == before
    assert responder.counters.group("main") == keys_before
    assert responder.counters.get("general", "txRetryTxd") == 1


def test_late_retransmission_of_an_earlier_message_is_ignored():
    async def body():
        network, initiator, responder = await pair()
        await network.deliver(await initiator.initiate("p"))
        mm1 = network.log[0][1]
        before = responder.ike_sas()
        out = await responder.receive(mm1)
        return out, before, responder
    out, before, responder = run(body())
    assert out == [] and responder.ike_sas() == before
    assert responder.counters.get("general", "deleteDelayPktDiff") == 1


def test_deletedelay_answers_a_retransmitted_mm5_then_forgets():
    """MM6 is lost: the initiator retransmits MM5 and the responder, which
    finished, answers from its deletedelay with the same MM6; after the
    deletedelay the exchange is gone and a late MM5 finds none (R46)."""
    async def body():
        network, initiator, responder = await pair({"deletedelay": 10}, {"deletedelay": 10})
        dropped = []

        def tap(datagram):
            if datagram.src.exploded == ADDRESS_R and datagram.data[19] & 1 and not dropped:
                dropped.append(datagram)
                return None
            return datagram
        network.tap = tap
        await network.deliver(await initiator.initiate("p"))
        in_delay = responder.exchanges()
        await network.run(until=5)
        resent = [d for t, d in network.log if t == 4]
        await network.run(until=30)
        late = await responder.receive(resent[0])
        return initiator, responder, dropped, resent, in_delay, late
    initiator, responder, dropped, resent, in_delay, late = run(body())
    assert [e.state for e in in_delay] == ["DELETEDELAY"]
    assert [d.data for d in resent[1:]] == [dropped[0].data]
    assert responder.counters.get("general", "deleteDelayRetrySent") == 1
    assert [s.state for s in initiator.ike_sas()] == [IkeSaState.ESTABLISHED]
    assert responder.exchanges() == () and late == []
    assert responder.counters.get("general", "msgRxP1NoXcgNot1stMsg") == 1


def test_a_timeout_does_not_swallow_another_exchanges_retransmission():
    """Two silent peers: at 4 s one exchange retransmits and the other
    (msgretrylimit=0) times out; the retransmission still goes out."""
    async def body():
        network = VirtualNetwork()
        initiator = await network.add(ADDRESS_I, [policy("b", peer="192.0.2.20"),
                                                  policy("a", peer="192.0.2.10", msgretrylimit=0)])
        await network.deliver(await initiator.initiate("b"))
        await network.deliver(await initiator.initiate("a"))
        await network.run(until=5)
        return network, initiator
    network, initiator = run(body())
    assert [(t, d.dst.exploded) for t, d in network.log] == [(0, "192.0.2.20"), (0, "192.0.2.10"),
                                                             (4, "192.0.2.20")]
    assert [e.peer.exploded for e in initiator.events if isinstance(e, Phase1Failed)] == ["192.0.2.10"]


def test_a_replayed_mm1_after_the_deletedelay_leaves_the_sa_alone():
    """Once the exchange is forgotten, MM1 replayed with the SA's CKY-I makes
    no second SA and does not displace the established one (counted)."""
    async def body():
        network, initiator, responder = await pair({"deletedelay": 5}, {"deletedelay": 5})
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=10)
        before = responder.ike_sas()
        out = await responder.receive(network.log[0][1])
        after = responder.ike_sas()
        await network.deliver(await initiator.send_dpd(next(iter(initiator.sas))))
        return before, after, out, responder, initiator
    before, after, out, responder, initiator = run(body())
    assert out == [] and after == before
    assert responder.counters.get("main", "unexpectedMessage") == 1
    assert [e.sequence for e in initiator.events if type(e).__name__ == "DpdAcknowledged"] == [1]
