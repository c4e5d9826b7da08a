# Ref: RFC 8200 (IPv6), RFC 4291 (addressing: 2.5.6 link-local, 2.6.1 Subnet-Router anycast), RFC 4293 (IP
#      and ICMP counters for IPv6), RFC 4443 (ICMPv6), RFC 4113 (udpInErrors); AlliedWare IPv6 command syntax
#      (enable ipv6, add ipv6 interface=... ipaddress=..., add ipv6 route=... interface=... nexthop=...,
#      show ipv6 interface|route|counter: the brief's examples; the seeds and spec have no IPv6 chapter)
"""The router's IPv6 module: IPv6 addresses on the router's interfaces
(alongside their IPv4 addresses), static routes, the longest-prefix route
lookup, the IPv6 and ICMPv6 counters, and their commands and displays.

Commands (AlliedWare syntax; the manual's IPv6 chapter is not among the
sources, so the words follow the AlliedWare IPv6 commands named in the
brief, and the rest is ours)::

    ENAble IPV6
    DISable IPV6
    ADD IPV6 INTerface=interface IPaddress=ipv6add/prefix-length
    DELete IPV6 INTerface=interface IPaddress=ipv6add[/prefix-length]
    ADD IPV6 ROUte=ipv6prefix/prefix-length INTerface=interface [NEXThop=ipv6add]
    DELete IPV6 ROUte=ipv6prefix/prefix-length
    SHow IPV6 [INTerface|ROUte|COUnter]

IPv6 is disabled until ``enable ipv6`` (AlliedWare's default); while it is
disabled every IPv6 packet is dropped (``inDiscards``) and the router sends
none. An interface may have several IPv6 addresses; the first one added is
its *primary* address, the one the router sends from on that interface
(ICMPv6 messages, its own packets) and the local end of an ``ipversion=6``
IPsec policy's tunnel. Each address's prefix is a connected route.
Addresses are global or unique-local unicast: link-local (fe80::/10),
multicast, loopback and the unspecified address are refused, as is the
Subnet-Router anycast address of the prefix (RFC 4291 2.6.1); there is no
neighbour discovery and no autoconfiguration (a link here joins two router
interfaces, or a LAN's router interface and its hosts, and delivers by
address), so nothing needs link-local addresses. Two interfaces' prefixes
may not overlap.

The interface MTU (``SET interface MTU=``, shared with IPv4; see
:mod:`.ip`) must be at least 1280 bytes on an interface with an IPv6
address (RFC 8200 section 5): IPv6 addresses cannot be added to an
interface whose MTU is smaller, and the MTU of an interface with IPv6
addresses cannot be set below 1280.

A static route names its interface; the next hop (any unicast address,
link-local included) is kept for the display only, as in :mod:`.ip`.
``ROUte=::/0`` is the default route.

Counters (``show ipv6 counter``), named after RFC 4293's ipSystemStats and
icmpStats for IPv6, RFC 2465's TooBig and RFC 4113's udpInErrors:
``inReceives``, ``inHdrErrors`` (malformed or truncated headers, and
routing headers the router cannot process), ``inAddrErrors`` (a destination
or source that is not forwarded: multicast, link-local, loopback,
unspecified), ``inNoRoutes`` (forwarded packets with no route),
``inUnknownProtos`` (for the router, but no protocol it handles),
``inTooBigErrors`` (larger than the out interface's MTU: routers do not
fragment IPv6), ``inDiscards`` (IPv6 disabled, or no IPv6 address on the
interface), ``inDelivers``, ``forwDatagrams``, ``hopLimitExceeded``,
``outRequests`` (sent by the router itself), ``outNoRoutes``,
``outDiscards`` (packets the router could not send: too big and not to be
fragmented), ``ipsecDiscards`` and ``outTransmits``; then the router's
fragmentation of packets it is the source of (``fragOKs``,
``fragCreates``) and reassembly of fragments for the router
(``reasmReqds``, ``reasmOKs``, ``reasmFails``, ``reasmTimeouts``,
``reasmOverlaps``, ``reasmDuplicates``), see :mod:`.mtu`; ICMPv6 ``icmpInMsgs``, ``icmpInErrors`` (bad checksum or
length), ``icmpInEchos``, ``icmpOutMsgs``, ``icmpOutEchoReplies``,
``icmpOutDestUnreachs``, ``icmpOutPktTooBigs``, ``icmpOutTimeExcds``,
``icmpOutParmProblems``; and ``udpInErrors`` (UDP for the router with a
zero or wrong checksum, RFC 8200 8.1). Below the counters, the display
says how many datagrams wait for reassembly.
"""
import collections
import ipaddress
from dataclasses import dataclass, field

