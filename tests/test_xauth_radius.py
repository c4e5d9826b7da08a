"""``xauthtype=radius`` against a real FreeRADIUS (Debian ``freeradius``),
started by the test on loopback in a temporary directory with its own
configuration (never the system service) and the user ``remote``
(password ``friend``): the RADIUS client alone (RFC 2865 Access-Request,
User-Password hidden with MD5 on the card), then two routers whose XAUTH
server asks it."""
import hashlib
import os

import pytest

from pacsim.firmware.isakmp.crypto import IkeCrypto, IkeHash
from pacsim.firmware.users.radius import RadiusServers, authenticate, hide_password, udp_exchange
from pacsim.host.device import PacDevice
from pacsim.sim.interop.freeradius import FreeRadius
from pacsim.sim.isakmp_vpn import IsakmpVpn
from pacsim.sim.model_bus import ModelBus
from isakmp_vpn_support import both_ways, sad_records, send, vpn_network
from router_support import configure_router, run

SECRET = "radius-loopback-secret"


@pytest.fixture(scope="module")
def freeradius(tmp_path_factory):
    """A FreeRADIUS of the lab's (:class:`~pacsim.sim.interop.freeradius.FreeRadius`), user remote/friend: its port."""
    with FreeRadius(tmp_path_factory.mktemp("freeradius"), {"remote": "friend"}, SECRET) as server:
        yield server.port


def _reference_hiding(password, secret, authenticator):
    """RFC 2865 section 5.2 with hashlib (the independent reference)."""
    padded = password + b"\0" * (16 - len(password) % 16 if len(password) % 16 or not password else 0)
    out, previous = b"", authenticator
    for at in range(0, len(padded), 16):
        previous = bytes(a ^ b for a, b in zip(padded[at:at + 16], hashlib.md5(secret + previous).digest()))
        out += previous
    return out


async def _client_outcomes(port):
    device = await PacDevice.probe(ModelBus())
    crypto = IkeCrypto(device)
    md5 = (lambda data: crypto.hash(IkeHash.MD5, data))
    hidden = {}
    for password in (b"", b"friend", b"sixteen-octets!!", b"a password longer than sixteen octets"):
        authenticator = os.urandom(16)
        hidden[password] = (await hide_password(password, b"s3cret", authenticator, md5),
                            _reference_hiding(password, b"s3cret", authenticator))
    servers = RadiusServers()
    servers.add("127.0.0.1", SECRET, port)
    quick = (lambda address, port_, packet: udp_exchange(address, port_, packet, timeout=1.0, tries=2))
    outcomes = {}
    for name, password in (("remote", "friend"), ("remote", "Friend"), ("nobody", "friend")):
        outcomes[(name, password)] = await authenticate(servers, name, password, md5, device.random, quick)
    wrong_secret = RadiusServers()
    wrong_secret.add("127.0.0.1", "not-the-secret", port)
    outcomes["wrong secret"] = await authenticate(wrong_secret, "remote", "friend", md5, device.random, quick)

    async def forged(address, port_, packet):                 # an answer whose authenticator is not the server's
        return bytes((2, packet[1])) + (20).to_bytes(2, "big") + bytes(16)
    outcomes["forged"] = await authenticate(servers, "remote", "friend", md5, device.random, forged)

    async def unreachable(address, port_, packet):
        raise OSError(101, "Network is unreachable")
    outcomes["unreachable"] = await authenticate(servers, "remote", "friend", md5, device.random, unreachable)
    await crypto.close()
    return hidden, outcomes


def test_radius_client_against_freeradius(freeradius):
    hidden, outcomes = run(_client_outcomes(freeradius))
    for password, (ours, reference) in hidden.items():
        assert ours == reference, password
    assert outcomes[("remote", "friend")].accepted
    assert "Access-Accept" in outcomes[("remote", "friend")].detail
    for key in (("remote", "Friend"), ("nobody", "friend")):
        assert not outcomes[key].accepted and "Access-Reject" in outcomes[key].detail
    assert not outcomes["wrong secret"].accepted and outcomes["wrong secret"].server is None   # answer not authentic
    assert not outcomes["forged"].accepted and outcomes["forged"].detail == "no RADIUS server answered"
    assert not outcomes["unreachable"].accepted and outcomes["unreachable"].server is None


def test_routers_xauth_with_radius(freeradius):
    """b's XAUTH server asks FreeRADIUS: the right password passes (traffic
    flows), a wrong one is refused by RADIUS, counted and not retried."""
    async def scenario(password):
        vpn = IsakmpVpn()
        network = await vpn_network(vpn)
        await configure_router(network.routers["a"], [
            f"set isakmp policy=i xauth=client xauthname=remote xauthpass={password}"])
        await configure_router(network.routers["b"], [
            f"add radius server=127.0.0.1 secret={SECRET} port={freeradius}",
            "set isakmp policy=i xauth=server xauthtype=radius"])
        send(network, vpn, "a", 999)
        await network.run()
        if password == "friend":
            await both_ways(network, vpn, 1)
        else:
            for _ in range(4):
                await network.wait(30)
        return network, await network.routers["b"].execute("show isakmp modeconfig")
    network, show = run(scenario("friend"))
    b = network.routers["b"]
    assert sad_records(b) and b.isakmp_daemon.counters.get("transaction", "authGood") == 1
    assert f"user remote: PASSED (user remote: RADIUS server 127.0.0.1: Access-Accept)" in show
    network, show = run(scenario("wrong"))
    b, a = network.routers["b"], network.routers["a"]
    assert not sad_records(b) and b.isakmp_daemon.counters.get("transaction", "authFailed") == 1
    assert b.isakmp_daemon.counters.get("transaction", "reqSent") == 1
    assert a.isakmp_daemon.counters.get("main", "initSendSA") == 1
    assert "Access-Reject" in show and b.isakmp_daemon.faults == []
