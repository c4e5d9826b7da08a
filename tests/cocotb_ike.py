"""cocotb module: two routers' ISAKMP daemons, each on its own RTL card of
a two-card bench (``BenchConfig(cards=2)``), negotiate with the card doing
the cryptography: Diffie-Hellman on the public-key units, the prf as HMAC
HASH jobs and the ISAKMP encryption on cipher channels.

The negotiation is :func:`pacsim.sim.bench_ike.negotiate` (the bench's
steps: main mode today, quick mode once its step joins ``STEPS``); each
function of :data:`CHECKS` then judges it against an independent
reference (``checks(pair)``; quick mode and traffic add theirs here).
Each card's algorithm counters must show its HASH (SHA-1 unit) and cipher
(AES unit) jobs, each driver two public-key operations per main mode,
every channel is closed afterwards and the protocol checker is clean.
"""
import cocotb

from pacsim.contract.codes import AlgUnit
from pacsim.reference.modp import GROUPS
from pacsim.sim.bench_ike import BENCH_POLICY, PSK, ike_pair_on, negotiate
from pacsim.sim.ike_reference import phase1_reference
from pacsim.sim.rtl_bus import RtlBus


def phase1_keys_match_reference(pair) -> None:
    """SKEYID, SKEYID_d/a/e, Ka and the IV of both SAs against RFC 2409
    (:mod:`pacsim.sim.ike_reference`: ``hmac``/``hashlib`` from the nonces
    and KE payloads on the wire and the initiator's DH exponent)."""
    (sa_i,), (sa_r,) = list(pair.initiator.sas), list(pair.responder.sas)
    private = pair.initiator.exchange_for(sa_i.cky_i, 0).private
    expected = phase1_reference([d.data for _, d in pair.log], PSK, private, GROUPS[BENCH_POLICY["group"]].prime)
    for sa in (sa_i, sa_r):
        keys = sa.keys
        got = (keys.skeyid, keys.skeyid_d, keys.skeyid_a, keys.skeyid_e, keys.enc_key, keys.initial_iv)
        assert got == expected, f"{sa.role}: keys differ from the RFC 2409 reference"


#: The checks of one negotiation, in order (``check(pair)``, raising on a mismatch).
CHECKS = (phase1_keys_match_reference,)


async def _jobs(device) -> dict:
    """Good jobs per algorithm unit (encode + decode) of a card."""
    counters = await device.alg_counters()
    return {unit: counters[unit]["encode_good"] + counters[unit]["decode_good"] for unit in (AlgUnit.SHA, AlgUnit.AES)}


@cocotb.test()
async def negotiation_on_two_rtl_cards(dut):
    bus = await RtlBus.start(dut)
    pair = await ike_pair_on(bus)
    first, second = pair.devices
    assert first.device != second.device and first.bar0 != second.bar0
    channels = [dict(d.channels) for d in pair.devices]
    before = [await _jobs(d) for d in pair.devices]
    await negotiate(pair)
    for check in CHECKS:
        check(pair)
    for device, jobs in zip(pair.devices, before):
        after = await _jobs(device)
        assert after[AlgUnit.SHA] > jobs[AlgUnit.SHA], f"card {device.device}: no HASH job on the SHA-1 unit"
        assert after[AlgUnit.AES] > jobs[AlgUnit.AES], f"card {device.device}: no AES job on a cipher channel"
        assert device.pk_operations == 2 and device.pk_clocks > 0, f"card {device.device}: DH not on its PK unit"
    await pair.clear()
    assert [dict(d.channels) for d in pair.devices] == channels
    await bus.finish()
