"""NAT-T in transport mode through two NAT gateways (R93, RFC 3947 5.2,
RFC 3948 3.1.2): the routers exchange NAT-OA payloads in quick mode, keep
the peer's original addresses with the bundle and correct the TCP/UDP
checksums of what they decapsulate; scapy checks the wire and the
checksums independently."""
import asyncio
import hashlib
import ipaddress
import struct

from isakmp_capture import _cipher, payloads
from scapy.layers.inet import IP, UDP

from pacsim.firmware.ipsec.nat_original import OriginalAddresses
from pacsim.firmware.ipsec.packet import parse_ip, parse_udp
from pacsim.sim.network import Network, VirtualClock, model_router
from pacsim.sim.network_script import run_network_script

OFFICE, REMOTE = ("192.168.1.2", "203.0.113.1"), ("192.168.2.2", "198.51.100.2")   # (inside, public)


def router_lines(name: str, mine, peer, policy: str) -> str:
    lines = (f"add ip int=vlan2 ip={mine[0]}", f"add ip rou=0.0.0.0 mask=0.0.0.0 int=vlan2 next={mine[0][:-1]}1",
             "create enco key=1 type=general value=transport-nat-t",
             "create ipsec sas=1 key=isakmp protocol=esp encalg=des hasha=sha mode=transport",
             'create ipsec bundlespecification=1 key=isakmp string="1"',
             "create ipsec policy=isakmp int=vlan2 action=permit", "set ipsec policy=isakmp lp=500",
             "create ipsec policy=natt_udp int=vlan2 action=permit", "set ipsec policy=natt_udp lp=4500",
             f"create ipsec policy=vpn int=vlan2 action=ipsec key=isakmp bundlespecification=1 peer={peer[1]} "
             f"isa={policy}",
             "enable ipsec", f"create isakmp policy={policy} peer={peer[1]} key=1",
             f"set isakmp policy={policy} natt=on", "enable isakmp")
    return "\n".join(f"{name}: {line}" for line in lines)


SCRIPT = f"""{router_lines("head", OFFICE, REMOTE, "to_remote")}
{router_lines("remote", REMOTE, OFFICE, "to_office")}
nat gw_office 192.168.1.1 {OFFICE[1]} pinhole=udp/500/{OFFICE[0]} pinhole=udp/4500/{OFFICE[0]}
nat gw_remote 192.168.2.1 {REMOTE[1]}
wan head vlan2 gw_office inside
wan gw_office outside gw_remote outside
wan gw_remote inside remote vlan2
send remote {OFFICE[1]} udp 100 port=7000
wait 5
send remote {OFFICE[1]} udp 300 port=7001
send head {REMOTE[1]} udp 200 port=7002
"""
NAT_OA = 21          # RFC 3947 payload type


def quick_mode_nat_oa(network: Network, keylog) -> list:
    """The NAT-OA addresses of every quick-mode message on the Internet
    link, decrypted here from the key log's phase-1 key (RFC 2409 appendix
    B: a quick mode's IV is hash(last phase-1 IV | M-ID), the last phase-1
    IV the last ciphertext block of the last phase-1 message)."""
    cookie_hex, key_hex = (keylog / "ikev1_decryption_table").read_text().split("\n")[-2].split(",")
    found, phase1_iv, chain = [], None, {}
    for p in network.wan:
        ip = IP(p.packet)
        ports = (ip[UDP].sport, ip[UDP].dport) if ip.haslayer(UDP) else ()
        if p.interface != "outside" or not {500, 4500} & set(ports):
            continue
        data = bytes(ip[UDP].payload)
        data = data[4:] if 4500 in ports and data[:4] == bytes(4) else data
        if len(data) < 28 or data[:8].hex() != cookie_hex or not data[19] & 1:
            continue
        first, exchange, msg_id, length = data[16], data[18], data[20:24], struct.unpack_from(">I", data, 24)[0]
        ciphertext = data[28:length]
        if exchange == 2:                                   # main mode: remember the last block
            phase1_iv = ciphertext[-8:]
            continue
        iv = chain.get(msg_id) or hashlib.sha1(phase1_iv + msg_id).digest()[:8]
        decryptor = _cipher(bytes.fromhex(key_hex), iv).decryptor()
        plain = decryptor.update(ciphertext) + decryptor.finalize()
        chain[msg_id] = ciphertext[-8:]
        oa = [str(ipaddress.IPv4Address(body[4:8])) for kind, body, _ in payloads(first, plain) if kind == NAT_OA]
        found.append((ip.src, oa))
    return found


