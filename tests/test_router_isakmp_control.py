"""ISAKMP-keyed routers beyond the first negotiation: NAT traversal (ESP in
UDP 4500 that scapy opens), rekeying by kilobytes, both sides rekeying at
once, peer deletes, and the ISAKMP commands that act on the running
daemon (reset isakmp policy, reset isakmp counters)."""
from dataclasses import replace

import pytest

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP

from pacsim.firmware.ipsec.config_errors import LimitReached
from pacsim.firmware.ipsec.transforms import Protocol
from pacsim.firmware.isakmp.keying import OLD_BUNDLE_GRACE
from pacsim.firmware.isakmp.message import decode_message, encode_message
from pacsim.firmware.isakmp.payloads import NatDiscovery
from pacsim.sim.isakmp_vpn import IsakmpVpn
from pacsim.sim.network import Network, model_router
from isakmp_vpn_support import (both_ways, check_keymat, received, record_by_inbound, sad_records, scapy_sa_of,
                                send, vpn_network)
from router_support import configure_router, run


async def primed(vpn):
    network = await vpn_network(vpn)
    send(network, vpn, "a", 999)
    await network.run()
    assert received(network, vpn, "b")
    return network


def fake_peer_natd(router):
    """Corrupt, at ``router``'s daemon input, the sender's own-address NAT-D of
    the first clear message carrying NAT-D: the peer then looks as if it were
    behind a NAT (what a peer with strongSwan's encap=yes claims)."""
    daemon = router.isakmp_daemon
    original = daemon.receive
    done = []

    async def receive(datagram):
        if not done and datagram.dport == 500 and not datagram.data[19] & 1:
            message = decode_message(datagram.data)
            found = [p for p in message.payloads if isinstance(p, NatDiscovery)]
            if found:
                done.append(True)
                payloads = tuple(replace(p, data=bytes(len(p.data))) if p is found[1] else p
                                 for p in message.payloads)
                datagram = replace(datagram, data=encode_message(message.header, payloads))
        return await original(datagram)
    daemon.receive = receive


@pytest.mark.parametrize("mode", ("tunnel", "transport"))
def test_nat_traversal_gives_esp_in_udp_4500_that_scapy_opens(mode):
    vpn = IsakmpVpn(nat_traversal=True, mode=mode)

    async def scenario():
        network = await vpn_network(vpn)
        fake_peer_natd(network.routers["a"])
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 3)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert next(iter(a.isakmp_daemon.sas)).nat.nat_peer
    for sender, receiver in ((a, b), (b, a)):
        assert all(b.natt_ports == (4500, 4500) for b in sender.ipsec.sad.all_bundles())
        esp_in_udp = [IP(w.packet) for w in network.wan if w.router == sender.name and IP(w.packet).proto == 17
                      and IP(w.packet)[UDP].dport == 4500 and bytes(IP(w.packet)[UDP].payload)[:4] != bytes(4)]
        assert len(esp_in_udp) == 3 + (sender.name == "a")
        assert not [w for w in network.wan if w.router == sender.name and IP(w.packet).proto == 50]
        for packet in esp_in_udp:
            esp = IP(src=packet.src, dst=packet.dst, proto=50) / ESP(bytes(packet[UDP].payload))
            esp = IP(bytes(esp))
            rec = record_by_inbound(receiver, Protocol.ESP, esp[ESP].spi)
            inner = scapy_sa_of(rec, ESP).decrypt(esp)
            assert inner.haslayer(UDP) and inner[UDP].dport == 6000
        assert {rec.pair.mode.value for rec in sad_records(sender)} == {mode.upper()}
        check_keymat(sender)


