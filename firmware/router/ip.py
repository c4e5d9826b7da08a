# Ref: spec/ipsec-commands.md §6.2 (add ip int=... ip=... frag=yes, add ip rou=... mask=... int=... next=...,
#      set eth0 mtu=1300), B88; RFC 1812 5.2.4, 5.3.1; RFC 1213 (ip and icmp group counters); RFC 791 (68-byte MTU)
"""The router's IP module, as much of it as IPsec needs: named IPv4
interfaces with their MTUs, static routes, the longest-prefix route lookup,
the IP counters, the datagrams in reassembly, and their commands and
displays. IPv6 addresses, routes and counters are in :mod:`.ipv6`; the
interface MTU is kept here for both.

Commands (AlliedWare syntax, as the manual's scenario B writes them)::

    ADD IP INTerface=interface IPaddress=ipv4add [MASK=ipv4mask] [FRAgment={Yes|No}]
    SET IP INTerface=interface FRAgment={Yes|No}
    DELete IP INTerface=interface
    SET interface MTU=68..1500
    ADD IP ROUte=ipv4add MASK=ipv4mask INTerface=interface [NEXThop=ipv4add]
    DELete IP ROUte=ipv4add MASK=ipv4mask
    SHow IP [INTerface|ROUte|COUnter]

An interface has one address and mask (default 255.255.255.0); its subnet
is a connected route. ``SET eth0 MTU=1300`` (scenario B, "Smaller MRU/MTU
settings are needed for IPsec tunnel mode", B88) sets the largest IP packet
the interface sends, headers included; it belongs to the interface itself,
so it may come before the interface has an IP address and stays when the
address is deleted. The default is 1500 (Ethernet's), which is also the
most; the least is 68, the datagram RFC 791 has every module forward
whole. ``INTerface=`` may be left out: ``SET ppp0 MTU=1400``. FRAgment=Yes
(scenario B's ``frag=yes``; AlliedWare's ipfragment) makes the interface
fragment packets too big for its MTU even when they have DF set; the
default, No, obeys DF (see :mod:`.mtu`). A static route names its interface; the next hop is
kept for the display only (a link here joins exactly two interfaces, or a
LAN's router interface and its hosts, so nothing needs resolving). The
layouts of the displays are ours: the manual's IP chapter is not among the
sources.

Counters (``show ip counter``), named after RFC 1213's ip group:
``inReceives``, ``inHdrErrors`` (malformed IPv4; also malformed
fragments), ``forwDatagrams``, ``inUnknownProtos`` (for the router, but
neither ICMP, UDP nor TCP), ``inDelivers``, ``outRequests`` (sent by the
router itself), ``outNoRoutes``, ``ttlExceeded``, ``ipsecDiscards``
(dropped by IPsec; which counter says why is in the IPsec displays) and
``outTransmits`` (packets handed to an interface, each fragment one);
then fragmentation and reassembly (``fragOKs``, ``fragCreates``,
``fragFails``, ``reasmReqds``, ``reasmOKs``, ``reasmFails``,
``reasmTimeouts``, ``reasmOverlaps``, ``reasmDuplicates``) and the ICMP
errors the router made (``icmpOutDestUnreachs``, ``icmpOutTimeExcds``),
described in :mod:`.mtu`. Below the counters, the display says how many
datagrams wait for reassembly.
"""
import collections
import ipaddress
from dataclasses import dataclass, field

from ..cli.grammar import Command, P
from ..cli.layout import CounterLayout, columns, join_lines
from ..cli.values import Boolean, Integer, InterfaceName, InvalidValue, Ipv4Address, Ipv4Mask
from .fragments import Reassembly

__all__ = ["IpInterface", "Route", "IpModule", "IpConfigError", "IP_COMMANDS", "IpCommands", "IP_COUNTERS",
           "ERRORS", "DEFAULT_MTU", "MIN_MTU", "MAX_MTU", "longest_prefix"]

#: The IP counters, in display order (pairs share a display row).
IP_COUNTERS = ("inReceives", "inHdrErrors", "forwDatagrams", "inUnknownProtos", "inDelivers",
               "outRequests", "outNoRoutes", "ttlExceeded", "ipsecDiscards", "outTransmits",
               "fragOKs", "fragCreates", "fragFails", "reasmReqds", "reasmOKs", "reasmFails",
               "reasmTimeouts", "reasmOverlaps", "reasmDuplicates", "icmpOutDestUnreachs", "icmpOutTimeExcds")
DEFAULT_MASK = ipaddress.IPv4Address("255.255.255.0")
#: Interface MTUs (see the module docstring).
DEFAULT_MTU = 1500
MIN_MTU = 68
MAX_MTU = 1500


class IpConfigError(Exception):
    """An IP configuration command that cannot be carried out."""


ERRORS = (IpConfigError,)


@dataclass
class IpInterface:
    """A named IP interface with its address and subnet, whether it
    fragments packets with DF set (``fragment``, FRAgment=Yes), and
    per-interface packet counts (``received``, ``sent``; fragments count
    one each)."""
    name: str
    address: ipaddress.IPv4Interface
    received: int = 0
    sent: int = 0
    fragment: bool = False

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


def longest_prefix(routes, destination, version_type):
    """The route of ``routes`` (each with a ``network``) whose network holds
    ``destination`` with the longest prefix, the first of equals; None when
    none does or ``destination`` is not a ``version_type`` address."""
    if not isinstance(destination, version_type):
        return None
    best = None
    for r in routes:
        if destination in r.network and (best is None or r.network.prefixlen > best.network.prefixlen):
            best = r
    return best


