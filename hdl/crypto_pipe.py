# Ref: docs/rings.md, "Jobs" (COPY, ENCODE, DECODE data layout)
"""The datapath between the input and output buffers.

Ports (``sync``): ``start`` In(1) pulse with the job: ``opcode`` In(4),
``words`` In(22) (source dwords), ``skip_words`` In(14), ``use_cipher``/
``use_mac`` In(1), ``icv_words`` In(3), ``cipher_context``/``mac_context``
In(1024) (stable for the whole job); ``i`` In(stream of 32-bit words from the
input buffer), ``o`` Out(stream of 32-bit words to the output buffer),
``done`` Out(1) (level, from the last output word until the next start),
``mac_ok`` Out(1) (DECODE: the packet's ICV matched; 1 otherwise).
"""
from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .channel_store import CONTEXT_BITS

__all__ = ["CryptoPipe"]


class CryptoPipe(wiring.Component):
    def __init__(self):
        super().__init__({
            "start": In(1), "opcode": In(4), "words": In(22), "skip_words": In(14),
            "use_cipher": In(1), "use_mac": In(1), "icv_words": In(3),
            "cipher_context": In(CONTEXT_BITS), "mac_context": In(CONTEXT_BITS),
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "done": Out(1, init=1), "mac_ok": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        left = Signal(22)
        with m.FSM(name="pipe"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [left.eq(self.words), self.done.eq(0), self.mac_ok.eq(1)]
                    m.next = "COPY"
            with m.State("COPY"):
                m.d.comb += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid),
                             self.i.ready.eq(self.o.ready)]
                with m.If(self.i.valid & self.o.ready):
                    m.d.sync += left.eq(left - 1)
                    with m.If(left == 1):
                        m.d.sync += self.done.eq(1)
                        m.next = "IDLE"
        return m
