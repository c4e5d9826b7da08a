# Ref: spec/ipsec-commands.md §0.1 (booleans, comma lists), §0.3 (value formats)
"""Value types of command parameters.

Each type turns the text after ``=`` into a Python value, or raises
:class:`InvalidValue` saying what was expected; the parser adds the
parameter's name to the message. ``describe()`` gives the expected form for
help listings and messages, in the manual's notation (``0..255``,
``{ISAkmp|MAnual}``).

Types here are generic; a command set may define its own by subclassing
:class:`ValueType` (the IPsec address selectors do).
"""
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from .keywords import Keyword, NoMatch, resolve

__all__ = [
    "InvalidValue", "ValueType", "Integer", "Choice", "Boolean", "Union", "Text", "Name", "CommaList",
    "Ipv4Address", "Ipv6Address", "IpAddress", "Ipv4Mask", "InterfaceName", "INTERFACE_TYPES",
]


class InvalidValue(Exception):
    """A value that does not fit its type; ``out_of_range`` for a number
    outside its range (reported as :class:`~.errors.OutOfRange`)."""

    def __init__(self, message: str, out_of_range: bool = False):
        super().__init__(message)
        self.message = message
        self.out_of_range = out_of_range


class ValueType:
    """Base class of value types."""

    def parse(self, text: str) -> Any:
        """The value ``text`` stands for; raises :class:`InvalidValue`."""
        raise NotImplementedError

    def describe(self) -> str:
        """The expected form, in the manual's notation."""
        raise NotImplementedError

    def choices(self) -> tuple[Keyword, ...]:
        """Keyword values this type accepts (for help listings)."""
        return ()


_DECIMAL = re.compile(r"[0-9]+\Z")


class Integer(ValueType):
    """A decimal number ``low..high``."""

    def __init__(self, low: int, high: int, unit: str = ""):
        self.low, self.high, self.unit = low, high, unit

    def parse(self, text: str) -> int:
        if not _DECIMAL.match(text):
            raise InvalidValue(f'"{text}" is not a number: expected {self.describe()}')
        n = int(text)
        if not self.low <= n <= self.high:
            raise InvalidValue(f"{n} is out of range: expected {self.describe()}", out_of_range=True)
        return n

    def describe(self) -> str:
        return f"{self.low}..{self.high}" + (f" {self.unit}" if self.unit else "")


class Choice(ValueType):
    """One of a set of keywords, each standing for a Python value.

    ``Choice({"ISAkmp": KeyManagement.ISAKMP, "MAnual": KeyManagement.MANUAL})``;
    a :class:`Keyword` may be used as key to override a minimum.
    """

    def __init__(self, values: Mapping[str | Keyword, Any]):
        self._values: dict[Keyword, Any] = {}
        for k, v in values.items():
            kw = k if isinstance(k, Keyword) else Keyword(k)
            self._values[kw] = v

    def parse(self, text: str) -> Any:
        try:
            kw = resolve(text, self._values, f"(expected {self.describe()})")
        except NoMatch as e:
            raise InvalidValue(f'"{text}" is not one of {self.describe()}{e.hint()}') from None
        return self._values[kw]

    def describe(self) -> str:
        return "{" + "|".join(k.spelling for k in self._values) + "}"

    def choices(self) -> tuple[Keyword, ...]:
        return tuple(self._values)


class Boolean(Choice):
    """True/False. IPsec writes ``{True|False}`` (minimums ``t``, ``f``);
    ISAKMP ``{ON|OFf|TRue|FAlse}``: pass the spellings."""

    def __init__(self, true: tuple[str, ...] = ("True",), false: tuple[str, ...] = ("False",)):
        super().__init__({**{w: True for w in true}, **{w: False for w in false}})


class Union(ValueType):
    """The first of several types that accepts the text (keywords first)."""

    def __init__(self, *types: ValueType):
        self.types = types

    def parse(self, text: str) -> Any:
        for t in self.types:
            try:
                return t.parse(text)
            except InvalidValue as e:
                if e.out_of_range:
                    raise
        raise InvalidValue(f'"{text}" is not valid: expected {self.describe()}')

    def describe(self) -> str:
        parts = []
        for t in self.types:
            d = t.describe()
            parts.append(d[1:-1] if d.startswith("{") and d.endswith("}") else d)
        return "{" + "|".join(parts) + "}"

    def choices(self) -> tuple[Keyword, ...]:
        return tuple(k for t in self.types for k in t.choices())


