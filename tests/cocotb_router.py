"""cocotb module: the two-router traffic of test_router_traffic with the
cards' RTL doing the crypto (a handful of packets per case), on a bench of
two cards on one PCI bus (``BenchConfig(cards=2)``).

``two_cards_*``: router ``a`` on the card at the first device, router ``b``
on the card at the second, each with its own driver, rings, channels and
interrupt line; the host bridge and host memory are shared, and the two
cards' DMA contend for the bus through the arbiter. Every encode and decode
of both ends is RTL. ``rtl_and_model_*``: router ``b`` on a model card
instead, so a packet sealed by one is opened by the other.
``one_card_shared_*``: both routers' data planes share the first card (each
its own channels). The WAN packets are opened with scapy, each card's
algorithm counters are read over PCI into ``show ipsec counter=alg``, and
each test ends with the protocol checker's verdict.

``concurrent_callers``: several tasks run jobs on both cards at once
through :meth:`PacDevice.run`, checked against the references;
``concurrent_reset``: a reset of one card while other tasks wait on it.
"""
import hashlib
import hmac
import random

import cocotb
from cocotb.triggers import ClockCycles
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet import IP, UDP

from router_support import configure_router, connect, scapy_open, wan_from
from pacsim.contract.codes import CipherAlg, Direction, MacAlg, Opcode, ResultStatus
from pacsim.firmware.router import Router
from pacsim.host.device import PacDevice
from pacsim.host.jobs import DriverStatus, Job
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import Network, VirtualClock, model_router
from pacsim.sim.rtl_bus import RtlBus


PLACEMENTS = ("two_cards", "rtl_and_model", "one_card_shared")


async def network_on_rtl(dut, vpn: ManualVpn, placement: str):
    bus = await RtlBus.start(dut)
    clock = VirtualClock()
    network = Network(clock)
    devices = await PacDevice.scan(bus)
    assert len(devices) == 2, f"PACs at devices {devices}; the bench has two cards"
    first = await PacDevice.probe(bus, device=devices[0])
    network.add_router(Router("a", first, clock=clock, random_bytes=random.Random(1).randbytes,
                              card=f"PAC (RTL, device {first.device})"))
    if placement == "two_cards":
        second = await PacDevice.probe(bus, device=devices[1])
        assert second.bar0 != first.bar0
        network.add_router(Router("b", second, clock=clock, random_bytes=random.Random(2).randbytes,
                                  card=f"PAC (RTL, device {second.device})"))
    elif placement == "one_card_shared":
        network.add_router(Router("b", first, clock=clock, random_bytes=random.Random(2).randbytes,
                                  card=f"PAC (RTL, device {first.device})"))
    else:
        network.add_router(await model_router("b", clock, seed=2))
    for name in ("a", "b"):
        await configure_router(network.routers[name], vpn.router_lines(name))
    connect(network, vpn)
    return bus, network


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


async def traffic(network: Network, vpn: ManualVpn) -> None:
    if vpn.mode == "tunnel":
        sent = [network.send_udp("pc1", "pc2", 100), network.send_udp("pc1", "pc2", 700)]
        back = network.send_udp("pc2", "pc1", 333)
        network.ping("pc1", "pc2", 40)
        await network.run()
        drops = {name: list(r.drop_log) for name, r in network.routers.items()}
        assert network.hosts["pc2"].udp_payloads() == sent, drops
        assert network.hosts["pc1"].udp_payloads() == [back], drops
        assert network.hosts["pc1"].echo_replies == [(0x1234, 1)]
    else:
        a, b = network.routers["a"], network.routers["b"]
        network.originate("a", a.send_echo(vpn.site("b").wan, 3, 1, b"transport mode ping"))
        network.originate("b", b.send_echo(vpn.site("a").wan, 4, 1, b"and back"))
        await network.run()
        assert len(a.delivered) == 1 and len(b.delivered) == 1          # each got its echo reply
    assert not network.lost, network.lost
    for name in ("a", "b"):
        assert not network.routers[name].drop_log, network.routers[name].drop_log
    for sender in ("a", "b"):
        for wire in wan_from(network, sender):
            inner = IP(scapy_open(vpn, sender, wire))               # authenticates and decrypts with scapy
            assert inner.version == 4
            if inner.haslayer(UDP):
                assert len(bytes(inner[UDP].payload)) in (100, 700, 333)


async def aes_counters(router: Router) -> tuple:
    """``(aesEncodeGood, aesDecodeGood)`` of ``show ipsec counter=alg`` (the card's ALG_COUNTERS)."""
    alg = await router.execute("show ipsec counter=alg")
    found = {}
    for line in alg.splitlines():
        words = line.split()
        for i in range(0, len(words) - 1, 2):             # two "name value" columns per line
            if words[i] in ("aesEncodeGood", "aesDecodeGood"):
                found[words[i]] = int(words[i + 1])
    assert set(found) == {"aesEncodeGood", "aesDecodeGood"}, alg
    return found["aesEncodeGood"], found["aesDecodeGood"]


