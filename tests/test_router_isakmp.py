"""Two routers negotiating their IPsec keys with ISAKMP (phase 1 then quick
mode) on the first packet, configured with the manual's commands
(:class:`~pacsim.sim.isakmp_vpn.IsakmpVpn`), in virtual time. Every WAN
IPsec packet is opened by scapy with the keys the receiver's SAD holds,
and those keys are RFC 2409 KEYMAT recomputed here with hmac."""
import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP

from pacsim.firmware.ipsec.transforms import Protocol
from pacsim.firmware.router.isakmp_gate import HELD_PER_POLICY
from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import (both_ways, check_keymat, open_wan, received, record_by_inbound, sad_records,
                                scapy_sa_of, send, vpn_network)
from router_support import counter, pattern, run

ENCALGS = ("des", "3desinner", "aes128", "aes192", "aes256")
HASHALGS = ("md5", "sha")


async def negotiated(vpn, count=3):
    """The network after a's first packet made the bundle, then ``count`` datagrams each way."""
    network = await vpn_network(vpn)
    await prime(network, vpn)
    await both_ways(network, vpn, count)
    return network


async def prime(network, vpn):
    """One packet from a: the negotiation it starts (a initiates phase 1 and quick mode) and its delivery."""
    send(network, vpn, "a", 999)
    await network.run()
    assert received(network, vpn, "b"), "the first packet did not arrive"


def assert_pairs_match(network):
    """Each SA of a is the mirror of one of b: a's outbound SPI is b's inbound one, with the same keys."""
    a, b = network.routers["a"], network.routers["b"]
    assert sad_records(a) and len(sad_records(a)) == len(sad_records(b))
    for rec in sad_records(a):
        mirror = record_by_inbound(b, rec.pair.protocol, rec.pair.outbound_spi)
        assert mirror.pair.outbound_spi == rec.pair.inbound_spi
        assert mirror.pair.inbound_keys == rec.pair.outbound_keys
        assert mirror.pair.outbound_keys == rec.pair.inbound_keys


@pytest.mark.parametrize("hashalg", HASHALGS)
@pytest.mark.parametrize("encalg", ENCALGS)
def test_esp_algorithms_tunnel(encalg, hashalg):
    vpn = IsakmpVpn(specs={1: f"protocol=esp encalg={encalg} hashalg={hashalg}"})
    network = run(negotiated(vpn))
    assert_pairs_match(network)
    for name in ("a", "b"):
        assert check_keymat(network.routers[name]) == 2
        opened, seen = open_wan(network, vpn, name)
        assert seen[50] == 3 + (name == "a") and len(opened) == 3 + (name == "a")


@pytest.mark.parametrize("mode", ("tunnel", "transport"))
@pytest.mark.parametrize("bundle,specs,protocols", [
    ("1", {1: "protocol=ah hashalg=md5"}, {51}),
    ("1", {1: "protocol=ah hashalg=sha"}, {51}),
    ("1 and 2", {1: "protocol=esp encalg=aes128 hashalg=sha", 2: "protocol=ah hashalg=md5"}, {50, 51}),
    ("3 and 1", {1: "protocol=esp encalg=3desinner hashalg=md5", 3: "protocol=comp compalg=lzs"}, {50, 108}),
])
def test_bundles_and_modes(mode, bundle, specs, protocols):
    vpn = IsakmpVpn(specs=specs, bundle=bundle, mode=mode)
    network = run(negotiated(vpn))
    assert_pairs_match(network)
    a, b = network.routers["a"], network.routers["b"]
    assert {rec.pair.protocol.value for rec in sad_records(a)} == protocols
    assert all(rec.pair.mode.value == mode.upper() for rec in sad_records(a) + sad_records(b))
    for name in ("a", "b"):
        assert check_keymat(network.routers[name]) == 2 * len(protocols - {108})
        opened, seen = open_wan(network, vpn, name)
        sent = 3 + (name == "a")
        assert len(opened) == sent
        assert all(seen[p] == (sent if p in protocols else 0) for p in (50, 51))


@pytest.mark.parametrize("group", (1, 2))
def test_pfs_groups(group):
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes256 hashalg=sha"}, pfs_group=group)
    network = run(negotiated(vpn))
    assert_pairs_match(network)
    for name in ("a", "b"):
        router = network.routers[name]
        with pytest.raises(AssertionError, match="KEYMAT"):      # g(qm)^xy is in the KEYMAT: not the PFS-less one
            check_keymat(router)
        opened, _ = open_wan(network, vpn, name)
        assert len(opened) == 3 + (name == "a")


def test_responder_takes_a_later_comma_alternative():
    """a offers AES then DES (comma: two proposals); b knows only DES: it chooses proposal 2."""
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha", 2: "protocol=esp encalg=des hashalg=md5"},
                    bundle="1, 2", responder_specs={2: "protocol=esp encalg=des hashalg=md5"}, responder_bundle="2")
    network = run(negotiated(vpn))
    assert_pairs_match(network)
    rec = sad_records(network.routers["a"])[0]
    assert rec.pair.spec_id == 2
    assert rec.pair.encalg.value == "DES"
    check_keymat(network.routers["a"])


def test_responder_takes_a_later_or_transform():
    """a offers 1 OR 2 in one proposal; b knows only 2."""
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes192 hashalg=md5", 2: "protocol=esp encalg=3desinner hashalg=sha"},
                    bundle="1 or 2", responder_specs={2: "protocol=esp encalg=3desinner hashalg=sha"},
                    responder_bundle="2")
    network = run(negotiated(vpn))
    assert_pairs_match(network)
    assert [rec.pair.spec_id for rec in sad_records(network.routers["a"])] == [2]
    for name in ("a", "b"):
        assert len(open_wan(network, vpn, name)[0]) == 3 + (name == "a")


