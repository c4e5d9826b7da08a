"""The driver against the behavioural card model (no simulator).

Runs every check of :mod:`driver_suite` on a fresh :class:`ModelBus` (the
default build, and a small one: 4 channels, 16-dword bursts), then tests
what only the model offers: its cost model, its allocator, fault injection,
raw ring states, and the driver's own refusals and messages; and what is
too large or too slow for the RTL: LZS over many packets and hundreds of
malformed streams, 2048-bit modular exponentiation and group-14
Diffie-Hellman, the generator's reseed interval and continuous test.
"""
import asyncio
import copy
import random

import pytest
from cryptography.hazmat.primitives.asymmetric import dh

from driver_suite import CHECKS
from driver_suite_lzs import STREAM_STATUS, lzs_job
from driver_suite_support import ESP_HEADER, Buffers, esp_packet, fresh_device, poll, raises, window_address
from pacsim.contract.rng import DrbgCommand, DrbgStatus
from pacsim.contract.pk import ModExpStatus, modexp_clocks
from pacsim.hdl.engines.aes import AesCore
from pacsim.hdl.engines.des import DesCore, TripleDesCore
from pacsim.hdl.engines.hmac import Hmac
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, AlgUnit, CipherAlg, CipherMode, Direction,
                                   IvSource, MacAlg, Opcode, ResultStatus)
from pacsim.contract.layouts import CMD, CONTEXT, RESULT, SEG
from pacsim.contract.regmap import BAR0, CONFIG
from pacsim.host.bus import DmaBuffer
from pacsim.host.device import DH_PRIVATE_BITS, PacDevice, lzs_bound
from pacsim.reference.drbg import CtrDrbg
from pacsim.host.errors import (CardNotFound, CardTimeout, ChannelsExhausted, InvalidArgument, InvalidKey, JobFailed,
                                PacError, RingAborted, RngFailed, UnsupportedCard)
from pacsim.host.jobs import DriverStatus, Job
from pacsim.reference.lzs import decompress
from pacsim.reference.lzs import compress as lzs_compress
from pacsim.reference.modp import GROUPS
from pacsim.sim.lzs_model import hardware_compress
from test_lzs_reference import KINDS, corpus, malformed_streams, outcome
from pacsim.sim.bench_model import bench_crypto_model, bench_dma_model
from pacsim.sim.model_bus import COSTS, ModelBus


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_suite_on_model(check):
    run(check(ModelBus()))


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_suite_on_a_small_model(check):
    run(check(ModelBus(channels=4, burst_words=16)))


async def copy_job(buffers, rng, length: int) -> Job:
    return Job(Opcode.COPY, buffers.filled(rng.randbytes(length)), buffers.alloc(length))


# -- cost model ------------------------------------------------------------------

def test_costs_grow_with_data_phases():
    costs = [COSTS.transaction(n) for n in range(1, 130)]
    assert all(a < b for a, b in zip(costs, costs[1:]))
    assert COSTS.master_abort() > COSTS.transaction(1)
    assert COSTS.target_abort(3) > COSTS.transaction(3)


def test_engine_costs_are_the_default_engines():
    assert COSTS.cipher_block_clocks(CipherAlg.DES, CipherMode.ECB, Direction.ENCODE) == DesCore().clocks_per_block
    assert COSTS.cipher_block_clocks(CipherAlg.TDES_INNER, CipherMode.CBC, Direction.ENCODE) == \
        TripleDesCore().latency
    for alg, bits in ((CipherAlg.AES128, 128), (CipherAlg.AES192, 192), (CipherAlg.AES256, 256)):
        assert COSTS.cipher_block_clocks(alg, CipherMode.ECB, Direction.ENCODE) == AesCore().clocks_per_block[bits]
    assert COSTS.mac_block_clocks(MacAlg.HMAC_SHA1)[0] == Hmac("sha1", per_clock=5).clocks_per_block
    assert COSTS.mac_block_clocks(MacAlg.HMAC_MD5)[0] == Hmac("md5").clocks_per_block


def test_every_host_transaction_takes_its_cost():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        before = bus.clocks()
        await dev.read("SCRATCH")
        assert bus.clocks() - before == COSTS.transaction(1)
        before = bus.clocks()
        await bus.mem_read(dev.bar0, 4)
        assert bus.clocks() - before == COSTS.transaction(4)
        before = bus.clocks()
        assert await bus.config_read(dev.device + 1, CONFIG.ID.offset) == 0xFFFF_FFFF
        assert bus.clocks() - before == COSTS.master_abort()
    run(body())


def test_copy_time_is_its_descriptors_and_bursts():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = dev.identity.caps["burst_words"]
        src, dst = bus.alloc(64 * 1024), bus.alloc(64 * 1024)
        clocks = []
        for length in (4, 64, 4 * burst, 4 * burst + 4, 16 * 1024, 64 * 1024):
            result = await dev.copy(src, dst, length)
            card = COSTS.descriptor_clocks(1, 1) + COSTS.data_clocks(length, length, burst)
            assert card <= result.clocks <= card + 20 * COSTS.transaction(1), (length, result, card)
            clocks.append(result.clocks)
        assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
    run(body())


