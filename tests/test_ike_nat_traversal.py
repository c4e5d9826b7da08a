"""NAT-Traversal in phase 1 between two ISAKMP daemons (RFC 3947,
spec/isakmp-commands.md R84-R98): NAT-D hashes checked with hashlib,
detection when a hash is faked in flight (as strongSwan's ``encap=yes``
fakes its own), the float to UDP 4500 with the non-ESP marker, the NAT
flags the quick-mode layer reads, keepalives, and the drops of R89/R90.
"""
import hashlib
from dataclasses import replace

import pytest
from ike_peers import ADDRESS_I, ADDRESS_R, pair, run

from pacsim.firmware.isakmp.ike_sa import IkeSaState
from pacsim.firmware.isakmp.message import decode_message, encode_message
from pacsim.firmware.isakmp.payloads import NatDiscovery, VendorId, VendorIds
from pacsim.firmware.isakmp.transport import Datagram

NAT_T = {"nattraversal": True}


def _fake_natd(index, message_number):
    """A tap that corrupts NAT-D payload ``index`` (0: the receiver's address, 1: the sender's)
    of the clear phase-1 message carrying NAT-D number ``message_number`` (1: first seen)."""
    seen = []

    def tap(datagram):
        if datagram.dport != 500 or datagram.data[19] & 1:
            return datagram
        message = decode_message(datagram.data)
        found = [p for p in message.payloads if isinstance(p, NatDiscovery)]
        if not found:
            return datagram
        seen.append(datagram)
        if len(seen) != message_number:
            return datagram
        target = found[index]
        payloads = tuple(replace(p, data=bytes(len(p.data))) if p is target else p for p in message.payloads)
        return replace(datagram, data=encode_message(message.header, payloads))
    return tap


async def _negotiate(mode, tap=None, initiator_params=NAT_T, responder_params=NAT_T):
    network, initiator, responder = await pair({"mode": mode, **initiator_params}, {"mode": mode, **responder_params})
    network.tap = tap
    await network.deliver(await initiator.initiate("p"))
    return network, initiator, responder


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_no_nat_stays_on_500_and_natd_hashes_are_rfc3947(mode):
    network, initiator, responder = run(_negotiate(mode))
    (sa_i,), (sa_r,) = initiator.ike_sas(), responder.ike_sas()
    assert sa_i.state is sa_r.state is IkeSaState.ESTABLISHED
    assert sa_i.nat.supported and sa_r.nat.supported and not sa_i.nat.detected and not sa_r.nat.detected
    assert {(d.sport, d.dport) for _, d in network.log} == {(500, 500)}
    digest = hashlib.sha1
    natd = [(d, [p.data for p in decode_message(d.data).payloads if isinstance(p, NatDiscovery)])
            for _, d in network.log if not d.data[19] & 1]
    natd = [(d, hashes) for d, hashes in natd if hashes]
    assert len(natd) == 2 if mode == "main" else len(natd) == 1
    cookies = sa_i.cky_i + sa_i.cky_r
    for datagram, hashes in natd:
        assert hashes == [digest(cookies + datagram.dst.packed + b"\x01\xf4").digest(),
                          digest(cookies + datagram.src.packed + b"\x01\xf4").digest()]


def test_nat_t_vid_is_sent_only_with_nattraversal():
    network, initiator, responder = run(_negotiate("main", initiator_params={}, responder_params={}))
    vids = {p.data for _, d in network.log if not d.data[19] & 1 for p in decode_message(d.data).payloads
            if isinstance(p, VendorId)}
    assert vids == {VendorIds.DPD}
    assert not initiator.ike_sas()[0].nat.supported


