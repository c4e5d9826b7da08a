"""Phase-1 collisions (firmware/isakmp/collision.py): both daemons start
phase 1 to each other at the same moment, in virtual time on their own
model cards. Both negotiations complete; then exactly one IKE SA, the one
with the higher initiator cookie, is kept on both sides, and the other is
deleted with a Delete by its initiator (or, without senddeletes, quietly by
both after the wait). Between two routers the survivor carries the quick
mode, traffic passes and ``show isakmp sa`` lists one SA on each."""
import pytest
from ike_peers import pair, run
from isakmp_vpn_support import both_ways, send, vpn_network

from pacsim.firmware.isakmp.collision import COLLISION_DELETE_WAIT, UNANNOUNCED
from pacsim.firmware.isakmp.ike_sa import IkeSaDeleted, IkeSaState, Phase1Established
from pacsim.sim.isakmp_vpn import IsakmpVpn


@pytest.mark.parametrize("senddeletes", (True, False))
def test_simultaneous_phase1_keeps_the_higher_initiator_cookie(senddeletes):
    async def body():
        network, a, b = await pair({"senddeletes": senddeletes}, {"senddeletes": senddeletes})
        await network.deliver(await a.initiate("p") + await b.initiate("p"))
        both_up = [len({e.sa.cky_i for e in d.events if isinstance(e, Phase1Established)}) for d in (a, b)]
        await network.run(COLLISION_DELETE_WAIT - 1)
        early = [len(d.sas) for d in (a, b)]
        await network.run(COLLISION_DELETE_WAIT + 1)
        return a, b, both_up, early
    a, b, both_up, early = run(body())
    assert both_up == [2, 2]                                    # both negotiations completed on both sides
    established = {e.sa.cky_i: e.sa for e in a.events if isinstance(e, Phase1Established)}
    winner = max(established)
    loser = min(established)
    initiator_of_loser = a if established[loser].role.value == "initiator" else b
    responder_of_loser = b if initiator_of_loser is a else a
    for daemon in (a, b):
        (sa,) = daemon.ike_sas()
        assert sa.cky_i == winner and sa.state is IkeSaState.ESTABLISHED
        assert daemon.faults == []
    deleted = {d: [(e.sa.cky_i, e.reason) for e in d.events if isinstance(e, IkeSaDeleted)] for d in (a, b)}
    assert deleted[initiator_of_loser] == [(loser, "collision")]
    if senddeletes:
        assert early == [1, 1]                                  # the Delete removed it at once at the peer
        assert deleted[responder_of_loser] == [(loser, "peer delete")]
        assert initiator_of_loser.counters.get("info", "txDeleteMsg") == 1
        assert responder_of_loser.counters.get("info", "processDelete") == 1
    else:
        assert sorted(early) == [1, 2]                          # the responder waits for a Delete, then gives up
        assert deleted[responder_of_loser] == [(loser, UNANNOUNCED)]
        assert initiator_of_loser.counters.get("info", "txMsgDeleteDenyIkmpPolicy") == 1
    for daemon in (a, b):
        assert daemon.counters.get("info", "txMsgDeleteSANotFound") == 0
        assert daemon.counters.get("general", "doneGood") == 2


def test_routers_sending_at_once_end_with_one_ike_sa_and_traffic():
    """Both LAN hosts send at the same moment: each router acquires, both
    phase 1s complete, one IKE SA stays on both routers (``show isakmp sa``)
    and traffic passes both ways over one bundle pair."""
    vpn = IsakmpVpn(isakmp_params="senddeletes=true")

    async def scenario():
        network = await vpn_network(vpn)
        send(network, vpn, "a", 999)                # the packets that start the negotiations
        send(network, vpn, "b", 1999)
        await network.run()
        await network.wait(COLLISION_DELETE_WAIT + 1)
        await both_ways(network, vpn, 3)
        shown = {name: await network.routers[name].execute("show isakmp sa") for name in ("a", "b")}
        return network, shown
    network, shown = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert a.isakmp_daemon.counters.get("general", "doneGood") == 2   # the collision happened: two phase 1s
    (kept_a,), (kept_b,) = a.isakmp_daemon.ike_sas(), b.isakmp_daemon.ike_sas()
    assert kept_a.cky_i == kept_b.cky_i
    for name, kept in (("a", kept_a), ("b", kept_b)):
        rows = [line.split() for line in shown[name].splitlines() if line.strip()[:1].isdigit()]
        assert [row[:2] for row in rows] == [[str(kept.sa_id), vpn.wan("b" if name == "a" else "a")]], shown[name]
    for router in (a, b):
        assert len(router.ipsec.sad.bundles("vpn")) == 1