def test_chained_3des_encode_waits_for_the_engine_and_decode_does_not():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        key = random.Random(30).randbytes(24)
        encode = await dev.open_cipher_channel(CipherAlg.TDES_INNER, Direction.ENCODE, key,
                                               iv_source=IvSource.CONTEXT, iv=bytes(8))
        decode = await dev.open_cipher_channel(CipherAlg.TDES_INNER, Direction.DECODE, key,
                                               iv_source=IvSource.CONTEXT, iv=bytes(8))
        data = bytes(4096)
        start = bus.clocks()
        out = await dev.encode(data, cipher=encode)
        encode_clocks = bus.clocks() - start
        start = bus.clocks()
        await dev.decode(out, cipher=decode)
        decode_clocks = bus.clocks() - start
        blocks = len(data) // 8
        chained = COSTS.cipher_block_clocks(CipherAlg.TDES_INNER, CipherMode.CBC, Direction.ENCODE)
        assert encode_clocks >= blocks * chained
        assert decode_clocks < blocks * chained <= encode_clocks
    run(body())


def test_wait_interrupt_times_out_by_exactly_its_timeout():
    async def body():
        bus = ModelBus()
        await fresh_device(bus)
        before = bus.clocks()
        assert not await bus.wait_interrupt(1234)
        assert bus.clocks() - before == 1234
    run(body())