from ..cli.grammar import Command, P
from ..cli.layout import CounterLayout, columns, join_lines, leader
from ..cli.values import InterfaceName, InvalidValue, Ipv6Address, ValueType
from ..ipsec.packet import IpPacket
from .fragments import IPV6_REASSEMBLY_TIMEOUT, Reassembly
from .icmpv6 import ICMPV6_PACKET_TOO_BIG, IPV6_MIN_MTU, icmpv6_error, may_send_icmpv6_error
from .ip import IpConfigError, IpModule, longest_prefix

__all__ = ["Ipv6Interface", "Ipv6Route", "Ipv6Module", "IPV6_COMMANDS", "Ipv6Commands", "IPV6_COUNTERS",
           "Ipv6Prefix"]

#: The IPv6 counters, in display order (pairs share a display row).
IPV6_COUNTERS = ("inReceives", "inHdrErrors", "inAddrErrors", "inNoRoutes", "inUnknownProtos", "inTooBigErrors",
                 "inDiscards", "inDelivers", "forwDatagrams", "hopLimitExceeded", "outRequests", "outNoRoutes",
                 "outDiscards", "ipsecDiscards", "outTransmits", "fragOKs", "fragCreates", "reasmReqds", "reasmOKs",
                 "reasmFails", "reasmTimeouts", "reasmOverlaps", "reasmDuplicates", "icmpInMsgs", "icmpInErrors",
                 "icmpInEchos", "icmpOutMsgs", "icmpOutEchoReplies", "icmpOutDestUnreachs", "icmpOutPktTooBigs",
                 "icmpOutTimeExcds", "icmpOutParmProblems", "udpInErrors")
_LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")


@dataclass
class Ipv6Interface:
    """An interface's IPv6 ``addresses`` (the first is the primary) and its
    IPv6 packet counts (``received``, ``sent``)."""
    name: str
    addresses: list[ipaddress.IPv6Interface] = field(default_factory=list)
    received: int = 0
    sent: int = 0

    @property
    def ip(self) -> ipaddress.IPv6Address:
        """The primary address."""
        return self.addresses[0].ip

    @property
    def networks(self) -> list[ipaddress.IPv6Network]:
        """The prefixes of the addresses, each once, in order."""
        return list(dict.fromkeys(a.network for a in self.addresses))


@dataclass(frozen=True)
class Ipv6Route:
    """A route: destination ``network``, out ``interface``, ``next_hop``
    (None: directly connected) and whether it is a connected route."""
    network: ipaddress.IPv6Network
    interface: str
    next_hop: ipaddress.IPv6Address | None = None
    connected: bool = False


