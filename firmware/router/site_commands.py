# Ref: ../shared/spec/ipsec-commands.md §6.1 (create/set config), §6.2 (system name, VLANs, firewall), §7 item 39
"""The router commands the manual's two scenarios type besides IPsec,
ISAKMP, ENCO, users and IP: the system name, VLANs, the firewall and
configuration files. They are checked and stored (``show`` of them is not
modelled); what they would change in a real router either shows in the
simulation or is said not to, in the command's answer:

    SET SYStem NAme=text                 the name in the console prompt
    CREate VLAN=name VID=2..4094         a VLAN (the interface is vlanVID)
    ADD VLAN={vid|name} PORT=1..64       a switch port joins the VLAN
    CREate FIREwall POLIcy=name          a firewall policy
    ADD FIREwall POLIcy=name INTerface=iface TYPE={PRIvate|PUBlic}
    ADD FIREwall POLIcy=name NAT={ENHanced|STAndard} INTerface=iface GBLINTerface=iface
    ADD FIREwall POLIcy=name RUle=1..9999 INTerface=iface ACTion={ALLow|DENy|NONat|NAT}
        [IP=range] [PROTocol={ALL|TCP|UDP|ICMP|0..255}] [PORT=0..65535] [GBLIP=ipv4add]
        [GBLPOrt=0..65535] [ENCApsulation=IPSEC] [REMOTEIP=range] [POLIcy=name]
    CREate CONFig=file                   write the configuration to a file
    SET CONFig=file                      the file the router boots from

``range`` is ``ipv4add`` or ``ipv4add-ipv4add``: the manual's placeholder
``x.x.x.x - x.x.x.x`` is bound as one word without blanks. Rule 4 of the
NAT-T example repeats ``policy=main ru=4`` (§7 item 39): a repeat with the
same value is accepted.

What each does in the simulation:

- the system name is real: the console prompt carries it;
- VLANs: the simulation's interfaces are the IP interfaces ``add ip
  int=vlanN`` creates, joined by network-script links, not switch ports;
  VLANs and ports are stored, and the answer says they change nothing;
- the firewall: in the scenarios every packet the firewall would see is
  either ISAKMP/NAT-T to the router's own address (rules 1-2 map the
  interconnect address and port to themselves) or VPN traffic exempted
  from NAT (rules 3-4, ``nonat``); address translation is done by the
  network's NAT gateway nodes (:mod:`pacsim.sim.nat_gateway`), so rules
  are checked, stored and not applied, which the answer says;
- configuration files: the simulated router has no file system;
  ``create config`` records the name, ``set config`` needs a created
  file, and the answer says nothing is written or survives a restart.
"""
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from ..cli.errors import CommandFailed, MissingParameter
from ..cli.grammar import Command, P
from ..cli.values import Choice, Integer, InterfaceName, InvalidValue, Ipv4Address, Name, Union, ValueType

__all__ = ["SITE_COMMANDS", "SiteCommands", "SiteConfig", "FirewallRule", "Ipv4Range"]


