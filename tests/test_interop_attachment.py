"""A simulated router reached from a real peer in another network namespace
through :class:`~pacsim.sim.attachment.HostAttachment` and the wall-clock
runtime: the router has a manually keyed ESP tunnel to the peer, the peer
is scapy (``SecurityAssociation``, the independent ESP reference) on plain
sockets in the peer namespace, and pings go both ways between the peer's
host and a simulated host behind the router, in RFC 3948 UDP encapsulation
and as raw ESP. Bad packets from outside are counted and dropped.

Needs root (namespaces, raw sockets): marked ``interop``; CI runs as root."""
import asyncio
import ipaddress
import os
import socket
import time
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation

from pacsim.firmware.isakmp.key_log import KeyLog
from pacsim.firmware.isakmp.transport import Datagram
from pacsim.sim.attachment import NON_ESP_MARKER, HostAttachment, in_namespace
from pacsim.sim.interop.cases import Case
from pacsim.sim.interop.wire_tools import Capture, tshark_check
from pacsim.sim.interop.namespaces import ADDRESSES, LabNamespaces
from pacsim.sim.interop.router_config import ManualTunnel, configured_router, isakmp_lines, manual_router
from pacsim.sim.wall_runtime import AttachedNetwork, WallRuntime

pytestmark = [pytest.mark.slow, pytest.mark.interop]


@pytest.fixture(autouse=True)
def _as_root():
    """These tests need root (network namespaces, raw sockets); CI runs as root. Fail, never skip, elsewhere."""
    assert os.geteuid() == 0, "run the interop tests as root (network namespaces, raw sockets)"

A = ADDRESSES
SCAPY_CIPHER = {"aes128": "AES-CBC", "3desinner": "3DES", "des": "DES"}
SCAPY_AUTH = {"sha": "HMAC-SHA1-96", "md5": "HMAC-MD5-96"}


@pytest.fixture
def lab():
    with LabNamespaces(tag=f"t{os.getpid()}") as namespaces:
        yield namespaces
    assert namespaces.pacsim not in LabNamespaces.existing()


def peer_sas(tunnel: ManualTunnel, encap: bool):
    """The peer's outbound and inbound SAs (scapy)."""
    natt = UDP(sport=4500, dport=4500) if encap else None
    keys = dict(crypt_algo=SCAPY_CIPHER[tunnel.encalg], crypt_key=tunnel.enc_key,
                auth_algo=SCAPY_AUTH[tunnel.hashalg], auth_key=tunnel.auth_key)
    out = SecurityAssociation(ESP, spi=tunnel.router_inbound_spi, tunnel_header=IP(src=A.peer_wan, dst=A.pacsim_wan),
                              nat_t_header=natt, **keys)
    into = SecurityAssociation(ESP, spi=tunnel.router_outbound_spi,
                               tunnel_header=IP(src=A.pacsim_wan, dst=A.peer_wan), nat_t_header=natt, **keys)
    return out, into


class Peer:
    """The scapy peer's sockets in the peer namespace: UDP 4500 (NAT-T) or raw ESP."""

    def __init__(self, netns: str, encap: bool):
        self.encap = encap

        def open_socket():
            if encap:
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.bind((A.peer_wan, 4500))
            else:
                sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
            sock.setblocking(False)
            return sock
        self.sock = in_namespace(netns, open_socket)

    def send(self, packet) -> None:
        if self.encap:
            self.sock.sendto(bytes(packet[UDP].payload), (A.pacsim_wan, 4500))
        else:
            self.sock.sendto(bytes(packet[ESP]), (A.pacsim_wan, 0))

    def receive(self) -> list:
        got = []
        while True:
            try:
                data, (source, port, *_) = self.sock.recvfrom(65535)
            except BlockingIOError:
                return got
            if self.encap:
                got.append(IP(src=source, dst=A.peer_wan) / UDP(sport=port, dport=4500) / ESP(data))
            else:
                got.append(IP(data))


async def wait_for(condition, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.02)
    return True


def key_log(directory, tunnel: ManualTunnel, *, wrong: bool = False):
    """A key log in ``directory`` with both directions' ESP keys (``wrong``: another key for each)."""
    enc, auth = (bytes(len(tunnel.enc_key)), bytes(len(tunnel.auth_key))) if wrong else (tunnel.enc_key,
                                                                                         tunnel.auth_key)
    log = KeyLog(directory)
    for src, dst, spi in ((A.peer_wan, A.pacsim_wan, tunnel.router_inbound_spi),
                          (A.pacsim_wan, A.peer_wan, tunnel.router_outbound_spi)):
        log.esp_sa(src, dst, spi, tunnel.encalg.upper(), enc, tunnel.hashalg.upper(), auth)
    return directory


