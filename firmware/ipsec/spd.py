# Ref: spec/ipsec-commands.md §2.1-§2.9 (SPD commands), §5.1-§5.4 (B1-B36), §7 (resolutions listed below)
"""The Security Policy Database: SA specifications, bundle specifications and
IPsec policies (B2), their rules, and the policy lookup.

The model knows nothing of the command line: it takes Python values
(:mod:`.transforms` enums, :mod:`.selectors` objects, ints) under the
parameter names the manual uses, in lower case (``encalg``,
``replaywindowsize``, ``laddress``), and raises
:mod:`.config_errors` exceptions naming the broken rule.

Interface::

    spd = Spd(key_length=keys.length, interface_exists=lambda name: True, count=counters.inc)
    spd.create_saspecification(1, KeyManagement.MANUAL, Protocol.ESP, encalg=EncAlg.DES, ...)
    spd.set_saspecification(1, encalg=EncAlg.TDES2KEY)      # -> SaSpecification
    spd.destroy_saspecification(1)
    spd.create_bundlespecification(1, KeyManagement.MANUAL, "1 and 2")  # also set_/destroy_
    spd.create_policy("vpn", "ppp0", Action.IPSEC, peeraddress=..., keymanagement=..., bundlespecification=1)
    spd.set_policy("vpn", laddress=..., lmask=...)           # -> (old, new)
    spd.destroy_policy("vpn")
    spd.policies("ppp0")            # in position order
    spd.lookup(packet, "ppp0", Direction.OUTBOUND)           # first match or None (B25)

Every create/set validates the whole resulting object and changes nothing
when it fails (DESIGN.md principle 8). ``explicit`` on each object records
the parameters that were given, for the rules that forbid *specifying* a
parameter (e.g. "cannot be specified when ipversion is 6").

Readings of unclear text (ipsec-commands.md §7), as implemented:

- §7.9 ISAkmppolicy is optional for ``action=ipsec``; peer, key management
  and bundle specification are required.
- §7.10 ``set ipsec policy`` also takes INTerface and KEYmanagement, as the
  manual's own example does (L5395); a new interface puts the policy at the
  end of that interface's list unless POSition is given.
- §7.11 RADdress takes RMAsk (not LMAsk).
- §7.12 the whole DFBit parameter is IPv4 only.
- §7.13 ICmptype is allowed for both IP versions and matches ICMP/ICMPv6 packets only.
- §7.14 manual ESP needs HASHKey only when HASHAlg is not NULL; ENCKey only
  when ENCalg is not NULL.
- §7.15 manual IPComp: INSPI/OUTSPI are optional CPIs (at most 65535);
  without them the well-known LZS CPI is used.
- §7.16 expiry limits are accepted with manual keying (the manual's example
  does so) but manual bundles do not expire.
- §7.17 the SA specifications of a bundle string must exist and share the
  bundle's key management when the bundle specification is created; OR
  joins specifications of one protocol; each pair of a proposal uses a
  different protocol.
- §7.18 a specification in use (by a bundle specification or a policy)
  cannot be destroyed.
- §7.29 POSition beyond the end of the list puts the policy at the end;
  a taken position inserts and shifts the others down.
- §7.31 policy names are case-insensitive and unique router-wide.
- §7.32 ALL or NONE cannot be combined with other SASElectorfrompkt values.
- Giving INSPI, OUTSPI, ENCKey or HASHKey with ISAKMP keying, ENCalg for AH,
  or ENCalg/HASHAlg for IPComp, is refused (they would be ignored).
- GROup needs USEPFSKey=TRUE (L2785), USEPFSKey needs ISAKMP keying, and
  RESPondbadspi=TRUE needs action IPSEC, ISAKMP keying and an IPv4 peer
  (L2985-2987): all refused otherwise.
"""
import copy
import enum
import functools
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .bundle_string import BundleString, BundleStringError
from .bundle_string import parse as parse_bundle_string
from .config_errors import AlreadyExists, InUse, InvalidConfiguration, NotFound, counted
from .selectors import (ICMPV6, AddressKind, AddressSelector, Direction, PacketSelector, PolicySelectors,
                        PortSelector, ProtocolSelector)
