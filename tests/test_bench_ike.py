"""``pacsim bench ike`` (sim/bench_ike.py, sim/interop/charon_pair.py):
main mode + quick mode negotiations between two daemons on model cards
(the quick mode's KEYMAT against the RFC 2409 reference, a quick mode the
responder refuses), the cards' public-key
clocks against the engine's exact count, a negotiation that must fail
(different pre-shared keys), strongSwan beside us (two charons over vici:
CI runs as root with strongSwan installed) or null figures when it cannot
run, and the command line's JSON row; the driver's public-key counters.
"""
import asyncio
import hashlib
import json
import random
import subprocess
import sys

import pytest

from pacsim.contract.pk import modexp_clocks
from pacsim.firmware.enco.keys import KeyType
from pacsim.host.device import PacDevice
from pacsim.reference.modp import GROUPS
from pacsim.sim.interop import charon_pair
from pacsim.sim.interop.strongswan import CONNECTION
from pacsim.sim.bench_ike import (BENCH_POLICY, PSK, PSK_ID, IkePair, NegotiationFailed, bench_ike_model,
                                  STRONGSWAN_CHILD, beside_strongswan, negotiate)
from pacsim.sim.ike_reference import keymat_reference, phase1_reference, phase2_keys_match
from pacsim.sim.model_bus import ModelBus

#: Modexps of one main mode: a key pair and a shared secret on each side.
PK_OPERATIONS_PER_MAIN_MODE = 4     # quick mode without PFS adds none


def test_model_row_counts_the_cards_public_key_clocks():
    row = asyncio.run(bench_ike_model(3))
    assert row["bench"] == "ike" and row["bus"] == "model" and row["negotiations"] == 3
    assert row["steps"] == "main_mode+quick_mode" and row["per_s"] > 0 and row["cpu_per_s"] > 0
    # group 2 (1024-bit prime), the router's 160-bit DH exponents: g^x and y^x on each side
    assert row["card_pk_operations"] == 3 * PK_OPERATIONS_PER_MAIN_MODE
    assert row["card_pk_clocks"] == 3 * PK_OPERATIONS_PER_MAIN_MODE * modexp_clocks(1024, 160)


async def _pair():
    return IkePair(*[await PacDevice.probe(ModelBus()) for _ in range(2)])


def test_negotiations_leave_no_sa_and_no_channel_behind():
    async def body():
        pair = await _pair()
        channels = [dict(d.channels) for d in pair.devices]
        for _ in range(2):
            await negotiate(pair)
            await pair.clear()
        return pair, channels
    pair, channels = asyncio.run(body())
    assert [list(d.sas) for d in (pair.initiator, pair.responder)] == [[], []]
    assert [dict(d.channels) for d in pair.devices] == channels


def test_a_negotiation_with_different_keys_fails():
    async def body():
        pair = await _pair()
        pair.responder.keys.destroy(PSK_ID)
        pair.responder.keys.create(PSK_ID, KeyType.GENERAL, value=b"another-psk")
        with pytest.raises(NegotiationFailed):
            await negotiate(pair)
    asyncio.run(body())


def test_strongswan_beside_us():
    row = {"bench": "ike", "per_s": 10.0}
    (result,) = beside_strongswan([row], 3)
    assert result["strongswan"].startswith("two charons"), result
    assert result["strongswan_per_s"] > 0
    assert result["ratio_vs_strongswan"] == round(10.0 / result["strongswan_per_s"], 3)


def test_without_strongswan_the_figures_are_null(monkeypatch):
    monkeypatch.setattr(charon_pair, "missing", lambda: "strongSwan is not installed (test)")
    (result,) = beside_strongswan([{"bench": "ike", "per_s": 10.0}], 3)
    assert result["strongswan_per_s"] is None and result["ratio_vs_strongswan"] is None
    assert result["strongswan"] == "strongSwan is not installed (test)"


def test_command_line_json_row():
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", "bench", "ike", "--json", "--negotiations", "2"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"bench", "bus", "negotiations", "per_s", "strongswan_per_s", "ratio_vs_strongswan",
            "card_pk_clocks"} <= set(row)
    assert row["bench"] == "ike" and row["bus"] == "model" and row["negotiations"] == 2
    assert row["card_pk_clocks"] == 2 * PK_OPERATIONS_PER_MAIN_MODE * modexp_clocks(1024, 160)


