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
IPv4/UDP packet from the peer to the address, for ``Router.receive``: ISAKMP
(port 500, and 4500 with the non-ESP marker, RFC 3948 2.2) included, which
the router's ISAKMP gate hands to its daemon (one seam: the router's, see
:mod:`pacsim.firmware.router.isakmp_gate`). ESP in UDP on the NAT-T port is
passed on as it came too when the router negotiated it (the gate
decapsulates it, and the router's SA kernel encapsulates what it sends:
UDP from the NAT-T port); for a peer that sends ESP in UDP to a router
with manual keys, :meth:`HostAttachment.encapsulate_esp` makes the
attachment decapsulate it (RFC 3948 3.2: the IP packet is rebuilt with
protocol ESP) and encapsulate the router's raw ESP to that peer again
(3.1). NAT-keepalives (one 0xFF byte) are counted and dropped. Raw ESP
packets go to the router as they came.

**Outbound** (:meth:`HostAttachment.send`): a UDP packet goes from the
socket bound to its source port; raw ESP to a peer set with
:meth:`HostAttachment.encapsulate_esp` goes in UDP from the NAT-T port;
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

from ..firmware.ipsec.packet import PROTO_ESP, PROTO_UDP, MalformedPacket, ipv4_header, parse_ip, parse_udp
from ..firmware.ipsec.udp_encap import NATT_KEEPALIVE, NATT_PORT
from ..firmware.isakmp.message import NON_ESP_MARKER
from ..firmware.isakmp.transport import IKE_PORT
from ..firmware.router.stack import udp_packet

__all__ = ["HostAttachment", "NON_ESP_MARKER", "in_namespace", "AttachmentError"]

_CLONE_NEWNET = 0x40000000
_MAX_DATAGRAM = 65535
_ERRORS_KEPT = 100


class AttachmentError(OSError):
    """The attachment could not be opened (no such namespace, a port in use, not root)."""


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
    the module docstring). ``udp_ports``: UDP ports to bind (the NAT-T
    port is added); ``netns``: the namespace to open the sockets in (None: this one)."""

    def __init__(self, interface: str, address, *, udp_ports=(IKE_PORT, NATT_PORT), natt_port: int = NATT_PORT,
                 netns: str | None = None):
        self.interface = interface.lower()
        self.address = ipaddress.IPv4Address(address)
        self.udp_ports = tuple(dict.fromkeys(int(p) for p in (*udp_ports, natt_port)))
        self.natt_port = natt_port
        self.netns = netns
        #: Opened sockets: UDP port -> socket, "esp" and "raw".
        self.sockets: dict = {}
        #: Peers whose ESP in UDP the attachment (un)wraps (RFC 3948): peer address -> its UDP port.
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
        """Decapsulate ESP in UDP from ``peer`` and send the router's raw ESP
        to it in UDP to ``port`` from now on: for a router that does not
        (manual keys; ISAKMP's NAT-T bundles do it in the router)."""
        self.natt_peers[ipaddress.IPv4Address(peer)] = port

    # -- inbound ------------------------------------------------------------------------------------------

    def read(self, key) -> list[bytes]:
        """Everything waiting on socket ``key`` (a UDP port or "esp"), as IP
        packets for ``Router.receive``; bad input counted and dropped."""
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

    def _raw_esp(self, packet: bytes) -> bytes | None:
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._bad("malformed", f"raw ESP: {error}")
        if ip.dst != self.address:
            self.counters["not_for_us"] += 1        # the raw socket sees ESP for every address of the namespace
            return None
        self.counters["esp_in"] += 1
        return bytes(packet)

    def _udp(self, port: int, peer: ipaddress.IPv4Address, peer_port: int, payload: bytes) -> bytes | None:
        if port == self.natt_port:
            if payload == NATT_KEEPALIVE:
                self.counters["natt_keepalive"] += 1
                return None
            if len(payload) < len(NON_ESP_MARKER):
                return self._bad("short", f"{len(payload)} bytes from {peer}:{peer_port} on the NAT-T port; "
                                 "expected a non-ESP marker or an ESP header")
            if payload[:4] != NON_ESP_MARKER:
                self.counters["natt_esp_in"] += 1
                if peer in self.natt_peers:
                    self.natt_peers[peer] = peer_port
                    return ipv4_header(peer, self.address, PROTO_ESP, len(payload)) + payload
            else:
                self.counters["isakmp_in"] += 1
        elif port == IKE_PORT:
            self.counters["isakmp_in"] += 1
        try:
            packet = udp_packet(peer, self.address, peer_port, port, payload)
        except ValueError as error:
            return self._bad("malformed", f"UDP from {peer}:{peer_port}: {error}")
        self.counters["udp_in"] += 1
        return packet

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