class Ipv6Module:
    """IPv6 addresses, routes and counters (see the module docstring).
    ``ip``: the router's IPv4 :class:`~.ip.IpModule`, which keeps the
    interface MTUs both share; this module refuses MTUs below 1280 on its
    interfaces through it."""

    def __init__(self, ip: IpModule):
        self.ip = ip
        self.enabled = False
        self.interfaces: dict[str, Ipv6Interface] = {}
        self.static_routes: list[Ipv6Route] = []
        self.counters = collections.Counter()
        self.reassembly = Reassembly(timeout=IPV6_REASSEMBLY_TIMEOUT)
        ip.mtu_checks.append(self._check_mtu)

    # -- configuration ------------------------------------------------------------------------------

    def _check_mtu(self, name: str, mtu: int) -> None:
        if mtu < IPV6_MIN_MTU and name.lower() in self.interfaces:
            raise IpConfigError(f"MTU {mtu} for {name.lower()}: the interface has IPv6 addresses, which need an "
                                f"MTU of at least {IPV6_MIN_MTU} bytes (RFC 8200 section 5)")

    def add_address(self, name: str, address: ipaddress.IPv6Interface) -> Ipv6Interface:
        """Give interface ``name`` IPv6 ``address`` (with its prefix length)."""
        name = name.lower()
        address = ipaddress.IPv6Interface(address)
        ip, net = address.ip, address.network
        problem = None
        if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
            problem = "is not a unicast address"
        elif ip in _LINK_LOCAL:
            problem = "is link-local; the model has no neighbour discovery and needs none (use a global address)"
        elif net.prefixlen == 0:
            problem = "has prefix length 0; expected 1 to 128"
        elif net.prefixlen < 127 and ip == net.network_address:
            problem = f"is the Subnet-Router anycast address of {net} (RFC 4291 2.6.1); expected a host address"
        if problem:
            raise IpConfigError(f"IPv6 address {address} {problem}")
        mtu = self.ip.mtu_of(name)
        if mtu < IPV6_MIN_MTU:
            raise IpConfigError(f"interface {name} has an MTU of {mtu}; IPv6 needs at least {IPV6_MIN_MTU} bytes "
                                f"(RFC 8200 section 5): set {name} mtu={IPV6_MIN_MTU} or more first")
        for other in self.interfaces.values():
            if any(a.ip == ip for a in other.addresses):
                raise IpConfigError(f"{ip} is already an address of {other.name}")
            if other.name != name:
                clash = next((n for n in other.networks if n.overlaps(net)), None)
                if clash is not None:
                    raise IpConfigError(f"prefix {net} of {name} overlaps {clash} of {other.name}")
        iface = self.interfaces.setdefault(name, Ipv6Interface(name))
        iface.addresses.append(address)
        return iface

    def delete_address(self, name: str, address) -> None:
        """Remove IPv6 ``address`` (an address, or one with its prefix
        length) from interface ``name``; the interface's last address only
        when no static route uses the interface."""
        name = name.lower()
        iface = self.interfaces.get(name)
        if iface is None:
            raise IpConfigError(f"interface {name} has no IPv6 address")
        wanted = address.ip if isinstance(address, ipaddress.IPv6Interface) else ipaddress.IPv6Address(address)
        match = next((a for a in iface.addresses if a.ip == wanted), None)
        if match is None or (isinstance(address, ipaddress.IPv6Interface) and address != match):
            have = ", ".join(str(a) for a in iface.addresses)
            raise IpConfigError(f"interface {name} has no IPv6 address {address}; it has {have}")
        if len(iface.addresses) == 1:
            users = [r for r in self.static_routes if r.interface == name]
            if users:
                raise IpConfigError(f"interface {name} is used by the IPv6 route to {users[0].network}: delete it "
                                    "first")
            del self.interfaces[name]
        else:
            iface.addresses.remove(match)

    def add_route(self, network, interface: str, next_hop=None) -> Ipv6Route:
        interface = interface.lower()
        try:
            net = ipaddress.IPv6Network(network)
        except ValueError as e:
            raise IpConfigError(f"IPv6 route {network}: {e} (the address must be the prefix's own, e.g. "
                                "2001:db8:2::/48)") from None
        if interface not in self.interfaces:
            raise IpConfigError(f"interface {interface} has no IPv6 address: add ipv6 interface={interface} first")
        if next_hop is not None:
            next_hop = ipaddress.IPv6Address(next_hop)
            if next_hop.is_multicast or next_hop.is_unspecified or next_hop.is_loopback:
                raise IpConfigError(f"next hop {next_hop} is not a unicast address")
        if any(r.network == net for r in self.static_routes):
            raise IpConfigError(f"an IPv6 route to {net} exists already")
        route = Ipv6Route(net, interface, next_hop)
        self.static_routes.append(route)
        return route

    def delete_route(self, network) -> None:
        try:
            net = ipaddress.IPv6Network(network)
        except ValueError as e:
            raise IpConfigError(f"IPv6 route {network}: {e}") from None
        before = len(self.static_routes)
        self.static_routes = [r for r in self.static_routes if r.network != net]
        if len(self.static_routes) == before:
            raise IpConfigError(f"there is no IPv6 route to {net}")

    # -- lookups ----------------------------------------------------------------------------------

    def has_interface(self, name: str) -> bool:
        return name.lower() in self.interfaces

    def address_of(self, name: str) -> ipaddress.IPv6Address | None:
        """The primary IPv6 address of interface ``name``, or None."""
        iface = self.interfaces.get(name.lower())
        return iface.ip if iface is not None else None

    def is_local(self, address) -> bool:
        """Whether ``address`` is one of the router's own IPv6 addresses."""
        return any(a.ip == address for i in self.interfaces.values() for a in i.addresses)

    def routes(self) -> list[Ipv6Route]:
        """Connected routes, then static routes."""
        return [Ipv6Route(n, i.name, None, True) for i in self.interfaces.values() for n in i.networks] + \
            self.static_routes

    def lookup(self, destination) -> Ipv6Route | None:
        """The longest-prefix route to ``destination`` (IPv6 only); None when none."""
        return longest_prefix(self.routes(), destination, ipaddress.IPv6Address)

    def source_for(self, destination) -> ipaddress.IPv6Address | None:
        """The address the router sends from to ``destination``: the primary
        address of the route's interface (None without a route)."""
        route = self.lookup(destination)
        return self.address_of(route.interface) if route is not None else None

    def count(self, name: str, n: int = 1) -> None:
        if name not in IPV6_COUNTERS:
            raise KeyError(f"{name!r} is not an IPv6 counter")
        self.counters[name] += n

    def icmp_error(self, about: IpPacket, icmp_type: int, code: int, counter: str, *,
                   parameter: int = 0) -> bytes | None:
        """An ICMPv6 error about ``about`` (counted in ``counter`` and
        ``icmpOutMsgs``), from the router's address on the interface that
        leads back to its source; None when none may be sent (RFC 4443 2.4
        e, not about the router's own packets) or there is no route back."""
        if self.is_local(about.src) or not may_send_icmpv6_error(about, too_big=icmp_type == ICMPV6_PACKET_TOO_BIG):
            return None
        source = self.source_for(about.src)
        if source is None:
            return None
        self.count(counter)
        self.count("icmpOutMsgs")
        return icmpv6_error(source, about.src, icmp_type, code, about.packet, parameter=parameter)