@dataclass
class IpModule:
    """Interfaces, MTUs (by interface name, whether or not it has an IP
    address), static routes, counters and the datagrams in reassembly (see
    the module docstring)."""
    interfaces: dict[str, IpInterface] = field(default_factory=dict)
    static_routes: list[Route] = field(default_factory=list)
    counters: collections.Counter = field(default_factory=collections.Counter)
    mtus: dict[str, int] = field(default_factory=dict)
    reassembly: Reassembly = field(default_factory=Reassembly)
    #: ``check(name, mtu)`` calls that may refuse an MTU (IpConfigError): the IPv6 module's 1280-byte floor.
    mtu_checks: list = field(default_factory=list)

    # -- configuration ------------------------------------------------------------------------------

    def set_mtu(self, name: str, mtu: int) -> None:
        """The MTU of interface ``name`` (it need not have an IP address yet)."""
        if not MIN_MTU <= mtu <= MAX_MTU:
            raise IpConfigError(f"MTU {mtu} for {name.lower()}: expected {MIN_MTU} (the least RFC 791 allows) to "
                                f"{MAX_MTU} bytes")
        for check in self.mtu_checks:
            check(name, mtu)
        self.mtus[name.lower()] = mtu

    def mtu_of(self, name: str) -> int:
        return self.mtus.get(name.lower(), DEFAULT_MTU)

    def set_fragment(self, name: str, fragment: bool) -> None:
        """Whether interface ``name`` fragments packets with DF set (FRAgment=Yes)."""
        iface = self.interfaces.get(name.lower())
        if iface is None:
            raise IpConfigError(f"interface {name.lower()} has no IP address: add ip interface={name.lower()} first")
        iface.fragment = fragment

    def add_interface(self, name: str, address, mask=DEFAULT_MASK, fragment: bool = False) -> IpInterface:
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
        self.interfaces[name] = IpInterface(name, iface, fragment=fragment)
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
        return longest_prefix(self.routes(), destination, ipaddress.IPv4Address)

    def count(self, name: str) -> None:
        if name not in IP_COUNTERS:
            raise KeyError(f"{name!r} is not an IP counter")
        self.counters[name] += 1


# -- commands -------------------------------------------------------------------------------------

_IFACE = InterfaceName()


class _SetInterface(InterfaceName):
    """The interface of ``SET eth0 MTU=``: any word after SET that is no
    other SET command's, so the message names both readings."""

    def parse(self, text: str) -> str:
        try:
            return super().parse(text)
        except InvalidValue as e:
            raise InvalidValue(f'"{text}" is neither a word SET takes nor an interface name: expected '
                               f"{self.describe()}", e.out_of_range) from None


_FRAGMENT = Boolean(("Yes", "ON", "True"), ("No", "OFf", "False"))
ADD, DEL, SET, SH, IP = P("ADD"), P("DELete"), P("SET"), P("SHow"), P("IP")

IP_COMMANDS = (
    Command((ADD, IP, P("INTerface", _IFACE)),
            (P("IPaddress", Ipv4Address(), required=True, dest="address"), P("MASK", Ipv4Mask()),
             P("FRAgment", _FRAGMENT)),
            "add_interface", "Give an interface an IP address", "§6.2 (add ip int= frag=yes)"),
    Command((SET, IP, P("INTerface", _IFACE)), (P("FRAgment", _FRAGMENT, required=True),), "set_interface",
            "Set whether an interface fragments packets with DF set", "§6.2 (frag=yes)"),
    Command((DEL, IP, P("INTerface", _IFACE)), (), "delete_interface", "Remove an interface's IP address", ""),
    # "set eth0 mtu=1300": the interface is the bare word after SET (a positional INTerface=)
    Command((SET,), (P("INTerface", _SetInterface(), required=True, positional=True),
                     P("MTU", Integer(MIN_MTU, MAX_MTU, "bytes"), required=True)),
            "set_mtu", "Set an interface's MTU", "§6.2 (set eth0 mtu=1300), B88"),
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

    def add_interface(self, interface: str, address, mask=None, fragment=False):
        self.ip.add_interface(interface, address, mask or DEFAULT_MASK, bool(fragment))

    def set_interface(self, interface: str, fragment: bool):
        self.ip.set_fragment(interface, fragment)

    def set_mtu(self, interface: str, mtu: int):
        self.ip.set_mtu(interface, mtu)

    def delete_interface(self, interface: str):
        self.ip.delete_interface(interface)

    def add_route(self, route, mask, interface, nexthop=None):
        self.ip.add_route(route, mask, interface, nexthop)

    def delete_route(self, route, mask):
        self.ip.delete_route(route, mask)

    def show_ip(self):
        return "\n\n".join((self.show_interfaces(), self.show_routes(), self.show_counters()))

    def show_interfaces(self):
        lines = ["IP Interfaces", "", "Interface  Address          Mask             MTU   Frag  Received  Sent",
                 "-" * 72]
        for i in sorted(self.ip.interfaces.values(), key=lambda i: i.name):
            lines.append(columns([i.name, i.ip, i.network.netmask, self.ip.mtu_of(i.name),
                                  "yes" if i.fragment else "no", i.received, i.sent], [11, 17, 17, 6, 6, 10, 0]))
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
        waiting = self.ip.reassembly
        status = (f"Reassembly: {len(waiting)} datagram{'' if len(waiting) == 1 else 's'} waiting "
                  f"({waiting.buffered} bytes), timeout {waiting.timeout:g} s")
        return join_lines(["IP Counters", "", *layout.rows(rows), "", status])
