# Ref: ../shared/spec/isakmp-commands.md R80 (``add radius server=... secret=...``), section 7.2
# Ref: draft-ietf-ipsec-isakmp-mode-cfg-05 section 3.3 (what the pool hands out)
"""The commands XAUTH needs besides the policy's ``xauth*`` parameters, as
data, and their handler::

    ADD RADius SERVer=ipv4add SECret=secret [PORT=1..65535]
    DELete RADius SERVer=ipv4add
    SHow RADius
    SET ISAkmp MODEconfig POOL=ipv4add[-ipv4add] [DNS=ipv4add[,...]] [SUBnet=ipv4add/prefix[,...]]
    SHow ISAkmp MODEconfig

``add radius server`` is the manual's (R80: ``add radius server=...
secret=...``; PORT is ours, default 1812). The pool command is ours (the
manual names none): the XAUTH server leases each client an address of the
pool, and hands out the DNS servers and subnets, when the client asks
after XAUTH. ``show isakmp modeconfig`` shows the pool and its leases,
what this router received as a client, and the last XAUTH results. The
secret is never shown. The displays are formatted by
:mod:`pacsim.firmware.views.alliedware.xauth`.
"""
import ipaddress

from ..cli.errors import CommandFailed
from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import CommaList, Integer, Ipv4Address, Text
from ..users.radius import RADIUS_PORT, RadiusError
from ..views.alliedware.xauth import show_modeconfig, show_radius
from .commands import ISA
from .mode_config import PoolError

__all__ = ["XAUTH_COMMANDS", "XauthCommands", "ERRORS"]

ERRORS = (RadiusError, PoolError)
SO, USER = Privilege.SECURITYOFFICER, Privilege.USER
_SERVER = P("SERVer", Ipv4Address())
_MODECONFIG = P("MODEconfig")

XAUTH_COMMANDS = (
    Command((P("ADD"), P("RADius"), _SERVER), (P("SECret", Text(1, 64, "secret"), required=True),
                                               P("PORT", Integer(1, 65535))),
            "add_radius", "Add a RADIUS server (XAUTHTYPE=RADIUS)", "R80", SO),
    Command((P("DELete"), P("RADius"), _SERVER), (), "delete_radius", "Delete a RADIUS server", "R80", SO),
    Command((P("SHow"), P("RADius")), (), "show_radius", "RADIUS servers", "R80", USER),
    Command((P("SET"), ISA, _MODECONFIG), (P("POOL", Text(7, 31, "address range"), required=True),
                                          P("DNS", CommaList(Ipv4Address())),
                                          P("SUBnet", CommaList(Text(9, 18, "subnet")))),
            "set_modeconfig", "The XAUTH server's mode-config pool", "mode-cfg", SO),
    Command((P("SHow"), ISA, _MODECONFIG), (), "show_modeconfig", "Mode config and XAUTH results", "mode-cfg", USER),
)


def _range(text):
    first, _, last = text.partition("-")
    try:
        return ipaddress.IPv4Address(first.strip()), ipaddress.IPv4Address(last.strip()) if last else None
    except ValueError:
        raise CommandFailed(f'POOL="{text}" is not an IPv4 address or range first-last') from None


def _subnet(text):
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        raise CommandFailed(f'SUBNET="{text}" is not an IPv4 network address/prefix') from None


class XauthCommands:
    """Carries out :data:`XAUTH_COMMANDS` on the router's ``state``
    (:class:`~..state.configuration.RouterState`); ``runtime`` gives the
    running daemon (``daemon()``, its ``phase1_5`` the XAUTH service) or None."""

    def __init__(self, state, runtime=None):
        self.state, self.runtime = state, runtime

    def add_radius(self, server, secret, port=RADIUS_PORT):
        self.state.radius.add(server, secret, port)
        return f"Info: RADIUS server {server} port {port} added."

    def delete_radius(self, server):
        self.state.radius.delete(server)
        return f"Info: RADIUS server {server} deleted."

    def show_radius(self):
        return show_radius(self.state.radius.servers, self.state.radius.counters)

    def set_modeconfig(self, pool, dns=(), subnet=()):
        first, last = _range(pool)
        self.state.modeconfig.configure(first, last, dns, tuple(_subnet(s) for s in subnet))
        return None

    def show_modeconfig(self):
        daemon = self.runtime.daemon() if self.runtime is not None else None
        service = daemon.phase1_5 if daemon is not None else None
        return show_modeconfig(self.state.modeconfig, service.received.values() if service is not None else (),
                               service.results if service is not None else ())
