# Ref: ../../docs/control.md (the requests); ../shared/spec/ipsec-commands.md B51 (acquire);
#      ../shared/spec/isakmp-commands.md (delete isakmp sa)
"""What a :class:`~.server.ControlServer` does for one router: the request
handlers of :mod:`.protocol` over a :class:`~pacsim.firmware.router.Router`.

Arguments of :class:`RouterTarget`: ``router``; ``emit`` (``async
emit(output)``: send the router's output ``[(interface, packet)]`` and
let the network carry it; default: drop it, as a router without links
does); ``serialise`` (``async serialise(work)``: run the coroutine
function ``work`` between the router's own work; default: under
:attr:`RouterTarget.lock`, which the interactive console takes too).

- ``command``: one line on the router's first console (the interactive
  console's session: the socket's owner is that console's user);
- ``query``: snapshots as JSON (:func:`~.protocol.to_json`): ``ike_sas``,
  ``exchanges`` (the ISAKMP daemon's; empty while ISAKMP is disabled),
  ``bundles``, ``sas``, ``policies`` (the SAD and SPD), ``counters``
  (IPsec groups and ISAKMP groups), ``kernel`` (the SA kernel);
- ``initiate``: an IPsec policy (keymanagement ISAKMP: its bundle is
  acquired, phase 1 and quick mode follow), or an ISAKMP policy or peer
  address (phase 1 only);
- ``delete``: ``ike_sa`` by ``id``, by ``cookies`` (``ICKY:RCKY`` in hex)
  or ``all`` (as ``delete isakmp sa``); ``bundle`` by ``policy`` and ``id``
  or ``all`` of the policy (as ``destroy ipsec policy=NAME sabundle=ID``);
  with SENDDELETES the peer is told;
- ``view``: a renderer of :data:`pacsim.firmware.views.VIEWS` over a
  :class:`ControlSource`.
"""
import asyncio
import ipaddress

from ...firmware.cli.errors import CliError
from ...firmware.ipsec.spd import KeyManagement
from ...firmware.isakmp.counters import COUNTER_SCHEMAS as ISAKMP_COUNTER_SCHEMAS
from ...firmware.router.view_source import RouterViewSource
from ...firmware.views.registry import VIEWS
from ...firmware.views.alliedware.counters import IPSEC_COUNTER_SCHEMAS
from .protocol import DELETE_WHATS, QUERY_WHATS, RequestError, to_json

__all__ = ["RouterTarget", "ControlSource"]


class ControlSource(RouterViewSource):
    """What the control channel reads from ``router``: the router's
    :class:`~pacsim.firmware.router.view_source.RouterViewSource` plus its
    ``counters()`` (IPsec and ISAKMP groups), the SA kernel's ``kernel()``
    and ``show(line)`` for the console displays (AlliedWare and IOS), on a
    console of the views' own (its own session; the running ISAKMP daemon's
    SAs and exchanges)."""

    def __init__(self, router):
        super().__init__(router)
        self._console = router.open_console()

    def counters(self) -> dict:
        daemon = self.router.isakmp_daemon
        return {"ipsec": {group: dict(self._show.group_counters(group).items()) for group in IPSEC_COUNTER_SCHEMAS},
                "isakmp": {} if daemon is None else {group: daemon.counters.group(group)
                                                     for group in ISAKMP_COUNTER_SCHEMAS}}

    def kernel(self):
        return self.router.kernel.query()

    def show(self, line: str) -> str:
        """A console display (read-only); CliError as the console raises it."""
        return self._console.execute(line)


