# Ref: ../shared/seeds/002_*.txt, 003_*.txt (Cisco IOS show crypto ..., clear crypto sa)
"""The Cisco IOS commands of the router console, as data, and their
handler: ``show crypto isakmp sa [detail]``, ``show crypto ipsec sa
[detail]``, ``show crypto ipsec sa peer ADDRESS [detail]``, ``show crypto
engine connections active|dropped-packet``, ``show crypto map [tag
NAME]`` (formatted by :mod:`.ios`) and ``clear crypto sa``.

:class:`IosCommands` reads a :class:`~pacsim.firmware.views.ViewSource`
(the router's :class:`~pacsim.firmware.router.view_source.RouterViewSource`)
and, for ``clear crypto sa``, the :class:`~pacsim.firmware.ipsec.module.IpsecModule`:
:func:`clear_sas` resets every policy that has SA bundles (as ``reset ipsec
policy`` does: its bundles go, its counters are zeroed, a manual policy's
bundle is made again, an ISAKMP one is negotiated on the next packet).
"""
from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import IpAddress, Name
from . import ViewSource
from .ios import (show_crypto_engine_active, show_crypto_engine_dropped, show_crypto_ipsec_sa, show_crypto_isakmp_sa,
                  show_crypto_map)

__all__ = ["IOS_COMMANDS", "IosCommands", "clear_sas"]

SH, CRYPTO, SA = P("SHow"), P("CRYpto"), P("SA")
_DETAIL = P("DETail")
USER = Privilege.USER             # the displays: any logged-in user
_CONNECTIONS = (SH, CRYPTO, P("ENGine"), P("CONnections"))

IOS_COMMANDS = (
    Command((SH, CRYPTO, P("ISAkmp"), SA), (_DETAIL,), "show_isakmp_sa", "IOS: ISAKMP SAs", "seed 002/003", USER),
    Command((SH, CRYPTO, P("IPSec"), SA), (_DETAIL,), "show_ipsec_sa", "IOS: IPsec SAs", "seed 002/003", USER),
    Command((SH, CRYPTO, P("IPSec"), SA, P("PEER")),
            (P("ADDRess", IpAddress(), required=True, positional=True), _DETAIL), "show_ipsec_sa",
            "IOS: IPsec SAs with a peer", "seed 003", USER),
    Command((*_CONNECTIONS, P("ACTive")), (), "show_engine_active", "IOS: crypto engine connections",
            "seed 003", USER),
    Command((*_CONNECTIONS, P("DROpped-packet")), (), "show_engine_dropped", "IOS: crypto engine drops",
            "seed 003", USER),
    Command((SH, CRYPTO, P("MAP")), (), "show_map", "IOS: crypto maps", "seed 002/003", USER),
    Command((SH, CRYPTO, P("MAP"), P("TAG")), (P("NAME", Name(23, "crypto map tag"), required=True, positional=True),),
            "show_map", "IOS: one crypto map", "seed 003", USER),
    Command((P("CLEar"), CRYPTO, SA), (), "clear_sa", "IOS: clear the IPsec SAs", "seed 002"),
)


def clear_sas(module) -> list[str]:
    """Reset every policy of ``module`` that has SA bundles (see the module
    docstring); the messages of manual bundles that could not be made again."""
    notes = []
    for policy in module.spd.policies():
        if module.sad.bundles(policy.name):
            notes += module.reset_policy(policy.name)
    return notes


class IosCommands:
    """Carries out :data:`IOS_COMMANDS` on ``source`` (a :class:`ViewSource`)
    and ``module`` (the IPsec module ``clear crypto sa`` resets)."""

    def __init__(self, source: ViewSource, module):
        self.source = source
        self.module = module

    def show_isakmp_sa(self, detail=False):
        return show_crypto_isakmp_sa(self.source, detail is not False)

    def show_ipsec_sa(self, address=None, detail=False):
        return show_crypto_ipsec_sa(self.source, None if address is None else str(address), detail is not False)

    def show_engine_active(self):
        return show_crypto_engine_active(self.source)

    def show_engine_dropped(self):
        return show_crypto_engine_dropped(self.source)

    def show_map(self, name=None):
        return show_crypto_map(self.source, name)

    def clear_sa(self):
        return "\n".join(clear_sas(self.module))
