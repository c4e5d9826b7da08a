# Ref: spec/ipsec-commands.md §6.0 (the add user echo, seeds/004 L1659-1664)
"""User displays: ``show user`` and the security part of ``show system``.

``show user`` follows the one figure the manual prints (the echo of
``add user=secoff``, L1659-1664), kept as printed, its double blank and
the misspelt ``Privelige`` included::

    User Authentication  Database
    ------------------------------------------------------------
    Username: secoff ()
    Status: Enabled Privelige: Sec Off Telnet: No Login: Yes
    Logins: 0 Fails: 0 Sent: 0 Rcvd: 0
    ------------------------------------------------------------

The description is in the brackets. ``Login: Yes|No`` is ours, added
after ``Telnet:`` (the figure has no LOGIN field, but the manual's own
``add user`` sets it, L1983). ``Status`` is always ``Enabled`` (users are
not disabled or locked out in this model); ``Sent`` and ``Rcvd`` (PPP
traffic) are always 0. Several users print one block each.

``show system`` is ours, in the chapter's leader layout, and shows only
what this model has of the system: the security mode, SECUREDELAY, the
logged-in user and the session's counters (refused commands by reason,
logins).
"""
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...cli.layout import join_lines, leader
from ...cli.privilege import Privilege
from ...state.counters import CounterSnapshot
if TYPE_CHECKING:      # the users package imports this view through its commands
    from ...users.database import User

__all__ = ["show_users", "show_system", "PRIVILEGE_NAMES"]

RULE = "-" * 60
#: A privilege as ``show user`` prints it.
PRIVILEGE_NAMES = {Privilege.USER: "User", Privilege.MANAGER: "Manager", Privilege.SECURITYOFFICER: "Sec Off"}


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def show_users(users: Iterable["User"]) -> str:
    """``show user[=name]`` and the echo of ``add user``/``set user``."""
    lines = ["User Authentication  Database", RULE]
    for u in users:
        lines += [f"Username: {u.name} ({u.description})",
                  f"Status: Enabled Privelige: {PRIVILEGE_NAMES[u.privilege]} Telnet: {_yes(u.telnet)} "
                  f"Login: {_yes(u.login)}",
                  f"Logins: {u.logins} Fails: {u.fails} Sent: 0 Rcvd: 0",
                  RULE]
    return join_lines(lines)


def show_system(security_mode: bool, secure_delay: int, user: "User | None", counters: CounterSnapshot) -> str:
    """``show system``: security mode, SECUREDELAY, the logged-in user and
    the session ``counters`` (a :class:`~pacsim.firmware.state.counters.CounterSnapshot`
    of :data:`~pacsim.firmware.users.session.SESSION_COUNTERS`)."""
    who = f"{user.name} ({user.privilege.display})" if user is not None else "-"
    refused = [counters[name] for name in ("refusedNotLoggedIn", "refusedManager", "refusedSecurityOfficer")]
    return join_lines([
        "System Configuration", RULE,
        leader("Security Mode", "Enabled" if security_mode else "Disabled", 39),
        leader("Secure Delay", f"{secure_delay} seconds", 39),
        leader("Logged In User", who, 39),
        leader("Commands Refused", sum(refused), 39),
        leader("No User Logged In", refused[0], 39, 2),
        leader("Manager Privilege Needed", refused[1], 39, 2),
        leader("Security Officer Privilege Needed", refused[2], 39, 2),
        leader("Logins", counters["loginGood"], 39),
        leader("Login Failures", counters["loginFail"], 39),
        leader("Logoffs", counters["logoff"], 39),
        leader("Secure Delay Logoffs", counters["secureDelayLogoff"], 39),
        RULE,
    ])
