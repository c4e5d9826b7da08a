"""``enable/disable isakmp debug`` (spec/isakmp-commands.md §2.7): each
debug class's lines appear as two daemons on ModelBus cards negotiate, and
no other class's; the commands act at once; ``show isakmp`` shows the
Debug Flag bits; no debug line carries key material."""
import re

import pytest
from ike_peers import pair, run

from pacsim.firmware.console import standalone_console
from pacsim.firmware.isakmp.debug import IsakmpDebug
from pacsim.firmware.views.alliedware.isakmp_debug import debug_lines

PREFIX = {"packet": "ISAKMP RX ", "pktraw": "ISAKMP RAW ", "state": "ISAKMP STATE ", "trace": "ISAKMP TRACE ",
          "tracemore": "ISAKMP VALUE "}


def negotiate(command, psk_r=None, mode="main"):
    """Run ``command`` on the initiator's console, then phase 1; returns (debug lines, initiator, network)."""
    async def body():
        network, initiator, responder = await pair({"mode": mode}, {"mode": mode},
                                                   **({"psk_r": psk_r} if psk_r else {}))
        console = standalone_console(clock=lambda: 0.0)
        console.isakmp.policies.update(initiator.config.policies)
        initiator.config = console.isakmp
        written = []
        IsakmpDebug(initiator.config, debug_lines, written.append).attach(initiator)
        if command:
            console.execute(command)
        await network.deliver(await initiator.initiate("p"))
        await network.run(until=2000)
        return written, initiator, network, console
    return run(body())


def classes_seen(lines):
    seen = {c for c, prefix in PREFIX.items() for line in lines if line.startswith(prefix)}
    if any(line.startswith("ISAKMP TX ") for line in lines):
        seen.add("packet")
    return seen


@pytest.mark.parametrize("value, classes", [
    ("pa", {"packet"}), ("pkt", {"packet"}), ("pktr", {"pktraw"}), ("sta", {"state"}), ("tra", {"trace"}),
    ("tracem", {"tracemore"}), ("def", {"trace", "state", "packet"}), (None, {"trace", "state", "packet"}),
    ("al", set(PREFIX)), ("sta,pktr", {"state", "pktraw"})])
def test_each_class_prints_its_lines_and_only_those(value, classes):
    lines, initiator, network, console = negotiate("ena isa deb" + (f"={value}" if value else ""))
    assert classes_seen(lines) == classes


def test_no_debug_by_default_and_the_flag_word():
    lines, initiator, network, console = negotiate(None)
    assert lines == []
    assert "Debug Flag ............................. 00000000" in console.execute("sh isa")
    console.execute("ena isa deb")
    assert "Debug Flag ............................. 00000016" in console.execute("sh isa")
    console.execute("ena isa deb=all")
    assert "Debug Flag ............................. 0000001f" in console.execute("sh isa")


def test_lines_follow_the_negotiation():
    lines, initiator, network, console = negotiate("ena isa deb=def")
    states = [line for line in lines if line.startswith("ISAKMP STATE exchange")]
    assert states == ["ISAKMP STATE exchange 1: - -> SASENT", "ISAKMP STATE exchange 1: SASENT -> KESENT",
                      "ISAKMP STATE exchange 1: KESENT -> AUTHSENT", "ISAKMP STATE exchange 1: AUTHSENT -> DELETEDELAY"]
    assert "ISAKMP STATE SA 1: MM_KEY_AUTH -> ESTABLISHED" in lines
    sent = [d for _, d in network.log if str(d.src) == "192.0.2.1"]
    assert len([line for line in lines if line.startswith("ISAKMP TX ")]) == len(sent)
    assert any(line.startswith("ISAKMP TRACE IKE SA 1 established with 192.0.2.2") for line in lines)


def test_disable_stops_the_class_at_once():
    lines, initiator, network, console = negotiate("ena isa deb=all")
    console.execute("dis isa deb")                          # default classes off: pktraw and tracemore stay
    before = len(lines)
    async def again():
        await network.deliver(await initiator.send_dpd(next(iter(initiator.sas))))
    run(again())
    assert classes_seen(lines[before:]) == {"pktraw"}


def test_a_failure_is_traced():
    lines, initiator, network, console = negotiate("ena isa deb=tra", psk_r=b"another key", mode="aggressive")
    assert any(re.match(r"ISAKMP TRACE exchange 1: message rejected: ", line) for line in lines)
    assert any(re.match(r"ISAKMP TRACE exchange 1 failed: ", line) for line in lines)


def test_no_debug_line_carries_key_material():
    lines, initiator, network, console = negotiate("ena isa deb=all")
    (sa,) = list(initiator.sas)
    text = "\n".join(lines).replace(" ", "").replace("ISAKMPRAW", "")
    for secret in (sa.keys.skeyid, sa.keys.skeyid_d, sa.keys.skeyid_a, sa.keys.skeyid_e, sa.keys.enc_key):
        assert secret.hex() not in text
    assert "ISAKMP VALUE SA 1: Ka calculated (8 octets)" in lines


def test_debug_lines_print_on_the_enabling_console_as_they_happen():
    """``pacsim router --script``: the debug lines of router a (which ran
    ``enable isakmp debug``) print as ``a| ...`` while the traffic that
    negotiates runs, after the command and before the next ``wait`` line;
    b enabled nothing and prints none. The router's stored log holds the
    same lines. A second console that enables debug takes the output over."""
    from pathlib import Path

    from pacsim.sim.router_session import model_factory, run_script
    text = (Path(__file__).parent.parent / "docs" / "two-routers-isakmp.txt").read_text()
    text = text.replace("\nsend pc1 pc2 udp 100\n", "\na: enable isakmp debug=state,trace\nsend pc1 pc2 udp 100\n")

    async def body():
        result = await run_script(text, model_factory())
        return result
    result = run(body())
    lines = result.lines
    enabled = lines.index("a> enable isakmp debug=state,trace")
    first_wait = next(i for i, line in enumerate(lines) if line.startswith("# ") and i > enabled)
    printed = [line for line in lines if line.startswith("a| ")]
    assert printed and not [line for line in lines if line.startswith("b| ")]
    between = [line for line in lines[enabled:first_wait] if line.startswith("a| ")]
    assert any(line.startswith("a| ISAKMP STATE ") for line in between)
    assert any(line.startswith("a| ISAKMP TRACE IKE SA 1 established") for line in between), between
    assert {line[3:].split()[1] for line in printed} == {"STATE", "TRACE"}

    async def consoles():
        from pacsim.sim.isakmp_vpn import IsakmpVpn
        from isakmp_vpn_support import send, vpn_network
        vpn = IsakmpVpn()
        network = await vpn_network(vpn)
        a = network.routers["a"]
        first, second = [], []
        a.console.terminal = first.append
        other = a.open_console()
        other.terminal = second.append
        await a.run("enable isakmp debug=trace")
        other.run("enable isakmp debug=trace")
        send(network, vpn, "a", 1)
        await network.run()
        return first, second, list(a.isakmp_debug.lines)
    first, second, stored = run(consoles())
    assert first == [] and second and second == stored
    assert any(line.startswith("ISAKMP TRACE IKE SA 1 established") for line in second)
