"""``pacsim router`` (interactive console, one-router and network scripts,
``--pcap``), the network script language, the IP commands of the router
console, and ``pacsim bench ipsec --json`` on the model bus."""
import asyncio
import ipaddress
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from router_support import keyed_script_run, run
from pacsim.firmware.router.stack import udp_packet
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import LINKTYPE_RAW, MAX_WAIT_SECONDS, Network, VirtualClock, model_router
from pacsim.sim.network_script import ScriptError, is_network_script, run_network_script
from pacsim.sim.router_session import interactive, model_factory, one_router_script, run_script

ROOT = Path(__file__).resolve().parent.parent


def pacsim(*args, timeout=300):
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"pacsim {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_example_network_script_with_pcap(tmp_path):
    pcap = tmp_path / "wan.pcap"
    out = pacsim("router", "--script", "docs/two-routers.txt", "--pcap", str(pcap))
    assert "pc1 -> pc2 UDP 100 bytes: delivered" in out
    assert "pc2 -> pc1 ICMP 56 bytes: reply received" in out
    assert out.count("pc1 -> pc2 UDP 1400 bytes #") == 3 and "#3: delivered" in out
    assert "pc1 -> 198.51.100.7 UDP 20 bytes: NOT delivered; dropped at a ppp0 out: outNoPolicyFound" in out
    assert "a> show ipsec sa" in out and "Valid     AH" in out
    assert "Error:" not in out
    data = pcap.read_bytes()
    assert int.from_bytes(data[20:24], "little") == LINKTYPE_RAW and len(data) > 24 + 6 * 16


def test_one_router_script(tmp_path):
    script = tmp_path / "router.txt"
    script.write_text("# a router on its own\nadd ip int=eth0 ip=10.0.0.1\ncreate enco key=1 type=des value=0x0102030405060708\n"
                      "show ip interface\nshow enco key\nshow nonsense\n")
    out = pacsim("router", "--script", str(script), "--name", "r1")
    assert "r1> add ip int=eth0 ip=10.0.0.1\nInfo: Operation successful." in out
    assert "eth0       10.0.0.1         255.255.255.0" in out
    assert 'Error: Unknown command "nonsense"' in out or "Error:" in out.split("r1> show nonsense")[1]
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", "router", "--script", str(script), "--strict"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1


def test_interactive_console_with_help_and_history(tmp_path):
    lines = iter(["add ip int=ppp0 ip=192.0.2.1 mask=255.255.255.252", "sh ip ?", "show ip route", "quit"])
    printed = []
    assert interactive("gw", input_fn=lambda prompt: (printed.append(prompt), next(lines))[1],
                       out=printed.append, history=tmp_path / "history") == 0
    text = "\n".join(printed)
    assert "Manager gw> " in printed and "Options after SH IP:" in text and "  ROUte" in text
    assert "192.0.2.0        255.255.255.252" in text
    assert (tmp_path / "history").exists()


def test_interactive_refuses_rtl_without_a_script():
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", "router", "--bus", "rtl"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "--script" in result.stderr


def test_script_language():
    assert is_network_script("a: show ipsec\n") and is_network_script("# x\nsend pc1 pc2 udp 1\n")
    assert not is_network_script("# comment\nshow ipsec\ncreate enco key=1 type=general random\n")
    assert one_router_script("show ip\n# c\n", "x") == "router x\nx: show ip\n# c\n"

    async def body():
        network = Network(VirtualClock())
        make = model_factory()
        seeds = iter(range(1, 10))

        async def factory(name):
            return await make(name, network.clock, next(seeds))
        for bad, message in (("wan a ppp0", "expected wan A IFACE B IFACE"),
                             ("send pc1", "expected send SRC DST"),
                             ("frobnicate", "unknown statement"),
                             ("host h a eth0 10.0.0.5", "no IP interface eth0"),
                             ("send nobody 1.2.3.4 udp 3", "neither a host nor a router")):
            with pytest.raises(ScriptError, match=message):
                await run_network_script(f"router a\n{bad}\n", factory, network)
        result = await run_network_script("a: add ip int=eth0 ip=10.0.0.1\nhost h a eth0 10.0.0.5\n"
                                          "send a h icmp 8\nsend h 10.0.0.1 udp 3 count=2\nwait 1.5\n",
                                          factory, network)
        assert result.sent == 3 and result.arrived == 3 and result.errors == 0
        assert "a -> h ICMP 8 bytes: reply received" in result.text and "# 1.500 s" in result.text
        assert len(network.routers["a"].delivered) == 3                  # the reply and the two datagrams
    run(body())


