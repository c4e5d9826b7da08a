# Ref: ../shared/spec/ipsec-commands.md (the console it runs); sim/network_script.py
"""What ``pacsim router`` runs: a script (one router's console commands, or a
network script of several routers, the WAN, hosts and traffic; see
:mod:`.network_script`) or an interactive console for one router.

Routers are made by a ``make_router(name, clock, seed)`` coroutine
function; :func:`model_factory` puts each on its own model card. The RTL
entry point (``sim/cocotb_tests/router_script.py``) puts the first router
on the RTL card and the others on model cards.
"""
import asyncio
import getpass
import os
import threading
from pathlib import Path

from .control.serving import announce, hold as hold_servers, serve_network
from .control.router_target import RouterTarget
from .control.server import ControlServer
from .network import Network, PcapWriter, VirtualClock, model_router
from .network_script import ScriptError, ScriptResult, is_network_script, run_network_script

__all__ = ["run_script", "model_factory", "interactive", "one_router_script", "HISTORY_FILE"]

HISTORY_FILE = Path(os.environ.get("PACSIM_ROUTER_HISTORY", Path.home() / ".pacsim_router_history"))


def model_factory(**options):
    """``make_router`` for routers each on a fresh model card."""
    async def make(name: str, clock, seed: int):
        return await model_router(name, clock, seed=seed, **options)
    return make


def one_router_script(text: str, name: str) -> str:
    """A one-router script as a network script: every command line for ``name``."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        lines.append(line if not stripped or stripped.startswith("#") else f"{name}: {stripped}")
    return f"router {name}\n" + "\n".join(lines) + "\n"


async def run_script(text: str, make_router, *, pcap_path=None, name: str = "router", out=None,
                     hold: bool = False, control_paths: dict | None = None) -> ScriptResult:
    """Run a script (network or one-router) on a fresh network with its own
    virtual clock; the WAN goes to ``pcap_path`` when given. Line numbers
    in failures and refusals are those of ``text``. With ``hold``, every
    router then serves its control socket (``control_paths``: router name ->
    path; else the default path) until SIGINT or SIGTERM."""
    first_line = 1
    if not is_network_script(text):
        text, first_line = one_router_script(text, name), 0          # its "router NAME" line comes first
    pcap = PcapWriter(pcap_path) if pcap_path else None
    clock = VirtualClock()
    network = Network(clock, pcap=pcap)
    seeds = iter(range(1, 1 << 16))
    try:
        try:
            result = await run_network_script(text, lambda n: make_router(n, clock, next(seeds)), network, out,
                                              first_line=first_line)
        except ScriptError as error:
            if hold:
                await hold_servers(await serve_network(network, control_paths))
            raise error
        if hold:
            await hold_servers(await serve_network(network, control_paths))
        return result
    finally:
        if pcap is not None:
            pcap.close()


def interactive(name: str = "router", *, input_fn=input, out=print, history: Path | None = HISTORY_FILE,
                ask_password=getpass.getpass, control: Path | None = None, **options) -> int:
    """The console of one router on a model card: a prompt for the logged-in
    user (``Manager NAME>`` at first, the default ``manager`` being logged
    in; ``login``/``logoff`` change it, ``login NAME`` asks for the password
    with ``ask_password``) with readline history (kept in ``history``) and
    line editing; ``?`` anywhere in a line lists what may follow; ``quit``,
    ``exit`` or end of input leave. With ``control`` (a socket path) the
    router serves its control socket there meanwhile (the prompt waits in a
    thread; each console line and each request run one at a time)."""
    try:
        import readline
    except ImportError:            # not on every platform; the prompt works without it
        readline = None
    if readline is not None and history is not None:
        try:
            readline.read_history_file(history)
        except OSError:
            pass
        readline.set_history_length(1000)
    try:
        asyncio.run(_console(name, input_fn, out, ask_password, control, options))
    except KeyboardInterrupt:
        out("")
    finally:
        if readline is not None and history is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass
    return 0


def _read_line(loop, input_fn, prompt: str) -> asyncio.Future:
    """``input_fn(prompt)`` in a daemon thread (the loop serves meanwhile; Ctrl-C does not wait for it)."""
    future = loop.create_future()

    def settle(line, error):
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(line)

    def read():
        try:
            line, error = input_fn(prompt), None
        except BaseException as problem:     # EOFError and the like go to the console loop
            line, error = None, problem
        loop.call_soon_threadsafe(settle, line, error)
    threading.Thread(target=read, daemon=True).start()
    return future


async def _console(name, input_fn, out, ask_password, control, options) -> None:
    """The interactive console's loop (see :func:`interactive`)."""
    loop = asyncio.get_running_loop()
    router = await model_router(name, VirtualClock(), **options)
    router.console.session.ask_password = ask_password      # "login NAME" without PASSWORD=
    router.console.terminal = out                            # ISAKMP debug lines as they happen
    target = RouterTarget(router)
    server = await ControlServer(target, control).start() if control is not None else None
    out(f"pacsim router {name}: {router.enco.card}, {router.device.identity.channels} channels. "
        "Type ? for the commands, quit to leave.")
    if server is not None:
        announce(name, server)
    try:
        while True:
            try:
                line = await _read_line(loop, input_fn, router.console.prompt(router.site.system_name or name))
            except (EOFError, KeyboardInterrupt):
                out("")
                break
            if line.strip().lower() in ("quit", "exit"):
                break
            async with target.lock:
                text = await router.run(line)
            if text:
                out(text)
    finally:
        if server is not None:
            await server.close()
