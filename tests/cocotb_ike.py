"""cocotb module: two routers, each on its own RTL card of a two-card bench
(``BenchConfig(cards=2)``), whose VPN is keyed by ISAKMP
(:class:`pacsim.sim.isakmp_vpn.IsakmpVpn`): the first packet from ``pc1``
makes router ``a`` negotiate main mode and quick mode with ``b``, then a
datagram goes each way through the ESP tunnel. The cards do the
cryptography: Diffie-Hellman on the public-key units, the prf as HMAC HASH
jobs, the ISAKMP and ESP encryption on cipher channels.

For wall time the phase 1 is the routers' default DH group 1 (768 bits)
with their default 160-bit exponent, AES-128 + SHA-1, and the traffic is
three datagrams. :func:`check` then judges the run against independent
references: the phase-1 keys (RFC 2409, :mod:`pacsim.sim.ike_reference`
from the ISAKMP datagrams on the WAN and the initiator's DH exponent),
every SAD key (RFC 2409 5.5 KEYMAT from the nonces), every ESP packet on
the WAN opened by scapy with the receiver's SAD keys, each card's HASH and
AES jobs and two public-key operations per card; the protocol checker must
be clean. :func:`vpn_on` builds the same network on any two devices (the
model cards in tests/test_ike_rtl.py).
"""
import random

import cocotb

from isakmp_vpn_support import both_ways, check_keymat, open_wan, send
from router_support import configure_router
from pacsim.contract.codes import AlgUnit
from pacsim.firmware.ipsec.packet import parse_ip, parse_udp
from pacsim.firmware.router import Router
from pacsim.host.device import PacDevice
from pacsim.reference.modp import GROUPS
from pacsim.sim.ike_reference import phase1_reference
from pacsim.sim.isakmp_vpn import IsakmpVpn
from pacsim.sim.network import Network
from pacsim.sim.rtl_bus import RtlBus

#: The VPN: ESP AES-128 + HMAC-SHA1 in tunnel mode; phase 1 AES-128, SHA-1, group 1 (the default), 160-bit DH.
VPN = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha"}, isakmp_params="encalg=aes128")
#: Main mode's messages.
MAIN_MODE_MESSAGES = 6


async def vpn_on(devices) -> Network:
    """Routers ``a`` and ``b`` of :data:`VPN` on ``devices`` (two
    :class:`PacDevice`), the WAN and the hosts; nothing sent yet."""
    network = Network()
    for seed, (name, device) in enumerate(zip("ab", devices), 1):
        router = Router(name, device, clock=network.clock, random_bytes=random.Random(seed).randbytes,
                        card=f"PAC (device {device.device})")
        network.add_router(router)
        await configure_router(router, VPN.router_lines(name))
    network.join("a", "ppp0", "b", "ppp0")
    for name in "ab":
        network.add_host(VPN.site(name).host, name, "eth0", VPN.host_address(name))
    return network


async def negotiate_and_send(network: Network) -> None:
    """pc1's first datagram (a initiates main mode and quick mode), then one datagram each way."""
    send(network, VPN, "a", 999)
    await network.run()
    await both_ways(network, VPN, 1)


def isakmp_datagrams(network: Network) -> list:
    """The UDP payloads of every ISAKMP datagram on the WAN, in order."""
    out = []
    for w in network.wan:
        ip = parse_ip(w.packet)
        if ip.protocol == 17 and parse_udp(ip)[1] == 500:
            out.append(parse_udp(ip)[2])
    return out


def check(network: Network) -> None:
    """The run against the references (see the module docstring)."""
    a, b = network.routers["a"], network.routers["b"]
    (sa_a,), (sa_b,) = list(a.isakmp_daemon.sas), list(b.isakmp_daemon.sas)
    messages = isakmp_datagrams(network)
    assert [m[18] for m in messages] == [2] * MAIN_MODE_MESSAGES + [32] * 3, "not main mode then quick mode"
    private = a.isakmp_daemon.exchange_for(sa_a.cky_i, 0).private
    expected = phase1_reference(messages[:MAIN_MODE_MESSAGES], VPN.psk, private, GROUPS[1].prime)
    for sa in (sa_a, sa_b):
        k = sa.keys
        assert (k.skeyid, k.skeyid_d, k.skeyid_a, k.skeyid_e, k.enc_key, k.initial_iv) == expected, sa.role
    for name in "ab":
        assert check_keymat(network.routers[name]) == 2, f"{name}: SAD keys differ from the KEYMAT reference"
        opened, seen = open_wan(network, VPN, name)
        assert seen[50] == len(opened) == 1 + (name == "a"), f"{name}: {seen}, {len(opened)} opened"


async def _jobs(device) -> dict:
    """Good jobs per algorithm unit (encode + decode) of a card."""
    counters = await device.alg_counters()
    return {unit: counters[unit]["encode_good"] + counters[unit]["decode_good"] for unit in (AlgUnit.SHA, AlgUnit.AES)}


@cocotb.test()
async def vpn_negotiated_on_two_rtl_cards(dut):
    bus = await RtlBus.start(dut)
    found = await PacDevice.scan(bus)
    assert len(found) == 2, f"PACs at devices {found}; the bench has two cards"
    devices = [await PacDevice.probe(bus, device=d) for d in found]
    assert devices[0].bar0 != devices[1].bar0
    before = [await _jobs(d) for d in devices]
    network = await vpn_on(devices)
    await negotiate_and_send(network)
    check(network)
    for device, jobs in zip(devices, before):
        after = await _jobs(device)
        assert after[AlgUnit.SHA] > jobs[AlgUnit.SHA], f"card {device.device}: no HASH job on the SHA-1 unit"
        assert after[AlgUnit.AES] > jobs[AlgUnit.AES], f"card {device.device}: no AES job on a cipher channel"
        assert device.pk_operations == 2 and device.pk_clocks > 0, f"card {device.device}: DH not on its PK unit"
    await bus.finish()