def test_wait_interrupt_returns_at_once_when_inta_is_asserted():
    """Also per device: the card's line is asserted, another device's stays high."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        async with Buffers(bus) as buffers:
            await dev.submit([await copy_job(buffers, random.Random(31), 64)])
            assert await bus.wait_interrupt(10_000)
            before = bus.clocks()
            assert await bus.wait_interrupt(1000) and await bus.wait_interrupt(1000, dev.device)
            assert bus.clocks() == before
            assert bus.interrupt_asserted(dev.device) and not bus.interrupt_asserted(dev.device + 1)
            assert not await bus.wait_interrupt(500, dev.device + 1) and bus.clocks() == before + 500
    run(body())


def test_coalescing_timeout_fires_exactly_after_the_first_result():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus, coalesce_count=4, coalesce_timeout=500)
        async with Buffers(bus) as buffers:
            job = await copy_job(buffers, random.Random(32), 64)
            await dev.submit([job])
            fields = await poll(dev, "RES_RING_INDEX", lambda f: f["index"] == 1)
            assert fields["index"] == 1
            written = bus.card._first_unsignalled
            assert await bus.wait_interrupt(10_000)
            assert bus.clocks() == written + 500
    run(body())


# -- raw ring states ------------------------------------------------------------------

def test_result_descriptor_and_command_after_a_job():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        key = bytes(range(8))
        cipher = await dev.open_cipher_channel(CipherAlg.DES, Direction.ENCODE, key)
        mac = await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, key, icv_bytes=4)
        await dev.write("INT_ENABLE", 0)
        packet, skip = esp_packet(random.Random(33), 8, 64)
        async with Buffers(bus) as buffers:
            (tag,) = await dev.submit([Job(Opcode.ENCODE, buffers.filled(packet), buffers.alloc(128),
                                           skip=skip, cipher=cipher, mac=mac)])
            await poll(dev, "INT_STATUS", lambda f: f["result"])
            result = dev.rings["RES"].read(0)
            assert RESULT.STATUS.decode(result["STATUS"]) == {
                "status": ResultStatus.OK, "cipher_channel": cipher.number, "mac_channel": mac.number,
                "opcode": Opcode.ENCODE, "own": 0}
            assert RESULT.TAG.decode(result["TAG"])["tag"] == tag
            assert RESULT.BYTES.decode(result["BYTES"])["bytes"] == len(packet) + 4
            assert result["ADDRESS"] == 0
            command = CMD.CONTROL.decode(dev.rings["CMD"].read(0)["CONTROL"])
            assert command["own"] == 0 and command["opcode"] == Opcode.ENCODE, "the card did not release the command"
            assert SEG.CONTROL.decode(dev.rings["SRC"].read(0)["CONTROL"])["own"] == 1, "the card changed a segment"
    run(body())


def test_busy_and_result_full_while_waiting_for_a_slot():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        dev.rings["RES"].write(0)
        async with Buffers(bus) as buffers:
            await dev.submit([await copy_job(buffers, random.Random(34), 64)])
            status = await poll(dev, "RING_STATUS", lambda f: f["result_full"])
            assert status["busy"] == 1 and status["cmd_empty"] == 0
    run(body())


def test_unowned_segment_in_the_middle_is_not_consumed():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        async with Buffers(bus) as buffers:
            src, dst = buffers.filled(bytes(64)), buffers.alloc(64)
            await dev.submit([Job(Opcode.COPY, [(src.address, 32), (src.address + 32, 32)], dst)])
            second = dev.rings["SRC"].read(1)      # the card has not run yet: no bus time passed
            dev.rings["SRC"].write(1, CONTROL=second["CONTROL"] & ~SEG.CONTROL.own.mask, ADDRESS=second["ADDRESS"])
            (result,) = await dev.collect()
            assert result.status is ResultStatus.BAD_DESCRIPTOR
            assert (await dev.read_fields("SRC_RING_INDEX"))["index"] == 1
            assert (await dev.read_fields("DST_RING_INDEX"))["index"] == 1
        await dev.reset()                            # the driver and the card are out of step
    run(body())


def test_segments_without_last_within_a_ring_are_refused():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus, segment_entries=2)
        async with Buffers(bus) as buffers:
            src, dst = buffers.filled(bytes(64)), buffers.alloc(64)
            await dev.submit([Job(Opcode.COPY, [(src.address, 32), (src.address + 32, 32)], dst)])
            second = dev.rings["SRC"].read(1)
            dev.rings["SRC"].write(1, CONTROL=second["CONTROL"] & ~SEG.CONTROL.last.mask, ADDRESS=second["ADDRESS"])
            (result,) = await dev.collect()
            assert result.status is ResultStatus.BAD_DESCRIPTOR
            assert (await dev.read_fields("SRC_RING_INDEX"))["index"] == 0     # both read, wrapped
    run(body())


@pytest.mark.parametrize("inject,ring,status", [
    ("inject_target_abort", "RES", ResultStatus.TARGET_ABORT),
    ("inject_master_abort", "SRC", ResultStatus.MASTER_ABORT),
    ("inject_master_abort", "CMD", ResultStatus.MASTER_ABORT),
])
def test_descriptor_bus_errors_abort_the_rings(inject, ring, status):
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        async with Buffers(bus) as buffers:
            buffer = dev.rings[ring].buffer
            getattr(bus, inject)(buffer.address, buffer.size)
            error = await raises(RingAborted, dev.run([await copy_job(buffers, random.Random(35), 64)]))
            assert error.status is status and len(error.lost) == 1
            assert f"failed with {status.name}" in str(error)
            bus.clear_faults()
            assert (await dev.config_status())[f"received_{status.name.lower()}"] == 0
            (result,) = await dev.run([await copy_job(buffers, random.Random(36), 64)])
            assert result.ok
    run(body())


def test_a_misprogrammed_ring_stops_the_rings():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        await dev.write("SRC_RING_SIZE", 3)
        async with Buffers(bus) as buffers:
            error = await raises(RingAborted, dev.run([await copy_job(buffers, random.Random(37), 64)]))
            assert error.status is ResultStatus.BAD_DESCRIPTOR
    run(body())


def test_rst_clears_contexts_control_reset_keeps_them():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        channel = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, b"key")
        address = window_address(dev, "CONTEXT", channel.number, CONTEXT.CONFIG)
        await dev.reset()
        assert CONTEXT.CONFIG.decode((await bus.mem_read(address))[0])["open"] == 1
        await bus.reset()
        await bus.config_write(dev.device, CONFIG.BAR0.offset, dev.bar0)
        await dev.set_command(memory_space=1)
        assert (await bus.mem_read(address))[0] == 0
    run(body())


def test_channel_count_is_the_build_parameter():
    async def body():
        dev = await fresh_device(ModelBus(channels=5))
        assert dev.identity.channels == 5 == (await dev.read_fields("CHANNELS"))["count"]
    run(body())
    with pytest.raises(ValueError, match="channels=0"):
        ModelBus(channels=0)


# -- allocator ---------------------------------------------------------------------

def test_alloc_aligns_and_never_overlaps():
    rng = random.Random(11)
    bus = ModelBus()
    held = []
    for _ in range(200):
        size, align = rng.randrange(1, 4096), 1 << rng.randrange(0, 10)
        buffer = bus.alloc(size, align)
        assert buffer.address % align == 0 and buffer.size == size
        bus.host_read(buffer.address, size)              # inside host memory
        held.append(buffer)
        if rng.random() < 0.4:
            bus.free(held.pop(rng.randrange(len(held))))
    held.sort(key=lambda b: b.address)
    for a, b in zip(held, held[1:]):
        assert a.address + a.size <= b.address, (a, b)


def test_alloc_reuses_the_first_hole_and_coalesces():
    bus = ModelBus(64 * 1024)
    a, b, c = (bus.alloc(1024) for _ in range(3))
    bus.free(a)
    assert bus.alloc(512).address == a.address        # first fit: the lowest hole
    bus.free(DmaBuffer(a.address, 512))
    bus.free(b)
    bus.free(c)
    whole = bus.alloc(60 * 1024)                       # holes merged back into one
    with pytest.raises(MemoryError):
        bus.alloc(8 * 1024)
    bus.free(whole)
    with pytest.raises(ValueError, match="double free"):
        bus.free(whole)


def test_alloc_zero_fills_reused_memory():
    bus = ModelBus()
    buffer = bus.alloc(256)
    bus.host_write(buffer.address, b"\xff" * 256)
    bus.free(buffer)
    again = bus.alloc(256)
    assert again.address == buffer.address
    assert bus.host_read(again.address, 256) == bytes(256)


# -- data bus errors -------------------------------------------------------------------

def test_target_abort_on_write_reports_the_failed_data_phase():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = 4 * dev.identity.caps["burst_words"]
        length = 3 * burst
        src, dst = bus.alloc(length), bus.alloc(length)
        data = random.Random(12).randbytes(length)
        bus.host_write(src.address, data)
        failing = dst.address + burst + 40
        bus.inject_target_abort(failing, 4)
        error = await raises(JobFailed, dev.copy(src, dst, length))
        assert (error.status, error.address, error.bytes) == (ResultStatus.TARGET_ABORT, failing, burst + 40)
        assert f"bus address {failing:#010x}" in str(error) and "(TARGET_ABORT)" in str(error)
        written = bus.host_read(dst.address, length)
        assert written[:burst + 40] == data[:burst + 40]
        assert written[burst + 40:] == bytes(length - burst - 40)
        assert (await dev.config_status())["received_target_abort"] == 0
        bus.clear_faults()
        assert (await dev.copy(src, dst, length)).bytes == length
    run(body())


def test_target_abort_on_read_writes_nothing():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        src, dst = bus.alloc(256), bus.alloc(256)
        bus.inject_target_abort(src.address + 8, 4)
        error = await raises(JobFailed, dev.copy(src, dst, 256))
        assert (error.status, error.address, error.bytes) == (ResultStatus.TARGET_ABORT, src.address + 8, 0)
    run(body())


def test_injected_master_abort_after_a_burst():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = 4 * dev.identity.caps["burst_words"]
        src, dst = bus.alloc(2 * burst), bus.alloc(2 * burst)
        bus.inject_master_abort(dst.address + burst, burst)
        error = await raises(JobFailed, dev.copy(src, dst, 2 * burst))
        assert (error.status, error.address, error.bytes) == (ResultStatus.MASTER_ABORT, dst.address + burst, burst)
        assert (await dev.config_status())["received_master_abort"] == 0
    run(body())


def test_burst_past_the_end_of_memory_disconnects_then_master_aborts():
    async def body():
        size = 64 * 1024
        bus = ModelBus(size)
        dev = await fresh_device(bus)
        dst = bus.alloc(64)
        error = await raises(JobFailed, dev.copy(size - 8, dst, 16))
        assert (error.status, error.address, error.bytes) == (ResultStatus.MASTER_ABORT, size, 0)
        assert (await dev.counters())["DMA_DISCONNECTS"] == 1
    run(body())


def test_overlapping_copy_follows_the_bursts():
    async def body():
        bus = ModelBus(burst_words=4)
        dev = await fresh_device(bus)
        assert dev.identity.caps["burst_words"] == 4
        region = bus.alloc(256)
        data = bytearray(random.Random(13).randbytes(256))
        bus.host_write(region.address, bytes(data))
        src, dst, length, chunk = 0, 8, 200, 16
        await dev.copy(region.address + src, region.address + dst, length)
        for done in range(0, length, chunk):        # read a burst, then write it, forward
            n = min(chunk, length - done)
            data[dst + done:dst + done + n] = data[src + done:src + done + n]
        assert bus.host_read(region.address, 256) == bytes(data)
    run(body())


def test_mac_mismatch_reports_the_output_written():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        mac = await dev.open_mac_channel(MacAlg.HMAC_MD5, Direction.DECODE, b"k" * 16)
        packet = bytes(48)
        error = await raises(JobFailed, dev.decode(packet, mac=mac))
        assert (error.status, error.bytes) == (ResultStatus.MAC_MISMATCH, len(packet) - mac.icv_bytes)
        assert "drop the output (MAC_MISMATCH)" in str(error)
    run(body())


# -- the driver's own refusals and messages ----------------------------------------------

@pytest.mark.parametrize("alg", list(CipherAlg))
def test_cipher_keys_of_the_wrong_size_are_refused(alg):
    async def body():
        dev = await fresh_device(ModelBus())
        expected = CIPHER_KEY_BYTES[alg]
        with pytest.raises(InvalidKey, match=f"{alg.name} key of {expected + 1} bytes; expected {expected} bytes"):
            await dev.open_cipher_channel(alg, Direction.ENCODE, bytes(expected + 1))
        assert dev.channels == {}
    run(body())


def test_iv_and_icv_sizes_are_checked():
    async def body():
        dev = await fresh_device(ModelBus())
        key = bytes(16)
        with pytest.raises(InvalidArgument, match="IV of 8 bytes; expected 16 bytes .CBC with the IV from the context"):
            await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key, iv_source=IvSource.CONTEXT,
                                          iv=bytes(8))
        with pytest.raises(InvalidArgument, match="expected 0 bytes .ECB takes no IV"):
            await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key, mode=CipherMode.ECB, iv=bytes(16))
        with pytest.raises(InvalidArgument, match="expected 16 bytes .CBC with IV1 from the packet, IV2‖IV3"):
            await dev.open_cipher_channel(CipherAlg.TDES_OUTER, Direction.ENCODE, bytes(24))
        with pytest.raises(InvalidArgument, match="ICV of 6 bytes; expected a multiple of 4 from 4 to 20 bytes"):
            await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, key, icv_bytes=6)
        with pytest.raises(InvalidKey, match="DES_MAC key of 16 bytes; expected 8 bytes"):
            await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, key, icv_bytes=8)
        with pytest.raises(InvalidArgument, match="channel 3 is not open"):
            await dev.close_channel(3)
        with pytest.raises(InvalidArgument, match="channel 99; expected 0 to 15"):
            await dev.channel_counters(99)
        assert dev.channels == {}
    run(body())


def test_channels_exhausted_names_the_count():
    async def body():
        dev = await fresh_device(ModelBus(channels=2))
        for _ in range(2):
            await dev.open_mac_channel(MacAlg.HMAC_MD5, Direction.ENCODE, b"k")
        with pytest.raises(ChannelsExhausted, match="all 2 channels of the card are open .CHANNELS.count = 2"):
            await dev.open_mac_channel(MacAlg.HMAC_MD5, Direction.ENCODE, b"k")
    run(body())


def test_job_failed_messages_say_what_and_what_was_expected():
    job = Job(Opcode.COPY, (0x100, 1024), (0x4000_0000, 1024), tag=5)
    abort = JobFailed(ResultStatus.MASTER_ABORT, job=job, address=0x4000_0000, bytes=0)
    assert str(abort) == ("COPY job (tag 5, 1024 bytes) failed after 0 output bytes: no target claimed the "
                          "card's access to bus address 0x40000000; expected host memory there (MASTER_ABORT)")
    refused = JobFailed(ResultStatus.BAD_DESCRIPTOR, job=job)
    assert "expected each owned by the card, with a non-zero length that is a multiple of 4" in str(refused)
    lost = JobFailed(DriverStatus.LOST_TO_RESET, job=job)
    assert "reset before the job's result was collected" in str(lost) and "(LOST_TO_RESET)" in str(lost)
    odd = Job(9, [], [], length=8, skip=4, cipher=3, tag=1)
    assert odd.describe() == "opcode-9 job (tag 1, 8 bytes, skip 4, cipher channel 3)"
    with pytest.raises(ValueError):
        JobFailed(ResultStatus.OK, job=job)


def test_driver_refuses_what_the_card_cannot_see():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        small, big = bus.alloc(64), bus.alloc(1024)
        with pytest.raises(InvalidArgument, match="holds 64 bytes; the copy needs 128"):
            await dev.copy(small, big, 128)
        with pytest.raises(InvalidArgument, match="length 16777216 does not fit 24 bits; expected 0 to 16777215"):
            await dev.copy(0, 0, 1 << 24)
        with pytest.raises(InvalidArgument, match="not a 32-bit bus address"):
            await dev.copy(1 << 32, big, 4)
        with pytest.raises(InvalidArgument, match="expected a DmaBuffer, an .address, length. pair"):
            await dev.submit([Job(Opcode.COPY, "nowhere", big)])
        with pytest.raises(KeyError, match="no register 'NOPE'"):
            await dev.read("NOPE")
        assert dev.in_flight == 0
    run(body())


def test_probe_refuses_ring_sizes_the_card_does_not_take():
    with pytest.raises(InvalidArgument, match="CMD ring of 48 entries; expected a power of two from 2 to 4096"):
        run(PacDevice.probe(ModelBus(), command_entries=48))


def test_probe_on_an_empty_bus_raises_card_not_found():
    with pytest.raises(CardNotFound, match="no PAC .vendor 0x7ac5"):
        run(PacDevice.probe(ModelBus(card_device=None)))


def test_probe_finds_the_card_at_another_device_number():
    async def body():
        bus = ModelBus(card_device=9)
        dev = await fresh_device(bus)
        assert dev.device == 9
        assert await bus.config_read(4, CONFIG.ID.offset) == 0xFFFF_FFFF
    run(body())


def test_scan_lists_the_pac_and_probe_takes_a_named_device():
    async def body():
        bus = ModelBus(card_device=9)
        await bus.reset()
        assert await PacDevice.scan(bus) == [9]
        dev = await PacDevice.probe(bus, device=9)
        assert dev.device == 9 and await dev.read("IDENT") == 0x50414331
        with pytest.raises(CardNotFound, match="no PAC .* at device 4 of bus 0; no device answered"):
            await PacDevice.probe(bus, device=4)
        with pytest.raises(InvalidArgument, match="device 21: expected a device number 0-20"):
            await PacDevice.probe(bus, device=21)
        assert await PacDevice.scan(ModelBus(card_device=None)) == []
    run(body())


def test_the_platform_assigns_each_device_its_own_bar_range():
    bus = ModelBus()
    base, size = bus.mmio_window()
    first = bus.assign_mmio(4, 0x10000)
    second = bus.assign_mmio(5, 0x10000)
    assert (first, second) == (base, base + 0x10000)
    assert bus.assign_mmio(4, 0x10000) == first                     # re-probing keeps the range
    big = bus.assign_mmio(6, 0x100000)
    assert big % 0x100000 == 0 and big >= second + 0x10000           # aligned past the others
    assert bus.assign_mmio(4, 0x20000) not in (first, second, big)   # a new size moves the device
    assert bus.assign_mmio(7, 0x10000) == first                      # its old range is free again
    with pytest.raises(ValueError, match="power of two"):
        bus.assign_mmio(8, 0x3000)
    with pytest.raises(ValueError, match="no 268435456-byte aligned range left for device 8"):
        bus.assign_mmio(8, size)


def test_probe_after_reprobe_keeps_bar0():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        again = await PacDevice.probe(bus)
        assert again.bar0 == dev.bar0
    run(body())


class _ForgedRegister(ModelBus):
    """A model bus whose card answers one BAR0 register with a forged value."""

    def __init__(self, register, value):
        super().__init__()
        self.register, self.value = register, value

    async def mem_read(self, address, count=1):
        values = await super().mem_read(address, count)
        if address == self.card.bar0 + self.register.offset:
            values[0] = self.value
        return values


@pytest.mark.parametrize("register,value,message", [
    (BAR0.IDENT, 0x1234_5678, "IDENT reads 0x12345678; expected 0x50414331"),
    (BAR0.VERSION, BAR0.VERSION.encode(major=9), "this driver speaks major version"),
])
def test_probe_rejects_an_unsupported_card(register, value, message):
    with pytest.raises(UnsupportedCard, match=message):
        run(PacDevice.probe(_ForgedRegister(register, value)))


def test_a_result_out_of_order_is_reported():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        async with Buffers(bus) as buffers:
            await dev.submit([await copy_job(buffers, random.Random(38), 64)])
            assert await bus.wait_interrupt(10_000)
            written = dev.rings["RES"].read(0)
            dev.rings["RES"].write(0, **{**written, "TAG": 12345})     # forge the card's result
            with pytest.raises(PacError, match="result slot 0 holds tag 12345; expected 1"):
                await dev.collect()
    run(body())


def test_buffers_are_returned():
    async def body():
        bus = ModelBus(64 * 1024)
        for _ in range(4):
            async with Buffers(bus) as buffers:
                buffers.alloc(48 * 1024)
    run(body())


# -- benches -------------------------------------------------------------------------

def test_bench_dma_model_row():
    row = bench_dma_model(8192)
    assert row["bench"] == "dma" and row["bytes"] == 8192 and 0 < row["bytes_per_clock"] < 2


def test_bench_crypto_model_rows():
    rows = {alg: bench_crypto_model(alg, 256) for alg in
            ("aes128-cbc+hmac-sha1-96", "3des-cbc+hmac-sha1-96", "des-cbc+hmac-md5-96")}
    for alg, row in rows.items():
        assert set(row) == {"bench", "bus", "alg", "packet_bytes", "engine_clocks_per_block", "bytes_per_pci_clock",
                            "mbit_s_at_33mhz", "core_clock_mhz", "sim_clocks_per_second"}
        assert (row["bench"], row["bus"], row["alg"], row["packet_bytes"], row["core_clock_mhz"]) == \
               ("crypto", "model", alg, 256, 33)
        assert 0 < row["bytes_per_pci_clock"] < 2, row      # every byte crosses the bus twice
        assert row["mbit_s_at_33mhz"] == pytest.approx(row["bytes_per_pci_clock"] * 8 * 33, abs=0.1)
    assert rows["3des-cbc+hmac-sha1-96"]["engine_clocks_per_block"] == \
        COSTS.cipher_block_clocks(CipherAlg.TDES_INNER, CipherMode.CBC, Direction.ENCODE)
    assert rows["3des-cbc+hmac-sha1-96"]["bytes_per_pci_clock"] < rows["aes128-cbc+hmac-sha1-96"]["bytes_per_pci_clock"]
    with pytest.raises(ValueError, match="unknown crypto bench 'rot13'"):
        bench_crypto_model("rot13", 256)
    with pytest.raises(ValueError, match="expected a positive payload size"):
        bench_crypto_model("aes128-cbc+hmac-sha1-96", 0)


def test_esp_header_matches_the_bench():
    packet, skip = esp_packet(random.Random(39), CIPHER_BLOCK_BYTES[CipherAlg.AES128], 32)
    assert skip == ESP_HEADER + 16 and len(packet) == skip + 32


def test_cost_model_engine_clocks_match_the_rtl_engines():
    """The model's engine timing is the RTL engines' measured figures, not a second opinion."""
    from pacsim.hdl.cipher_unit import CipherUnit
    from pacsim.hdl.mac_unit import MacUnit
    from pacsim.contract.codes import CipherMode, MacAlg
    cipher, mac = CipherUnit(), MacUnit()
    for alg in CipherAlg:
        for mode in CipherMode:
            for direction in Direction:
                key = (alg, mode, direction is Direction.DECODE)
                assert COSTS.cipher_block_clocks(alg, mode, direction) == cipher.clocks_per_block[key], key
    for alg in MacAlg:
        assert COSTS.mac_block_clocks(alg) == (mac.clocks_per_block[alg], mac.block_bytes[alg]), alg


# -- compression, public key, random numbers: model only (large or many) ------------------------

def test_lzs_many_packets_round_trip_in_batches():
    """60 packets of every corpus kind (up to 1500 bytes) compressed in two
    batches: each stream is the hardware compressor's and decodes; the
    software compressor's streams decompress back in one batch."""
    async def body():
        bus = ModelBus(memory_size=4 << 20)
        dev = await fresh_device(bus)
        encoder = await dev.open_comp_channel(Direction.ENCODE)
        decoder = await dev.open_comp_channel(Direction.DECODE)
        rng = random.Random(50)
        packets = [corpus(rng, KINDS[n % len(KINDS)], rng.randint(0, 1500)) for n in range(60)]
        async with Buffers(bus) as buffers:
            for batch in (packets[:30], packets[30:]):
                jobs = [lzs_job(Opcode.COMPRESS, buffers, p, buffers.alloc(-(-lzs_bound(len(p)) // 4) * 4), encoder)
                        for p in batch]
                for packet, job, result in zip(batch, jobs, await dev.run(jobs)):
                    stream = bus.host_read(job.destination.address, result.check().bytes)
                    assert stream == hardware_compress(packet) and decompress(stream, len(packet)) == packet
                jobs = [lzs_job(Opcode.DECOMPRESS, buffers, lzs_compress(p), buffers.alloc(max(4, -(-len(p) // 4) * 4)),
                                decoder) for p in batch]
                for packet, job, result in zip(batch, jobs, await dev.run(jobs)):
                    assert bus.host_read(job.destination.address, result.check().bytes) == packet
        counters = await dev.alg_counters()
        assert counters[AlgUnit.LZS]["encode_good"] == counters[AlgUnit.LZS]["decode_good"] == 60
    run(body())


def test_lzs_malformed_streams_end_cleanly():
    """400 random and mutated streams with random destinations: the
    reference's outcome (status and the bytes before an error, zero-padded
    to the dword), never a byte past the destination, the rings intact."""
    async def body():
        bus = ModelBus(memory_size=4 << 20)
        dev = await fresh_device(bus)
        decoder = await dev.open_comp_channel(Direction.DECODE)
        rng = random.Random(51)
        cases = malformed_streams(rng, 400, max_size=300)
        seen = set()
        async with Buffers(bus) as buffers:
            for start in range(0, len(cases), 40):
                batch, jobs, places = cases[start:start + 40], [], []
                for stream, limit in batch:
                    room = max(4, -(-limit // 4) * 4)
                    region = buffers.alloc(room + 64)
                    background = rng.randbytes(region.size)
                    bus.host_write(region.address, background)
                    jobs.append(lzs_job(Opcode.DECOMPRESS, buffers, stream, (region.address, room), decoder))
                    places.append((room, region, background))
                for (stream, _), (room, region, background), result in zip(batch, places, await dev.run(jobs)):
                    error, output = outcome(stream, room)
                    assert (result.status, result.bytes) == (STREAM_STATUS[error], len(output)), stream.hex()
                    written = -(-len(output) // 4) * 4
                    out = bus.host_read(region.address, region.size)
                    assert out[:written] == output + bytes(written - len(output)), stream.hex()
                    assert out[written:] == background[written:], f"{stream.hex()}: wrote past its output"
                    seen.add(result.status)
        assert seen == set(STREAM_STATUS.values()), seen
        status = await dev.read_fields("RING_STATUS")
        assert not status["aborted"] and not status["busy"], status
    run(body())


def test_lzs_engine_time_is_modelled():
    """A COMPRESS takes at least one clock per input byte; a DECOMPRESS of a
    long run at least one clock per output byte."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        encoder = await dev.open_comp_channel(Direction.ENCODE)
        decoder = await dev.open_comp_channel(Direction.DECODE)
        packet = corpus(random.Random(52), "text", 1500)
        start = bus.clocks()
        stream = await dev.compress(packet, channel=encoder)
        assert bus.clocks() - start >= len(packet)
        start = bus.clocks()
        assert await dev.decompress(lzs_compress(bytes(4000)), channel=decoder, limit=4000) == bytes(4000)
        assert bus.clocks() - start >= 4000
        assert await dev.decompress(stream, channel=decoder, limit=len(packet)) == packet
    run(body())


def test_lzs_driver_limits():
    """compress/decompress limits that are not dword multiples: an output in
    the rounding is the driver's OUTPUT_OVERFLOW; limit 0 and negative limits."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        encoder = await dev.open_comp_channel(Direction.ENCODE)
        decoder = await dev.open_comp_channel(Direction.DECODE)
        stream = await dev.compress(b"abcdefgh", channel=encoder)        # 8 literals + end marker: 11 bytes
        assert len(stream) == 11
        error = await raises(JobFailed, dev.compress(b"abcdefgh", channel=encoder, limit=10))
        assert error.status is ResultStatus.OUTPUT_OVERFLOW and error.bytes == 11, error
        assert await dev.compress(b"abcdefgh", channel=encoder, limit=11) == stream
        error = await raises(JobFailed, dev.decompress(stream, channel=decoder, limit=5))
        assert error.status is ResultStatus.OUTPUT_OVERFLOW and error.bytes == 8, error
        error = await raises(JobFailed, dev.decompress(stream, channel=decoder, limit=3))
        assert error.status is ResultStatus.OUTPUT_OVERFLOW and error.bytes == 4, error
        assert await dev.decompress(lzs_compress(b""), channel=decoder, limit=0) == b""
        assert await dev.compress(b"", channel=encoder) == bytes([0xC0, 0x00])
        for limit in (-1, 1.5, None):
            await raises(InvalidArgument, dev.decompress(stream, channel=decoder, limit=limit))
        error = await raises(JobFailed, dev.compress(b"x", channel=decoder))
        assert error.status is ResultStatus.CHANNEL_MISMATCH
        assert "compression channel" in str(error)
    run(body())


def test_modexp_2048_bits_and_group_14_exchange():
    """modexp at 2048 bits (full-length and 256-bit exponents) equals pow;
    the model takes the engine's exact clocks (PK_CLOCKS); a default key pair
    in group 14 (256-bit private exponent) agrees with cryptography."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        rng = random.Random(53)
        modulus = rng.getrandbits(2048) | 1 << 2047 | 1
        for exponent in (rng.getrandbits(2048), rng.getrandbits(256) | 1 << 255):
            base = rng.getrandbits(2048)
            start = bus.clocks()
            assert await dev.modexp(base, exponent, modulus) == pow(base, exponent, modulus)
            clocks = modexp_clocks(2048, exponent.bit_length(), words=64)
            assert await dev.read("PK_CLOCKS") == clocks
            assert bus.clocks() - start >= clocks
        group = GROUPS[14]
        private, public = await dev.dh_keypair(14)
        assert private.bit_length() == DH_PRIVATE_BITS
        parameters = dh.DHParameterNumbers(group.prime, group.generator).parameters()
        theirs = parameters.generate_private_key()
        secret = await dev.dh_shared(14, private, theirs.public_key().public_numbers().y)
        assert secret == theirs.exchange(dh.DHPublicNumbers(public, parameters.parameter_numbers()).public_key())
    run(body())


def test_modexp_timeout_busy_unit_and_pending_results():
    """The driver's own timeout aborts the operation (CardTimeout); a busy
    unit is refused; a modexp while uncollected results hold INTA# completes
    by polling, and the results are collected afterwards."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        rng = random.Random(54)
        modulus = rng.getrandbits(2048) | 1 << 2047 | 1
        error = await raises(CardTimeout, dev.modexp(3, rng.getrandbits(2048), modulus, timeout_clocks=5000))
        assert "aborted" in str(error)
        status = await dev.read_fields("PK_STATUS")
        assert (status["busy"], status["status"]) == (0, ModExpStatus.ABORTED), status
        assert (await dev.read_fields("INT_STATUS"))["pk"] == 0
        await dev.write("PK_SIZE", BAR0.PK_SIZE.encode(words=64, exp_bits=2048))
        await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))
        await raises(PacError, dev.modexp(3, 5, 7))
        await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(abort=1))
        async with Buffers(bus) as buffers:
            tags = await dev.submit([await copy_job(buffers, rng, 64)])
            assert await bus.wait_interrupt(10_000)
            assert await dev.modexp(5, 65537, modulus) == pow(5, 65537, modulus)
            assert [r.tag for r in await dev.collect()] == tags
    run(body())


def test_pk_unit_of_a_smaller_build():
    """A 512-bit build: PK_STATUS.max_words 16, operand words beyond it read
    0 and ignore writes, larger moduli are refused by the driver (and
    BAD_SIZE by the unit)."""
    async def body():
        bus = ModelBus(pk_words=16)
        dev = await fresh_device(bus)
        assert dev.identity.pk_words == 16
        address = window_address(dev, "PK_OPERANDS", 0) + 4 * 16
        await bus.mem_write(address, [0x1234_5678])
        assert await bus.mem_read(address) == [0]
        await raises(InvalidArgument, dev.modexp(2, 3, GROUPS[1].prime))
        assert await dev.modexp(2, 3, GROUPS[0].prime) == 8
        await dev.write("PK_SIZE", BAR0.PK_SIZE.encode(words=24, exp_bits=8))
        await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))
        assert (await dev.read_fields("PK_STATUS"))["status"] == ModExpStatus.BAD_SIZE
    run(body())


def test_rng_reseed_required():
    """With a reseed interval of 2: a caller-seeded generator refuses the
    third request (RngFailed RESEED_REQUIRED, ready 0) until rng_reseed; a
    driver-seeded one is reseeded by the driver from os.urandom."""
    async def body():
        bus = ModelBus(rng_reseed_interval=2)
        dev = await fresh_device(bus)
        seed = bytes(range(48))
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        assert await dev.random(32) == reference.generate(16) + reference.generate(16)
        error = await raises(RngFailed, dev.random(1))
        assert error.status is DrbgStatus.RESEED_REQUIRED and "rng_reseed" in str(error)
        assert (await dev.read_fields("RNG_STATUS"))["ready"] == 0
        await dev.rng_reseed(seed[::-1])
        reference.reseed(seed[::-1])
        assert await dev.random(16) == reference.generate(16)
        await dev.reset()
        assert len(await dev.random(100)) == 100                 # 7 requests: reseeded by the driver
        assert dev._rng_seeded_by == "driver"
        assert await dev.bus.mem_read(dev.bar0 + BAR0.RNG_SEED0.offset, 12) == [0] * 12, "seed material left behind"
    run(body())


def test_rng_continuous_test_failure_until_reset():
    """A generated block equal to the previous one fails the continuous
    test: HEALTH_FAILED for that and every later command until a reset."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        await dev.rng_instantiate(bytes(48))
        await dev.random(16)
        unit = bus.card._rng
        unit.last_block = copy.deepcopy(unit.drbg).generate(16)   # the next block repeats "the last"
        error = await raises(RngFailed, dev.random(16))
        assert error.status is DrbgStatus.HEALTH_FAILED
        for call in (dev.rng_instantiate(bytes(48)), dev.rng_reseed(bytes(48)), dev.random(16)):
            assert (await raises(RngFailed, call)).status is DrbgStatus.HEALTH_FAILED
        await dev.reset()
        assert len(await dev.random(16)) == 16
    run(body())


def test_rng_power_on_self_test_and_timing():
    """After RST# and CONTROL.reset the generator is busy for its self-test
    (112 clocks), and a start then is ignored; commands take the engine's clocks."""
    async def body():
        bus = ModelBus()
        await bus.reset()
        assert bus.card._rng.busy
        dev = await PacDevice.probe(bus)                            # ends with CONTROL.reset
        start = bus.clocks()
        await poll(dev, "RNG_STATUS", lambda f: not f["busy"])
        assert bus.clocks() - start <= COSTS.rng_power_on_clocks()
        await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
        await dev.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=DrbgCommand.UNINSTANTIATE, start=1))
        status = await poll(dev, "RNG_STATUS", lambda f: not f["busy"])
        assert status["status"] == DrbgStatus.OK and bus.card._rng._pending is None
        await dev.reset()
        start = bus.clocks()
        await dev.rng_instantiate(bytes(48))
        assert bus.clocks() - start >= COSTS.rng_clocks(DrbgCommand.INSTANTIATE)
    run(body())