def test_show_ipsec_sa_lists_matching_spis():
    vpn = IsakmpVpn()
    network = run(negotiated(vpn))
    a, b = network.routers["a"], network.routers["b"]
    show_a, show_b = run(a.execute("show ipsec sa")), run(b.execute("show ipsec sa"))
    rec = sad_records(a)[0]
    line_a = next(line for line in show_a.splitlines() if "ESP" in line)
    line_b = next(line for line in show_b.splitlines() if "ESP" in line)
    assert line_a.split()[-2:] == [str(rec.pair.outbound_spi), str(rec.pair.inbound_spi)]
    assert line_b.split()[-2:] == [str(rec.pair.inbound_spi), str(rec.pair.outbound_spi)]


def test_first_packets_are_held_then_sent():
    """The packets that start the negotiation wait for it (R16): HELD_PER_POLICY
    of them arrive once the bundle is up, the rest are dropped and counted."""
    vpn = IsakmpVpn()
    extra = 3

    async def scenario():
        network = await vpn_network(vpn)
        for n in range(HELD_PER_POLICY + extra):
            send(network, vpn, "a", n)
        await network.run()
        return network
    network = run(scenario())
    got = received(network, vpn, "b")
    assert got == [pattern(120, n) for n in range(HELD_PER_POLICY)]
    show = run(network.routers["a"].execute("show ipsec policy=vpn counter"))
    assert counter(show, "outNoBundleFail") == extra


def test_wrong_psk_is_counted_and_makes_no_bundle():
    vpn = IsakmpVpn(psk_b=b"another-secret-entirely")

    async def scenario():
        network = await vpn_network(vpn)
        send(network, vpn, "a", 0)
        await network.run()
        for _ in range(10):
            await network.wait(30)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert not sad_records(a) and not sad_records(b)
    assert a.isakmp_daemon.faults == [] and b.isakmp_daemon.faults == []
    assert b.isakmp_daemon.counters.get("main", "authFailed") >= 1
    assert a.isakmp_daemon.counters.get("main", "initSendSA") == 1     # RETRYIKEATTEMPTS 0: no new phase 1
    assert not received(network, vpn, "b")
    assert counter(run(a.execute("show ipsec policy=vpn counter")), "outNoBundleFail") == 1   # the held packet


def test_disable_isakmp_keeps_the_bundles_working():
    vpn = IsakmpVpn()

    async def scenario():
        network = await vpn_network(vpn)
        await prime(network, vpn)
        for name in ("a", "b"):
            assert len(network.routers[name].isakmp_daemon.sas) == 1
            out = await network.routers[name].execute("disable isakmp")
            assert "Error" not in out
        await network.wait(0)
        await both_ways(network, vpn, 2, first=10)
        return network
    network = run(scenario())
    for name in ("a", "b"):
        router = network.routers[name]
        assert router.isakmp_daemon is None
        assert len(sad_records(router)) == 1


def test_rekey_by_seconds_without_loss():
    vpn = IsakmpVpn(expiryseconds=300)

    async def scenario():
        network = await vpn_network(vpn)
        await prime(network, vpn)
        first = {rec.pair.inbound_spi for rec in sad_records(network.routers["a"])}
        for step in range(12):
            await network.wait(30)
            await both_ways(network, vpn, 1, first=100 + step)
        return network, first
    network, first = run(scenario())
    a = network.routers["a"]
    now = {rec.pair.inbound_spi for rec in sad_records(a)}
    assert now and not now & first
    for name in ("a", "b"):                       # the old bundle retired, the peer did not rekey a second time
        assert len(network.routers[name].ipsec.sad.bundles("vpn")) == 1
    assert_pairs_match(network)
    check_keymat(a)


def test_the_responders_shorter_lifetime_applies_to_both():
    """b's bundle specification says 1200 s, a offers 28800 s: b answers with
    RESPONDER-LIFETIME and both bundles live 1200 s."""
    vpn = IsakmpVpn(expiryseconds=28800, responder_expiryseconds=1200)
    network = run(negotiated(vpn, count=1))
    for name in ("a", "b"):
        (bundle,) = network.routers[name].ipsec.sad.bundles("vpn")
        assert bundle.limits.hard_seconds == 1200


def test_ipv6_tunnel_negotiates_and_scapy_opens_the_esp():
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha"}, ip_version=6)
    network = run(negotiated(vpn, count=2))
    assert_pairs_match(network)
    for sender, receiver in (("a", "b"), ("b", "a")):
        check_keymat(network.routers[sender])
        opened = []
        for w in network.wan:
            packet = IPv6(w.packet)
            if w.router != sender or packet.nh != 50:
                continue
            rec = record_by_inbound(network.routers[receiver], Protocol.ESP, packet[ESP].spi)
            inner = scapy_sa_of(rec, ESP).decrypt(packet)
            opened.append(inner)
        assert len(opened) == 2 + (sender == "a")
        assert all(p.haslayer(UDP) and p[UDP].dport == 6000 and p.getlayer(IPv6, 2).dst == vpn.host_address(receiver)
                   for p in opened)
    assert next(iter(network.routers["a"].isakmp_daemon.sas)).peer.version == 6
