"""ISAKMP codec against independent references: the strongSwan demo capture
(dissected by tshark, decrypted here with ``cryptography`` and by tshark's
IKEv1 decryption), scapy's ISAKMP layer in both directions, and a mutation
fuzz (decode either returns a message or raises MalformedMessage)."""
import hashlib
import random

import pytest
from scapy.layers import isakmp as scapy_isakmp
from scapy.layers.inet import IP, UDP
from scapy.utils import wrpcap

from isakmp_capture import capture_messages, decrypted_messages, flatten, tshark_fields, CAPTURE
from pacsim.firmware.isakmp.constants import (
    HEADER_LENGTH, AuthMethod, ConfigAttribute, ConfigType, Doi, EncapsulationMode, EncryptionAlgorithm, ExchangeType,
    HashAlgorithm, HeaderFlag, IdType, NotifyType, Phase1Attribute, Phase2Attribute, ProtocolId, Situation)
from pacsim.firmware.isakmp.errors import MalformedMessage, Rejection
from pacsim.firmware.isakmp.message import (
    EncryptedMessage, Header, Message, decode_message, encode_encrypted, encode_message, padded_body)
from pacsim.firmware.isakmp.payloads import (
    Attribute, ConfigAttributes, Delete, Hash, Identification, KeyExchange, NatDiscovery, NatOriginalAddress, Nonce,
    Notification, Proposal, SecurityAssociation, Transform, VendorId, VendorIds)

COOKIE_I, COOKIE_R = bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718")


def reencode(message):
    return message.encode() if isinstance(message, EncryptedMessage) else encode_message(message.header,
                                                                                         message.payloads)


def test_every_capture_message_decodes_and_reencodes_identically():
    messages = capture_messages()
    assert len(messages) == 107
    for frame, raw, _ in messages:
        assert reencode(decode_message(raw)) == raw, frame


def test_header_fields_equal_tsharks():
    fields = ("isakmp.ispi", "isakmp.rspi", "isakmp.nextpayload", "isakmp.version", "isakmp.exchangetype",
              "isakmp.flags", "isakmp.messageid", "isakmp.length")
    rows = tshark_fields(CAPTURE, fields)
    assert len(rows) == len(capture_messages())
    for frame, raw, _ in capture_messages():
        header = decode_message(raw).header
        ispi, rspi, next_payload, version, exchange, flags, message_id, length = rows[frame]
        assert bytes.fromhex(ispi.replace(":", "")) == header.initiator_cookie
        assert bytes.fromhex(rspi.replace(":", "")) == header.responder_cookie
        assert int(next_payload.split(",")[0]) == header.next_payload
        assert (int(version, 16), int(exchange), int(flags, 16)) == (header.version, header.exchange, header.flags)
        assert (int(message_id, 16), int(length)) == (header.message_id, header.length)


def test_clear_payload_lists_and_values_equal_tsharks():
    rows = tshark_fields(CAPTURE, ("isakmp.typepayload", "isakmp.nonce", "isakmp.key_exchange.data",
                                   "isakmp.vid_bytes", "isakmp.ike.nat_hash"))
    clear = 0
    for frame, raw, _ in capture_messages():
        message = decode_message(raw)
        if isinstance(message, EncryptedMessage):
            assert rows[frame][0] == ""
            continue
        clear += 1
        types, nonces, kes, vids, natds = (column.split(",") if column else [] for column in rows[frame])
        assert flatten(message.payloads) == [int(t) for t in types], frame
        assert [p.data.hex() for p in message.find(Nonce)] == nonces
        assert [p.data.hex() for p in message.find(KeyExchange)] == kes
        assert [p.data.hex() for p in message.find(VendorId)] == vids
        assert [p.data.hex() for p in message.find(NatDiscovery)] == natds
    assert clear == 47


