"""Our ISAKMP daemon against strongSwan 5.9.8's messages and the tools:

* our responder answers charon's MM1 and AM1 from the interop capture
  with a well-formed MM2/AM2 (dissected by scapy, walked by the capture
  helper's own parser) that chooses the transform the policy names, as
  charon sent it; AM2's HASH_R and NAT-D are checked with hmac/hashlib;
* complete main and aggressive modes and a DPD exchange between two of
  our daemons, written to a pcap, are dissected by tshark (decrypting with
  a decryption table of our keys) and scapy without a malformed field.
"""
import hashlib
import hmac

import pytest
from ike_peers import ADDRESS_I, ADDRESS_R, pair, run
from isakmp_capture import (AGGRESSIVE, HASH, ID, KE, MAIN, NONCE, PSK, SA, capture_messages, payload, payloads,
                            tshark_fields)
from scapy.layers.inet import IP, UDP
from scapy.layers.isakmp import ISAKMP, ISAKMP_payload_Proposal, ISAKMP_payload_Transform
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from pacsim.firmware.isakmp.payloads import VendorIds
from pacsim.firmware.isakmp.transport import Datagram

HEADER = 28
VID, NAT_D = 13, 20
# In the capture charon is 192.0.2.1 (initiator) and 192.0.2.2 (responder): we answer as 192.0.2.2.
CHARON, US = "192.0.2.1", "192.0.2.2"


def _charon_first(exchange):
    """charon's first message of ``exchange`` (the ones carrying the RFC 3947 VID; ike-scan's do not)."""
    for _, raw, _ in capture_messages():
        if raw[18] == exchange and not any(raw[8:16]) and any(
                kind == VID and body == VendorIds.NAT_T_RFC3947 for kind, body, _ in payloads(raw[16], raw[HEADER:])):
            return raw
    raise AssertionError("no charon message of that exchange in the capture")


def _transforms(sa_body):
    """The transform payloads (whole) of an SA body with one proposal."""
    proposal = sa_body[8:]
    spi_size = proposal[6]
    return [whole for _, _, whole in payloads(3, proposal[8 + spi_size:])]


async def _answer(exchange, **params):
    network, _, responder = await pair(responder_params={"nattraversal": True, **params})
    # the pair's responder sits at ADDRESS_R = 192.0.2.2 with a policy for ADDRESS_I = 192.0.2.1, as in the capture
    request = _charon_first(exchange)
    replies = await responder.receive(Datagram(CHARON, US, 500, 500, request))
    return request, replies, responder


@pytest.mark.parametrize("encalg, hashalg, group, number", [("aes128", "sha", 2, 1), ("3desinner", "sha", 2, 2),
                                                            ("des", "md5", 1, 3)])
def test_responder_answers_charons_mm1(encalg, hashalg, group, number):
    request, replies, responder = run(_answer(MAIN, encalg=encalg, hashalg=hashalg, group=group))
    assert (ADDRESS_I, ADDRESS_R) == (CHARON, US)
    (reply,) = replies
    assert (reply.dst.exploded, reply.dport, reply.sport) == (CHARON, 500, 500)
    packet = ISAKMP(reply.data)
    assert packet.init_cookie == request[:8] and any(packet.resp_cookie)
    assert (packet.exch_type, packet.next_payload, packet.length) == (MAIN, SA, len(reply.data))
    assert packet[ISAKMP_payload_Proposal].trans_nb == 1 and packet[ISAKMP_payload_Transform].transform_count == number
    offered = _transforms(payload(request[16], request[HEADER:], SA))
    chosen = _transforms(payload(reply.data[16], reply.data[HEADER:], SA))
    assert len(offered) == 3 and len(chosen) == 1
    assert chosen[0][1:] == offered[number - 1][1:] and chosen[0][0] == 0        # as charon sent it
    vids = {body for kind, body, _ in payloads(reply.data[16], reply.data[HEADER:]) if kind == VID}
    assert vids == {VendorIds.NAT_T_RFC3947, VendorIds.DPD}
    assert responder.faults == [] and responder.counters.get("main", "respSendSA") == 1


def test_responder_refuses_charons_mm1_without_a_matching_transform():
    request, replies, responder = run(_answer(MAIN, encalg="aes256", sendnotify=True))
    (notify,) = replies
    assert notify.data[18] == 5 and int.from_bytes(notify.data[HEADER + 10:HEADER + 12], "big") == 14
    assert len(responder.sas) == 0 and responder.counters.get("main", "noTransformChosen") == 1


