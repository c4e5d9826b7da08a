# Ref: spec/ipsec-commands.md §4 (pre-IPsec "old" SA commands), §5.14 (B89-B99)
"""Pre-IPsec ("old") Security Associations: the configuration kept for
backward compatibility (B89).

An old SA has an id 0-255, an SPI, an ENCO encryption key, an algorithm
(DES, 3DES2KEY or 3DESINNER, B96) and a direction (IN, OUT, BOTH), and
local and remote members: base address and mask (B94). Old SA processing
is enabled per interface (B90). The rules of §4 are enforced: ids unique,
keys existing (and of the algorithm's length), members unique. The base
address of a member is stored as given and matched with its mask applied
(§7.34).

``activate ipsec convertoldsa`` is accepted only after its stated checks
(IPsec enabled, the SA exists): the mapping from old SAs to IPsec
specifications and policies is not described by the manual (§7.36), so the
conversion itself is refused as not supported.
"""
import enum
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .config_errors import AlreadyExists, InvalidConfiguration, NotFound
from .transforms import EncAlg

__all__ = ["OldSaDirection", "OldSaMember", "OldSa", "OldSaTable", "OLD_SA_ALGORITHMS"]

#: The transforms old SAs offer (B96).
OLD_SA_ALGORITHMS = (EncAlg.DES, EncAlg.TDES2KEY, EncAlg.TDESINNER)


class OldSaDirection(enum.Enum):
    IN = "In"
    OUT = "Out"
    BOTH = "Both"


@dataclass(frozen=True)
class OldSaMember:
    """A member: base address and mask; ``local`` or remote."""
    local: bool
    address: ipaddress.IPv4Address
    mask: ipaddress.IPv4Address

    def contains(self, addr: ipaddress.IPv4Address) -> bool:
        m = int(self.mask)
        return int(addr) & m == int(self.address) & m


@dataclass
class OldSa:
    """One old SA (see the module docstring)."""
    id: int
    spi: int
    enckey: int
    encalg: EncAlg = EncAlg.DES
    direction: OldSaDirection = OldSaDirection.BOTH
    members: list[OldSaMember] = field(default_factory=list)
    debug: frozenset[str] = frozenset()
    debugpkttype: str | None = None

    def local_members(self) -> list[OldSaMember]:
        return [m for m in self.members if m.local]

    def remote_members(self) -> list[OldSaMember]:
        return [m for m in self.members if not m.local]


class OldSaTable:
    """The old SAs and the interfaces old SA processing is enabled on.
    ``key_length(id)`` gives an ENCO key's length or None;
    ``interface_exists(name)`` whether an IP interface exists."""

    def __init__(self, key_length: Callable[[int], int | None] = lambda key_id: None,
                 interface_exists: Callable[[str], bool] = lambda name: True):
        self.key_length = key_length
        self.interface_exists = interface_exists
        self.sas: dict[int, OldSa] = {}
        self.interfaces: set[str] = set()

    def sa(self, sa_id: int) -> OldSa:
        try:
            return self.sas[sa_id]
        except KeyError:
            raise NotFound(f"SA {sa_id} does not exist") from None

    def _check_key(self, sa_id: int, key_id: int, alg: EncAlg) -> None:
        length = self.key_length(key_id)
        if length is None:
            raise InvalidConfiguration(f"SA {sa_id}: ENCKEY={key_id}: ENCO key {key_id} does not exist")
        if length != alg.key_bytes:
            raise InvalidConfiguration(f"SA {sa_id}: ENCO key {key_id} is {length} bytes long, {alg.value} needs "
                                       f"{alg.key_bytes}")

    def create(self, sa: int, enckey: int, spi: int, encalg: EncAlg = EncAlg.DES,
               direction: OldSaDirection = OldSaDirection.BOTH) -> OldSa:
        """``create sa`` (§4.4)."""
        if sa in self.sas:
            raise AlreadyExists(f"SA {sa} already exists")
        self._check_key(sa, enckey, encalg)
        self.sas[sa] = OldSa(sa, spi, enckey, encalg, direction)
        return self.sas[sa]

    def set(self, sa: int, **params) -> OldSa:
        """``set sa`` (§4.5): debugpkttype, direction, encalg, enckey, spi."""
        old = self.sa(sa)
        new = replace(old, **params)
        if "enckey" in params or "encalg" in params:
            self._check_key(sa, new.enckey, new.encalg)
        self.sas[sa] = new
        return new

    def destroy(self, sa: int) -> OldSa:
        """``destroy sa`` (§4.6)."""
        old = self.sa(sa)
        del self.sas[sa]
        return old

    def add_member(self, sa: int, local: bool, address: ipaddress.IPv4Address, mask: ipaddress.IPv4Address) -> None:
        """``add sa member`` (§4.7)."""
        old = self.sa(sa)
        member = OldSaMember(local, address, mask)
        if member in old.members:
            raise AlreadyExists(f"SA {sa} already has the {'local' if local else 'remote'} member {address} "
                                f"mask {mask}")
        old.members.append(member)

    def delete_member(self, sa: int, local: bool, address: ipaddress.IPv4Address,
                      mask: ipaddress.IPv4Address) -> None:
        """``delete sa member`` (§4.8)."""
        old = self.sa(sa)
        member = OldSaMember(local, address, mask)
        if member not in old.members:
            raise NotFound(f"SA {sa} has no {'local' if local else 'remote'} member {address} mask {mask}")
        old.members.remove(member)

    def set_debug(self, sa: int, options: frozenset[str], enable: bool) -> None:
        """``enable/disable sa debug`` (§4.9, §4.10)."""
        old = self.sa(sa)
        old.debug = old.debug | options if enable else old.debug - options

    def enable_interface(self, interface: str, enable: bool) -> None:
        """``enable/disable ipsec oldsa`` (§4.2, §4.3)."""
        if not self.interface_exists(interface):
            raise InvalidConfiguration(f"interface {interface} does not exist (it must be assigned to IP)")
        if enable:
            self.interfaces.add(interface)
        else:
            self.interfaces.discard(interface)

    def uses_key(self, key_id: int) -> str | None:
        """How the old SAs use ENCO key ``key_id`` (for the key store)."""
        users = [str(s.id) for s in self.sas.values() if s.enckey == key_id]
        return f"SA {', '.join(users)}" if users else None
