"""The control socket relayed to a router in another scheduler
(sim/interop/control_relay.py, what the lab does for its RTL router): a
ControlServer with a RelayTarget in one task, the router's RouterTarget
answering the control directory's requests in another (as the cocotb
simulation does between packets); a blocking client in a thread gets what
the router itself gives (the reference: the same view rendered in-process
and the router's own SAD), typed errors come back as the router raised
them, and a router that never answers is an ``internal`` error."""
import asyncio

import pytest

from isakmp_vpn_support import send, vpn_network
from pacsim.firmware.views.registry import VIEWS
from pacsim.sim.control.client import ControlClient, ControlRefused
from pacsim.sim.control.router_target import ControlSource, RouterTarget
from pacsim.sim.control.server import ControlServer
from pacsim.sim.interop.control_relay import RelayTarget, answer_requests
from pacsim.sim.isakmp_vpn import IsakmpVpn


def ask(path, kind, **fields):
    with ControlClient(path) as client:
        return client.request(kind, **fields)


def test_requests_reach_the_router_through_the_control_directory(tmp_path):
    socket, directory = tmp_path / "run" / "a.sock", tmp_path / "job"
    directory.mkdir()

    async def main():
        vpn = IsakmpVpn()
        network = await vpn_network(vpn)
        send(network, vpn, "a", 1)                       # the first datagram negotiates the bundle
        await network.run()
        a = network.routers["a"]
        target = RouterTarget(a)
        answered = []

        async def simulation():
            while True:
                answered.append(await answer_requests(directory, target))
                await asyncio.sleep(0.01)
        runner = asyncio.create_task(simulation())
        server = await ControlServer(RelayTarget(directory), socket).start()
        try:
            shown = await asyncio.to_thread(ask, socket, "view", name="racoonctl", argv=["-ll", "show-sa", "esp"])
            sas = await asyncio.to_thread(ask, socket, "query", what="sas")
            with pytest.raises(ControlRefused) as refused:
                await asyncio.to_thread(ask, socket, "view", name="nosuch", argv=[])
            unknown = await asyncio.to_thread(ask, socket, "query", what="control")
        finally:
            await server.close()
            runner.cancel()
        assert shown["text"] == VIEWS["racoonctl"](["-ll", "show-sa", "esp"], ControlSource(a))
        assert [s["sa_id"] for s in sas] == [r.sa_id for r in a.ipsec.sad.sas()] and len(sas) == 1
        assert str(a.ipsec.sad.sas()[0].pair.inbound_spi) in shown["text"]
        assert refused.value.kind == "unknown-view" and sum(answered) == 3     # query control: the server's own
        assert unknown["unknown-view"] == 1 and unknown["ok"] == 2
        assert sorted(p.name for p in directory.iterdir()) == []                # nothing left behind
    asyncio.run(main())


def test_a_router_that_never_answers_is_an_internal_error(tmp_path):
    async def main():
        relay = RelayTarget(tmp_path, timeout=0.1, poll=0.01)
        with pytest.raises(Exception) as caught:
            await relay.handle({"version": 1, "id": 1, "type": "query", "what": "sas"})
        assert caught.value.kind == "internal" and "did not answer" in caught.value.message
        assert [p.name for p in tmp_path.iterdir()] == ["request-1.json"]
    asyncio.run(main())
