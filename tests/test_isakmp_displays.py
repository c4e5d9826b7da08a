"""``show isakmp``, ``show isakmp policy``, ``sa``, ``exchange`` and
``counters`` (spec/show-outputs.md §10-§14, §18.3-§18.4) and ``reset
isakmp counters`` (spec/isakmp-commands.md §2.8).

The module and policy figures are reproduced exactly from the figures'
own values; the SA and exchange displays are read back by a parser
written from the figures (leader labels, indents and value columns;
summary column positions), on two daemons on ModelBus cards completing
main and aggressive mode in virtual time, stepped message by message so
that every intermediate state shows."""
import re

import pytest
from ike_peers import ADDRESS_I, ADDRESS_R, pair, run
from test_isakmp_displays_counters import manual_figure

from pacsim.firmware.cli import SUCCESS
from pacsim.firmware.console import standalone_console
from pacsim.firmware.isakmp.policy_config import IsakmpConfig, IsakmpPolicy
from pacsim.firmware.isakmp.show_commands import IsakmpRuntime, IsakmpShow
from pacsim.firmware.state.isakmp_snapshots import isakmp_module_snapshot
from pacsim.firmware.views.alliedware.isakmp import show_isakmp, show_isakmp_policies, show_isakmp_policy

_LEADER = re.compile(r"^( *)([^.]+?) ?(\.+)(?: (.*))?$")


class Runtime(IsakmpRuntime):
    def __init__(self, daemon):
        self._daemon = daemon

    def daemon(self):
        return self._daemon


def leader_fields(lines):
    """(indent, label, value column) of every ``label ..... value`` line, and the other lines as (None, text, None)."""
    found = []
    for line in lines:
        m = _LEADER.match(line.rstrip() + " ")
        if m:
            found.append((len(m.group(1)), m.group(2), m.end(3) + 1))
        elif line.strip():
            found.append((None, line.strip(), None))
    return found


def values_of(text):
    """{label: value} of a leader display (the first occurrence of each label)."""
    out = {}
    for line in text.splitlines():
        m = _LEADER.match(line.rstrip() + " ")
        if m:
            out.setdefault(m.group(2), m.group(4).strip())
    return out


def test_show_isakmp_reproduces_figure_48_25():
    assert show_isakmp(isakmp_module_snapshot(IsakmpConfig())).splitlines() == manual_figure("### Figure 48-25")


FIGURE_POLICY = IsakmpPolicy(
    "my_isakmp_policy", peer="202.36.163.201", key=30, prenegotiate=True, sendnotify=True, msgretrylimit=5,
    msgtimeout=20, remoteid="IPv4:192.68.1.2", dhexponentlength=767, expirykbytes=1000, nattraversal=True)


def test_policy_detail_reproduces_figure_48_41():
    assert show_isakmp_policy(FIGURE_POLICY).splitlines() == manual_figure("### 13b. ")


def test_policy_summary_reproduces_figure_48_40():
    policy = IsakmpPolicy("my_isakmp_policy", peer="192.168.2.1", key=30)
    assert show_isakmp_policies([policy]).splitlines() == manual_figure("### 13a. ")


def step(network, datagrams, shows, record):
    """Deliver ``datagrams`` one at a time; after each, ``record(shows)``. Returns when nothing is in flight."""
    async def body():
        queue = list(datagrams)
        record(shows)
        while queue:
            datagram = queue.pop(0)
            network.log.append((network.now, datagram))
            queue += await network.daemons[datagram.dst].receive(datagram)
            record(shows)
    return body()


def summary_rows(text):
    """(id, phase, state, peer, type) of the exchange summary, cut at the figure's columns."""
    lines = text.splitlines()
    assert lines[:4] == manual_figure("### 12a. ")[:4]
    return [(int(line[:5]), line[5:12].strip(), line[14:23].strip(), line[23:49].strip(), line[49:].strip())
            for line in lines[4:]]


@pytest.mark.parametrize("mode, initiator_states, responder_states, kind", [
    ("main", ["SASENT", "SASENT", "KESENT", "KESENT", "AUTHSENT", "AUTHSENT", "DELETEDE"],
     [None, "SASENT", "SASENT", "KESENT", "KESENT", "DELETEDE", "DELETEDE"], "IDPROTECT"),
    ("aggressive", ["SAKESENT", "SAKESENT", "DELETEDE", "DELETEDE"], [None, "SAKEAUTH", "SAKEAUTH", "DELETEDE"],
     "AGGRESSIVE")])
def test_each_exchange_state_shows_while_phase1_is_stepped(mode, initiator_states, responder_states, kind):
    seen = []

    def record(shows):
        rows = [summary_rows(show.show_exchange()) for show in shows]
        sas = [values_of(show.show_sa(sa=1))["State"] if show.runtime.daemon().ike_sas() else None for show in shows]
        seen.append(([r[0][2] if r else None for r in rows], sas, rows))

    async def body():
        network, initiator, responder = await pair({"mode": mode}, {"mode": mode})
        shows = [IsakmpShow(d.config, Runtime(d)) for d in (initiator, responder)]
        await step(network, await initiator.initiate("p"), shows, record)
        return shows
    shows = run(body())
    assert [s[0][0] for s in seen] == initiator_states
    assert [s[0][1] for s in seen] == responder_states
    first, last = seen[0], seen[-1]
    assert first[2][0] == [(1, "1", initiator_states[0], ADDRESS_R, kind)]
    assert last[2][1] == [(1, "1", "DELETEDE", ADDRESS_I, kind)]
    negotiating = {"main": {"MM_SA_SETUP", "MM_KEY_EXCH", "MM_KEY_AUTH"}, "aggressive": {"AG_INIT_EXCH", "AG_AUTH"}}
    sa_states = {state for s in seen for state in s[1] if state}
    assert sa_states == negotiating[mode] | {"ACTIVE"}
    assert last[1] == ["ACTIVE", "ACTIVE"]
    detail = shows[0].show_exchange(exchange=1)
    assert values_of(detail)["State"] == "DELETEDELAY" and values_of(detail)["Initiator"] == "TRUE"
    assert values_of(detail)["Type"] == ("MAIN" if mode == "main" else "AGGRESSIVE")


