# Ref: RFC 3022 (NAPT); RFC 4787 sections 4.1-4.3 (mapping, filtering, refresh); RFC 1624 (checksum update)
# Ref: ../shared/spec/ipsec-commands.md §6.2-§6.4 (B-1, B-3: NAT gateways and their pinholes)
"""A NAT gateway node for the simulated network: network address and port
translation (NAPT) between an inside and an outside interface, with
pinholes.

The manual's scenario B puts each router behind "its NAT gateway": the
router's ``vlan2`` address is on an interconnect LAN whose other end is the
gateway (the router's default route ``next=NAT-gateway-address``), and the
peer's ISAKMP and IPsec ``peer=`` is the gateway's public address (§6.3).
A :class:`NatGateway` is that device. It has two interfaces, ``inside`` and
``outside``; the network joins each to a router interface or to another
gateway with a link (:meth:`pacsim.sim.network.Network.join`).

Translation (RFC 3022 NAPT, IPv4, UDP, TCP and ICMP echo):

- a packet from inside gets the ``public`` address as its source and,
  for UDP and TCP, a mapped source port (ICMP echo: a mapped identifier);
  one mapping per (protocol, inside address, inside port), whatever the
  destination (endpoint-independent mapping, RFC 4787 REQ-1), with ports
  from ``first_port`` up, never the inside port itself (so a NAT always
  shows in the port as well as the address);
- a packet from outside to the public address is translated back if a
  mapping has its protocol and port and the mapping has sent to the
  packet's source address (address-dependent filtering, RFC 4787 section
  5), or if a pinhole has its protocol and port (a static forward:
  ``pinholes`` maps ``(protocol, public port)`` to ``(inside address,
  inside port)``, the ``add fire ... rule=1/2`` lines of the manual for
  UDP 500 and 4500); anything else is dropped and counted;
- a mapping lives ``udp_timeout`` (UDP, ICMP) or ``tcp_timeout`` (TCP)
  seconds after the last packet it carried *outbound* (RFC 4787 REQ-6):
  inbound packets do not refresh it, so a side behind the NAT that stops
  sending (NAT-T keepalives, R92) loses its mapping;
- the IPv4 header checksum is recomputed, the UDP/TCP checksum updated
  incrementally (RFC 1624) for the changed address and port (a zero UDP
  checksum stays zero), and the TTL is decremented (a router, RFC 1812);
- ESP, AH and every other protocol, IPv6, fragments and packets that do not
  parse are dropped and counted: IPsec crosses this NAT only as NAT-T
  (ESP in UDP 4500, RFC 3948).

:attr:`NatGateway.counters` (names in :data:`NAT_COUNTERS`) count every
outcome; every drop also calls ``on_drop(reason)`` (the network records it
in :attr:`~pacsim.sim.network.Network.lost`). Time is the injected
``clock()``, seconds.
"""
import ipaddress
import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ..firmware.ipsec.nat_original import PROTO_TCP, adjust_checksum
from ..firmware.ipsec.packet import PROTO_ICMP, PROTO_UDP, MalformedPacket, ipv4_with_checksum, parse_ip
from ..firmware.router.stack import decrement_ttl

__all__ = ["NatGateway", "Mapping", "NAT_COUNTERS", "INSIDE", "OUTSIDE", "PROTO_TCP", "UDP_TIMEOUT",
           "TCP_TIMEOUT", "FIRST_PORT"]

INSIDE, OUTSIDE = "inside", "outside"
#: Seconds an idle UDP (and ICMP) mapping lives: RFC 4787 REQ-5 asks for at
#: least 120 s; 60 s, as many home gateways have, is short enough that the
#: NAT-T keepalives (every 20 s) are what keeps an idle tunnel's mapping.
UDP_TIMEOUT = 60.0
#: Seconds an idle TCP mapping lives (RFC 5382 REQ-5: at least 2 h 4 min).
TCP_TIMEOUT = 7440.0
#: The first public port (and ICMP identifier) the gateway maps to.
FIRST_PORT = 20000
NAT_COUNTERS = ("outTranslated", "inTranslated", "inPinhole", "mappingsCreated", "mappingsExpired",
                "inNoMapping", "inFiltered", "badProtocol", "badPacket", "ttlExpired", "portsExhausted")
