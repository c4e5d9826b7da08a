"""The manual's scenarios A and B (spec/ipsec-commands.md §6) as the shipped
network scripts docs/scenario-a.txt and docs/scenario-b.txt type them, on
model cards in virtual time: every command accepted, the outcomes the text
states checked on the routers and on the wire (scapy reads the packets)."""
import asyncio
import re
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import AH

from pacsim.firmware.isakmp.constants import IdType
from pacsim.firmware.isakmp.heartbeat import HEARTBEAT_INTERVAL, HEARTBEAT_LOST, HEARTBEATS_MISSED
from pacsim.firmware.isakmp.ike_sa import IkeSaDeleted
from pacsim.firmware.isakmp.transport import NAT_T_PORT
from pacsim.sim.nat_gateway import FIRST_PORT
from pacsim.sim.network import Network, VirtualClock, model_router
from pacsim.sim.network_script import run_network_script

DOCS = Path(__file__).resolve().parent.parent / "docs"


def run_scenario(name: str):
    """Run docs/NAME on a fresh network: (result, network)."""
    return run_scenario_text((DOCS / name).read_text())


def run_scenario_text(text: str):
    """Run the network script ``text`` on a fresh network: (result, network)."""
    async def body():
        clock = VirtualClock()
        network = Network(clock)
        seeds = iter(range(1, 100))
        result = await run_network_script(text, lambda n: model_router(n, clock, seed=next(seeds)), network)
        return result, network
    return asyncio.run(body())


def command(router, line: str) -> str:
    return asyncio.run(router.run(line))


def display(result, prompt: str, occurrence: int = 0) -> str:
    """The output the script printed under its ``occurrence``-th ``prompt``
    line (``"NAME> command"``), up to the next prompt or comment line."""
    lines = result.text.splitlines()
    starts = [i for i, line in enumerate(lines) if line == prompt]
    assert len(starts) > occurrence, (prompt, result.text)
    body = []
    for line in lines[starts[occurrence] + 1:]:
        if line.startswith("#") or any(line.startswith(f"{name}> ") for name in ("head", "remote")):
            break
        body.append(line)
    return "\n".join(body)


def counter(text: str, name: str) -> int:
    """The value of counter ``name`` in a ``show isakmp counters`` display."""
    words = text.split()
    return int(words[words.index(name) + 1])


def ike_sa(router):
    """The router's (first) IKE SA: the live one, else the last one deleted (its snapshot)."""
    live = list(router.isakmp_daemon.sas)
    if live:
        return live[0]
    return [e for e in router.isakmp_daemon.events if isinstance(e, IkeSaDeleted)][-1].sa


def field(text: str, label: str) -> str:
    """The value of ``label ..... value`` in a detailed display."""
    line = next(x for x in text.splitlines() if x.strip().startswith(label))
    return line.rsplit(".", 1)[-1].strip() if "...." in line else line.split()[-1]


