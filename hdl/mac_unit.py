# Ref: RFC 2104, RFC 2403, RFC 2404, ANSI X9.9
"""The card's MAC unit: HMAC-MD5, HMAC-SHA1, DES-MAC or a plain SHA-1/MD5
digest over a 32-bit word stream; produces the ICV (encode) or compares it
with the packet's (decode).

Algorithms (``alg``, a :class:`~.layouts.MacAlg`):

- ``HMAC_MD5``, ``HMAC_SHA1``: RFC 2104 from the channel's precomputed pad
  states, one :class:`~.engines.hmac.Hmac` instance each. The ICV is the
  first ``icv_words`` words of the MAC (3 = HMAC-MD5-96 / HMAC-SHA1-96,
  RFC 2403 / RFC 2404).
- ``SHA1``, ``MD5``: the plain digest (FIPS 180-4, RFC 1321) on the same
  engines with ``keyed`` low: no key, no outer pass.
- ``DES_MAC``: CBC-MAC with DES and IV 0 (ANSI X9.9) on a
  :class:`~.engines.des.DesCore`: the message is zero-padded to a multiple of
  8 bytes (none if it already is one; the empty message is the single block
  0^64), the MAC is the final cipher block, ``icv_words`` <= 2.

Byte order is PCI's throughout: a word carries 4 consecutive bytes, the first
(lowest address) in ``data[7:0]``; the ICV's first MAC byte is bits [7:0] of
its first word.

The message length is given up front in bytes (``length``, latched with
``start``) rather than by a ``last`` flag, so ``i`` is a plain
``stream.Signature(32)`` and the empty message needs no transfer at all.
The message takes ceil(``length`` / 4) words; the bytes of the last word
past ``length`` are ignored (DES-MAC sees them as the zero padding).

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK):

================== ===== ===== ==================================================
port               dir   width meaning
================== ===== ===== ==================================================
``start``          In    1     pulse: begin a MAC job. Honoured only while
                               ``busy`` is low (ignored otherwise); every input
                               below up to ``key`` is sampled in that clock.
``alg``            In    3     :class:`~.layouts.MacAlg` (other values: the
                               job never ends; the pipe validates contexts)
``icv_words``      In    3     ICV length in words, 1..5, at most the digest
                               (5 SHA-1, 4 MD5, 2 DES-MAC); larger values give
                               zero words past the digest
``length``         In    24    message length in bytes (any, 0..2^24-1)
``end``            In    1     pulse in the message phase, between words: the
                               message ends here (for a message whose length
                               is not known at ``start``: give ``length`` =
                               2^24 - 1). Whole words only.
``check``          In    1     0 encode: the ICV goes out on ``icv``;
                               1 decode: the packet's ICV comes in on
                               ``expect`` and is compared
``inner_iv``       In    160   HMAC state after key ^ ipad (SHA-1
                               ``H0<<128 | ... | H4``; MD5 ``A<<96 | ... | D``
                               in the low 128 bits)
``outer_iv``       In    160   HMAC state after key ^ opad, packed likewise
``key``            In    64    DES-MAC key bytes as the channel context holds
                               them: key byte k at bits [8k+7:8k]
``i.payload``      In    32    a message word (byte 0 in [7:0])
``i.valid``        In    1     ``i.payload`` holds a word
``i.ready``        Out   1     the word is taken in a clock with ``i.valid &
                               i.ready``; low outside the message phase, which
                               takes exactly ceil(``length`` / 4) words. It does not
                               depend on ``i.valid``.
``icv.payload``    Out   32    ICV word (encode), in packet order
``icv.valid``      Out   1     an ICV word is offered; held with a stable
                               payload until taken
``icv.ready``      In    1     the word is taken in a clock with ``icv.valid &
                               icv.ready``; ``busy`` falls at the edge that
                               takes word ``icv_words`` - 1
``expect.payload`` In    32    the packet's ICV word (decode), in packet order
``expect.valid``   In    1     ``expect.payload`` holds a word
``expect.ready``   Out   1     a word is taken in a clock with ``expect.valid &
                               expect.ready``: any clock of a decode job (before,
                               during or after the message and the MAC) until
                               ``icv_words`` words are in
``match``          Out   1     valid while ``checked``: the computed ICV equals
                               the ``expect`` words
``checked``        Out   1     level: a decode job's comparison is done; rises
                               as ``busy`` falls, falls with the next honoured
                               ``start`` (stays low for encode jobs)
``busy``           Out   1     from the edge after ``start`` until the last ICV
                               word is taken (encode) or ``checked`` rises
                               (decode)
================== ===== ===== ==================================================

Timing. Message phase: ``i`` is passed through combinationally to the engine
(``i.ready`` is the engine's), so the unit adds no clock:
:attr:`clocks_per_block` clocks per 64-byte block for HMAC (the inner
:class:`~.engines.hash_unit.HashUnit`'s: 21 SHA-1, 17 MD5) and per 8-byte
block for DES-MAC (the DES latency, 4; the chain is dependent, and the
second word of each block goes to the core in the clock it arrives).
Latency: the first ICV word is offered (encode) or the folded MAC is ready to
compare (decode) one clock after the engine's MAC is valid; ``checked``
rises one clock after both the MAC and the last ``expect`` word are in.
"""
from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..contract.codes import MAC_DIGEST_BYTES, MacAlg
from .engines.des import DesCore
from .engines.hash_unit import byteswap
from .engines.hmac import Hmac

