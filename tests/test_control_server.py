"""The control channel in one process: two ISAKMP routers on a virtual-time
network serve their sockets (sim/control/serving.py); blocking clients in
threads make requests of each type. The references: the other router's own
daemon (cookies, states), the SAD, the console's displays."""
import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from isakmp_vpn_support import vpn_network
from pacsim.sim.control.client import ControlClient, ControlRefused
from pacsim.sim.control.protocol import MAX_FRAME
from pacsim.sim.control.server import ControlServer, ControlSetupError
from pacsim.sim.control.serving import close_all, serve_network
from pacsim.sim.isakmp_vpn import IsakmpVpn

NOBODY = pwd.getpwnam("nobody")
#: An interpreter nobody may run (the probe needs only the standard library).
SYSTEM_PYTHON = "/usr/bin/python3"


def ask(path, kind, **fields):
    with ControlClient(path) as client:
        return client.request(kind, **fields)


def refusal(path, kind, **fields) -> ControlRefused:
    with pytest.raises(ControlRefused) as caught:
        ask(path, kind, **fields)
    return caught.value


def serving(tmp_path, check):
    """Run ``check(network, paths)`` (a coroutine) while routers a and b serve in ``tmp_path/run``."""
    paths = {name: tmp_path / "run" / f"{name}.sock" for name in ("a", "b")}

    async def main():
        network = await vpn_network(IsakmpVpn(isakmp_params="senddeletes=true"))
        servers = await serve_network(network, paths)
        try:
            await check(network, paths, servers)
        finally:
            await close_all(servers)
    asyncio.run(main())
    assert not any(path.exists() for path in paths.values())       # the sockets go with their servers


def test_requests_of_each_type(tmp_path):
    async def check(network, paths, servers):
        call = (lambda *a, **f: asyncio.to_thread(ask, paths["a"], *a, **f))
        assert await call("query", what="ike_sas") == []
        policies = await call("query", what="policies")
        assert [p["config"]["name"] for p in policies] == ["isakmp", "vpn"]
        shown = await call("command", line="show ipsec policy")
        assert "PPP0      VPN               IPSEC   ISAKMP" in shown["output"]

        started = await call("initiate", target="vpn")          # phase 1 and quick mode over the WAN
        mine = await call("query", what="ike_sas")
        assert started["ike_sas"] == mine and len(mine) == 1
        theirs = network.routers["b"].isakmp_daemon.ike_sas()
        assert (mine[0]["cky_i"], mine[0]["cky_r"]) == (theirs[0].cky_i.hex(), theirs[0].cky_r.hex())
        assert mine[0]["state"] == theirs[0].state.name == "ESTABLISHED"
        assert mine[0]["role"] == "INITIATOR" and theirs[0].role.name == "RESPONDER"
        bundles = await call("query", what="bundles")
        sad = list(network.routers["a"].ipsec.sad.all_bundles())
        assert [(b["policy"], b["index"], b["state"]) for b in bundles] == \
            [(b.policy_name, b.bundle_id, b.state.value) for b in sad] == [("vpn", 0, "VALID")]
        sas = await call("query", what="sas")
        peer_sa = network.routers["b"].ipsec.sad.sas()[0]
        assert sas[0]["outbound_spi"] == network.routers["b"].runtime_sa(peer_sa.sa_id).inbound_spi
        counters = await call("query", what="counters")
        assert counters["isakmp"] and counters["ipsec"]["esp"]
        assert (await call("query", what="kernel"))["bundles"][0]["state"] == "VALID"

        view = await call("view", name="alliedware", argv=["show", "isakmp", "sa"])
        assert "202.78.65.4" in view["text"] and "DES" in view["text"]
        await call("delete", what="bundle", policy="vpn", id=0)
        assert await call("query", what="bundles") == []
        deleted = await call("delete", what="ike_sa", cookies=f"{mine[0]['cky_i']}:{mine[0]['cky_r']}")
        assert deleted == {"deleted": [1]}
        assert await call("query", what="ike_sas") == []
        assert network.routers["b"].isakmp_daemon.ike_sas() == ()     # the Deletes reached the peer
        assert list(network.routers["b"].ipsec.sad.all_bundles()) == []

        kinds = {"command": await asyncio.to_thread(refusal, paths["a"], "command", line="nonsense"),
                 "argument": await asyncio.to_thread(refusal, paths["a"], "query", what="everything"),
                 "unknown-view": await asyncio.to_thread(refusal, paths["a"], "view", name="vms", argv=[])}
        assert {kind: r.kind for kind, r in kinds.items()} == {kind: kind for kind in kinds}
        assert servers[0].counters["command"] == servers[0].counters["argument"] == 1
    serving(tmp_path, check)


