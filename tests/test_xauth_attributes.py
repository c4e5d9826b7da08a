"""What real XAUTH clients send: the server (a daemon with
:class:`~pacsim.firmware.isakmp.xauth.XauthService` waiting for the client's
REPLY, built by the fuzz campaign's ``xauth/server/awaiting-reply`` target)
takes XAUTH-TYPE as TV or as TLV of 2 or 4 octets and a name and password
with a trailing NUL; a non-generic XAUTH-TYPE and a wrong password fail,
counted. Each REPLY is sealed and hashed with the SA's keys, as the client
would send it."""
import asyncio

import pytest

from pacsim.firmware.isakmp.constants import ConfigAttribute as A, ConfigType, ExchangeType
from pacsim.firmware.isakmp.keymat import informational_hash
from pacsim.firmware.isakmp.message import decode_message
from pacsim.firmware.isakmp.payloads import Attribute, ConfigAttributes, Hash, encode_chain
from pacsim.firmware.isakmp.transport import frame
from pacsim.sim.fuzz_isakmp import TARGETS, LiveTarget, feed, forger

SEED = 1414


async def _reply(attributes):
    """The server's outcome for a REPLY carrying ``attributes``: (authGood, authFailed, SET sent)."""
    entry = await LiveTarget.build(next(t for t in TARGETS if t.name == "xauth/server/awaiting-reply"), SEED)
    server, template = entry.pairs[0]
    header = decode_message(template.datagram.data).header
    request = template.payloads[1]
    sa = server.sas.get(header.initiator_cookie)
    payload = ConfigAttributes(ConfigType.ISAKMP_CFG_REPLY, request.identifier, tuple(attributes))
    digest = await informational_hash(sa.crypto, sa.keys, header.message_id.to_bytes(4, "big"),
                                      encode_chain((payload,)))
    data = await forger(sa).seal(ExchangeType.TRANSACTION, header.message_id, (Hash(digest), payload))
    d = template.datagram
    outcome, detail, _ = await feed(server, frame(d.src, d.dst, d.sport, d.dport, data))
    counters = server.counters
    return (outcome, counters.get("transaction", "authGood"), counters.get("transaction", "authFailed"),
            counters.get("transaction", "setSent"), server.faults)


def _tlv(kind, value):
    return Attribute(kind, value, False)


@pytest.mark.parametrize("xauth_type", [Attribute(A.XAUTH_TYPE, b"\0\0", True), _tlv(A.XAUTH_TYPE, b"\0\0"),
                                        _tlv(A.XAUTH_TYPE, b"\0\0\0\0"), None],
                         ids=["tv", "tlv-2", "tlv-4", "absent"])
@pytest.mark.parametrize("nul", [b"", b"\0"], ids=["plain", "trailing-nul"])
def test_generic_reply_forms_are_accepted(xauth_type, nul):
    attributes = ([xauth_type] if xauth_type else []) + [_tlv(A.XAUTH_USER_NAME, b"remote" + nul),
                                                         _tlv(A.XAUTH_USER_PASSWORD, b"friend" + nul)]
    assert asyncio.run(_reply(attributes)) == ("accepted", 1, 0, 1, [])


@pytest.mark.parametrize("attributes", [
    [_tlv(A.XAUTH_TYPE, b"\0\0\0\1"), _tlv(A.XAUTH_USER_NAME, b"remote"), _tlv(A.XAUTH_USER_PASSWORD, b"friend")],
    [_tlv(A.XAUTH_USER_NAME, b"remote"), _tlv(A.XAUTH_USER_PASSWORD, b"friend\0\0x")],
    [_tlv(A.XAUTH_USER_NAME, b""), _tlv(A.XAUTH_USER_PASSWORD, b"friend")],
    [_tlv(A.XAUTH_USER_PASSWORD, b"friend")],
], ids=["radius-chap-type", "junk-after-nul", "empty-name", "no-name"])
def test_refused_replies_fail_counted(attributes):
    assert asyncio.run(_reply(attributes)) == ("accepted", 0, 1, 1, [])