from .transforms import IPCOMP_LZS_CPI, SPI_RANGE, CompAlg, EncAlg, HashAlg, Mode, Protocol

__all__ = [
    "KeyManagement", "Action", "DfBit", "PeerWildcard", "SaSelector", "SaSpecification", "BundleSpecification",
    "IpsecPolicy", "Spd", "DEFAULT_UDP_PORT",
]

DEFAULT_UDP_PORT = 2746


class KeyManagement(enum.Enum):
    ISAKMP = "ISAKMP"
    MANUAL = "MANUAL"


class Action(enum.Enum):
    DENY = "DENY"
    IPSEC = "IPSEC"
    PERMIT = "PERMIT"


class DfBit(enum.Enum):
    """DFBit: the DF bit of an IPv4 tunnel's outer header (the data plane's
    :class:`~.datapath.BundleProcessor` sets it)."""
    SET = "SET"
    COPY = "COPY"
    CLEAR = "CLEAR"


class PeerWildcard(enum.Enum):
    """PEERaddress ANy (many peers at once) or DYnamic (one peer, address unknown)."""
    ANY = "ANY"
    DYNAMIC = "DYNAMIC"


class SaSelector(enum.Enum):
    """SASElectorfrompkt values: selectors a bundle takes from the packet (B30)."""
    LADDRESS = "laddress"
    LPORT = "lport"
    RADDRESS = "raddress"
    RPORT = "rport"
    TRANSPORTPROTOCOL = "transportprotocol"

    @property
    def bit(self) -> int:
        """Bit of the ``SA Selector from Packet`` display flag (our own assignment)."""
        return 1 << list(SaSelector).index(self)


# ---------------------------------------------------------------------------------------------------
# SA specifications (§2.1-§2.3)

@dataclass
class SaSpecification:
    """A template for SA pairs (B6, B7). Unset algorithms are None (displayed NULL)."""
    id: int
    keymanagement: KeyManagement
    protocol: Protocol
    mode: Mode = Mode.TUNNEL
    encalg: EncAlg | None = None
    hashalg: HashAlg | None = None
    compalg: CompAlg | None = None
    enckey: int | None = None
    hashkey: int | None = None
    inspi: int | None = None
    outspi: int | None = None
    antireplayenabled: bool = False
    replaywindowsize: int = 32
    explicit: frozenset[str] = frozenset()

    @property
    def authenticates(self) -> bool:
        """Whether the SA has an ICV (AH, or ESP with a hash)."""
        return self.hashalg not in (None, HashAlg.NULL)

    @property
    def encrypts(self) -> bool:
        return self.encalg not in (None, EncAlg.NULL)

    @property
    def cpis(self) -> tuple[int, int]:
        """(inbound, outbound) CPI of a manual IPComp SA."""
        return (self.inspi if self.inspi is not None else IPCOMP_LZS_CPI,
                self.outspi if self.outspi is not None else IPCOMP_LZS_CPI)


SASPEC_PARAMETERS = frozenset({"antireplayenabled", "compalg", "encalg", "enckey", "hashalg", "hashkey", "inspi",
                               "mode", "outspi", "replaywindowsize"})


# ---------------------------------------------------------------------------------------------------
# Bundle specifications (§2.4-§2.6)

@dataclass
class BundleSpecification:
    """A template for SA bundles (B10-B12): key management, the bundle
    string (``text`` as given, ``bundle`` parsed) and expiry limits."""
    id: int
    keymanagement: KeyManagement
    text: str
    bundle: BundleString
    expirykbytes: int = 4193280
    expiryseconds: int = 28800
    explicit: frozenset[str] = frozenset()

    @property
    def string(self) -> str:
        """The canonical bundle string (``1 OR 2 AND 3``)."""
        return str(self.bundle)


# ---------------------------------------------------------------------------------------------------
# IPsec policies (§2.7-§2.9)

