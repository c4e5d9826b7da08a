# Ref: docs/rings.md, "Jobs" (COPY, ENCODE, DECODE data layout)
"""The datapath between the input and output buffers: cipher and MAC units in packet order.

A job's words pass in phases:

- COPY: every word straight through.
- HASH: every word into the MAC unit (the message is ``length`` bytes, the
  last word possibly partial), then the digest (``icv_words`` words) out.
- COMPRESS / DECOMPRESS: every word into the LZS compressor or
  decompressor (``length`` bytes), its output words out, at most ``limit``
  bytes: a compressed stream that would exceed them is cut there
  (``OUTPUT_OVERFLOW``); the decompressor stops itself (its statuses map to
  ``OUTPUT_OVERFLOW``, ``STREAM_BAD_OFFSET``, ``STREAM_TRUNCATED``).
- RANDOM: one GENERATE request of ceil(``length`` / 16) blocks to the card's
  DRBG (``rng_*`` ports), its blocks out as words (byte 0 of a block first),
  ceil(``length`` / 4) words in all; a refusal ends the job with
  ``RNG_FAILED`` and no output.
- HEADER (``skip_words``): to the output unchanged, and into the MAC. With
  a CBC cipher channel taking its IV from the packet, the header's last
  block is loaded as IV1 before the payload.
- PAYLOAD: ENCODE sends input words through the cipher and the ciphertext
  to the output and the MAC; DECODE sends the input (ciphertext) to the MAC
  and the cipher, and the plaintext to the output. Without a cipher channel
  the payload is copied (and MACed).
- TRAILER: ENCODE appends the ICV; DECODE feeds the packet's trailing ICV to
  the MAC unit's comparator (a mismatch is the job's ``MAC_MISMATCH``).

Ports (``sync``): ``start`` In(1) pulse with the job: ``opcode`` In(4),
``length`` In(24) (source bytes: ceil(length / 4) dwords), ``skip_words`` In(14), ``use_cipher``/
``use_mac`` In(1), ``icv_words`` In(3), ``limit`` In(24) (destination
bytes, a multiple of 4), ``cipher_context``/``mac_context``
In(1024) (stable for the whole job; validated by :class:`~.job_check.JobCheck`);
``i`` In(stream of 32-bit words from the input buffer), ``o`` Out(stream of
32-bit words to the output buffer), ``done`` Out(1) (level, from the end of
the job until the next start), ``status`` Out(8) (a
:class:`~.layouts.ResultStatus`: OK, ``MAC_MISMATCH`` (DECODE: the packet's
ICV differs; it wins over a stream error), a stream error of a
COMPRESS/DECOMPRESS or chained job, or ``RNG_FAILED``) and ``out_bytes``
Out(24) (the exact output bytes of the variable-length jobs), both valid
with ``done``. The DRBG (:class:`~.engines.drbg.CtrDrbg`, shared with
the RNG registers by the card): ``rng_start`` Out(1) pulse with
``rng_blocks`` Out(16) (a GENERATE request), ``rng_wanted`` Out(1) (a RANDOM
job waits for blocks), ``rng`` In(stream of 128-bit blocks), ``rng_busy``/
``rng_done`` In(1), ``rng_status`` In(3) (its ``busy``, ``done``,
``status``). Word byte order is PCI's (first byte in bits [7:0]).
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..contract.codes import CipherAlg, CipherMode, IvSource, MacAlg, Opcode, ResultStatus
from ..contract.layouts import CONTEXT
from ..contract.rng import DrbgStatus
from .channel_store import CONTEXT_BITS
from .cipher_unit import CipherUnit
from .engines.lzs_compress import LzsCompressor
from .engines.lzs_decompress import LzsDecompressor, LzsStatus
from .job_check import context_field
from .mac_unit import MacUnit

__all__ = ["CryptoPipe"]


def _words(context, first: str, count: int):
    """``count`` context dwords starting at register ``first``, as one value (first dword lowest)."""
    start = getattr(CONTEXT, first).offset * 8
    return context[start:start + 32 * count]


class CryptoPipe(wiring.Component):
    def __init__(self):
        super().__init__({
            "start": In(1), "opcode": In(4), "length": In(24), "skip_words": In(14),
            "use_cipher": In(1), "use_mac": In(1), "use_comp": In(1), "icv_words": In(3), "limit": In(24),
            "cipher_context": In(CONTEXT_BITS), "mac_context": In(CONTEXT_BITS),
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "done": Out(1, init=1), "status": Out(8), "out_bytes": Out(24),
            "rng_start": Out(1), "rng_blocks": Out(16), "rng_wanted": Out(1), "rng": In(stream.Signature(128)),
            "rng_busy": In(1), "rng_done": In(1), "rng_status": In(3),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.cipher = cipher = CipherUnit()
        m.submodules.mac = mac = MacUnit()
        m.submodules.compressor = compressor = LzsCompressor()
        m.submodules.decompressor = decompressor = LzsDecompressor()
        sent = Signal(22)           # COMPRESS: output words passed on; RANDOM: words still to send
        lane = Signal(2)            # RANDOM: next word of the current block
        overflow = Signal()         # COMPRESS: the stream passed ``limit``
        decode = Signal()
        use_cipher = Signal()
        use_mac = Signal()
        chained = Signal()          # ENCODE/DECODE with compression (``use_comp``)
        plain_sent = Signal(22)     # chained ENCODE: compressed (and pad) words into the cipher or out
        cipher_out = Signal(22)     # chained ENCODE: cipher output words passed on
        written = Signal(22)        # chained: words through the output gate
        po = stream.Signature(32).create()   # the datapath's output, before the chained jobs' gate
        header_bytes = Signal(16)   # chained DECODE: the header written before the payload
        finishing = Signal()        # an ENCODE/DECODE job ends this clock
        header_left = Signal(14)
        payload_in = Signal(23)     # payload words still to take from the input
        payload_out = Signal(23)    # payload words still to send to the output
        words = Signal(23)          # source dwords
        m.d.comb += words.eq((self.length + 3)[2:])
        trailer_left = Signal(3)
        history = Signal(128)       # the last four header words, newest on top

        cctx, mctx = self.cipher_context, self.mac_context
        cipher_alg = context_field(cctx, "CONFIG", "alg")
        aes = cipher_alg >= CipherAlg.AES128
        iv_from_packet = ((context_field(cctx, "CONFIG", "mode") == CipherMode.CBC) &
                          (context_field(cctx, "CONFIG", "iv_source") == IvSource.PACKET))
        mac_alg = context_field(mctx, "CONFIG", "alg")
        inner, outer = _words(mctx, "INNER0", 5), _words(mctx, "OUTER0", 5)

        def state(words):
            """HMAC chaining words (H0 first) packed as the Hmac engine expects."""
            w = [words[32 * k:32 * k + 32] for k in range(5)]
            return Mux(mac_alg == MacAlg.HMAC_MD5, Cat(w[3], w[2], w[1], w[0]), Cat(w[4], w[3], w[2], w[1], w[0]))

        trailer = Mux(self.opcode == Opcode.DECODE, self.icv_words, 0)
        chained_now = self.use_comp & ((self.opcode == Opcode.ENCODE) | (self.opcode == Opcode.DECODE))
        payload_bytes = self.length - (self.skip_words << 2) - (trailer << 2)
        m.d.comb += [
            cipher.alg.eq(cipher_alg), cipher.mode.eq(context_field(cctx, "CONFIG", "mode")),
            cipher.decrypt.eq(self.opcode == Opcode.DECODE),
            cipher.key.eq(_words(cctx, "KEY0", 8)), cipher.iv.eq(_words(cctx, "IV0", 6)),
            cipher.iv_in.eq(Mux(aes, history, history[64:])),
            mac.alg.eq(mac_alg), mac.icv_words.eq(self.icv_words),
            mac.length.eq(Mux(chained_now & (self.opcode == Opcode.ENCODE), (1 << 24) - 1,
                              self.length - (trailer << 2))),
            mac.check.eq(self.opcode == Opcode.DECODE),
            mac.inner_iv.eq(state(inner)), mac.outer_iv.eq(state(outer)),
            mac.key.eq(_words(mctx, "KEY0", 2)),
        ]

        def stream_status():
            """The decompressor's ending as the job's status (OK stays OK)."""
            with m.Switch(decompressor.status):
                for lzs, result in ((LzsStatus.BAD_OFFSET, ResultStatus.STREAM_BAD_OFFSET),
                                    (LzsStatus.TRUNCATED, ResultStatus.STREAM_TRUNCATED),
                                    (LzsStatus.OVERFLOW, ResultStatus.OUTPUT_OVERFLOW)):
                    with m.Case(lzs):
                        m.d.sync += self.status.eq(result)

        forks = []

        def fork(source, first, second, second_used):
            """``source`` to ``first`` and (when ``second_used``) ``second``.

            Each side takes the word in its own clock (a flag remembers who
            has it), so no ``valid`` depends on the other side's ``ready``.
            Returns the condition under which the source word is consumed.
            """
            taken = Signal(2, name=f"fork{len(forks)}_taken")
            forks.append(taken)
            want = Cat(Const(1), second_used)
            go = Cat(first.valid & first.ready, second.valid & second.ready)
            have = taken | go | ~want
            m.d.comb += [
                first.payload.eq(source.payload), second.payload.eq(source.payload),
                first.valid.eq(source.valid & ~taken[0]),
                second.valid.eq(source.valid & ~taken[1] & second_used),
                source.ready.eq(have.all()),
            ]
            with m.If(source.valid & have.all()):
                m.d.sync += taken.eq(0)
            with m.Else():
                m.d.sync += taken.eq(taken | go)
            return source.valid & have.all()

        with m.FSM(name="pipe"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.comb += [cipher.start.eq(self.use_cipher), mac.start.eq(self.use_mac)]
                    m.d.sync += [
                        self.done.eq(0),
                        decode.eq(self.opcode == Opcode.DECODE),
                        use_cipher.eq(self.use_cipher), use_mac.eq(self.use_mac),
                        header_left.eq(self.skip_words),
                        payload_in.eq(words - self.skip_words - trailer),
                        payload_out.eq(words - self.skip_words - trailer),
                        trailer_left.eq(self.icv_words),
                        chained.eq(chained_now), plain_sent.eq(0), cipher_out.eq(0), written.eq(0),
                        header_bytes.eq(self.skip_words << 2),
                        overflow.eq(0), self.status.eq(ResultStatus.OK), self.out_bytes.eq(0),
                    ]
                    with m.If(chained_now & (self.opcode == Opcode.ENCODE)):
                        m.d.comb += [compressor.start.eq(1), compressor.length.eq(payload_bytes)]
                    with m.If(chained_now & (self.opcode == Opcode.DECODE)):
                        m.d.comb += [decompressor.start.eq(1), decompressor.length.eq(payload_bytes),
                                     decompressor.limit.eq(self.limit - (self.skip_words << 2))]
                    with m.If(self.opcode == Opcode.COPY):
                        m.d.sync += payload_in.eq(words)
                        m.next = "COPY"
                    with m.Elif(self.opcode == Opcode.HASH):
                        m.d.sync += payload_in.eq(words)
                        m.next = "HASH"
                    with m.Elif(self.opcode == Opcode.COMPRESS):
                        m.d.comb += [compressor.start.eq(1), compressor.length.eq(self.length)]
                        m.d.sync += [sent.eq(0), overflow.eq(0), self.status.eq(ResultStatus.OK),
                                     self.out_bytes.eq(0)]
                        m.next = "COMPRESS"
                    with m.Elif(self.opcode == Opcode.RANDOM):
                        m.d.sync += [sent.eq(words), lane.eq(0), self.status.eq(ResultStatus.OK),
                                     self.out_bytes.eq(0)]
                        m.next = "RANDOM_WAIT"
                    with m.Elif(self.opcode == Opcode.DECOMPRESS):
                        m.d.comb += [decompressor.start.eq(1), decompressor.length.eq(self.length),
                                     decompressor.limit.eq(self.limit)]
                        m.d.sync += [self.status.eq(ResultStatus.OK), self.out_bytes.eq(0)]
                        m.next = "DECOMPRESS"
                    with m.Else():
                        m.next = "HEADER"

            with m.State("COPY"):
                m.d.comb += [po.payload.eq(self.i.payload), po.valid.eq(self.i.valid),
                             self.i.ready.eq(po.ready)]
                with m.If(self.i.valid & po.ready):
                    m.d.sync += payload_in.eq(payload_in - 1)
                    with m.If(payload_in == 1):
                        m.d.sync += self.done.eq(1)
                        m.next = "IDLE"

            with m.State("HASH"):
                feeding = payload_in != 0
                m.d.comb += [mac.i.payload.eq(self.i.payload), mac.i.valid.eq(self.i.valid & feeding),
                             self.i.ready.eq(mac.i.ready & feeding)]
                with m.If(self.i.valid & mac.i.ready & feeding):
                    m.d.sync += payload_in.eq(payload_in - 1)
                with m.If(~feeding):
                    m.next = "TRAILER"

            with m.State("COMPRESS"):
                wiring.connect(m, wiring.flipped(self.i), compressor.i)
                room = sent != self.limit[2:]
                m.d.comb += [po.payload.eq(compressor.o.payload),
                             po.valid.eq(compressor.o.valid & room),
                             compressor.o.ready.eq(Mux(room, po.ready, 1))]
                with m.If(compressor.o.valid & room & po.ready):
                    m.d.sync += sent.eq(sent + 1)
                with m.If(compressor.o.valid & ~room):
                    m.d.sync += overflow.eq(1)
                with m.If(compressor.done):
                    m.d.sync += [self.done.eq(1),
                                 self.status.eq(Mux(overflow, ResultStatus.OUTPUT_OVERFLOW, ResultStatus.OK)),
                                 self.out_bytes.eq(Mux(overflow, sent << 2, compressor.out_bytes))]
                    m.next = "IDLE"

            with m.State("DECOMPRESS"):
                wiring.connect(m, wiring.flipped(self.i), decompressor.i)
                wiring.connect(m, decompressor.o, wiring.flipped(po))
                with m.If(decompressor.done):
                    stream_status()
                    m.d.sync += [self.done.eq(1), self.out_bytes.eq(decompressor.out_bytes)]
                    m.next = "IDLE"

            with m.State("RANDOM_WAIT"):              # the register path may be using the DRBG
                with m.If(~self.rng_busy):
                    m.d.comb += [self.rng_start.eq(1), self.rng_blocks.eq((self.length + 15)[4:])]
                    m.next = "RANDOM"

            with m.State("RANDOM"):
                in_order = Cat(*(self.rng.payload.word_select(15 - i, 8) for i in range(16)))   # byte i at [8i+7:8i]
                m.d.comb += [self.rng_wanted.eq(1), po.payload.eq(in_order.word_select(lane, 32)),
                             po.valid.eq(self.rng.valid & (sent != 0))]
                last_lane = (lane == 3) | (sent == 1)
                with m.If(self.rng.valid & (sent == 0)):
                    m.d.comb += self.rng.ready.eq(1)       # a block past the output: dropped
                with m.Elif(self.rng.valid & po.ready):
                    m.d.comb += self.rng.ready.eq(last_lane)
                    m.d.sync += [sent.eq(sent - 1), lane.eq(Mux(last_lane, 0, lane + 1))]
                with m.If(self.rng_done):
                    ok = self.rng_status == DrbgStatus.OK
                    m.d.sync += [self.done.eq(1),
                                 self.status.eq(Mux(ok, ResultStatus.OK, ResultStatus.RNG_FAILED)),
                                 self.out_bytes.eq(Mux(ok, self.length, 0))]
                    m.next = "IDLE"

            with m.State("HEADER"):
                with m.If(header_left == 0):
                    m.next = "IV"
                with m.Else():
                    with m.If(fork(self.i, po, mac.i, use_mac)):
                        m.d.sync += [header_left.eq(header_left - 1),
                                     history.eq(Cat(history[32:], self.i.payload))]

            with m.State("IV"):
                with m.If(~use_cipher | cipher.ready):
                    m.d.comb += cipher.iv_load.eq(use_cipher & iv_from_packet)
                    with m.If(chained & ~decode):
                        m.next = "ZENCODE"
                    with m.Elif(chained):
                        m.next = "ZDECODE"
                    with m.Else():
                        m.next = "PAYLOAD"

            # -- chained ENCODE: payload -> compressor -> zero pad -> cipher -> out and MAC
            plain = stream.Signature(32).create()      # the compressed stream, then its padding
            block_words = Mux(~use_cipher, 1, Mux(aes, 4, 2))

            def encrypt_plain():
                """``plain`` into the cipher (or straight on), the result out and into the MAC."""
                with m.If(use_cipher):
                    wiring.connect(m, plain, cipher.i)
                    with m.If(fork(cipher.o, po, mac.i, use_mac)):
                        m.d.sync += cipher_out.eq(cipher_out + 1)
                    with m.If(plain.valid & plain.ready):
                        m.d.sync += plain_sent.eq(plain_sent + 1)
                with m.Else():
                    with m.If(fork(plain, po, mac.i, use_mac)):
                        m.d.sync += [plain_sent.eq(plain_sent + 1), cipher_out.eq(cipher_out + 1)]

            with m.State("ZENCODE"):
                feeding = payload_in != 0
                m.d.comb += [compressor.i.payload.eq(self.i.payload),
                             compressor.i.valid.eq(self.i.valid & feeding),
                             self.i.ready.eq(compressor.i.ready & feeding),
                             plain.payload.eq(compressor.o.payload), plain.valid.eq(compressor.o.valid),
                             compressor.o.ready.eq(plain.ready)]
                with m.If(self.i.valid & compressor.i.ready & feeding):
                    m.d.sync += payload_in.eq(payload_in - 1)
                encrypt_plain()
                with m.If(compressor.done):
                    m.next = "ZPAD"

            with m.State("ZPAD"):
                padding = (plain_sent & (block_words - 1)) != 0
                m.d.comb += [plain.payload.eq(0), plain.valid.eq(padding)]
                encrypt_plain()
                with m.If(~padding & (cipher_out == plain_sent)):
                    m.d.comb += mac.end.eq(use_mac)
                    m.next = "TRAILER"

            # -- chained DECODE: ciphertext -> MAC and cipher -> decompressor -> out
            with m.State("ZDECODE"):
                feeding = payload_in != 0
                source = stream.Signature(32).create()
                m.d.comb += [source.payload.eq(self.i.payload), source.valid.eq(self.i.valid & feeding),
                             self.i.ready.eq(source.ready & feeding)]
                with m.If(use_cipher):
                    with m.If(fork(source, cipher.i, mac.i, use_mac)):
                        m.d.sync += payload_in.eq(payload_in - 1)
                    wiring.connect(m, cipher.o, decompressor.i)
                with m.Else():
                    with m.If(fork(source, decompressor.i, mac.i, use_mac)):
                        m.d.sync += payload_in.eq(payload_in - 1)
                wiring.connect(m, decompressor.o, wiring.flipped(po))
                with m.If(~feeding & decompressor.done):
                    stream_status()
                    m.next = "TRAILER"

            with m.State("PAYLOAD"):
                feeding = payload_in != 0
                with m.If(~use_cipher):
                    source = stream.Signature(32).create()
                    m.d.comb += [source.payload.eq(self.i.payload), source.valid.eq(self.i.valid & feeding),
                                 self.i.ready.eq(source.ready & feeding)]
                    with m.If(fork(source, po, mac.i, use_mac)):
                        m.d.sync += [payload_in.eq(payload_in - 1), payload_out.eq(payload_out - 1)]
                with m.Elif(decode):
                    # Ciphertext into the MAC and the cipher; plaintext out.
                    source = stream.Signature(32).create()
                    m.d.comb += [source.payload.eq(self.i.payload), source.valid.eq(self.i.valid & feeding),
                                 self.i.ready.eq(source.ready & feeding)]
                    with m.If(fork(source, cipher.i, mac.i, use_mac)):
                        m.d.sync += payload_in.eq(payload_in - 1)
                    wiring.connect(m, cipher.o, wiring.flipped(po))
                    with m.If(cipher.o.valid & po.ready):
                        m.d.sync += payload_out.eq(payload_out - 1)
                with m.Else():
                    # Plaintext into the cipher; ciphertext out and into the MAC.
                    m.d.comb += [cipher.i.payload.eq(self.i.payload), cipher.i.valid.eq(self.i.valid & feeding),
                                 self.i.ready.eq(cipher.i.ready & feeding)]
                    with m.If(self.i.valid & cipher.i.ready & feeding):
                        m.d.sync += payload_in.eq(payload_in - 1)
                    with m.If(fork(cipher.o, po, mac.i, use_mac)):
                        m.d.sync += payload_out.eq(payload_out - 1)
                with m.If(payload_out == 0):
                    m.next = "TRAILER"

            with m.State("TRAILER"):
                with m.If(~use_mac):
                    m.d.comb += finishing.eq(1)
                    m.next = "IDLE"
                with m.Elif(decode):
                    wiring.connect(m, wiring.flipped(self.i), mac.expect)
                    with m.If(mac.checked):
                        m.d.comb += finishing.eq(1)
                        with m.If(~mac.match):
                            m.d.sync += self.status.eq(ResultStatus.MAC_MISMATCH)
                        m.next = "IDLE"
                with m.Else():
                    wiring.connect(m, mac.icv, wiring.flipped(po))
                    with m.If(mac.icv.valid & po.ready):
                        m.d.sync += trailer_left.eq(trailer_left - 1)
                        with m.If(trailer_left == 1):
                            m.d.comb += finishing.eq(1)
                            m.next = "IDLE"

        # The end of an ENCODE/DECODE job; a chained one's exact output and overflow.
        passed = Signal()           # a word goes through the gate this clock
        with m.If(finishing):
            m.d.sync += self.done.eq(1)
            with m.If(chained):
                m.d.sync += self.out_bytes.eq(Mux(decode, header_bytes + decompressor.out_bytes,
                                                  (written + passed) << 2))
                with m.If(~decode & overflow):
                    m.d.sync += self.status.eq(ResultStatus.OUTPUT_OVERFLOW)

        # The output gate of chained jobs: at most ``limit`` bytes; the rest is dropped (OUTPUT_OVERFLOW).
        room = ~chained | (written != self.limit[2:])
        m.d.comb += [self.o.payload.eq(po.payload), self.o.valid.eq(po.valid & room),
                     po.ready.eq(Mux(room, self.o.ready, 1))]
        m.d.comb += passed.eq(chained & self.o.valid & self.o.ready)
        with m.If(passed):
            m.d.sync += written.eq(written + 1)
        with m.If(chained & po.valid & ~room):
            m.d.sync += overflow.eq(1)
        return m