__all__ = ["MacUnit"]

#: ICV register words (the longest digest, SHA-1's 20 bytes).
MAX_WORDS = max(MAC_DIGEST_BYTES.values()) // 4


def mac_words(mac, nwords):
    """The MAC as PCI-order words: ``mac`` is the big-endian integer of the
    MAC bytes (``nwords`` * 4 of them); word k holds bytes 4k..4k+3, the first
    in [7:0]. Missing words up to :data:`MAX_WORDS` are zero."""
    words = [byteswap(mac.word_select(nwords - 1 - k, 32)) for k in range(nwords)]
    return words + [Const(0, 32)] * (MAX_WORDS - nwords)


class MacUnit(wiring.Component):
    """MAC over a word stream with ICV out / ICV compare (see the module doc).

    Attributes
    ----------
    md5, sha1 : :class:`~.engines.hmac.Hmac`
    des : :class:`~.engines.des.DesCore`
    clocks_per_block : dict
        :class:`~.layouts.MacAlg` -> steady-state clocks per message block
        (64 bytes for HMAC, 8 for DES-MAC).
    block_bytes : dict
        :class:`~.layouts.MacAlg` -> block size those clocks refer to.
    """

    def __init__(self):
        self.md5 = Hmac("md5")
        self.sha1 = Hmac("sha1", per_clock=5)
        self.des = DesCore()
        self.clocks_per_block = {MacAlg.HMAC_MD5: self.md5.clocks_per_block,
                                 MacAlg.HMAC_SHA1: self.sha1.clocks_per_block,
                                 MacAlg.DES_MAC: self.des.clocks_per_block,
                                 MacAlg.MD5: self.md5.clocks_per_block,
                                 MacAlg.SHA1: self.sha1.clocks_per_block}
        self.block_bytes = {alg: 8 if alg is MacAlg.DES_MAC else 64 for alg in MacAlg}
        super().__init__({
            "start": In(1), "alg": In(3), "icv_words": In(3), "length": In(24),
            "check": In(1), "end": In(1), "inner_iv": In(160), "outer_iv": In(160), "key": In(64),
            "i": In(stream.Signature(32)),
            "icv": Out(stream.Signature(32)),
            "expect": In(stream.Signature(32)),
            "match": Out(1), "checked": Out(1), "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.md5 = md5 = self.md5
        m.submodules.sha1 = sha1 = self.sha1
        m.submodules.des = des = self.des

        alg = Signal(3)                 # latched job parameters
        icv_words = Signal(3)
        check = Signal()
        key = Signal(64)                # DES key, int.from_bytes(key bytes, "big")
        remaining = Signal(23)          # message words still to take
        tail = Signal(3)                # message bytes in the last word, 1..4
        index = Signal(3)               # next ICV word to send or to receive
        icv = Array(Signal(32, name=f"icv{k}") for k in range(MAX_WORDS))
        first = Signal(32)              # DES-MAC: first word of the current block
        have_first = Signal()

        is_md5 = (alg == MacAlg.HMAC_MD5) | (alg == MacAlg.MD5)
        is_sha1 = (alg == MacAlg.HMAC_SHA1) | (alg == MacAlg.SHA1)
        is_des = alg == MacAlg.DES_MAC
        honoured = Signal()
        m.d.comb += honoured.eq(self.start & ~self.busy)

        # The message word offered to the engine: the stream's (the bytes of
        # the last word past the message zeroed), or one synthesized word for
        # the empty message (HMAC: last with 0 bytes; DES-MAC: a zero word,
        # padded to the block 0^64).
        w_valid, w_ready, w_last, w_empty = Signal(), Signal(), Signal(), Signal()
        w_data = Signal(32)
        w_bytes = Signal(3)
        m.d.comb += w_bytes.eq(Mux(w_empty, 0, Mux(w_last, tail, 4)))
        keep = Cat(*((w_bytes > k).replicate(8) for k in range(4)))

        # HMAC engines: pad states go straight in at start (Hmac samples them).
        for hm, width, sel, keyed, plain in ((md5, 128, is_md5, MacAlg.HMAC_MD5, MacAlg.MD5),
                                             (sha1, 160, is_sha1, MacAlg.HMAC_SHA1, MacAlg.SHA1)):
            m.d.comb += [
                hm.start.eq(honoured & ((self.alg == keyed) | (self.alg == plain))),
                hm.keyed.eq(self.alg == keyed),
                hm.inner_iv.eq(self.inner_iv[:width]),
                hm.outer_iv.eq(self.outer_iv[:width]),
                hm.i.payload.data.eq(w_data),
                hm.i.payload.last.eq(w_last),
                hm.i.payload.bytes.eq(w_bytes),
                hm.i.valid.eq(w_valid & sel),
            ]

        # DES-MAC: the block is the buffered first word and the current word
        # (or the current word and zero padding when it is the last and
        # starts a block), XORed with the previous result while it is held.
        chain = des.o.payload & des.o.valid.replicate(64)
        m.d.comb += [
            des.key.eq(key),
            des.decrypt.eq(0),
            des.i.payload.eq(byteswap(Mux(have_first, Cat(first, w_data),
                                          Cat(w_data, Const(0, 32)))) ^ chain),
        ]

        des_block = Signal()            # this word completes a DES block
        m.d.comb += des_block.eq(have_first | w_last)
        with m.If(is_des):
            m.d.comb += [
                des.i.valid.eq(w_valid & des_block),
                des.o.ready.eq(w_valid & des_block),
                w_ready.eq(Mux(des_block, des.i.ready, 1)),
            ]
            with m.If(w_valid & w_ready):
                m.d.sync += [first.eq(w_data), have_first.eq(~des_block)]
        with m.Elif(is_md5):
            m.d.comb += w_ready.eq(md5.i.ready)
        with m.Else():
            m.d.comb += w_ready.eq(sha1.i.ready)

        # The finished MAC in PCI-order words, and whether it is there.
        mac_valid = Signal()
        mac = [Signal(32, name=f"mac{k}") for k in range(MAX_WORDS)]
        for k, (w_md5, w_sha1, w_des) in enumerate(zip(mac_words(md5.o.payload, 4),
                                                       mac_words(sha1.o.payload, 5),
                                                       mac_words(des.o.payload, 2))):
            m.d.comb += mac[k].eq(Mux(is_md5, w_md5, Mux(is_sha1, w_sha1, w_des)))
        m.d.comb += mac_valid.eq(Mux(is_md5, md5.o.valid,
                                     Mux(is_sha1, sha1.o.valid, des.o.valid)))

        # The ICV register: the MAC words are XORed in when the MAC is taken
        # and, on decode, each expected word into its place, so after both
        # the first ``icv_words`` words are all zero exactly on a match.
        take_mac = Signal()
        m.d.comb += self.expect.ready.eq(self.busy & check & (index != icv_words))
        take_expect = self.expect.valid & self.expect.ready
        for k in range(MAX_WORDS):
            m.d.sync += icv[k].eq(icv[k]
                                  ^ Mux(take_mac, mac[k], 0)
                                  ^ Mux(take_expect & (index == k), self.expect.payload, 0))
        with m.If(take_expect):
            m.d.sync += index.eq(index + 1)
        differs = Signal()
        m.d.comb += differs.eq(Cat(*(icv[k].any() & (k < icv_words)
                                   for k in range(MAX_WORDS))).any())
        m.d.comb += self.icv.payload.eq(icv[index])

        with m.FSM(name="mac") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [
                        alg.eq(self.alg), icv_words.eq(self.icv_words), check.eq(self.check),
                        key.eq(byteswap(self.key)), remaining.eq((self.length + 3)[2:]),
                        tail.eq(Mux(self.length[:2] == 0, 4, self.length[:2])),
                        index.eq(0), self.checked.eq(0), self.match.eq(0),
                        *(icv[k].eq(0) for k in range(MAX_WORDS)),
                    ]
                    with m.If(self.length == 0):
                        m.next = "EMPTY"
                    with m.Else():
                        m.next = "MESSAGE"
            with m.State("MESSAGE"):
                m.d.comb += [
                    w_valid.eq(self.i.valid & ~self.end), w_data.eq(self.i.payload & keep),
                    w_last.eq(remaining == 1), self.i.ready.eq(w_ready & ~self.end),
                ]
                with m.If(self.end):
                    # HMAC/hash: a last word with 0 bytes; DES-MAC: pad a half block, or
                    # take the chain value of the last whole block.
                    with m.If(is_des & ~have_first):
                        m.next = "MAC"
                    with m.Else():
                        m.next = "EMPTY"
                with m.Elif(w_valid & w_ready):
                    m.d.sync += remaining.eq(remaining - 1)
                    with m.If(w_last):
                        m.next = "MAC"
            with m.State("EMPTY"):
                m.d.comb += [w_valid.eq(1), w_last.eq(1), w_empty.eq(1)]
                with m.If(w_ready):
                    m.next = "MAC"
            with m.State("MAC"):
                m.d.comb += [md5.o.ready.eq(is_md5), sha1.o.ready.eq(is_sha1),
                             des.o.ready.eq(is_des), take_mac.eq(mac_valid)]
                with m.If(mac_valid):
                    with m.If(check):
                        m.next = "COMPARE"
                    with m.Else():
                        m.next = "ICV"
            with m.State("ICV"):
                m.d.comb += self.icv.valid.eq(1)
                with m.If(self.icv.ready):
                    m.d.sync += index.eq(index + 1)
                    with m.If(index + 1 == icv_words):
                        m.next = "IDLE"
            with m.State("COMPARE"):
                with m.If(index == icv_words):
                    m.d.sync += [self.checked.eq(1), self.match.eq(~differs)]
                    m.next = "IDLE"
        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        return m
