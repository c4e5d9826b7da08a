"""The SA kernel (firmware/ipsec/kernel.py) owns the SA bundles on a
router's card: SPIs it hands out are unique and held until an SA takes
them up, ``query`` is an immutable snapshot of what is on the card,
``del_bundle`` closes every channel of a bundle and frees its SPIs, and a
bundle added and removed within one command never reaches the card. The
router owns its configuration: several consoles share it.

# Ref: ../shared/spec/ipsec-commands.md §5.5-§5.7 (B42, B45-B47); strongSwan kernel_interface
"""
import dataclasses

import pytest

from pacsim.firmware.ipsec.sad import BundleState, SaState
from pacsim.firmware.ipsec.transforms import SPI_RANGE, Protocol
from pacsim.sim.manual_vpn import ManualVpn
from router_support import counter, router_a, run


def test_get_spi_is_unique_held_and_released():
    async def body():
        _, a = await router_a(ManualVpn())
        kernel = a.kernel
        used = {rec.pair.inbound_spi for rec in a.ipsec.sad.sas()}
        spis = [await kernel.get_spi(Protocol.ESP) for _ in range(50)]
        assert len(set(spis)) == 50 and not used & set(spis)
        assert all(SPI_RANGE[0] <= spi <= SPI_RANGE[1] for spi in spis)
        assert {spi for protocol, spi in kernel.query().reserved_spis if protocol is Protocol.ESP} == set(spis)
        for spi in spis:
            kernel.release_spi(Protocol.ESP, spi)
        assert kernel.query().reserved_spis == ()
    run(body())


def test_query_is_a_frozen_snapshot_of_the_card():
    async def body():
        _, a = await router_a(ManualVpn(bundle="esp+ah"))
        snapshot = a.kernel.query()
        (bundle,) = snapshot.bundles
        assert (bundle.policy, bundle.bundle_id, bundle.state, bundle.problem) == ("vpn", 0, BundleState.VALID, "")
        assert [sa.protocol for sa in bundle.sas] == [Protocol.ESP, Protocol.AH]
        assert all(sa.state is SaState.VALID for sa in bundle.sas)
        numbers = sorted(number for sa in bundle.sas for _, _, number in sa.channels)
        assert numbers == sorted(c.number for c in a.device.channels.values())        # ESP 4 + AH 2
        assert len(numbers) == 6
        assert dict(snapshot.counters)["ipsecAttachGood"] == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            bundle.state = BundleState.INVALID
        await a.execute("destroy ipsec policy=vpn")
        assert a.kernel.query().bundles == () and not a.device.channels
        assert snapshot.bundles == (bundle,)                                            # the old view stays
    run(body())


def test_del_bundle_closes_channels_and_frees_spis():
    async def body():
        vpn = ManualVpn()
        network, a = await router_a(vpn)
        (sad_bundle,) = a.ipsec.sad.bundles("vpn")
        await a.kernel.del_bundle(sad_bundle)
        assert not a.device.channels and a.kernel.processor(sad_bundle) is None
        assert a.ipsec.sad.find_inbound(Protocol.ESP, vpn.esp_spis[0]) is None
        assert counter(await a.execute("show ipsec counter=alg"), "ipsecDetached") == 1
        network.send_udp("pc1", "pc2", 8)
        await network.run()
        assert not network.hosts["pc2"].received and not network.wan
    run(body())


async def _vpn_bundle_stored_again():
    """Router ``a`` of a manual VPN whose bundle was taken off the card and
    a new one stored in the SAD (not yet settled); ``(router, new bundle)``."""
    _, a = await router_a(ManualVpn())
    sad = a.ipsec.sad
    sad.del_policy_bundles("vpn")
    await a.kernel.settle()
    return a, sad.add_sa_bundle("vpn", a.ipsec.manual.pairs(a.ipsec.spd.policy("vpn")))


def test_bundle_added_and_removed_in_one_command_never_reaches_the_card():
    async def body():
        a, bundle = await _vpn_bundle_stored_again()
        attached = a.kernel.alg["ipsecAttachGood"]
        a.ipsec.sad.del_sa_bundle("vpn", bundle.bundle_id)                    # ...and removed in one command
        assert await a.kernel.settle() == []
        assert not a.device.channels and a.kernel.query().bundles == ()
        assert a.kernel.alg["ipsecAttachGood"] == attached
    run(body())


def test_add_bundle_awaited_by_a_key_manager_sets_it_up_once():
    async def body():
        a, bundle = await _vpn_bundle_stored_again()
        assert await a.kernel.add_bundle(bundle) == "" and len(a.device.channels) == 4
        assert await a.kernel.add_bundle(bundle) == "" and await a.kernel.settle() == []
        # one ipsecAttachGood for the first bundle's SA, one for this one's
        assert len(a.device.channels) == 4 and a.kernel.alg["ipsecAttachGood"] == 2
        assert a.kernel.processor(bundle) is not None
    run(body())


def test_consoles_of_one_router_share_its_configuration():
    async def body():
        _, a = await router_a(ManualVpn())
        second = a.open_console()
        assert second.ipsec is a.console.ipsec and second.keys is a.console.keys
        assert second.users is a.console.users and second.isakmp is a.console.isakmp
        assert second.session is not a.console.session
        second.execute("create enco key=9 type=general value=0x0102030405060708")
        assert "9" in a.console.execute("show enco key=9")
        second.execute("destroy ipsec policy=vpn")
        assert not a.ipsec.spd.has_policy("vpn")
        await a.execute("show ipsec")                                  # the router settles after its command
        assert not a.device.channels
    run(body())
