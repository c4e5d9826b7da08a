# Ref: ../shared/DESIGN.md "Firmware is sans-I/O with injected time"; RFC 3948 section 3
"""The wall-clock runtime: routers, their simulated LANs and attached
interfaces driven by asyncio in real time.

Virtual time (:class:`~.network.VirtualClock`) stays the default for tests
between pacsim routers; a router whose interface is attached to the host's
network (:class:`~.attachment.HostAttachment`) must follow the wall clock,
because the peer on the other side does.

- :class:`WallClock`: seconds since it was made, by ``time.monotonic``;
  ``advance`` is a no-op (time moves by itself), so a
  :class:`~.network.Network` on it delivers queued packets at once.
- :class:`AttachedNetwork`: a :class:`~.network.Network` whose routers'
  attached interfaces send through their attachment instead of a link.
- :class:`WallRuntime`: one worker task takes, one at a time, what the
  sockets delivered (an attachment's readers queue it), the routers'
  timers (``Router.poll`` every ``poll_interval`` seconds, sooner when an
  ISAKMP daemon's timer is due), and work the
  caller submits (:meth:`WallRuntime.call`, e.g. a simulated host's ping).
  Under a scheduler that is not asyncio (cocotb, for a router on the RTL
  card) the caller drives it instead with :meth:`WallRuntime.poll_once`.
- :meth:`WallRuntime.serve_control`: each router serves its control socket
  (:mod:`.control`); each request runs on the worker like submitted work,
  between packets, and what it makes the router send goes out at once.

**ISAKMP.** Everything an attachment receives goes to ``Router.receive``
as an IP packet; the router's ISAKMP gate
(:mod:`pacsim.firmware.router.isakmp_gate`) gives ISAKMP to its daemon and
ESP in UDP to IPsec, and ``Router.poll`` runs the daemon's timers, which
the ticker wakes for (``Router.next_timer``).
"""
import asyncio
import select
import time

from .attachment import HostAttachment
from .control.serving import close_all, serve_network
from .network import Network

__all__ = ["WallClock", "AttachedNetwork", "WallRuntime", "POLL_INTERVAL"]

#: Seconds between the routers' timer polls.
POLL_INTERVAL = 0.25


class WallClock:
    """Seconds of wall-clock time since it was made (``time.monotonic``)."""

    def __init__(self):
        self._start = time.monotonic()

    @property
    def now(self) -> float:
        return time.monotonic() - self._start

    def __call__(self) -> float:
        return self.now

    def advance(self, to: float) -> None:
        """Nothing: wall-clock time moves by itself."""


class AttachedNetwork(Network):
    """A network whose routers may have interfaces attached to the host's
    network (``attachments``: (router, interface) -> HostAttachment)."""

    def __init__(self, clock=None, **options):
        super().__init__(clock or WallClock(), **options)
        self.attachments: dict[tuple[str, str], HostAttachment] = {}

    def attach(self, router: str, attachment: HostAttachment) -> None:
        if not self._router(router).has_interface(attachment.interface):
            raise ValueError(f"router {router} has no IP interface {attachment.interface}")
        self.attachments[(router, attachment.interface)] = attachment

    def _emit(self, router: str, output) -> None:
        rest = []
        for interface, packet in output:
            attachment = self.attachments.get((router, interface))
            if attachment is None:
                rest.append((interface, packet))
                continue
            if self.pcap is not None:
                self.pcap.write(self.clock.now, packet)
            attachment.send(packet)
        super()._emit(router, rest)

    def emit(self, router: str, output) -> None:
        """Send ``router``'s output ``[(interface, packet)]``: links, LAN hosts, attachments."""
        self._emit(router, output)