def identity_types_and_spis(payloads):
    """ID/NAT-OA identification types and proposal/notify SPIs, in dissection order."""
    id_types, spis = [], []
    for payload in payloads:
        if isinstance(payload, (Identification, NatOriginalAddress)):
            id_types.append(str(payload.id_type))
        for spi_holder in getattr(payload, "proposals", ()) + ((payload,) if isinstance(payload, Notification) else ()):
            spis += [spi_holder.spi.hex()] if spi_holder.spi else []
    return id_types, spis


def test_encrypted_messages_decrypt_and_decode_like_tshark():
    rows = tshark_fields(CAPTURE, ("isakmp.typepayload", "isakmp.hash", "isakmp.nonce", "isakmp.id.type",
                                   "isakmp.spi", "isakmp.notify.msgtype", "isakmp.delete.spi",
                                   "isakmp.ike.nat_original_address_ipv4"),
                         decrypt=True, display_filter="isakmp.flags == 1")
    decrypted = decrypted_messages()
    assert len(decrypted) == len(rows) == 60
    for frame, message, plaintext, block in decrypted:
        opened = message.open(plaintext, block)
        types, hashes, nonces, id_types, spis, notifies, deleted, nat_oa = (
            column.split(",") if column else [] for column in rows[frame])
        assert flatten(opened.payloads) == [int(t) for t in types], frame
        assert [p.data.hex() for p in opened.find(Hash)] == hashes
        assert [p.data.hex() for p in opened.find(Nonce)] == nonces
        assert identity_types_and_spis(opened.payloads) == (id_types, spis)
        assert [str(p.notify_type) for p in opened.find(Notification)] == notifies
        assert [spi.hex() for p in opened.find(Delete) for spi in p.spis] == deleted
        assert [".".join(map(str, p.address)) for p in opened.find(NatOriginalAddress)] == nat_oa
        assert not any(opened.padding) and len(opened.padding) <= 2 * block
        assert opened.payloads[0] == opened.first(Hash) or message.header.exchange == ExchangeType.MAIN
        assert encode_encrypted(message.header, opened.payloads, message.ciphertext) == message.encode()
        chain = plaintext[:len(plaintext) - len(opened.padding)]
        assert padded_body(opened.payloads, block).startswith(chain)


def test_quick_mode_sa_ids_and_nat_oa_parse():
    quick = [message.open(plaintext, block) for _, message, plaintext, block in decrypted_messages()
             if message.header.exchange == ExchangeType.QUICK]
    quick = [opened for opened in quick if opened.first(SecurityAssociation)]
    assert len(quick) == 18
    for opened in quick:
        sa = opened.first(SecurityAssociation)
        assert (sa.doi, sa.situation) == (Doi.IPSEC, Situation.IDENTITY_ONLY)
        proposal = sa.proposals[0]
        assert proposal.protocol in (ProtocolId.IPSEC_ESP, ProtocolId.IPSEC_AH) and len(proposal.spi) == 4
        modes = {a.number for t in proposal.transforms for a in t.attributes
                 if a.type == Phase2Attribute.ENCAPSULATION_MODE}
        assert modes and modes <= {EncapsulationMode.TUNNEL, EncapsulationMode.UDP_ENCAPSULATED_TUNNEL,
                                   EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT}
        ids = opened.find(Identification)
        assert [i.id_type in (IdType.ID_IPV4_ADDR, IdType.ID_IPV4_ADDR_SUBNET) for i in ids] == [True, True]
        assert 8 <= len(opened.first(Nonce).data) <= 256
        for nat_oa in opened.find(NatOriginalAddress):
            assert nat_oa.id_type == IdType.ID_IPV4_ADDR and len(nat_oa.address) == 4
    assert sum(len(o.find(NatOriginalAddress)) for o in quick) == 4