@dataclass
class IpsecPolicy:
    """An IPsec policy: a packet-selection rule, an action and, for IPsec,
    how bundles are made (B23, B32). ``position`` is kept up to date by the
    :class:`Spd` (1 = first on its interface)."""
    name: str
    interface: str
    action: Action
    ipversion: int = 4
    bundlespecification: int | None = None
    dfbit: DfBit = DfBit.CLEAR
    group: int = 1
    icmptype: tuple[int, ...] = ()
    iproutetemplate: str | None = None
    isakmppolicy: str | None = None
    keymanagement: KeyManagement | None = None
    laddress: AddressSelector = AddressSelector.any()
    lmask: ipaddress.IPv4Address | None = None
    lname: str | None = None
    lport: PortSelector = PortSelector()
    peeraddress: ipaddress.IPv4Address | ipaddress.IPv6Address | PeerWildcard | None = None
    raddress: AddressSelector = AddressSelector.any()
    respondbadspi: bool = False
    rmask: ipaddress.IPv4Address | None = None
    rname: str | None = None
    rport: PortSelector = PortSelector()
    saselectorfrompkt: frozenset[SaSelector] = frozenset()
    srcinterface: str | None = None
    transportprotocol: ProtocolSelector = ProtocolSelector()
    udpheartbeat: bool = False
    udpport: int = DEFAULT_UDP_PORT
    udptunnel: bool = False
    usepfskey: bool = False
    pktdebuglength: int = 72
    position: int = 0
    #: Debug settings of ``enable/disable ipsec policy debug``: kind -> set of options.
    debug: dict[str, frozenset[str]] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()

    @property
    def source_interface(self) -> str:
        """SRCInterface, defaulting to INTerface (L3070-3077)."""
        return self.srcinterface or self.interface

    @property
    def local_selector(self) -> AddressSelector:
        return self.laddress.with_mask(self.lmask)

    @property
    def remote_selector(self) -> AddressSelector:
        return self.raddress.with_mask(self.rmask)

    def selectors(self) -> PolicySelectors:
        """The packet selectors (addresses combined with their masks)."""
        transport = self.transportprotocol
        if self.ipversion == 6 and transport.name == "ICMP":
            transport = ProtocolSelector(ICMPV6, name="ICMP")
        return PolicySelectors(self.local_selector, self.remote_selector, self.lport, self.rport, transport,
                               self.icmptype, self.ipversion)

    @property
    def manual(self) -> bool:
        """Whether SA bundles of this policy are made by manual keying."""
        return self.action is Action.IPSEC and self.keymanagement is KeyManagement.MANUAL


POLICY_PARAMETERS = frozenset({
    "action", "bundlespecification", "dfbit", "group", "icmptype", "interface", "iproutetemplate", "ipversion",
    "isakmppolicy", "keymanagement", "laddress", "lmask", "lname", "lport", "peeraddress", "pktdebuglength",
    "raddress", "respondbadspi", "rmask", "rname", "rport", "saselectorfrompkt", "srcinterface",
    "transportprotocol", "udpheartbeat", "udpport", "udptunnel", "usepfskey"})
#: Parameters that cannot be specified in an IPv6 policy (rule 6 of §2.7).
IPV4_ONLY = ("dfbit", "iproutetemplate", "lmask", "rmask", "srcinterface", "udpheartbeat", "udpport", "udptunnel")
#: Parameters whose change does not touch a policy's SA bundles (all others rebuild manual bundles, B46c).
NOT_AFFECTING_BUNDLES = frozenset({"pktdebuglength", "position", "debug"})


