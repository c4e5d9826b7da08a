# Ref: NIST SP 800-38A (CBC/ECB); FIPS 46-3 (3DES outer CBC per ANSI X9.52 CBC-I/outer)
"""Cipher unit: a 32-bit word stream in, the encrypted or decrypted word
stream out, for every :class:`~.layouts.CipherAlg` in ECB and CBC.

Ports (``sync`` = PCI CLK, 33 MHz):

=============== ===== ====== ================================================
port            dir   width  meaning
=============== ===== ====== ================================================
``start``       In    1      pulse: latch ``alg``, ``mode``, ``decrypt``,
                             ``key`` and ``iv`` and prepare the message;
                             everything still in the unit (partial blocks,
                             blocks in the cores, undelivered words) is
                             discarded. May come at any time; one
                             ``start`` per message.
``ready``       Out   1      the parameters are loaded and words may flow;
                             low after reset. ``ready_clocks[alg]``: clock
                             edges from the one sampling ``start`` to the one
                             after which ``ready`` is high: 1 for the DES
                             family; AES 2 + ``AesCore.key_expansion_clocks``
                             + 1 (the key load clock, the expansion, the
                             edge into RUN) = 14, 16, 18 for 128, 192,
                             256-bit keys
``alg``         In    4      a ``CipherAlg`` (sampled with ``start``;
                             values that are not AES or 3DES run as DES)
``mode``        In    1      a ``CipherMode`` (sampled with ``start``)
``decrypt``     In    1      0 encrypt, 1 decrypt (sampled with ``start``)
``key``         In    256    key bytes in context order, key byte k in bits
                             [8k+7:8k] (``KEY0`` = ``key[0:32]``): DES bytes
                             0-7; 3DES K1, K2, K3 at bytes 0, 8, 16
                             (``TDES_2KEY``: K3 = K1); AES 16/24/32 bytes
                             (sampled with ``start``)
``iv``          In    192    IV bytes, same packing: IV1 at byte 0 (8 bytes,
                             AES 16); ``TDES_OUTER`` IV2, IV3 at bytes 8, 16
                             (sampled with ``start``; unused in ECB)
``iv_load``     In    1      pulse while ``ready``, before or with the first
                             word: IV1 := ``iv_in`` (the IV taken from the
                             packet)
``iv_in``       In    128    IV1 bytes, same packing (DES family bytes 0-7)
``i``           In    stream 32-bit message words, byte 0 (lowest address)
                             in bits [7:0]; ``i.ready`` is low until
                             ``ready`` and during ``start``, then high while
                             the block being assembled has room (it depends
                             combinationally on ``start`` and the unit's
                             internal back-pressure, and so on ``o.ready``,
                             never on ``i.valid``). The message is a whole
                             number of blocks (8 bytes DES family, 16 AES).
``o``           Out   stream 32-bit result words in the same order and
                             packing, from a register held until ``o.ready``
``busy``        Out   1      key expansion, a partial block, a block in a
                             core or a result word not yet delivered
=============== ===== ====== ================================================

Blocks: a block is the big-endian integer of its bytes in message order, so
the words w0, w1 (w2, w3) of a block are byte-swapped as a whole before a
core (DES: bytes w0[7:0], w0[15:8], ..., w1[31:24]) and back after it.

Datapath: a word assembler (a shift register, one word per clock, that takes
the first word of the next block in the clock its full block enters the
chain) feeds CBC stage 1; a word splitter (one word per clock) takes the
result blocks. Each CBC stage wraps a segment of the cores:

* ``CBC-E`` (encrypting CBC): the segment's input is XORed with the chaining
  block, which is the segment's last output; one block in flight, and the
  next block may enter in the clock the previous result leaves (the XOR then
  takes the result combinationally);
* ``CBC-D`` (decrypting CBC): each output is XORed with the segment's
  previous input, kept in a small FIFO of masks while the block is in
  flight, so blocks pipeline;
* ECB: no XOR (the FIFO holds zeros).

Segments by algorithm (stage 1 is the segment the message enters):

=============================== ============================================
alg                             stages
=============================== ============================================
AES128/192/256                  1: ``AesCore``
DES                             1: DES core 1
TDES_2KEY, TDES_INNER           1: DES 1 -> DES 2 -> DES 3 (the EDE function;
                                stages 2 and 3 ECB)
TDES_OUTER                      1: DES 1, 2: DES 2, 3: DES 3, each its own
                                CBC with IV1, IV2, IV3
=============================== ============================================

Encrypting, DES cores 1, 2, 3 run E_k1, D_k2, E_k3; decrypting D_k3, E_k2,
D_k1. A stage's CBC is CBC-D when its core decrypts, CBC-E when it
encrypts, so outer CBC encryption is CBC-E_k1(IV1) -> CBC-D_k2(IV2) ->
CBC-E_k3(IV3) and decryption CBC-D_k3(IV3) -> CBC-E_k2(IV2) ->
CBC-D_k1(IV1). The chaining blocks persist over the whole message.

Timing (``o.ready`` held high, words offered back to back):

* ``clocks_per_block[(alg, mode, decrypt)]``: steady-state clocks per block.
  AES (with the ``AesCore`` default of two rounds per clock) 5, 6, 7 for
  128, 192, 256-bit keys in ECB and CBC decryption, one more for CBC
  encryption (the core's result register, then the next block); DES 4 in
  every mode (the next CBC block enters on the edge the result leaves);
  3DES inner CBC encryption 12 (three DES latencies), 3DES otherwise 4,
  outer CBC included.
* ``latency[alg]``: clocks from the edge that accepts the last word of a
  block to the edge that can deliver its first result word (block path
  idle before): the edge into the assembler's block register, the core's
  latency (``AesCore``: ``clocks_per_block`` + 1 to the edge its result
  leaves; DES ``latency``), the edge into the result splitter -- AES 8, 9,
  10; DES 6; 3DES 14.
"""
from amaranth import Cat, Module, Mux, ResetInserter, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from ..contract.codes import CipherAlg, CipherMode
from .engines.aes import AesCore
from .engines.des import DesCore