def test_transport_mode_nat_oa_and_checksum_fix_up(tmp_path):
    async def body():
        clock = VirtualClock()
        network = Network(clock)
        seeds = iter(range(1, 9))
        text = SCRIPT.replace("remote: enable isakmp",
                              f"remote: enable isakmp keylog={tmp_path}\nremote: enable isakmp")
        result = await run_network_script(text, lambda n: model_router(n, clock, seed=next(seeds)), network)
        return result, network
    result, network = asyncio.run(body())
    assert result.failures == [], result.text
    head, remote = network.routers["head"], network.routers["remote"]
    a = ipaddress.IPv4Address
    # each side keeps the other's NAT-OA: its own inside address and the public address it sent to
    (office_bundle,) = [b for b in head.ipsec.sad.all_bundles() if b.nat_oa is not None]
    (remote_bundle,) = [b for b in remote.ipsec.sad.all_bundles() if b.nat_oa is not None]
    assert office_bundle.nat_oa == OriginalAddresses(a(REMOTE[0]), a(OFFICE[1]))
    assert remote_bundle.nat_oa == OriginalAddresses(a(OFFICE[0]), a(REMOTE[1]))
    # and shows it (spec/show-outputs.md's show ipsec sa example), with the peer's mapped port
    for router, oa, port in ((head, (REMOTE[0], OFFICE[1]), 20001), (remote, (OFFICE[0], REMOTE[1]), 4500)):
        text = asyncio.run(router.run("show ipsec sa=0"))
        rows = {line.split(" .")[0].split("..")[0].strip(): line.rsplit(" ", 1)[-1]
                for line in text.splitlines() if ".." in line}
        assert rows["Mode"] == "UDP_ENCAP_TRANSPORT", text
        assert (rows["Peer original source IP address"], rows["Peer original destination IP address"]) == oa, text
        assert rows["NAPT remote port number"] == str(port), text
    # on the wire (decrypted here): QM1 from the remote carries NAT-OAi, NAT-OAr as it sees them,
    # QM2 from the head office its view; QM3 none
    assert quick_mode_nat_oa(network, tmp_path) == [(REMOTE[1], [REMOTE[0], OFFICE[1]]),
                                                    (OFFICE[1], [REMOTE[1], OFFICE[0]]), (REMOTE[1], [])]
    # on the Internet: ESP in UDP 4500 (transport mode: the outer header is the translated original)
    internet = [IP(p.packet) for p in network.wan if p.interface == "outside"]
    esp = [ip for ip in internet if ip.haslayer(UDP) and 4500 in (ip[UDP].sport, ip[UDP].dport)
           and len(bytes(ip[UDP].payload)) > 8 and bytes(ip[UDP].payload)[:4] != bytes(4)]
    assert {ip.src for ip in esp} == {OFFICE[1], REMOTE[1]}
    # what each router received: the translated header, with a UDP checksum that verifies for it
    for router, ports, source in ((head, {7000, 7001}, REMOTE[1]), (remote, {7002}, OFFICE[1])):
        datagrams = [parse_ip(p) for p in router.delivered]
        datagrams = [ip for ip in datagrams if ip.protocol == 17 and parse_udp(ip)[1] in ports]
        assert {parse_udp(ip)[1] for ip in datagrams} == ports, router
        for ip in datagrams:
            assert str(ip.src) == source
            seen = IP(ip.packet)
            again = IP(ip.packet)
            del again[UDP].chksum
            assert seen[UDP].chksum == IP(bytes(again))[UDP].chksum != 0