class WallRuntime:
    """Drives an :class:`AttachedNetwork` in real time (see the module
    docstring); ``poll_interval``: seconds between router timer polls."""

    def __init__(self, network: AttachedNetwork, *, poll_interval: float = POLL_INTERVAL):
        self.network = network
        self.poll_interval = poll_interval
        self._queue: asyncio.Queue | None = None
        self._tasks: list[asyncio.Task] = []
        self._readers: list[int] = []
        self._next_tick = 0.0
        self._control = []
        #: Errors raised by submitted work or a router, kept (the loop goes on).
        self.failures: list[str] = []

    async def __aenter__(self):
        self.start()
        return self

    async def __aexit__(self, *exc):
        await self.stop()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        for (router, _), attachment in self.network.attachments.items():
            for key, sock in attachment.sockets.items():
                if key == "raw":
                    continue
                loop.add_reader(sock.fileno(), self._readable, router, attachment, key)
                self._readers.append(sock.fileno())
        self._tasks = [asyncio.create_task(self._worker()), asyncio.create_task(self._ticker())]

    async def stop(self) -> None:
        await close_all(self._control)
        self._control = []
        loop = asyncio.get_running_loop()
        for fd in self._readers:
            loop.remove_reader(fd)
        self._readers = []
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def serve_control(self, paths: dict | None = None) -> list:
        """Serve every router's control socket (``paths``: router name -> path, else the default);
        the servers, closed by :meth:`stop`. Call after :meth:`start`."""
        self._control += await serve_network(self.network, paths, serialise=self.call, emitter=_attached_emitter)
        return self._control

    async def call(self, work):
        """Run ``work()`` (a coroutine function) on the worker, between
        packets, then deliver what it queued on the network; its result."""
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(("call", work, done))
        return await done

    def _readable(self, router: str, attachment: HostAttachment, key) -> None:
        for packet in attachment.read(key):
            self._queue.put_nowait(("in", router, attachment, packet))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self._next_wait())
            self._queue.put_nowait(("timers",))

    def _next_wait(self) -> float:
        wait = self.poll_interval
        for router in self.network.routers.values():
            due = router.next_timer()
            if due is not None:
                wait = min(wait, max(0.0, due - self.network.clock.now))
        return wait

    async def _worker(self) -> None:
        while True:
            await self._guarded(await self._queue.get())

    async def poll_once(self) -> bool:
        """The polling driver, for a scheduler that is not asyncio (cocotb's,
        with the RTL card): handle what the sockets hold now and the timers
        that are due, without waiting; whether there was anything to do.
        (Not with :meth:`start`: one driver at a time.)"""
        items = []
        for (router, _), attachment in self.network.attachments.items():
            readable = {key: sock for key, sock in attachment.sockets.items() if key != "raw"}
            ready = select.select(list(readable.values()), [], [], 0)[0]
            for key, sock in readable.items():
                if sock in ready:
                    items += [("in", router, attachment, packet) for packet in attachment.read(key)]
        if self.network.clock.now >= self._next_tick:
            items.append(("timers",))
            self._next_tick = self.network.clock.now + self._next_wait()
        for item in items:
            await self._guarded(item)
        return bool(items)

    async def _guarded(self, item) -> None:
        try:
            await self._handle(item)
        except asyncio.CancelledError:
            raise
        except Exception as error:      # a bug in one packet's handling must not stop the lab
            self.failures.append(f"{item[0]}: {type(error).__name__}: {error}")
            if item[0] == "call" and not item[2].done():
                item[2].set_exception(error)

    async def _handle(self, item) -> None:
        kind = item[0]
        if kind == "call":
            _, work, done = item
            result = await work()
            await self.network.run()
            if not done.done():
                done.set_result(result)
        elif kind == "in":
            _, name, attachment, packet = item
            self.network.inject(name, attachment.interface, packet)
            await self.network.run()
        else:
            for name, router in self.network.routers.items():
                self.network.emit(name, await router.poll())
            await self.network.run()


def _attached_emitter(network: AttachedNetwork, name: str):
    """Router ``name``'s output onto ``network`` (run by :meth:`WallRuntime.call` after the request)."""
    async def emit(output):
        network.emit(name, output)
    return emit
