# Ref: spec/ipsec-commands.md §0.1, spec/isakmp-commands.md §0.1 (command notation)
"""Commands declared as data, and the one generic parser.

A :class:`Command` is the manual's syntax line as data: its leading
``words`` in order (``CREate IPSec SASpecification=spec-id``: three words,
the last with a value) and its ``params`` in any order. Each is a
:class:`Param`: a :class:`~.keywords.Keyword`, a value type (None for a bare
word such as ``COUnter``), whether it is required and whether its value is
optional (``POLIcy[=name]``). The parser never applies defaults: the
configuration model owns them.

:class:`CommandTable` parses a line against all its commands:

1. the leading words are matched one position at a time against the words
   the remaining commands have at that position (abbreviations per
   :mod:`.keywords`); a word that matches none ends the command words if a
   command is complete there, otherwise the command is unknown;
2. every further word is a parameter of that command: unknown, duplicate
   and missing required parameters are refused, and each value is parsed
   by its type;
3. a ``?`` anywhere returns a :class:`HelpRequest` listing what may follow.

A parameter may be ``positional``: its value may then be written as a bare
word right after the command words (``LOGIN secoff`` as well as
``LOGIN USER=secoff``). Each command declares the ``privilege`` it needs
(:class:`~.privilege.Privilege`; ``MANAGER`` unless marked); the parser
only carries it, the command line has it checked.

The result is a :class:`ParsedCommand`: the command and ``args``, a dict
from each given word or parameter's ``dest`` (the keyword in lower case,
``saspecification``) to its value (``None`` for an omitted optional value).
Command words without a value (``CREate``, ``COUnter``) are not in ``args``;
a bare parameter (``RANdom``) is, with the value None.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import (BadValue, DuplicateParameter, MissingParameter, OutOfRange, UnknownCommand,
                     UnknownParameter)
from .keywords import Keyword, NoMatch, resolve
from .privilege import Privilege
from .tokens import Token, tokenize
from .values import InvalidValue, ValueType

__all__ = ["Param", "P", "Command", "CommandTable", "ParsedCommand", "HelpRequest"]


@dataclass(frozen=True)
class Param:
    """A word or parameter: its keyword, value type (None: takes no value),
    whether it is required, whether its value may be left out, the name
    (``dest``) it has in the parsed arguments, and whether its value may be
    given as a bare word first after the command words (``positional``),
    and whether it may be given again with the same value (``repeat``: the
    manual's firewall rule 4 repeats ``policy=main ru=4``, spec §7 item 39)."""
    keyword: Keyword
    type: ValueType | None = None
    required: bool = False
    optional_value: bool = False
    dest: str = ""
    positional: bool = False
    repeat: bool = False

    def __post_init__(self):
        if not self.dest:
            object.__setattr__(self, "dest", self.keyword.name)

    def syntax(self) -> str:
        """The parameter as the manual writes it: ``SASpecification=0..255``,
        ``POLIcy[=name]``, ``COUnter``."""
        if self.type is None:
            return self.keyword.spelling
        value = self.type.describe()
        if self.positional:
            return f"[{self.keyword.spelling}=]{value}"
        if self.optional_value:
            return f"{self.keyword.spelling}[={value}]"
        return f"{self.keyword.spelling}={value}"


def P(spelling: str | Keyword, type: ValueType | None = None, *, required: bool = False,
      optional_value: bool = False, minimum: int = 0, dest: str = "", positional: bool = False,
      repeat: bool = False) -> Param:
    """Shorthand for :class:`Param` from the manual's spelling."""
    kw = spelling if isinstance(spelling, Keyword) else Keyword(spelling, minimum)
    return Param(kw, type, required, optional_value, dest, positional, repeat)


@dataclass(frozen=True)
class Command:
    """One command: leading ``words``, ``params``, the name of the handler
    method (``action``), a one-line ``summary``, the spec section it
    implements (``ref``) and the :class:`~.privilege.Privilege` it needs."""
    words: tuple[Param, ...]
    params: tuple[Param, ...] = ()
    action: str = ""
    summary: str = ""
    ref: str = ""
    privilege: Privilege = Privilege.MANAGER

    @property
    def title(self) -> str:
        """The command words in capitals: ``CREATE IPSEC SASPECIFICATION``."""
        return " ".join(w.keyword.name.upper() for w in self.words)

    def syntax(self) -> str:
        """The whole syntax line, optional parameters in brackets."""
        parts = [w.syntax() for w in self.words]
        parts += [p.syntax() if p.required else f"[{p.syntax()}]" for p in self.params]
        return " ".join(parts)


@dataclass(frozen=True)
class ParsedCommand:
    """A parsed line: its command and arguments (see the module docstring)."""
    command: Command
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HelpRequest:
    """What may follow at the ``?``: ``options`` as syntax strings, and a
    ``context`` (the words typed so far)."""
    context: str
    options: tuple[str, ...]


def _unique(keywords: Iterable[Keyword]) -> list[Keyword]:
    seen: list[Keyword] = []
    for k in keywords:
        if k not in seen:
            seen.append(k)
    return seen


class CommandTable:
    """A set of commands and the parser over them."""

    def __init__(self, commands: Iterable[Command] = ()):
        self.commands: list[Command] = []
        for c in commands:
            self.add(c)

    def add(self, command: Command) -> None:
        """Add ``command``; refuses a second command with the same words."""
        path = tuple(w.keyword.name for w in command.words)
        for c in self.commands:
            if tuple(w.keyword.name for w in c.words) == path:
                raise ValueError(f"two commands {command.title}")
        self.commands.append(command)

    # -- parsing --------------------------------------------------------------------------------

    def parse(self, line: str) -> ParsedCommand | HelpRequest | None:
        """Parse ``line``; None for a blank line. Raises a
        :class:`~.errors.CliError` subclass for any fault."""
        tokens = tokenize(line)
        if not tokens:
            return None
        command, words, rest = self._command_words(tokens)
        if isinstance(command, HelpRequest):
            return command
        args: dict[str, Any] = {}
        for n, (param, tok) in enumerate(zip(command.words, words)):
            if tok.help and param.type is not None:
                before = " ".join(w.keyword.name.upper() for w in command.words[:n])
                return self._help_values(before, param, tok)
            value = self._value(command, param, tok)
            if param.type is not None:          # bare command words are not arguments
                args[param.dest] = value
        given: dict[str, Token] = {}
        positional = next((p for p in command.params if p.positional), None)
        for n, tok in enumerate(rest):
            if n == 0 and positional is not None and tok.value is None and not tok.help:
                tok = Token(positional.keyword.spelling, tok.keyword, False, tok.column)   # LOGIN secoff
            if tok.help and tok.value is None:
                return self._help_params(command, tok, given)
            param = self._param(command, tok)
            if param.dest in args and param.repeat and self._value(command, param, tok) == args[param.dest]:
                continue
            if param.dest in args:
                first = given[param.dest].keyword if param.dest in given else param.keyword.spelling
                raise DuplicateParameter(f"Parameter {param.keyword.spelling} is given more than once "
                                         f'(as "{first}" and "{tok.keyword}")')
            if tok.help:
                return self._help_values(command.title, param, tok)
            given[param.dest] = tok
            args[param.dest] = self._value(command, param, tok)
        missing = [p for p in command.params if p.required and p.dest not in args]
        if missing:
            names = ", ".join(p.syntax() for p in missing)
            raise MissingParameter(f"{command.title} needs {names}")
        return ParsedCommand(command, args)

    def _command_words(self, tokens: Sequence[Token]):
        candidates = list(self.commands)
        used: list[Token] = []
        i = 0
        while True:
            nexts = _unique(c.words[i].keyword for c in candidates if len(c.words) > i)
            complete = [c for c in candidates if len(c.words) == i]
            typed = " ".join(t.keyword.upper() for t in used)
            if i == len(tokens):
                if complete:
                    return complete[0], used, []
                raise UnknownCommand(f'Incomplete command "{typed}": expected one of '
                                     f'{", ".join(k.spelling for k in nexts)}')
            tok = tokens[i]
            if tok.help and tok.value is None:
                options = [c.words[i].syntax() for c in candidates if len(c.words) > i
                           and c.words[i].keyword.name.startswith(tok.keyword.lower())]
                if complete and not tok.keyword:
                    options += [p.syntax() if p.required else f"[{p.syntax()}]" for p in complete[0].params]
                    options.append("<cr>")
                return HelpRequest(typed, tuple(dict.fromkeys(options))), used, []
            context = f"after {typed}" if typed else "as a command"
            try:
                kw = resolve(tok.keyword, nexts, context)
            except NoMatch as e:
                if complete and not e.near and (complete[0].params or not nexts):   # parameters (refused if none)
                    return complete[0], used, list(tokens[i:])
                if not typed:
                    raise UnknownCommand(f'Unknown command "{tok.keyword}"{e.hint()}: commands start with '
                                         f'{", ".join(k.spelling for k in nexts)}') from None
                raise UnknownCommand(f'"{tok.keyword}" is not valid after {typed}{e.hint()}: expected '
                                     f'{", ".join(k.spelling for k in nexts)}') from None
            candidates = [c for c in candidates if len(c.words) > i and c.words[i].keyword == kw]
            used.append(tok)
            i += 1

    def _param(self, command: Command, tok: Token) -> Param:
        keywords = [p.keyword for p in command.params]
        try:
            kw = resolve(tok.keyword, keywords, f"for {command.title}")
        except NoMatch as e:
            if not keywords:
                raise UnknownParameter(f'{command.title} takes no parameters, but "{tok.keyword}" was given') \
                    from None
            raise UnknownParameter(f'"{tok.keyword}" is not a parameter of {command.title}{e.hint()}; '
                                   f'its parameters are {", ".join(k.spelling for k in keywords)}') \
                from None
        return next(p for p in command.params if p.keyword == kw)

    @staticmethod
    def _value(command: Command, param: Param, tok: Token) -> Any:
        name = param.keyword.spelling
        if param.type is None:
            if tok.value is not None:
                raise BadValue(f'{name} takes no value, but "{tok.keyword}={tok.value}" was given')
            return None
        if tok.value is None or (tok.value == "" and not tok.quoted):
            if param.optional_value and tok.value is None:
                return None
            raise MissingParameter(f"{name} needs a value: {param.syntax()}")
        try:
            return param.type.parse(tok.value)
        except InvalidValue as e:
            cls = OutOfRange if e.out_of_range else BadValue
            raise cls(f"Bad value for {name}: {e.message}") from None

    @staticmethod
    def _help_params(command: Command, tok: Token, given: dict[str, Token]) -> HelpRequest:
        prefix = tok.keyword.lower()
        options = [(p.syntax() if p.required else f"[{p.syntax()}]") for p in command.params
                   if p.dest not in given and p.keyword.name.startswith(prefix)]
        if not prefix:
            options.append("<cr>")
        return HelpRequest(command.title, tuple(options))

    @staticmethod
    def _help_values(context: str, param: Param, tok: Token) -> HelpRequest:
        assert param.type is not None
        prefix = (tok.value or "").lower()
        kws = [k.spelling for k in param.type.choices() if k.name.startswith(prefix)]
        if not kws or len(kws) < len(param.type.describe().split("|")):
            kws.append(param.type.describe())
        return HelpRequest(f"{context} {param.keyword.spelling}=".lstrip(), tuple(dict.fromkeys(kws)))
