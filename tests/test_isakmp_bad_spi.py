"""respondbadspi (R75-R77, B78-B81) between two pacsim routers in virtual
time: router ``b`` restarts and loses its SAs while ``a`` keeps its tunnel;
``a``'s next ESP reaches ``b`` with an unknown SPI, ``b`` starts main mode
with INITIAL-CONTACT, ``a`` deletes every SA it had for ``b`` (its old
ISAKMP SA and IPsec bundle) and a fresh tunnel carries traffic again. The
conditions of R76 that refuse a request are each counted."""
import ipaddress

import pytest

from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.transforms import Protocol
from pacsim.firmware.isakmp.ike_sa import IkeSaDeleted
from pacsim.firmware.isakmp.keying import OLD_BUNDLE_GRACE
from pacsim.firmware.isakmp.rules import Role
from pacsim.sim.isakmp_vpn import IsakmpVpn
from pacsim.sim.network import model_router
from isakmp_vpn_support import both_ways, send, vpn_network
from router_support import configure_router, run

BAD_SPI_LINES = ("set ipsec policy=vpn respondbadspi=true",)


async def restart(network, vpn, name, extra_lines, seed):
    """Replace router ``name`` by a fresh one with the same configuration (and ``extra_lines``): no SAs."""
    router = await model_router(name, network.clock, seed=seed)
    await configure_router(router, [*vpn.router_lines(name), *extra_lines])
    network.routers[name] = router
    return router


def test_a_restarted_router_answers_an_unknown_spi_with_initial_contact_and_traffic_resumes():
    vpn = IsakmpVpn(isakmp_params="sendnotify=true")

    async def scenario():
        network = await vpn_network(vpn)
        for router in network.routers.values():
            await configure_router(router, BAD_SPI_LINES)
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 2)
        a = network.routers["a"]
        (old_ike,) = a.isakmp_daemon.sas
        (old_bundle,) = a.ipsec.sad.bundles("vpn")
        old_spi = old_bundle.sas[0].pair.outbound_spi
        b = await restart(network, vpn, "b", BAD_SPI_LINES, seed=7)
        for n in range(3):                            # into the void: b has no SA for them
            send(network, vpn, "a", 500 + n)
        await network.run()
        await network.wait(1)
        await both_ways(network, vpn, 3, first=10)    # a fresh tunnel both ways
        await network.wait(OLD_BUNDLE_GRACE + 1)      # both sides may have negotiated at once: one bundle stays
        await both_ways(network, vpn, 2, first=20)
        return a, b, old_ike, old_bundle, old_spi

    a, b, old_ike, old_bundle, old_spi = run(scenario())
    counters = b.isakmp_daemon.counters
    requests = counters.get("general", "badSpiRequests")
    assert requests >= 1
    assert counters.get("general", "badSpiFromKnownPeer") == requests - 1     # one exchange, not one per packet
    assert b.datapath.drops[DropReason.UNKNOWN_SPI] >= 1     # the data plane dropped and counted them
    (new_b,) = b.isakmp_daemon.sas
    assert new_b.role is Role.INITIATOR                                        # b started the new phase 1
    deleted = [e for e in a.isakmp_daemon.events if isinstance(e, IkeSaDeleted)]
    assert [(e.sa.sa_id, e.reason) for e in deleted] == [(old_ike.sa_id, "initial contact")]
    (new_a,) = a.isakmp_daemon.sas
    assert new_a.sa_id != old_ike.sa_id and new_a.cookies == new_b.cookies
    (bundle,) = a.ipsec.sad.bundles("vpn")
    assert bundle.bundle_id != old_bundle.bundle_id and bundle.sas[0].pair.outbound_spi != old_spi
    (bundle_b,) = b.ipsec.sad.bundles("vpn")
    esp = bundle.sas[0].pair
    assert esp.protocol is Protocol.ESP and esp.outbound_spi == bundle_b.sas[0].pair.inbound_spi
    assert a.isakmp_daemon.faults == b.isakmp_daemon.faults == []


@pytest.mark.parametrize("isakmp, ipsec, counted", [
    ("sendnotify=true", "respondbadspi=true", "initiated"),
    ("", "respondbadspi=true", "badSpiSendNotifyUnset"),
    ("sendnotify=true mode=aggressive", "respondbadspi=true", "badSpiInAggrMode"),
    ("sendnotify=true", "", None),
])
def test_bad_spi_request_conditions_are_counted(isakmp, ipsec, counted):
    vpn = IsakmpVpn(isakmp_params=isakmp)

    async def scenario():
        network = await vpn_network(vpn, connect=False)
        b = network.routers["b"]
        if ipsec:
            await configure_router(b, [f"set ipsec policy=vpn {ipsec}"])
        peer = ipaddress.ip_address(vpn.wan("a"))
        for _ in range(2):
            b.isakmp_bad_spi.unknown_spi(peer, ipaddress.ip_address(vpn.wan("b")), Protocol.ESP, 0x1234)
            sent = await b.isakmp_bad_spi.pump()
        stranger = ipaddress.ip_address("192.0.2.99")
        b.isakmp_bad_spi.unknown_spi(stranger, ipaddress.ip_address(vpn.wan("b")), Protocol.ESP, 0x1234)
        await b.isakmp_bad_spi.pump()
        return b, sent
    b, sent = run(scenario())
    counters = b.isakmp_daemon.counters
    names = ("badSpiRequests", "badSpiFromKnownPeer", "badSpiInAggrMode", "badSpiSendNotifyUnset")
    got = {name: counters.get("general", name) for name in names}
    if counted is None:                                    # respondbadspi off: IPsec makes no request
        assert got == dict.fromkeys(names, 0)
    elif counted == "initiated":                           # the first starts main mode, the second finds it
        assert got == {"badSpiRequests": 2, "badSpiFromKnownPeer": 1, "badSpiInAggrMode": 0,
                       "badSpiSendNotifyUnset": 0}
        assert counters.get("main", "initSendSA") == 1 and len(b.isakmp_daemon.sas) == 1
    else:
        assert got == {**dict.fromkeys(names, 0), "badSpiRequests": 2, counted: 2}
        assert not b.isakmp_daemon.sas and sent == []
