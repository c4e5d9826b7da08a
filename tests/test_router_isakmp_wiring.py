"""The router's ISAKMP wired to its console and its key log: after two
routers negotiated (virtual time, :class:`~pacsim.sim.isakmp_vpn.IsakmpVpn`),
``show isakmp sa`` lists the running daemon's SA on both; ``enable isakmp
debug`` lines reach the router's ISAKMP debug log; and the key log the
routers write (``enable isakmp keylog=DIR``: the daemon's phase-1 keys,
IsakmpKeying's ESP SAs, both directions) is all tshark needs to decrypt
their ISAKMP and ESP on the WAN (ICVs checked). tshark: Debian ``tshark``."""
import subprocess

from pacsim.firmware.isakmp.key_log import tshark_options
from pacsim.sim.isakmp_vpn import IsakmpVpn
from pacsim.sim.network import PcapWriter
from isakmp_vpn_support import both_ways, send, vpn_network
from required_tools import required_tool
from router_support import run


async def negotiated(vpn, lines=(), pcap=None):
    """Routers a and b with ``lines`` run on both after their configuration, a's first packet negotiated, then
    traffic both ways."""
    network = await vpn_network(vpn)
    network.pcap = pcap
    for router in network.routers.values():
        for line in lines:
            assert not (await router.run(line)).startswith("Error"), line
    send(network, vpn, "a", 999)
    await network.run()
    await both_ways(network, vpn, 2)
    return network


def sa_rows(text):
    """The rows of ``show isakmp sa`` (summary): (SA id, peer address, encryption, hash)."""
    return [tuple(line.split()[:4]) for line in text.splitlines() if line.split() and line.split()[0].isdigit()]


def test_show_isakmp_sa_lists_the_negotiated_sa():
    vpn = IsakmpVpn()
    network = run(negotiated(vpn))
    for name, peer in (("a", "b"), ("b", "a")):
        router = network.routers[name]
        daemon_sas = list(router.isakmp_daemon.sas)
        assert len(daemon_sas) == 1
        rows = sa_rows(run(router.execute("show isakmp sa")))
        assert rows == [(str(daemon_sas[0].sa_id), str(vpn.wan(peer)), "DES", "SHA")]
        detail = run(router.execute(f"show isakmp sa={daemon_sas[0].sa_id}"))
        assert daemon_sas[0].cky_i.hex().upper() in detail.upper().replace(" ", "")


def test_isakmp_debug_lines_reach_the_routers_debug_log():
    network = run(negotiated(IsakmpVpn(), lines=["enable isakmp debug=state"]))
    for router in network.routers.values():
        lines = router.isakmp_debug.lines
        assert lines and all("state" in line.lower() or "SA" in line or "exchange" in line.lower() for line in lines)
    quiet = run(negotiated(IsakmpVpn()))
    assert all(not router.isakmp_debug.lines for router in quiet.routers.values())


def tshark(pcap, options):
    fields = ["-T", "fields", "-E", "separator=|", "-e", "isakmp.flags", "-e", "isakmp.hash", "-e", "esp.spi",
              "-e", "esp.icv_good", "-e", "udp.payload"]
    done = subprocess.run([required_tool("tshark", "tshark"), "-r", str(pcap), *options, *fields],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines()]


def test_the_key_log_lets_tshark_decrypt_two_routers(tmp_path):
    keylog, pcap = tmp_path / "keys", tmp_path / "wan.pcap"
    with PcapWriter(pcap) as writer:
        network = run(negotiated(IsakmpVpn(), lines=[f"enable isakmp keylog={keylog}"], pcap=writer))
    spis = {rec.pair.outbound_spi for r in network.routers.values() for b in r.ipsec.sad.all_bundles() for rec in b.sas}
    assert len(spis) == 2
    rows = tshark(pcap, tshark_options(keylog))
    encrypted = [row for row in rows if row[0] and int(row[0], 0) & 1]
    esp = [row for row in rows if row[2]]
    assert encrypted and all(row[1] for row in encrypted)                  # every protected ISAKMP message opened
    assert len(esp) >= 5 and all(row[3] == "1" for row in esp)             # every ESP packet's ICV good
    assert {int(row[2], 0) for row in esp} == spis                         # both directions, the SAD's SPIs
    blind = tshark(pcap, ["-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE"])
    assert not any(row[1] for row in blind) and not any(row[3] == "1" for row in blind)