class Ipv4Range(ValueType):
    """``ipv4add`` or ``ipv4add-ipv4add`` (low to high): a tuple of two addresses."""

    def parse(self, text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
        low, _, high = text.partition("-")
        first = Ipv4Address().parse(low.strip())
        last = Ipv4Address().parse(high.strip()) if high else first
        if last < first:
            raise InvalidValue(f'"{text}": the range ends below where it starts')
        return first, last

    def describe(self) -> str:
        return "ipv4add[-ipv4add]"


@dataclass(frozen=True)
class FirewallRule:
    """A stored firewall rule: its number, interface, action and the other
    parameters as given (``options``: name to value)."""
    number: int
    interface: str
    action: str
    options: tuple = ()


@dataclass
class SiteConfig:
    """What the commands store: ``system_name``, ``vlans`` (vid to name),
    ``ports`` (port to vid), firewall ``policies`` (name to a dict of
    ``interfaces`` (iface to type), ``nat`` ((type, iface, global iface)
    tuples) and ``rules`` (number to :class:`FirewallRule`)) and the
    configuration ``files`` created, with the ``boot_file``."""
    system_name: str = ""
    vlans: dict = field(default_factory=lambda: {1: "default"})
    ports: dict = field(default_factory=dict)
    policies: dict = field(default_factory=dict)
    files: set = field(default_factory=set)
    boot_file: str | None = None


_NO_FIREWALL = "the simulation does not apply firewall rules (address translation is the network's NAT gateways')"
_IFACE = InterfaceName()
_POLICY = Name(15, "policy name")
_VID = Integer(2, 4094, "VLAN identifier")
_PORT = Integer(0, 65535)
_PROTOCOL = Union(Choice({"ALL": "all", "TCP": "tcp", "UDP": "udp", "ICMP": "icmp"}), Integer(0, 255))
_ACTION = Choice({"ALLow": "allow", "DENy": "deny", "NONat": "nonat", "NAT": "nat"})
_FILE = Name(63, "file name")
ADD, CREATE, SET, FIREWALL = P("ADD"), P("CREate"), P("SET"), P("FIREwall")

SITE_COMMANDS = (
    Command((SET, P("SYStem"), P("NAme", Name(63, "system name"))), (), "set_system_name",
            "Name the router (shown in the prompt)", "§6.2"),
    Command((CREATE, P("VLAN", Name(32, "VLAN name"))), (P("VID", _VID, required=True),), "create_vlan",
            "Create a VLAN", "§6.2"),
    Command((ADD, P("VLAN", Union(Integer(1, 4094), Name(32, "VLAN name")))),
            (P("PORT", Integer(1, 64, "switch port"), required=True),), "add_vlan_port", "Add a port to a VLAN",
            "§6.2"),
    Command((CREATE, FIREWALL, P("POLIcy", _POLICY)), (), "create_firewall_policy", "Create a firewall policy",
            "§6.2"),
    Command((ADD, FIREWALL, P("POLIcy", _POLICY)),
            (P("INTerface", _IFACE), P("TYPE", Choice({"PRIvate": "private", "PUBlic": "public"})),
             P("NAT", Choice({"ENHanced": "enhanced", "STAndard": "standard"})),
             P("GBLINTerface", _IFACE, dest="global_interface"), P("RUle", Integer(1, 9999), repeat=True),
             P("ACTion", _ACTION), P("IP", Ipv4Range()), P("PROTocol", _PROTOCOL), P("PORT", _PORT),
             P("GBLIP", Ipv4Address(), dest="global_ip"), P("GBLPOrt", _PORT, dest="global_port"),
             P("ENCApsulation", Choice({"IPSEC": "ipsec"})), P("REMOTEIP", Ipv4Range(), dest="remote_ip"),
             P("POLIcy", _POLICY, repeat=True)),
            "add_firewall", "Add an interface, a NAT or a rule to a firewall policy", "§6.2, §7 item 39"),
    Command((CREATE, P("CONFig", _FILE)), (), "create_config", "Write the configuration to a file", "§6.1"),
    Command((SET, P("CONFig", _FILE)), (), "set_config", "Choose the boot configuration file", "§6.1"),
)


class SiteCommands:
    """Carries out :data:`SITE_COMMANDS` on a :class:`SiteConfig`;
    ``interface_exists(name)`` tells whether the router has an IP interface."""

    def __init__(self, config: SiteConfig, interface_exists: Callable[[str], bool]):
        self.config = config
        self.interface_exists = interface_exists

    def set_system_name(self, name: str):
        self.config.system_name = name
        return f'Info: The system name is now "{name}"; the console prompt shows it.'

    def create_vlan(self, vlan: str, vid: int):
        if vid in self.config.vlans:
            raise CommandFailed(f"VLAN {vid} already exists (named {self.config.vlans[vid]})")
        if vlan in self.config.vlans.values():
            raise CommandFailed(f"a VLAN named {vlan} already exists")
        self.config.vlans[vid] = vlan
        return (f"Info: VLAN {vlan} (vid {vid}) created: its IP interface is vlan{vid}; switch ports have no "
                "effect in the simulation (links join IP interfaces).")

    def add_vlan_port(self, vlan, port: int):
        vid = vlan if isinstance(vlan, int) else next((v for v, n in self.config.vlans.items() if n == vlan), None)
        if vid not in self.config.vlans:
            raise CommandFailed(f"there is no VLAN {vlan}; create it with CREATE VLAN=name VID=vid")
        self.config.ports[port] = vid
        return f"Info: port {port} is in VLAN {vid}; no effect in the simulation (links join IP interfaces)."

    def create_firewall_policy(self, policy: str):
        if policy.lower() in self.config.policies:
            raise CommandFailed(f"firewall policy {policy} already exists")
        self.config.policies[policy.lower()] = {"interfaces": {}, "nat": [], "rules": {}}
        return f"Info: firewall policy {policy} created; {_NO_FIREWALL}."

    def add_firewall(self, policy: str, interface: str | None = None, type: str | None = None,
                     nat: str | None = None, global_interface: str | None = None, rule: int | None = None,
                     action: str | None = None, **options):
        stored = self.config.policies.get(policy.lower())
        if stored is None:
            raise CommandFailed(f"there is no firewall policy {policy}; create it with CREATE FIREWALL POLICY")
        if interface is None:
            raise MissingParameter("ADD FIREWALL POLICY needs INTERFACE=")
        self._check_interface(interface)
        forms = [name for name, given in (("TYPE", type), ("NAT", nat), ("RULE", rule)) if given is not None]
        if len(forms) != 1:
            raise CommandFailed("ADD FIREWALL POLICY takes one of TYPE= (an interface), NAT= (a translation) "
                                f"or RULE= (a rule), not {' and '.join(forms) or 'none'}")
        extra = sorted(k.upper() for k, v in options.items() if v is not None)
        if type is not None or nat is not None:
            if extra or action is not None or global_interface is not None and nat is None:
                raise CommandFailed(f"ADD FIREWALL POLICY {forms[0]}= takes INTERFACE= only"
                                    + (" and GBLINTERFACE=" if nat else ""))
        if type is not None:
            stored["interfaces"][interface] = type
            return f"Info: {interface} is a {type} interface of firewall policy {policy}; {_NO_FIREWALL}."
        if nat is not None:
            if global_interface is None:
                raise MissingParameter("ADD FIREWALL POLICY NAT= needs GBLINTERFACE=")
            self._check_interface(global_interface)
            stored["nat"].append((nat, interface, global_interface))
            return f"Info: {nat} NAT from {interface} to {global_interface} stored; {_NO_FIREWALL}."
        if action is None:
            raise MissingParameter("ADD FIREWALL POLICY RULE= needs ACTION=")
        if rule in stored["rules"]:
            raise CommandFailed(f"firewall policy {policy} already has rule {rule}")
        stored["rules"][rule] = FirewallRule(rule, interface, action, tuple(sorted(
            (k, v) for k, v in options.items() if v is not None and k != "policy")))
        return f"Info: rule {rule} ({action}) added to firewall policy {policy}; {_NO_FIREWALL}."

    def create_config(self, config: str):
        self.config.files.add(config.lower())
        return (f"Info: configuration file {config} created; the simulated router has no file system: nothing "
                "is written and nothing survives a restart.")

    def set_config(self, config: str):
        if config.lower() not in self.config.files:
            raise CommandFailed(f"there is no configuration file {config}; create it with CREATE CONFIG={config}")
        self.config.boot_file = config.lower()
        return f"Info: the router would boot from {config}; no effect in the simulation (nothing survives a restart)."

    def _check_interface(self, interface: str) -> None:
        if not self.interface_exists(interface):
            raise CommandFailed(f"interface {interface} has no IP address; add it with ADD IP INTERFACE=")
