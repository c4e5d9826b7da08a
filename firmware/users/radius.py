# Ref: RFC 2865 sections 3 (packet format), 4.1-4.3 (Access-Request/Accept/Reject), 5.1-5.2, 5.4, 5.32
# Ref: RFC 4668 section 3 (radiusAuthClientExtTable: the per-server counters)
# Ref: ../shared/spec/isakmp-commands.md R80 (``add radius server=... secret=...``, xauthtype=radius)
"""A RADIUS client: the router's RADIUS servers and an Access-Request
with PAP (User-Password hiding), for ``xauthtype=radius``.

:class:`RadiusServers` holds the ``add radius server=ipadd secret=text
[port=1812]`` entries (asked in the order added). :func:`authenticate`
(``servers``, ``name``, ``password``, ``md5``, ``random_bytes``,
``exchange``, ``nas_address``) sends an Access-Request to each server in
turn until one answers and returns a :class:`RadiusOutcome`:

* ``md5(data)``: async, the MD5 digest (the card's plain MD5 hash job,
  :meth:`~..isakmp.crypto.IkeCrypto.hash`);
* ``random_bytes(n)``: async, the Request Authenticator (the card's RNG);
* ``exchange(address, port, packet)``: async, sends the packet (UDP)
  and returns the answer octets or None after its time-out
  (:func:`udp_exchange`: a host UDP socket, :data:`TRIES` sends
  :data:`TIMEOUT` seconds apart); a socket error counts as no answer.

The answer counts only when its identifier matches and its Response
Authenticator = MD5(Code | Identifier | Length | Request Authenticator |
Attributes | Secret) verifies (RFC 2865 section 3); anything else is
ignored as if lost, and counted. Access-Accept authenticates;
Access-Reject and Access-Challenge (XAUTH has no way to carry a challenge
on) do not; any other code is ignored as if lost, and counted.

Every server has counters (``RadiusServers.counters``, keyed by address,
each ``{name: packets}``; ``show radius`` prints them), named after RFC 4668's
radiusAuthClientExtTable: requests, accepts, rejects, challenges,
timeouts, and the bad answers: ``malformedAccessResponses`` (shorter than
the 20-octet header, or a Length field below 20 or past the datagram),
``badAuthenticators``, ``unknownTypes`` (a code that does not answer an
Access-Request), ``packetsDropped`` (an identifier that is not our
request's).
"""

import asyncio
import ipaddress
from dataclasses import dataclass, field

__all__ = ["RadiusServer", "RadiusServers", "RADIUS_COUNTERS", "RadiusOutcome", "RadiusError", "authenticate",
           "access_request", "hide_password", "udp_exchange", "ACCESS_REQUEST", "ACCESS_ACCEPT", "ACCESS_REJECT",
           "RADIUS_PORT"]

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, NAS_IDENTIFIER = 1, 2, 4, 32
RADIUS_PORT = 1812
#: Seconds to wait for an answer, and sends per server.
TIMEOUT, TRIES = 2.0, 3
_AUTHENTICATOR = 16
_HEADER = 20
_MAX_PACKET = 4096


class RadiusError(ValueError):
    """A RADIUS command that cannot be carried out (a server added twice, one that does not exist)."""


@dataclass(frozen=True)
class RadiusServer:
    """One server: ``address`` (IPv4Address), ``secret`` (text), ``port`` (UDP)."""
    address: ipaddress.IPv4Address
    secret: str
    port: int = RADIUS_PORT


#: Each server's counters (RFC 4668 section 3, radiusAuthClientExt...; see the module docstring), in packets.
RADIUS_COUNTERS = ("accessRequests", "accessAccepts", "accessRejects", "accessChallenges", "timeouts",
                   "malformedAccessResponses", "badAuthenticators", "unknownTypes", "packetsDropped")


@dataclass
class RadiusServers:
    """The configured servers, in the order added; ``counters``: address ->
    ``{name: packets}`` (:data:`RADIUS_COUNTERS`)."""
    servers: list = field(default_factory=list)
    counters: dict = field(default_factory=dict)

    def add(self, address, secret, port=RADIUS_PORT):
        if any(s.address == address for s in self.servers):
            raise RadiusError(f"RADIUS server {address} already exists")
        server = RadiusServer(address, secret, port)
        self.servers.append(server)
        self.counters[address] = dict.fromkeys(RADIUS_COUNTERS, 0)
        return server

    def delete(self, address):
        found = [s for s in self.servers if s.address == address]
        if not found:
            raise RadiusError(f"RADIUS server {address} does not exist")
        self.servers.remove(found[0])
        self.counters.pop(address, None)


