"""Counter schemas and snapshots (firmware/state): a misspelt counter name
is an error, not a silent 0, and a snapshot holds what the live objects
held when it was taken, whatever happens to them afterwards."""
import dataclasses
import re

import pytest
from router_support import exchange, run

from pacsim.firmware.console import standalone_console
from pacsim.firmware.enco.service import ATTACH_COUNTERS
from pacsim.firmware.ipsec.counters import MODULE_COUNTERS, SA_COUNTERS, IpsecCounters, SaCounters
from pacsim.firmware.ipsec.show_commands import IpsecShow
from pacsim.firmware.ipsec.spd import Action, Spd
from pacsim.firmware.ipsec.kernel import IPSEC_ALG_COUNTERS
from pacsim.firmware.router.runtime import MAIN_COUNTERS
from pacsim.firmware.state.counters import CounterSchema, CounterSet, CounterSnapshot, UnknownCounter
from pacsim.firmware.state.snapshots import BundleSnapshot, policy_snapshot
from pacsim.firmware.users.session import SESSION_COUNTERS
from pacsim.firmware.views.alliedware.counters import IPSEC_COUNTER_GROUPS, SA_COUNTER_BLOCKS
from pacsim.firmware.views.alliedware.sa import show_sa
from pacsim.sim.manual_vpn import ManualVpn

SCHEMA = CounterSchema("demo", ("good", "failed", "discarded"))


def test_a_counter_set_refuses_a_misspelt_name_on_count_and_on_read():
    counters = CounterSet(SCHEMA)
    counters.count("good", 3)
    counters["failed"] += 1
    with pytest.raises(UnknownCounter, match="'godo' is not a counter of demo") as raised:
        counters.count("godo")
    assert raised.value.name == "godo" and raised.value.group == "demo"
    with pytest.raises(UnknownCounter):
        counters["faild"] += 1
    with pytest.raises(KeyError):                       # UnknownCounter is a KeyError
        counters["discard"]
    assert list(counters.items()) == [("good", 3), ("failed", 1), ("discarded", 0)]   # nothing else changed
    counters.reset()
    assert list(counters.items()) == [("good", 0), ("failed", 0), ("discarded", 0)]


def test_a_snapshot_reads_only_its_schema_and_keeps_its_values():
    counters = CounterSet(SCHEMA)
    counters.count("discarded", 2)
    snap = counters.snapshot()
    counters.count("discarded", 5)
    assert snap["discarded"] == 2 and list(snap.items()) == [("good", 0), ("failed", 0), ("discarded", 2)]
    with pytest.raises(UnknownCounter, match="'discard'"):
        snap["discard"]
    assert CounterSnapshot.of(SCHEMA, {"failed": 4})["failed"] == 4          # missing names are 0
    with pytest.raises(UnknownCounter, match="'fialed'"):                    # a misspelt count in a mapping
        CounterSnapshot.of(SCHEMA, {"failed": 1, "fialed": 1})
    assert CounterSnapshot.read(SCHEMA, len).values == (4, 6, 9)


def test_a_schema_declares_each_name_once():
    with pytest.raises(ValueError, match="declares a name twice"):
        CounterSchema("twice", ("good", "good"))


def test_the_declared_counter_tuples_are_the_schemas():
    assert SESSION_COUNTERS.names[:3] == ("refusedNotLoggedIn", "refusedManager", "refusedSecurityOfficer")
    assert "attach_good" in ATTACH_COUNTERS and "attach_god" not in ATTACH_COUNTERS
    module = IpsecCounters()
    sa = SaCounters(module)
    sa.count("espEncryptionGood", 2)
    assert module["esp_out"]["encryptionGood"] == 2 and sa.snapshot()["espEncryptionGood"] == 2
    with pytest.raises(UnknownCounter, match="espEncryptonGood"):
        sa.count("espEncryptonGood")
    with pytest.raises(UnknownCounter, match="encryptonGood"):
        module.count("esp_out", "encryptonGood")
    assert sa.schema is SA_COUNTERS and module["esp_out"]["encryptionGood"] == 2


def test_a_misspelt_session_counter_is_an_error():
    console = standalone_console(clock=lambda: 0.0, random_bytes=lambda n: b"\x01" * n)
    with pytest.raises(UnknownCounter, match="loginGod"):
        console.session.counters["loginGod"] += 1
    console.session.counters["loginGood"] += 1
    assert re.search(r"^Logins \.+ 1$", console.execute("show system"), re.M)


