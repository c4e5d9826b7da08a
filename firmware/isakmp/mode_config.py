# Ref: draft-ietf-ipsec-isakmp-mode-cfg-05 sections 3.3-3.4 (attributes, REQUEST/REPLY)
# Ref: ../shared/spec/isakmp-commands.md R78 (transaction exchange); ../shared/spec/ipsec-commands.md 6.4
"""Mode config: what an XAUTH server pushes to a client (an address from a
pool, DNS servers, protected subnets) and what a client records.

The manual gives no command for the server's pool; ours is
``set isakmp modeconfig pool=first[-last] [dns=ipv4add[,...]]
[subnet=ipv4add/prefix[,...]]`` (:mod:`.xauth_commands`), kept as one
:class:`ModeConfigPool` in the router's state.

* :meth:`ModeConfigPool.lease` gives the first free address of the pool to
  an IKE SA (by its CKY-I) and :meth:`ModeConfigPool.release` takes it
  back when the SA goes; a pool that is full or not configured leases
  nothing (the REPLY then carries no address);
* :func:`request_attributes` is the client's REQUEST (empty
  INTERNAL_IP4_ADDRESS, NETMASK, DNS and SUBNET: "give me these");
* :func:`reply_attributes` the server's REPLY to it (attributes asked for
  and known; SUPPORTED_ATTRIBUTES answered with the list);
* :func:`received_config` parses a REPLY (or SET) into a
  :class:`ModeConfigReceived`; values of the wrong length are skipped and
  counted by the caller (``unsupportedAttribute``).
"""

import ipaddress
from dataclasses import dataclass, field

from .constants import ConfigAttribute as A
from .transaction import attribute_of

__all__ = ["ModeConfigPool", "ModeConfigReceived", "PoolError", "request_attributes", "reply_attributes",
           "received_config", "SUPPORTED"]

#: The mode-config attributes this router serves.
SUPPORTED = (A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_NETMASK, A.INTERNAL_IP4_DNS, A.INTERNAL_IP4_SUBNET)
_HOST_MASK = ipaddress.IPv4Address("255.255.255.255")


class PoolError(ValueError):
    """A pool that cannot be configured (bad range, too large)."""


@dataclass
class ModeConfigPool:
    """The server's pool: ``first``..``last`` (IPv4Address, None when no
    pool), ``dns`` and ``subnets`` (tuples of IPv4Address/IPv4Network) and
    ``leases`` (``{CKY-I: (address, peer)}``)."""
    first: ipaddress.IPv4Address | None = None
    last: ipaddress.IPv4Address | None = None
    dns: tuple = ()
    subnets: tuple = ()
    leases: dict = field(default_factory=dict)

    #: Largest pool (addresses).
    LIMIT = 65536

    def configure(self, first, last=None, dns=(), subnets=()):
        """Set the range (``last`` defaults to ``first``), DNS and subnets; leases stay."""
        last = first if last is None else last
        if int(last) < int(first) or int(last) - int(first) >= self.LIMIT:
            raise PoolError(f"POOL={first}-{last}: the last address must follow the first, at most "
                            f"{self.LIMIT} addresses")
        self.first, self.last, self.dns, self.subnets = first, last, tuple(dns), tuple(subnets)

    def lease(self, cky_i, peer):
        """The address leased to the SA with ``cky_i`` (the same again when it has one), or None."""
        if cky_i in self.leases:
            return self.leases[cky_i][0]
        if self.first is None:
            return None
        taken = {address for address, _ in self.leases.values()}
        for number in range(int(self.first), int(self.last) + 1):
            candidate = ipaddress.IPv4Address(number)
            if candidate not in taken:
                self.leases[cky_i] = (candidate, peer)
                return candidate
        return None

    def release(self, cky_i):
        """Give back the address of the SA with ``cky_i`` (nothing when it had none)."""
        self.leases.pop(cky_i, None)


@dataclass(frozen=True)
class ModeConfigReceived:
    """What a client was given: ``peer``, ``policy`` (ISAKMP policy name),
    ``address`` (IPv4Address or None), ``netmask``, ``dns`` and ``subnets`` (tuples)."""
    peer: object
    policy: str
    address: ipaddress.IPv4Address | None = None
    netmask: ipaddress.IPv4Address | None = None
    dns: tuple = ()
    subnets: tuple = ()


def request_attributes():
    """The client's REQUEST attributes: each supported one, empty."""
    return tuple(attribute_of(kind, b"") for kind in SUPPORTED)


def reply_attributes(pool, requested, address):
    """The REPLY attributes for ``requested`` (attribute classes asked for)
    with the leased ``address`` (or None) and ``pool``'s DNS and subnets."""
    out = []
    for kind in dict.fromkeys(requested):
        if kind == A.INTERNAL_IP4_ADDRESS and address is not None:
            out.append(attribute_of(kind, address.packed))
        elif kind == A.INTERNAL_IP4_NETMASK and address is not None:
            out.append(attribute_of(kind, _HOST_MASK.packed))
        elif kind == A.INTERNAL_IP4_DNS:
            out += [attribute_of(kind, server.packed) for server in pool.dns]
        elif kind == A.INTERNAL_IP4_SUBNET:
            out += [attribute_of(kind, net.network_address.packed + net.netmask.packed) for net in pool.subnets]
        elif kind == A.SUPPORTED_ATTRIBUTES:
            out.append(attribute_of(kind, b"".join(int(s).to_bytes(2, "big") for s in SUPPORTED)))
    return tuple(out)


def received_config(peer, policy, attributes):
    """``(ModeConfigReceived, skipped)``: the config in ``attributes`` and how many were unusable."""
    address = netmask = None
    dns, subnets, skipped = [], [], 0
    for attribute in attributes:
        value = attribute.value
        if attribute.type in (A.INTERNAL_IP4_ADDRESS, A.INTERNAL_IP4_NETMASK, A.INTERNAL_IP4_DNS) and len(value) == 4:
            item = ipaddress.IPv4Address(value)
            if attribute.type == A.INTERNAL_IP4_ADDRESS:
                address = item
            elif attribute.type == A.INTERNAL_IP4_NETMASK:
                netmask = item
            else:
                dns.append(item)
        elif attribute.type == A.INTERNAL_IP4_SUBNET and len(value) == 8:
            try:
                subnets.append(ipaddress.IPv4Network((ipaddress.IPv4Address(value[:4]),
                                                      str(ipaddress.IPv4Address(value[4:]))), strict=False))
            except ValueError:
                skipped += 1
        else:
            skipped += 1
    return ModeConfigReceived(peer, policy, address, netmask, tuple(dns), tuple(subnets)), skipped
