# Ref: docs/rings.md, "Rings" step 5 (data streamed between DMA and the engines)
"""Circular buffers between the bus master's bursts and the datapath's word streams.

``InBuffer``: the master's read bursts fill it (at ``base`` + the burst's
dword index); a burst's words become visible to the stream ``o`` only when
the burst is committed (``commit`` with the number of words moved), so a
retried or aborted burst never leaks partial data.

``OutBuffer``: the datapath's stream ``i`` fills it; the master's write
bursts read it (at ``base`` + index, one clock read latency) and ``commit``
frees the words a burst moved.

Common ports (``sync``): ``base`` Out(w): where the next burst starts;
``bus_addr`` In(w): the master's dword index within its burst (for reads
into InBuffer this is the write address offset; for OutBuffer the read
address offset); ``commit`` In(1) + ``commit_words`` In(w+1); ``count``
Out(w+1): committed words held; ``free`` Out(w+1); ``flush`` In(1): empty
the buffer at once. InBuffer: ``bus_we`` In(1), ``bus_wdata`` In(32), ``o``
Out(stream of 32). OutBuffer: ``bus_rdata`` Out(32), ``i`` In(stream of 32).
``depth`` is a power of two (dwords).
"""
from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["InBuffer", "OutBuffer"]


def _ports(depth, extra):
    w = (depth - 1).bit_length()
    return {"base": Out(w), "bus_addr": In(w), "commit": In(1), "commit_words": In(w + 1),
            "count": Out(w + 1), "free": Out(w + 1), "flush": In(1), **extra}


class InBuffer(wiring.Component):
    """Bus to stream; see the module docstring."""

    def __init__(self, depth: int = 512):
        self.depth = depth
        super().__init__(_ports(depth, {"bus_we": In(1), "bus_wdata": In(32),
                                        "o": Out(stream.Signature(32))}))

    def elaborate(self, platform):
        m = Module()
        w = (self.depth - 1).bit_length()
        m.submodules.mem = mem = Memory(shape=32, depth=self.depth, init=[])
        wr = mem.write_port()
        rd = mem.read_port(transparent_for=(wr,))
        head = Signal(w)      # next word the stream hands out
        m.d.comb += [
            wr.addr.eq(self.base + self.bus_addr), wr.data.eq(self.bus_wdata), wr.en.eq(self.bus_we),
            self.free.eq(self.depth - self.count),
            self.o.valid.eq(self.count != 0), self.o.payload.eq(rd.data),
        ]
        take = self.o.valid & self.o.ready
        m.d.comb += rd.addr.eq(head + take)
        with m.If(take):
            m.d.sync += head.eq(head + 1)
        with m.If(self.flush):
            m.d.sync += [self.count.eq(0), head.eq(self.base)]
        with m.Else():
            m.d.sync += self.count.eq(self.count + (self.commit_words & self.commit.replicate(w + 1)) - take)
            with m.If(self.commit):
                m.d.sync += self.base.eq(self.base + self.commit_words)
        return m


class OutBuffer(wiring.Component):
    """Stream to bus; see the module docstring."""

    def __init__(self, depth: int = 512):
        self.depth = depth
        super().__init__(_ports(depth, {"bus_rdata": Out(32), "i": In(stream.Signature(32))}))

    def elaborate(self, platform):
        m = Module()
        w = (self.depth - 1).bit_length()
        m.submodules.mem = mem = Memory(shape=32, depth=self.depth, init=[])
        wr = mem.write_port()
        rd = mem.read_port()
        tail = Signal(w)      # where the stream writes next
        put = self.i.valid & self.i.ready
        m.d.comb += [
            self.i.ready.eq(self.free != 0),
            wr.addr.eq(tail), wr.data.eq(self.i.payload), wr.en.eq(put),
            rd.addr.eq(self.base + self.bus_addr), self.bus_rdata.eq(rd.data),
            self.free.eq(self.depth - self.count),
        ]
        with m.If(self.flush):
            m.d.sync += [self.count.eq(0), tail.eq(self.base)]
        with m.Else():
            with m.If(put):
                m.d.sync += tail.eq(tail + 1)
            m.d.sync += self.count.eq(self.count + put - (self.commit_words & self.commit.replicate(w + 1)))
            with m.If(self.commit):
                m.d.sync += self.base.eq(self.base + self.commit_words)
        return m
