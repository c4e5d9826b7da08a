# Ref: spec/ipsec-commands.md §0.3 (value formats), §2.1, §2.4, §2.7, §2.8 (value keywords and minimums)
"""Value types of the IPsec commands: the manual's value keywords with their
minimum abbreviations, mapped to the model's values, and the IPsec-specific
forms (address selectors, ports, protocols, peers, ICMP type lists).

Minimums follow the capitals of each syntax line, except where the
manual's own examples use a shorter form (ipsec-commands.md §7.1), which is
accepted so that the examples run:

- KEYmanagement ISAKMP is ``is`` everywhere (the SA specification syntax
  writes ISAkmp, its examples ``key=is``, L3340);
- RADdress ANY is ``an`` in create as in set (the create syntax writes ANY,
  its table ANy, L2942).

Values of ``set ipsec policy`` that its syntax capitalises differently
(IPSec, NDall, DYNAMIC) use set's own spellings.
"""
import ipaddress

from ..cli.values import Boolean, Choice, CommaList, Integer, InvalidValue, Name, Union, ValueType
from .selectors import NDALL, TRANSPORT_PROTOCOLS, AddressSelector, PortSelector, ProtocolSelector
from .spd import Action, DfBit, KeyManagement, PeerWildcard, SaSelector
from .transforms import SPI_RANGE, CompAlg, EncAlg, HashAlg, Mode, Protocol

__all__ = [
    "BOOL", "KEYMANAGEMENT", "PROTOCOL", "ENCALG", "HASHALG", "COMPALG", "MODE", "REPLAY_WINDOW", "SPEC_ID",
    "KEY_ID", "SPI", "POLICY_NAME", "ACTION_CREATE", "ACTION_SET", "DFBIT", "GROUP", "IPVERSION",
    "AddressValue", "PortValue", "TransportValue", "PeerValue", "IcmpTypeValue", "SystemNameValue",
    "SA_SELECTORS", "BUNDLE_ID", "SABUNDLE_ID", "POSITION", "UDP_PORT",
]

BOOL = Boolean()
KEYMANAGEMENT = Choice({"ISakmp": KeyManagement.ISAKMP, "MAnual": KeyManagement.MANUAL})
PROTOCOL = Choice({"AH": Protocol.AH, "COmp": Protocol.IPCOMP, "ESp": Protocol.ESP})
ENCALG = Choice({"3DES2key": EncAlg.TDES2KEY, "3DESOuter": EncAlg.TDESOUTER, "3DESInner": EncAlg.TDESINNER,
                 "DES": EncAlg.DES, "AES128": EncAlg.AES128, "AES192": EncAlg.AES192, "AES256": EncAlg.AES256,
                 "NULl": EncAlg.NULL})
HASHALG = Choice({"DESMac": HashAlg.DESMAC, "MD5": HashAlg.MD5, "NULl": HashAlg.NULL, "SHA": HashAlg.SHA})
COMPALG = Choice({"LZS": CompAlg.LZS})
MODE = Choice({"TRansport": Mode.TRANSPORT, "TUnnel": Mode.TUNNEL})
REPLAY_WINDOW = Choice({"32": 32, "64": 64, "128": 128, "256": 256})
SPEC_ID = Integer(0, 255)
BUNDLE_ID = Integer(0, 255)
SABUNDLE_ID = Integer(0, 65535)
KEY_ID = Integer(0, 65535)
SPI = Integer(*SPI_RANGE)
POLICY_NAME = Name(23, "policy name")
POSITION = Integer(1, 100)
UDP_PORT = Integer(1, 65535)
ACTION_CREATE = Choice({"DEny": Action.DENY, "IPsec": Action.IPSEC, "PErmit": Action.PERMIT})
ACTION_SET = Choice({"DEny": Action.DENY, "IPSec": Action.IPSEC, "PErmit": Action.PERMIT})
DFBIT = Choice({"SEt": DfBit.SET, "COpy": DfBit.COPY, "CLear": DfBit.CLEAR})
GROUP = Choice({"0": 0, "1": 1, "2": 2})
IPVERSION = Choice({"4": 4, "6": 6})
SA_SELECTORS = CommaList(Choice({"ALL": "all", "LADdress": SaSelector.LADDRESS, "LPort": SaSelector.LPORT,
                                 "NONE": "none", "RADdress": SaSelector.RADDRESS, "RPort": SaSelector.RPORT,
                                 "TRAnsportprotocol": SaSelector.TRANSPORTPROTOCOL}))
