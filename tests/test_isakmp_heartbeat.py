"""ISAKMP heartbeats (R67-R74) between two pacsim routers in virtual time
(:class:`~pacsim.sim.isakmp_vpn.IsakmpVpn`): the remote ``a`` sends, the
central ``b`` listens (and, in ``both`` mode, sends too). The timeline is
read off the WAN (protected informational messages, exchange type 5) and
the routers' counters and ``show isakmp sa=N``; the WAN is then cut and
``b`` must delete ``a``'s ISAKMP SA and IPsec bundle three heartbeat
intervals after the last one it heard, while ``a`` (send only) keeps its
SAs. Malformed heartbeats are built with the SA's own keys and each is
counted and ignored."""
import struct

from pacsim.firmware.isakmp.constants import Doi, ExchangeType, NotifyType, ProtocolId
from pacsim.firmware.isakmp.heartbeat import HEARTBEAT_GRACE, HEARTBEAT_INTERVAL, HEARTBEATS_MISSED
from pacsim.firmware.isakmp.keymat import informational_hash
from pacsim.firmware.isakmp.payloads import Hash, Notification, encode_chain
from pacsim.firmware.isakmp.transport import Datagram
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import both_ways, received, send, vpn_network
from router_support import run


def heartbeat_times(network, sender, since):
    """Times at which ``sender`` put a protected informational ISAKMP message on the WAN after ``since``."""
    times = []
    for w in network.wan:
        ip = parse_ip(w.packet)
        if w.router != sender or ip.protocol != 17 or w.time < since:
            continue
        dport = struct.unpack_from("!H", ip.payload, 2)[0]
        isakmp = ip.payload[8:]
        if dport == 500 and isakmp[18] == ExchangeType.INFORMATIONAL and isakmp[19] & 1:
            times.append(w.time)
    return times


def cut_wan(network):
    """Take the WAN link away: what the routers send on ppp0 is lost."""
    network.links.pop(("a", "ppp0"))
    network.links.pop(("b", "ppp0"))


async def heartbeat_vpn(mode_a, mode_b):
    vpn = IsakmpVpn()
    network = await vpn_network(vpn)
    for name, mode in (("a", mode_a), ("b", mode_b)):
        out = await network.routers[name].execute(f"set isakmp policy=i heartbeatmode={mode}")
        assert "Error" not in out, out
    send(network, vpn, "a", 999)
    await network.run()
    assert received(network, vpn, "b")
    return vpn, network


def test_heartbeats_every_20_s_and_three_missed_delete_the_peers_sas():
    async def scenario():
        vpn, network = await heartbeat_vpn("send", "both")
        a, b = network.routers["a"], network.routers["b"]
        (sa_a,), (sa_b,) = a.isakmp_daemon.sas, b.isakmp_daemon.sas
        established = {"a": sa_a.established, "b": sa_b.established}
        await network.wait(100)
        await both_ways(network, vpn, 2)          # heartbeats do not disturb traffic
        sent_a = heartbeat_times(network, "a", established["a"])
        sent_b = heartbeat_times(network, "b", established["b"])
        detail_b = await b.execute(f"show isakmp sa={sa_b.sa_id}")
        detail_a = await a.execute(f"show isakmp sa={sa_a.sa_id}")
        last_heard = sa_b.heartbeat.heard
        cut_wan(network)
        gone_at = None
        for _ in range(HEARTBEATS_MISSED * HEARTBEAT_INTERVAL + 10):
            await network.wait(1)
            if gone_at is None and not b.isakmp_daemon.sas:
                gone_at = network.clock()
                bundles_b = len(b.ipsec.sad.bundles("vpn"))
        return (a, b, established, sent_a, sent_b, detail_a, detail_b, last_heard, gone_at, bundles_b)

    a, b, established, sent_a, sent_b, detail_a, detail_b, last_heard, gone_at, bundles_b = run(scenario())
    # a heartbeat every 20 s from establishment, from both a (send) and b (both)
    # every 20 s after each side's establishment (the network polls the routers at their timers)
    for times, start in ((sent_a, established["a"]), (sent_b, established["b"])):
        assert len(times) == 5, times
        assert [round(t - start, 9) for t in times] == [k * HEARTBEAT_INTERVAL for k in range(1, 6)]
    ca, cb = a.isakmp_daemon.counters, b.isakmp_daemon.counters
    assert ca.get("heartbeat", "txMsg") == ca.get("heartbeat", "initXchgComplete") == 5 + 3     # 3 more while cut
    assert cb.get("heartbeat", "rxMsg") == cb.get("heartbeat", "respXchgComplete") == 5
    assert ca.get("heartbeat", "rxMsg") == ca.get("heartbeat", "startXchgRespNotCfgd") == 5     # a does not listen
    assert ca.get("heartbeat", "respXchgComplete") == 0
    assert "Next sequence number tx ............. 6" in detail_a
    assert "Last sequence number rx ............. 5" in detail_b
    assert "Last sequence number rx ............. 0" in detail_a
    # cut: b deletes a's ISAKMP SA and the IPsec bundle three intervals after the last heartbeat it heard
    assert gone_at is not None
    deadline = last_heard + HEARTBEATS_MISSED * HEARTBEAT_INTERVAL + HEARTBEAT_GRACE
    assert deadline <= gone_at < deadline + 1
    assert bundles_b == 0
    assert b.isakmp_daemon.counters.get("sad", "deleteGood") == 1
    # a only sends: it never watches b, so its SA and bundle stay
    assert len(a.isakmp_daemon.sas) == 1 and len(a.ipsec.sad.bundles("vpn")) == 1
    assert a.isakmp_daemon.faults == b.isakmp_daemon.faults == []