def test_scenario_a_as_printed():
    result, network = run_scenario("scenario-a.txt")
    assert result.failures == [] and result.refused == [], result.text
    # A5: pc1's first packet waits for phase 1 and quick mode, then traffic both ways; A6: VPN only
    assert (result.sent, result.arrived) == (6, 5), result.text
    assert ("pc1 -> 202.78.65.4 ICMP 56 bytes: NOT answered; dropped at head ppp0 out: outNoPolicyFound"
            in result.text)
    head, remote = network.routers["head"], network.routers["remote"]
    for router, peer, specs in ((head, "202.78.65.4", ("1", "3")), (remote, "202.45.12.8", ("1", "2"))):
        isakmp = command(router, "show isakmp sa")
        assert f"1 {peer}" in " ".join(isakmp.split()) and " DES " in isakmp and " SHA " in isakmp
        # A1, A3: the bundle is ESP DES without authentication plus AH SHA: the head office's
        # second proposal ("1 and 3"), the remote's only one ("1 and 2")
        esp, ah = command(router, "show ipsec sa=0"), command(router, "show ipsec sa=1")
        assert (field(esp, "Protocol"), field(esp, "Encryption algorithm"), field(esp, "SA Specification Used")) \
            == ("ESP", "DES", specs[0]), esp
        assert (field(ah, "Protocol"), field(ah, "Hash algorithm"), field(ah, "SA Specification Used")) \
            == ("AH", "SHA", specs[1]), ah
        # no XAUTH: the SA detail's XAUTH lines as the manual's figure prints them
        detail = command(router, "show isakmp sa=1")
        assert (field(detail, "Do Xauth"), field(detail, "Xauth Finished"), field(detail, "Status")) == \
            ("FALSE", "TRUE", "FAIL"), detail
        # A8: the IPsec policy names no ISAKMP policy: found by the peer address
        assert field(command(router, "show ipsec policy=office_vpn_ipsec"), "Isakmp Policy Name") == "-"
    # A3 on the wire: outbound ESP is applied first, then AH (AH outside, carrying ESP), both ways
    tunnel = [IP(p.packet) for p in network.wan if IP(p.packet).proto == 51]
    assert {(p.src, p.dst) for p in tunnel} == {("202.45.12.8", "202.78.65.4"), ("202.78.65.4", "202.45.12.8")}
    assert all(p[AH].nh == 50 for p in tunnel)
    # A4: ISAKMP crossed on UDP 500 through the office_vpn_isakmp permit policy
    ike = [IP(p.packet) for p in network.wan if IP(p.packet).haslayer(UDP) and IP(p.packet)[UDP].dport == 500]
    assert len(ike) >= 9 and all(p[UDP].sport == 500 for p in ike)
    # the system's other commands: config files are accepted and said to change nothing
    assert "the simulated router has no file system" in result.text


def test_scenario_a_remote_with_3des_takes_the_first_proposal():
    """A2: the head office's configuration "still works" when the remote gains 3DES: its first
    proposal (ESP 3DES2KEY + AH SHA) is then the one accepted."""
    printed = "remote: create ipsec sas=1 keymanagement=isakmp protocol=esp encalg=des hashalg=null"
    text = (DOCS / "scenario-a.txt").read_text()
    assert printed in text
    result, network = run_scenario_text(text.replace(printed, printed.replace("encalg=des", "encalg=3des2key")))
    assert result.failures == [] and (result.sent, result.arrived) == (6, 5), result.text
    for name, spec in (("head", "2"), ("remote", "1")):
        esp = command(network.routers[name], "show ipsec sa=0")
        assert (field(esp, "Encryption algorithm"), field(esp, "SA Specification Used")) == ("3DES2KEY", spec), esp


def check_natt(network: Network) -> None:
    """What NAT-T through the two gateways shows on the Internet link (the
    gateways' outside interfaces) and in the routers' IKE SAs."""
    internet = [(p.router, IP(p.packet)) for p in network.wan if p.interface == "outside"]
    assert internet and all(ip.proto == 17 for _, ip in internet)        # no bare ESP crosses a NAPT
    on_4500 = [(gw, ip) for gw, ip in internet if NAT_T_PORT in (ip[UDP].sport, ip[UDP].dport)]
    ike = [(gw, ip) for gw, ip in on_4500 if bytes(ip[UDP].payload)[:4] == b"\0\0\0\0"]
    esp = [(gw, ip) for gw, ip in on_4500
           if len(bytes(ip[UDP].payload)) > 8 and bytes(ip[UDP].payload)[:4] != bytes(4)]
    keepalives = [ip for gw, ip in on_4500 if bytes(ip[UDP].payload) == b"\xff"]
    # the float: IKE after the non-ESP marker on 4500; ESP in UDP 4500 both ways
    assert ike and {gw for gw, _ in ike} == {"gw_office", "gw_remote"}
    assert {gw for gw, _ in esp} == {"gw_office", "gw_remote"}
    # the remote's datagrams leave gw_remote from mapped ports, and the head office answers to them
    from_remote = {ip[UDP].sport for gw, ip in on_4500 if gw == "gw_remote"}
    assert from_remote and all(port >= FIRST_PORT for port in from_remote)
    assert {ip[UDP].dport for gw, ip in on_4500 if gw == "gw_office"} <= from_remote
    # NAT-keepalives every 20 s while idle from each side (both are behind a NAT)
    for public in ("198.51.100.2", "203.0.113.1"):
        assert sum(ip.src == public for ip in keepalives) >= 5, public
    for name in ("head", "remote"):
        sa = ike_sa(network.routers[name])
        assert sa.nat.supported and sa.nat.detected and sa.nat.floated, (name, sa.nat)
    # gw_remote: the UDP 500 mapping expired once IKE floated; the 4500 one, made once, lives on
    gateway = network.gateways["gw_remote"]
    assert [(str(m.address), m.port) for m in gateway.mappings.values()] == [("192.168.2.2", NAT_T_PORT)]
    assert (gateway.counters["mappingsCreated"], gateway.counters["mappingsExpired"]) == (2, 1)
    assert gateway.counters["inNoMapping"] == gateway.counters["inFiltered"] == 0