def test_vendor_id_constants_are_the_md5_of_their_names_and_seen_in_the_capture():
    md5 = lambda text: hashlib.md5(text).digest()  # noqa: E731
    assert VendorIds.NAT_T_RFC3947 == md5(b"RFC 3947")
    assert VendorIds.NAT_T_DRAFT_02 == md5(b"draft-ietf-ipsec-nat-t-ike-02")
    assert VendorIds.NAT_T_DRAFT_02_N == md5(b"draft-ietf-ipsec-nat-t-ike-02\n")
    assert VendorIds.NAT_T_DRAFT_03 == md5(b"draft-ietf-ipsec-nat-t-ike-03")
    assert VendorIds.CISCO_UNITY == md5(b"CISCO-UNITY")[:14] + bytes((1, 0))
    assert VendorIds.CISCO_FRAGMENTATION == md5(b"FRAGMENTATION") + bytes.fromhex("80000000")
    seen = {v.data for _, raw, _ in capture_messages() for v in getattr(decode_message(raw), "payloads", ())
            if isinstance(v, VendorId)}
    assert seen == {VendorIds.NAT_T_RFC3947, VendorIds.NAT_T_DRAFT_02_N, VendorIds.DPD, VendorIds.XAUTH,
                    VendorIds.CISCO_FRAGMENTATION}


def test_scapy_built_message_decodes():
    transform = scapy_isakmp.ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
        ("Encryption", "AES-CBC"), ("Hash", "SHA"), ("Authentication", "PSK"), ("GroupDesc", "1024MODPgr"),
        ("LifeType", "Seconds"), ("LifeDuration", 28800)])
    packet = (scapy_isakmp.ISAKMP(init_cookie=COOKIE_I, resp_cookie=COOKIE_R, exch_type=ExchangeType.MAIN)
              / scapy_isakmp.ISAKMP_payload_SA(prop=scapy_isakmp.ISAKMP_payload_Proposal(trans_nb=1, trans=transform))
              / scapy_isakmp.ISAKMP_payload_VendorID(VendorID=VendorIds.DPD))
    message = decode_message(bytes(packet))
    assert message.header.exchange == ExchangeType.MAIN and message.header.responder_cookie == COOKIE_R
    sa, vid = message.payloads
    assert vid == VendorId(VendorIds.DPD)
    (transform,) = sa.proposals[0].transforms
    assert transform.value(Phase1Attribute.LIFE_DURATION) == 28800 and transform.value(99, "none") == "none"
    values = {a.type: a.number for a in transform.attributes}
    assert values == {Phase1Attribute.ENCRYPTION_ALGORITHM: EncryptionAlgorithm.AES_CBC,
                      Phase1Attribute.HASH_ALGORITHM: HashAlgorithm.SHA,
                      Phase1Attribute.AUTHENTICATION_METHOD: AuthMethod.PRE_SHARED_KEY,
                      Phase1Attribute.GROUP_DESCRIPTION: 2, Phase1Attribute.LIFE_TYPE: 1,
                      Phase1Attribute.LIFE_DURATION: 28800}
    assert encode_message(message.header, message.payloads) == bytes(packet)


def our_main_mode_message():
    transform = Transform(1, 1, (Attribute.of(Phase1Attribute.ENCRYPTION_ALGORITHM, EncryptionAlgorithm.DES3_CBC),
                                 Attribute.of(Phase1Attribute.LIFE_DURATION, 86400)))
    sa = SecurityAssociation(Doi.IPSEC, Situation.IDENTITY_ONLY, (Proposal(1, ProtocolId.ISAKMP, b"", (transform,)),))
    payloads = (sa, KeyExchange(bytes(range(128))), Nonce(b"n" * 20), Identification(IdType.ID_FQDN, 17, 500, b"pac"),
                VendorId(VendorIds.NAT_T_RFC3947), NatDiscovery(b"d" * 20, draft=True),
                Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.INITIAL_CONTACT, COOKIE_I + COOKIE_R),
                Delete(Doi.IPSEC, ProtocolId.IPSEC_ESP, (b"\x01\x02\x03\x04", b"\x05\x06\x07\x08")))
    return encode_message(Header(COOKIE_I, COOKIE_R, ExchangeType.AGGRESSIVE), payloads), payloads