async def check_counters(network: Network, placement: str) -> None:
    a, b = network.routers["a"], network.routers["b"]
    sent_a = sum(1 for _ in wan_from(network, "a"))
    sent_b = sum(1 for _ in wan_from(network, "b"))
    encodes, decodes = await aes_counters(a)
    if placement == "one_card_shared":
        assert (encodes, decodes) == (sent_a + sent_b, sent_a + sent_b)    # one card did both ends
    else:
        assert (encodes, decodes) == (sent_a, sent_b)                      # each card its own router's
    if placement == "two_cards":
        assert await aes_counters(b) == (sent_b, sent_a)


def _case(bundle: str, mode: str, placement: str):
    async def test(dut):
        vpn = ManualVpn(bundle=bundle, mode=mode)
        bus, network = await network_on_rtl(dut, vpn, placement)
        start = bus.clocks()
        await traffic(network, vpn)
        await check_counters(network, placement)
        dut._log.info("%s %s %s: %d WAN packets, %d PCI clocks", placement, bundle, mode, len(network.wan),
                      bus.clocks() - start)
        await bus.finish()
    name = f"{placement}_{bundle.replace('+', '_')}_{mode}"
    test.__name__ = test.__qualname__ = name
    return name, cocotb.test()(test)


for _bundle, _mode, _placement in \
        [(b, m, "two_cards") for b in ("esp", "esp+ah", "esp+ipcomp") for m in ("tunnel", "transport")] \
        + [("esp", "tunnel", "rtl_and_model"), ("esp+ipcomp", "transport", "rtl_and_model"),
           ("esp+ah", "tunnel", "one_card_shared")]:
    _name, _test = _case(_bundle, _mode, _placement)
    globals()[_name] = _test
del _bundle, _mode, _placement, _name, _test


@cocotb.test()
async def concurrent_callers(dut):
    """Six tasks, three per card, each running ENCODE jobs through
    ``PacDevice.run`` at once, with result coalescing on; every output
    matches the reference and every result reaches its caller."""
    bus = await RtlBus.start(dut)
    # Coalesced results: one interrupt reports several callers' results, so a
    # caller often reaps another's and must hand it over.
    devices = [await PacDevice.probe(bus, device=number, coalesce_count=4, coalesce_timeout=200)
               for number in await PacDevice.scan(bus)]
    rng = random.Random(6)
    key, mac_key = rng.randbytes(16), rng.randbytes(20)
    channels = []
    for dev in devices:
        cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
        mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
        channels.append((cipher, mac))

    async def caller(index: int, dev: PacDevice, cipher, mac) -> int:
        done = 0
        for round_ in range(3):
            packets = [rng.randbytes(16) + rng.randbytes(16 * rng.randrange(1, 12)) for _ in range(1 + index % 3)]
            for packet in packets:
                sealed = await dev.encode(packet, skip=16, cipher=cipher, mac=mac)
                body = aes_cbc_encrypt(key, packet[:16], packet[16:])
                assert sealed[:16] == packet[:16] and sealed[16:-12] == body, (index, round_)
                assert sealed[-12:] == hmac.new(mac_key, sealed[:-12], hashlib.sha1).digest()[:12]
                done += 1
        return done

    tasks = [cocotb.start_soon(caller(i, devices[i % 2], *channels[i % 2])) for i in range(6)]
    counts = [await task for task in tasks]
    assert sum(counts) == 3 * sum(1 + i % 3 for i in range(6))
    for dev in devices:
        assert dev.in_flight == 0 and dev.driver_counters["results_collected"] == dev.driver_counters["jobs_submitted"]
    await bus.finish()


@cocotb.test()
async def concurrent_reset(dut):
    """Two tasks run long COPY jobs on one card while a third resets it: each
    job comes back either done (the copy checked) or LOST_TO_RESET, none
    hangs, and the other card's copies in the same window are untouched."""
    bus = await RtlBus.start(dut)
    first, second = [await PacDevice.probe(bus, device=number) for number in await PacDevice.scan(bus)]
    rng = random.Random(7)
    length = 8192
    buffers = []

    async def copier(dev: PacDevice) -> list:
        src, dst = bus.alloc(length), bus.alloc(length)
        data = rng.randbytes(length)
        bus.host_write(src.address, data)
        buffers.extend((src, dst))
        (result,) = await dev.run([Job(Opcode.COPY, src, dst)])
        if result.status is ResultStatus.OK:
            assert bus.host_read(dst.address, length) == data
        return result.status

    async def resetter() -> list:
        await ClockCycles(dut.clk, 200)               # the copies have started
        return await first.reset()

    tasks = [cocotb.start_soon(copier(first)), cocotb.start_soon(copier(first)), cocotb.start_soon(copier(second))]
    lost = await cocotb.start_soon(resetter())
    statuses = [await task for task in tasks]
    assert statuses[2] is ResultStatus.OK, statuses
    assert DriverStatus.LOST_TO_RESET in statuses[:2], statuses
    assert {r.tag for r in lost} and all(r.status is DriverStatus.LOST_TO_RESET for r in lost)
    assert first.in_flight == 0 and first.driver_counters["jobs_lost"] == len(lost)
    for buffer in buffers:
        bus.free(buffer)
    await bus.finish()
