# Ref: docs/rings.md, "Channels" and "Counters"; contract/layouts.py (CONTEXT, CHANNEL_COUNTERS, ALG_COUNTERS)
"""The channel context store and the job counters.

``ChannelStore`` keeps one 128-byte context per channel in a memory as wide
as a context, so the datapath sees a whole context in the clock it names the
channel; the host reads and writes it dword by dword through BAR0 (byte
enables honoured).

``CounterBank`` keeps 32-bit counters in a memory: the host reads them
through BAR0; the ring engine adds to one counter per clock; ``clear``
zeroes them all (one per clock, ``clearing`` meanwhile).
"""
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..contract.layouts import CONTEXT

__all__ = ["ChannelStore", "CounterBank", "CONTEXT_BITS"]

#: Bits of one channel context.
CONTEXT_BITS = CONTEXT.size * 8
_CONTEXT_WORDS = CONTEXT.size // 4


class ChannelStore(wiring.Component):
    """Contexts of ``channels`` channels.

    Ports (``sync``): ``bar_addr`` In (dword index into the context window:
    channel * 32 + dword), ``bar_we`` In(1), ``bar_wdata`` In(32), ``bar_wbe``
    In(4, active-high byte enables), ``bar_rdata`` Out(32, combinational);
    ``cipher_channel``/``mac_channel`` In(8) and ``cipher_context``/
    ``mac_context`` Out(1024, combinational: the whole context, dword *k* at
    bits [32k+31:32k]); ``comp_channel`` In(8) and ``comp_config`` Out(32,
    combinational: that channel's CONFIG dword, from a copy of the CONFIG
    dwords kept beside the contexts, all a compression channel holds).
    Channel numbers at or above ``channels`` read 0.
    """

    def __init__(self, channels: int):
        self.channels = channels
        self.index_bits = max(1, (channels * _CONTEXT_WORDS - 1).bit_length())
        super().__init__({
            "bar_addr": In(self.index_bits), "bar_we": In(1), "bar_wdata": In(32),
            "bar_wbe": In(4), "bar_rdata": Out(32),
            "cipher_channel": In(8), "cipher_context": Out(CONTEXT_BITS),
            "mac_channel": In(8), "mac_context": Out(CONTEXT_BITS),
            "comp_channel": In(8), "comp_config": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.contexts = contexts = Memory(shape=CONTEXT_BITS, depth=self.channels, init=[])
        channel = self.bar_addr // _CONTEXT_WORDS
        dword = Signal(range(_CONTEXT_WORDS))
        m.d.comb += dword.eq(self.bar_addr % _CONTEXT_WORDS)

        write = contexts.write_port(granularity=8)
        defined = Signal(_CONTEXT_WORDS)      # dwords the CONTEXT layout defines
        host_read = contexts.read_port(domain="comb")
        m.d.comb += [
            write.addr.eq(channel), host_read.addr.eq(channel),
            write.data.eq(self.bar_wdata.replicate(_CONTEXT_WORDS)),
            self.bar_rdata.eq(host_read.data.word_select(dword, 32) & defined.bit_select(dword, 1).replicate(32)),
        ]
        # Only the context's defined dwords hold data; the rest read 0.
        m.d.comb += defined.eq(sum(1 << (reg.offset // 4) for reg in CONTEXT))
        with m.If(self.bar_we & (channel < self.channels) & defined.bit_select(dword, 1)):
            m.d.comb += write.en.word_select(dword, 4).eq(self.bar_wbe)

        m.submodules.configs = configs = Memory(shape=32, depth=self.channels, init=[])
        config_write = configs.write_port(granularity=8)
        config_read = configs.read_port(domain="comb")
        m.d.comb += [config_write.addr.eq(channel), config_write.data.eq(self.bar_wdata),
                     config_read.addr.eq(self.comp_channel)]
        with m.If(self.bar_we & (channel < self.channels) & (dword == CONTEXT.CONFIG.offset // 4)):
            m.d.comb += config_write.en.eq(self.bar_wbe)
        with m.If(self.comp_channel < self.channels):
            m.d.comb += self.comp_config.eq(config_read.data)

        for name in ("cipher", "mac"):
            port = contexts.read_port(domain="comb")
            number = getattr(self, f"{name}_channel")
            m.d.comb += port.addr.eq(number)
            with m.If(number < self.channels):
                m.d.comb += getattr(self, f"{name}_context").eq(port.data)
        return m


class CounterBank(wiring.Component):
    """``depth`` 32-bit counters.

    Ports (``sync``): ``bar_addr`` In (counter index), ``bar_rdata`` Out(32,
    combinational); ``add`` In(1), ``add_addr`` In, ``add_value`` In(32): add
    ``add_value`` to counter ``add_addr`` (one addition per clock, visible
    the next clock); ``clear`` In(1) pulse: zero every counter, one per
    clock, ``clearing`` Out(1) high until done (additions are ignored then).
    """

    def __init__(self, depth: int):
        self.depth = depth
        bits = max(1, (depth - 1).bit_length())
        super().__init__({
            "bar_addr": In(bits), "bar_rdata": Out(32),
            "add": In(1), "add_addr": In(bits), "add_value": In(32),
            "clear": In(1), "clearing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.counters = counters = Memory(shape=32, depth=self.depth, init=[])
        host_read = counters.read_port(domain="comb")
        current = counters.read_port(domain="comb")
        write = counters.write_port()
        sweep = Signal(range(self.depth + 1))
        m.d.comb += [host_read.addr.eq(self.bar_addr), self.bar_rdata.eq(host_read.data),
                     current.addr.eq(self.add_addr)]
        with m.If(self.clear):
            m.d.sync += [self.clearing.eq(1), sweep.eq(0)]
        with m.Elif(self.clearing):
            m.d.comb += [write.addr.eq(sweep), write.data.eq(0), write.en.eq(1)]
            m.d.sync += sweep.eq(sweep + 1)
            with m.If(sweep == self.depth - 1):
                m.d.sync += self.clearing.eq(0)
        with m.Elif(self.add):
            m.d.comb += [write.addr.eq(self.add_addr), write.data.eq(current.data + self.add_value),
                         write.en.eq(1)]
        return m
