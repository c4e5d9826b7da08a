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