# -- commands -------------------------------------------------------------------------------------

class Ipv6Prefix(ValueType):
    """An IPv6 address with its prefix length, ``2001:db8:1::1/64``;
    ``prefix_optional``: a bare address is accepted too."""

    def __init__(self, prefix_optional: bool = False):
        self.prefix_optional = prefix_optional

    def parse(self, text: str):
        if "/" not in text:
            if self.prefix_optional:
                return Ipv6Address().parse(text)
            raise InvalidValue(f'"{text}" has no prefix length: expected {self.describe()}, e.g. 2001:db8:1::1/64')
        address, _, length = text.partition("/")
        Ipv6Address().parse(address)
        if not length.isdigit() or not 0 <= int(length) <= 128:
            raise InvalidValue(f'"{text}": the prefix length must be 0..128', out_of_range=length.isdigit())
        return ipaddress.IPv6Interface(f"{address}/{int(length)}")

    def describe(self) -> str:
        return "ipv6add[/prefix-length]" if self.prefix_optional else "ipv6add/prefix-length"


_IFACE = InterfaceName()
ADD, DEL, SH, IPV6 = P("ADD"), P("DELete"), P("SHow"), P("IPV6")

IPV6_COMMANDS = (
    Command((P("ENAble"), IPV6), (), "enable_ipv6", "Enable the IPv6 module", "AlliedWare (enable ipv6)"),
    Command((P("DISable"), IPV6), (), "disable_ipv6", "Disable the IPv6 module", "AlliedWare (disable ipv6)"),
    Command((ADD, IPV6, P("INTerface", _IFACE)), (P("IPaddress", Ipv6Prefix(), required=True, dest="address"),),
            "add_interface", "Give an interface an IPv6 address", "AlliedWare (add ipv6 interface= ipaddress=)"),
    Command((DEL, IPV6, P("INTerface", _IFACE)),
            (P("IPaddress", Ipv6Prefix(prefix_optional=True), required=True, dest="address"),),
            "delete_interface", "Remove an IPv6 address from an interface", "AlliedWare (delete ipv6 interface=)"),
    Command((ADD, IPV6, P("ROUte", Ipv6Prefix())), (P("INTerface", _IFACE, required=True), P("NEXThop", Ipv6Address())),
            "add_route", "Add a static IPv6 route", "AlliedWare (add ipv6 route= interface= nexthop=)"),
    Command((DEL, IPV6, P("ROUte", Ipv6Prefix())), (), "delete_route", "Delete a static IPv6 route",
            "AlliedWare (delete ipv6 route=)"),
    Command((SH, IPV6), (), "show_ipv6", "IPv6 status, interfaces, routes and counters", "AlliedWare (show ipv6)"),
    Command((SH, IPV6, P("INTerface")), (), "show_interfaces", "IPv6 interfaces", "AlliedWare (show ipv6 interface)"),
    Command((SH, IPV6, P("ROUte")), (), "show_routes", "IPv6 routes", "AlliedWare (show ipv6 route)"),
    Command((SH, IPV6, P("COUnter")), (), "show_counters", "IPv6 and ICMPv6 counters",
            "AlliedWare (show ipv6 counter)"),
)