#: Checksum offset in the transport header, per protocol (UDP, TCP, ICMP).
_CHECKSUM_AT = {PROTO_UDP: 6, PROTO_TCP: 16, PROTO_ICMP: 2}


@dataclass
class Mapping:
    """One translation: ``protocol``, the inside ``address`` and ``port``
    (ICMP: echo identifier), the ``public_port``, the remote addresses it
    has sent to (``peers``) and when it last carried a packet outbound
    (``last_out``, seconds)."""
    protocol: int
    address: ipaddress.IPv4Address
    port: int
    public_port: int
    last_out: float
    peers: set = field(default_factory=set)


class NatGateway:
    """A NAPT gateway (see the module docstring): ``name``, the ``public``
    (outside) address, the ``inside`` address (the routers' next hop; for
    display), ``pinholes`` ``{(protocol, public port): (inside address,
    inside port)}``, ``clock()`` in seconds, the idle timeouts in seconds,
    ``on_drop(reason)`` called for each dropped packet."""

    def __init__(self, name: str, public, inside, *, clock: Callable[[], float],
                 pinholes: dict | None = None, udp_timeout: float = UDP_TIMEOUT,
                 tcp_timeout: float = TCP_TIMEOUT, first_port: int = FIRST_PORT,
                 on_drop: Callable[[str], None] = lambda reason: None):
        self.name = name
        self.public = ipaddress.IPv4Address(public)
        self.inside = ipaddress.IPv4Address(inside)
        self.clock = clock
        self.pinholes = {(p, port): (ipaddress.IPv4Address(a), inner)
                         for (p, port), (a, inner) in (pinholes or {}).items()}
        self.timeouts = {PROTO_UDP: udp_timeout, PROTO_ICMP: udp_timeout, PROTO_TCP: tcp_timeout}
        self.first_port = first_port
        self.on_drop = on_drop
        self.counters = dict.fromkeys(NAT_COUNTERS, 0)
        #: Live mappings by (protocol, inside address, inside port) and by (protocol, public port).
        self.mappings: dict[tuple, Mapping] = {}
        self._by_public: dict[tuple, Mapping] = {}
        self._next_port = itertools.count(first_port)

    def __repr__(self) -> str:
        return f"<NatGateway {self.name} {self.public}>"

    @staticmethod
    def has_interface(interface: str) -> bool:
        return interface in (INSIDE, OUTSIDE)

    async def poll(self) -> list:
        """Timers: the gateway has none to send from (mappings expire as packets come)."""
        self.expire()
        return []

    async def receive(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        """``packet`` arrived on ``interface``; the ``(interface, packet)`` to send."""
        self.expire()
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._drop("badPacket", f"malformed packet: {error}")
        if ip.version != 4 or ip.is_fragment or ip.protocol not in _CHECKSUM_AT:
            what = "IPv6" if ip.version == 6 else "a fragment" if ip.is_fragment else f"protocol {ip.protocol}"
            return self._drop("badProtocol", f"{what} is not translated (UDP, TCP and ICMP echo only)")
        ports = self._ports(ip)
        if ports is None:
            return self._drop("badPacket", f"protocol {ip.protocol} header too short or not an echo")
        if interface == INSIDE:
            return self._outbound(ip, packet, *ports)
        return self._inbound(ip, packet, *ports)

    def expire(self) -> None:
        """Forget the mappings idle for longer than their timeout."""
        now = self.clock()
        for key, m in list(self.mappings.items()):
            if now - m.last_out > self.timeouts[m.protocol]:
                del self.mappings[key]
                del self._by_public[(m.protocol, m.public_port)]
                self.counters["mappingsExpired"] += 1

    # -- translation ----------------------------------------------------------------------------------

    def _outbound(self, ip, packet: bytes, src_port: int, dst_port: int) -> list:
        key = (ip.protocol, ip.src, src_port)
        mapping = self.mappings.get(key)
        if mapping is None:
            forward = next(((p, port) for (p, port), target in self.pinholes.items()
                            if p == ip.protocol and target == (ip.src, src_port)), None)
            public_port = forward[1] if forward is not None else self._free_port(ip.protocol)
            if public_port is None:
                return self._drop("portsExhausted", "no free public port")
            mapping = Mapping(ip.protocol, ip.src, src_port, public_port, self.clock())
            self.mappings[key] = self._by_public[(ip.protocol, public_port)] = mapping
            self.counters["mappingsCreated"] += 1
        mapping.last_out = self.clock()
        mapping.peers.add(ip.dst)
        out = self._rewrite(packet, ip, source=True, address=self.public, port=mapping.public_port)
        if out is None:
            return self._drop("ttlExpired", "TTL expired in transit")
        self.counters["outTranslated"] += 1
        return [(OUTSIDE, out)]

    def _inbound(self, ip, packet: bytes, src_port: int, dst_port: int) -> list:
        if ip.dst != self.public:
            return self._drop("inNoMapping", f"{ip.dst} is not the gateway's public address {self.public}")
        mapping = self._by_public.get((ip.protocol, dst_port))
        if mapping is not None and ip.src in mapping.peers:
            target, counter = (mapping.address, mapping.port), "inTranslated"
        elif (ip.protocol, dst_port) in self.pinholes:
            target, counter = self.pinholes[(ip.protocol, dst_port)], "inPinhole"
        elif mapping is not None:
            return self._drop("inFiltered", f"{ip.src} is not a peer of the mapping of port {dst_port}")
        else:
            return self._drop("inNoMapping", f"no mapping for protocol {ip.protocol} port {dst_port}")
        out = self._rewrite(packet, ip, source=False, address=target[0], port=target[1])
        if out is None:
            return self._drop("ttlExpired", "TTL expired in transit")
        self.counters[counter] += 1
        return [(INSIDE, out)]

    def _free_port(self, protocol: int) -> int | None:
        for _ in range(65536 - self.first_port):
            port = next(self._next_port)
            if port > 65535:
                self._next_port = itertools.count(self.first_port)
                port = next(self._next_port)
            if (protocol, port) not in self._by_public and (protocol, port) not in self.pinholes:
                return port
        return None

    @staticmethod
    def _ports(ip) -> tuple[int, int] | None:
        """(source port, destination port) of UDP/TCP; (identifier, identifier) of an ICMP echo."""
        data = ip.payload
        if ip.protocol == PROTO_ICMP:
            if len(data) < 8 or data[0] not in (0, 8):
                return None
            ident = struct.unpack_from("!H", data, 4)[0]
            return ident, ident
        if len(data) < (20 if ip.protocol == PROTO_TCP else 8):
            return None
        return struct.unpack_from("!HH", data, 0)

    def _rewrite(self, packet: bytes, ip, *, source: bool, address, port: int) -> bytes | None:
        """``packet`` with its source (``source``) or destination address
        and port (ICMP: identifier) replaced, checksums updated, TTL one
        less; None when the TTL runs out."""
        header_length = (packet[0] & 0xF) * 4
        header = bytearray(packet[:header_length])
        at = 12 if source else 16
        old_address, header[at:at + 4] = bytes(header[at:at + 4]), address.packed
        data = bytearray(ip.payload)
        if ip.protocol == PROTO_ICMP:
            port_at, covered = 4, b""          # the ICMP checksum does not cover the IP addresses
        else:
            port_at, covered = (0 if source else 2), old_address
        old_port = bytes(data[port_at:port_at + 2])
        struct.pack_into("!H", data, port_at, port)
        sum_at = _CHECKSUM_AT[ip.protocol]
        old_sum = struct.unpack_from("!H", data, sum_at)[0]
        if not (ip.protocol == PROTO_UDP and old_sum == 0):
            new = (address.packed if covered else b"") + bytes(data[port_at:port_at + 2])
            value = adjust_checksum(old_sum, covered + old_port, new)
            struct.pack_into("!H", data, sum_at, 0xFFFF if ip.protocol == PROTO_UDP and value == 0 else value)
        return decrement_ttl(ipv4_with_checksum(header) + bytes(data) + ip.trailer)

    def _drop(self, counter: str, reason: str) -> list:
        self.counters[counter] += 1
        self.on_drop(f"{self.name}: {reason}")
        return []

