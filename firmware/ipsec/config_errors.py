# Ref: spec/ipsec-commands.md §2-§5 (rules and error conditions)
"""Errors of the IPsec configuration model (SPD, SAD bookkeeping, keying).

Each message names the object and the rule and says what was expected; the
command line shows them as they are.

- :class:`NotFound`: a specification, policy, bundle or SA that does not exist.
- :class:`AlreadyExists`: creating something whose id or name is taken.
- :class:`InvalidConfiguration`: a parameter combination a rule forbids.
- :class:`InUse`: destroying or changing something others depend on.
- :class:`LimitReached`: a fixed limit (100 SA bundles per policy...).
- :class:`InvalidState`: a command the module's state does not allow (IPsec disabled...).

:func:`counted` turns these errors into the ``<operation> failed`` rows of
the SPD and SAD counter blocks (``<operation> good`` when none is raised).
"""
import contextlib
from collections.abc import Callable, Iterator

__all__ = ["IpsecConfigError", "NotFound", "AlreadyExists", "InvalidConfiguration", "InUse", "LimitReached",
           "InvalidState", "counted"]


class IpsecConfigError(Exception):
    """Base class of the IPsec configuration errors."""


class NotFound(IpsecConfigError):
    """The named object does not exist."""


class AlreadyExists(IpsecConfigError):
    """An object with that id or name exists already."""


class InvalidConfiguration(IpsecConfigError):
    """A parameter or combination of parameters a rule forbids."""


class InUse(IpsecConfigError):
    """The object is used by another and cannot be destroyed or changed so."""


class LimitReached(IpsecConfigError):
    """A fixed limit would be exceeded."""


class InvalidState(IpsecConfigError):
    """The command is not allowed in the module's current state."""


@contextlib.contextmanager
def counted(count: Callable[[str], None], operation: str) -> Iterator[None]:
    """Call ``count("<operation> good")`` when the ``with`` block completes
    (or returns), ``count("<operation> failed")`` when it raises an
    :class:`IpsecConfigError`, which goes on up; other exceptions are not counted."""
    try:
        yield
    except IpsecConfigError:
        count(f"{operation} failed")
        raise
    count(f"{operation} good")
