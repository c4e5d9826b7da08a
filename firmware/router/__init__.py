"""The router model: a :class:`Router` (console, IP interfaces and routes,
IPsec on one card), its IP and IPv6 modules and packet helpers, and the display
adapters that connect the IPsec displays to the data plane and the card."""
from .ip import IpInterface, IpModule, Route
from .ipv6 import Ipv6Interface, Ipv6Module, Ipv6Route
from .router import DroppedPacket, Router
from .runtime import RouterRuntime

__all__ = ["Router", "DroppedPacket", "IpModule", "IpInterface", "Route", "Ipv6Module", "Ipv6Interface", "Ipv6Route",
           "RouterRuntime"]
