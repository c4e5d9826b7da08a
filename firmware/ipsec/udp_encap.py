# Ref: spec/ipsec-commands.md §5.10 (B70-B77), §3.4; spec/show-outputs.md §3.5 ("IPsec over UDP counters"); RFC 3948
"""IPsec over UDP: the router's UDP tunnel (port 2746) and its heartbeats.

The manual says what the tunnel does (B70-B76: IPsec packets inside UDP,
listen port 2746 by default, a per-policy remote port, heartbeats that
refresh intermediate devices' UDP state) and that received packets can
have a "bad version" (``inPktBadVersion``), but not the bytes on the wire
nor the heartbeat interval. This module defines them [design]::

    IP (protocol 17) | UDP (source: the listen port, destination: the
    policy's udpport) | version (1) = 1 | type (1) | next header (1) |
    reserved (1) = 0 | the IPsec header (ESP, AH or IPComp) and the rest

type 0 carries an IPsec packet whose IP protocol was ``next header``;
type 1 is a heartbeat (next header 0, nothing after the 4 bytes). A version
other than 1 or an unknown type is a bad version. The UDP checksum is
computed (IPv4 receivers also take 0). Heartbeats go every
``heartbeat_interval`` seconds (default 20, the ISAKMP heartbeat period,
L3518) after the last packet or heartbeat sent, only when the policy has
both ``udptunnel`` and ``udpheartbeat`` (B73).

Transport and tunnel mode both work: the IP header in front of the IPsec
header (the tunnel's outer header in tunnel mode) gets protocol 17 and the
UDP datagram; the receiver puts the IPsec protocol and length back, so an
AH ICV over that header still verifies when no device rewrote it (B71: AH
does not survive devices that do).

:func:`natt_encapsulate`/:func:`natt_decapsulate` are RFC 3948's ESP-in-UDP
(NAT-T, port 4500, B84) for the ISAKMP side's NAT traversal.
"""
import enum
import struct
from dataclasses import dataclass

from .outcome import Drop, DropReason
from .packet import (PROTO_AH, PROTO_ESP, PROTO_IPCOMP, PROTO_UDP, MalformedPacket, ipv4_header, parse_ip, parse_udp,
                     udp_datagram)

__all__ = ["UDP_TUNNEL_PORT", "TUNNEL_VERSION", "TUNNEL_HEADER", "HEARTBEAT_INTERVAL", "MessageType", "UdpTunnel",
           "Decapsulated", "decapsulate", "NATT_PORT", "NATT_KEEPALIVE", "NattEncapsulation", "natt_encapsulate",
           "natt_decapsulate"]

#: Default listen and remote port (B74).
UDP_TUNNEL_PORT = 2746
TUNNEL_VERSION = 1
TUNNEL_HEADER = 4
#: Seconds between heartbeats on an idle tunnel [design].
HEARTBEAT_INTERVAL = 20.0
_IPSEC_PROTOCOLS = (PROTO_ESP, PROTO_AH, PROTO_IPCOMP)

NATT_PORT = 4500
#: RFC 3948 2.3: a NAT-keepalive is one 0xFF byte.
NATT_KEEPALIVE = b"\xff"


class MessageType(enum.IntEnum):
    DATA = 0
    HEARTBEAT = 1


@dataclass(frozen=True)
class Decapsulated:
    """A received UDP-tunnel datagram: ``kind`` and, for DATA, the IPsec
    ``packet`` (bytes) rebuilt as it was before encapsulation."""
    kind: MessageType
    packet: bytes | None = None


class UdpTunnel:
    """One policy's UDP tunnelling: ``local_port`` (the router's listen
    port, ``set ipsec udpport``), ``remote_port`` (the policy's
    ``udpport``), ``heartbeats`` (``udpheartbeat``) every
    ``heartbeat_interval`` seconds of idleness by the injected ``clock``."""

    def __init__(self, *, local_port: int = UDP_TUNNEL_PORT, remote_port: int = UDP_TUNNEL_PORT,
                 heartbeats: bool = False, heartbeat_interval: float = HEARTBEAT_INTERVAL, clock=None):
        for name, port in (("local", local_port), ("remote", remote_port)):
            if not 1 <= port <= 0xFFFF:
                raise ValueError(f"{name} UDP port {port}; expected 1 to 65535")
        if heartbeat_interval <= 0:
            raise ValueError(f"heartbeat interval {heartbeat_interval} s; expected more than 0")
        self.local_port, self.remote_port = local_port, remote_port
        self.heartbeats, self.heartbeat_interval = heartbeats, heartbeat_interval
        self.clock = clock
        self.last_sent = None

    def encapsulate(self, packet: bytes) -> bytes:
        """``packet`` (IP with an ESP/AH/IPComp header behind the IP header)
        inside the tunnel's UDP. Raises Drop (MALFORMED, TOO_BIG)."""
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            raise Drop(DropReason.MALFORMED, str(error)) from error
        if ip.protocol not in _IPSEC_PROTOCOLS:
            raise Drop(DropReason.WRONG_PROTOCOL, f"protocol {ip.protocol} cannot go through the UDP tunnel; "
                       "expected ESP, AH or IPComp")
        body = _tunnel_header(MessageType.DATA, ip.protocol) + ip.payload
        try:
            datagram = udp_datagram(ip.src, ip.dst, self.local_port, self.remote_port, body)
            out = ip.rebuild(PROTO_UDP, datagram)
        except (ValueError, MalformedPacket) as error:
            raise Drop(DropReason.TOO_BIG, f"UDP tunnel: {error}") from error
        self._sent()
        return out

    def heartbeat(self, local, peer) -> bytes:
        """A heartbeat datagram from ``local`` to ``peer`` (IPv4; IPv6 policies have no UDP tunnel, B66)."""
        datagram = udp_datagram(local, peer, self.local_port, self.remote_port, _tunnel_header(MessageType.HEARTBEAT))
        self._sent()
        return ipv4_header(local, peer, PROTO_UDP, len(datagram)) + datagram

    def heartbeat_due(self) -> bool:
        """Whether a heartbeat should go now (heartbeats on, idle for the interval)."""
        if not self.heartbeats or self.clock is None:
            return False
        return self.last_sent is None or self.clock() - self.last_sent >= self.heartbeat_interval

    def _sent(self) -> None:
        if self.clock is not None:
            self.last_sent = self.clock()


