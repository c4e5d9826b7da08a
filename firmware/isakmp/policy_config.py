# Ref: spec/isakmp-commands.md §2.1-§2.8 (ISAKMP policy parameters and their constraints)
"""The ISAKMP configuration: policies and the module settings, stored and
checked, for the protocol implementation to come.

:class:`IsakmpPolicy` holds every parameter of ``create isakmp policy``
with the manual's default; :class:`IsakmpConfig` keeps the policies
(names case-sensitive, 1-24 characters) and ``enable isakmp`` settings, and
checks the constraints of isakmp-commands.md §2.1.4 that can be checked
when a command is entered:

- the peer, localid and remoteid addresses are of IP version ``ipversion``;
- heartbeatmode, hybridxauth, srcinterface and the xauth parameters
  cannot be specified with ipversion 6;
- authtype preshared needs key; hybridxauth needs authtype rsasig;
- xauth client needs xauthname and xauthpasswd (R81, L725-727);
- dhexponentlength is at most 511, 767 or 1023 for groups 0, 1 and 2
  (1535 and 2047 for the extension groups 5 and 14);
- retryikeattempts needs a specific peer address (not ANY);
- policyfilename ends in .scp or .cfg;
- ``enable isakmp policyserverenabled=true`` needs policyfilename.

What is only a run-time failure in the manual (prenegotiation after
``enable isakmp``, missing RSA keys) is not refused.
"""
import ipaddress
from dataclasses import dataclass, field, replace

__all__ = ["IsakmpPolicy", "IsakmpConfig", "IsakmpConfigError", "PEER_ANY", "DH_MAX_EXPONENT"]

PEER_ANY = "ANY"
#: Longest Diffie-Hellman exponent per group (L3454-3456). Groups 5 and 14
#: (RFC 3526, MODP 1536 and 2048) are this model's extension of the
#: manual's 0, 1 and 2, for peers that no longer offer the small groups.
DH_MAX_EXPONENT = {0: 511, 1: 767, 2: 1023, 5: 1535, 14: 2047}
_IPV4_ONLY = ("heartbeatmode", "hybridxauth", "srcinterface", "xauth", "xauthname", "xauthpasswd", "xauthtype")


class IsakmpConfigError(Exception):
    """An ISAKMP configuration command that breaks a rule."""


@dataclass
class IsakmpPolicy:
    """One ISAKMP policy with the manual's defaults (§2.1.3)."""
    name: str
    peer: object = None
    authtype: str = "preshared"
    deletedelay: int = 30
    dhexponentlength: int = 160
    encalg: str = "des"
    expirykbytes: int | None = None
    expiryseconds: int = 86400
    group: int = 1
    hashalg: str = "sha"
    heartbeatmode: str = "none"
    hybridxauth: bool = False
    ipversion: int = 4
    key: int | None = None
    localid: str | None = None
    localrsakey: int | None = None
    mode: str = "main"
    msgbackoff: str = "incremental"
    msgretrylimit: int = 8
    msgtimeout: int = 4
    nattraversal: bool = False
    phase2xchglimit: int | None = None
    policyfilename: str | None = None
    prenegotiate: bool = False
    remoteid: str | None = None
    retryikeattempts: int | str = 0
    senddeletes: bool = False
    sendidalways: bool = False
    sendnotify: bool = False
    setcommitbit: bool = False
    srcinterface: str | None = None
    xauth: str = "none"
    xauthname: str | None = None
    xauthpasswd: str | None = None
    xauthtype: str = "generic"
    explicit: frozenset[str] = frozenset()


def _version(value) -> int | None:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value.version
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value).version
        except ValueError:
            return None
    return None


@dataclass
class IsakmpConfig:
    """The ISAKMP module's configuration (``keylog``: the key log's
    directory, see :mod:`.key_log`, or None)."""
    policies: dict[str, IsakmpPolicy] = field(default_factory=dict)
    enabled: bool = False
    localrsakey: int | None = None
    policyserverenabled: bool = False
    policyfilename: str | None = None
    udpport: int = 500
    debug: frozenset[str] = frozenset()
    keylog: str | None = None
    #: The running daemon's hooks for the resets (the router's ISAKMP gate), None while none runs.
    runtime: object = field(default=None, compare=False, repr=False)

    def create_policy(self, policy: str, **params) -> IsakmpPolicy:
        if policy in self.policies:
            raise IsakmpConfigError(f'ISAKMP policy "{policy}" already exists')
        p = IsakmpPolicy(policy, **params, explicit=frozenset(params))
        self._check(p)
        self.policies[policy] = p
        return p

    def set_policy(self, policy: str, **params) -> IsakmpPolicy:
        old = self.policy(policy)
        new = replace(old, **params, explicit=old.explicit | frozenset(params))
        self._check(new)
        self.policies[policy] = new
        return new

    def destroy_policy(self, policy: str) -> IsakmpPolicy:
        return self.policies.pop(self.policy(policy).name)

    def policy(self, name: str) -> IsakmpPolicy:
        try:
            return self.policies[name]
        except KeyError:
            raise IsakmpConfigError(f'ISAKMP policy "{name}" does not exist (names are case sensitive)') from None

    def enable(self, **params) -> None:
        for k, v in params.items():
            setattr(self, k, v)
        if self.policyserverenabled and not self.policyfilename:
            raise IsakmpConfigError("POLICYSERVERENABLED=TRUE needs POLICYFILENAME")
        self.enabled = True

    @staticmethod
    def _check(p: IsakmpPolicy) -> None:
        what = f'ISAKMP policy "{p.name}"'
        if p.peer is None:
            raise IsakmpConfigError(f"{what}: PEER is required")
        for name in ("peer", "localid", "remoteid"):
            v = _version(getattr(p, name))
            if v is not None and v != p.ipversion:
                raise IsakmpConfigError(f"{what}: {name.upper()}={getattr(p, name)} is an IPv{v} address, the "
                                        f"policy is IPv{p.ipversion}")
        if p.ipversion == 6:
            given = [n.upper() for n in _IPV4_ONLY if n in p.explicit]
            if given:
                raise IsakmpConfigError(f"{what}: {', '.join(given)} cannot be specified when IPVERSION is 6")
        if p.authtype == "preshared" and p.key is None:
            raise IsakmpConfigError(f"{what}: AUTHTYPE=PRESHARED needs KEY (the ENCO key id of the shared key)")
        if p.xauth == "client" and not (p.xauthname and p.xauthpasswd):
            raise IsakmpConfigError(f"{what}: XAUTH=CLIENT needs XAUTHNAME and XAUTHPASSWD (the client's credentials)")
        if p.hybridxauth and p.authtype != "rsasig":
            raise IsakmpConfigError(f"{what}: HYBRIDXAUTH applies to AUTHTYPE=RSASIG only")
        if p.dhexponentlength > DH_MAX_EXPONENT[p.group]:
            raise IsakmpConfigError(f"{what}: DHEXPONENTLENGTH={p.dhexponentlength} is too long for group "
                                    f"{p.group}: at most {DH_MAX_EXPONENT[p.group]}")
        if p.retryikeattempts != 0 and p.peer == PEER_ANY:
            raise IsakmpConfigError(f"{what}: RETRYIKEATTEMPTS needs a specific PEER address, not ANY")
        if p.policyfilename is not None and not p.policyfilename.lower().endswith((".scp", ".cfg")):
            raise IsakmpConfigError(f"{what}: POLICYFILENAME must be a .scp or .cfg file")