@pytest.mark.parametrize("mode, number", [("main", 2), ("aggressive", 1)])
def test_a_faked_peer_natd_makes_both_sides_float(mode, number):
    """The responder's own-address NAT-D is faked (as a peer with encap=yes
    does): the initiator sees the peer behind a NAT, floats to 4500 from
    MM5/AM3, and the responder follows."""
    network, initiator, responder = run(_negotiate(mode, _fake_natd(1, number)))
    (sa_i,), (sa_r,) = initiator.ike_sas(), responder.ike_sas()
    assert sa_i.state is sa_r.state is IkeSaState.ESTABLISHED
    assert sa_i.nat.nat_peer and not sa_i.nat.nat_local and sa_i.nat.floated and sa_r.nat.floated
    assert (sa_i.local_port, sa_i.peer_port, sa_r.local_port, sa_r.peer_port) == (4500, 4500, 4500, 4500)
    encrypted = [d for _, d in network.log if d.dport == 4500]
    assert encrypted and all(d.data[:4] == bytes(4) and d.sport == 4500 for d in encrypted)
    assert all(d.dport == 500 for _, d in network.log if not (d.data[19] & 1 or d.data[:4] == bytes(4)))


def test_both_faked_natd_both_detect():
    """Both peers' own-address NAT-D faked (MM3 and MM4): each sees the other behind a NAT."""
    mm3, mm4 = _fake_natd(1, 1), _fake_natd(1, 2)
    network, initiator, responder = run(_negotiate("main", lambda datagram: mm4(mm3(datagram))))
    (sa_i,), (sa_r,) = initiator.ike_sas(), responder.ike_sas()
    assert sa_i.nat.nat_peer and sa_r.nat.nat_peer and sa_i.nat.floated and sa_r.nat.floated


def test_behind_a_nat_sends_keepalives_and_informational_works_on_4500():
    """Our own address hash faked: the initiator is 'behind a NAT' and sends
    a 0xFF keepalive every 20 s on 4500; DPD then runs over 4500 with the marker."""
    async def body():
        network, initiator, responder = await _negotiate("main", _fake_natd(0, 2))
        await network.run(until=65)
        sa_i = next(iter(initiator.sas))
        await network.deliver(await initiator.send_dpd(sa_i))
        return network, initiator, responder
    network, initiator, responder = run(body())
    (sa_i,) = initiator.ike_sas()
    assert sa_i.nat.nat_local and sa_i.nat.floated
    keepalives = [(t, d) for t, d in network.log if d.data == b"\xff"]
    assert [t for t, _ in keepalives] == [20, 40, 60]
    assert all((d.src.exploded, d.sport, d.dport) == (ADDRESS_I, 4500, 4500) for _, d in keepalives)
    assert responder.faults == [] and len(responder.sas) == 1
    assert [e.sequence for e in initiator.events if type(e).__name__ == "DpdAcknowledged"] == [1]
    assert network.log[-1][1].dport == 4500 and network.log[-1][1].data[:4] == bytes(4)


def test_4500_without_marker_and_old_port_are_dropped():
    async def body():
        network, initiator, responder = await _negotiate("main", _fake_natd(1, 2))
        sa_i = next(iter(initiator.sas))
        before = responder.ike_sas()
        no_marker = await responder.receive(Datagram(ADDRESS_I, ADDRESS_R, 4500, 4500, b"\x01\x02\x03\x04" * 8))
        mm5 = next(d for _, d in network.log if d.dport == 4500)
        old_port = await responder.receive(Datagram(ADDRESS_I, ADDRESS_R, 500, 500, mm5.data[4:]))
        await network.deliver(await initiator.send_dpd(sa_i))
        return responder, initiator, before, no_marker, old_port
    responder, initiator, before, no_marker, old_port = run(body())
    assert no_marker == [] and old_port == []
    assert responder.counters.get("network", "rxFailNoNonEspMarker") == 1
    assert responder.counters.get("general", "msgRxFailOldPort") == 1
    assert responder.counters.get("general", "deleteDelayPktsRxd") == 0
    assert responder.ike_sas() == before
    assert [e.sequence for e in initiator.events if type(e).__name__ == "DpdAcknowledged"] == [1]