def check_xauth_and_heartbeats(result, network: Network) -> None:
    """Scenario B's XAUTH and heartbeat lines (B-6, B-7) as configured: the
    head office the XAUTH server with user remote, receiving heartbeats; the
    remote the client, sending them. Extended with what the exchanges show
    once XAUTH and heartbeats run."""
    office = network.routers["head"].state.isakmp.policies["to_remote"]
    remote = network.routers["remote"].state.isakmp.policies["to_office"]
    assert (office.xauth, office.xauthtype, office.heartbeatmode) == ("server", "generic", "receive")
    assert (remote.xauth, remote.xauthname, remote.xauthpasswd, remote.heartbeatmode) == \
        ("client", "remote", "friend", "send")
    assert network.routers["head"].console.users.get("remote") is not None
    # B-6: XAUTH passed for user remote (one REQUEST, REPLY, SET, ACK on the head office, the server)
    transaction = display(result, "head> show isakmp counters=transaction")
    assert [counter(transaction, c) for c in ("authGood", "authFailed", "reqSent", "repRecv", "setSent", "ackRecv")] \
        == [1, 0, 1, 1, 1, 1], transaction
    assert "SA 1 peer 198.51.100.2 user remote: PASSED" in display(result, "head> show isakmp modeconfig")
    # B-7: heartbeats sent by the remote and received by the head office, each one, in sequence,
    # one every 20 s from phase 1 (done at 0.3 s) to the displays (at 125 s)
    sent = display(result, "remote> show isakmp counters=heartbeat")
    received = display(result, "head> show isakmp counters=heartbeat")
    beats = counter(sent, "txMsg")
    assert beats == int(125 // HEARTBEAT_INTERVAL) == counter(sent, "initXchgComplete"), sent
    assert (counter(received, "rxMsg"), counter(received, "respXchgComplete"), counter(received, "txMsg")) \
        == (beats, beats, 0), received
    assert counter(sent, "rxMsg") == counter(received, "rxInvalidSeqno") == counter(received, "rxBadHash") == 0
    office_sa, remote_sa = display(result, "head> show isakmp sa=1"), display(result, "remote> show isakmp sa=1")
    assert (field(office_sa, "Receive Heartbeats"), field(office_sa, "Last sequence number rx"),
            field(office_sa, "Send Heartbeats")) == ("YES", str(beats), "NO"), office_sa
    assert (field(remote_sa, "Send Heartbeats"), field(remote_sa, "Next sequence number tx"),
            field(remote_sa, "Receive Heartbeats")) == ("YES", str(beats + 1), "NO"), remote_sa
    for sa in (office_sa, remote_sa):
        assert (field(sa, "State"), field(sa, "Commit bit set"), field(sa, "NAT discovered")) == \
            ("ACTIVE", "TRUE", "BOTH"), sa
        # the SA detail's XAUTH information: authenticated with XAUTH, finished, passed
        assert (field(sa, "Do Xauth"), field(sa, "Xauth Finished"), field(sa, "Status"), field(sa, "Type")) == \
            ("TRUE", "TRUE", "OK", "Generic"), sa


def check_wan_cut(result, network: Network) -> None:
    """B-7, R67: the Internet link cut at 125 s; the head office deletes the
    remote's ISAKMP SA and IPsec SAs after three missed heartbeats (not after
    two); the remote keeps sending one datagram per heartbeat and its SAs."""
    cut_at = float(next(x for x in result.lines if x.endswith(" cut")).split()[1])
    two_missed, three_missed = (display(result, "head> show isakmp sa", n) for n in (1, 2))
    assert "198.51.100.2" in two_missed and "198.51.100.2" not in three_missed, (two_missed, three_missed)
    assert display(result, "head> show ipsec sa", 1).splitlines()[2:] == []
    head, remote = network.routers["head"], network.routers["remote"]
    assert not list(head.isakmp_daemon.sas) and not head.ipsec.sad.sas() and remote.ipsec.sad.sas()
    deleted = [e for e in head.isakmp_daemon.events if isinstance(e, IkeSaDeleted)]
    assert [e.reason for e in deleted] == [HEARTBEAT_LOST]
    assert deleted[0].sa.heartbeat_received == int(125 // HEARTBEAT_INTERVAL)
    # the head office sent its Delete (senddeletes=true) into the cut link; it heard no heartbeat since
    assert counter(command(head, "show isakmp counters=info"), "txDeleteMsg") == 1
    before = display(result, "head> show isakmp counters=heartbeat")
    after = display(result, "head> show isakmp counters=heartbeat", 1)
    assert counter(after, "rxMsg") == counter(before, "rxMsg")
    # the remote: a heartbeat every 20 s through the 80 s, each sent once (not retransmitted)
    beats = int(80 // HEARTBEAT_INTERVAL)
    assert beats > HEARTBEATS_MISSED
    sent = display(result, "remote> show isakmp counters=heartbeat", 1)
    assert counter(sent, "txMsg") == counter(display(result, "remote> show isakmp counters=heartbeat"), "txMsg") + beats
    ike = [p for p in network.wan if p.router == "remote" and p.time > cut_at and IP(p.packet).haslayer(UDP)
           and IP(p.packet)[UDP].dport == NAT_T_PORT and bytes(IP(p.packet)[UDP].payload)[:4] == bytes(4)]
    assert len(ike) == beats
    lost = [x for x in network.lost if x.reason == "link cut"]
    # lost at the cut, both ways (the head office's keepalives and Delete, the remote's heartbeats)
    assert {x.where for x in lost} == {"gw_remote outside", "gw_office outside"} and all(x.time > cut_at for x in lost)
    assert sum(x.where == "gw_remote outside" for x in lost) >= beats
    assert "203.0.113.1" in display(result, "remote> show isakmp sa", 1) and list(remote.isakmp_daemon.sas)
    # localid through the NATs: the remote identified the head office by its name, an FQDN ID
    peer_id = ike_sa(remote).peer_id
    assert (IdType(peer_id.id_type), peer_id.data) == (IdType.ID_FQDN, b"head_office")


def test_scenario_b_through_two_nat_gateways():
    result, network = run_scenario("scenario-b.txt")
    assert result.failures == [] and result.refused == [], result.text
    # pc2's first packet starts the negotiation through both NATs; traffic both ways, also after
    # two idle minutes (the keepalives keep gw_remote's mapping)
    assert (result.sent, result.arrived) == (6, 6), result.text
    check_natt(network)
    check_xauth_and_heartbeats(result, network)
    # setc=true: the remote took the head office's QM4 CONNECTED before installing its bundle
    quick = command(network.routers["remote"], "show isakmp counters=quick")
    assert re.search(r"connectedReceivedGood\s+1\b", quick), quick
    check_wan_cut(result, network)
    # B-4, B-5: one ESP SA pair, DES with HMAC-SHA, tunnel mode in UDP, no AH
    for name in ("head", "remote"):
        esp = display(result, f"{name}> show ipsec sa=0")      # shown before the WAN is cut
        assert (field(esp, "Protocol"), field(esp, "Encryption algorithm"), field(esp, "Hash algorithm"),
                field(esp, "Mode")) == ("ESP", "DES", "SHA", "UDP_ENCAP_TUNNEL"), esp
        # tunnel mode: no NAT-OA (the inner addresses are not translated)
        assert field(esp, "Peer original source IP address") == "-"
        assert "Error" in command(network.routers[name], "show ipsec sa=1")
    # the system names are in the prompts
    assert network.routers["head"].console.prompt(network.routers["head"].site.system_name) == \
        "Manager Head Office> "


def without_gateways(text: str, keep_remote_gateway: bool) -> str:
    """Scenario B's script with the head office's gateway (and, unless
    ``keep_remote_gateway``, the remote's) taken out: a router without one
    has its interconnect address as its Internet address (B-1); the WAN is
    cut at the head office's end."""
    text = text.replace("peer=203.0.113.1", "peer=192.168.1.2").replace("cut gw_office outside", "cut head vlan2")
    links = {"wan head vlan2 gw_office inside": None, "nat gw_office": None}
    if keep_remote_gateway:
        links["wan gw_office outside gw_remote outside"] = "wan head vlan2 gw_remote outside"
    else:
        text = text.replace("peer=198.51.100.2", "peer=192.168.2.2")
        links.update({"wan gw_office outside gw_remote outside": "wan head vlan2 remote vlan2", "nat gw_remote": None,
                      "wan gw_remote inside remote vlan2": None})
    out = []
    for line in text.splitlines():
        start = next((k for k in links if line.startswith(k)), None)
        if start is None:
            out.append(line)
        elif links[start] is not None:
            out.append(links[start])
    assert len(text.splitlines()) - len(out) == sum(v is None for v in links.values())
    return "\n".join(out)


@pytest.mark.parametrize("remote_gateway", [True, False], ids=["nat-at-initiator", "no-nat"])
def test_scenario_b_with_a_nat_at_one_end_or_none(remote_gateway):
    """B-1: the configuration works with a NAT at the initiator's end only, or with none; B-5: ESP
    goes in UDP 4500 only when a NAT is detected."""
    text = without_gateways((DOCS / "scenario-b.txt").read_text(), remote_gateway)
    result, network = run_scenario_text(text)
    assert result.failures == [] and result.refused == [], result.text
    assert (result.sent, result.arrived) == (6, 6), result.text
    head = [IP(p.packet) for p in network.wan if p.router == "head"]
    esp_in_udp = [ip for ip in head if ip.haslayer(UDP) and ip[UDP].sport == NAT_T_PORT
                  and bytes(ip[UDP].payload)[:4] not in (bytes(4), b"\xff")]
    raw_esp = [ip for ip in head if ip.proto == 50]
    sa = ike_sa(network.routers["head"])
    if remote_gateway:
        assert esp_in_udp and not raw_esp and sa.nat.nat_peer and not sa.nat.nat_local
    else:
        assert raw_esp and not esp_in_udp and not sa.nat.detected and not sa.nat.floated


def test_scenario_b_with_the_head_office_taking_a_dynamic_peer():
    """B-10: the head office's "OR" lines typed instead (the IPsec policy's
    peer=dynamic, the ISAKMP policy's peer=any): the remote, whose address the
    head office no longer knows, gets the same outcomes through both NATs:
    NAT-T, XAUTH as user remote, heartbeats, and the SAs deleted after three
    missed heartbeats once the WAN is cut."""
    text = (DOCS / "scenario-b.txt").read_text()
    for printed, alternative in (
            ("peer=198.51.100.2 isa=to_remote", "peer=dynamic isa=to_remote"),
            ("head: create isakmp policy=to_remote peer=198.51.100.2 key=1",
             "head: create isakmp policy=to_remote peer=any key=1")):
        assert text.count(printed) == 1
        text = text.replace(printed, alternative)
    assert "198.51.100.2" not in "\n".join(x for x in text.splitlines() if x.startswith("head:"))
    result, network = run_scenario_text(text)
    assert result.failures == [] and result.refused == [], result.text
    assert (result.sent, result.arrived) == (6, 6), result.text
    head = network.routers["head"]
    assert (field(command(head, "show isakmp policy=to_remote"), "Peer Address"),
            field(command(head, "show ipsec policy=remote_site"), "Peer IP Address Dynamic")) == ("ANY", "TRUE")
    check_natt(network)
    check_xauth_and_heartbeats(result, network)
    check_wan_cut(result, network)