@pytest.mark.parametrize("encap", [True, False], ids=["udp-encap", "raw-esp"])
@pytest.mark.parametrize("encalg, hashalg", [("aes128", "sha"), ("3desinner", "md5")])
def test_peer_pings_through_the_attachment(lab, tmp_path, encap, encalg, hashalg):
    tunnel = ManualTunnel(encalg=encalg, hashalg=hashalg)
    peer_out, peer_in = peer_sas(tunnel, encap)

    async def body():
        network = AttachedNetwork()
        router = await manual_router(network, tunnel)
        attachment = HostAttachment("eth1", A.pacsim_wan, netns=lab.pacsim).open()
        network.attach(router.name, attachment)
        if encap:                       # manual keys: the router does not wrap ESP in UDP, the attachment does
            attachment.encapsulate_esp(A.peer_wan)
        peer = Peer(lab.peer, encap)
        replies = []
        try:
            with Capture(lab.pacsim, lab.pacsim_if, tmp_path / "wan.pcapng"):
                async with WallRuntime(network) as runtime:
                    # the peer's host pings the simulated host behind the router
                    request = IP(src=A.peer_host, dst=A.pacsim_host) / ICMP(id=7, seq=1) / b"from the peer"
                    peer.send(peer_out.encrypt(request))

                    def answered():
                        replies.extend(peer_in.decrypt(p) for p in peer.receive())
                        return bool(replies)
                    assert await wait_for(answered), attachment.errors
                    inner = replies[0]
                    assert inner[IP].src == A.pacsim_host and inner[IP].dst == A.peer_host
                    assert inner[ICMP].type == 0 and inner[ICMP].id == 7
                    assert bytes(inner[ICMP].payload) == b"from the peer"
                    # the simulated host pings the peer's host: the peer decrypts the request and answers
                    replies.clear()
                    await runtime.call(lambda: _ping(network))
                    assert await wait_for(answered), attachment.errors
                    echo = replies[0]
                    assert echo[IP].src == A.pacsim_host and echo[ICMP].type == 8 and echo[ICMP].id == 0x77
                    reply = ICMP(type=0, id=echo[ICMP].id, seq=echo[ICMP].seq) / bytes(echo[ICMP].payload)
                    answer = IP(src=A.peer_host, dst=A.pacsim_host) / reply
                    peer.send(peer_out.encrypt(answer))
                    host = network.host("pc")
                    assert await wait_for(lambda: host.echo_replies == [(0x77, 3)]), network.lost
                    # garbage from outside is counted and dropped; the tunnel still works afterwards
                    bad = attachment.counters["short"] + attachment.counters["malformed"]
                    if encap:
                        peer.sock.sendto(b"\x01\x02", (A.pacsim_wan, 4500))
                        assert await wait_for(lambda: attachment.counters["short"] == 1)
                    replies.clear()
                    peer.send(peer_out.encrypt(request))
                    assert await wait_for(answered)
                    assert attachment.counters["short"] + attachment.counters["malformed"] == bad + encap
                    assert not runtime.failures
        finally:
            attachment.close()
            peer.sock.close()
        counters = router.kernel.alg
        assert counters["ipsecDecodeGood"] >= 3 and counters["ipsecEncodeGood"] >= 2
        assert attachment.counters["natt_esp_in" if encap else "esp_in"] >= 3
        assert attachment.counters["natt_esp_out" if encap else "raw_out"] >= 2
        # tshark, given the keys only, decrypts every ESP packet on the veth with a good ICV; wrong keys fail
        check = tshark_check(tmp_path / "wan.pcapng", key_log(tmp_path / "keys", tunnel))
        assert check["decrypted"] and check["esp"] == check["esp_good"] >= 5, check
        wrong = tshark_check(tmp_path / "wan.pcapng", key_log(tmp_path / "wrong", tunnel, wrong=True))
        assert not wrong["decrypted"] and wrong["esp_good"] == 0 and wrong["esp"] == check["esp"]
    asyncio.run(body())


async def _ping(network):
    network.ping("pc", A.peer_host, 24, ident=0x77, sequence=3)


def test_attachment_needs_its_namespace():
    attachment = HostAttachment("eth1", A.pacsim_wan, netns="pacsim-no-such-namespace")
    with pytest.raises(OSError, match="pacsim-no-such-namespace"):
        attachment.open()


class EchoDaemon:
    """A stand-in for the router's ISAKMP daemon (the gate's interface):
    answers each datagram with its payload reversed, from the port it came
    to; a timer 0.3 s after the first datagram sends one more datagram."""

    def __init__(self, clock):
        self.clock, self.received, self.received_at, self.due, self.fired = clock, [], [], None, []

    async def receive(self, datagram):
        self.received.append(datagram)
        self.received_at.append(self.clock())
        if self.due is None:
            self.due = self.clock() + 0.3
        return [Datagram(datagram.dst, datagram.src, datagram.dport, datagram.sport, datagram.data[::-1])]

    def next_timer(self):
        return self.due

    async def on_timer(self, now):
        self.fired.append(now)
        self.due = None
        last = self.received[-1]
        return [Datagram(last.dst, last.src, last.dport, last.sport, b"timer")]