def test_responder_answers_charons_am1():
    request, replies, responder = run(_answer(AGGRESSIVE, mode="aggressive", encalg="3desinner", group=2))
    (reply,) = replies
    packet = ISAKMP(reply.data)
    assert packet.init_cookie == request[:8] and packet.exch_type == AGGRESSIVE
    chain = payloads(reply.data[16], reply.data[HEADER:])
    assert [kind for kind, _, _ in chain] == [SA, KE, NONCE, ID, HASH, NAT_D, NAT_D, VID, VID]
    body = {kind: data for kind, data, _ in reversed(chain)}
    assert len(body[KE]) == 128                                                  # MODP 1024
    cky_i, cky_r = reply.data[:8], reply.data[8:16]
    ni, gxi = payload(request[16], request[HEADER:], NONCE), payload(request[16], request[HEADER:], KE)
    sai_b = payload(request[16], request[HEADER:], SA)
    skeyid = hmac.new(PSK, ni + body[NONCE], hashlib.sha1).digest()
    hash_r = hmac.new(skeyid, body[KE] + gxi + cky_r + cky_i + sai_b + body[ID], hashlib.sha1).digest()
    assert body[HASH] == hash_r
    assert body[ID] == b"\x01\x00\x00\x00" + bytes(map(int, US.split(".")))
    natd = [data for kind, data, _ in chain if kind == NAT_D]
    address = {name: bytes(map(int, name.split("."))) + (500).to_bytes(2, "big") for name in (CHARON, US)}
    assert natd == [hashlib.sha1(cky_i + cky_r + address[CHARON]).digest(),
                    hashlib.sha1(cky_i + cky_r + address[US]).digest()]
    (sa,) = responder.ike_sas()
    assert sa.nat.supported and sa.peer_dpd and sa.transform.life_seconds == 15840


async def _conversation(tmp_path):
    """MM (NAT-T on) and AM between two daemons, then a DPD; the pcap and a decryption table."""
    datagrams, tables = [], []
    for mode in ("main", "aggressive"):
        params = {"mode": mode, "nattraversal": True, "encalg": "aes128"}
        network, initiator, responder = await pair(params, params)
        await network.deliver(await initiator.initiate("p"))
        await network.deliver(await initiator.send_dpd(next(iter(initiator.sas))))
        datagrams += [d for _, d in network.log]
        (sa,) = list(initiator.sas)
        tables.append(f"{sa.cky_i.hex()},{sa.keys.enc_key.hex()}")
    pcap = tmp_path / "ike.pcap"
    wrpcap(str(pcap), [Ether() / IP(src=d.src.exploded, dst=d.dst.exploded) / UDP(sport=d.sport, dport=d.dport)
                       / Raw(d.data) for d in datagrams])
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "ikev1_decryption_table").write_text("\n".join(tables) + "\n")
    return pcap, profile, datagrams


def test_our_messages_dissect_in_tshark_and_scapy(tmp_path):
    pcap, profile, datagrams = run(_conversation(tmp_path))
    rows = tshark_fields(pcap, ("isakmp.exchangetype", "isakmp.typepayload", "isakmp.id.type", "_ws.malformed",
                                "_ws.expert.severity"), decrypt=True, display_filter="", profile=profile)
    assert len(rows) == len(datagrams) == 6 + 2 + 3 + 2
    exchanges = [int(rows[frame][0]) for frame in sorted(rows)]
    assert exchanges == [2] * 6 + [5, 5] + [4] * 3 + [5, 5]
    for frame in sorted(rows):
        exchange, types, id_types, malformed, severity = rows[frame]
        assert malformed == "" and "error" not in severity.lower(), frame
        assert types, frame
    decrypted_auth = [rows[f] for f in sorted(rows) if rows[f][0] == "2"][4:]
    assert [r[2] for r in decrypted_auth] == ["1", "1"]                      # IDii and IDir: ID_IPV4_ADDR
    assert all("5" in r[1].split(",") and "8" in r[1].split(",") for r in decrypted_auth)
    for datagram in datagrams:
        packet = ISAKMP(datagram.data)
        assert packet.length == len(datagram.data) and packet.exch_type in (MAIN, AGGRESSIVE, 5)
