# Ref: sim/router_session.py (the script it runs on RTL cards)
"""cocotb entry point of ``pacsim router --bus rtl --script FILE``.

The routers the script makes take the bench's RTL cards in order, each its
own card (found by a configuration scan of the simulated PCI bus); routers
past the bench's cards run on cards of their own on the model bus, in the
same process and on the same virtual network clock.
``PACSIM_ROUTER_SCRIPT`` names the script, ``PACSIM_ROUTER_PCAP``
(optional) the WAN capture; the printed lines and which router ran on which
device come back in the report.
"""
import os
import random
from pathlib import Path

import cocotb

from pacsim.firmware.router import Router
from pacsim.host.device import PacDevice
from pacsim.sim.build import simulator_from_env
from pacsim.sim.network import model_router
from pacsim.sim.report import write_report
from pacsim.sim.network_script import ScriptError
from pacsim.sim.router_session import run_script
from pacsim.sim.rtl_bus import RtlBus


def rtl_cards_first(bus, devices: list, simulator: str, replay_window: int | None = None):
    """``make_router``: routers on the RTL cards at ``devices`` in order, then on model cards.
    The second value lists ``(router, device)`` as they are placed."""
    placed = []

    async def make(name, clock, seed):
        if len(placed) < len(devices):
            device = await PacDevice.probe(bus, device=devices[len(placed)])
            placed.append((name, device.device))
            return Router(name, device, clock=clock, random_bytes=random.Random(seed).randbytes,
                          card=f"PAC (RTL on {simulator}, PCI device {device.device})", replay_window=replay_window)
        return await model_router(name, clock, seed=seed, replay_window=replay_window)
    return make, placed


@cocotb.test()
async def router_script(dut):
    text = Path(os.environ["PACSIM_ROUTER_SCRIPT"]).read_text()
    pcap = os.environ.get("PACSIM_ROUTER_PCAP") or None
    bus = await RtlBus.start(dut)
    replay = os.environ.get("PACSIM_ROUTER_REPLAY")
    make, placed = rtl_cards_first(bus, await PacDevice.scan(bus),
                                   os.environ.get("PACSIM_ROUTER_SIM") or simulator_from_env(),
                                   int(replay) if replay else None)
    try:
        result = await run_script(text, make, pcap_path=pcap, name=os.environ.get("PACSIM_ROUTER_NAME", "router"))
    except ScriptError as error:                    # refused statements: reported by pacsim router
        result = error.result
    await bus.finish()
    write_report({"lines": result.lines, "sent": result.sent, "arrived": result.arrived, "failures": result.failures,
                  "refused": result.refused, "rtl_routers": placed, "clocks": bus.clocks()})
