# Ref: docs/rings.md
"""Bad arguments to the driver's public API, on the model.

Every argument of the wrong type or out of range is refused with the
driver's :class:`InvalidArgument` (never a bare ``TypeError``,
``KeyError`` or ``ValueError``), its message naming the argument, and
nothing reaches the card: no job is left in flight, and the card still
runs a copy afterwards. Each refusal of a device's call counts once in its
``driver_counters["refused"]``.
"""
import asyncio

import pytest

from driver_suite_support import fresh_device
from pacsim.contract.codes import CipherAlg, Direction, IvSource, MacAlg, Opcode
from pacsim.host.device import PacDevice
from pacsim.host.errors import InvalidArgument
from pacsim.host.jobs import Job
from pacsim.sim.model_bus import ModelBus

KEY = bytes(range(16))

#: ``(case id, call(dev, units), words the message must hold)``; ``units``
#: holds open channels and buffers: ``encoder``/``decoder`` (compression),
#: ``hasher`` (SHA1), ``cipher`` (AES-128 encrypt), ``source``/``destination``.
BAD_CALLS = [
    ("read unknown register", lambda dev, u: dev.read("NOPE"), "NOPE"),
    ("read register not a name", lambda dev, u: dev.read(5), "register name"),
    ("read_fields unknown register", lambda dev, u: dev.read_fields("NOPE"), "NOPE"),
    ("write 33-bit value", lambda dev, u: dev.write("SCRATCH", 1 << 32), "value"),
    ("write str value", lambda dev, u: dev.write("SCRATCH", "1"), "value"),
    ("write unknown register", lambda dev, u: dev.write("NOPE", 0), "NOPE"),
    ("config_read unknown register", lambda dev, u: dev.config_read("NOPE"), "NOPE"),
    ("config_write 33-bit value", lambda dev, u: dev.config_write("COMMAND_STATUS", 1 << 32), "value"),
    ("config_write byte enables", lambda dev, u: dev.config_write("COMMAND_STATUS", 0, 0x10), "byte_enables"),
    ("set_command unknown bit", lambda dev, u: dev.set_command(bogus=1), "bogus"),
    ("set_command bit of 2", lambda dev, u: dev.set_command(bus_master=2), "bus_master"),
    ("clear_config_errors unknown bit", lambda dev, u: dev.clear_config_errors("bogus"), "bogus"),
    ("channel_counters str", lambda dev, u: dev.channel_counters("x"), "channel"),
    ("channel_counters out of range", lambda dev, u: dev.channel_counters(99), "channel"),
    ("set_coalescing str count", lambda dev, u: dev.set_coalescing("1", 0), "count"),
    ("set_coalescing negative timeout", lambda dev, u: dev.set_coalescing(1, -1), "timeout"),
    ("cipher key str", lambda dev, u: dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, "k" * 16), "key"),
    ("cipher iv str", lambda dev, u: dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, KEY,
                                                             iv_source=IvSource.CONTEXT, iv="i" * 16), "iv"),
    ("cipher alg str", lambda dev, u: dev.open_cipher_channel("AES", Direction.ENCODE, KEY), "alg"),
    ("cipher direction 7", lambda dev, u: dev.open_cipher_channel(CipherAlg.AES128, 7, KEY), "direction"),
    ("mac key str", lambda dev, u: dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, "key"), "key"),
    ("mac icv str", lambda dev, u: dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, b"k", icv_bytes="12"),
     "ICV"),
    ("comp direction str", lambda dev, u: dev.open_comp_channel("x"), "direction"),
    ("close_channel str", lambda dev, u: dev.close_channel("x"), "channel"),
    ("submit not jobs", lambda dev, u: dev.submit([object()]), "job"),
    ("submit not a list", lambda dev, u: dev.submit(5), "jobs"),
    ("submit str opcode", lambda dev, u: dev.submit([Job("COPY", u["source"], u["destination"])]), "opcode"),
    ("submit str skip", lambda dev, u: dev.submit([Job(Opcode.COPY, u["source"], u["destination"], skip="1")]),
     "skip"),
    ("run not jobs", lambda dev, u: dev.run([object()]), "job"),
    ("collect negative timeout", lambda dev, u: dev.collect(timeout_clocks=-1), "timeout_clocks"),
    ("collect str timeout", lambda dev, u: dev.collect(timeout_clocks="x"), "timeout_clocks"),
    ("copy str source", lambda dev, u: dev.copy("a", u["destination"], 4), "source"),
    ("copy str length", lambda dev, u: dev.copy(u["source"], u["destination"], "4"), "length"),
    ("copy negative length", lambda dev, u: dev.copy(u["source"], u["destination"], -4), "length"),
    ("encode str packet", lambda dev, u: dev.encode("text", cipher=u["cipher"]), "packet"),
    ("encode str skip", lambda dev, u: dev.encode(bytes(16), skip="0", cipher=u["cipher"]), "skip"),
    ("encode negative skip", lambda dev, u: dev.encode(bytes(16), skip=-1, cipher=u["cipher"]), "skip"),
    ("encode str mac", lambda dev, u: dev.encode(bytes(16), mac="m"), "mac"),
    ("encode number cipher", lambda dev, u: dev.encode(bytes(16), cipher=3), "cipher"),
    ("decode str limit", lambda dev, u: dev.decode(bytes(16), comp=u["decoder"], limit="1"), "limit"),
    ("hash str message", lambda dev, u: dev.hash("text", mac=u["hasher"]), "message"),
    ("hash no mac", lambda dev, u: dev.hash(b"x", mac=None), "mac"),
    ("compress str data", lambda dev, u: dev.compress("t", channel=u["encoder"]), "data"),
    ("compress no channel", lambda dev, u: dev.compress(b"t", channel=None), "channel"),
    ("decompress str stream", lambda dev, u: dev.decompress("t", channel=u["decoder"], limit=4), "stream"),
    ("decompress str timeout", lambda dev, u: dev.decompress(b"t", channel=u["decoder"], limit=4,
                                                             timeout_clocks="1"), "timeout_clocks"),
    ("modexp str timeout", lambda dev, u: dev.modexp(2, 3, 7, timeout_clocks="x"), "timeout_clocks"),
    ("modexp str base", lambda dev, u: dev.modexp("2", 3, 7), "base"),
    ("dh_keypair str group", lambda dev, u: dev.dh_keypair("x"), "group"),
    ("dh_shared str private", lambda dev, u: dev.dh_shared(1, "p", 5), "private"),
    ("rng_instantiate str seed", lambda dev, u: dev.rng_instantiate("x" * 48), "seed"),
    ("random str count", lambda dev, u: dev.random("3"), "count"),
    ("random str job", lambda dev, u: dev.random(3, job="yes"), "job"),
    ("probe not a bus", lambda dev, u: PacDevice.probe(None), "bus"),
    ("scan not a bus", lambda dev, u: PacDevice.scan("bus"), "bus"),
    ("submit str length", lambda dev, u: dev.submit([Job(Opcode.COPY, u["source"], u["destination"], length="4")]),
     "length"),
    ("submit str segments", lambda dev, u: dev.submit([Job(Opcode.COPY, "nowhere", u["destination"])]), "segments"),
    ("probe latency timer 256", lambda dev, u: PacDevice.probe(dev.bus, latency_timer=256), "latency_timer"),
    ("probe str cache line", lambda dev, u: PacDevice.probe(dev.bus, cache_line_dwords="x"), "cache_line"),
    ("probe str device", lambda dev, u: PacDevice.probe(dev.bus, device="4"), "device"),
    ("probe negative coalescing", lambda dev, u: PacDevice.probe(dev.bus, coalesce_count=-1), "coalesc"),
]

