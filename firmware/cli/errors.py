# Ref: spec/ipsec-commands.md §0.1, spec/isakmp-commands.md §0.1 (command notation)
"""Errors of the command line: a small hierarchy, one class per kind of fault.

Every message says what was wrong and what was expected. The manual gives no
message text for the commands in scope (ipsec-commands.md §0.4), so the
wording is ours; :class:`pacsim.firmware.cli.commandline.CommandLine`
prints them as ``Error: <message>``.

- :class:`UnknownCommand`: the command words do not name a command
  (including an incomplete command).
- :class:`AmbiguousAbbreviation`: an abbreviation fits more than one keyword.
- :class:`UnknownParameter`: a parameter keyword the command does not have.
- :class:`DuplicateParameter`: the same parameter given twice.
- :class:`MissingParameter`: a required parameter, or a required value, is absent.
- :class:`BadValue`: a value of the wrong form; :class:`OutOfRange` for a
  number outside its range.
- :class:`MalformedLine`: the line cannot be split into words (unterminated
  quote, a value without a keyword).
- :class:`CommandFailed`: the command was understood but refused by the
  configuration it acts on (an SPD rule, an object that does not exist...);
  :class:`NotSupported` for a recognised command this model does not carry out.
- :class:`NotPermitted`: the command was understood but the logged-in user
  may not run it (no user logged in, too low a privilege, or not a Security
  Officer while the router is in security mode); nothing was changed.
"""

__all__ = [
    "CliError", "UnknownCommand", "AmbiguousAbbreviation", "UnknownParameter", "DuplicateParameter",
    "MissingParameter", "BadValue", "OutOfRange", "MalformedLine", "CommandFailed", "NotSupported",
    "NotPermitted",
]


class CliError(Exception):
    """Base class: a command line that was not carried out."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownCommand(CliError):
    """The command words do not name a command."""


class AmbiguousAbbreviation(CliError):
    """An abbreviation matches more than one keyword, or is shorter than any minimum."""


class UnknownParameter(CliError):
    """A parameter keyword the command does not take."""


class DuplicateParameter(CliError):
    """A parameter given more than once."""


class MissingParameter(CliError):
    """A required parameter, or the value of a parameter, is missing."""


class BadValue(CliError):
    """A value of the wrong form for its parameter."""


class OutOfRange(BadValue):
    """A number outside the range its parameter allows."""


class MalformedLine(CliError):
    """The line cannot be split into keywords and values."""


class CommandFailed(CliError):
    """The command was understood but refused by the configuration it acts on."""


class NotSupported(CommandFailed):
    """A recognised command that this model does not carry out (yet)."""


class NotPermitted(CliError):
    """The logged-in user may not run the command; it was not carried out."""
