# Ref: ../../docs/control.md (the requests and their errors); sim/interop/lab_router.py (the control directory)
"""The control socket of the lab's router on the RTL card, relayed to the
cocotb simulation that runs it.

The RTL router runs in a simulator process, which has no asyncio loop to
serve a socket in; the lab process serves the socket instead (the one
:class:`~pacsim.sim.control.server.ControlServer`: same access checks,
framing and error counting) with a :class:`RelayTarget`, which hands each
checked request to the simulation through the lab's control directory and
waits for the answer:

- ``request-<n>.json``: the request (written whole, then renamed into place);
- ``response-<n>.json``: ``{"ok": true, "result": ...}`` or ``{"ok": false,
  "kind": ERROR_TYPE, "message": ...}``, written by :func:`answer_requests`
  in the simulation with the router's own
  :class:`~pacsim.sim.control.router_target.RouterTarget`.

Arguments: ``control`` (the directory), ``timeout`` (seconds the lab waits
for one answer: the RTL card is slow), ``poll`` (seconds between looks).
"""
import asyncio
import itertools
import json
import time
from pathlib import Path

from ..control.protocol import RequestError

__all__ = ["RelayTarget", "answer_requests", "RELAY_TIMEOUT"]

#: Seconds the lab waits for the simulation to answer one request.
RELAY_TIMEOUT = 600.0
_POLL = 0.02


def _write(path: Path, data: dict) -> None:
    """``data`` as JSON at ``path``, whole or not at all (written aside, then renamed)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    partial.rename(path)


class RelayTarget:
    """A control server's target that forwards each request to the simulation (module docstring)."""

    def __init__(self, control: Path, *, timeout: float = RELAY_TIMEOUT, poll: float = _POLL):
        self.control, self.timeout, self.poll = Path(control), timeout, poll
        self._numbers = itertools.count(1)

    async def handle(self, request: dict):
        """The simulation's result for ``request``; its RequestError as one; ``internal`` when it does not
        answer in ``timeout`` seconds."""
        number = next(self._numbers)
        _write(self.control / f"request-{number}.json", request)
        response = self.control / f"response-{number}.json"
        end = time.monotonic() + self.timeout
        while not response.exists():
            if time.monotonic() > end:
                raise RequestError("internal", f"the RTL router did not answer in {self.timeout:.0f} s")
            await asyncio.sleep(self.poll)
        answer = json.loads(response.read_text())
        response.unlink()
        if not answer["ok"]:
            raise RequestError(answer["kind"], answer["message"])
        return answer["result"]


async def answer_requests(control: Path, target) -> int:
    """Answer every request waiting in ``control`` with ``target`` (a
    :class:`~pacsim.sim.control.router_target.RouterTarget`), in order; how many."""
    requests = sorted(Path(control).glob("request-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    for path in requests:
        request = json.loads(path.read_text())
        path.unlink()
        try:
            answer = {"ok": True, "result": await target.handle(request)}
        except RequestError as problem:
            answer = {"ok": False, "kind": problem.kind, "message": problem.message}
        except Exception as fault:            # a bug in one request must not end the router
            answer = {"ok": False, "kind": "internal", "message": f"{type(fault).__name__}: {fault}"}
        _write(Path(control) / f"response-{path.stem.split('-')[1]}.json", answer)
    return len(requests)
