# Ref: spec/ipsec-commands.md §6.2 (add ip int=... ip=..., add ip rou=... mask=... int=... next=...); RFC 1812 5.2.4, 5.3.1; RFC 1213 (ip group counters)
"""The router's IP module, as much of it as IPsec needs: named IPv4
interfaces, static routes, the longest-prefix route lookup, the IP
counters, and their commands and displays.

Commands (AlliedWare syntax, as the manual's scenario B writes them)::

    ADD IP INTerface=interface IPaddress=ipv4add [MASK=ipv4mask]
    DELete IP INTerface=interface
    ADD IP ROUte=ipv4add MASK=ipv4mask INTerface=interface [NEXThop=ipv4add]
    DELete IP ROUte=ipv4add MASK=ipv4mask
    SHow IP [INTerface|ROUte|COUnter]

An interface has one address and mask (default 255.255.255.0); its subnet
is a connected route. A static route names its interface; the next hop is
kept for the display only (a link here joins exactly two interfaces, or a
LAN's router interface and its hosts, so nothing needs resolving). The
layouts of the displays are ours: the manual's IP chapter is not among the
sources.

Counters (``show ip counter``), named after RFC 1213's ip group:
``inReceives``, ``inHdrErrors`` (malformed, or not IPv4),
``forwDatagrams``, ``inUnknownProtos`` (for the router, but neither ICMP,
UDP nor TCP), ``inDelivers``, ``outRequests`` (sent by the router
itself), ``outNoRoutes``, ``ttlExceeded``, ``ipsecDiscards`` (dropped by
IPsec; which counter says why is in the IPsec displays) and
``outTransmits``.
"""
import collections
import ipaddress
from dataclasses import dataclass, field

from ..cli.grammar import Command, P
from ..cli.layout import CounterLayout, columns, join_lines
from ..cli.values import InterfaceName, Ipv4Address, Ipv4Mask

__all__ = ["IpInterface", "Route", "IpModule", "IpConfigError", "IP_COMMANDS", "IpCommands", "IP_COUNTERS",
           "ERRORS"]

#: The IP counters, in display order.
IP_COUNTERS = ("inReceives", "inHdrErrors", "forwDatagrams", "inUnknownProtos", "inDelivers",
               "outRequests", "outNoRoutes", "ttlExceeded", "ipsecDiscards", "outTransmits")
DEFAULT_MASK = ipaddress.IPv4Address("255.255.255.0")


class IpConfigError(Exception):
    """An IP configuration command that cannot be carried out."""


ERRORS = (IpConfigError,)


@dataclass
class IpInterface:
    """A named IP interface with its address and subnet, and per-interface
    packet counts (``received``, ``sent``)."""
    name: str
    address: ipaddress.IPv4Interface
    received: int = 0
    sent: int = 0

    @property
    def ip(self) -> ipaddress.IPv4Address:
        return self.address.ip

    @property
    def network(self) -> ipaddress.IPv4Network:
        return self.address.network


@dataclass(frozen=True)
class Route:
    """A route: destination ``network``, out ``interface``, ``next_hop``
    (None: directly connected) and whether it is a connected route."""
    network: ipaddress.IPv4Network
    interface: str
    next_hop: ipaddress.IPv4Address | None = None
    connected: bool = False


@dataclass
class IpModule:
    """Interfaces, static routes and counters (see the module docstring)."""
    interfaces: dict[str, IpInterface] = field(default_factory=dict)
    static_routes: list[Route] = field(default_factory=list)
    counters: collections.Counter = field(default_factory=collections.Counter)

    # -- configuration ------------------------------------------------------------------------------

    def add_interface(self, name: str, address, mask=DEFAULT_MASK) -> IpInterface:
        name = name.lower()
        if name in self.interfaces:
            raise IpConfigError(f"interface {name} already has IP address {self.interfaces[name].address.ip}: "
                                "delete it first")
        try:
            iface = ipaddress.IPv4Interface(f"{address}/{mask}")
        except ValueError as e:
            raise IpConfigError(f"IP address {address} with mask {mask}: {e}") from None
        if iface.network.prefixlen < 32 and iface.ip in (iface.network.network_address,
                                                         iface.network.broadcast_address):
            raise IpConfigError(f"{iface.ip} is the network or broadcast address of {iface.network}; expected a "
                                "host address")
        for other in self.interfaces.values():
            if other.network.overlaps(iface.network):
                raise IpConfigError(f"subnet {iface.network} of {name} overlaps {other.network} of {other.name}")
        self.interfaces[name] = IpInterface(name, iface)
        return self.interfaces[name]

    def delete_interface(self, name: str) -> None:
        name = name.lower()
        if name not in self.interfaces:
            raise IpConfigError(f"interface {name} has no IP address")
        users = [r for r in self.static_routes if r.interface == name]
        if users:
            raise IpConfigError(f"interface {name} is used by the route to {users[0].network}: delete it first")
        del self.interfaces[name]

    def add_route(self, network, mask, interface: str, next_hop=None) -> Route:
        interface = interface.lower()
        try:
            net = ipaddress.IPv4Network(f"{network}/{mask}")
        except ValueError as e:
            raise IpConfigError(f"route {network} mask {mask}: {e} (the address must be the network's own)") \
                from None
        if interface not in self.interfaces:
            raise IpConfigError(f"interface {interface} has no IP address: add ip interface={interface} first")
        if any(r.network == net for r in self.static_routes):
            raise IpConfigError(f"a route to {net} exists already")
        route = Route(net, interface, ipaddress.IPv4Address(next_hop) if next_hop is not None else None)
        self.static_routes.append(route)
        return route

    def delete_route(self, network, mask) -> None:
        try:
            net = ipaddress.IPv4Network(f"{network}/{mask}")
        except ValueError as e:
            raise IpConfigError(f"route {network} mask {mask}: {e}") from None
        before = len(self.static_routes)
        self.static_routes = [r for r in self.static_routes if r.network != net]
        if len(self.static_routes) == before:
            raise IpConfigError(f"there is no route to {net}")

    # -- lookups ----------------------------------------------------------------------------------

    def has_interface(self, name: str) -> bool:
        return name.lower() in self.interfaces

    def address_of(self, name: str) -> ipaddress.IPv4Address | None:
        iface = self.interfaces.get(name.lower())
        return iface.ip if iface is not None else None

    def is_local(self, address) -> bool:
        """Whether ``address`` is one of the router's own."""
        return any(i.ip == address for i in self.interfaces.values())

    def routes(self) -> list[Route]:
        """Connected routes, then static routes."""
        return [Route(i.network, i.name, None, True) for i in self.interfaces.values()] + self.static_routes

    def lookup(self, destination) -> Route | None:
        """The longest-prefix route to ``destination`` (IPv4 only); None when none."""
        if not isinstance(destination, ipaddress.IPv4Address):
            return None
        best = None
        for r in self.routes():
            if destination in r.network and (best is None or r.network.prefixlen > best.network.prefixlen):
                best = r
        return best

    def count(self, name: str) -> None:
        if name not in IP_COUNTERS:
            raise KeyError(f"{name!r} is not an IP counter")
        self.counters[name] += 1


