# Ref: spec/ipsec-commands.md §2.7 (LADdress, RADdress, LMAsk, RMAsk, LPort, RPort, TRAnsportprotocol, ICmptype), §5.4 B25-B28
"""Packet selectors: what a policy matches, what a packet offers, and the match.

A policy selects on local and remote address, local and remote port,
transport protocol (and ICMP type); an unset selector matches anything
(B28). "Local" and "remote" are seen from the router: for an outbound
packet local is the source and remote the destination, for an inbound
packet the other way round.

- :class:`AddressSelector`: ANY, a single address, a subnet (IPv4 address
  with a mask, IPv6 address with a prefix length) or an inclusive range.
  The base address of a subnet is masked (``192.168.1.1`` with
  ``255.255.255.240`` is 192.168.1.0-192.168.1.15).
- :class:`PortSelector`, :class:`ProtocolSelector`: ANY, OPAQUE (also any:
  the manual gives both the same meaning) or one number.
- :class:`PacketSelector`: a packet's addresses, protocol, ports and ICMP type.
- :class:`PolicySelectors`: a policy's selectors and :meth:`~PolicySelectors.mismatch`,
  which names the first selector that fails with the name of its
  ``Policy Filter Counters`` counter (spec/show-outputs.md §3.8), or None.

Name selectors (lname, rname) are not matched here: they select SA bundle
negotiations (ISAKMP), not packets.
"""
import enum
import ipaddress
from dataclasses import dataclass

__all__ = ["Direction", "AddressKind", "AddressSelector", "PortSelector", "ProtocolSelector",
           "PacketSelector", "PolicySelectors", "TRANSPORT_PROTOCOLS", "ICMP", "ICMPV6", "NDALL"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ICMP, ICMPV6 = 1, 58
#: Transport protocol names of TRAnsportprotocol and their numbers (ICMP is 58 in an IPv6 policy).
TRANSPORT_PROTOCOLS = {"EGP": 8, "ESP": 50, "GRE": 47, "ICMP": ICMP, "OSPF": 89, "RSVP": 46, "TCP": 6, "UDP": 17}
#: ``icmptype=ndall``: the ICMPv6 neighbour discovery types (B68).
NDALL = (133, 134, 135, 136)


class Direction(enum.Enum):
    """Which way a packet crosses the interface."""
    OUTBOUND = "out"
    INBOUND = "in"


class AddressKind(enum.Enum):
    ANY = "any"
    SINGLE = "single"
    SUBNET = "subnet"
    RANGE = "range"


@dataclass(frozen=True)
class AddressSelector:
    """An address selector (see the module docstring). ``low``/``high``
    bound the matched addresses (ints); ``version`` is None for ANY."""
    kind: AddressKind
    version: int | None = None
    address: IpAddress | None = None         #: the address as given (first of a range)
    last: IpAddress | None = None            #: last address of a range
    mask: ipaddress.IPv4Address | None = None  #: IPv4 subnet mask
    prefix: int | None = None                #: IPv6 prefix length

    ANY_TEXT = "ANY"

    @classmethod
    def any(cls) -> "AddressSelector":
        return cls(AddressKind.ANY)

    @classmethod
    def parse(cls, text: str) -> "AddressSelector":
        """``ipv4add``, ``ipv4add-ipv4add``, ``ipv6add``, ``ipv6add/prefix``
        or ``ipv6add-ipv6add``; raises ValueError naming the fault."""
        if "-" in text:
            first_text, _, last_text = text.partition("-")
            first, last = _address(first_text), _address(last_text)
            if first.version != last.version:
                raise ValueError(f'"{text}" mixes IPv{first.version} and IPv{last.version} addresses')
            if int(last) < int(first):
                raise ValueError(f'"{text}" is not a range: {last} comes before {first}')
            return cls(AddressKind.RANGE, first.version, first, last)
        if "/" in text:
            addr_text, _, prefix_text = text.partition("/")
            addr = _address(addr_text)
            if addr.version != 6:
                raise ValueError(f'"{text}": a prefix length is for IPv6 addresses; use lmask/rmask for IPv4')
            if not prefix_text.isdigit() or not 1 <= int(prefix_text) <= 128:
                raise ValueError(f'"{text}": the prefix length must be 1..128')
            return cls(AddressKind.SUBNET, 6, addr, prefix=int(prefix_text))
        addr = _address(text)
        return cls(AddressKind.SINGLE, addr.version, addr)

    def with_mask(self, mask: ipaddress.IPv4Address | None) -> "AddressSelector":
        """This single IPv4 address as a subnet with ``mask`` (LMAsk/RMAsk);
        unchanged for no mask. Raises ValueError if the selector is not a
        single IPv4 address."""
        if mask is None:
            return self
        if self.kind is not AddressKind.SINGLE or self.version != 4:
            raise ValueError("a mask applies to a single IPv4 address only")
        return AddressSelector(AddressKind.SUBNET, 4, self.address, mask=mask)

    @property
    def bounds(self) -> tuple[int, int] | None:
        """(low, high) of the matched addresses as ints; None for ANY."""
        if self.kind is AddressKind.ANY:
            return None
        a = int(self.address)
        if self.kind is AddressKind.SINGLE:
            return a, a
        if self.kind is AddressKind.RANGE:
            return a, int(self.last)
        bits = 32 if self.version == 4 else 128
        if self.mask is not None:
            m = int(self.mask)
        else:
            m = ((1 << bits) - 1) ^ ((1 << (bits - self.prefix)) - 1)
        low = a & m
        return low, low | (((1 << bits) - 1) ^ m)

    def contains(self, addr: IpAddress) -> bool:
        """Whether ``addr`` is selected (an address of the other IP version is not)."""
        if self.kind is AddressKind.ANY:
            return True
        if addr.version != self.version:
            return False
        low, high = self.bounds
        return low <= int(addr) <= high

    @property
    def is_range(self) -> bool:
        return self.kind is AddressKind.RANGE

    def __str__(self) -> str:
        if self.kind is AddressKind.ANY:
            return self.ANY_TEXT
        if self.kind is AddressKind.RANGE:
            return f"{self.address}-{self.last}"
        if self.kind is AddressKind.SUBNET and self.prefix is not None:
            return f"{self.address}/{self.prefix}"
        return str(self.address)


def _address(text: str) -> IpAddress:
    try:
        if ":" not in text and text.count(".") != 3:
            raise ValueError
        return ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f'"{text}" is not an IPv4 or IPv6 address') from None


