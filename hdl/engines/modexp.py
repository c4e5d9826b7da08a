# Ref: Koç, Acar, Kaliski, "Analyzing and comparing Montgomery multiplication algorithms", IEEE Micro 16(3), 1996 (CIOS)
# Ref: Menezes, van Oorschot, Vanstone, Handbook of Applied Cryptography, 14.79 (left-to-right binary exponentiation)
# Ref: Coron, "Resistance against differential power analysis for elliptic curve cryptosystems", CHES 1999 (double-and-add-always)
# Ref: Yen, Joye, "Checking before output may not be enough against fault-based cryptanalysis", IEEE Trans. Computers 49(9), 2000 (safe errors)
"""The public-key unit: modular exponentiation ``base ** exponent mod modulus``
for Diffie-Hellman, by word-serial Montgomery multiplication (CIOS).

:class:`ModExp` has its own operand memory of four slots (:class:`ModExpSlot`
BASE, EXPONENT, MODULUS, RESULT) of ``max_bits / 32`` 32-bit words each, word
0 the least significant, which the host side writes and reads through the
``mem_*`` port. The unit computes everything else itself from the three
operands: n' = -n^-1 mod 2^w, R mod n and R^2 mod n (R = 2^(w*s)), the
conversion of the base into Montgomery form and of the result out of it, the
square-and-multiply-always over ``exp_bits`` exponent bits and the final
conditional subtractions; its running time does not depend on the
exponent's value (see "Constant time" below). Moduli of any whole number of
32-bit words up to ``max_bits`` work (512, 768, 1024, 1536, 2048 bits for
the IKE groups), as long as the modulus is odd.

Ports (``sync`` = the card's 33 MHz PCI CLK; "clock" below = one CLK; M =
``max_bits / 32``):

============== ===== ====== =================================================
port           dir   width  meaning
============== ===== ====== =================================================
``mem_addr``   In    log2   operand word address: ``slot * M + word``
                     (4M)   (:meth:`ModExp.address`); read and written by
                            the host side at any time
``mem_wdata``  In    32     word to write
``mem_we``     In    1      write ``mem_wdata`` at ``mem_addr`` at the next
                            edge. Ignored while ``busy`` (the unit owns the
                            write port then, to store RESULT).
``mem_rdata``  Out   32     the word at ``mem_addr``, combinational (an
                            asynchronous read port, as the card's PCI
                            target reads BAR0 windows); a write shows from
                            the next clock
``start``      In    1      pulse: start an operation. Honoured only while
                            ``busy`` is low; ``words``, ``exp_bits`` and
                            ``watchdog`` are sampled in that clock.
``words``      In    16     modulus size in 32-bit words, 1..M. BASE and
                            MODULUS are read from words 0..``words``-1 of
                            their slots (higher words are ignored); RESULT
                            words 0..``words``-1 are written, the others are
                            left as they were.
``exp_bits``   In    16     exponent length in bits, 0..``max_bits``: bits
                            ``exp_bits``-1 .. 0 of the EXPONENT slot are
                            used (leading zero bits are allowed: every bit,
                            0 or 1, costs a squaring and a multiplication);
                            0 gives 1 mod n.
``watchdog``   In    32     clock budget, 0 = none. An operation that would
                            need more than ``watchdog`` busy clocks is
                            stopped: ``busy`` is then high for exactly
                            ``watchdog`` + 1 clocks and ``status`` is
                            TIMEOUT. One that needs ``watchdog`` clocks or
                            fewer completes normally.
``abort``      In    1      while ``busy``: stop; ``busy`` falls at the next
                            edge, ``status`` ABORTED. Ignored while idle.
``busy``       Out   1      an operation is running: high from the clock
                            after ``start`` for :meth:`ModExp.clocks` clocks
                            (a register; never high for BAD_SIZE)
``done``       Out   1      one-clock pulse in the first clock after the
                            operation has ended (whatever its status, also
                            for BAD_SIZE, where it is the clock after
                            ``start``); ``busy`` is low in that clock and
                            ``status`` valid. Meant to set an interrupt
                            flag.
``status``     Out   3      :class:`ModExpStatus` of the last operation, a
                            register, valid from the ``done`` clock until
                            the next operation ends
============== ===== ====== =================================================

Status: OK; EVEN_MODULUS (the modulus is even, including zero; found after
the operands are loaded, ``2 * words' + 1`` clocks after ``start``, where
``words'`` is ``words`` rounded up to whole multiplier words); BAD_SIZE
(``words`` is 0 or more than M, or ``exp_bits`` more than ``max_bits``;
reported at once, no clock of ``busy``); TIMEOUT; ABORTED. After any status
the unit is idle and works normally; RESULT may then hold partial words
only if the stop came during the final store.

Operands: the base may be anything below 2^(32*``words``), also >= the
modulus: it is never reduced explicitly. It enters Montgomery form as
MontMul(base, R^2 mod n) = base*R mod n, and a Montgomery product a*b/R with
a < R and b < n is below 2n, so the usual single final subtraction gives a
fully reduced value (tested with base >= modulus, base = modulus, base =
2^(32*words) - 1). The modulus may have leading zero words; its bit length
L is found while it is loaded. Modulus 1 gives 0.

Algorithm (w = ``mul_bits``, s = ceil(32 * ``words`` / w) digits,
R = 2^(w s)):

1. LOAD: MODULUS then BASE are copied into the internal work memory as
   w-bit digits (2 32-bit words per digit for w = 64), zero-padded to s
   digits; the modulus' parity, bit length L and low digit n0 are noted.
2. n' = -n0^-1 mod 2^w by a bit-serial circuit (one bit per clock, w clocks,
   a w-bit adder, no multiplier), running in parallel with step 3: keep
   u = 0; for each bit i: if u is even, u += n0 and set bit i of n'; u >>= 1.
3. R mod n and R^2 mod n: x = 2^(L-1) (< n; 0 if n = 1), doubled modulo n
   K = w s - L + 1 times to R mod n (the Montgomery 1, the accumulator's
   start value), s more times to R 2^s mod n, then squared log2(w) times by
   Montgomery multiplication: (R 2^u)^2 / R = R 2^(2u), so 2^s becomes
   2^(s w) and x = R^2 mod n. A doubling is one word-serial pass 2x -
   sub*n, and the same pass compares its own result, doubled, with n to
   decide the next pass' subtraction.
4. X = MontMul(base, R^2) (Montgomery form of the base); then for each
   exponent bit from the top: A = MontMul(A, A), then A = MontMul(A, X) if
   the bit is 1 and A = MontMul(A, D) if it is 0 (left-to-right
   square-and-multiply, HAC 14.79, made "always"), D holding R mod n, the
   Montgomery form of 1. D is free once X is made; the first squaring (of
   A = R mod n, which it leaves unchanged) writes its product into D, so
   the 1 costs no clock and no memory.
5. result = MontMul(A, 1), stored into RESULT.

Constant time: for Diffie-Hellman the exponent is the private key, and the
busy count is visible to the host (``PK_CLOCKS``) and to anyone timing the
exchange, so it must not depend on the exponent. Every bit therefore costs
the same two products (a squaring and a multiplication, each always
2 s^2 + 3 s + 1 clocks: the CIOS loops and the final subtraction pass run
whatever the data), and the busy count depends only on ``words``,
``exp_bits`` and the modulus' bit length L (step 3: public, like the
modulus). Only the operand address of the second product (X or D) follows
the bit.

Why multiply-always by the Montgomery 1 rather than a Montgomery ladder:
both cost two products per bit and fit the six regions (a ladder keeps R0
in A and R1 in X), but the ladder needs each bit before the step's first
product (this sequencer fetches it during the squaring) and picks all
three regions of both products by the bit, a larger change; and its last
step throws one product away, the first or the second depending on the
bit. Faults: a dummy multiplication whose product is discarded (A*X
computed and dropped for a 0 bit) is a safe-error target: a fault
injected into it leaves the result correct exactly when the bit is 0,
which reveals the bit. Here no product is discarded: the product by
R mod n is kept as the new A, so a fault in any product spoils the result
whatever the bits. What remains is the memory variant (a fault set into X
or D before some step spoils the result only if a later bit reads that
region); the unit checks nothing itself (it has no status to report a
failed check), so fault detection is left to the protocol.
The host should also keep ``exp_bits`` fixed for a key size (the driver's
DH private keys have their top bit set) so that the declared length does
not reveal leading zero bits.

One Montgomery multiplication (CIOS, one w x w multiply per clock): for
each digit b_i of b, a multiply loop t += a*b_i (s clocks) and a reduction
loop t = (t + m*n) / 2^w with m = t_0 n' mod 2^w (one clock for m, s for
the loop), 2s + 2 clocks per digit; the last reduction loop also compares t
with n, and one more pass (s clocks) writes t - n or t into the destination.
That is 2 s^2 + 3 s + 1 clocks. t[s-1], t[s] and t[s+1] are registers, the
other digits of t a region of the work memory, which has two read ports and
one write port (the multiply loop reads t_j and a_j and writes t_j in each
clock).

Clocks (:func:`modexp_clocks`, :meth:`ModExp.clocks`): busy for 2 q + 1
(load, q = s w / 32) + max((K + s + 1)(s + 1), w) (doublings, each pass s + 1
clocks; n' needs w) + (log2(w) + 2 + 2 exp_bits)(2 s^2 + 3 s + 1) +
``words`` + 1 (store) clocks, whatever the exponent's value.
With w = 64: 1024-bit modulus and exponent: 1 153 820 clocks
(35 ms at 33 MHz); 2048-bit modulus, 160-bit exponent: 704 876 (21 ms);
768-bit, 160-bit exponent: 106 856. With w = 32 (a quarter of the
multiplier) 3.8 to 3.9 times as many.

Area: one w x w multiplier with a 2w-bit adder behind it, the work memory
(6 regions of 2^ceil(log2(max_bits/w)) w-bit digits: N, BASE, X, A, scratch
D, T), the operand memory (4 M 32-bit words) and about 12 w-bit registers.
Yosys generic synthesis (``sim/synth.py``'s script) of ``ModExp()``: 36 478
cells, 960 flip-flops, 20 480 memory bits; with ``mul_bits=32``: 13 238
cells, 571 flip-flops. The critical path is not pipelined: read data ->
multiply -> add t_j and the carry -> (last digit) add t[s] and compare with
n, all in one clock.
"""
from amaranth import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...contract.build import BUILD
from ...contract.pk import ModExpSlot, ModExpStatus, modexp_clocks