def test_rekey_by_kilobytes_without_loss():
    vpn = IsakmpVpn(expirykbytes=4)                # soft at 90 %: about 3.6 KiB of payload

    async def scenario():
        network = await primed(vpn)
        first = {rec.pair.inbound_spi for rec in sad_records(network.routers["a"])}
        for step in range(20):
            await both_ways(network, vpn, 1, first=step)
        await network.wait(OLD_BUNDLE_GRACE + 1)
        await both_ways(network, vpn, 2, first=50)
        return network, first
    network, first = run(scenario())
    a = network.routers["a"]
    assert not {rec.pair.inbound_spi for rec in sad_records(a)} & first
    assert len(a.ipsec.sad.bundles("vpn")) == 1
    assert a.isakmp_daemon.counters.get("quick.initiator", "exchangeGood") + \
        a.isakmp_daemon.counters.get("quick.responder", "exchangeGood") >= 2


def test_rekey_collision_leaves_one_pair():
    """Both routers' bundles reach the soft limit at the same moment (each
    starts a quick mode before the other's arrives): both keep the bundle of
    the exchange with the lower Ni, and traffic continues."""
    vpn = IsakmpVpn(expiryseconds=1000)

    async def scenario():
        network = await primed(vpn)
        a, b = network.routers["a"], network.routers["b"]
        for router in (a, b):                      # the same creation time on both: the soft limits coincide
            for bundle in router.ipsec.sad.all_bundles():
                bundle.created_at = 0.0
        await network.wait(900)
        started = [r.isakmp_daemon.counters.get("quick.initiator", "startExchange") for r in (a, b)]
        await network.wait(OLD_BUNDLE_GRACE + 1)
        await both_ways(network, vpn, 3, first=200)
        return network, started
    network, started = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert started == [2, 1]                       # a: first bundle and rekey; b: its rekey
    for router in (a, b):
        assert len(router.ipsec.sad.bundles("vpn")) == 1
    survivor_a = a.isakmp_keying.negotiated[("vpn", a.ipsec.sad.bundles("vpn")[0].bundle_id)]
    survivor_b = b.isakmp_keying.negotiated[("vpn", b.ipsec.sad.bundles("vpn")[0].bundle_id)]
    assert survivor_a.nonces == survivor_b.nonces
    rec = sad_records(a)[0]
    assert record_by_inbound(b, Protocol.ESP, rec.pair.outbound_spi).pair.outbound_spi == rec.pair.inbound_spi


def test_senddeletes_removes_the_peers_old_bundle():
    vpn = IsakmpVpn(expiryseconds=300, isakmp_params="senddeletes=true")

    async def scenario():
        network = await primed(vpn)
        await network.wait(280)                    # past the soft limit: a rekeys
        await network.wait(OLD_BUNDLE_GRACE + 1)   # a retires the old bundle and tells b
        await both_ways(network, vpn, 1, first=300)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert a.isakmp_daemon.counters.get("info", "txDeleteMsg") >= 1
    assert b.isakmp_daemon.counters.get("info", "processDelete") >= 1
    for router in (a, b):
        assert len(router.ipsec.sad.bundles("vpn")) == 1


def test_reset_isakmp_policy_deletes_its_sas_and_counters_reset():
    vpn = IsakmpVpn()

    async def scenario():
        network = await primed(vpn)
        a = network.routers["a"]
        assert len(a.isakmp_daemon.sas) == 1
        assert a.isakmp_daemon.counters.get("general", "doneGood") == 1
        out = await a.execute("reset isakmp policy=i")
        assert "Error" not in out and "no ISAKMP daemon" not in out
        assert len(a.isakmp_daemon.sas) == 0
        out = await a.execute("reset isakmp counters")
        assert "Error" not in out and "not cleared" not in out
        assert a.isakmp_daemon.counters.get("general", "doneGood") == 0
        await both_ways(network, vpn, 2)            # the IPsec bundle still works
        return network
    run(scenario())