def test_vpn_scripts_run_both_ways():
    async def body():
        for bundle in ("esp", "esp+ipcomp"):
            text = ManualVpn(bundle=bundle, mode="transport").network_script(
                ("send a 202.78.65.4 udp 300", "send b 202.45.12.8 icmp 20"))
            result = await run_script(text, model_factory())
            assert (result.sent, result.arrived, result.errors) == (2, 2, 0), result.text
    run(body())


def test_ipv6_vpn_scripts():
    """IPv6 hosts and routers in a network script: delivered, answered, and a
    datagram too big for the tunnel reported where it was dropped."""
    async def body():
        for bundle, mode in (("esp+ah", "tunnel"), ("esp", "transport")):
            vpn = ManualVpn(bundle=bundle, mode=mode, ip_version=6)
            b_wan = vpn.wan("b")
            sends = (f"send a {b_wan} udp 300", f"send a {b_wan} icmp 20") if mode == "transport" else \
                ("send pc1 pc2 udp 100", "send pc2 pc1 icmp 56", "send pc1 pc2 udp 1400")
            result = await run_script(vpn.network_script(sends), model_factory())
            assert result.errors == 0, result.text
            if mode == "transport":
                assert (result.sent, result.arrived) == (2, 2), result.text
            else:
                assert (result.sent, result.arrived) == (3, 2), result.text
                assert "pc1 -> pc2 UDP 1400 bytes: NOT delivered; dropped at a ppp0 out: inTooBigErrors" \
                    in result.text
    run(body())


def test_ip_commands_and_errors():
    async def body():
        r = await model_router("r", VirtualClock())
        assert "Info" in await r.execute("add ip int=vlan2 ip=172.16.1.1 mask=255.255.0.0")
        for line, message in (("add ip int=vlan2 ip=10.0.0.1", "already has IP address"),
                              ("add ip int=eth0 ip=172.16.9.1", "overlaps"),
                              ("add ip int=eth1 ip=10.0.0.0 mask=255.255.255.0", "network or broadcast"),
                              ("add ip route=10.9.0.0 mask=255.255.0.0 int=ppp9", "has no IP address"),
                              ("add ip route=10.9.0.1 mask=255.255.0.0 int=vlan2", "the network's own"),
                              ("delete ip route=10.9.0.0 mask=255.255.0.0", "no route"),
                              ("create ipsec policy=p int=ppp0 action=permit", "interface ppp0 does not exist")):
            out = await r.run(line)
            assert out.startswith("Error:") and message in out, (line, out)
        await r.execute("add ip route=10.9.0.0 mask=255.255.0.0 int=vlan2 next=172.16.1.254")
        routes = await r.execute("show ip route")
        assert "10.9.0.0         255.255.0.0      172.16.1.254     vlan2      static" in routes
        assert (await r.run("delete ip int=vlan2")).startswith("Error: interface vlan2 is used by the route")
        assert "IP Counters" in await r.execute("show ip")
    run(body())


def test_bench_ipsec_json():
    out = pacsim("bench", "ipsec", "--json", "--packets", "20")
    row = json.loads(out.strip().splitlines()[-1])
    assert {"bench", "bus", "packets", "packets_per_s", "mbit_s", "scapy_packets_per_s", "ratio_vs_scapy"} <= set(row)
    assert (row["bench"], row["bus"], row["packets"], row["packet_bytes"]) == ("ipsec", "model", 20, 1400)
    assert row["packets_per_s"] > 0 and row["scapy_packets_per_s"] > 0
    assert row["ratio_vs_scapy"] == pytest.approx(row["packets_per_s"] / row["scapy_packets_per_s"], rel=0.01)
    assert row["mbit_s"] == pytest.approx(row["packets_per_s"] * 1400 * 8 / 1e6, rel=0.01)