def test_our_encoding_dissects_in_scapy():
    raw, payloads = our_main_mode_message()
    packet = scapy_isakmp.ISAKMP(raw)
    assert (packet.init_cookie, packet.resp_cookie, packet.exch_type) == (COOKIE_I, COOKIE_R, 4)
    assert packet.length == len(raw)
    sa = packet[scapy_isakmp.ISAKMP_payload_SA]
    assert dict(sa.prop.trans.transforms) == {"Encryption": "3DES-CBC", "LifeDuration": 86400}
    assert packet[scapy_isakmp.ISAKMP_payload_KE].ke == bytes(range(128))
    assert packet[scapy_isakmp.ISAKMP_payload_Nonce].nonce == b"n" * 20
    identification = packet[scapy_isakmp.ISAKMP_payload_ID]
    assert (identification.IDtype, identification.ProtoID, identification.Port) == (IdType.ID_FQDN, 17, 500)
    assert packet[scapy_isakmp.ISAKMP_payload_VendorID].VendorID == VendorIds.NAT_T_RFC3947


def test_our_encoding_dissects_in_tshark(tmp_path):
    raw, payloads = our_main_mode_message()
    pcap = tmp_path / "ours.pcap"
    wrpcap(str(pcap), [IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) / raw])
    (row,) = tshark_fields(pcap, ("isakmp.typepayload", "isakmp.length", "isakmp.exchangetype", "isakmp.nonce",
                                  "isakmp.id.data.fqdn", "isakmp.notify.msgtype", "isakmp.spinum", "isakmp.delete.spi",
                                  "_ws.expert.severity")).values()
    types, length, exchange, nonce, id_name, notify, spi_count, spis, expert = row
    assert [int(t) for t in types.split(",")] == flatten(payloads) == [1, 2, 3, 4, 10, 5, 13, 130, 11, 12]
    assert (int(length), int(exchange), nonce) == (len(raw), 4, (b"n" * 20).hex())
    assert (id_name, int(notify), int(spi_count)) == ("pac", NotifyType.INITIAL_CONTACT, 2)
    assert spis.split(",") == ["01020304", "05060708"]
    assert expert == ""


def test_mode_cfg_attribute_payload_dissects_in_tshark(tmp_path):
    request = ConfigAttributes(ConfigType.ISAKMP_CFG_REQUEST, 0x1234, (
        Attribute.of(ConfigAttribute.XAUTH_TYPE, 0), Attribute(ConfigAttribute.XAUTH_USER_NAME, b"", False),
        Attribute(ConfigAttribute.XAUTH_USER_PASSWORD, b"", False)))
    raw = encode_message(Header(COOKIE_I, COOKIE_R, ExchangeType.TRANSACTION, message_id=77),
                         (Hash(b"h" * 20), request))
    assert decode_message(raw).payloads[1] == request
    pcap = tmp_path / "cfg.pcap"
    wrpcap(str(pcap), [IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=500, dport=500) / raw])
    (row,) = tshark_fields(pcap, ("isakmp.cfg.type", "isakmp.cfg.identifier", "isakmp.cfg.attr.type",
                                  "isakmp.cfg.attr.format", "_ws.expert.severity")).values()
    assert row[:2] == ["1", "0x1234"] or row[:2] == ["1", "4660"]
    assert [int(t) for t in row[2].split(",")] == [16520, 16521, 16522]
    assert row[3].split(",") == ["1", "0", "0"] and row[4] == ""


def test_encrypted_round_trip_through_padding():
    payloads = (Hash(b"h" * 20), Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.R_U_THERE, COOKIE_I + COOKIE_R,
                                              (7).to_bytes(4, "big")))
    body = padded_body(payloads, 16)
    assert len(body) % 16 == 0
    raw = encode_encrypted(Header(COOKIE_I, COOKIE_R, ExchangeType.INFORMATIONAL, message_id=9), payloads, body)
    received = decode_message(raw)
    assert isinstance(received, EncryptedMessage) and received.header.flags == HeaderFlag.ENCRYPTION
    assert received.open(body, 16).payloads == payloads