def _tunnel_header(kind: MessageType, next_header: int = 0) -> bytes:
    """The tunnel header (see the module doc): version, ``kind``, ``next_header``, reserved."""
    return struct.pack("!BBBB", TUNNEL_VERSION, kind, next_header, 0)


def decapsulate(ip, listen_port: int = UDP_TUNNEL_PORT) -> Decapsulated | None:
    """The tunnel message in ``ip`` (an IpPacket carrying UDP), or None if it
    is not addressed to ``listen_port``. Raises Drop (MALFORMED,
    UDP_BAD_VERSION)."""
    try:
        _, dst_port, body = parse_udp(ip)
    except MalformedPacket as error:
        raise Drop(DropReason.MALFORMED, str(error)) from error
    if dst_port != listen_port:
        return None
    if len(body) < TUNNEL_HEADER:
        raise Drop(DropReason.MALFORMED, f"a UDP tunnel datagram of {len(body)} bytes; expected the "
                   f"{TUNNEL_HEADER}-byte tunnel header")
    version, kind, next_header, _ = struct.unpack_from("!BBBB", body)
    if version != TUNNEL_VERSION or kind not in tuple(MessageType):
        raise Drop(DropReason.UDP_BAD_VERSION, f"UDP tunnel version {version} type {kind}; expected version "
                   f"{TUNNEL_VERSION}, type 0 (data) or 1 (heartbeat)")
    if kind == MessageType.HEARTBEAT:
        return Decapsulated(MessageType.HEARTBEAT)
    if next_header not in _IPSEC_PROTOCOLS:
        raise Drop(DropReason.WRONG_PROTOCOL, f"UDP tunnel data with next header {next_header}; expected ESP, "
                   "AH or IPComp")
    try:
        return Decapsulated(MessageType.DATA, ip.rebuild(next_header, body[TUNNEL_HEADER:]))
    except MalformedPacket as error:
        raise Drop(DropReason.MALFORMED, str(error)) from error


def natt_encapsulate(packet: bytes, *, src_port: int = NATT_PORT, dst_port: int = NATT_PORT) -> bytes:
    """RFC 3948 ESP-in-UDP: the ESP packet ``packet`` with a UDP header
    (checksum 0 over IPv4, RFC 3948 2.1) inserted after its IP header."""
    ip = parse_ip(packet)
    if ip.protocol != PROTO_ESP:
        raise ValueError(f"NAT-T encapsulates ESP (50); got protocol {ip.protocol}")
    datagram = udp_datagram(ip.src, ip.dst, src_port, dst_port, ip.payload, with_checksum=False)
    return ip.rebuild(PROTO_UDP, datagram)


class NattEncapsulation:
    """RFC 3948 ESP-in-UDP of one bundle negotiated across a NAT (its IKE
    SA's ports: ``local_port``, ``remote_port``, 4500 after the float), in
    the place of a bundle's :class:`UdpTunnel`: no heartbeats (the ISAKMP
    daemon sends the NAT-keepalives)."""
    heartbeats = False

    def __init__(self, *, local_port: int = NATT_PORT, remote_port: int = NATT_PORT):
        self.local_port, self.remote_port = local_port, remote_port

    def encapsulate(self, packet: bytes) -> bytes:
        """``packet`` (IP/ESP) in UDP. Raises Drop (WRONG_PROTOCOL) for anything but ESP."""
        try:
            return natt_encapsulate(packet, src_port=self.local_port, dst_port=self.remote_port)
        except (ValueError, MalformedPacket) as error:
            raise Drop(DropReason.WRONG_PROTOCOL, f"ESP-in-UDP: {error}") from error

    def heartbeat_due(self) -> bool:
        """Never: see the class docstring."""
        return False


def natt_decapsulate(ip) -> bytes | None:
    """The ESP packet inside an RFC 3948 datagram ``ip``; None for a
    NAT-keepalive or an IKE message (non-ESP marker: SPI 0). Raises
    :class:`~.packet.MalformedPacket`."""
    _, _, body = parse_udp(ip)
    if body == NATT_KEEPALIVE or len(body) < 4 or body[:4] == bytes(4):
        return None
    return ip.rebuild(PROTO_ESP, body)