#: Message words of the cases refused before there is a device to count them (probe, scan).
NO_DEVICE_YET = {"latency_timer", "cache_line", "device", "coalesc", "bus"}


@pytest.mark.parametrize("call, words", [case[1:] for case in BAD_CALLS], ids=[case[0] for case in BAD_CALLS])
def test_bad_arguments_are_invalid_argument_naming_the_argument(call, words):
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        units = {"encoder": await dev.open_comp_channel(Direction.ENCODE),
                 "decoder": await dev.open_comp_channel(Direction.DECODE),
                 "hasher": await dev.open_mac_channel(MacAlg.SHA1, Direction.ENCODE),
                 "cipher": await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, KEY),
                 "source": bus.alloc(64), "destination": bus.alloc(64)}
        refused = dev.driver_counters["refused"]
        try:
            await call(dev, units)
        except InvalidArgument as error:
            assert words.lower() in str(error).lower(), f"{error!r} does not name {words!r}"
        except Exception as error:      # noqa: BLE001 - what the driver must not raise is the point
            raise AssertionError(f"raised {type(error).__name__}: {error}; expected InvalidArgument") from None
        else:
            raise AssertionError("nothing was raised; expected InvalidArgument")
        if words not in NO_DEVICE_YET:
            assert dev.driver_counters["refused"] == refused + 1, "the refusal was not counted once"
        assert dev.in_flight == 0, "a refused call left a job in flight"
        result = await dev.copy(units["source"], units["destination"], 64)
        assert result.bytes == 64
    asyncio.run(body())
