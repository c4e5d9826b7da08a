# Ref: issue 12 ("runs a pacsim router on the model bus, --bus rtl for the co-simulated card")
"""The lab's pacsim router, on the model card in this process or on the RTL
card in a cocotb simulation, behind one interface.

Both run the router with its WAN attached in the router namespace
(:class:`~pacsim.sim.attachment.HostAttachment`) on the wall clock
(:class:`~pacsim.sim.wall_runtime.WallRuntime`):

- :class:`ModelLabRouter`: a model card, the runtime on this asyncio loop;
- :class:`RtlLabRouter`: the RTL card, in the cocotb entry point
  ``sim/cocotb_tests/interop_router.py`` run in a thread (the simulator is
  a process of its own), which drives the runtime with ``poll_once``
  between stretches of simulated time. The two talk through a control
  directory: the job (:data:`JOB_ENV`, JSON), ``ready`` when the router
  is attached, ``ping-<sequence>`` requests, ``stop``; the summary comes
  back in the cocotb report.

Both serve the router's control socket while the lab runs (``control``,
in a fresh 0700 directory, announced on standard error), so that ``pacsim
racoonctl|tmsh|ctl --socket PATH`` show its SAs; the lab reads the vendor
views through it (``views``). The model router serves it on the runtime
(:meth:`WallRuntime.serve_control
<pacsim.sim.wall_runtime.WallRuntime.serve_control>`); for the RTL
router the lab process serves it and relays each request to the
simulation (:mod:`.control_relay`).

Interface: ``await start()``; ``await ping_peer(sequence)`` (the
simulated LAN host pings the peer's host); ``echo_replies()``
(``(ident, sequence)`` the host got); ``await views()``: the vendor
views' texts (:func:`~.view_facts.read_views`) read now through the
control socket; ``await finish()``: stop and
return the summary, a dict with ``show_ipsec_sa`` and ``show_isakmp_sa``
(the texts), ``alg_ipsec`` (the router's IPsec algorithm counters),
``attachment`` (its counters), ``failures`` (the runtime's),
``isakmp_debug`` (the router's ISAKMP debug lines), ``natt`` (an IKE SA
floated to 4500 behind a detected NAT).
"""
import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

from ..attachment import HostAttachment
from ..control.client import ControlClient
from ..control.server import ControlServer
from ..control.serving import announce
from ..wall_runtime import AttachedNetwork, WallRuntime
from .control_relay import RelayTarget
from .namespaces import ADDRESSES, LabError
from .router_config import LAN_HOST, ROUTER, WAN_INTERFACE, configured_router
from .view_facts import read_views

__all__ = ["ModelLabRouter", "RtlLabRouter", "JOB_ENV", "PING_IDENT", "summary_of", "attach", "views_through"]

#: Environment variable with the RTL router's job (JSON).
JOB_ENV = "PACSIM_INTEROP_JOB"
#: ICMP identifier of the simulated host's pings to the peer's host.
PING_IDENT = 0x5043
#: Seconds the RTL router may take to build the bench and come up.
RTL_START_TIMEOUT = 900.0


def attach(network: AttachedNetwork, router, netns: str, addresses=ADDRESSES) -> HostAttachment:
    """``router``'s WAN interface attached in namespace ``netns``."""
    attachment = HostAttachment(WAN_INTERFACE, addresses.pacsim_wan, netns=netns).open()
    network.attach(router.name, attachment)
    return attachment


def control_socket() -> tuple[Path, Path]:
    """(a fresh temporary directory, the router's control socket in a 0700 directory the server makes in it)."""
    directory = Path(tempfile.mkdtemp(prefix="pacsim-lab-"))
    return directory, directory / "control" / f"{ROUTER}.sock"


async def views_through(socket: Path) -> dict[str, str]:
    """The vendor views' texts (:func:`~.view_facts.read_views`), read through the control socket ``socket``
    (the ``view`` requests of ``pacsim racoonctl|tmsh|ctl``) from a thread while this loop serves them."""
    def read():
        with ControlClient(socket) as client:
            return read_views(lambda view, argv: client.request("view", name=view, argv=argv)["text"])
    return await asyncio.to_thread(read)


async def request_through(socket: Path, kind: str, **fields):
    """One control request (``pacsim ctl``'s path) through ``socket``, from a thread while this loop serves it."""
    def ask():
        with ControlClient(socket) as client:
            return client.request(kind, **fields)
    return await asyncio.to_thread(ask)


