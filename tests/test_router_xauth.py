"""XAUTH (phase 1.5) and mode config between two pacsim routers in virtual
time: router ``a`` (the remote site) is the XAUTH client with the manual's
``xauthname=remote xauthpass=friend``, router ``b`` (the head office) the
server checking the User Authentication Facility (``add user=remote
password=friend``) and handing out a mode-config address (isakmp-commands.md
section 7.2, R78-R83)."""
import ipaddress
import subprocess

from pacsim.firmware.isakmp.key_log import tshark_options
from pacsim.firmware.isakmp.xauth import XauthDone
from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import both_ways, received, sad_records, send, vpn_network
from router_support import configure_router, counter, keyed_script_run, run

SERVER = ["add user=remote password=friend",
          "set isakmp policy=i xauth=server xauthtype=generic",
          "set isakmp modeconfig pool=192.168.200.1-192.168.200.20 dns=10.0.0.53 subnet=192.168.1.0/24"]


def client(password):
    return [f"set isakmp policy=i xauth=client xauthname=remote xauthpass={password}"]


async def xauth_network(password, sad_at_xauth):
    """The VPN with ``a`` the XAUTH client (``password``) and ``b`` the server;
    ``sad_at_xauth`` gets (router, SA pairs in its SAD) whenever XAUTH ends there."""
    vpn = IsakmpVpn()
    network = await vpn_network(vpn)
    await configure_router(network.routers["a"], client(password))
    await configure_router(network.routers["b"], SERVER)
    for name in ("a", "b"):
        router = network.routers[name]
        router.isakmp_daemon.subscribe(lambda event, router=router: isinstance(event, XauthDone) and
                                       sad_at_xauth.append((router.name, len(sad_records(router)))))
    return vpn, network


def test_xauth_and_mode_config_then_quick_mode():
    """XAUTH passes before any quick mode (R18), the client gets the pool's
    first address, the DNS server and the subnet, and traffic flows."""
    sad_at_xauth = []

    async def scenario():
        vpn, network = await xauth_network("friend", sad_at_xauth)
        await configure_router(network.routers["b"], ["enable isakmp debug=trace"])
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 2)
        shows = {name: await network.routers[name].execute("show isakmp modeconfig") for name in ("a", "b")}
        return vpn, network, shows
    vpn, network, shows = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert sorted(sad_at_xauth) == [("a", 0), ("b", 0)]          # XAUTH ended on both sides before any bundle
    assert sad_records(a) and sad_records(b) and received(network, vpn, "b")
    assert a.isakmp_daemon.faults == [] and b.isakmp_daemon.faults == []
    server, remote = b.isakmp_daemon.counters, a.isakmp_daemon.counters
    for name, value in (("authGood", 1), ("authFailed", 0), ("reqSent", 1), ("repRecv", 1), ("setSent", 1),
                        ("ackRecv", 1), ("reqRecv", 1), ("repSent", 1)):
        assert server.get("transaction", name) == value, name
    for name, value in (("reqRecv", 1), ("repSent", 1), ("setRecv", 1), ("ackSent", 1), ("reqSent", 1),
                        ("repRecv", 1), ("authFailed", 0)):
        assert remote.get("transaction", name) == value, name
    assert remote.get("quick.initiator", "startExchange") == 1 and remote.get("general", "txRetryTxd") == 0
    assert server.get("general", "msgRxPhase2NoSa") == 0           # a sent no QM1 before XAUTH passed
    got = a.isakmp_daemon.phase1_5.received["i"]
    assert got.address == ipaddress.IPv4Address("192.168.200.1")
    assert got.dns == (ipaddress.IPv4Address("10.0.0.53"),)
    assert got.subnets == (ipaddress.IPv4Network("192.168.1.0/24"),)
    assert "address 192.168.200.1 netmask 255.255.255.255 DNS 10.0.0.53 subnets 192.168.1.0/24" in shows["a"]
    assert "192.168.200.1 to 202.45.12.8" in shows["b"] and "user remote: PASSED" in shows["b"]
    assert "ISAKMP TRACE XAUTH over IKE SA 1 with 202.45.12.8: passed: user remote authenticated by the UAF" in \
        b.isakmp_debug.lines