__all__ = ["CipherUnit"]

AES_KEY_BITS = {CipherAlg.AES128: 128, CipherAlg.AES192: 192, CipherAlg.AES256: 256}


class Route:
    """How the cores are chained (latched from ``alg`` at ``start``)."""
    DES, TDES_INNER, TDES_OUTER, AES = range(4)


#: Masks each CBC stage can hold: DES x 3 in flight (AES: two) plus the one
#: entering in the clock the oldest leaves.
STAGE1_MASKS = 4
#: Stages 2 and 3 wrap one DES core.
STAGE23_MASKS = 2


def _swap_bytes(value, n):
    """The big-endian block of ``n`` bytes packed little-endian in ``value``
    (and back: the swap is its own inverse)."""
    return Cat(*(value[8 * (n - 1 - j):8 * (n - j)] for j in range(n)))


def _join(m, source, sink):
    """Connect two streams (under the current control flow)."""
    m.d.comb += [sink.payload.eq(source.payload), sink.valid.eq(source.valid),
                 source.ready.eq(sink.ready)]


class _Chaining:
    """The chaining state of one CBC stage (``enc``: CBC-E, ``dec``: CBC-D,
    neither: ECB); :meth:`enter` builds the XOR at the input of its segment
    of cores, :func:`_leave` the one at its output. ``load`` sets the
    chaining block to ``iv``."""

    def __init__(self, m, name, width, depth, flush, *, enc, dec, load, iv):
        self.enc = enc
        m.submodules[f"{name}_masks"] = self.masks = ResetInserter({"sync": flush})(
            fifo.SyncFIFO(width=width, depth=depth))
        self.chain = Signal(width, name=f"{name}_chain")     # CBC-E: last output; CBC-D: last input
        self.in_flight = Signal(name=f"{name}_in_flight")    # CBC-E: a block in the segment
        self.entered = Signal(name=f"{name}_entered")
        self.left = Signal(name=f"{name}_left")              # driven by _leave
        self.result = Signal(width, name=f"{name}_result")   # driven by _leave
        self.up_payload = Signal(width, name=f"{name}_up")
        m.d.comb += [
            self.masks.w_en.eq(self.entered),
            self.masks.w_data.eq(Mux(dec, self.chain, 0)),
            self.masks.r_en.eq(self.left),
        ]
        with m.If(load):
            m.d.sync += self.chain.eq(iv)
        with m.Elif(self.entered & dec):
            m.d.sync += self.chain.eq(self.up_payload)
        with m.Elif(self.left & enc):
            m.d.sync += self.chain.eq(self.result)
        with m.If(flush):
            m.d.sync += self.in_flight.eq(0)
        with m.Elif(self.entered):
            m.d.sync += self.in_flight.eq(1)
        with m.Elif(self.left):
            m.d.sync += self.in_flight.eq(0)

    def enter(self, m, up, core_in):
        """``up`` -> ``core_in``: CBC-E XORs the chaining block (the result
        leaving in this clock, if any) and admits one block at a time."""
        open_ = ~self.enc | ~self.in_flight | self.left
        m.d.comb += [
            self.up_payload.eq(up.payload),
            core_in.payload.eq(up.payload ^ Mux(self.enc, Mux(self.left, self.result, self.chain), 0)),
            core_in.valid.eq(up.valid & open_ & self.masks.w_rdy),
            up.ready.eq(core_in.ready & open_ & self.masks.w_rdy),
            self.entered.eq(core_in.valid & core_in.ready),
        ]


