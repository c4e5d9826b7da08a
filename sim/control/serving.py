# Ref: ../../docs/control.md ("Paths", "Serving")
"""Serving the routers of a session: one :class:`~.server.ControlServer`
per router, on the event loop that runs the routers.

:func:`serve_network` starts them for a :class:`~..network.Network`'s
routers (each router's output goes onto the network, which then runs; the
wall-clock runtime passes its own ``emitter`` and ``serialise``);
:func:`hold` serves until SIGINT or SIGTERM. ``paths``: router name ->
socket path (the others get :func:`~.protocol.socket_path`).
"""
import asyncio
import contextlib
import signal
import sys

from .protocol import socket_path
from .router_target import RouterTarget
from .server import ControlServer

__all__ = ["serve_network", "network_emitter", "hold", "announce", "close_all"]


def announce(name: str, server: ControlServer) -> None:
    """Say on standard error where router ``name`` serves."""
    print(f"# router {name}: control socket {server.path}", file=sys.stderr, flush=True)


def network_emitter(network, name: str):
    """Router ``name``'s output onto a virtual-time ``network``, which then runs."""
    async def emit(output):
        async def produced():
            return output
        if output:
            network.originate(name, produced())
            await network.run()
    return emit


async def serve_network(network, paths: dict | None = None, *, serialise=None,
                        emitter=network_emitter) -> list[ControlServer]:
    """Start a server for every router of ``network``: ``emitter(network, name)``
    gives router ``name``'s ``emit``, ``serialise`` is as
    :class:`~.router_target.RouterTarget` takes it; the started servers."""
    servers = []
    try:
        for name, router in network.routers.items():
            target = RouterTarget(router, emit=emitter(network, name), serialise=serialise)
            servers.append(await ControlServer(target, (paths or {}).get(name) or socket_path(name)).start())
            announce(name, servers[-1])
    except BaseException:
        await close_all(servers)
        raise
    return servers


async def close_all(servers) -> None:
    """Stop every server of ``servers`` (their sockets removed)."""
    for server in servers:
        await server.close()


async def hold(servers) -> None:
    """Serve ``servers`` until SIGINT or SIGTERM, then close them."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
        await close_all(servers)
