"""``retryikeattempts`` (R58-R63, firmware/isakmp/retry.py) between two
routers on model cards in virtual time: a refused phase 1 is attempted
once by default and N more times with N; ``continuous`` re-attempts 16
times at once, then every five minutes, until the connection is up (the
count starts again) or 24 hours have passed; a failed quick mode is
re-attempted over a new IKE SA. ``show isakmp policy=i`` shows the count."""
import re

import pytest
from isakmp_vpn_support import both_ways, send, vpn_network, wait_following_timers
from router_support import run

from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.isakmp.constants import ExchangeType
from pacsim.sim.isakmp_vpn import IsakmpVpn


def phase1_starts(network, sender="a"):
    """How many main modes ``sender`` started (MM1: main mode, responder cookie zero) on the WAN."""
    count = 0
    for w in network.wan:
        ip = parse_ip(w.packet)
        data = ip.payload[8:]
        if w.router == sender and ip.protocol == 17 and len(data) > 28 and data[18] == ExchangeType.MAIN and \
                not any(data[8:16]):
            count += 1
    return count


def current_retries(text):
    return int(re.search(r"Current IKE Retries \.+ (\d+)", text).group(1))


async def refusing_pair(retry, vpn=None):
    """a (retryikeattempts=``retry``) and b, whose ISAKMP policy refuses a's proposal with a notify."""
    vpn = vpn or IsakmpVpn()
    network = await vpn_network(vpn)
    a, b = network.routers["a"], network.routers["b"]
    assert "Error" not in await b.execute("set isakmp policy=i encalg=3desinner sendnotify=true")
    if retry is not None:
        assert "Error" not in await a.execute(f"set isakmp policy=i retryikeattempts={retry}")
    return vpn, network


@pytest.mark.parametrize("retry, attempts", ((None, 1), (0, 1), (2, 3), (16, 17)))
def test_a_refused_phase1_is_attempted_retry_plus_one_times(retry, attempts):
    async def scenario():
        vpn, network = await refusing_pair(retry)
        send(network, vpn, "a", 1)
        await network.run()
        await wait_following_timers(network, 1000)
        return network, await network.routers["a"].execute("show isakmp policy=i")
    network, shown = run(scenario())
    a = network.routers["a"]
    assert phase1_starts(network) == attempts
    assert a.isakmp_daemon.counters.get("general", "donePhase1Failed") == attempts
    assert current_retries(shown) == attempts - 1
    assert "No Phases" in shown and a.isakmp_daemon.faults == []


def test_continuous_retries_until_established_then_counts_from_zero():
    async def scenario():
        vpn, network = await refusing_pair("continuous")
        a, b = network.routers["a"], network.routers["b"]
        send(network, vpn, "a", 1)
        await network.run()
        at_once = phase1_starts(network)
        await wait_following_timers(network, 3600 - 1)
        after_an_hour = phase1_starts(network), current_retries(await a.execute("show isakmp policy=i"))
        pending = await a.execute("show isakmp policy=i")
        assert "Error" not in await b.execute("set isakmp policy=i encalg=des")     # b accepts from now on
        await wait_following_timers(network, 301)
        await both_ways(network, vpn, 2)
        return network, at_once, after_an_hour, pending, await a.execute("show isakmp policy=i")
    network, at_once, after_an_hour, pending, shown = run(scenario())
    assert at_once == 1 + 16                          # the first attempt and 16 immediate re-attempts
    assert after_an_hour == (17 + 11, 27)             # then one every 300 s: at 300, 600 ... 3300
    assert "Phase 1" in pending
    assert phase1_starts(network) == 29               # the re-attempt at 3600 s is established
    assert current_retries(shown) == 0 and "No Phases" in shown
    assert len(network.routers["a"].ipsec.sad.bundles("vpn")) == 1


def test_continuous_gives_up_after_24_hours():
    async def scenario():
        vpn, network = await refusing_pair("continuous")
        send(network, vpn, "a", 1)
        await network.run()
        await wait_following_timers(network, 25 * 3600)
        day = phase1_starts(network)
        await wait_following_timers(network, 3600)
        return day, phase1_starts(network)
    day, later = run(scenario())
    assert day == later == 1 + 16 + 24 * 3600 // 300   # the last at 24 h: later failures are not retried


def test_a_failed_quick_mode_is_reattempted_over_a_new_ike_sa():
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha"},
                    responder_specs={1: "protocol=esp encalg=des hashalg=md5"}, isakmp_params="sendnotify=true")

    async def scenario():
        network = await vpn_network(vpn)
        a = network.routers["a"]
        assert "Error" not in await a.execute("set isakmp policy=i retryikeattempts=1")
        send(network, vpn, "a", 1)
        await network.run()
        await wait_following_timers(network, 1000)
        return network
    network = run(scenario())
    a = network.routers["a"]
    counters = a.isakmp_daemon.counters
    assert counters.get("quick.initiator", "startExchange") == 2
    assert counters.get("general", "doneGood") == 2 == phase1_starts(network)     # the retry made a new IKE SA
    assert not a.ipsec.sad.bundles("vpn")


@pytest.mark.parametrize("retry", (0, 1))
def test_the_peers_delete_of_the_last_bundle_is_reattempted(retry):
    vpn = IsakmpVpn(isakmp_params="senddeletes=true")

    async def scenario():
        network = await vpn_network(vpn)
        a, b = network.routers["a"], network.routers["b"]
        assert "Error" not in await a.execute(f"set isakmp policy=i retryikeattempts={retry}")
        send(network, vpn, "a", 1)
        await network.run()
        (bundle,) = b.ipsec.sad.bundles("vpn")
        assert "Error" not in await b.execute(f"destroy ipsec policy=vpn sabundle={bundle.bundle_id}")
        await wait_following_timers(network, 5)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert a.isakmp_daemon.counters.get("info", "processDelete") == 1
    assert a.isakmp_daemon.counters.get("quick.initiator", "startExchange") == 1 + retry
    for router in (a, b):
        assert len(router.ipsec.sad.bundles("vpn")) == retry