class Ipv6Commands:
    """Carries out :data:`IPV6_COMMANDS` on an :class:`Ipv6Module`."""

    def __init__(self, ipv6: Ipv6Module):
        self.ipv6 = ipv6

    def enable_ipv6(self):
        self.ipv6.enabled = True

    def disable_ipv6(self):
        self.ipv6.enabled = False

    def add_interface(self, interface: str, address):
        self.ipv6.add_address(interface, address)

    def delete_interface(self, interface: str, address):
        self.ipv6.delete_address(interface, address)

    def add_route(self, route, interface, nexthop=None):
        if route.ip != route.network.network_address:
            raise IpConfigError(f"IPv6 route {route}: host bits set; expected the prefix's own address, "
                                f"{route.network}")
        self.ipv6.add_route(route.network, interface, nexthop)

    def delete_route(self, route):
        self.ipv6.delete_route(route.network)

    def show_ipv6(self):
        routes = self.ipv6.routes()
        connected = sum(r.connected for r in routes)
        status = join_lines(["IPv6 Module", "-" * 60,
                             leader("Status", "ENABLED" if self.ipv6.enabled else "DISABLED", 32),
                             leader("Interfaces", len(self.ipv6.interfaces), 32),
                             leader("Routes", f"{len(routes)} ({connected} direct, {len(routes) - connected} "
                                    "static)", 32)])
        return "\n\n".join((status, self.show_interfaces(), self.show_routes(), self.show_counters()))

    def show_interfaces(self):
        widths = [11, 45, 6, 10, 0]
        lines = ["IPv6 Interfaces", "", columns(["Interface", "Address", "MTU", "Received", "Sent"], widths), "-" * 78]
        for i in sorted(self.ipv6.interfaces.values(), key=lambda i: i.name):
            for n, address in enumerate(i.addresses):
                first = n == 0
                lines.append(columns([i.name if first else "", address, self.ipv6.ip.mtu_of(i.name) if first else "",
                                      i.received if first else "", i.sent if first else ""], widths))
        return join_lines(lines)

    def show_routes(self):
        widths = [45, 41, 11, 0]
        lines = ["IPv6 Routes", "", columns(["Destination", "NextHop", "Interface", "Type"], widths), "-" * 103]
        for r in sorted(self.ipv6.routes(), key=lambda r: (-r.network.prefixlen, int(r.network.network_address))):
            lines.append(columns([r.network, r.next_hop or "::", r.interface, "direct" if r.connected else "static"],
                                 widths))
        return join_lines(lines)

    def show_counters(self):
        layout = CounterLayout(2, 29, 32, 59)
        values = [(name, self.ipv6.counters[name]) for name in IPV6_COUNTERS]
        rows = [(values[i], values[i + 1] if i + 1 < len(values) else None) for i in range(0, len(values), 2)]
        waiting = self.ipv6.reassembly
        status = (f"Reassembly: {len(waiting)} datagram{'' if len(waiting) == 1 else 's'} waiting "
                  f"({waiting.buffered} bytes), timeout {waiting.timeout:g} s")
        return join_lines(["IPv6 Counters", "", *layout.rows(rows), "", status])
