"""cocotb module: short runs whose waveforms ``test_waves_rtl.py`` reads back.

``jobs_on_the_bus`` (run traced) runs, in announced phases, a few jobs of different opcodes and
channels (one of them a batch handed over at one moment), a configuration
read that nobody claims (master-abort) and traffic against hostile host
memory (retries, disconnects), and writes what it ran to
``$PACSIM_TEST_DIR/jobs.json``: ``[{tag, opcode, cipher_channel,
mac_channel}, ...]`` in submission order, checked against ``hashlib``.

``fault_leaves_a_window`` (run untraced) fails on purpose (an expected failure
for cocotb): a test-only fault
(the host bridge's write-data parity inverted) breaks the protocol checker's
PARITY rule inside a :func:`~pacsim.sim.wave_window.failure_window` of
:data:`WINDOW_CLOCKS` clocks of :data:`WINDOW_GROUPS`, which must leave the dump of those clocks.
"""
import hashlib
import hmac
import json
import os
from pathlib import Path

import cocotb

from pacsim.contract.codes import NO_CHANNEL, MacAlg, Opcode, Direction
from pacsim.host.device import PacDevice
from pacsim.host.jobs import Job
from pacsim.sim.annotations import BenchPhase
from pacsim.sim.rtl_bus import RtlBus
from pacsim.sim.wave_window import failure_window

#: Host memory that retries and disconnects (seeded, so the run repeats).
HOSTILE = {"devsel_speed": 1, "seed": 99, "wait_rate": 32, "retry_rate": 96, "disconnect_rate": 64}
#: Clocks the failure window keeps (set by the pytest side).
WINDOW_CLOCKS = int(os.environ.get("PACSIM_WINDOW_CLOCKS", "200"))
#: The signal groups it keeps (the job annotations come with them).
WINDOW_GROUPS = ("PCI bus", "Transaction", "Protocol checker")


@cocotb.test()
async def jobs_on_the_bus(dut):
    bus = await RtlBus.start(dut, **HOSTILE)
    bus.annotate(phase=BenchPhase.PROBE)
    device = await PacDevice.probe(bus)
    assert await bus.config_read(20, 0) == 0xFFFF_FFFF          # nobody at device 20: master-abort
    ran = []

    bus.annotate(phase=BenchPhase.COPIES)
    src, dst = bus.alloc(256), bus.alloc(256)
    bus.host_write(src.address, bytes(range(256)))
    await device.copy(src, dst, 256)
    ran.append((device._next_tag - 1, Opcode.COPY, NO_CHANNEL, NO_CHANNEL))
    assert bus.host_read(dst.address, 256) == bytes(range(256))
    batch = [Job(Opcode.COPY, (src.address + 64 * k, 64), (dst.address + 64 * k, 64)) for k in range(3)]
    results = await device.run(batch)
    assert all(result.ok for result in results), results
    ran += [(job.tag, Opcode.COPY, NO_CHANNEL, NO_CHANNEL) for job in batch]

    bus.annotate(phase=BenchPhase.ESP, packet=7)
    key = bytes(range(20))
    mac = await device.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, key)
    digest = await device.hash(b"waves" * 40, mac=mac)
    ran.append((device._next_tag - 1, Opcode.HASH, NO_CHANNEL, mac.number))
    assert digest == hmac.new(key, b"waves" * 40, hashlib.sha1).digest()[:len(digest)]
    random_bytes = await device.random(32, job=True)
    ran.append((device._next_tag - 1, Opcode.RANDOM, NO_CHANNEL, NO_CHANNEL))
    assert len(random_bytes) == 32 and len(digest) >= 12

    bus.annotate(phase=BenchPhase.COUNTERS)
    await device.counters()
    await bus.finish()
    Path(os.environ["PACSIM_TEST_DIR"], "jobs.json").write_text(json.dumps(
        [{"tag": tag, "opcode": int(opcode), "cipher_channel": cipher, "mac_channel": mac_number}
         for tag, opcode, cipher, mac_number in ran]))


@cocotb.test(expect_fail=True)
async def fault_leaves_a_window(dut):
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    async with failure_window(bus, clocks=WINDOW_CLOCKS, groups=WINDOW_GROUPS):
        bus.annotate(phase=BenchPhase.COPIES)
        src, dst = bus.alloc(512), bus.alloc(512)
        await device.copy(src, dst, 512)
        dut.hb_par_invert.value = 0b10          # the test-only fault
        await device.write("SCRATCH", 0x0BAD_0BAD)
        dut.hb_par_invert.value = 0
        await device.read("SCRATCH")
        await bus.finish()                      # raises ProtocolViolation (PARITY)
