"""Bad RADIUS answers (RFC 2865 section 3) to the XAUTH server's
Access-Request: short, a Length field past the datagram or below the
header, a wrong identifier, a wrong Response Authenticator, an unknown
code. Each is ignored as if lost and counted in the server's RFC 4668
counter (shown by ``show radius``); none raises, and a good answer from
the next server still authenticates. Answers are built here with hashlib
MD5 (the independent reference); the client hashes on the model card."""
import hashlib

from pacsim.firmware.isakmp.crypto import IkeCrypto, IkeHash
from pacsim.firmware.users.radius import RadiusServers, authenticate
from pacsim.firmware.views.alliedware.xauth import show_radius
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus
from router_support import run

SECRET = "shared-secret"


def _answer(code, request, secret=SECRET, identifier=None, attributes=b""):
    """An answer to ``request`` signed with ``secret`` (RFC 2865 section 3, hashlib)."""
    identifier = request[1] if identifier is None else identifier
    head = bytes((code, identifier)) + (20 + len(attributes)).to_bytes(2, "big")
    return head + hashlib.md5(head + request[4:20] + attributes + secret.encode()).digest() + attributes


BAD_ANSWERS = {
    "short": lambda request: _answer(2, request)[:19],
    "length past datagram": lambda request: _answer(2, request)[:2] + (40).to_bytes(2, "big") + _answer(2, request)[4:],
    "length below header": lambda request: _answer(2, request)[:2] + (19).to_bytes(2, "big") + _answer(2, request)[4:],
    "wrong identifier": lambda request: _answer(2, request, identifier=request[1] ^ 0xFF),
    "wrong authenticator": lambda request: _answer(2, request, secret="not-the-secret"),
    "unknown code": lambda request: _answer(5, request),          # Accounting-Response: not an answer to us
    "empty": lambda request: b"",
    "none": lambda request: None,
}
EXPECTED = {"short": "malformedAccessResponses", "length past datagram": "malformedAccessResponses",
            "length below header": "malformedAccessResponses", "wrong identifier": "packetsDropped",
            "wrong authenticator": "badAuthenticators", "unknown code": "unknownTypes",
            "empty": "malformedAccessResponses", "none": "timeouts"}


async def _outcomes():
    device = await PacDevice.probe(ModelBus())
    crypto = IkeCrypto(device)
    md5 = (lambda data: crypto.hash(IkeHash.MD5, data))
    results = {}
    for name, bad in BAD_ANSWERS.items():
        servers = RadiusServers()
        servers.add("10.0.0.1", SECRET)
        servers.add("10.0.0.2", SECRET)

        async def exchange(address, port, packet, bad=bad):
            return bad(packet) if str(address) == "10.0.0.1" else _answer(2, packet, attributes=b"\x12\x04ok")
        outcome = await authenticate(servers, "remote", "friend", md5, device.random, exchange)
        results[name] = (outcome, servers)
    await crypto.close()
    return results


def test_bad_radius_answers_are_counted_and_the_next_server_answers():
    results = run(_outcomes())
    for name, (outcome, servers) in results.items():
        first, second = (servers.counters[s.address] for s in servers.servers)
        assert outcome.accepted and str(outcome.server.address) == "10.0.0.2", name
        assert first["accessRequests"] == 1 and first[EXPECTED[name]] == 1, (name, first)
        assert sum(first.values()) == 2, (name, first)                      # that counter alone
        assert second == {**{k: 0 for k in second}, "accessRequests": 1, "accessAccepts": 1}, name
        shown = show_radius(servers.servers, servers.counters)
        assert "Counters of 10.0.0.1" in shown and f"{EXPECTED[name]:<26} 1" in shown, name