def established_pair(mode="main"):
    async def body():
        network, initiator, responder = await pair({"mode": mode}, {"mode": mode})
        await network.deliver(await initiator.initiate("p"))
        return network, initiator, responder
    return run(body())


def test_sa_detail_reads_as_figure_48_43():
    network, initiator, responder = established_pair()
    show = IsakmpShow(initiator.config, Runtime(initiator))
    ours = show.show_sa(sa=1).splitlines()
    assert leader_fields(ours) == leader_fields(manual_figure("### 14b. "))
    values = values_of("\n".join(ours))
    sa = initiator.ike_sas()[0]
    assert (values["Initiator Cookie"], values["Responder Cookie"]) == (sa.cky_i.hex(), sa.cky_r.hex())
    assert (values["State"], values["Local address"], values["Remote Address"]) == ("ACTIVE", ADDRESS_I, ADDRESS_R)
    assert values["Expiry Limit (seconds)"] == "86400" and values["Soft Expiry Limit (seconds)"] == "77760"
    assert values["Encryption Algorithm"] == "DES - 56 bit" and values["group Description"] == "MODP768"


def test_sa_summary_reads_as_figure_48_42():
    network, initiator, responder = established_pair("aggressive")
    network.now = 100.0
    lines = IsakmpShow(responder.config, Runtime(responder)).show_sa().splitlines()
    assert lines[:2] == manual_figure("### 14a. ")[:2]
    row = lines[2]
    assert (row[:5].strip(), row[6:22].strip(), row[22:29].strip(), row[29:36].strip(), row[36:57].strip(),
            row[57:].strip()) == ("1", ADDRESS_I, "DES", "SHA", "-/-/0", "86400/86400/100")


def test_exchange_detail_reads_as_figure_48_39():
    network, initiator, responder = established_pair()
    ours = leader_fields(IsakmpShow(responder.config, Runtime(responder)).show_exchange(exchange=1).splitlines())
    figure = leader_fields(manual_figure("### 12b. "))
    assert ours == figure                               # every field, heading, indent and value column


def test_counters_display_counts_the_datagrams():
    network, initiator, responder = established_pair()
    show = IsakmpShow(initiator.config, Runtime(initiator))
    text = show.show_counters(counters=["general", "network"])
    values = dict(re.findall(r"([A-Za-z]\w+)\s+(\d+)", text))
    sent = sum(1 for _, d in network.log if d.src.exploded == ADDRESS_I)
    received = sum(1 for _, d in network.log if d.dst.exploded == ADDRESS_I)
    assert (int(values["msgTx"]), int(values["tx"]), int(values["msgRxd"]), int(values["rx"])) == (
        sent, sent, received, received)
    assert text.splitlines()[0] == "ISAKMP General Counters" and "ISAKMP Network Counters" in text.splitlines()


def test_database_counters_count_sas_policies_and_exchange_lookups():
    async def body():
        params = {"senddeletes": True}
        network, initiator, responder = await pair(params, params)
        await network.deliver(await initiator.initiate("p"))
        await network.deliver(await initiator.delete_sa(next(iter(initiator.sas))))
        return network, responder
    network, responder = run(body())
    show = IsakmpShow(responder.config, Runtime(responder))
    lines = show.show_counters(counters=["sad", "spd", "xdb"]).splitlines()
    received = sum(1 for _, d in network.log if d.dst.exploded == ADDRESS_R)
    assert "  createGood           1" in lines and "  deleteGood           1      deleteFailed         0" in lines
    assert "  getPolicyByPeerGood  1    getPolicyByPeerFailed  0" in lines
    # every message but the first found its exchange; the first (MM1) and the Delete (a new exchange) did not
    assert f"  getXchgByMsgIdAndCookies{received - 2:>12}            2" in lines
    assert "    by cookies              1                  0" in lines   # the Delete's SA, by its cookies


def test_reset_isakmp_counters_clears_the_daemons_counters():
    network, initiator, responder = established_pair()
    console = standalone_console(clock=lambda: 0.0, isakmp_runtime=Runtime(initiator))
    assert initiator.counters.get("general", "msgTx") and initiator.counters.get("main", "initSendSA")
    assert console.execute("reset isa cou=gen,net") == SUCCESS
    assert initiator.counters.get("general", "msgTx") == initiator.counters.get("network", "tx") == 0
    assert initiator.counters.get("main", "initSendSA") == 1
    assert re.search(r"initSendSA +1", console.execute("sh isa cou=mai"))
    assert console.execute("reset isa cou") == SUCCESS
    assert initiator.counters.nonzero() == {}
    assert not re.search(r" [1-9]\d*$", console.execute("sh isa cou"), re.M)


def test_without_a_daemon_the_displays_show_configuration_and_nothing_running():
    console = standalone_console(clock=lambda: 0.0)
    console.execute('cre isa pol="p" pe=192.0.2.2 key=5')
    assert console.execute("sh isa sa").splitlines()[2:] == []
    assert console.execute("sh isa exc").splitlines()[4:] == []
    assert "p                    192.0.2.2" in console.execute("sh isa pol")
    assert console.run("sh isa sa=1") == "Error: ISAKMP SA 1 does not exist"
    assert console.run("sh isa exc=4") == "Error: ISAKMP exchange 4 does not exist"