def _leave(m, core_out, down, stages):
    """``core_out`` -> ``down`` at the output of the segments of ``stages``,
    pairs (chaining, active): each active stage XORs its oldest mask (CBC-D:
    the previous input; otherwise zero)."""
    mask = 0
    ready = 1
    for stage, active in stages:
        mask ^= Mux(active, stage.masks.r_data, 0)
        ready &= ~active | stage.masks.r_rdy
    m.d.comb += [
        down.payload.eq(core_out.payload ^ mask),
        down.valid.eq(core_out.valid & ready),
        core_out.ready.eq(down.ready & ready),
    ]
    for stage, active in stages:
        with m.If(active):
            m.d.comb += [stage.left.eq(core_out.valid & core_out.ready), stage.result.eq(down.payload)]


class CipherUnit(wiring.Component):
    """Block cipher modes over a 32-bit word stream; see the module docstring."""

    def __init__(self):
        self._aes = AesCore()
        self._des = [DesCore() for _ in range(3)]
        des = self._des[0]
        self.clocks_per_block = {}
        self.latency = {}
        self.ready_clocks = {}
        for alg in CipherAlg:
            # the start edge; AES: the key load edge, the expansion, the edge into RUN
            self.ready_clocks[alg] = (2 + self._aes.key_expansion_clocks[AES_KEY_BITS[alg]] + 1
                                      if alg in AES_KEY_BITS else 1)
            if alg in AES_KEY_BITS:
                pipelined = self._aes.clocks_per_block[AES_KEY_BITS[alg]]
                chained = {False: pipelined + 1, True: pipelined}   # CBC-E: result register, then the block
                self.latency[alg] = pipelined + 3
            elif alg is CipherAlg.DES:
                pipelined = des.clocks_per_block
                chained = {False: des.latency, True: pipelined}
                self.latency[alg] = des.latency + 2
            elif alg is CipherAlg.TDES_OUTER:                 # a CBC-E stage in either direction
                pipelined = des.clocks_per_block
                chained = {False: des.latency, True: des.latency}
                self.latency[alg] = 3 * des.latency + 2
            else:                                             # inner CBC around the EDE function
                pipelined = des.clocks_per_block
                chained = {False: 3 * des.latency, True: pipelined}
                self.latency[alg] = 3 * des.latency + 2
            for decrypt in (False, True):
                self.clocks_per_block[(alg, CipherMode.ECB, decrypt)] = pipelined
                self.clocks_per_block[(alg, CipherMode.CBC, decrypt)] = chained[decrypt]
        super().__init__({
            "start": In(1), "ready": Out(1),
            "alg": In(4), "mode": In(1), "decrypt": In(1),
            "key": In(256), "iv": In(192),
            "iv_load": In(1), "iv_in": In(128),
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        flush = self.start
        aes = ResetInserter({"sync": flush})(self._aes)
        m.submodules.aes = aes
        des = self._des
        for k, core in enumerate(des):
            m.submodules[f"des{k + 1}"] = ResetInserter({"sync": flush})(core)

        # -- parameters, latched at start -------------------------------------
        route = Signal(range(4))
        aes_size = Signal(2)
        cbc = Signal()
        dec = Signal()
        key3_is_key1 = Signal()
        key = Signal(256)
        wide = Signal()                       # 16-byte blocks (AES)

        def route_of(alg):
            return Mux((alg >= CipherAlg.AES128) & (alg <= CipherAlg.AES256), Route.AES,
                       Mux(alg == CipherAlg.TDES_OUTER, Route.TDES_OUTER,
                           Mux((alg == CipherAlg.TDES_2KEY) | (alg == CipherAlg.TDES_INNER),
                               Route.TDES_INNER, Route.DES)))

        start_route = Signal(range(4))
        m.d.comb += [start_route.eq(route_of(self.alg)), wide.eq(route == Route.AES)]
        with m.If(self.start):
            m.d.sync += [
                route.eq(start_route),
                aes_size.eq(self.alg - CipherAlg.AES128),
                cbc.eq(self.mode == CipherMode.CBC),
                dec.eq(self.decrypt),
                key3_is_key1.eq((self.alg != CipherAlg.TDES_INNER) & (self.alg != CipherAlg.TDES_OUTER)),
                key.eq(self.key),
            ]

        with m.FSM(name="control") as control:
            def on_start():
                with m.If(self.start):
                    with m.If(start_route == Route.AES):
                        m.next = "KEY_LOAD"
                    with m.Else():
                        m.next = "RUN"

            with m.State("IDLE"):
                on_start()
            with m.State("KEY_LOAD"):
                m.d.comb += aes.key_load.eq(1)
                m.next = "KEY_EXPAND"
                on_start()
            with m.State("KEY_EXPAND"):
                with m.If(aes.key_ready):
                    m.next = "RUN"
                on_start()
            with m.State("RUN"):
                m.d.comb += self.ready.eq(1)
                on_start()

        # -- keys and directions ----------------------------------------------
        k1 = _swap_bytes(key[0:64], 8)
        k2 = _swap_bytes(key[64:128], 8)
        k3 = Mux(key3_is_key1, k1, _swap_bytes(key[128:192], 8))
        m.d.comb += [
            aes.key.eq(Mux(aes_size == 0, _swap_bytes(key[:128], 16),
                           Mux(aes_size == 1, _swap_bytes(key[:192], 24), _swap_bytes(key, 32)))),
            aes.key_size.eq(aes_size),
            aes.decrypt.eq(dec),
            des[0].key.eq(Mux(dec, k3, k1)), des[0].decrypt.eq(dec),
            des[1].key.eq(k2), des[1].decrypt.eq(~dec),
            des[2].key.eq(Mux(dec, k1, k3)), des[2].decrypt.eq(dec),
        ]

        # -- word assembler ---------------------------------------------------
        words = Signal(range(5))              # words in `assembled`
        assembled = Signal(128)               # little-endian, the last word on top
        blocks_in = stream.Signature(128).create(path=("blocks_in",))
        full = Signal()
        take_word = Signal()
        m.d.comb += [
            full.eq(words == Mux(wide, 4, 2)),
            blocks_in.valid.eq(full),
            blocks_in.payload.eq(Mux(wide, _swap_bytes(assembled, 16),
                                     _swap_bytes(assembled[64:], 8))),
            self.i.ready.eq(control.ongoing("RUN") & ~self.start & (~full | blocks_in.ready)),
            take_word.eq(self.i.valid & self.i.ready),
        ]
        with m.If(take_word):
            m.d.sync += assembled.eq(Cat(assembled[32:], self.i.payload))
        with m.If(flush):
            m.d.sync += words.eq(0)
        with m.Elif(full & blocks_in.ready):
            m.d.sync += words.eq(take_word)
        with m.Elif(take_word):
            m.d.sync += words.eq(words + 1)

        # -- result splitter --------------------------------------------------
        blocks_out = stream.Signature(128).create(path=("blocks_out",))
        pending = Signal(128)                 # little-endian, the next word at the bottom
        words_left = Signal(range(5))
        m.d.comb += [
            self.o.valid.eq(words_left != 0),
            self.o.payload.eq(pending[:32]),
            blocks_out.ready.eq((words_left == 0) | ((words_left == 1) & self.o.ready)),
        ]
        with m.If(flush):
            m.d.sync += words_left.eq(0)
        with m.Elif(blocks_out.valid & blocks_out.ready):
            m.d.sync += [
                pending.eq(Mux(wide, _swap_bytes(blocks_out.payload, 16),
                               _swap_bytes(blocks_out.payload[:64], 8))),
                words_left.eq(Mux(wide, 4, 2)),
            ]
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += [pending.eq(pending[32:]), words_left.eq(words_left - 1)]

        # -- CBC stages and the core routes -------------------------------------
        def wire(name, width):
            return stream.Signature(width).create(path=(name,))

        # The cores in a line: X0 -> core 1 (AES or DES) -> X1 -> DES 2 -> X2
        # -> DES 3 -> X3, the XOR points X enter and leave the stages' segments.
        # Outer CBC decryption runs the stages in reverse: stage 1 chains with
        # IV3, stage 3 with IV1 (also the in-band IV1).
        core1_in, core1_out = wire("core1_in", 128), wire("core1_out", 128)
        x1_out, up2 = wire("x1_out", 128), wire("up2", 64)
        x2_out, x3_out = wire("x2_out", 64), wire("x3_out", 64)
        inner, outer, outer_dec, start_outer_dec = Signal(), Signal(), Signal(), Signal()
        iv1_start, iv3_start, iv1_in = Signal(128), Signal(64), Signal(128)
        m.d.comb += [
            inner.eq(route == Route.TDES_INNER),
            outer.eq(route == Route.TDES_OUTER),
            outer_dec.eq(outer & dec),
            start_outer_dec.eq((start_route == Route.TDES_OUTER) & self.decrypt),
            iv1_start.eq(Mux(start_route == Route.AES, _swap_bytes(self.iv[:128], 16),
                             _swap_bytes(self.iv[:64], 8))),
            iv3_start.eq(_swap_bytes(self.iv[128:192], 8)),
            iv1_in.eq(Mux(wide, _swap_bytes(self.iv_in, 16), _swap_bytes(self.iv_in[:64], 8))),
        ]
        stage1 = _Chaining(m, "stage1", 128, STAGE1_MASKS, flush, enc=cbc & ~dec, dec=cbc & dec,
                           load=self.start | (self.iv_load & ~outer_dec),
                           iv=Mux(self.start, Mux(start_outer_dec, iv3_start, iv1_start), iv1_in))
        stage2 = _Chaining(m, "stage2", 64, STAGE23_MASKS, flush,
                           enc=cbc & outer & dec, dec=cbc & outer & ~dec,
                           load=self.start, iv=_swap_bytes(self.iv[64:128], 8))
        stage3 = _Chaining(m, "stage3", 64, STAGE23_MASKS, flush,
                           enc=cbc & outer & ~dec, dec=cbc & outer & dec,
                           load=self.start | (self.iv_load & outer_dec),
                           iv=Mux(self.start, Mux(start_outer_dec, iv1_start, iv3_start), iv1_in))
        stage1.enter(m, blocks_in, core1_in)
        _leave(m, core1_out, x1_out, [(stage1, ~inner)])
        stage2.enter(m, up2, des[1].i)
        _leave(m, des[1].o, x2_out, [(stage2, 1)])
        stage3.enter(m, x2_out, des[2].i)
        _leave(m, des[2].o, x3_out, [(stage3, 1), (stage1, inner)])

        with m.If(route == Route.AES):
            _join(m, core1_in, aes.i)
            _join(m, aes.o, core1_out)
        with m.Else():
            _join(m, core1_in, des[0].i)
            _join(m, des[0].o, core1_out)
        with m.If(inner | outer):
            _join(m, x1_out, up2)
            _join(m, x3_out, blocks_out)
        with m.Else():
            _join(m, x1_out, blocks_out)

        m.d.comb += self.busy.eq(control.ongoing("KEY_LOAD") | aes.busy
                                 | des[0].busy | des[1].busy | des[2].busy
                                 | (words != 0) | (words_left != 0))
        return m