def test_isakmp_datagrams_reach_the_routers_daemon(lab):
    """The one seam: UDP 500, and 4500 with the non-ESP marker, reach
    ``Router.receive`` as IP packets and its ISAKMP gate hands them to the
    daemon as they came; its answers leave from the port they name; its
    timer runs when ``Router.next_timer()`` says (the runtime polls then)."""
    async def body():
        network = AttachedNetwork()
        router = await configured_router(network, isakmp_lines(Case("main", "pacsim", "aes128", "sha", 2)))
        router.isakmp_daemon = daemon = EchoDaemon(router.clock)
        attachment = HostAttachment("eth1", A.pacsim_wan, netns=lab.pacsim).open()
        network.attach(router.name, attachment)

        def peer_socket(port):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((A.peer_wan, port))
            sock.setblocking(False)
            return sock
        ike, natt = in_namespace(lab.peer, lambda: peer_socket(500)), in_namespace(lab.peer, lambda: peer_socket(4500))
        got = {500: [], 4500: []}

        def receive():
            for port, sock in ((500, ike), (4500, natt)):
                try:
                    got[port].append(sock.recvfrom(2048))
                except BlockingIOError:
                    pass
            return got[500] and got[4500] and daemon.fired and len(got[500]) + len(got[4500]) == 3
        try:
            async with WallRuntime(network) as runtime:
                ike.sendto(b"main mode SA", (A.pacsim_wan, 500))
                natt.sendto(NON_ESP_MARKER + b"MM5", (A.pacsim_wan, 4500))
                assert await wait_for(receive), (got, attachment.errors)
                assert not runtime.failures
        finally:
            attachment.close()
            ike.close()
            natt.close()
        assert [(d.sport, d.dport, d.data) for d in daemon.received] == [
            (500, 500, b"main mode SA"), (4500, 4500, NON_ESP_MARKER + b"MM5")]
        assert daemon.received[0].src == ipaddress.IPv4Address(A.peer_wan)
        replies = {port: [data for data, _ in got[port]] for port in got}
        assert b"AS edom niam" in replies[500] and b"5MM" + NON_ESP_MARKER in replies[4500]
        assert b"timer" in replies[4500] and daemon.fired[0] - daemon.received_at[0] >= 0.3
        assert attachment.counters["isakmp_in"] == 2 and attachment.counters["udp_out"] == 3
    asyncio.run(body())


def test_bad_router_output_is_counted_not_sent(lab):
    attachment = HostAttachment("eth1", A.pacsim_wan, netns=lab.pacsim).open()
    try:
        v6 = bytes([0x60, 0, 0, 0, 0, 8, 59, 64]) + bytes(32) + bytes(8)        # a well-formed IPv6 packet
        assert not attachment.send(b"\x45\x00")                                  # truncated IPv4 header
        assert not attachment.send(v6)
        assert attachment.counters["unsendable"] == 2 and attachment.counters["sent"] == 0
        assert "IPv6 is not attached" in attachment.errors[-1]
    finally:
        attachment.close()


def test_tshark_check_counts_a_retransmission_once(tmp_path):
    """A retransmitted ISAKMP message (the same datagram again: RFC 2408 retransmits what it sent) is counted as
    a retransmission, not as a message tshark failed to decrypt: tshark takes the copy's IV from the message
    it saw last and cannot read it. Checked on the strongSwan capture of ../shared/interop/samples with a
    quick-mode message sent twice."""
    from scapy.layers.inet import UDP
    from scapy.utils import rdpcap, wrpcap
    samples = Path(__file__).resolve().parents[2] / "shared" / "interop" / "samples"
    capture, keys = samples / "strongswan-ikev1-demo.pcapng", samples / "wireshark-profile-ikt"
    before = tshark_check(capture, keys)
    assert before["decrypted"], before
    packets = list(rdpcap(str(capture)))
    def isakmp(packet) -> bytes:                         # the ISAKMP message of a datagram, or b""
        if UDP not in packet or packet[UDP].dport not in (500, 4500):
            return b""
        data = bytes(packet[UDP].payload)
        if packet[UDP].dport == 4500:
            if data[:4] != bytes(4):                     # ESP in UDP
                return b""
            data = data[4:]                              # the non-ESP marker
        return data if len(data) >= 28 else b""
    encrypted = [i for i, p in enumerate(packets) if len(isakmp(p)) >= 28 and isakmp(p)[19] & 1]
    copy = encrypted[len(encrypted) // 2]
    wrpcap(str(tmp_path / "retransmitted.pcap"), packets[:copy + 1] + [packets[copy]] + packets[copy + 1:])
    after = tshark_check(tmp_path / "retransmitted.pcap", keys)
    assert after["decrypted"] and after["isakmp_retransmitted"] == before["isakmp_retransmitted"] + 1, after
    assert after["isakmp_encrypted"] == after["isakmp_decrypted"] == before["isakmp_encrypted"]
