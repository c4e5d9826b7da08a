# Ref: spec/ipsec-commands.md §0 (conventions), DESIGN.md principle 8
"""The command line: parses a line and dispatches it to a handler.

Command sets register their :class:`~.grammar.Command` tables together with
the object that carries them out; each command's ``action`` names a method
of that object, called with the parsed arguments as keywords
(``handler.create_saspecification(saspecification=1, keymanagement=...)``).
A handler returns the text to print, or None for the usual
``Info: Operation successful.``. Errors of the configuration model that the
handler lets through (the ``errors`` classes given at registration) become
:class:`~.errors.CommandFailed`, so the model never imports the command line.

Before a parsed command runs, the ``authorize`` callable given to the
command line (the console's session) is asked whether the logged-in user
may run it; it raises :class:`~.errors.NotPermitted` if not, and the
handler is not called. ``?`` help is never refused.

:meth:`CommandLine.execute` raises :class:`~.errors.CliError`;
:meth:`CommandLine.run` prints it as ``Error: <message>`` instead, the way a
console does. Blank lines and lines starting with ``#`` are comments.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import CliError, CommandFailed
from .grammar import Command, CommandTable, HelpRequest, ParsedCommand

__all__ = ["CommandLine", "SUCCESS", "ScriptLine"]

#: What a configuration command prints when it has nothing else to say.
SUCCESS = "Info: Operation successful."


@dataclass(frozen=True)
class ScriptLine:
    """One line of a script run: the ``line``, its ``output`` and whether it
    was an error (``failed``)."""
    line: str
    output: str
    failed: bool


class CommandLine:
    """A console over any number of registered command sets; ``authorize``
    (optional) vets each parsed command before it runs."""

    def __init__(self, authorize: Callable[[Command], None] | None = None):
        self.table = CommandTable()
        self.authorize = authorize
        self._handlers: dict[int, tuple[object, tuple[type[Exception], ...]]] = {}

    def register(self, commands: Iterable[Command], handler: object,
                 errors: tuple[type[Exception], ...] = ()) -> None:
        """Add ``commands``, carried out by methods of ``handler``; exceptions
        of the ``errors`` classes become :class:`CommandFailed`."""
        for c in commands:
            if not callable(getattr(handler, c.action, None)):
                raise TypeError(f"{type(handler).__name__} has no method {c.action} for {c.title}")
            self.table.add(c)
            self._handlers[id(c)] = (handler, errors)

    def parse(self, line: str) -> ParsedCommand | HelpRequest | None:
        """Parse without running (see :meth:`CommandTable.parse`)."""
        return self.table.parse(line)

    def execute(self, line: str) -> str:
        """Run one line and return its output; raises :class:`CliError`."""
        if line.lstrip().startswith("#"):
            return ""
        parsed = self.table.parse(line)
        if parsed is None:
            return ""
        if isinstance(parsed, HelpRequest):
            return self.format_help(parsed)
        if self.authorize is not None:
            self.authorize(parsed.command)
        handler, errors = self._handlers[id(parsed.command)]
        method = getattr(handler, parsed.command.action)
        try:
            out = method(**parsed.args)
        except CliError:
            raise
        except errors as e:
            raise CommandFailed(str(e)) from e
        return SUCCESS if out is None else out

    def run(self, line: str) -> str:
        """Run one line; an error is returned as ``Error: <message>``."""
        try:
            return self.execute(line)
        except CliError as e:
            return f"Error: {e.message}"

    def run_script(self, text: str) -> list[ScriptLine]:
        """Run every line of ``text`` (a configuration script), going on after errors."""
        results = []
        for line in text.splitlines():
            try:
                results.append(ScriptLine(line, self.execute(line), False))
            except CliError as e:
                results.append(ScriptLine(line, f"Error: {e.message}", True))
        return results

    @staticmethod
    def format_help(request: HelpRequest) -> str:
        """The help listing: a heading and one option per line."""
        head = f"Options after {request.context}:" if request.context else "Commands:"
        if not request.options:
            return f"{head}\n  (none)"
        return "\n".join([head] + [f"  {o}" for o in request.options])