_ANY = Choice({"ANy": "any"})


class AddressValue(ValueType):
    """LADdress / RADdress: ANy, ipv4add[-ipv4add], ipv6add[/prefix-length], ipv6add-ipv6add."""

    def parse(self, text: str) -> AddressSelector:
        try:
            _ANY.parse(text)
            return AddressSelector.any()
        except InvalidValue:
            pass
        try:
            return AddressSelector.parse(text)
        except ValueError as e:
            raise InvalidValue(f"{e}: expected {self.describe()}") from None

    def describe(self) -> str:
        return "{ANy|ipv4add[-ipv4add]|ipv6add[/prefix-length]|ipv6add-ipv6add}"

    def choices(self):
        return _ANY.choices()


class PortValue(Union):
    """LPort / RPort: ANy, OPaque or a port 0..65535."""

    def __init__(self):
        super().__init__(Choice({"ANy": PortSelector(), "OPaque": PortSelector(opaque=True)}), Integer(0, 65535))

    def parse(self, text: str) -> PortSelector:
        v = super().parse(text)
        return v if isinstance(v, PortSelector) else PortSelector(v)


class TransportValue(Union):
    """TRAnsportprotocol: ANy, OPaque, a protocol name or a number 0..255."""

    def __init__(self):
        names = {"ANy": ProtocolSelector(), "OPaque": ProtocolSelector(opaque=True)}
        for spelling in ("EGp", "ESp", "GRe", "ICmp", "OSpf", "RSvp", "TCp", "UDp"):
            name = spelling.upper()
            names[spelling] = ProtocolSelector(TRANSPORT_PROTOCOLS[name], name=name)
        super().__init__(Choice(names), Integer(0, 255))

    def parse(self, text: str) -> ProtocolSelector:
        v = super().parse(text)
        return v if isinstance(v, ProtocolSelector) else ProtocolSelector(v)


class PeerValue(ValueType):
    """PEERaddress: an IPv4 or IPv6 address, ANy or DYnamic (``set`` writes DYNAMIC)."""

    def __init__(self, dynamic: str = "DYnamic"):
        self.words = Choice({"ANy": PeerWildcard.ANY, dynamic: PeerWildcard.DYNAMIC})

    def parse(self, text: str):
        try:
            return self.words.parse(text)
        except InvalidValue:
            pass
        try:
            if ":" not in text and text.count(".") != 3:
                raise ValueError
            return ipaddress.ip_address(text)
        except ValueError:
            raise InvalidValue(f'"{text}" is not a peer address: expected {self.describe()}') from None

    def describe(self) -> str:
        return "{ipv4add|ipv6add|" + self.words.describe()[1:]

    def choices(self):
        return self.words.choices()


class IcmpTypeValue(ValueType):
    """ICmptype: a comma list of types 0..255, or NDALL (133-136)."""

    def __init__(self, ndall: str = "NDALL"):
        self.ndall = Choice({ndall: NDALL})
        self.types = CommaList(Integer(0, 255))

    def parse(self, text: str) -> tuple[int, ...]:
        try:
            return self.ndall.parse(text)
        except InvalidValue:
            return self.types.parse(text)

    def describe(self) -> str:
        return "{list of 0..255|" + self.ndall.describe()[1:]

    def choices(self):
        return self.ndall.choices()


class SystemNameValue(ValueType):
    """LNAme / RNAme: ANy (None) or a system or user name of 1-119 characters."""

    def __init__(self):
        self.name = Name(119, "system name")

    def parse(self, text: str) -> str | None:
        try:
            _ANY.parse(text)
            return None
        except InvalidValue:
            return self.name.parse(text)

    def describe(self) -> str:
        return "{ANy|system-name}"

    def choices(self):
        return _ANY.choices()