class RouterTarget:
    """The handlers (see the module docstring)."""

    def __init__(self, router, *, emit=None, serialise=None):
        self.router = router
        self.source = ControlSource(router)
        self.lock = asyncio.Lock()
        self._emit = emit
        self._serialise = serialise

    async def handle(self, request: dict):
        """The result of ``request`` (checked by :func:`~.protocol.decode_request`); RequestError."""
        handler = getattr(self, f"_{request['type']}")
        if self._serialise is not None:
            return await self._serialise(lambda: handler(request))
        async with self.lock:
            return await handler(request)

    async def _flush(self, output=()) -> None:
        """Send ``output`` and what the router's timers and key manager have to send."""
        output = list(output) + await self.router.poll()
        if self._emit is not None:
            await self._emit(output)

    async def _command(self, request):
        try:
            text = await self.router.execute(request["line"])
        except CliError as problem:
            raise RequestError("command", problem.message) from None
        finally:
            await self._flush()
        return {"output": text}

    async def _query(self, request):
        what = request["what"]
        if what not in QUERY_WHATS:
            raise RequestError("argument", f"query {what!r}; expected one of {', '.join(QUERY_WHATS)}")
        if what == "counters":
            await self.router.enco.refresh()
        return to_json(getattr(self.source, what)())

    def _daemon(self):
        daemon = self.router.isakmp_daemon
        if daemon is None:
            raise RequestError("state", "ISAKMP is not enabled on this router (enable isakmp)")
        return daemon

    async def _initiate(self, request):
        target, spd = request["target"], self.router.ipsec.spd
        daemon = self._daemon()
        if spd.has_policy(target) and spd.policy(target).keymanagement is KeyManagement.ISAKMP:
            self.router.isakmp_keying.acquire(spd.policy(target), None)
            await self._flush()
            return {"initiated": target, "ike_sas": to_json(daemon.ike_sas())}
        if target not in self.router.state.isakmp.policies and not _is_address(target):
            raise RequestError("argument", f"initiate {target!r}: no ISAKMP policy, peer address or IPsec "
                                           "policy with keymanagement=isakmp of that name")
        datagrams = await daemon.initiate(target)
        await self._flush(await self.router._send_datagrams(datagrams))
        return {"initiated": target, "ike_sas": to_json(daemon.ike_sas())}

    async def _delete(self, request):
        what = request["what"]
        if what not in DELETE_WHATS:
            raise RequestError("argument", f"delete {what!r}; expected one of {', '.join(DELETE_WHATS)}")
        removed = await (self._delete_ike_sas(request) if what == "ike_sa" else self._delete_bundles(request))
        return {"deleted": removed}

    async def _delete_ike_sas(self, request):
        daemon = self._daemon()
        if request.get("all"):
            chosen = list(daemon.sas)
        elif "id" in request:
            chosen = [sa for sa in daemon.sas if sa.sa_id == request["id"]]
        elif "cookies" in request:
            chosen = [sa for sa in daemon.sas if f"{sa.cky_i.hex()}:{sa.cky_r.hex()}" == request["cookies"].lower()]
        else:
            raise RequestError("argument", "delete ike_sa: give id, cookies (ICKY:RCKY, hex) or all")
        if not chosen:
            raise RequestError("argument", f"delete ike_sa: no ISAKMP SA {request.get('id', request.get('cookies'))}")
        datagrams = []
        for sa in chosen:
            datagrams += await daemon.delete_sa(sa, "local")
        await self._flush(await self.router._send_datagrams(datagrams))
        return [sa.sa_id for sa in chosen]

    async def _delete_bundles(self, request):
        sad, name = self.router.ipsec.sad, request.get("policy")
        if name is None or not self.router.ipsec.spd.has_policy(name):
            raise RequestError("argument", f"delete bundle: no IPsec policy {name!r}")
        chosen = [b for b in sad.bundles(name) if request.get("all") or b.bundle_id == request.get("id")]
        if not chosen:
            raise RequestError("argument", f"delete bundle: policy {name} has no bundle {request.get('id')}")
        for bundle in chosen:               # as destroy ipsec policy=NAME sabundle=ID: counted, the peer told
            self.router.ipsec.destroy_policy(name, bundle.bundle_id)
        await self._flush()
        return [bundle.bundle_id for bundle in chosen]

    async def _view(self, request):
        render = VIEWS.get(request["name"])
        if render is None:
            raise RequestError("unknown-view", f"no view {request['name']!r}; this router has "
                                               f"{', '.join(sorted(VIEWS))}")
        await self.router.enco.refresh()
        try:
            return {"text": render(list(request["argv"]), self.source)}
        except CliError as problem:
            raise RequestError("command", problem.message) from None
        except ValueError as problem:
            raise RequestError("argument", str(problem)) from None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