def test_wrong_password_is_counted_shown_and_not_retried():
    """A wrong password: the server refuses it once (FAIL status), deletes the
    IKE SA, counts authFailed and shows it; nothing raises, no phase 1 is
    tried again (R60), no bundle, the held packet is dropped."""
    sad_at_xauth = []

    async def scenario():
        vpn, network = await xauth_network("wrong-password", sad_at_xauth)
        send(network, vpn, "a", 0)
        await network.run()
        for _ in range(10):
            await network.wait(30)
        shows = [await network.routers["b"].execute("show isakmp counters=transaction"),
                 await network.routers["b"].execute("show isakmp modeconfig"),
                 await network.routers["a"].execute("show isakmp modeconfig"),
                 await network.routers["a"].execute("show ipsec policy=vpn counter")]
        return vpn, network, shows
    vpn, network, shows = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert a.isakmp_daemon.faults == [] and b.isakmp_daemon.faults == []
    assert not sad_records(a) and not sad_records(b) and not received(network, vpn, "b")
    assert not list(a.isakmp_daemon.sas) and not list(b.isakmp_daemon.sas)
    server = b.isakmp_daemon.counters
    assert (server.get("transaction", "authFailed"), server.get("transaction", "authGood")) == (1, 0)
    assert server.get("transaction", "reqSent") == 1 and server.get("transaction", "setSent") == 1
    assert a.isakmp_daemon.counters.get("transaction", "authFailed") == 1
    assert a.isakmp_daemon.counters.get("main", "initSendSA") == 1           # no second phase 1
    assert counter(shows[0], "authFailed") == 1
    assert "user remote: FAILED" in shows[1] and "refused by the UAF" in shows[1]
    assert "FAILED" in shows[2] and "Leases\n    (none)" in shows[1]
    assert counter(shows[3], "outNoBundleFail") == 1


def test_a_peer_that_never_answers_xauth_fails_it():
    """The peer has no XAUTH (``xauth=none``) and ignores the server's REQUEST:
    the REQUEST is retransmitted as the policy says, then XAUTH fails, the IKE
    SA is deleted and no bundle is made (quick mode never got through)."""
    async def scenario():
        vpn = IsakmpVpn()
        network = await vpn_network(vpn)
        await configure_router(network.routers["b"], SERVER)
        send(network, vpn, "a", 0)
        await network.run()
        for _ in range(12):
            await network.wait(30)
        return network, await network.routers["b"].execute("show isakmp modeconfig")
    network, shown = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert a.isakmp_daemon.faults == [] and b.isakmp_daemon.faults == []
    assert not sad_records(a) and not sad_records(b) and not list(b.isakmp_daemon.sas)
    server = b.isakmp_daemon.counters
    assert server.get("transaction", "reqSent") == 1 and server.get("transaction", "repRecv") == 0
    assert server.get("general", "txRetryXchgTimedOut") >= 1 and server.get("general", "msgRxPhase2NoSa") >= 1
    assert a.isakmp_daemon.counters.get("transaction", "reqRecv") >= 1      # a refused it: no XAUTH client
    assert "user -: FAILED (the peer did not answer the XAUTH exchange)" in shown


def test_xauth_network_script_runs_and_tshark_reads_the_transactions(tmp_path):
    """docs/two-routers-xauth.txt runs as printed (--strict), ends with the
    displays that show XAUTH passed and the address given out, and tshark (an
    independent dissector), given only the routers' key log, decrypts the six
    transaction messages in order with the credentials, the status and the
    mode-config values."""
    result, pcap, keys = keyed_script_run("docs/two-routers-xauth.txt", tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "pc1 -> pc2 UDP 100 bytes: delivered" in out and out.count("UDP 1400 bytes #") == 3
    assert "policy i from 202.78.65.4: address 192.168.200.1 netmask 255.255.255.255 DNS 10.2.1.53 subnets " \
           "10.2.1.0/24" in out
    assert "192.168.200.1 to 202.45.12.8" in out and "user remote: PASSED (user remote authenticated by the UAF)" in out
    assert counter(out.split("b> show isakmp counters=transaction", 1)[1], "authGood") == 1
    fields = ("isakmp.cfg.type", "isakmp.cfg.attr.xauth.user_name", "isakmp.cfg.attr.xauth.user_password",
              "isakmp.cfg.attr.xauth.status", "isakmp.cfg.attr.internal_ip4_address", "isakmp.cfg.attr.internal_ip4_dns")
    rows = subprocess.run(["tshark", "-r", str(pcap), *tshark_options(keys), "-Y", "isakmp.exchangetype == 6",
                           "-T", "fields", *(x for f in fields for x in ("-e", f))],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert [row.split("\t") for row in rows] == [
        ["1", "", "", "", "", ""], ["2", "remote", "friend", "", "", ""], ["3", "", "", "1", "", ""],
        ["4", "", "", "1", "", ""], ["1", "", "", "", "", ""], ["2", "", "", "", "192.168.200.1", "10.2.1.53"]]
