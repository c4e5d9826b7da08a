# Ref: spec/ipsec-commands.md §1-§3 (IPsec SPD, control, counter and debug commands)
"""The IPsec configuration and control commands, as data, and their handler.

:data:`IPSEC_COMMANDS` is the manual's syntax lines as
:class:`~pacsim.firmware.cli.grammar.Command` tables (keyword minimums
from the capitals; the exceptions, taken from the manual's examples, are
marked ``# §7.1``). :class:`IpsecCommands` carries them out on an
:class:`~.module.IpsecModule`; model errors reach the console as
``Error: ...`` through :data:`ERRORS`.

Privilege (§0.2): every command here changes the IPsec configuration or
its state and is marked ``SO`` (Security Officer privilege in security
mode, Manager otherwise). That includes the two entries that do not repeat
the rule, ``reset ipsec policy`` and ``set ipsec udpport``: the general
rule ("only users with Security Officer privilege can change the IPsec
configuration", L564-567) covers the listen port, and resetting a policy
destroys its SA bundles; and the counter resets, as their entries say.
"""
from ..cli.grammar import Command, P
from ..cli.keywords import Keyword
from ..cli.privilege import Privilege
from ..cli.values import Choice, CommaList, Integer, InterfaceName, Ipv4Mask, Name, Text, Union
from .command_values import (ACTION_CREATE, ACTION_SET, BOOL, BUNDLE_ID, COMPALG, DFBIT, ENCALG, GROUP, HASHALG,
                             IPVERSION, KEY_ID, KEYMANAGEMENT, MODE, POLICY_NAME, POSITION, PROTOCOL,
                             REPLAY_WINDOW, SA_SELECTORS, SABUNDLE_ID, SPEC_ID, SPI, UDP_PORT, AddressValue,
                             IcmpTypeValue, PeerValue, PortValue, SystemNameValue, TransportValue)
from .config_errors import InvalidConfiguration, IpsecConfigError
from .module import IpsecModule

__all__ = ["IPSEC_COMMANDS", "IpsecCommands", "ERRORS"]

ERRORS = (IpsecConfigError,)
SO = Privilege.SECURITYOFFICER

CRE, SET, DEST = P("CREate"), P("SET"), P("DESTroy")
ENA, DIS, PUR, RESET, ACT = P("ENAble"), P("DISable"), P("PURge"), P("RESET"), P("ACTivate")
IPS = P("IPSec")

_SASPEC_PARAMS = (
    P("COMPalg", COMPALG), P("ENCalg", ENCALG), P("ENCKey", KEY_ID), P("HASHAlg", HASHALG),
    P("HASHKey", KEY_ID), P("INSPI", SPI), P("OUTSPI", SPI), P("REPLAywindowsize", REPLAY_WINDOW),
)

_EXPIRY = (P("EXPIRYKbytes", Integer(1, 4193280)), P("EXPIRYSeconds", Integer(300, 31449600)))

_ANY_INTERFACE = InterfaceName()
_SET_SRC_INTERFACE = InterfaceName(("eth", "ppp", "vlan", "fr", "x25t"))


def _policy_params(create: bool) -> tuple:
    """The optional parameters of create / set ipsec policy (§2.7, §2.8)."""
    params = [
        P("BUNDlespecification", BUNDLE_ID), P("DFBit", DFBIT), P("GROup", GROUP),
        P("ICmptype", IcmpTypeValue("NDALL" if create else "NDall")), P("IPROUtetemplate", Name(31, "template name")),
        P("IPVersion", IPVERSION), P("ISAkmppolicy", Name(24, "ISAKMP policy name")),
        P("KEYmanagement", KEYMANAGEMENT), P("LADdress", AddressValue()), P("LMAsk", Ipv4Mask()),
        P("LNAme", SystemNameValue()), P("LPort", PortValue()),
        P("PEERaddress", PeerValue("DYnamic" if create else "DYNAMIC")), P("POSition", POSITION),
        P("RADdress", AddressValue()), P("RESPondbadspi", BOOL),
        P(Keyword("RMASK", 3) if not create else "RMAsk", Ipv4Mask()),     # §7.1: set's RMASK, example rma=
        P("RNAme", SystemNameValue()), P("RPort", PortValue()), P("SASElectorfrompkt", SA_SELECTORS),
        P("SRCInterface", _ANY_INTERFACE if create else _SET_SRC_INTERFACE),
        P("TRAnsportprotocol", TransportValue()), P("UDPHeartbeat", BOOL), P("UDPPort", UDP_PORT),
        P("UDPTunnel", BOOL), P("USEPFSKey", BOOL),
    ]
    if create:
        params += [P("INTerface", _ANY_INTERFACE, required=True), P("ACtion", ACTION_CREATE, required=True)]
    else:
        # §7.10: set accepts INTerface and KEYmanagement as its own example does (L5395)
        params += [P("INTerface", _ANY_INTERFACE), P("ACtion", ACTION_SET),
                   P("PKTDebuglength", Integer(1, 1500))]
    return tuple(params)


