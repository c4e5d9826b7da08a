# Ref: spec/ipsec-commands.md §0.1, spec/isakmp-commands.md §0.1
"""The AlliedWare-style command engine: keywords with minimum abbreviations
(:mod:`.keywords`), value types (:mod:`.values`), commands declared as data
and one generic parser (:mod:`.grammar`), the privilege each command needs
(:mod:`.privilege`), the dispatching :class:`CommandLine`
(:mod:`.commandline`) and helpers for ``show`` layouts (:mod:`.layout`)."""
from .commandline import SUCCESS, CommandLine, ScriptLine
from .errors import (AmbiguousAbbreviation, BadValue, CliError, CommandFailed, DuplicateParameter,
                     MalformedLine, MissingParameter, NotPermitted, NotSupported, OutOfRange, UnknownCommand,
                     UnknownParameter)
from .grammar import Command, CommandTable, HelpRequest, P, Param, ParsedCommand
from .keywords import Keyword, resolve
from .privilege import Privilege

__all__ = [
    "CommandLine", "ScriptLine", "SUCCESS", "Command", "CommandTable", "HelpRequest", "P", "Param",
    "ParsedCommand", "Keyword", "resolve", "CliError", "UnknownCommand", "AmbiguousAbbreviation",
    "UnknownParameter", "DuplicateParameter", "MissingParameter", "BadValue", "OutOfRange",
    "MalformedLine", "CommandFailed", "NotSupported", "NotPermitted", "Privilege",
]
