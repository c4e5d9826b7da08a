# Ref: spec/show-outputs.md §10 (show isakmp, Figure 48-25, Table 48-21)
"""The frozen snapshot of the ISAKMP module's status for ``show isakmp``.

:class:`IsakmpModuleSnapshot` (:func:`isakmp_module_snapshot`): whether
ISAKMP is enabled, its UDP port, the debug flag word (bits of
:data:`~pacsim.firmware.isakmp.debug.DEBUG_BITS`), the debug device, the
local RSA key (ENCO key number or None) and the VPN-client policy server
settings. The IKE SAs and exchanges have their own snapshots
(:class:`~pacsim.firmware.isakmp.ike_sa.IkeSaSnapshot`,
:class:`~pacsim.firmware.isakmp.exchange.ExchangeSnapshot`).
"""
from dataclasses import dataclass

from ..isakmp.debug import debug_flags
from ..isakmp.policy_config import IsakmpConfig

__all__ = ["IsakmpModuleSnapshot", "isakmp_module_snapshot"]


@dataclass(frozen=True)
class IsakmpModuleSnapshot:
    """``show isakmp``: ``enabled``, ``udpport``, ``debug_flags`` (int),
    ``debug_device`` (port number, 0 = the console), ``localrsakey``
    (ENCO key number or None), ``policyserverenabled``, ``policyfilename``
    (or None)."""
    enabled: bool
    udpport: int
    debug_flags: int
    debug_device: int
    localrsakey: int | None
    policyserverenabled: bool
    policyfilename: str | None


def isakmp_module_snapshot(config: IsakmpConfig, debug_device: int = 0) -> IsakmpModuleSnapshot:
    """The status of the ISAKMP module configured by ``config``."""
    return IsakmpModuleSnapshot(config.enabled, config.udpport, debug_flags(config.debug), debug_device,
                                config.localrsakey, config.policyserverenabled, config.policyfilename)