_DEBUG_KINDS = Choice({"ALl": "all", "FIlter": "filter", "PAcket": "packet", "TRace": "trace"})


def _debug_params(enable: bool) -> tuple:
    all_ = "ALl" if enable else "ALL"
    return (
        P("DEBug", CommaList(_DEBUG_KINDS), required=True),
        P("DIrection", CommaList(Choice({"ALl": "all", "IN": "in", "OUt": "out"}))),
        P("DISplay" if enable else "DISPLAY",
          CommaList(Choice({all_: "all", "BUFFERHEADER": "bufferheader", "DATA": "data", "IPHEADER": "ipheader"}))),
        P("RESult", CommaList(Choice({all_: "all", ("FAIl" if enable else "FAIL"): "fail", "PASS": "pass"}))),
        P("SELector", CommaList(Choice({all_: "all", "LADdress": "laddress", "LNAme": "lname", "LPort": "lport",
                                        "RADdress": "raddress", "RNAme": "rname", "RPort": "rport",
                                        "TRAnsportprotocol": "transportprotocol"}))),
        P("WHEre", CommaList(Choice({"ALl": "all", "IPSec": "ipsec", "PROTocol": "protocol"}))),
    )


_COUNTER_GROUPS = CommaList(Choice({"AH": "ah", "ALG": "alg", "COMp": "comp", "ESp": "esp", "MAIn": "main",
                                    "SAD": "sad", "SETUP": "setup", "SPD": "spd"}))
#: disable ipsec policy debug: POLicy={ALl|name}; ALl (``al``) wins over a policy of that name.
_ALL_OR_POLICY = Union(Choice({"ALl": None}), POLICY_NAME)

IPSEC_COMMANDS = (
    # §2.1-§2.3 SA specifications
    Command((CRE, IPS, P("SASpecification", SPEC_ID)),
            (P("KEYmanagement", KEYMANAGEMENT, required=True), P("PROTocol", PROTOCOL, required=True),
             P("ANTIReplayenabled", BOOL), P("MODe", MODE)) + _SASPEC_PARAMS,
            "create_saspecification", "Create an SA specification", "§2.1", SO),
    Command((SET, IPS, P("SASpecification", SPEC_ID)),
            (P("ANTIreplayenabled", BOOL), P("MOde", MODE)) + _SASPEC_PARAMS,
            "set_saspecification", "Change an SA specification", "§2.2", SO),
    Command((DEST, IPS, P("SASpecification", SPEC_ID)), (), "destroy_saspecification",
            "Destroy an SA specification", "§2.3", SO),
    # §2.4-§2.6 bundle specifications
    Command((CRE, IPS, P("BUNDlespecification", BUNDLE_ID)),
            (P("KEYmanagement", KEYMANAGEMENT, required=True),
             P(Keyword("STRING", 3), Text(1, 100, "bundle string"), required=True)) + _EXPIRY,   # §7.1: str=
            "create_bundlespecification", "Create a bundle specification", "§2.4", SO),
    Command((SET, IPS, P("BUNDlespecification", BUNDLE_ID)), _EXPIRY, "set_bundlespecification",
            "Change a bundle specification's expiry limits", "§2.5", SO),
    Command((DEST, IPS, P("BUNDlespecification", BUNDLE_ID)), (), "destroy_bundlespecification",
            "Destroy a bundle specification", "§2.6", SO),
    # §2.7-§2.9 policies
    Command((CRE, IPS, P("POLicy", POLICY_NAME)), _policy_params(True), "create_policy",
            "Create an IPsec policy", "§2.7", SO),
    Command((SET, IPS, P(Keyword("POLIcy", 3), POLICY_NAME)), _policy_params(False), "set_policy",   # §7.1: pol=
            "Change an IPsec policy", "§2.8", SO),
    Command((DEST, IPS, P("POLicy", POLICY_NAME)), (P("SABundle", SABUNDLE_ID),), "destroy_policy",
            "Destroy an IPsec policy or one of its SA bundles", "§2.9", SO),
    # §3 control
    Command((ENA, IPS), (), "enable_ipsec", "Enable IPsec", "§3.1", SO),
    Command((DIS, IPS), (), "disable_ipsec", "Disable IPsec", "§3.2", SO),
    Command((PUR, IPS), (), "purge_ipsec", "Destroy the IPsec configuration", "§3.3", SO),
    Command((SET, IPS, P("UDPPort", UDP_PORT)), (), "set_udpport", "Set the UDP tunnelling listen port", "§3.4", SO),
    Command((RESET, IPS, P("POLicy", POLICY_NAME)), (), "reset_policy", "Reset an IPsec policy", "§3.5", SO),
    Command((RESET, IPS, P("POLicy", POLICY_NAME), P("COUnter")), (), "reset_policy_counter",
            "Clear an IPsec policy's counters", "§3.6", SO),
    Command((RESET, IPS, P("SA", Integer(0, 65535)), P("COUnter")), (), "reset_sa_counter",
            "Clear an IPsec SA's counters", "§3.7", SO),
    Command((RESET, IPS, P("COUnter", _COUNTER_GROUPS, optional_value=True)), (), "reset_counter",
            "Clear IPsec counters", "§3.8", SO),
    Command((ENA, IPS, P("POLicy", POLICY_NAME, optional_value=True)), _debug_params(True),
            "enable_policy_debug", "Enable IPsec policy debugging", "§3.9", SO),
    Command((DIS, IPS, P("POLicy", _ALL_OR_POLICY)), _debug_params(False),
            "disable_policy_debug", "Disable IPsec policy debugging", "§3.10", SO),
)