@dataclass(frozen=True)
class PortSelector:
    """ANY, OPAQUE or one port 0..65535 (``port`` None for ANY/OPAQUE)."""
    port: int | None = None
    opaque: bool = False

    def contains(self, port: int | None) -> bool:
        return self.port is None or port == self.port

    def __str__(self) -> str:
        if self.port is not None:
            return str(self.port)
        return "OPAQUE" if self.opaque else "ANY"


@dataclass(frozen=True)
class ProtocolSelector:
    """ANY, OPAQUE or one transport protocol; ``name`` keeps the keyword it
    was given as (``UDP``) for the displays."""
    number: int | None = None
    opaque: bool = False
    name: str | None = None

    def contains(self, protocol: int) -> bool:
        return self.number is None or protocol == self.number

    def __str__(self) -> str:
        if self.number is None:
            return "OPAQUE" if self.opaque else "ANY"
        return self.name or str(self.number)


@dataclass(frozen=True)
class PacketSelector:
    """What a packet offers to the selectors: ``src``/``dst`` addresses,
    IP ``protocol`` number, ``src_port``/``dst_port`` (TCP/UDP; None if the
    packet has none) and ``icmp_type`` (ICMP/ICMPv6)."""
    src: IpAddress
    dst: IpAddress
    protocol: int
    src_port: int | None = None
    dst_port: int | None = None
    icmp_type: int | None = None

    @classmethod
    def of(cls, src: str, dst: str, protocol: int, src_port: int | None = None, dst_port: int | None = None,
           icmp_type: int | None = None) -> "PacketSelector":
        """From address strings."""
        return cls(ipaddress.ip_address(src), ipaddress.ip_address(dst), protocol, src_port, dst_port, icmp_type)

    def local_remote(self, direction: Direction):
        """(local address, remote address, local port, remote port) seen from the router."""
        if direction is Direction.OUTBOUND:
            return self.src, self.dst, self.src_port, self.dst_port
        return self.dst, self.src, self.dst_port, self.src_port


@dataclass(frozen=True)
class PolicySelectors:
    """The selectors of one policy (addresses already combined with their masks)."""
    local: AddressSelector = AddressSelector.any()
    remote: AddressSelector = AddressSelector.any()
    local_port: PortSelector = PortSelector()
    remote_port: PortSelector = PortSelector()
    transport: ProtocolSelector = ProtocolSelector()
    icmp_types: tuple[int, ...] = ()
    ip_version: int = 4

    def mismatch(self, packet: PacketSelector, direction: Direction) -> str | None:
        """None if ``packet`` matches every selector, else the name of the
        Policy Filter counter of the first that fails, in the order local
        address, remote address, local port, remote port, transport protocol."""
        local, remote, lport, rport = packet.local_remote(direction)
        if local.version != self.ip_version or not self.local.contains(local):
            return "localAddressRangeFailed" if self.local.is_range else "localAddressMaskFailed"
        if remote.version != self.ip_version or not self.remote.contains(remote):
            return "remoteAddressRangeFailed" if self.remote.is_range else "remoteAddressMaskFailed"
        if not self.local_port.contains(lport):
            return "localPortFailed"
        if not self.remote_port.contains(rport):
            return "remotePortFailed"
        if not self.transport.contains(packet.protocol):
            return "transportProtoFailed"
        if self.icmp_types and (packet.protocol not in (ICMP, ICMPV6) or packet.icmp_type not in self.icmp_types):
            return "transportProtoFailed"
        return None