class Text(ValueType):
    """Printable text of ``min_len..max_len`` characters (quotes already removed)."""

    def __init__(self, min_len: int, max_len: int, what: str = "text"):
        self.min_len, self.max_len, self.what = min_len, max_len, what

    def parse(self, text: str) -> str:
        if not self.min_len <= len(text) <= self.max_len:
            raise InvalidValue(f"{self.what} must be {self.min_len} to {self.max_len} characters long, "
                               f'not {len(text)} ("{text}")', out_of_range=bool(text))
        bad = [ch for ch in text if not ch.isprintable()]
        if bad:
            raise InvalidValue(f"{self.what} may hold printable characters only, not {bad[0]!r}")
        return text

    def describe(self) -> str:
        return f"{self.what} ({self.min_len}-{self.max_len} characters)"


class Name(Text):
    """A name of 1..``max_len`` printable characters, in double quotes if it has blanks."""

    def __init__(self, max_len: int, what: str = "name"):
        super().__init__(1, max_len, what)


class CommaList(ValueType):
    """A comma-separated list of ``item`` values; duplicates are refused."""

    def __init__(self, item: ValueType):
        self.item = item

    def parse(self, text: str) -> tuple:
        parts = [p.strip() for p in text.split(",")]
        if any(p == "" for p in parts):
            raise InvalidValue(f'"{text}" has an empty item: expected a comma-separated list of '
                               f"{self.item.describe()}")
        out = []
        for p in parts:
            v = self.item.parse(p)
            if v in out:
                raise InvalidValue(f'"{p}" is listed twice in "{text}"')
            out.append(v)
        return tuple(out)

    def describe(self) -> str:
        return f"{self.item.describe()}[,...]"

    def choices(self) -> tuple[Keyword, ...]:
        return self.item.choices()


class Ipv4Address(ValueType):
    """An IPv4 address in dotted decimal."""

    def parse(self, text: str) -> ipaddress.IPv4Address:
        try:
            if text.count(".") != 3:
                raise ValueError
            return ipaddress.IPv4Address(text)
        except ValueError:
            raise InvalidValue(f'"{text}" is not an IPv4 address: expected dotted decimal, e.g. 192.168.1.1') \
                from None

    def describe(self) -> str:
        return "ipv4add"


class Ipv6Address(ValueType):
    """An IPv6 address in colon-separated hex."""

    def parse(self, text: str) -> ipaddress.IPv6Address:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            raise InvalidValue(f'"{text}" is not an IPv6 address: expected colon-separated hex, e.g. 3ffe::1') \
                from None

    def describe(self) -> str:
        return "ipv6add"


class IpAddress(Union):
    """An IPv4 or an IPv6 address."""

    def __init__(self):
        super().__init__(Ipv4Address(), Ipv6Address())

    def parse(self, text: str):
        if ":" in text:
            return self.types[1].parse(text)
        return self.types[0].parse(text)


class Ipv4Mask(Ipv4Address):
    """An IPv4 network mask in dotted decimal; its one bits must be contiguous."""

    def parse(self, text: str) -> ipaddress.IPv4Address:
        addr = super().parse(text)
        n = int(addr)
        inverted = ~n & 0xFFFFFFFF
        if inverted & (inverted + 1):
            raise InvalidValue(f'"{text}" is not a valid mask: its one bits must be contiguous, '
                               "e.g. 255.255.255.0")
        return addr

    def describe(self) -> str:
        return "ipv4 mask"


#: Layer 2 interface types by command-line prefix (ipsec-commands.md §0.3).
INTERFACE_TYPES = {"eth": "eth", "ppp": "PPP", "vlan": "VLAN", "fr": "FR", "x25t": "X.25 DTE",
                   "virt": "virtual tunnel"}
_INTERFACE = re.compile(r"(?P<type>[a-z0-9]*?[a-z])(?P<instance>[0-9]+)(?:-(?P<logical>[0-9]+))?\Z")


class InterfaceName(ValueType):
    """An IP logical interface name: type, instance number, optionally ``-``
    and a logical interface number 0-15 (``eth0``, ``ppp1-1``, ``vlan2``).
    ``types`` limits the allowed types (keys of :data:`INTERFACE_TYPES`)."""

    def __init__(self, types: tuple[str, ...] = tuple(INTERFACE_TYPES)):
        self.types = types

    def parse(self, text: str) -> str:
        m = _INTERFACE.match(text.lower())
        if not m or m["type"] not in self.types:
            raise InvalidValue(f'"{text}" is not an interface name: expected {self.describe()}')
        if m["logical"] is not None and not 0 <= int(m["logical"]) <= 15:
            raise InvalidValue(f'"{text}": the logical interface number must be 0..15', out_of_range=True)
        return text.lower()

    def describe(self) -> str:
        return "interface (" + ", ".join(f"{t}N[-L]" for t in self.types) + ")"
