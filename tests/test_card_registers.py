"""The model card's precompiled register handling (:mod:`pacsim.sim.card_registers`)
and the caches the model keeps for speed.

The masks are checked against the register descriptions field by field (an
independent, slow evaluation of each access type written here), the BAR0
decode against the window arithmetic of :data:`~pacsim.contract.regmap.WINDOWS`;
then on a model card: a channel's cached decoding is dropped by any write
into its context (the next job uses the new words), RST# drops it, and a
burst into the PK operand window leaves the same operand memory as the
same words written one by one (busy unit and words past ``max_words``
included).
"""
import asyncio
import hashlib
import hmac
import random

from driver_suite_support import fresh_device, window_address
from pacsim.contract.codes import AlgUnit, Direction, MacAlg
from pacsim.contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CONTEXT, RESULT, SEG, CMD
from pacsim.contract.pk import ModExpSlot
from pacsim.contract.regmap import BAR0, CONFIG, WINDOWS, Access
from pacsim.host.channels import mac_context
from pacsim.sim.card_registers import REGISTERS, Bar0Decoder, field, set_fields, store
from pacsim.sim.model_bus import ModelBus

ALL_REGISTERS = [*CONFIG, *BAR0, *CONTEXT, *ALG_COUNTERS, *CHANNEL_COUNTERS, *CMD, *SEG, *RESULT]


def field_by_field(reg, old: int, value: int, byte_enables: int) -> tuple:
    """A register write evaluated one field and one byte lane at a time."""
    new, triggered = old, []
    for f in reg.fields:
        for bit in range(f.offset, f.offset + f.width):
            if not byte_enables >> (bit // 8) & 1:
                continue
            written = value >> bit & 1
            if f.access is Access.RW:
                new = new & ~(1 << bit) | written << bit
            elif f.access is Access.RW1C and written:
                new &= ~(1 << bit)
            elif f.access is Access.W1S and written and f.name not in triggered:
                triggered.append(f.name)
    return new, triggered


def test_store_matches_each_access_type_field_by_field():
    rng = random.Random("store")
    for reg in ALL_REGISTERS:
        fields_mask = sum(f.mask for f in reg.fields)
        for _ in range(40):
            old = rng.getrandbits(32) & fields_mask        # a stored word has no bits outside its fields
            value, enables = rng.getrandbits(32), rng.randrange(16)
            assert store(reg, old, value, enables) == field_by_field(reg, old, value, enables), reg.name


def test_set_fields_and_field_match_encode_and_decode():
    rng = random.Random("fields")
    for reg in ALL_REGISTERS:
        for _ in range(20):
            values = {f.name: rng.getrandbits(f.width) for f in reg.fields if rng.random() < 0.7}
            word = reg.encode(**{f.name: rng.getrandbits(f.width) for f in reg.fields})
            expected = reg.decode(word)
            expected.update(values)
            assert set_fields(word, reg, **values) == reg.encode(**expected), reg.name
            assert all(field(word, reg, f.name) == reg.decode(word)[f.name] for f in reg.fields)


def test_bar0_decoder_matches_the_window_arithmetic():
    channels = 5
    entries = {"ALG_COUNTERS": len(AlgUnit), "CHANNEL_COUNTERS": channels, "CONTEXT": channels}
    layouts = {"ALG_COUNTERS": ALG_COUNTERS, "CHANNEL_COUNTERS": CHANNEL_COUNTERS, "CONTEXT": CONTEXT}
    decoder = Bar0Decoder(channels)
    found = 0
    for offset in range(0, BAR0.size, 4):
        expected = (REGISTERS, 0, BAR0.at(offset)) if BAR0.at(offset) is not None else None
        for name, layout in layouts.items():
            base, size = WINDOWS[name]
            index, inner = divmod(offset - base, size)
            if expected is None and 0 <= index < entries[name] and layout.at(inner) is not None:
                expected = (name, index, layout.at(inner))
        assert decoder.locate(offset) == expected, hex(offset)
        found += expected is not None
    assert found == len(BAR0.registers) + sum(entries[n] * len(layouts[n].registers) for n in layouts)


def hmac_words(key: bytes) -> dict:
    words, _ = mac_context(MacAlg.HMAC_SHA1, Direction.ENCODE, key, 20)
    return words


def test_a_context_write_drops_the_channel_cached_decoding():
    """Pad states rewritten in place (the channel stays open) and RST#: the next job sees the new words."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        channel = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, b"first key", icv_bytes=20)
        message = b"the same message, twice"
        assert await dev.hash(message, mac=channel) == hmac.new(b"first key", message, hashlib.sha1).digest()
        for name, word in hmac_words(b"second key").items():
            await bus.mem_write(window_address(dev, "CONTEXT", channel.number, getattr(CONTEXT, name)), [word])
        assert await dev.hash(message, mac=channel) == hmac.new(b"second key", message, hashlib.sha1).digest()
        await bus.reset()                                  # RST#: contexts cleared, the channel is closed
        await bus.config_write(dev.device, CONFIG.BAR0.offset, dev.bar0)
        await dev.set_command(memory_space=1, bus_master=1)
        await dev.reset()
        assert CONTEXT.CONFIG.decode((await bus.mem_read(
            window_address(dev, "CONTEXT", channel.number, CONTEXT.CONFIG)))[0])["open"] == 0
    asyncio.run(body())


def test_operand_bursts_write_what_single_words_write():
    """Bursts in one slot, across a slot boundary, past max_words, and while the unit is busy."""
    async def body():
        rng = random.Random("operands")
        burst_bus, word_bus = ModelBus(pk_words=8), ModelBus(pk_words=8)
        burst_dev, word_dev = await fresh_device(burst_bus), await fresh_device(word_bus)
        slot_words = WINDOWS["PK_OPERANDS"][1] // 4
        writes = [(ModExpSlot.BASE, 0, 8), (ModExpSlot.EXPONENT, 3, 4), (ModExpSlot.MODULUS, 6, 5),
                  (ModExpSlot.BASE, slot_words - 2, 4), (ModExpSlot.RESULT, 1, 3)]
        for slot, first, count in writes:
            values = [rng.getrandbits(32) for _ in range(count)]
            enables = rng.choice([0xF, 0x5, 0xE])
            address = burst_dev._window("PK_OPERANDS", slot) + 4 * first
            await burst_bus.mem_write(address, values, enables)
            for k, value in enumerate(values):
                await word_bus.mem_write(word_dev._window("PK_OPERANDS", slot) + 4 * (first + k), [value], enables)
        for slot in ModExpSlot:
            start = burst_dev._window("PK_OPERANDS", slot)
            burst = await burst_bus.mem_read(start, slot_words)
            singles = [(await word_bus.mem_read(word_dev._window("PK_OPERANDS", slot) + 4 * k))[0]
                       for k in range(slot_words)]
            assert burst == singles and burst[8:] == [0] * (slot_words - 8)
            assert burst_bus.card._pk.operands == word_bus.card._pk.operands
        await burst_dev.write("PK_SIZE", BAR0.PK_SIZE.encode(words=8, exp_bits=200))
        await burst_dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))
        before = [list(slot) for slot in burst_bus.card._pk.operands]
        await burst_bus.mem_write(burst_dev._window("PK_OPERANDS", ModExpSlot.BASE), [0xFFFF_FFFF] * 8)
        assert burst_bus.card._pk.busy and burst_bus.card._pk.operands == before
    asyncio.run(body())
