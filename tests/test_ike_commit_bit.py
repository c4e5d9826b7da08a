"""The commit bit (``setcommitbit``, R45; firmware/isakmp/commit.py)
between two routers on model cards in virtual time: with it on either
side the quick mode has a fourth message, the responder's CONNECTED
notify, and the initiator installs its bundle only once that came (the
packets waiting for the bundle wait for it too); a lost QM4 is recovered
by the initiator's QM3 retransmission and the responder's resend during
its deletedelay. Without it, quick mode is three messages as before."""
import re

import pytest
from isakmp_vpn_support import both_ways, check_keymat, received, send, vpn_network
from router_support import pattern, run

from pacsim.firmware.isakmp.constants import ExchangeType, HeaderFlag
from pacsim.firmware.isakmp.message import decode_message
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.sim.isakmp_vpn import IsakmpVpn


def quick_messages(network):
    """(sender, commit bit) of every quick-mode datagram on the WAN, in order."""
    found = []
    for w in network.wan:
        ip = parse_ip(w.packet)
        if ip.protocol != 17 or int.from_bytes(ip.payload[2:4], "big") != 500:
            continue
        isakmp = ip.payload[8:]
        if isakmp[18] == ExchangeType.QUICK:
            found.append((w.router, bool(isakmp[19] & HeaderFlag.COMMIT)))
    return found


async def configured(commit_on):
    vpn = IsakmpVpn()
    network = await vpn_network(vpn)
    for name in commit_on:
        assert "Error" not in await network.routers[name].execute("set isakmp policy=i setcommitbit=true")
    return vpn, network


@pytest.mark.parametrize("commit_on", ((), ("a",), ("b",), ("a", "b")))
def test_commit_bit_adds_the_connected_message(commit_on):
    async def scenario():
        vpn, network = await configured(commit_on)
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 2)
        shown = {}
        for name, router in network.routers.items():        # the quick modes are in their deletedelay still
            (quick,) = [e for e in router.isakmp_daemon.exchanges() if e.exchange == ExchangeType.QUICK]
            shown[name] = await router.execute(f"show isakmp exchange={quick.exchange_id}")
        return vpn, network, shown
    vpn, network, shown = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    flags = {name: re.findall(r"(Set Commit bit|Commit bit received) \.+ (TRUE|FALSE)", text)
             for name, text in shown.items()}
    on = "TRUE" if commit_on else "FALSE"
    assert flags["a"] == [("Set Commit bit", on), ("Commit bit received", on)]          # QM3 echoes it
    assert flags["b"] == [("Set Commit bit", on), ("Commit bit received", "TRUE" if "a" in commit_on else "FALSE")]
    messages = quick_messages(network)
    if not commit_on:
        assert messages == [("a", False), ("b", False), ("a", False)]
    else:
        assert messages == [("a", "a" in commit_on), ("b", True), ("a", True), ("b", True)]
    connected = a.isakmp_daemon.counters.get("quick.initiator", "connectedReceived")
    assert connected == a.isakmp_daemon.counters.get("quick.initiator", "connectedReceivedGood") == len(messages) - 3
    for router in (a, b):
        assert len(router.ipsec.sad.bundles("vpn")) == 1
        assert check_keymat(router) == 2
        assert router.isakmp_daemon.faults == []


def test_the_initiator_waits_for_connected_and_recovers_a_lost_one():
    async def scenario():
        vpn, network = await configured(("b",))
        a, b = network.routers["a"], network.routers["b"]
        original, dropped = a.isakmp_daemon.receive, []

        async def receive(datagram):                   # the first QM4 is lost on its way to a
            data = datagram.data
            if not dropped and data[18] == ExchangeType.QUICK and len(quick_messages(network)) == 4:
                dropped.append(datagram)
                return []
            return await original(datagram)
        a.isakmp_daemon.receive = receive
        send(network, vpn, "a", 999)
        await network.wait(1)                          # QM1-QM3 done, QM4 lost: a's msgtimeout is 4 s
        waiting = (len(a.ipsec.sad.bundles("vpn")), len(b.ipsec.sad.bundles("vpn")), bool(received(network, vpn, "b")))
        await network.wait(10)                         # a retransmits QM3, b answers QM4 again from its deletedelay
        held_arrived = pattern(120, 999) in received(network, vpn, "b")
        await both_ways(network, vpn, 2)
        return network, dropped, waiting, held_arrived
    network, dropped, waiting, held_arrived = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert dropped and waiting == (0, 1, False)        # a kept its bundle (and the held packet) back
    assert [sender for sender, _ in quick_messages(network)] == ["a", "b", "a", "b", "a", "b"]
    assert b.isakmp_daemon.counters.get("general", "deleteDelayConSent") == 1
    assert a.isakmp_daemon.counters.get("quick.initiator", "connectedReceivedGood") == 1
    assert len(a.ipsec.sad.bundles("vpn")) == 1
    assert held_arrived                                # the held first packet went once the bundle was up
