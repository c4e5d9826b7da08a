"""The router's system name, VLAN, firewall and configuration-file commands
(firmware/router/site_commands.py) and the network script's ``nat``
statement: what they store, what they refuse and why."""
import asyncio
import ipaddress

import pytest

from pacsim.firmware.router.site_commands import FirewallRule
from pacsim.sim.network import Network, VirtualClock, model_router
from pacsim.sim.network_script import ScriptError, run_network_script


async def router():
    r = await model_router("r", VirtualClock())
    for line in ("add ip int=vlan1 ip=10.1.1.1", "add ip int=vlan2 ip=192.168.1.2"):
        assert "Error" not in await r.run(line)
    return r


def test_site_commands_store_what_they_are_given():
    async def body():
        r = await router()
        lines = ('set system name="Head Office"', "create vlan=public vid=2", "add vlan=public port=3",
                 "add vlan=2 port=1", "create fire poli=main", "add fire policy=main int=vlan1 type=private",
                 "add fire policy=main nat=enhanced int=vlan1 gblint=vlan2",
                 "add fire policy=main rule=1 int=vlan2 action=allow ip=192.168.1.2 prot=udp port=500 "
                 "gblip=192.168.1.2 gblpo=500",
                 "add firewall policy=main ru=4 action=nonat int=vlan1 prot=all ip=10.1.1.1-10.1.1.254 "
                 "policy=main ru=4 remoteip=10.2.1.1-10.2.1.254",
                 "create config=ipsec.cfg", "set config=IPSEC.CFG")
        for line in lines:
            assert "Error" not in await r.run(line), line
        site = r.site
        assert site.system_name == "Head Office" and r.console.prompt(site.system_name) == "Manager Head Office> "
        assert site.vlans == {1: "default", 2: "public"} and site.ports == {3: 2, 1: 2}
        policy = site.policies["main"]
        assert policy["interfaces"] == {"vlan1": "private"} and policy["nat"] == [("enhanced", "vlan1", "vlan2")]
        a = ipaddress.IPv4Address
        assert policy["rules"][1] == FirewallRule(1, "vlan2", "allow", (
            ("global_ip", a("192.168.1.2")), ("global_port", 500), ("ip", (a("192.168.1.2"), a("192.168.1.2"))),
            ("port", 500), ("protocol", "udp")))
        assert policy["rules"][4].options == (("ip", (a("10.1.1.1"), a("10.1.1.254"))), ("protocol", "all"),
                                              ("remote_ip", (a("10.2.1.1"), a("10.2.1.254"))))
        assert (site.files, site.boot_file) == ({"ipsec.cfg"}, "ipsec.cfg")
    asyncio.run(body())


@pytest.mark.parametrize("line, message", [
    ("create vlan=other vid=1", "out of range"),
    ("add vlan=7 port=1", "there is no VLAN 7"),
    ("add fire policy=nope int=vlan1 type=public", "there is no firewall policy nope"),
    ("add fire policy=main int=vlan9 type=public", "interface vlan9 has no IP address"),
    ("add fire policy=main int=vlan1 type=public rule=2 action=allow", "not TYPE and RULE"),
    ("add fire policy=main int=vlan1", "not none"),
    ("add fire policy=main int=vlan1 type=public port=5", "takes INTERFACE= only"),
    ("add fire policy=main int=vlan1 nat=enhanced", "needs GBLINTERFACE="),
    ("add fire policy=main int=vlan1 rule=2", "needs ACTION="),
    ("add fire policy=main int=vlan1 rule=1 action=deny", "already has rule 1"),
    ("add fire policy=main int=vlan1 rule=3 action=deny ru=4", "given more than once"),
    ("add fire policy=main int=vlan1 rule=3 action=deny ip=10.0.0.9-10.0.0.1", "ends below where it starts"),
    ("create fire policy=MAIN", "already exists"),
    ("set config=missing.cfg", "there is no configuration file missing.cfg"),
])
def test_site_commands_refuse_bad_input_and_change_nothing(line, message):
    async def body():
        r = await router()
        for setup in ("create fire policy=main", "add fire policy=main int=vlan1 rule=1 action=allow",
                      "create vlan=public vid=2"):
            assert "Error" not in await r.run(setup)
        before = repr(r.site)
        out = await r.run(line)
        assert out.startswith("Error:") and message in out, out
        assert repr(r.site) == before
    asyncio.run(body())


def test_nat_statement_builds_a_gateway_and_refuses_bad_ones():
    async def body():
        clock = VirtualClock()
        network = Network(clock)
        bad = ("nat gw 192.168.1.1", "nat gw 192.168.1.1 203.0.113.1 pinhole=esp/50/192.168.1.2",
               "nat gw 192.168.1.1 203.0.113.1 pinhole=udp/0/192.168.1.2", "nat gw x 203.0.113.1",
               "nat gw 192.168.1.1 203.0.113.1 timeout=0", "nat gw 192.168.1.1 203.0.113.1 size=3",
               "nat 9gw 192.168.1.1 203.0.113.1")
        with pytest.raises(ScriptError) as error:
            await run_network_script("\n".join(bad), lambda n: model_router(n, clock), network)
        assert len(error.value.result.refused) == len(bad) and not network.gateways
        await run_network_script("nat gw 192.168.1.1 203.0.113.1 pinhole=udp/500/192.168.1.2 timeout=30\n"
                                 "router r\nr: add ip int=vlan2 ip=192.168.1.2\nwan r vlan2 gw inside\n",
                                 lambda n: model_router(n, clock), network)
        gw = network.gateways["gw"]
        assert (str(gw.public), str(gw.inside), gw.timeouts[17]) == ("203.0.113.1", "192.168.1.1", 30.0)
        assert gw.pinholes == {(17, 500): (ipaddress.IPv4Address("192.168.1.2"), 500)}
        assert network.links[("r", "vlan2")] == ("gw", "inside")
        with pytest.raises(ValueError, match="already has a node called gw"):
            network.add_host("gw", "r", "vlan2", "192.168.1.9")
    asyncio.run(body())
