# Ref: spec/ipsec-commands.md §0.2, spec/isakmp-commands.md §0.2 (privilege)
"""Privilege levels: what a user holds, and what a command declares it needs.

A user holds ``USER``, ``MANAGER`` or ``SECURITYOFFICER`` (AlliedWare's
three levels). Every :class:`~.grammar.Command` declares the level it needs
in its ``privilege`` field, once, in its command table:

- ``NONE``: runs with no user logged in (``LOGIN``);
- ``USER``: any logged-in user (the ``show`` displays, ``LOGOFF``);
- ``MANAGER`` (the default): a Manager or a Security Officer;
- ``SECURITYOFFICER``: a security command. "This command requires a user
  with security officer privilege when the router is in security mode"
  (the manual's words for every IPsec, ISAKMP, ENCO and user command); out
  of security mode it needs a Manager, as ``MANAGER`` does.

The command line does not decide; it asks the session it was given
(:class:`~pacsim.firmware.users.session.ConsoleSession`), which knows the
logged-in user and the security mode.
"""
import enum

__all__ = ["Privilege"]


class Privilege(enum.IntEnum):
    """A privilege level, lowest first (see the module docstring)."""
    NONE = 0
    USER = 1
    MANAGER = 2
    SECURITYOFFICER = 3

    @property
    def display(self) -> str:
        """The level in words: ``Security Officer``, ``Manager``, ``User``."""
        return {Privilege.NONE: "no", Privilege.USER: "User", Privilege.MANAGER: "Manager",
                Privilege.SECURITYOFFICER: "Security Officer"}[self]
