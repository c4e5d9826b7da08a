"""cocotb entry point of ``pacsim router --bus rtl --script FILE``.

The bench has one card, so the first router the script makes runs on the
card's RTL (over the simulated PCI bus) and any other router on a card of
its own on the model bus, in the same process and on the same virtual
network clock. ``PACSIM_ROUTER_SCRIPT`` names the script,
``PACSIM_ROUTER_PCAP`` (optional) the WAN capture; the printed lines come
back in the report.
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
from pacsim.sim.router_session import run_script
from pacsim.sim.rtl_bus import RtlBus


def rtl_first(bus, simulator: str, replay_window: int | None = None):
    """``make_router``: the first router on the RTL card, the others on model cards."""
    state = {"rtl": None}

    async def make(name, clock, seed):
        if state["rtl"] is None:
            state["rtl"] = name
            device = await PacDevice.probe(bus)
            return Router(name, device, clock=clock, random_bytes=random.Random(seed).randbytes,
                          card=f"PAC (RTL on {simulator}, PCI bus)", replay_window=replay_window)
        return await model_router(name, clock, seed=seed, replay_window=replay_window)
    return make, state


@cocotb.test()
async def router_script(dut):
    text = Path(os.environ["PACSIM_ROUTER_SCRIPT"]).read_text()
    pcap = os.environ.get("PACSIM_ROUTER_PCAP") or None
    bus = await RtlBus.start(dut)
    replay = os.environ.get("PACSIM_ROUTER_REPLAY")
    make, state = rtl_first(bus, os.environ.get("PACSIM_ROUTER_SIM") or simulator_from_env(),
                            int(replay) if replay else None)
    result = await run_script(text, make, pcap_path=pcap, name=os.environ.get("PACSIM_ROUTER_NAME", "router"))
    await bus.finish()
    write_report({"lines": result.lines, "sent": result.sent, "arrived": result.arrived, "errors": result.errors,
                  "rtl_router": state["rtl"], "clocks": bus.clocks()})