def test_a_thousand_malformed_frames_are_counted_and_the_server_answers(tmp_path):
    bad = [b"{not json", b"[1, 2]", b"\xff\xfe", b'{"version": 99, "type": "query", "what": "sas"}',
           b'{"version": 1, "type": "reboot"}', b'{"version": 1, "type": "query"}',
           b'{"version": 1, "type": "query", "what": 7}', b'{"version": 1, "type": "view", "name": "x", "argv": [1]}']
    expected = ["malformed", "malformed", "malformed", "version", "type", "argument", "argument", "argument"]

    def flood(path):
        answers = []
        with ControlClient(path) as client:
            for n in range(1000):
                client._sock.sendall(len(bad[n % 8]).to_bytes(4, "big") + bad[n % 8])
                answers.append(client.receive()["error"]["type"])
        return answers

    def oversize(path):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(path))
            sock.sendall((MAX_FRAME + 1).to_bytes(4, "big"))
            answer = sock.recv(4096)
            return answer, sock.recv(4096)

    async def check(network, paths, servers):
        answers = await asyncio.to_thread(flood, paths["a"])
        assert answers == [expected[n % 8] for n in range(1000)]
        answer, after = await asyncio.to_thread(oversize, paths["a"])
        assert b'"type":"frame"' in answer and after == b""           # answered, then closed
        control = await asyncio.to_thread(ask, paths["a"], "query", what="control")
        assert control["malformed"] == 375 and control["version"] == 125 and control["type"] == 125
        assert control["argument"] == 375 and control["frame"] == 1
        assert (await asyncio.to_thread(ask, paths["a"], "query", what="policies"))[1]["config"]["name"] == "vpn"
    serving(tmp_path, check)


def test_a_peer_of_another_uid_is_refused(tmp_path):
    """The socket opened wide on purpose: SO_PEERCRED still refuses nobody (root is not special)."""
    probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
             "print(s.recv(65536)[4:].decode(), s.recv(65536))")        # the refusal, then the end

    async def check(network, paths, servers):
        os.chmod(paths["a"].parent, 0o755)
        os.chmod(paths["a"], 0o666)
        result = await asyncio.to_thread(subprocess.run, [SYSTEM_PYTHON, "-c", probe, str(paths["a"])],
                                         capture_output=True, text=True, timeout=60, user=NOBODY.pw_uid)
        assert '"type":"refused"' in result.stdout and f"uid {NOBODY.pw_uid}" in result.stdout, result.stderr
        assert result.stdout.rstrip().endswith("} b''")
        assert servers[0].counters["refused"] == 1
    assert os.geteuid() == 0, "CI runs as root: this test needs to become nobody"
    reachable = Path(tempfile.mkdtemp(prefix="pacsim-ctl-"))        # pytest's tmp_path is closed to nobody
    os.chmod(reachable, 0o755)
    try:
        serving(reachable, check)
    finally:
        shutil.rmtree(reachable)


def test_the_client_refuses_sockets_that_are_not_ours(tmp_path):
    async def check(network, paths, servers):
        assert refusal(tmp_path / "none.sock", "query", what="sas").kind == "no-router"
        os.chmod(paths["a"], 0o666)
        assert "mode 666" in str(await asyncio.to_thread(refusal, paths["a"], "query", what="sas"))
        os.chmod(paths["a"], 0o600)
        os.chown(paths["b"], NOBODY.pw_uid, -1)
        assert "owned by uid" in str(await asyncio.to_thread(refusal, paths["b"], "query", what="sas"))
        stale = tmp_path / "run" / "stale.sock"
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(stale))
        os.chmod(stale, 0o600)
        assert "refuses connections" in str(refusal(stale, "query", what="sas"))
    assert os.geteuid() == 0, "CI runs as root: this test chowns a socket to nobody"
    serving(tmp_path, check)


def test_the_server_refuses_an_open_directory_and_a_live_socket(tmp_path):
    async def check(network, paths, servers):
        again = ControlServer(servers[0].target, paths["a"])
        with pytest.raises(ControlSetupError, match="serves it already"):
            await again.start()
        wide = tmp_path / "wide"
        wide.mkdir(mode=0o755)
        os.chmod(wide, 0o755)
        with pytest.raises(ControlSetupError, match="mode 0700"):
            await ControlServer(servers[0].target, wide / "x.sock").start()
        stat_mode = paths["a"].stat().st_mode & 0o777, paths["a"].parent.stat().st_mode & 0o777
        assert stat_mode == (0o600, 0o700)
    serving(tmp_path, check)


def test_the_wall_clock_runtime_serves_requests_on_its_worker(tmp_path):
    """A router on the wall clock: requests run on the runtime's worker (WallRuntime.call)."""
    from pacsim.sim.network import model_router
    from pacsim.sim.wall_runtime import AttachedNetwork, WallRuntime
    path = tmp_path / "run" / "w.sock"

    async def main():
        network = AttachedNetwork()
        network.add_router(await model_router("w", network.clock))
        async with WallRuntime(network) as runtime:
            calls = []
            real_call = runtime.call
            runtime.call = lambda work: (calls.append(work), real_call(work))[1]
            await runtime.serve_control({"w": path})
            added = await asyncio.to_thread(ask, path, "command", line="add ip int=eth0 ip=10.9.0.1")
            shown = await asyncio.to_thread(ask, path, "command", line="show ip interface")
            assert "Operation successful" in added["output"] and "10.9.0.1" in shown["output"]
            assert len(calls) == 2 and not runtime.failures
        assert not path.exists()
    asyncio.run(main())


def test_the_interactive_console_serves_while_it_waits_for_a_line(tmp_path):
    from pacsim.sim.router_session import interactive
    path = tmp_path / "run" / "i.sock"
    answers, printed = [], []
    lines = iter(["add ip int=eth0 ip=10.7.0.1"])

    def type_line(prompt):                # the second prompt: a client asks while the console waits
        line = next(lines, None)
        if line is None:
            answers.append(ask(path, "command", line="show ip interface"))
            return "quit"
        return line
    assert interactive("i", input_fn=type_line, out=printed.append, history=None, control=path) == 0
    assert "10.7.0.1" in answers[0]["output"] and not path.exists()