# -- commands -------------------------------------------------------------------------------------

_IFACE = InterfaceName()
ADD, DEL, SH, IP = P("ADD"), P("DELete"), P("SHow"), P("IP")

IP_COMMANDS = (
    Command((ADD, IP, P("INTerface", _IFACE)), (P("IPaddress", Ipv4Address(), required=True, dest="address"), P("MASK", Ipv4Mask())),
            "add_interface", "Give an interface an IP address", "§6.2 (add ip int=)"),
    Command((DEL, IP, P("INTerface", _IFACE)), (), "delete_interface", "Remove an interface's IP address", ""),
    Command((ADD, IP, P("ROUte", Ipv4Address())),
            (P("MASK", Ipv4Mask(), required=True), P("INTerface", _IFACE, required=True),
             P("NEXThop", Ipv4Address())), "add_route", "Add a static route", "§6.2 (add ip rou=)"),
    Command((DEL, IP, P("ROUte", Ipv4Address())), (P("MASK", Ipv4Mask(), required=True),), "delete_route",
            "Delete a static route", ""),
    Command((SH, IP), (), "show_ip", "IP interfaces, routes and counters", ""),
    Command((SH, IP, P("INTerface")), (), "show_interfaces", "IP interfaces", ""),
    Command((SH, IP, P("ROUte")), (), "show_routes", "IP routes", ""),
    Command((SH, IP, P("COUnter")), (), "show_counters", "IP counters", ""),
)


class IpCommands:
    """Carries out :data:`IP_COMMANDS` on an :class:`IpModule`."""

    def __init__(self, ip: IpModule):
        self.ip = ip

    def add_interface(self, interface: str, address, mask=None):
        self.ip.add_interface(interface, address, mask or DEFAULT_MASK)

    def delete_interface(self, interface: str):
        self.ip.delete_interface(interface)

    def add_route(self, route, mask, interface, nexthop=None):
        self.ip.add_route(route, mask, interface, nexthop)

    def delete_route(self, route, mask):
        self.ip.delete_route(route, mask)

    def show_ip(self):
        return "\n\n".join((self.show_interfaces(), self.show_routes(), self.show_counters()))

    def show_interfaces(self):
        lines = ["IP Interfaces", "", "Interface  Address          Mask             Received  Sent", "-" * 60]
        for i in sorted(self.ip.interfaces.values(), key=lambda i: i.name):
            lines.append(columns([i.name, i.ip, i.network.netmask, i.received, i.sent], [11, 17, 17, 10, 0]))
        return join_lines(lines)

    def show_routes(self):
        lines = ["IP Routes", "", "Destination      Mask             NextHop          Interface  Type", "-" * 66]
        for r in sorted(self.ip.routes(), key=lambda r: (-r.network.prefixlen, int(r.network.network_address))):
            lines.append(columns([r.network.network_address, r.network.netmask, r.next_hop or "0.0.0.0",
                                  r.interface, "direct" if r.connected else "static"], [17, 17, 17, 11, 0]))
        return join_lines(lines)

    def show_counters(self):
        layout = CounterLayout(2, 29, 32, 59)
        values = [(name, self.ip.counters[name]) for name in IP_COUNTERS]
        rows = [(values[i], values[i + 1] if i + 1 < len(values) else None) for i in range(0, len(values), 2)]
        return join_lines(["IP Counters", ""] + layout.rows(rows))