class IpsecCommands:
    """Carries out :data:`IPSEC_COMMANDS` on ``module``; returns warnings
    (bundles that could not be made) as the command's output."""

    def __init__(self, module: IpsecModule):
        self.module = module

    @staticmethod
    def _out(warnings: list[str]) -> str | None:
        return "\n".join(warnings) if warnings else None

    def create_saspecification(self, **args):
        self.module.create_saspecification(**args)

    def set_saspecification(self, saspecification: int, **args):
        return self._out(self.module.set_saspecification(saspecification, **args))

    def destroy_saspecification(self, saspecification: int):
        self.module.destroy_saspecification(saspecification)

    def create_bundlespecification(self, **args):
        self.module.create_bundlespecification(**args)

    def set_bundlespecification(self, bundlespecification: int, **args):
        self.module.set_bundlespecification(bundlespecification, **args)

    def destroy_bundlespecification(self, bundlespecification: int):
        self.module.destroy_bundlespecification(bundlespecification)

    def create_policy(self, policy: str, interface: str, action, **args):
        return self._out(self.module.create_policy(policy, interface, action, **args))

    def set_policy(self, policy: str, **args):
        return self._out(self.module.set_policy(policy, **args))

    def destroy_policy(self, policy: str, sabundle: int | None = None):
        self.module.destroy_policy(policy, sabundle)

    def enable_ipsec(self):
        return self._out(self.module.enable())

    def disable_ipsec(self):
        self.module.disable()

    def purge_ipsec(self):
        self.module.purge()

    def set_udpport(self, udpport: int):
        self.module.set_udpport(udpport)

    def reset_policy(self, policy: str):
        return self._out(self.module.reset_policy(policy))

    def reset_policy_counter(self, policy: str, counter=None):
        self.module.reset_policy_counters(policy)

    def reset_sa_counter(self, sa: int, counter=None):
        self.module.reset_sa_counters(sa)

    def reset_counter(self, counter=None):
        self.module.reset_counters(None if counter is None else tuple(counter))

    def enable_policy_debug(self, policy=None, debug=(), **options):
        self._debug(policy, debug, True, options)

    def disable_policy_debug(self, policy=None, debug=(), **options):
        self._debug(policy, debug, False, options)

    def _debug(self, policy, debug, enable, options):
        # "not valid when filter debugging is specified": WHEre for enable (L4570), DIrection, DISPLAY and
        # WHEre for disable (L4183-4279)
        banned = {"where"} if enable else {"direction", "display", "where"}
        given = sorted(banned & set(options))
        if "filter" in debug and given:
            raise InvalidConfiguration(f"{', '.join(g.upper() for g in given)} not valid when filter debugging "
                                       "is specified")
        options = {k: _expand(k, v) for k, v in options.items()}
        if enable:
            kinds = ("filter", "packet", "trace") if "all" in debug else debug
            for kind in kinds:
                for k, v in _DEBUG_DEFAULTS.get(kind, {}).items():
                    options.setdefault(k, v)
        self.module.set_policy_debug(policy, tuple(debug), enable, options)


#: Every value of each debug option (what ALL stands for).
_DEBUG_ALL = {"direction": ("in", "out"), "display": ("bufferheader", "data", "ipheader"), "result": ("fail", "pass"),
              "selector": ("laddress", "lname", "lport", "raddress", "rname", "rport", "transportprotocol"),
              "where": ("ipsec", "protocol")}
#: The defaults of enable ipsec policy debug (L4475-4572), per debug kind they apply to.
_DEBUG_DEFAULTS = {"filter": {"result": ("pass",)},
                   "packet": {"direction": ("in", "out"), "display": ("ipheader", "data"), "where": ("ipsec",)}}


def _expand(option: str, values) -> tuple[str, ...]:
    values = tuple(values)
    return _DEBUG_ALL[option] if "all" in values else values
