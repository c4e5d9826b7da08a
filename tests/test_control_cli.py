"""``pacsim racoonctl``, ``tmsh`` and ``ctl`` as subprocesses against
``pacsim router --script FILE --hold --control PATH`` serving in another
process: two ISAKMP routers whose VPN a datagram brought up. The
reference for the SAs shown: router b's own answer (the other end)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pacsim.firmware.views.registry import VIEWS
from pacsim.sim.interop.view_facts import leader_values
from pacsim.sim.isakmp_vpn import IsakmpVpn

#: racoonctl's header line (../shared/seeds/000_*: racoonctl -ll show-sa isakmp).
RACOONCTL_COLUMNS = ["Source", "Destination", "Cookies", "ST", "S", "V", "E", "Created", "Phase2"]


def pacsim(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "pacsim.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=env)


def vpn_script(vpn: IsakmpVpn) -> str:
    lines = [f"{name}: {line}" for name in ("a", "b") for line in vpn.router_lines(name)]
    lines += ["wan a ppp0 b ppp0"]
    lines += [f"host {vpn.site(n).host} {n} eth0 {vpn.host_address(n)}" for n in ("a", "b")]
    lines += [f"send {vpn.site('a').host} {vpn.host_address('b')} udp 100", "wait 1"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    """Routers a (at ``PATH``) and b (its default socket under $XDG_RUNTIME_DIR) serving after the script."""
    base = tmp_path_factory.mktemp("held")
    env = dict(os.environ, XDG_RUNTIME_DIR=str(base / "xdg"))
    (base / "vpn.txt").write_text(vpn_script(IsakmpVpn(isakmp_params="senddeletes=true")))
    path = base / "ctl" / "a.sock"
    router = subprocess.Popen([sys.executable, "-m", "pacsim.cli", "router", "--script", str(base / "vpn.txt"),
                               "--hold", "--control", str(path), "--name", "a", "--strict"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    b_socket = base / "xdg" / "pacsim" / "pacsim-b.sock"
    while router.poll() is None and not (path.exists() and b_socket.exists()):       # readiness, not timing
        time.sleep(0.1)
    assert router.poll() is None, router.communicate()
    yield path, env, router
    if router.poll() is None:
        router.send_signal(signal.SIGTERM)
        router.communicate(timeout=60)


def test_racoonctl_shows_the_running_routers_sas(held):
    path, env, _ = held
    shown = pacsim("racoonctl", "--socket", str(path), "-ll", "show-sa", "isakmp", env=env)
    assert shown.returncode == 0, shown.stderr
    theirs = json.loads(pacsim("ctl", "--router", "b", "query", "ike_sas", "--json", env=env).stdout)
    mine = json.loads(pacsim("ctl", "--socket", str(path), "query", "ike_sas", "--json", env=env).stdout)
    assert len(mine) == len(theirs) == 1 and mine[0]["state"] == theirs[0]["state"] == "ESTABLISHED"
    assert (mine[0]["cky_i"], mine[0]["cky_r"]) == (theirs[0]["cky_i"], theirs[0]["cky_r"])
    summary = pacsim("ctl", "--socket", str(path), "query", "ike_sas", env=env).stdout.splitlines()
    assert len(summary) == 1 and f"cky_i={mine[0]['cky_i']}, cky_r={mine[0]['cky_r']}" in summary[0]
    lines = shown.stdout.splitlines()
    if "racoonctl" in VIEWS:                         # the vendor view: racoonctl's own columns and codes
        assert lines[0].split() == RACOONCTL_COLUMNS
        row = next(line for line in lines[1:] if f"{mine[0]['cky_i']}:{mine[0]['cky_r']}" in line).split()
        assert row[:2] == [f"{mine[0]['local']}.500", f"{mine[0]['peer']}.500"] and row[3:7] == ["9", "I", "10", "M"]
    else:                                            # the AlliedWare fallback, said so on standard error
        assert "AlliedWare" in shown.stderr
        assert lines[0].split()[:3] == ["SA", "Id", "PeerAddress"]
        assert lines[2].split()[:4] == [str(mine[0]["sa_id"]), theirs[0]["local"], "DES", "SHA"]


def test_tmsh_and_ctl_against_the_running_router(held):
    path, env, _ = held
    tmsh = pacsim("tmsh", "--socket", str(path), "show", "net", "ipsec", "ipsec-sa", env=env)
    assert tmsh.returncode == 0, tmsh.stderr
    sas = json.loads(pacsim("ctl", "--socket", str(path), "query", "sas", "--json", env=env).stdout)
    assert len(sas) == 1 and sas[0]["state"] == "VALID"
    if "tmsh" in VIEWS:                              # the vendor view: the SA by its SPI
        assert f"{sas[0]['outbound_spi']:x}" in tmsh.stdout.lower()
    else:                                            # the AlliedWare fallback: show ipsec sa, as the console has it
        shown = pacsim("ctl", "--socket", str(path), "view", "alliedware", "show", "ipsec", "sa", env=env)
        assert tmsh.stdout == shown.stdout and "AlliedWare" in tmsh.stderr
        row = next(line.split() for line in tmsh.stdout.splitlines() if line.split()[:1] == [str(sas[0]["sa_id"])])
        assert "vpn" in [word.lower() for word in row]
    command = pacsim("ctl", "--socket", str(path), "command", "show", "ipsec", "policy", env=env)
    assert command.returncode == 0 and "VPN" in command.stdout
    refused = pacsim("ctl", "--socket", str(path), "command", "frobnicate", env=env)
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("pacsim ctl: router: ")


def test_a_held_router_on_the_simulated_network_keeps_its_time_frozen(held):
    """docs/control.md, "Serving": held after the script, the virtual clock moves only with the network's
    events, so an SA's age and remaining lifetime stay as the script left them however long it serves."""
    path, env, _ = held
    mine = json.loads(pacsim("ctl", "--socket", str(path), "query", "ike_sas", "--json", env=env).stdout)

    def shown():
        text = pacsim("ctl", "--socket", str(path), "view", "alliedware", "show", "isakmp",
                      f"sa={mine[0]['sa_id']}", env=env).stdout
        return leader_values(text)
    before = shown()
    time.sleep(2.2)
    after = shown()
    assert before["Seconds since creation"] == after["Seconds since creation"]
    assert int(before["Seconds since creation"]) <= 2                   # the script's "wait 1" and the negotiation