class Spd:
    """The SPD (see the module docstring).

    ``key_length(key_id)`` gives the length in bytes of an ENCO key, or None
    if there is no such key; ``interface_exists(name)`` whether an IP
    interface exists (default: every well-formed name); ``count(block,
    name)`` is called for the ``show ipsec counter=spd`` events.
    """

    def __init__(self, key_length: Callable[[int], int | None] = lambda key_id: None,
                 interface_exists: Callable[[str], bool] = lambda name: True,
                 count: Callable[[str, str], None] = lambda block, name: None):
        self.key_length = key_length
        self.interface_exists = interface_exists
        self.count = count
        self.saspecifications: dict[int, SaSpecification] = {}
        self.bundlespecifications: dict[int, BundleSpecification] = {}
        self._policies: dict[str, IpsecPolicy] = {}       # key: name.lower()
        self._order: dict[str, list[str]] = {}            # interface -> policy keys in position order

    def _counted(self, operation: str):
        """:func:`~.config_errors.counted` for ``operation``'s good/failed
        counters of the ``spd`` block."""
        return counted(functools.partial(self.count, "spd"), operation)

    # -- SA specifications ------------------------------------------------------------------------

    def saspecification(self, spec_id: int) -> SaSpecification:
        """The SA specification ``spec_id``; NotFound if there is none."""
        with self._counted("saSpecGet"):
            if spec_id not in self.saspecifications:
                raise NotFound(f"SA specification {spec_id} does not exist")
            return self.saspecifications[spec_id]

    def create_saspecification(self, saspecification: int, keymanagement: KeyManagement, protocol: Protocol,
                               **params) -> SaSpecification:
        """``create ipsec saspecification`` (§2.1)."""
        spec_id = saspecification
        self._only(params, SASPEC_PARAMETERS, "create ipsec saspecification")
        with self._counted("saSpecAdd"):
            if spec_id in self.saspecifications:
                raise AlreadyExists(f"SA specification {spec_id} already exists")
            spec = SaSpecification(spec_id, keymanagement, protocol, **params, explicit=frozenset(params))
            self._check_saspecification(spec)
            self.saspecifications[spec_id] = spec
        return spec

    def set_saspecification(self, saspecification: int, **params) -> tuple[SaSpecification, SaSpecification]:
        """``set ipsec saspecification`` (§2.2): KEYmanagement and PROTocol cannot change.
        Returns (old, new)."""
        self._only(params, SASPEC_PARAMETERS, "set ipsec saspecification")
        old = self.saspecification(saspecification)
        new = replace(old, **params, explicit=old.explicit | frozenset(params))
        self._check_saspecification(new)
        for b in self.bundlespecifications.values():
            if saspecification in b.bundle.spec_ids:
                self._check_bundle(b.keymanagement, b.bundle, {saspecification: new})
        self.saspecifications[saspecification] = new
        return old, new

    def destroy_saspecification(self, saspecification: int) -> SaSpecification:
        """``destroy ipsec saspecification`` (§2.3); refused while a bundle specification uses it."""
        with self._counted("saSpecDelete"):
            spec = self.saspecifications.get(saspecification)
            if spec is None:
                raise NotFound(f"SA specification {saspecification} does not exist")
            users = [b.id for b in self.bundlespecifications.values() if saspecification in b.bundle.spec_ids]
            if users:
                raise InUse(f"SA specification {saspecification} is used by bundle specification "
                            f"{', '.join(map(str, users))}: destroy or change that first")
            del self.saspecifications[saspecification]
        return spec

    def _check_saspecification(self, s: SaSpecification) -> None:
        what = f"SA specification {s.id}"
        manual = s.keymanagement is KeyManagement.MANUAL
        if s.protocol is Protocol.ESP:
            if s.encalg is None:
                raise InvalidConfiguration(f"{what}: protocol ESP needs ENCalg (an encryption algorithm, "
                                           "or NULL for authentication only)")
            if s.compalg is not None:
                raise InvalidConfiguration(f"{what}: COMPalg is for protocol COMP, not ESP")
            if s.encalg is EncAlg.NULL and not s.authenticates:
                raise InvalidConfiguration(f"{what}: ENCalg=NULL needs a HASHAlg other than NULL "
                                           "(ESP must encrypt, authenticate or both)")
        elif s.protocol is Protocol.AH:
            if not s.authenticates:
                raise InvalidConfiguration(f"{what}: protocol AH needs HASHAlg DESMac, MD5 or SHA "
                                           "(NULl is for ESP only)")
            if s.encalg is not None:
                raise InvalidConfiguration(f"{what}: ENCalg is not valid for protocol AH (AH does not encrypt)")
            if s.compalg is not None:
                raise InvalidConfiguration(f"{what}: COMPalg is for protocol COMP, not AH")
        else:
            if s.compalg is None:
                raise InvalidConfiguration(f"{what}: protocol COMP needs COMPalg=LZS")
            for name in ("encalg", "hashalg", "enckey", "hashkey"):
                if getattr(s, name) is not None:
                    raise InvalidConfiguration(f"{what}: {name.upper()} is not valid for a compression SA")
        for name in ("antireplayenabled", "replaywindowsize"):
            if name in s.explicit and (manual or s.protocol is Protocol.IPCOMP):
                why = "manual key management" if manual else "a compression SA"
                raise InvalidConfiguration(f"{what}: {name.upper()} is not valid for {why}")
        if not manual:
            for name in ("inspi", "outspi", "enckey", "hashkey"):
                if getattr(s, name) is not None:
                    raise InvalidConfiguration(f"{what}: {name.upper()} is not valid with ISAKMP key management "
                                               "(ISAKMP negotiates SPIs and keys; give only algorithms)")
            return
        if s.protocol is Protocol.IPCOMP:
            for name in ("inspi", "outspi"):
                v = getattr(s, name)
                if v is not None and v > 0xFFFF:
                    raise InvalidConfiguration(f"{what}: {name.upper()}={v} is used as an IPComp CPI, "
                                               "which has 16 bits: expected 256..65535")
            return
        for name in ("inspi", "outspi"):
            if getattr(s, name) is None:
                raise InvalidConfiguration(f"{what}: manual key management with protocol {s.protocol.display} "
                                           f"needs {name.upper()}={SPI_RANGE[0]}..{SPI_RANGE[1]}")
        if s.encrypts:
            self._check_key(what, "ENCKEY", s.enckey, s.encalg.key_bytes, s.encalg.value)
        if s.authenticates:
            self._check_key(what, "HASHKEY", s.hashkey, s.hashalg.key_bytes, s.hashalg.value)

    def _check_key(self, what: str, param: str, key_id: int | None, needed: int | None, alg: str) -> None:
        if key_id is None:
            raise InvalidConfiguration(f"{what}: manual key management with {alg} needs {param} "
                                       "(an ENCO key id 0..65535)")
        length = self.key_length(key_id)
        if length is None:
            raise InvalidConfiguration(f"{what}: {param}={key_id}: ENCO key {key_id} does not exist "
                                       "(create it with create enco key)")
        if needed is not None and length != needed:
            raise InvalidConfiguration(f"{what}: {param}={key_id}: ENCO key {key_id} is {length} bytes long, "
                                       f"{alg} needs {needed}")

    # -- bundle specifications --------------------------------------------------------------------

    def bundlespecification(self, bundle_id: int) -> BundleSpecification:
        """The bundle specification ``bundle_id``; NotFound if there is none."""
        with self._counted("bundleSpecGet"):
            if bundle_id not in self.bundlespecifications:
                raise NotFound(f"Bundle specification {bundle_id} does not exist")
            return self.bundlespecifications[bundle_id]

    def create_bundlespecification(self, bundlespecification: int, keymanagement: KeyManagement, string: str,
                                   **params) -> BundleSpecification:
        """``create ipsec bundlespecification`` (§2.4)."""
        self._only(params, {"expirykbytes", "expiryseconds"}, "create ipsec bundlespecification")
        with self._counted("bundlespecAdd"):
            if bundlespecification in self.bundlespecifications:
                raise AlreadyExists(f"Bundle specification {bundlespecification} already exists")
            bundle = self._parse_string(bundlespecification, string)
            self._check_bundle(keymanagement, bundle, {}, bundlespecification)
            b = BundleSpecification(bundlespecification, keymanagement, string, bundle, **params,
                                    explicit=frozenset(params))
            self.bundlespecifications[bundlespecification] = b
        return b

    def set_bundlespecification(self, bundlespecification: int, **params) -> tuple[BundleSpecification,
                                                                                     BundleSpecification]:
        """``set ipsec bundlespecification`` (§2.5): the expiry limits only. Returns (old, new)."""
        self._only(params, {"expirykbytes", "expiryseconds"}, "set ipsec bundlespecification")
        old = self.bundlespecification(bundlespecification)
        new = replace(old, **params, explicit=old.explicit | frozenset(params))
        self.bundlespecifications[bundlespecification] = new
        return old, new

    def destroy_bundlespecification(self, bundlespecification: int) -> BundleSpecification:
        """``destroy ipsec bundlespecification`` (§2.6); refused while a policy uses it."""
        with self._counted("bundleSpecDelete"):
            b = self.bundlespecifications.get(bundlespecification)
            if b is None:
                raise NotFound(f"Bundle specification {bundlespecification} does not exist")
            users = [p.name for p in self._policies.values() if p.bundlespecification == bundlespecification]
            if users:
                raise InUse(f"Bundle specification {bundlespecification} is used by policy {', '.join(users)}: "
                            "destroy or change that first")
            del self.bundlespecifications[bundlespecification]
        return b

    @staticmethod
    def _parse_string(bundle_id: int, string: str) -> BundleString:
        try:
            return parse_bundle_string(string)
        except BundleStringError as e:
            raise InvalidConfiguration(f'Bundle specification {bundle_id}: bad bundle string "{string}": {e}') \
                from None

    def _check_bundle(self, keymanagement: KeyManagement, bundle: BundleString,
                      replacing: dict[int, SaSpecification], bundle_id: int | None = None) -> None:
        what = f"Bundle specification {bundle_id}" if bundle_id is not None else "Bundle specification"
        specs = {**self.saspecifications, **replacing}
        for i in bundle.spec_ids:
            spec = specs.get(i)
            if spec is None:
                raise InvalidConfiguration(f"{what}: SA specification {i} in the bundle string does not exist")
            if spec.keymanagement is not keymanagement:
                raise InvalidConfiguration(
                    f"{what}: SA specification {i} uses {spec.keymanagement.value} key management, the bundle "
                    f"specification {keymanagement.value}: they must match")
        try:
            bundle.check(keymanagement is KeyManagement.MANUAL, lambda i: specs[i].protocol)
        except BundleStringError as e:
            raise InvalidConfiguration(f'{what}: bundle string "{bundle}": {e}') from None

    # -- policies ---------------------------------------------------------------------------------

    def policy(self, name: str) -> IpsecPolicy:
        """The policy called ``name`` (any case); NotFound if there is none."""
        with self._counted("policyGet"):
            p = self._policies.get(name.lower())
            if p is None:
                raise NotFound(f'IPsec policy "{name}" does not exist')
            return p

    def has_policy(self, name: str) -> bool:
        return name.lower() in self._policies

    def policies(self, interface: str | None = None) -> list[IpsecPolicy]:
        """Policies of ``interface`` in position order, or of all interfaces
        (interfaces in name order, each in position order)."""
        interfaces = [interface.lower()] if interface is not None else sorted(self._order)
        return [self._policies[k] for i in interfaces for k in self._order.get(i, [])]

    def create_policy(self, policy: str, interface: str, action: Action, position: int | None = None,
                      **params) -> IpsecPolicy:
        """``create ipsec policy`` (§2.7)."""
        self._only(params, POLICY_PARAMETERS, "create ipsec policy")
        if policy.lower() in self._policies:
            self.count("spd", "policyAdd failed")
            raise AlreadyExists(f'IPsec policy "{policy}" already exists (policy names are not case sensitive)')
        # a SASELECTORFROMPKT that _normalise refuses is not counted as a failed policyAdd
        p = IpsecPolicy(policy, interface.lower(), action, **self._normalise(params),
                        explicit=frozenset(params) | ({"position"} if position is not None else set()))
        with self._counted("policyAdd"):
            self._check_policy(p)
            self._policies[policy.lower()] = p
            self._place(p, position)
        return p

    def set_policy(self, policy: str, position: int | None = None, **params) -> tuple[IpsecPolicy, IpsecPolicy]:
        """``set ipsec policy`` (§2.8). Returns (old, new); the old object is
        left as it was, the new one replaces it."""
        self._only(params, POLICY_PARAMETERS, "set ipsec policy")
        old = self.policy(policy)
        changes = self._normalise(params)
        if "interface" in changes:
            changes["interface"] = changes["interface"].lower()
        new = replace(old, **changes, debug=dict(old.debug),
                      explicit=old.explicit | frozenset(params) | ({"position"} if position is not None else set()))
        with self._counted("policySetConfig"):
            self._check_policy(new)
        key = old.name.lower()
        self._policies[key] = new
        if new.interface != old.interface or position is not None:
            self._order[old.interface].remove(key)
            if not self._order[old.interface]:
                del self._order[old.interface]
            self._place(new, position)
        else:
            new.position = old.position
        self._renumber()
        return old, new

    def destroy_policy(self, policy: str) -> IpsecPolicy:
        """``destroy ipsec policy`` (§2.9) without SABundle."""
        key = policy.lower()
        with self._counted("policyDelete"):
            p = self._policies.get(key)
            if p is None:
                raise NotFound(f'IPsec policy "{policy}" does not exist')
            del self._policies[key]
            self._order[p.interface].remove(key)
            if not self._order[p.interface]:
                del self._order[p.interface]
            self._renumber()
        return p

    def purge(self) -> None:
        """Remove every policy and specification (``purge ipsec``)."""
        self._policies.clear()
        self._order.clear()
        self.bundlespecifications.clear()
        self.saspecifications.clear()

    def _place(self, p: IpsecPolicy, position: int | None) -> None:
        order = self._order.setdefault(p.interface, [])
        index = len(order) if position is None else min(position - 1, len(order))
        order.insert(index, p.name.lower())
        self._renumber()

    def _renumber(self) -> None:
        for keys in self._order.values():
            for n, k in enumerate(keys, 1):
                self._policies[k].position = n

    @staticmethod
    def _normalise(params: dict) -> dict:
        out = dict(params)
        if "saselectorfrompkt" in out:
            out["saselectorfrompkt"] = _sa_selectors(out["saselectorfrompkt"])
        if "icmptype" in out:
            out["icmptype"] = tuple(out["icmptype"])
        return out

    def _check_policy(self, p: IpsecPolicy) -> None:
        what = f'IPsec policy "{p.name}"'
        if not self.interface_exists(p.interface):
            raise InvalidConfiguration(f"{what}: interface {p.interface} does not exist (it must be an IP interface)")
        if p.srcinterface is not None and not self.interface_exists(p.srcinterface):
            raise InvalidConfiguration(f"{what}: source interface {p.srcinterface} does not exist")
        if p.action is Action.IPSEC:
            missing = [n for n in ("peeraddress", "keymanagement", "bundlespecification") if getattr(p, n) is None]
            if missing:
                raise InvalidConfiguration(f"{what}: action IPSEC needs {', '.join(map(str.upper, missing))}")
        if p.bundlespecification is not None:
            b = self.bundlespecifications.get(p.bundlespecification)
            if b is None:
                raise InvalidConfiguration(f"{what}: bundle specification {p.bundlespecification} does not exist")
            if p.keymanagement is None:
                raise InvalidConfiguration(f"{what}: BUNDLESPECIFICATION needs KEYMANAGEMENT to be set")
            if b.keymanagement is not p.keymanagement:
                raise InvalidConfiguration(
                    f"{what}: bundle specification {b.id} uses {b.keymanagement.value} key management, the policy "
                    f"{p.keymanagement.value}: they must match")
        isakmp = p.keymanagement is KeyManagement.ISAKMP
        if p.usepfskey and not isakmp:
            raise InvalidConfiguration(f"{what}: USEPFSKEY is valid with ISAKMP key management only")
        if "group" in p.explicit and not p.usepfskey:
            raise InvalidConfiguration(f"{what}: GROUP is used for PFS only: it needs USEPFSKEY=TRUE")
        if p.respondbadspi and not (p.action is Action.IPSEC and isakmp
                                    and isinstance(p.peeraddress, ipaddress.IPv4Address)):
            raise InvalidConfiguration(f"{what}: RESPONDBADSPI=TRUE needs action IPSEC, KEYMANAGEMENT=ISAKMP and "
                                       "an IPv4 PEERADDRESS")
        if p.iproutetemplate is not None and not isinstance(p.peeraddress, PeerWildcard):
            raise InvalidConfiguration(f"{what}: IPROUTETEMPLATE is valid only with PEERADDRESS=ANY or DYNAMIC")
        if p.ipversion == 6:
            given = [n for n in IPV4_ONLY if n in p.explicit]
            if given:
                raise InvalidConfiguration(f"{what}: {', '.join(map(str.upper, given))} cannot be specified when "
                                           "IPVERSION is 6")
        for name in ("laddress", "raddress"):
            sel = getattr(p, name)
            if sel.kind is not AddressKind.ANY and sel.version != p.ipversion:
                raise InvalidConfiguration(f"{what}: {name.upper()}={sel} is an IPv{sel.version} address, the "
                                           f"policy is IPv{p.ipversion} (set IPVERSION to match)")
        if isinstance(p.peeraddress, ipaddress.IPv4Address | ipaddress.IPv6Address) and \
                p.peeraddress.version != p.ipversion:
            raise InvalidConfiguration(f"{what}: PEERADDRESS={p.peeraddress} is an IPv{p.peeraddress.version} "
                                       f"address, the policy is IPv{p.ipversion}")
        for mask_name, addr_name in (("lmask", "laddress"), ("rmask", "raddress")):
            mask, sel = getattr(p, mask_name), getattr(p, addr_name)
            if mask is not None and (sel.kind is not AddressKind.SINGLE or sel.version != 4):
                raise InvalidConfiguration(f"{what}: {mask_name.upper()} applies to a single IPv4 "
                                           f"{addr_name.upper()}, not {sel}")

    @staticmethod
    def _only(params: dict, allowed: Iterable[str], command: str) -> None:
        bad = sorted(set(params) - set(allowed))
        if bad:
            raise InvalidConfiguration(f"{command}: unknown parameter {', '.join(map(str.upper, bad))}")

    # -- lookup (B22-B28) -------------------------------------------------------------------------

    def lookup(self, packet: PacketSelector, interface: str, direction: Direction) -> IpsecPolicy | None:
        """The first policy of ``interface``, in position order, whose
        selectors all match ``packet`` (B25, B28); None if none does (the
        caller drops the packet, B35). Counts ``policyMatchSelectors`` and
        the Policy Filter counters of the policies that did not match."""
        for p in self.policies(interface):
            failed = p.selectors().mismatch(packet, direction)
            if failed is None:
                self.count("spd", "policyMatchSelectors good")
                return p
            self.count("filter", failed)
        self.count("spd", "policyMatchSelectors failed")
        return None

    def explain(self, packet: PacketSelector, interface: str, direction: Direction) -> list[tuple[str, str | None]]:
        """For each policy of ``interface`` in order: (name, the Policy
        Filter counter of its first failing selector, or None if it
        matches). For filter debugging; counts nothing."""
        return [(p.name, p.selectors().mismatch(packet, direction)) for p in self.policies(interface)]

    def snapshot(self) -> "Spd":
        """A deep copy (for tests and for 'show' while changing)."""
        return copy.deepcopy(self)


def _sa_selectors(values: Iterable[str | SaSelector]) -> frozenset[SaSelector]:
    """SASElectorfrompkt values: ``all``, ``none`` or selector names (§7.32: ALL and NONE stand alone)."""
    values = tuple(values)
    words = [v for v in values if isinstance(v, str)]
    if words:
        if len(values) > 1:
            raise InvalidConfiguration(f"SASELECTORFROMPKT: {words[0].upper()} cannot be combined with other values")
        return frozenset(SaSelector) if words[0] == "all" else frozenset()
    return frozenset(SaSelector(v) if not isinstance(v, SaSelector) else v for v in values)
