# Ref: RFC 3948 sections 2.1-2.3 and 3 (UDP encapsulation of ESP), RFC 3947 section 4 (IKE on port 4500)
"""One router interface attached to the host's network: sockets, not a TUN device.

A real peer (strongSwan, ike-scan, a scapy script) in another network
namespace reaches the simulated router at the interface's address. The
address belongs to a kernel interface of the namespace the attachment
opens its sockets in (the lab puts it on one end of a veth pair); the
attachment owns:

- one UDP socket per port in ``udp_ports`` (ISAKMP 500, NAT-T 4500, and
  e.g. the configurable ISAKMP port or the UDP tunnel's 2746), bound to
  the address;
- a raw ``IPPROTO_ESP`` socket: ESP for the address, IP header included
  (the kernel needs no ESP support for this: with no ESP handler it gives
  the packet to raw sockets only);
- a raw ``IPPROTO_RAW`` socket to send any other IP packet the router
  emits exactly as the router built it (ICMP errors, raw ESP).

Why sockets and not TUN: a TUN device would make the namespace a router in
front of ours (the kernel would own the veth address and have to forward
to the TUN), and a TAP bridged to the veth would need ARP in the router.
With sockets the kernel answers ARP for the address and the router sees
exactly the IP traffic a peer sends it: UDP to its ports and ESP. The
price: the kernel, not the router, answers pings to the address itself.

**Inbound** (:meth:`HostAttachment.read`): a UDP datagram becomes an
IPv4/UDP packet from the peer to the address (:class:`Inbound` kind
``ip``), except ISAKMP: datagrams on the ISAKMP ports, and on the NAT-T
port those with the non-ESP marker (four zero bytes, RFC 3948 2.2), are
kind ``isakmp`` (a :class:`Datagram`, payload as on the wire, marker
included) for the router's ISAKMP daemon. ESP in UDP on the NAT-T port is
decapsulated (RFC 3948 3.2: the IP packet is rebuilt with protocol ESP)
and the peer's port remembered: ESP the router sends to that peer is then
encapsulated again (3.1). NAT-keepalives (one 0xFF byte) are counted and
dropped. Raw ESP packets go to the router as they came.

**Outbound** (:meth:`HostAttachment.send`): a UDP packet goes from the
socket bound to its source port; ESP to a NAT-T peer (learnt, or set with
:meth:`HostAttachment.encapsulate_esp`) goes in UDP from the NAT-T port;
any other packet goes out through the raw socket unchanged.

Bad input (short, malformed, for another address, an unknown source port)
is counted in :attr:`HostAttachment.counters` with the reason in
:attr:`HostAttachment.errors` and dropped; nothing raises into the loop.
"""
import collections
import ctypes
import errno
import ipaddress
import os
import socket
import threading
from dataclasses import dataclass

from ..firmware.ipsec.packet import PROTO_ESP, PROTO_UDP, MalformedPacket, ipv4_header, parse_ip, parse_udp
from ..firmware.ipsec.udp_encap import NATT_KEEPALIVE, NATT_PORT
from ..firmware.router.stack import udp_packet

__all__ = ["HostAttachment", "Datagram", "Inbound", "ISAKMP_PORT", "NON_ESP_MARKER", "in_namespace",
           "AttachmentError"]

ISAKMP_PORT = 500
#: RFC 3948 2.2: IKE on the NAT-T port starts with four zero bytes where ESP has its SPI.
NON_ESP_MARKER = bytes(4)
_CLONE_NEWNET = 0x40000000
_MAX_DATAGRAM = 65535
_ERRORS_KEPT = 100


class AttachmentError(OSError):
    """The attachment could not be opened (no such namespace, a port in use, not root)."""


@dataclass(frozen=True)
class Datagram:
    """A UDP datagram between the router and a peer: ``source`` and
    ``destination`` addresses (IPv4Address), ports, ``payload`` as on the
    wire (an ISAKMP message, on the NAT-T port after its non-ESP marker)."""
    source: ipaddress.IPv4Address
    source_port: int
    destination: ipaddress.IPv4Address
    destination_port: int
    payload: bytes