def test_delete_through_racoonctl_reaches_the_peer(held):
    path, env, router = held
    mine = json.loads(pacsim("ctl", "--socket", str(path), "query", "ike_sas", "--json", env=env).stdout)
    deleted = pacsim("racoonctl", "--socket", str(path), "delete-sa", "isakmp", mine[0]["local"], mine[0]["peer"],
                     env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(pacsim("ctl", "--router", "b", "query", "ike_sas", "--json", env=env).stdout) == []
    again = pacsim("racoonctl", "--socket", str(path), "delete-sa", "isakmp", mine[0]["local"], mine[0]["peer"],
                   env=env)
    assert again.returncode != 0 and "no ISAKMP SA" in again.stderr
    router.send_signal(signal.SIGTERM)
    router.communicate(timeout=60)
    assert router.returncode == 0 and not path.exists()


@pytest.mark.parametrize("argv", [["racoonctl", "-ll", "show-sa", "isakmp"], ["tmsh", "show", "net", "ipsec", "ike-sa"],
                                  ["ctl", "query", "ike_sas"]])
def test_no_router_one_line_and_non_zero(tmp_path, argv):
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    result = pacsim(*argv, env=env)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "no router is running" in result.stderr


def test_router_refuses_control_options_it_cannot_honour(tmp_path):
    script = tmp_path / "one.txt"
    script.write_text("add ip int=eth0 ip=10.1.0.1\n")
    without_hold = pacsim("router", "--script", str(script), "--control", str(tmp_path / "c.sock"))
    assert without_hold.returncode != 0 and "needs --hold" in without_hold.stderr
    wide = tmp_path / "wide"
    wide.mkdir()
    os.chmod(wide, 0o755)
    refused = pacsim("router", "--script", str(script), "--hold", "--control", str(wide / "c.sock"))
    assert refused.returncode != 0 and "mode 0700" in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("pacsim router: ")
