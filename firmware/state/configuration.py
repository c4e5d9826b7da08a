# Ref: spec/ipsec-commands.md §0-§6, spec/isakmp-commands.md §0-§2 (what the security commands configure)
"""The router's security configuration, apart from the consoles that show
and change it.

:class:`RouterState` holds the ENCO key store
(:class:`~..enco.keys.KeyStore`), the IPsec module
(:class:`~.ipsec.module.IpsecModule`: SPD, SAD, pre-IPsec SAs), the ISAKMP
configuration (:class:`~.isakmp.policy_config.IsakmpConfig`) and the User
Authentication Facility (:class:`~.users.database.UserDatabase`). The
router builds one (:meth:`RouterState.create`) and hands it to each of its
consoles (:class:`~.console.RouterConsole`), which build nothing: several
consoles on one router see and change the same configuration.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from ..enco.keys import KeyStore
from ..ipsec.module import IpsecModule
from ..isakmp.mode_config import ModeConfigPool
from ..isakmp.policy_config import IsakmpConfig
from ..users.database import UserDatabase
from ..users.radius import RadiusServers

__all__ = ["RouterState"]


@dataclass(frozen=True)
class RouterState:
    """The configuration a router's consoles share: ``keys``, ``ipsec``,
    ``isakmp`` and ``users``, and the ``clock()`` (seconds) they run on;
    ``radius`` (the RADIUS servers) and ``modeconfig`` (the XAUTH server's
    mode-config pool)."""
    keys: KeyStore
    ipsec: IpsecModule
    isakmp: IsakmpConfig
    users: UserDatabase
    clock: Callable[[], float]
    radius: RadiusServers = field(default_factory=RadiusServers)
    modeconfig: ModeConfigPool = field(default_factory=ModeConfigPool)

    @classmethod
    def create(cls, clock: Callable[[], float], random_bytes: Callable[[int], bytes],
               interface_exists: Callable[[str], bool] = lambda name: True) -> "RouterState":
        """A fresh configuration: ``clock()`` in seconds, ``random_bytes(n)``
        (ENCO random keys, SPIs), ``interface_exists(name)`` (by default
        every well-formed interface name exists)."""
        keys = KeyStore(random_bytes)
        return cls(keys, IpsecModule(keys, clock, interface_exists, random_bytes), IsakmpConfig(), UserDatabase(),
                   clock)