def test_phase2xchglimit_makes_a_new_phase1_before_the_next_quick_mode():
    vpn = IsakmpVpn(expiryseconds=300, isakmp_params="phase2xchglimit=1")

    async def scenario():
        network = await primed(vpn)
        first_ike = {sa.sa_id for sa in network.routers["a"].isakmp_daemon.sas}
        await network.wait(280)                    # the rekey needs a quick mode: the IKE SA has had its one
        await network.wait(OLD_BUNDLE_GRACE + 1)
        await both_ways(network, vpn, 2, first=400)
        return network, first_ike
    network, first_ike = run(scenario())
    a = network.routers["a"]
    ikes = list(a.isakmp_daemon.sas)                # b's rekey may have made its own new phase 1 as well
    assert ikes and not {sa.sa_id for sa in ikes} & first_ike
    assert a.isakmp_daemon.counters.get("general", "doneGood") >= 2
    assert len(a.ipsec.sad.bundles("vpn")) == 1


def test_a_bundle_we_remove_is_deleted_at_the_peer_with_senddeletes():
    vpn = IsakmpVpn(isakmp_params="senddeletes=true")

    async def scenario():
        network = await primed(vpn)
        a, b = network.routers["a"], network.routers["b"]
        (bundle,) = a.ipsec.sad.bundles("vpn")
        out = await a.execute(f"destroy ipsec policy=vpn sabundle={bundle.bundle_id}")
        assert "Error" not in out
        await network.wait(0)
        return a, b
    a, b = run(scenario())
    assert a.isakmp_daemon.counters.get("info", "txDeleteMsg") == 1
    assert b.isakmp_daemon.counters.get("info", "processDelete") == 1
    assert not b.ipsec.sad.bundles("vpn") and not a.ipsec.sad.bundles("vpn")
    assert b.isakmp_daemon.counters.get("info", "txDeleteMsg") == 0        # the peer's Delete is not answered


def test_destroy_isakmp_policy_deletes_its_sas():
    vpn = IsakmpVpn()

    async def scenario():
        network = await primed(vpn)
        a = network.routers["a"]
        await a.execute("destroy ipsec policy=vpn")
        out = await a.execute("destroy isakmp policy=i")
        assert "Error" not in out
        return a
    a = run(scenario())
    assert len(a.isakmp_daemon.sas) == 0


def test_a_responder_with_peer_any_policies_takes_the_peer_it_negotiated_with():
    vpn = IsakmpVpn()

    async def scenario():
        network = Network()
        for seed, name in enumerate(("a", "b"), 1):
            router = await model_router(name, network.clock, seed=seed)
            network.add_router(router)
            lines = vpn.router_lines(name)
            if name == "b":
                lines = [line.replace(f"peer={vpn.wan('a')}", "peer=any") for line in lines]
            await configure_router(router, lines)
        network.join("a", "ppp0", "b", "ppp0")
        for name in ("a", "b"):
            network.add_host(vpn.site(name).host, name, "eth0", vpn.host_address(name))
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 2)
        return network
    network = run(scenario())
    (bundle,) = network.routers["b"].ipsec.sad.bundles("vpn")
    assert str(bundle.peer) == vpn.wan("a")


def test_a_bundle_the_sad_refuses_fails_the_exchange_cleanly():
    """b's SAD refuses the bundle (a policy's most bundles, B39): b's quick
    mode fails, counted, and nothing raises. (a installed its side on QM2:
    without the commit bit, RFC 2409 5.5, an initiator cannot know.)"""
    vpn = IsakmpVpn()

    async def scenario():
        network = await vpn_network(vpn)
        b = network.routers["b"]
        b.ipsec.sad.add_sa_bundle = lambda *args, **kwargs: (_ for _ in ()).throw(LimitReached("100 bundles"))
        send(network, vpn, "a", 999)
        await network.run()
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert b.isakmp_daemon.faults == [] and a.isakmp_daemon.faults == []
    assert b.isakmp_daemon.counters.get("quick.responder.errors", "respProc3CBFailed") == 1
    assert not b.ipsec.sad.bundles("vpn")