def test_network_clock_and_latency():
    async def body():
        network = Network(VirtualClock(100.0), wan_latency=0.25)
        for name, wan in (("a", "192.0.2.1"), ("b", "192.0.2.2")):
            r = await model_router(name, network.clock)
            network.add_router(r)
            await r.execute(f"add ip int=ppp0 ip={wan} mask=255.255.255.252")
        network.join("a", "ppp0", "b", "ppp0")
        network.originate("a", network.routers["a"].send_echo("192.0.2.2"))
        await network.run()
        assert [round(w.time - 100.0, 3) for w in network.wan] == [0.0, 0.25]      # request, then the reply
        assert network.clock.now == pytest.approx(100.5)
        with pytest.raises(ValueError, match="already linked"):
            network.join("a", "ppp0", "b", "ppp0")
    asyncio.run(body())


def pacsim_exit(*args, timeout=300):
    """``(returncode, stdout, stderr)`` of ``pacsim ARGS``."""
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    return result.returncode, result.stdout, result.stderr


def test_one_router_script_under_the_default_name_and_strict(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("# a router on its own\nadd ip int=eth0 ip=10.0.0.1\nshow ip interface\n")
    code, out, err = pacsim_exit("router", "--script", str(good), "--strict")
    assert (code, err) == (0, ""), out
    assert "router> add ip int=eth0 ip=10.0.0.1\nInfo: Operation successful." in out
    assert "eth0       10.0.0.1         255.255.255.0" in out
    bad = tmp_path / "bad.txt"
    bad.write_text("add ip int=eth0 ip=10.0.0.1\n\nshow nonsense\nshow ip interface\n")
    assert pacsim_exit("router", "--script", str(bad))[0] == 0               # failures matter with --strict only
    code, out, err = pacsim_exit("router", "--script", str(bad), "--strict")
    assert code == 1 and "eth0       10.0.0.1" in out                         # the rest of the script ran
    assert "1 console command(s) failed (--strict):\nline 3: router: show nonsense" in err
    code, _, err = pacsim_exit("router", "--script", str(good), "--name", "two words")
    assert code != 0 and "router name 'two words': expected a letter" in err


@pytest.mark.parametrize("statement, message", [
    ("send h 10.0.0.1 udp 3 port=70000", "port=P '70000'; expected a whole number from 1 to 65535"),
    ("send h 10.0.0.1 udp 3 port=-1", "port=P '-1'; expected a whole number from 1 to 65535"),
    ("send h 10.0.0.1 udp 3 port=x", "port=P 'x'; expected a whole number"),
    ("send h 10.0.0.1 udp 3 count=0", "count=N '0'; expected a whole number from 1 to 10000"),
    ("send h 10.0.0.1 udp 3 count=2 count=3", "send option count= given twice"),
    ("send h 10.0.0.1 udp 3 colour=red", "unknown send option 'colour=red'"),
    ("send h 10.0.0.1 icmp 3 port=80", "port=P is for udp"),
    ("send h 10.0.0.1 udp 65001", "SIZE '65001'; expected a whole number from 0 to 65000"),
    ("send h 10.0.0.1 udp big", "SIZE 'big'; expected a whole number"),
    ("send h 10.0.0.1 tcp 3", "protocol 'tcp'; expected udp or icmp"),
    ("wait inf", "SECONDS 'inf'; expected a number more than 0"),
    ("wait nan", "SECONDS 'nan'"),
    ("wait -5", "SECONDS '-5'"),
    ("wait 0", "SECONDS '0'"),
    ("wait 1e9", "SECONDS '1e9'"),
    ("wait 31622401", "at most 31622400"),
    ("router 9lives", "router name '9lives': expected a letter"),
    ("host h.2 a eth0 10.0.0.6", "host name 'h.2'"),
    ("host h2 a eth0 10.0.0.256", "10.0.0.256"),
    ("wan a eth1 a eth1", "not a eth1 to itself"),
    ('send h "10.0.0.1 udp 3', "No closing quotation"),
])
def test_bad_statements_are_refused_and_the_rest_runs(statement, message):
    """Each bad value gets an error naming the line and statement, is
    counted, and the statements after it and the network still work."""
    async def body():
        network = Network(VirtualClock())
        make = model_factory()

        async def factory(name):
            return await make(name, network.clock, 1)
        script = ("a: add ip int=eth0 ip=10.0.0.1\na: add ip int=eth1 ip=10.0.1.1\nhost h a eth0 10.0.0.5\n"
                  f"{statement}\nsend h 10.0.0.1 udp 3\nwait 1.5\n")
        with pytest.raises(ScriptError, match=f"^line 4: {re.escape(statement)}: .*{re.escape(message)}") as caught:
            await run_network_script(script, factory, network)
        result = caught.value.result
        assert len(result.refused) == 1 and (result.sent, result.arrived, result.errors) == (1, 1, 0)
        assert f"# refused: line 4: {statement}: " in result.text and result.text.endswith("# 1.500 s")
        again = await run_network_script("wait 2\nsend h 10.0.0.1 icmp 8\n", factory, network)
        assert (again.sent, again.arrived) == (1, 1) and again.text.startswith("# 3.500 s\n")
    run(body())


def test_every_refused_statement_is_listed():
    async def body():
        network = Network(VirtualClock())
        make = model_factory()

        async def factory(name):
            return await make(name, network.clock, 1)
        with pytest.raises(ScriptError) as caught:
            await run_network_script("router a\nwait never\na: show ip\nsend a b udp\n", factory, network)
        assert str(caught.value) == ("2 statements refused:\nline 2: wait never: SECONDS 'never'; expected a number "
                                     "more than 0 and at most 31622400 (366 days)\n"
                                     "line 4: send a b udp: expected send SRC DST udp|icmp SIZE [count=N] [port=P]")
        assert caught.value.result.refused == str(caught.value).splitlines()[1:]
        assert "a> show ip" in caught.value.result.text
    run(body())


def test_network_wait_refuses_what_the_clock_cannot_take():
    async def body():
        network = Network(VirtualClock(10.0))
        for seconds in (math.inf, -math.inf, math.nan, -1, MAX_WAIT_SECONDS + 1):
            with pytest.raises(ValueError, match="expected 0 to 31622400"):
                await network.wait(seconds)
        assert network.clock.now == 10.0
        await network.wait(MAX_WAIT_SECONDS)
        assert network.clock.now == 10.0 + MAX_WAIT_SECONDS
    run(body())


def test_host_skips_and_counts_a_datagram_it_cannot_parse():
    async def body():
        network = Network(VirtualClock())
        r = network.add_router(await model_router("a", network.clock))
        await r.execute("add ip int=eth0 ip=10.0.0.1")
        await r.execute("add ip int=eth1 ip=10.0.1.1")
        host = network.add_host("h", "a", "eth0", "10.0.0.5")
        source, destination = ipaddress.ip_address("10.0.1.9"), ipaddress.ip_address("10.0.0.5")
        good = udp_packet(source, destination, 5000, 6000, b"good", identification=1)
        bad = bytearray(udp_packet(source, destination, 5000, 6000, b"bad", identification=2))
        bad[26] ^= 0xFF                                                       # the UDP checksum
        for packet in (good, bytes(bad), good):
            network.inject("a", "eth1", packet)
        await network.run()
        assert len(host.received) == 3
        assert host.udp_payloads() == [b"good", b"good"] and host.malformed == 1
        assert [x.reason for x in network.lost] == ["malformed: UDP checksum 0x" + bad[26:28].hex() + " is wrong"]
    run(body())


def test_isakmp_network_script_negotiates_and_tshark_reads_it(tmp_path):
    """docs/two-routers-isakmp.txt: the first packet starts main mode and
    quick mode, traffic passes, and tshark (an independent dissector), given
    only the key log the routers wrote, sees both exchanges and opens the ESP
    with good ICVs."""
    from pacsim.firmware.isakmp.key_log import tshark_options
    result, pcap, keys = keyed_script_run("docs/two-routers-isakmp.txt", tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "pc1 -> pc2 UDP 100 bytes: delivered" in out and out.count("UDP 1400 bytes #") == 3
    assert "pc2 -> pc1 ICMP 56 bytes: reply received" in out
    isakmp_sa = out.split("a> show isakmp sa", 1)[1].split("a> show ipsec sa", 1)[0]
    assert "202.78.65.4" in isakmp_sa
    fields = subprocess.run(["tshark", "-r", str(pcap), *tshark_options(keys), "-T", "fields",
                             "-e", "isakmp.exchangetype", "-e", "esp.icv_good", "-e", "udp.dstport"],
                            capture_output=True, text=True, check=True).stdout.split("\n")
    exchanges = {line.split("\t")[0] for line in fields if line.split("\t")[0]}
    assert {"2", "32"} <= exchanges, exchanges          # identity protection (main) and quick mode
    icv = [line.split("\t")[1] for line in fields if line.count("\t") == 2 and line.split("\t")[1]]
    assert len(icv) >= 5 and set(icv) <= {"1", "True"}, icv      # every ESP packet, ICV good