async def summary_of(router, attachment: HostAttachment, runtime: WallRuntime) -> dict:
    """The summary of a router run (see the module docstring)."""
    return dict(show_ipsec_sa=await router.run("show ipsec sa"), show_isakmp_sa=await router.run("show isakmp sa"),
                alg_ipsec=dict(router.kernel.alg.items()), attachment=dict(attachment.counters),
                failures=list(runtime.failures), isakmp_debug=list(router.isakmp_debug.lines),
                natt=any(sa.nat.floated and sa.nat.detected for sa in
                         (router.isakmp_daemon.ike_sas() if router.isakmp_daemon is not None else ())))


class ModelLabRouter:
    """The router on a model card, configured with ``lines``, attached in ``netns``."""

    def __init__(self, lines: list[str], netns: str, addresses=ADDRESSES):
        self.lines, self.netns, self.addresses = lines, netns, addresses
        self.network = self.router = self.attachment = self.runtime = None
        self.control_dir = self.control = None

    async def start(self) -> None:
        """Set the router up, attach it, start the runtime and serve the control socket (``control``)."""
        self.control_dir, self.control = control_socket()
        self.network = AttachedNetwork()
        self.router = await configured_router(self.network, self.lines, addresses=self.addresses)
        self.attachment = attach(self.network, self.router, self.netns, self.addresses)
        self.runtime = WallRuntime(self.network)
        self.runtime.start()
        await self.runtime.serve_control({ROUTER: self.control})

    async def views(self) -> dict[str, str]:
        return await views_through(self.control)

    async def request(self, kind: str, **fields):
        """A control request to the router (:func:`request_through`)."""
        return await request_through(self.control, kind, **fields)

    async def ping_peer(self, sequence: int) -> None:
        async def ping():
            self.network.ping(LAN_HOST, self.addresses.peer_host, 32, ident=PING_IDENT, sequence=sequence)
        await self.runtime.call(ping)

    def echo_replies(self) -> list:
        return list(self.network.host(LAN_HOST).echo_replies)

    async def finish(self) -> dict:
        """Stop the runtime (also when this task is being cancelled: its
        worker may be gone already), then read the summary."""
        try:
            await self.runtime.stop()
            summary = await summary_of(self.router, self.attachment, self.runtime)
        finally:
            self.attachment.close()
            shutil.rmtree(self.control_dir, ignore_errors=True)
        return summary


class RtlLabRouter:
    """The router on the RTL card (see the module docstring); ``control``: its control directory (the
    simulation's, not the control socket's: that is ``self.control``)."""

    def __init__(self, lines: list[str], netns: str, control: Path, addresses=ADDRESSES, simulator: str | None = None):
        self.job = dict(lines=lines, netns=netns, control=str(control), ident=PING_IDENT)
        self.directory, self.addresses, self.simulator = Path(control), addresses, simulator
        self.control_dir = self.control = self.server = None
        self._thread: asyncio.Future | None = None
        self._report: dict = {}

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = asyncio.ensure_future(asyncio.to_thread(self._simulate))
        end = time.monotonic() + RTL_START_TIMEOUT
        while not (self.directory / "ready").exists():
            if self._thread.done():
                error = self._thread.exception()
                raise LabError(f"the RTL router did not come up: {error or 'the simulation ended'}")
            if time.monotonic() > end:
                raise LabError(f"the RTL router did not come up in {RTL_START_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)
        self.control_dir, self.control = control_socket()
        self.server = await ControlServer(RelayTarget(self.directory), self.control).start()
        announce(ROUTER, self.server)

    def _simulate(self) -> None:
        from ..build import BenchConfig, run, simulator_from_env
        from ..report import REPORT_ENV, read_report
        report = self.directory / "report.json"
        config = BenchConfig(simulator=self.simulator or simulator_from_env(), cards=1)
        run(config, "pacsim.sim.cocotb_tests.interop_router",
            extra_env={JOB_ENV: json.dumps(self.job), REPORT_ENV: str(report)})
        self._report = read_report(report)

    async def ping_peer(self, sequence: int) -> None:
        (self.directory / f"ping-{sequence}").write_text("")

    async def views(self) -> dict[str, str]:
        return await views_through(self.control)

    async def request(self, kind: str, **fields):
        """A control request to the router (:func:`request_through`)."""
        return await request_through(self.control, kind, **fields)

    def echo_replies(self) -> list:
        replies = self.directory / "echo_replies.json"
        return [tuple(r) for r in json.loads(replies.read_text())] if replies.exists() else []

    async def finish(self) -> dict:
        if self.server is not None:
            await self.server.close()
            shutil.rmtree(self.control_dir, ignore_errors=True)
        (self.directory / "stop").write_text("")
        if self._thread is not None:
            await self._thread
        return dict(self._report)