async def forged_heartbeat(sa, daemon, payloads):
    """A protected informational message over ``sa`` (our side's keys) carrying ``payloads`` after HASH(1)."""
    message_id = await daemon.new_message_id(sa)
    digest = await informational_hash(sa.crypto, sa.keys, message_id.to_bytes(4, "big"), encode_chain(payloads))
    message = await sa.seal(ExchangeType.INFORMATIONAL, message_id, (Hash(digest), *payloads))
    sa.ivs.forget(message_id.to_bytes(4, "big"))
    return Datagram(sa.local, sa.peer, sa.local_port, sa.peer_port, message)


def test_bad_heartbeats_are_counted_and_do_not_restart_the_watch():
    async def scenario():
        vpn, network = await heartbeat_vpn("none", "receive")
        a, b = network.routers["a"], network.routers["b"]
        (sa_a,), (sa_b,) = a.isakmp_daemon.sas, b.isakmp_daemon.sas

        def beat(sequence, spi=sa_a.cookies, data=None):
            return Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.PACSIM_HEARTBEAT, spi,
                                sequence.to_bytes(4, "big") if data is None else data)
        cases = [(beat(1),), (beat(1),), (beat(0),), (beat(2, data=b"\x00\x02"),), (beat(2, spi=bytes(16)),),
                 (beat(2), beat(3)), (beat(7),)]
        heard = []
        for payloads in cases:
            await network.wait(1)
            replies = await b.isakmp_daemon.receive(await forged_heartbeat(sa_a, a.isakmp_daemon, payloads))
            assert replies == []
            heard.append(sa_b.heartbeat.heard)
        return b, sa_b, heard

    b, sa_b, heard = run(scenario())
    counters = b.isakmp_daemon.counters
    assert counters.get("heartbeat", "rxMsg") == 8
    assert counters.get("heartbeat", "respXchgComplete") == 2          # sequence 1, then 7
    assert counters.get("heartbeat", "rxInvalidSeqno") == 2            # 1 again, then 0
    assert counters.get("heartbeat", "rxNotifyPayInvalid") == 2        # 2-octet data; another SA's cookies
    assert counters.get("heartbeat", "rxExtraPayloads") == 2           # both notifies of the two-payload message
    assert sa_b.heartbeat.received == 7
    assert heard[1] == heard[0] and heard[5] == heard[0] and heard[6] > heard[0]
    assert b.isakmp_daemon.faults == []



def test_a_long_wait_runs_every_heartbeat_on_time():
    """Network.wait polls the routers at their timers: one wait of 200 s
    carries ten heartbeats and the receiver keeps the SA."""
    async def scenario():
        _, network = await heartbeat_vpn("send", "receive")
        await network.wait(200)
        return network
    network = run(scenario())
    b = network.routers["b"]
    assert len(b.isakmp_daemon.sas) == 1 and b.ipsec.sad.bundles("vpn")
    assert b.isakmp_daemon.counters.get("heartbeat", "respXchgComplete") == 200 // HEARTBEAT_INTERVAL


def test_heartbeats_over_the_peers_new_sa_keep_the_peer_alive():
    """a replaces its ISAKMP SA (no Delete: senddeletes is off), so b holds
    the old SA, which hears nothing more, beside the new one: the peer is
    watched as a whole and nothing is deleted."""
    async def scenario():
        vpn, network = await heartbeat_vpn("send", "receive")
        a, b = network.routers["a"], network.routers["b"]
        (old,) = a.isakmp_daemon.sas
        network.originate("a", a._send_datagrams(await a.isakmp_daemon.initiate("i", replaces=old.sa_id)))
        await network.run()
        await network.wait(150)
        await both_ways(network, vpn, 2, first=50)
        return a, b, old
    a, b, old = run(scenario())
    (new,) = a.isakmp_daemon.sas
    assert new.sa_id != old.sa_id
    assert {sa.cookies for sa in b.isakmp_daemon.sas} == {old.cookies, new.cookies}
    assert b.isakmp_daemon.counters.get("heartbeat", "respXchgComplete") >= 150 // HEARTBEAT_INTERVAL
    assert b.isakmp_daemon.counters.get("sad", "deleteGood") == 0
