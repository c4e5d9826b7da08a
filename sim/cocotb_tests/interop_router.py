# Ref: issue 12 (``pacsim interop strongswan --bus rtl``); sim/interop/lab_router.py (the control directory)
"""cocotb entry point of the interop lab's router on the RTL card.

The job (``PACSIM_INTEROP_JOB``, JSON: console ``lines``, the router
namespace ``netns``, the ``control`` directory, the ping ``ident``) makes
the lab's router on the bench's RTL card, attaches its WAN in the
namespace and writes ``ready``. Then, until ``stop`` appears, it drives
the wall-clock runtime with ``poll_once`` and lets simulated time run
(``IDLE_NS`` at a time) when there is nothing to do; every
``CONTROL_INTERVAL`` seconds it takes ``ping-<sequence>`` requests (the
simulated host pings the peer's host), writes the host's echo replies
to ``echo_replies.json`` and answers the control socket's requests the
lab relays (:func:`~pacsim.sim.interop.control_relay.answer_requests`,
each run between packets and followed by the network). The summary goes
back in the report.
"""
import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.triggers import Timer

from pacsim.firmware.router import Router
from pacsim.host.device import PacDevice
from pacsim.sim.build import simulator_from_env
from pacsim.sim.control.router_target import RouterTarget
from pacsim.sim.interop.control_relay import answer_requests
from pacsim.sim.interop.lab_router import JOB_ENV, attach, summary_of
from pacsim.sim.interop.namespaces import ADDRESSES
from pacsim.sim.interop.router_config import LAN_HOST, ROUTER, configure
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus
from pacsim.sim.wall_runtime import AttachedNetwork, WallRuntime

#: Simulated nanoseconds to run when the router has nothing to do.
IDLE_NS = 10_000
#: Wall-clock seconds between looks at the control directory.
CONTROL_INTERVAL = 0.05


@cocotb.test()
async def interop_router(dut):
    job = json.loads(os.environ[JOB_ENV])
    control = Path(job["control"])
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus, device=(await PacDevice.scan(bus))[0])
    network = AttachedNetwork()
    router = Router(ROUTER, device, clock=network.clock, random_bytes=random.Random(1).randbytes,
                    card=f"PAC (RTL on {simulator_from_env()}, PCI device {device.device})")
    await configure(network, router, job["lines"])
    attachment = attach(network, router, job["netns"])
    runtime = WallRuntime(network)
    host = network.host(LAN_HOST)

    async def emit(output):
        network.emit(ROUTER, output)

    async def serialise(work):
        result = await work()
        await network.run()
        return result
    target = RouterTarget(router, emit=emit, serialise=serialise)
    (control / "ready").write_text("ready")
    try:
        next_look, replies = 0.0, 0
        while True:
            busy = await runtime.poll_once()
            if network.clock.now >= next_look:
                next_look = network.clock.now + CONTROL_INTERVAL
                if (control / "stop").exists():
                    break
                for request in sorted(control.glob("ping-*")):
                    request.unlink()
                    network.ping(LAN_HOST, ADDRESSES.peer_host, 32, ident=job["ident"],
                                 sequence=int(request.name.split("-")[1]))
                    await network.run()
                await answer_requests(control, target)
                if len(host.echo_replies) != replies:
                    replies = len(host.echo_replies)
                    (control / "echo_replies.json").write_text(json.dumps(host.echo_replies))
            if not busy:
                await Timer(IDLE_NS, "ns")
        summary = await summary_of(router, attachment, runtime)
    finally:
        attachment.close()
    await bus.finish()
    write_report(dict(summary, clocks=bus.clocks()))