@dataclass(frozen=True)
class Inbound:
    """What :meth:`HostAttachment.read` got: ``kind`` "ip" (``packet``: an
    IP packet for Router.receive) or "isakmp" (``datagram``)."""
    kind: str
    packet: bytes | None = None
    datagram: Datagram | None = None


def in_namespace(netns: str | None, function):
    """``function()`` run in network namespace ``netns`` (a name under
    /run/netns; None: this one), in a thread of its own so the rest of the
    process stays where it is; sockets it opens keep their namespace."""
    if netns is None:
        return function()
    result = {}

    def enter():
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        except OSError as error:
            result["error"] = AttachmentError(error.errno, f"network namespace {netns}: {error.strerror}")
            return
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.setns(fd, _CLONE_NEWNET) != 0:
                code = ctypes.get_errno()
                result["error"] = AttachmentError(code, f"setns into {netns}: {os.strerror(code)} (needs root)")
                return
            result["value"] = function()
        except Exception as error:          # handed to the caller's thread below
            result["error"] = error
        finally:
            os.close(fd)
    thread = threading.Thread(target=enter, name=f"netns-{netns}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


class HostAttachment:
    """Router ``interface`` at IPv4 ``address`` on the host's network (see
    the module docstring). ``udp_ports``: UDP ports to bind (the ISAKMP
    ports and the NAT-T port among them); ``isakmp_ports``: which of them
    carry ISAKMP (the NAT-T port does after its non-ESP marker);
    ``netns``: the namespace to open the sockets in (None: this one)."""

    def __init__(self, interface: str, address, *, udp_ports=(ISAKMP_PORT, NATT_PORT),
                 isakmp_ports=(ISAKMP_PORT,), natt_port: int = NATT_PORT, netns: str | None = None):
        self.interface = interface.lower()
        self.address = ipaddress.IPv4Address(address)
        self.udp_ports = tuple(dict.fromkeys(int(p) for p in (*udp_ports, natt_port)))
        self.isakmp_ports = tuple(isakmp_ports)
        self.natt_port = natt_port
        self.netns = netns
        #: Opened sockets: UDP port -> socket, "esp" and "raw".
        self.sockets: dict = {}
        #: ESP peers to encapsulate for (RFC 3948): peer address -> its UDP port.
        self.natt_peers: dict[ipaddress.IPv4Address, int] = {}
        self.counters = collections.Counter()
        #: The last errors (reason strings), oldest first.
        self.errors: collections.deque[str] = collections.deque(maxlen=_ERRORS_KEPT)

    def __repr__(self) -> str:
        return f"<HostAttachment {self.interface} {self.address} ports {self.udp_ports} netns {self.netns}>"

    # -- life cycle ---------------------------------------------------------------------------------------

    def open(self) -> "HostAttachment":
        """Open the sockets (non-blocking). Raises :class:`AttachmentError`."""
        try:
            self.sockets = in_namespace(self.netns, self._open_sockets)
        except PermissionError as error:
            raise AttachmentError(errno.EPERM, f"attaching {self.interface} needs root (raw sockets): {error}") \
                from None
        return self

    def _open_sockets(self) -> dict:
        opened = {}
        try:
            for port in self.udp_ports:
                udp = opened[port] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    udp.bind((str(self.address), port))
                except OSError as error:
                    raise AttachmentError(error.errno, f"UDP {self.address}:{port}: {error.strerror}") from None
            opened["esp"] = socket.socket(socket.AF_INET, socket.SOCK_RAW, PROTO_ESP)
            opened["raw"] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        except BaseException:
            for sock in opened.values():
                sock.close()
            raise
        for sock in opened.values():
            sock.setblocking(False)
        return opened

    def close(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        self.sockets = {}

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def encapsulate_esp(self, peer, port: int = NATT_PORT) -> None:
        """Send ESP for ``peer`` in UDP to ``port`` from now on (what a NAT-T
        negotiation, RFC 3947, decides; also learnt from the peer's ESP in UDP)."""
        self.natt_peers[ipaddress.IPv4Address(peer)] = port

    # -- inbound ------------------------------------------------------------------------------------------

    def read(self, key) -> list[Inbound]:
        """Everything waiting on socket ``key`` (a UDP port or "esp"), each
        for the router or its ISAKMP daemon; bad input counted and dropped."""
        sock = self.sockets[key]
        got = []
        while True:
            try:
                data, (peer, peer_port, *_) = sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return got
            except OSError as error:        # e.g. ICMP port unreachable reported on the socket
                self._bad("socket", f"{key}: {error.strerror}")
                return got
            self.counters["received"] += 1
            item = self._raw_esp(data) if key == "esp" else self._udp(key, ipaddress.IPv4Address(peer), peer_port,
                                                                       data)
            if item is not None:
                got.append(item)

    def _raw_esp(self, packet: bytes) -> Inbound | None:
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._bad("malformed", f"raw ESP: {error}")
        if ip.dst != self.address:
            self.counters["not_for_us"] += 1        # the raw socket sees ESP for every address of the namespace
            return None
        self.counters["esp_in"] += 1
        return Inbound("ip", packet=bytes(packet))

    def _udp(self, port: int, peer: ipaddress.IPv4Address, peer_port: int, payload: bytes) -> Inbound | None:
        if port == self.natt_port:
            if payload == NATT_KEEPALIVE:
                self.counters["natt_keepalive"] += 1
                return None
            if len(payload) < len(NON_ESP_MARKER):
                return self._bad("short", f"{len(payload)} bytes from {peer}:{peer_port} on the NAT-T port; "
                                 "expected a non-ESP marker or an ESP header")
            if payload[:4] != NON_ESP_MARKER:
                self.natt_peers[peer] = peer_port
                self.counters["natt_esp_in"] += 1
                return Inbound("ip", packet=ipv4_header(peer, self.address, PROTO_ESP, len(payload)) + payload)
        if port in self.isakmp_ports or port == self.natt_port:
            self.counters["isakmp_in"] += 1
            return Inbound("isakmp", datagram=Datagram(peer, peer_port, self.address, port, bytes(payload)))
        try:
            packet = udp_packet(peer, self.address, peer_port, port, payload)
        except ValueError as error:
            return self._bad("malformed", f"UDP from {peer}:{peer_port}: {error}")
        self.counters["udp_in"] += 1
        return Inbound("ip", packet=packet)

    # -- outbound -----------------------------------------------------------------------------------------

    def send(self, packet: bytes) -> bool:
        """Send an IP packet the router put on the interface (see the module
        docstring); False (counted) if it could not go."""
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._refused("unsendable", f"malformed from the router: {error}")
        if ip.version != 4:
            return self._refused("unsendable", "IPv6 is not attached (IPv4 sockets only)")
        if ip.protocol == PROTO_UDP:
            try:
                source_port, destination_port, payload = parse_udp(ip)
            except MalformedPacket as error:
                return self._refused("unsendable", f"UDP from the router: {error}")
            if source_port in self.sockets:
                return self._sendto(source_port, payload, ip.dst, destination_port, "udp_out")
        elif ip.protocol == PROTO_ESP and ip.dst in self.natt_peers:
            return self._sendto(self.natt_port, bytes(ip.payload), ip.dst, self.natt_peers[ip.dst], "natt_esp_out")
        return self._sendto("raw", bytes(packet), ip.dst, 0, "raw_out")

    def send_datagram(self, datagram: Datagram) -> bool:
        """Send a datagram of the ISAKMP daemon from its ``source_port``."""
        if datagram.source_port not in self.sockets:
            return self._refused("unsendable", f"no socket on UDP port {datagram.source_port}; attached ports: "
                                 f"{', '.join(map(str, self.udp_ports))}")
        return self._sendto(datagram.source_port, datagram.payload, datagram.destination,
                            datagram.destination_port, "isakmp_out")

    def _sendto(self, key, data: bytes, destination, port: int, counter: str) -> bool:
        try:
            self.sockets[key].sendto(data, (str(destination), port))
        except OSError as error:
            return self._refused("send_failed", f"to {destination}:{port}: {error.strerror or error}")
        self.counters[counter] += 1
        self.counters["sent"] += 1
        return True

    def _bad(self, counter: str, reason: str) -> None:
        """Count ``counter`` and keep ``reason``; None (nothing to hand on)."""
        self.counters[counter] += 1
        self.errors.append(f"{counter}: {reason}")

    def _refused(self, counter: str, reason: str) -> bool:
        """:meth:`_bad` for what could not be sent; False."""
        self._bad(counter, reason)
        return False
