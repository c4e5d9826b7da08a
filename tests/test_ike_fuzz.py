"""Mutated ISAKMP messages (seeded, a few thousand) into the responder and
the initiator in every state of main and aggressive mode, and into an
established pair: nothing raises (``faults`` stays empty), every datagram
is counted by something more specific than ``rx``, no SA is made from a
mutation, and afterwards the negotiation completes and an informational
exchange (DPD) still passes.
"""
import random
from dataclasses import replace

import pytest
from ike_peers import pair, run

from pacsim.firmware.isakmp.ike_sa import DpdAcknowledged, IkeSaState

SEED = 20261207
PER_STATE = 200
ESTABLISHED_ROUNDS = 1000
_GENERIC = {("network", "rx"), ("general", "msgRxd"), ("general", "msgRxPlain"), ("general", "msgRxEncrypted")}


def mutate(rng, data):
    """One seeded mutation of ``data`` (never ``data`` itself): a bit flip,
    a byte set, a cut, an extension, a header octet changed, a 16-bit field
    zeroed or saturated, a slice repeated, or random bytes."""
    while True:
        mutated = _mutation(rng, data)
        if mutated != data:
            return mutated


def _mutation(rng, data):
    data = bytearray(data)
    kind = rng.randrange(8)
    if kind == 0:
        at = rng.randrange(len(data))
        data[at] ^= 1 << rng.randrange(8)
    elif kind == 1:
        data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 2:
        del data[rng.randrange(len(data)):]
    elif kind == 3:
        data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    elif kind == 4:
        data[rng.choice((16, 17, 18, 19, 24, 25, 26, 27))] = rng.randrange(256)
    elif kind == 5 and len(data) > 30:
        at = rng.randrange(28, len(data) - 1)
        data[at:at + 2] = rng.choice((b"\0\0", b"\xff\xff", b"\0\x04"))
    elif kind == 6:
        at = rng.randrange(len(data))
        data[at:at] = data[at:at + rng.randrange(1, 16)]
    else:
        data = bytearray(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
    return bytes(data)


_FLAGS = 19


def _unauthenticated_only(mutated, data, block=16):
    """True when only the flags octet and/or the last cipher block changed:
    neither is covered by HASH_I/HASH_R (the last block decrypts to
    padding, RFC 2409 5.3), so such a copy of a message the receiver awaits
    is that message."""
    return len(mutated) == len(data) and all(
        a == b for at, (a, b) in enumerate(zip(mutated[:-block], data[:-block])) if at != _FLAGS)


def _signature(daemon):
    return tuple((s.cky_i, s.state) for s in daemon.ike_sas())


async def _fuzz(rng, daemon, datagram, count, awaited=False):
    """Feed ``count`` mutations of ``datagram`` to ``daemon``; returns
    ``(problems, taken)``. ``awaited``: the daemon has not had the real
    message yet; a mutation it accepts (one that changed only payloads
    HASH_I/HASH_R do not cover, such as INITIAL-CONTACT's SPI: CBC is
    malleable) then stands for the real message and ``taken`` is its
    reply (None when none was accepted)."""
    problems = []
    for _ in range(count):
        mutated = mutate(rng, datagram.data)
        if awaited and _unauthenticated_only(mutated, datagram.data):
            continue
        before, state = daemon.counters.nonzero(), _signature(daemon)
        replies = await daemon.receive(replace(datagram, data=mutated))
        after = daemon.counters.nonzero()
        moved = {key for key in after if after[key] != before.get(key, 0)} - _GENERIC
        if not moved:
            problems.append(("uncounted", datagram.data[:28].hex()))
        if awaited and (replies or _signature(daemon) != state):
            return problems, replies
    if daemon.faults:
        problems.append(("faults", daemon.faults[:3]))
    return problems, None


def _reverse(datagram):
    """The same bytes as if sent the other way (to the other peer, from the receiver)."""
    return replace(datagram, src=datagram.dst, dst=datagram.src, sport=datagram.dport, dport=datagram.sport)


async def _every_state(mode, seed):
    """Negotiate step by step. Each real message, once delivered, is fed
    mutated to its receiver (in its next state); an encrypted one also
    before delivery (its receiver awaiting it), except copies that differ
    only in the flags or the last block (they would be the message itself,
    and a changed last block would move the receiver's IV chain apart). A mutated clear message before delivery could
    be a valid forgery (phase 1 is unauthenticated until HASH_I/HASH_R) and
    is left out."""
    rng = random.Random(seed)
    network, initiator, responder = await pair({"mode": mode}, {"mode": mode})
    problems, steps = [], 0
    in_flight = [(responder, d) for d in await initiator.initiate("p")]
    while in_flight:
        receiver, datagram = in_flight.pop(0)
        other = initiator if receiver is responder else responder
        taken = None
        if datagram.data[19] & 1:
            found, taken = await _fuzz(rng, receiver, datagram, PER_STATE, awaited=True)
            problems += found
        replies = await receiver.receive(datagram)
        in_flight += [(other, d) for d in (replies if taken is None else taken)]
        problems += (await _fuzz(rng, receiver, datagram, PER_STATE))[0]
        steps += 1
    return network, initiator, responder, problems, steps


async def _dpd_passes(network, initiator):
    sa = next(s for s in initiator.sas if s.state is IkeSaState.ESTABLISHED)
    acknowledged = len([e for e in initiator.events if isinstance(e, DpdAcknowledged)])
    await network.deliver(await initiator.send_dpd(sa))
    return len([e for e in initiator.events if isinstance(e, DpdAcknowledged)]) == acknowledged + 1


@pytest.mark.parametrize("mode, messages", [("main", 6), ("aggressive", 3)])
def test_mutations_in_every_state(mode, messages):
    async def body():
        network, initiator, responder, problems, steps = await _every_state(mode, SEED)
        return initiator, responder, problems, steps, await _dpd_passes(network, initiator)
    initiator, responder, problems, steps, dpd = run(body())
    assert problems == []
    assert steps == messages
    established = [[s for s in d.ike_sas() if s.state is IkeSaState.ESTABLISHED] for d in (initiator, responder)]
    assert [len(e) for e in established] == [1, 1]
    assert established[0][0].cky_i == established[1][0].cky_i
    assert dpd


def test_mutations_into_an_established_pair():
    """Every message of a negotiation and a DPD exchange, mutated, into both
    peers after the SA is up: the SA stays, and DPD still passes."""
    async def body():
        rng = random.Random(SEED + 1)
        params = {"nattraversal": True, "sendnotify": True, "senddeletes": True}
        network, initiator, responder = await pair(params, params)
        await network.deliver(await initiator.initiate("p"))
        await network.deliver(await initiator.send_dpd(next(iter(initiator.sas))))
        recorded = [d for _, d in network.log]
        before = (initiator.ike_sas(), responder.ike_sas())
        problems = []
        for _ in range(ESTABLISHED_ROUNDS // len(recorded)):
            for datagram in recorded:
                target = network.daemons[datagram.dst]
                problems += (await _fuzz(rng, target, datagram, 1))[0]
                problems += (await _fuzz(rng, network.daemons[datagram.src], _reverse(datagram), 1))[0]
        kept = [(s.cky_i, s.state) for s in before[0]] == [(s.cky_i, s.state) for s in initiator.ike_sas()
                                                          if s.cky_i == before[0][0].cky_i]
        return problems, kept, await _dpd_passes(network, initiator), initiator, responder
    problems, kept, dpd, initiator, responder = run(body())
    assert problems == []
    assert kept and dpd
    assert initiator.faults == responder.faults == []