def test_a_misspelt_router_count_is_an_error():
    """The router's main counters and the kernel's ALG counters are counter
    sets of their schemas: a name the schema lacks is refused when counted."""
    async def body():
        network = await exchange(ManualVpn(), [100])
        a = network.routers["a"]
        assert "outProcessPkt" in await a.execute("show ipsec counter=main")
        with pytest.raises(UnknownCounter, match="outProcesPkt"):
            a.main["outProcesPkt"] += 1
        with pytest.raises(UnknownCounter, match="ipsecEncodeGod"):
            a.kernel.alg["ipsecEncodeGod"] += 1
        assert a.main["outProcessPkt"] >= 1 and a.kernel.alg["ipsecEncodeGood"] >= 1
    run(body())


def test_bundle_lifetime_remaining():
    b = BundleSnapshot(0, (1, 2), "VALID", (1000 * 1024, 900 * 1024, 2048 + 100), (3600, 3240, 600))
    assert b.remaining_kbytes == 997 and b.remaining_seconds == 3000
    assert BundleSnapshot(0, (1,), "VALID", (None, None, 5), (None, None, 5)).remaining_seconds is None


def test_a_policy_snapshot_is_a_copy():
    spd = Spd()
    p = spd.create_policy("p", "eth0", Action.DENY)
    snap = policy_snapshot(p)
    spd.set_policy("p", action=Action.PERMIT)
    assert snap.config.action is Action.DENY and spd.policy("p").action is Action.PERMIT
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.status = None


def test_an_sa_snapshot_of_a_live_router():
    """SPIs, algorithms, channels, lifetime and counters of a running SA
    pair, against the SAD, the card's channels and the display."""
    async def body():
        vpn = ManualVpn()
        network = await exchange(vpn, [100, 200])
        a = network.routers["a"]
        show = IpsecShow(a.ipsec, a.runtime)
        now = a.clock()
        record = a.ipsec.sad.sa(0)
        bundle = a.ipsec.sad.bundle_of(record)
        snap = show.sa(record, now)
        assert (snap.outbound_spi, snap.inbound_spi) == (record.pair.outbound_spi, record.pair.inbound_spi)
        assert snap.protocol is record.protocol and snap.state == "VALID"
        assert snap.created == bundle.created_at and snap.remaining_seconds is None   # manual keys: no expiry
        assert snap.peer == str(vpn.wan("b"))
        runtime = a.runtime_sa(0)
        channels = [runtime.channel(s, d) for s in ("cipher", "mac") for d in ("outbound", "inbound")]
        numbers = {c.number for c in channels if c is not None}
        assert numbers and numbers <= set(a.device.channels)
        assert snap.counters["outProcessDone"] == runtime.counters["outProcessDone"] > 0
        # each way: two UDP datagrams, an echo request and the echo reply to the other side's ping
        assert (snap.packets_out, snap.packets_in) == (4, 4)
        assert snap.bytes_used == bundle.bytes_used > 0
        assert show_sa(snap) == await a.execute("show ipsec sa=0")
        with pytest.raises(UnknownCounter):
            snap.counters["outProcessDon"]
    run(body())


def _block(blocks, key):
    return tuple(next(b for b in blocks if b.key == key).names())


def test_the_alliedware_layouts_show_exactly_the_schemas():
    """Each counter schema is laid out once, whole and in its order, by the
    AlliedWare view (a layout naming a counter no one counts, or leaving one
    out, fails here)."""
    groups = IPSEC_COUNTER_GROUPS
    assert _block(groups["main"].blocks, "main") == MAIN_COUNTERS.names
    assert _block(groups["alg"].blocks, "ipsec") + _block(groups["alg"].blocks, "general") == \
        IPSEC_ALG_COUNTERS.names
    for group in ("esp", "ah", "comp"):
        for block in ("setup", "out", "in"):
            assert set(_block(groups[group].blocks, block)) == set(MODULE_COUNTERS[f"{group}_{block}"].names)
    assert set(_block(groups["main"].blocks, "udp")) == set(MODULE_COUNTERS["udp"].names)
    assert tuple(name for b in SA_COUNTER_BLOCKS for name in b.names()) == SA_COUNTERS.names