def test_driver_public_key_counters_sum_pk_clocks():
    async def body():
        device = await PacDevice.probe(ModelBus())
        group = GROUPS[1]
        measured = []
        for bits in (64, 200):
            await device.modexp(group.generator, random.Random(bits).getrandbits(bits) | 1 << (bits - 1),
                                group.prime)
            measured.append((await device.read_fields("PK_CLOCKS"))["clocks"])
        return device, measured
    device, measured = asyncio.run(body())
    assert device.pk_operations == 2
    assert device.pk_clocks == sum(measured) == modexp_clocks(768, 64) + modexp_clocks(768, 200)


def test_main_mode_keys_match_the_wire_reference():
    """The reference of the demo and the co-simulation (sim/ike_reference.py)
    agrees with both daemons' keys, and a changed nonce on the wire changes it."""
    async def body():
        pair = await _pair()
        await negotiate(pair)
        return pair
    pair = asyncio.run(body())
    (sa_i,), (sa_r,) = list(pair.initiator.sas), list(pair.responder.sas)
    private = pair.initiator.exchange_for(sa_i.cky_i, 0).private
    messages = [d.data for _, d in pair.log][:6]                  # main mode (quick mode follows)
    expected = phase1_reference(messages, PSK, private, GROUPS[BENCH_POLICY["group"]].prime)
    for keys in (sa_i.keys, sa_r.keys):
        assert (keys.skeyid, keys.skeyid_d, keys.skeyid_a, keys.skeyid_e, keys.enc_key, keys.initial_iv) == expected
    assert len(messages) == 6 and [m[16] for m in messages[:4]] == [1, 1, 4, 4]    # SA, SA, KE, KE first
    changed = bytearray(messages[2])
    changed[-1] ^= 1                                    # the last byte of the initiator's nonce (KE, NONCE order)
    assert phase1_reference([messages[0], messages[1], bytes(changed)] + messages[3:], PSK, private,
                            GROUPS[BENCH_POLICY["group"]].prime)[0] != expected[0]


def test_quick_mode_keymat_matches_the_reference():
    """Both sides' ESP keys (AES-128 + HMAC-SHA1: 36 bytes per SPI) are
    RFC 2409 5.5's KEYMAT from SKEYID_d, the SPI and the nonces, each
    side's outbound the other's inbound; strongSwan's child is initiated too."""
    async def body():
        pair = await _pair()
        await negotiate(pair)
        return pair
    pair = asyncio.run(body())
    (sa_i,) = list(pair.initiator.sas)
    (out_i,), (out_r,) = (side.outcomes for side in pair.ipsec)
    ni, nr = out_i.nonces
    assert out_r.nonces == (ni, nr) and len(ni) == len(nr) == 16
    (mine,), (theirs,) = out_i.pairs, out_r.pairs
    for spi, keys in ((mine.inbound_spi, mine.inbound_keys), (mine.outbound_spi, mine.outbound_keys)):
        assert keys.encryption + keys.hash == keymat_reference(hashlib.sha1, sa_i.keys.skeyid_d, 3, spi, ni, nr, 36)
    assert (mine.outbound_spi, mine.outbound_keys) == (theirs.inbound_spi, theirs.inbound_keys)
    assert mine.inbound_spi != mine.outbound_spi
    assert [d.data[18] for _, d in pair.log] == [2] * 6 + [32] * 3          # identity protection, then quick mode
    # the check the demo and the co-simulation use, and that it can fail
    assert phase2_keys_match(out_i, sa_i.keys.skeyid_d) and phase2_keys_match(out_r, sa_i.keys.skeyid_d)
    assert not phase2_keys_match(out_i, bytes(20))
    assert STRONGSWAN_CHILD == CONNECTION                                # the lab's child, ESP in tunnel mode


def test_a_quick_mode_the_responder_refuses_fails():
    async def body():
        pair = await _pair()
        pair.ipsec[1].responder_offer = lambda sa, idci, idcr: None       # no policy covers the traffic
        with pytest.raises(NegotiationFailed, match="quick mode"):
            await negotiate(pair)
        return pair
    pair = asyncio.run(body())
    assert pair.ipsec[0].outcomes == [] and pair.ipsec[1].outcomes == []