@dataclass(frozen=True)
class RadiusOutcome:
    """``accepted`` (bool), ``server`` (the RadiusServer that answered, or
    None when none did) and ``detail`` (a sentence for the debug log)."""
    accepted: bool
    server: RadiusServer | None
    detail: str


def _attribute(kind, value):
    return bytes((kind, len(value) + 2)) + value


async def hide_password(password, secret, authenticator, md5):
    """User-Password (RFC 2865 section 5.2): the password NUL-padded to 16
    octets, each block XORed with MD5(secret | previous block)."""
    padded = password.ljust(max(16, -(-len(password) // 16) * 16), b"\0")
    out, previous = b"", authenticator
    for at in range(0, len(padded), 16):
        mask = await md5(secret + previous)
        previous = bytes(a ^ b for a, b in zip(padded[at:at + 16], mask))
        out += previous
    return out


async def access_request(identifier, authenticator, name, password, secret, md5, nas_address=None):
    """The Access-Request octets (User-Name, User-Password, NAS-IP-Address or NAS-Identifier)."""
    hidden = await hide_password(password.encode()[:128], secret.encode(), authenticator, md5)
    attributes = _attribute(USER_NAME, name.encode()[:253]) + _attribute(USER_PASSWORD, hidden)
    attributes += (_attribute(NAS_IP_ADDRESS, ipaddress.IPv4Address(nas_address).packed) if nas_address is not None
                   else _attribute(NAS_IDENTIFIER, b"pacsim"))
    length = _HEADER + len(attributes)
    return bytes((ACCESS_REQUEST, identifier)) + length.to_bytes(2, "big") + authenticator + attributes


_ANSWER_COUNTERS = {ACCESS_ACCEPT: "accessAccepts", ACCESS_REJECT: "accessRejects",
                    ACCESS_CHALLENGE: "accessChallenges"}


async def _verified(answer, identifier, authenticator, secret, md5):
    """``(code, counter)``: the code of a well-formed, authentic answer to
    our request (else None) and the :data:`RADIUS_COUNTERS` name it counts in."""
    if answer is None:
        return None, "timeouts"
    length = int.from_bytes(answer[2:4], "big") if len(answer) >= _HEADER else 0
    if not _HEADER <= length <= len(answer):
        return None, "malformedAccessResponses"
    if answer[1] != identifier:
        return None, "packetsDropped"
    answer = answer[:length]
    expected = await md5(answer[:4] + authenticator + answer[_HEADER:] + secret.encode())
    if expected != answer[4:_HEADER]:
        return None, "badAuthenticators"
    if answer[0] not in _ANSWER_COUNTERS:
        return None, "unknownTypes"
    return answer[0], _ANSWER_COUNTERS[answer[0]]


async def authenticate(servers, name, password, md5, random_bytes, exchange, nas_address=None):
    """Ask each server in turn (see the module docstring); a :class:`RadiusOutcome`."""
    if not servers.servers:
        return RadiusOutcome(False, None, "no RADIUS server is configured (add radius server)")
    for server in servers.servers:
        authenticator = await random_bytes(_AUTHENTICATOR)
        identifier = (await random_bytes(1))[0]
        packet = await access_request(identifier, authenticator, name, password, server.secret, md5, nas_address)
        counters = servers.counters.setdefault(server.address, dict.fromkeys(RADIUS_COUNTERS, 0))
        counters["accessRequests"] += 1
        try:
            answer = await exchange(server.address, server.port, packet)
        except OSError:                 # unreachable, refused: as if the server did not answer
            answer = None
        code, counter = await _verified(answer, identifier, authenticator, server.secret, md5)
        counters[counter] += 1
        if code is None:
            continue
        accepted = code == ACCESS_ACCEPT
        return RadiusOutcome(accepted, server, f"RADIUS server {server.address}: "
                             f"{'Access-Accept' if accepted else 'Access-Reject' if code == ACCESS_REJECT else code}")
    return RadiusOutcome(False, None, "no RADIUS server answered")


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self):
        self.answers = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.answers.put_nowait(bytes(data[:_MAX_PACKET]))


async def udp_exchange(address, port, packet, timeout=TIMEOUT, tries=TRIES):
    """Send ``packet`` to ``address``:``port`` over a host UDP socket up to
    ``tries`` times, ``timeout`` seconds apart; the first answer, or None."""
    loop = asyncio.get_running_loop()
    transport, receiver = await loop.create_datagram_endpoint(_Receiver, remote_addr=(str(address), port))
    try:
        for _ in range(tries):
            transport.sendto(packet)
            try:
                return await asyncio.wait_for(receiver.answers.get(), timeout)
            except asyncio.TimeoutError:
                continue
        return None
    finally:
        transport.close()