@pytest.mark.parametrize("mutate, reason", [
    (lambda b: b[:20], Rejection.SHORT_DATAGRAM),
    (lambda b: b[:17] + b"\x20" + b[18:], Rejection.INVALID_MAJOR_VERSION),
    (lambda b: b[:17] + b"\x11" + b[18:], Rejection.INVALID_MINOR_VERSION),
    (lambda b: b[:18] + b"\x63" + b[19:], Rejection.INVALID_EXCHANGE_TYPE),
    (lambda b: b[:19] + b"\x08" + b[20:], Rejection.INVALID_FLAGS),
    (lambda b: b + b"\0", Rejection.LENGTH_MISMATCH),
    (lambda b: bytes(8) + b[8:], Rejection.INVALID_COOKIE),
    (lambda b: b[:16] + b"\x63" + b[17:], Rejection.INVALID_PAYLOAD_TYPE),
    (lambda b: b[:29] + b"\x01" + b[30:], Rejection.RESERVED_NOT_ZERO),
    (lambda b: b[:30] + b"\xff\xff" + b[32:], Rejection.PAYLOAD_LENGTH),
])
def test_malformed_headers_and_payloads_are_typed(mutate, reason):
    raw, _ = our_main_mode_message()
    with pytest.raises(MalformedMessage) as caught:
        decode_message(mutate(raw))
    assert caught.value.reason == reason


def test_transform_count_disagreeing_with_transforms_is_malformed():
    raw, _ = our_main_mode_message()
    # SA at 28: generic 4 + DOI 4 + situation 4; proposal generic 4 + number, protocol, spi size, count
    assert raw[28 + 12 + 7] == 1
    with pytest.raises(MalformedMessage) as caught:
        decode_message(raw[:47] + b"\x02" + raw[48:])
    assert (caught.value.reason, caught.value.offset) == (Rejection.PAYLOAD_MALFORMED, 44)
    assert caught.value.notify == NotifyType.PAYLOAD_MALFORMED


def test_fuzzed_capture_messages_decode_or_raise_malformed_only():
    rng = random.Random(2408)
    corpus = [raw for _, raw, _ in capture_messages()]
    corpus += [encode_message(m.header, m.payloads) for _, message, plaintext, block in decrypted_messages()
               for m in [message.open(plaintext, block)]]
    outcomes = {"decoded": 0, "rejected": 0}
    for _ in range(20000):
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 4)):
            action = rng.randrange(4)
            if action == 0 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif action == 1:
                del data[rng.randrange(len(data) + 1):]
            elif action == 2:
                data[rng.randrange(len(data) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            elif data:
                at = rng.randrange(len(data))
                data[at] ^= 1 << rng.randrange(8)
        if rng.random() < 0.5 and len(data) >= 28:      # keep the length field consistent half the time
            data[24:28] = len(data).to_bytes(4, "big")
        try:
            message = decode_message(bytes(data))
        except MalformedMessage as error:
            assert 0 <= error.offset <= len(data)
            outcomes["rejected"] += 1
            continue
        assert isinstance(message, (Message, EncryptedMessage))
        assert reencode(message) == bytes(data)
        outcomes["decoded"] += 1
    assert outcomes["decoded"] > 500 and outcomes["rejected"] > 5000


def test_fuzzed_decrypted_bodies_open_or_raise_malformed_only():
    rng = random.Random(2409)
    corpus = decrypted_messages()
    outcomes = {"opened": 0, "rejected": 0}
    for _ in range(5000):
        _, message, plaintext, block = rng.choice(corpus)
        body = bytearray(plaintext)
        for _ in range(rng.randint(1, 3)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        if rng.random() < 0.2:
            del body[rng.randrange(len(body) + 1):]
        try:
            opened = message.open(bytes(body), block)
        except MalformedMessage as error:
            assert HEADER_LENGTH <= error.offset <= HEADER_LENGTH + len(body)
            outcomes["rejected"] += 1
            continue
        assert bytes(body).startswith(padded_body(opened.payloads, block)[:len(body) - len(opened.padding)])
        outcomes["opened"] += 1
    assert outcomes["opened"] > 100 and outcomes["rejected"] > 1000