__all__ = ["ModExp"]


# Regions of the work memory (w-bit digits).
_N, _B, _X, _A, _D, _T = range(6)

# What the exec stage does in a clock (set by the issuing state one clock earlier,
# when the memory reads were addressed).
_NONE, _LOAD, _STORE, _DBL, _BFETCH, _MUL, _MCOMP, _RED, _FIX = range(9)

# Which Montgomery multiplication runs (decides what follows it).
_SQ_R2, _TO_MONT, _SQUARE, _MUL_BIT, _FROM_MONT = range(5)


def _sub_word(a, b, borrow):
    """``(a - b - borrow) mod 2^w`` and the borrow out, for w-bit ``a``, ``b``."""
    width = len(a)
    total = a + (~b)[:width] + (~borrow)[:1]
    return total[:width], ~total[width]


class ModExp(wiring.Component):
    """Modular exponentiation with its own operand memory (see the module doc).

    Parameters
    ----------
    max_bits : int
        Largest modulus, a multiple of ``mul_bits``; the slots are
        ``max_bits / 32`` words.
    mul_bits : 32 or 64
        Digit width w: one ``mul_bits`` x ``mul_bits`` multiply per clock.
    """

    def __init__(self, max_bits: int = 32 * BUILD.pk_words, mul_bits: int = BUILD.pk_mul_bits):
        if mul_bits not in (32, 64):
            raise ValueError(f"mul_bits must be 32 or 64, not {mul_bits!r}")
        if max_bits <= 0 or max_bits % mul_bits:
            raise ValueError(f"max_bits must be a positive multiple of mul_bits ({mul_bits}), "
                             f"not {max_bits!r}")
        if max_bits >= 1 << 16:
            raise ValueError(f"max_bits must be below 65536 (16-bit size ports), not {max_bits}")
        self.max_bits = max_bits
        self.mul_bits = mul_bits
        self.slot_words = max_bits // 32
        self.max_digits = max_bits // mul_bits
        super().__init__({
            "mem_addr": In(range(4 * self.slot_words)), "mem_wdata": In(32), "mem_we": In(1),
            "mem_rdata": Out(32),
            "start": In(1), "words": In(16), "exp_bits": In(16), "watchdog": In(32), "abort": In(1),
            "busy": Out(1), "done": Out(1), "status": Out(ModExpStatus),
        })

    def address(self, slot, word: int = 0) -> int:
        """The ``mem_addr`` of ``word`` of ``slot`` (a :class:`ModExpSlot`)."""
        return int(slot) * self.slot_words + word

    def clocks(self, bits: int, exp_bits: int, *, words=None) -> int:
        """Busy clocks of one operation of this unit: :func:`modexp_clocks` with
        its ``mul_bits``."""
        return modexp_clocks(bits, exp_bits, words=words, mul_bits=self.mul_bits)

    def elaborate(self, platform):
        m = Module()
        w = self.mul_bits
        per = w // 32                               # 32-bit words per digit
        log_per = per.bit_length() - 1
        log_w = w.bit_length() - 1
        slot = self.slot_words
        digits_max = self.max_digits
        index_bits = max(1, (digits_max - 1).bit_length())

        # --- memories -----------------------------------------------------------
        m.submodules.operands = operands = Memory(shape=32, depth=4 * slot, init=[])
        host_rd = operands.read_port(domain="comb")
        eng_rd = operands.read_port()
        op_wr = operands.write_port()
        m.submodules.work = work = Memory(shape=w, depth=6 << index_bits, init=[])
        rd1 = work.read_port()      # t_j, x_j (the value being worked on)
        rd2 = work.read_port()      # a_j, n_j, b_i
        wr = work.write_port()

        def at(region, index):
            region = C(region, 3) if isinstance(region, int) else region
            index = index[:index_bits]
            return Cat(index, C(0, index_bits - len(index)), region)

        m.d.comb += [host_rd.addr.eq(self.mem_addr), self.mem_rdata.eq(host_rd.data)]

        # --- state --------------------------------------------------------------
        words = Signal(range(slot + 1))
        digits = Signal(range(digits_max + 1))      # s
        loads = Signal(range(slot + 2))             # s * per
        ebits = Signal(range(self.max_bits + 1))
        budget = Signal(32)
        elapsed = Signal(32)
        status = Signal(ModExpStatus)
        done = Signal()
        m.d.comb += [self.status.eq(status), self.done.eq(done)]
        m.d.sync += done.eq(0)

        bit_length = Signal(range(self.max_bits + 1))   # L of the modulus
        top_bit = Signal(range(self.max_bits))          # L - 1
        n_even = Signal()
        n0 = Signal(w)
        nprime = Signal(w)
        np_u = Signal(w)
        np_count = Signal(range(w))
        np_run = Signal()
        np_done = Signal()

        q = Signal(range(slot + 1))                 # 32-bit word index (load, store)
        j = Signal(range(digits_max + 1))           # digit index
        i = Signal(range(digits_max + 1))           # outer CIOS digit
        passes = Signal(range(w * digits_max + digits_max + 2))
        doublings = Signal(range(w * digits_max + 2))   # K
        e = Signal(range(self.max_bits))            # exponent bit
        squarings = Signal(range(log_w + 1))

        mm_a = Signal(3)
        mm_b = Signal(3)
        mm_dst = Signal(3)
        mm_one = Signal()                           # b = 1 (leave Montgomery form)
        mm_efetch = Signal()                        # fetch exponent bit e meanwhile
        mm_op = Signal(range(5))

        ex_op = Signal(range(9))
        ex_j = Signal(range(max(digits_max, slot)))
        ex_last = Signal()
        ex_first = Signal()
        ex_init = Signal()
        ex_dst = Signal(3)
        ex_is_n = Signal()
        ex_efetch = Signal()
        m.d.sync += [ex_op.eq(_NONE), ex_efetch.eq(0)]

        b_digit = Signal(w)
        m_digit = Signal(w)
        t0 = Signal(w)
        t_last = Signal(w)          # t[s-1]
        t_penult = Signal(w)        # t[s-2] as last written (the FIX pass may read it too early)
        t_top = Signal(w)           # t[s]
        t_carry = Signal()          # t[s+1]
        carry = Signal(w)
        n_prev = Signal(w)
        borrow = Signal()
        borrow2 = Signal()
        subtract = Signal()         # the finished product is >= n
        dbl_sub = Signal()          # the next doubling subtracts n
        x_carry = Signal()
        y_carry = Signal()
        low = Signal(32)
        ebit = Signal()

        # --- n' = -n0^-1 mod 2^w, one bit per clock ----------------------------
        with m.If(np_run):
            step = np_u + Mux(np_u[0], 0, n0)
            m.d.sync += [np_u.eq(step[1:w + 1]), nprime.eq(Cat(nprime[1:], ~np_u[0])),
                         np_count.eq(np_count + 1)]
            with m.If(np_count == w - 1):
                m.d.sync += [np_run.eq(0), np_done.eq(1)]

        # --- exec stage: one clock after the reads were addressed -------------
        mul_x = Signal(w)
        mul_y = Signal(w)
        product = Signal(2 * w)
        m.d.comb += product.eq(mul_x * mul_y)
        with m.Switch(ex_op):
            with m.Case(_MCOMP):
                m.d.comb += [mul_x.eq(t0), mul_y.eq(nprime)]
            with m.Case(_RED):
                m.d.comb += [mul_x.eq(rd2.data), mul_y.eq(m_digit)]
            with m.Default():
                m.d.comb += [mul_x.eq(rd2.data), mul_y.eq(b_digit)]
        t_in = Signal(w)
        m.d.comb += t_in.eq(Mux(ex_last, t_last, rd1.data))
        carry_in = Mux(ex_j == 0, 0, carry)
        mac = Signal(2 * w)         # t_j + x*y + C never exceeds 2^(2w) - 1
        mac_t = Mux((ex_op == _MUL) & ex_first, 0, t_in)
        m.d.comb += mac.eq(product + mac_t + carry_in)
        mac_lo, mac_hi = mac[:w], mac[w:]

        word_in = Signal(32)        # loaded operand word, zero above ``words``
        m.d.comb += word_in.eq(Mux(ex_j < words, eng_rd.data, 0))
        word_len = Signal(6)
        for bit in range(32):
            with m.If(word_in[bit]):
                m.d.comb += word_len.eq(bit + 1)

        # host writes while idle; the store exec stage overrides while busy
        m.d.comb += [op_wr.addr.eq(self.mem_addr), op_wr.data.eq(self.mem_wdata),
                     op_wr.en.eq(self.mem_we & ~self.busy)]

        with m.Switch(ex_op):
            with m.Case(_LOAD):         # ex_j = 32-bit word index, ex_dst = region
                if per == 2:
                    with m.If(~ex_j[0]):
                        m.d.sync += low.eq(word_in)
                    with m.Else():
                        m.d.comb += [wr.addr.eq(at(ex_dst, ex_j[1:])), wr.data.eq(Cat(low, word_in)),
                                     wr.en.eq(1)]
                        with m.If(ex_is_n & (ex_j == 1)):
                            m.d.sync += n0.eq(Cat(low, word_in))
                else:
                    m.d.comb += [wr.addr.eq(at(ex_dst, ex_j)), wr.data.eq(word_in), wr.en.eq(1)]
                    with m.If(ex_is_n & (ex_j == 0)):
                        m.d.sync += n0.eq(word_in)
                with m.If(ex_is_n):
                    with m.If(ex_j == 0):
                        m.d.sync += n_even.eq(~word_in[0])
                    with m.If(word_in != 0):
                        m.d.sync += bit_length.eq(Cat(C(0, 5), ex_j) + word_len)

            with m.Case(_STORE):        # ex_j = 32-bit word index
                word_out = rd1.data.word_select(ex_j[0], 32) if per == 2 else rd1.data
                m.d.comb += [op_wr.addr.eq(ModExpSlot.RESULT * slot + ex_j), op_wr.data.eq(word_out),
                             op_wr.en.eq(1)]

            with m.Case(_DBL):          # y = 2x - sub*n (or y = x0); compare 2y with n
                x0 = Mux((bit_length > 1) & (ex_j == (top_bit >> log_w)),
                         (C(1, w) << top_bit[:log_w])[:w], 0)
                x = Mux(ex_init, x0, rd1.data)
                shifted = Cat(Mux(ex_j == 0, 0, x_carry), x[:w - 1])
                doubled = Mux(ex_init, x, shifted)
                y, y_borrow = _sub_word(doubled, Mux(dbl_sub & ~ex_init, rd2.data, 0),
                                        Mux(ex_j == 0, 0, borrow))
                y2 = Cat(Mux(ex_j == 0, 0, y_carry), y[:w - 1])
                _, y2_borrow = _sub_word(y2, rd2.data, Mux(ex_j == 0, 0, borrow2))
                m.d.comb += [wr.addr.eq(at(ex_dst, ex_j)), wr.data.eq(y), wr.en.eq(1)]
                m.d.sync += [x_carry.eq(x[w - 1]), y_carry.eq(y[w - 1]), borrow.eq(y_borrow),
                             borrow2.eq(y2_borrow)]
                with m.If(ex_last):
                    m.d.sync += dbl_sub.eq(y[w - 1] | ~y2_borrow)

            with m.Case(_BFETCH):       # ex_j = i
                m.d.sync += b_digit.eq(Mux(mm_one, ex_j == 0, rd2.data))

            with m.Case(_MUL):          # t_j += a_j * b_i (+ carry)
                m.d.sync += carry.eq(mac_hi)
                with m.If(ex_j == 0):
                    m.d.sync += t0.eq(mac_lo)
                with m.If(ex_last):
                    top = Mux(ex_first, 0, t_top) + mac_hi
                    m.d.sync += [t_last.eq(mac_lo), t_top.eq(top[:w]), t_carry.eq(top[w])]
                with m.Else():
                    m.d.comb += [wr.addr.eq(at(_T, ex_j)), wr.data.eq(mac_lo), wr.en.eq(1)]

            with m.Case(_MCOMP):
                m.d.sync += m_digit.eq(product[:w])

            with m.Case(_RED):          # t = (t + m*n) / 2^w, t compared with n
                m.d.sync += [carry.eq(mac_hi), n_prev.eq(rd2.data)]
                cmp_borrow = Signal()
                with m.If(ex_j != 0):
                    m.d.comb += [wr.addr.eq(at(_T, ex_j - 1)), wr.data.eq(mac_lo), wr.en.eq(1)]
                    m.d.sync += t_penult.eq(mac_lo)
                    _, word_borrow = _sub_word(mac_lo, n_prev, Mux(ex_j == 1, 0, borrow))
                    m.d.comb += cmp_borrow.eq(word_borrow)
                    m.d.sync += borrow.eq(word_borrow)
                with m.If(ex_last):
                    top = t_top + mac_hi
                    high = t_carry + top[w]
                    _, final_borrow = _sub_word(top[:w], rd2.data, cmp_borrow)
                    m.d.sync += [t_last.eq(top[:w]), t_top.eq(high), t_carry.eq(0),
                                 subtract.eq((high != 0) | ~final_borrow)]

            with m.Case(_FIX):          # destination = t - subtract*n
                # with s = 2, t[0] is read in the clock it is written: take the copy
                t_fix = Mux(~ex_last & (ex_j == digits - 2), t_penult, t_in)
                z, z_borrow = _sub_word(t_fix, Mux(subtract, rd2.data, 0), Mux(ex_j == 0, 0, borrow))
                m.d.comb += [wr.addr.eq(at(ex_dst, ex_j)), wr.data.eq(z), wr.en.eq(1)]
                m.d.sync += borrow.eq(z_borrow)

        with m.If(ex_efetch):
            m.d.sync += ebit.eq(eng_rd.data.bit_select(e[:5], 1))

        # --- sequencer ----------------------------------------------------------
        def finish(code):
            m.d.sync += [status.eq(code), done.eq(1)]
            m.next = "IDLE"

        def guard():
            """Stop on abort or when the watchdog budget is used up (overrides the
            state's own transition)."""
            with m.If(self.abort | ((budget != 0) & (elapsed >= budget))):
                m.d.sync += [ex_op.eq(_NONE), ex_efetch.eq(0)]     # nothing left to execute
                finish(Mux(self.abort, ModExpStatus.ABORTED, ModExpStatus.TIMEOUT))

        def multiply(op, a, b, dst, one=0, efetch=0):
            m.d.sync += [mm_op.eq(op), mm_a.eq(a), mm_b.eq(b), mm_dst.eq(dst), mm_one.eq(one),
                         mm_efetch.eq(efetch)]
            m.next = "MM_B"

        def next_bit():
            with m.If(e == 0):
                multiply(_FROM_MONT, _A, _B, _B, one=1)
            with m.Else():
                m.d.sync += e.eq(e - 1)
                multiply(_SQUARE, _A, _A, _A, efetch=1)

        def load(name, source, region, is_n, after):
            with m.State(name):
                m.d.comb += eng_rd.addr.eq(source * slot + q)
                m.d.sync += [ex_op.eq(_LOAD), ex_j.eq(q), ex_dst.eq(region), ex_is_n.eq(is_n),
                             q.eq(q + 1)]
                with m.If(q == loads - 1):
                    m.d.sync += q.eq(0)
                    m.next = after
                guard()

        with m.FSM(name="modexp") as fsm:
            with m.State("IDLE"):
                with m.If(self.start):
                    with m.If((self.words == 0) | (self.words > slot) | (self.exp_bits > self.max_bits)):
                        finish(ModExpStatus.BAD_SIZE)
                    with m.Else():
                        s = (self.words + per - 1)[log_per:]
                        m.d.sync += [words.eq(self.words), digits.eq(s), loads.eq(s << log_per),
                                     ebits.eq(self.exp_bits), budget.eq(self.watchdog),
                                     elapsed.eq(0), q.eq(0), bit_length.eq(0), np_run.eq(0),
                                     np_done.eq(0), dbl_sub.eq(0)]
                        m.next = "LOAD_N"

            load("LOAD_N", ModExpSlot.MODULUS, _N, 1, "LOAD_B")
            load("LOAD_B", ModExpSlot.BASE, _B, 0, "LOAD_END")

            with m.State("LOAD_END"):
                with m.If(n_even):
                    finish(ModExpStatus.EVEN_MODULUS)
                with m.Else():
                    m.d.sync += [np_u.eq(0), np_count.eq(0), np_run.eq(1),
                                 top_bit.eq(bit_length - 1),
                                 doublings.eq((digits << log_w) + 1 - bit_length),
                                 passes.eq(0), j.eq(0)]
                    m.next = "DBL"
                guard()

            with m.State("DBL"):
                m.d.comb += [rd1.addr.eq(at(Mux(passes == doublings + 1, _A, _D), j)),
                             rd2.addr.eq(at(_N, j))]
                m.d.sync += [ex_op.eq(_DBL), ex_j.eq(j), ex_last.eq(j == digits - 1),
                             ex_init.eq(passes == 0), ex_dst.eq(Mux(passes == doublings, _A, _D)),
                             j.eq(j + 1)]
                with m.If(j == digits - 1):
                    m.d.sync += j.eq(0)
                    m.next = "DBL_DRAIN"
                guard()

            with m.State("DBL_DRAIN"):
                with m.If(passes == doublings + digits):
                    m.d.sync += squarings.eq(0)
                    multiply(_SQ_R2, _D, _D, _D)
                with m.Else():
                    m.d.sync += passes.eq(passes + 1)
                    m.next = "DBL"
                guard()

            with m.State("MM_B"):
                with m.If(np_done):
                    m.d.comb += [rd2.addr.eq(at(mm_b, C(0, index_bits))),
                                 eng_rd.addr.eq(ModExpSlot.EXPONENT * slot + (e >> 5))]
                    m.d.sync += [ex_op.eq(_BFETCH), ex_j.eq(0), ex_efetch.eq(mm_efetch),
                                 i.eq(0), j.eq(0)]
                    m.next = "MM_MUL"
                guard()

            with m.State("MM_MUL"):
                m.d.comb += [rd1.addr.eq(at(_T, j)), rd2.addr.eq(at(mm_a, j))]
                m.d.sync += [ex_op.eq(_MUL), ex_j.eq(j), ex_last.eq(j == digits - 1),
                             ex_first.eq(i == 0), j.eq(j + 1)]
                with m.If(j == digits - 1):
                    m.d.sync += j.eq(0)
                    m.next = "MM_MDRAIN"
                guard()

            with m.State("MM_MDRAIN"):
                m.d.sync += ex_op.eq(_MCOMP)
                m.next = "MM_RED"
                guard()

            with m.State("MM_RED"):
                m.d.comb += [rd1.addr.eq(at(_T, j)), rd2.addr.eq(at(_N, j))]
                m.d.sync += [ex_op.eq(_RED), ex_j.eq(j), ex_last.eq(j == digits - 1), j.eq(j + 1)]
                with m.If(j == digits - 1):
                    m.d.sync += j.eq(0)
                    m.next = "MM_RDRAIN"
                guard()

            with m.State("MM_RDRAIN"):
                with m.If(i == digits - 1):
                    m.d.comb += [rd1.addr.eq(at(_T, C(0, index_bits))),
                                 rd2.addr.eq(at(_N, C(0, index_bits)))]
                    m.d.sync += [ex_op.eq(_FIX), ex_j.eq(0), ex_last.eq(digits == 1),
                                 ex_dst.eq(mm_dst), j.eq(1)]
                    with m.If(digits == 1):
                        m.next = "MM_FDRAIN"
                    with m.Else():
                        m.next = "MM_FIX"
                with m.Else():
                    m.d.comb += rd2.addr.eq(at(mm_b, i + 1))
                    m.d.sync += [ex_op.eq(_BFETCH), ex_j.eq(i + 1), i.eq(i + 1)]
                    m.next = "MM_MUL"
                guard()

            with m.State("MM_FIX"):
                m.d.comb += [rd1.addr.eq(at(_T, j)), rd2.addr.eq(at(_N, j))]
                m.d.sync += [ex_op.eq(_FIX), ex_j.eq(j), ex_last.eq(j == digits - 1),
                             ex_dst.eq(mm_dst), j.eq(j + 1)]
                with m.If(j == digits - 1):
                    m.d.sync += j.eq(0)
                    m.next = "MM_FDRAIN"
                guard()

            with m.State("MM_FDRAIN"):
                with m.Switch(mm_op):
                    with m.Case(_SQ_R2):
                        with m.If(squarings == log_w - 1):
                            multiply(_TO_MONT, _B, _D, _X)
                        with m.Else():
                            m.d.sync += squarings.eq(squarings + 1)
                            m.next = "MM_B"
                    with m.Case(_TO_MONT):
                        with m.If(ebits == 0):
                            multiply(_FROM_MONT, _A, _B, _B, one=1)
                        with m.Else():
                            # A is the Montgomery 1 (R mod n), which squaring leaves as it is:
                            # the first squaring writes its product into D (free since
                            # _TO_MONT), the 1 that the 0 bits multiply by
                            m.d.sync += e.eq(ebits - 1)
                            multiply(_SQUARE, _A, _A, _D, efetch=1)
                    with m.Case(_SQUARE):       # every bit: A = A * X (1 bit) or A * 1 (0 bit)
                        multiply(_MUL_BIT, _A, Mux(ebit, _X, _D), _A)
                    with m.Case(_MUL_BIT):
                        next_bit()
                    with m.Case(_FROM_MONT):
                        m.d.sync += q.eq(0)
                        m.next = "STORE"
                guard()

            with m.State("STORE"):
                m.d.comb += rd1.addr.eq(at(_B, q >> log_per))
                m.d.sync += [ex_op.eq(_STORE), ex_j.eq(q), q.eq(q + 1)]
                with m.If(q == words - 1):
                    m.next = "STORE_DRAIN"
                guard()

            with m.State("STORE_DRAIN"):
                finish(ModExpStatus.OK)
                guard()


        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE"))
        with m.If(self.busy):
            m.d.sync += elapsed.eq(elapsed + 1)
        return m
