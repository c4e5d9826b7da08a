# Ref: FIPS 180-4 section 6.1.2 (SHA-1 compression), RFC 1321 section 3.4 (MD5 compression)
"""Fast pure-Python SHA-1 and MD5 compression for the behavioural model.

The card model computes HMAC from a channel's pad states (it holds no key),
so it cannot use :mod:`hashlib`, whose objects cannot start from an
arbitrary chaining state. The reference compression functions,
:func:`pacsim.reference.digests.sha1_compress` and
:func:`~pacsim.reference.digests.md5_compress`, are written for clarity (a
loop over rounds, a helper call per rotation, the state packed into one
integer); this module computes the same functions several times faster:

- the rounds are fully unrolled, with the round constants, shift counts and
  message-word indices written into the code, and the roles of the working
  variables renamed from round to round instead of shuffled;
- the message block is unpacked with one precompiled :class:`struct.Struct`
  straight out of the caller's buffer (no slicing);
- the SHA-1 message schedule: for a few blocks it lives in 16 local
  variables, recomputed in place; from :data:`LANE_MIN_BLOCKS` blocks in one
  call it is computed for all the blocks at once, one 32-bit lane per block
  in big integers (:func:`_sha1_schedules`), and the rounds take each
  block's 80 words ready-made;
- the chaining state is a tuple of 32-bit words (SHA-1 ``(H0, .., H4)``,
  MD5 ``(A, B, C, D)``) carried from block to block, and
  :func:`sha1_blocks`/:func:`md5_blocks` compress a run of consecutive blocks
  in one call.

The unrolled bodies are generated when the module is imported, from
:data:`~pacsim.reference.digests.MD5_S`, :data:`~pacsim.reference.digests.MD5_T`
and :func:`~pacsim.reference.digests.md5_word_index` (SHA-1's four round
functions and constants are FIPS 180-4 4.1.1 / 4.2.1), so no table is
copied; :data:`SOURCE` holds the generated code. ``tests/test_fast_digest.py``
checks every function against the reference functions and against
:mod:`hashlib`.

Rotations and masks: the low 32 bits of a sum, AND, OR, XOR or NOT
depend only on the low 32 bits of the operands, so a working value may
carry junk above bit 31 as long as it is never shifted right (and is masked
before it reaches the chaining state). Rotations use a doubled word
``x * 0x100000001`` (``x`` in both halves of 64 bits): its low 32 bits
after ``>> (32 - n)`` are ``ROTL^n(x)``, one shift instead of two and an OR.

- SHA-1: each new ``A`` is masked and doubled when it is made, so both
  rotations it will need (``ROTL^5`` as ``A``, ``ROTL^30`` as ``B``) are one
  shift; the rotated ``B`` keeps junk above bit 31 (as ``C``, ``D`` and
  ``E`` it is only combined bitwise and added into the next, masked,
  ``A``). Message-schedule words are exact 32-bit words.
- MD5: the sum that is rotated is masked, then doubled; the new ``B``
  (``B`` + the rotated sum) is left unmasked: it is only combined bitwise
  or added before the next mask, and never shifted (the junk stays below
  2**62).

The final additions to the chaining state are masked, so the state is exact.
"""
import linecache
import struct

from ..reference.digests import MD5_IV, MD5_S, MD5_T, SHA1_IV, SHA1_K, md5_word_index

__all__ = ["sha1_blocks", "md5_blocks", "sha1_compress", "md5_compress", "state_words", "packed_state",
           "SHA1_IV_WORDS", "MD5_IV_WORDS", "SOURCE", "LANE_MIN_BLOCKS"]

_MASK = 0xFFFF_FFFF


def _sha1_round_function(t: int, b: str, c: str, d: str) -> str:
    """FIPS 180-4 4.1.1: Ch, Parity, Maj, Parity (Ch and Maj in their
    two-operation forms, equal bit for bit)."""
    if t < 20:
        return f"({d} ^ ({b} & ({c} ^ {d})))"
    if 40 <= t < 60:
        return f"(({b} & {c}) | ({d} & ({b} | {c})))"
    return f"({b} ^ {c} ^ {d})"


def _sha1_rounds_source(name: str, header: list, schedule_in_place: bool) -> str:
    """A generated SHA-1 function: ``header`` (which binds ``h0``..``h4`` and
    opens the loop over blocks, binding the message words), the 80 rounds,
    the additions to the chaining state. With ``schedule_in_place`` the loop
    binds ``w0``..``w15`` and W[16..79] are computed in those 16 variables;
    otherwise it binds the whole schedule ``w0``..``w79``."""
    lines = [f"def {name}{header[0]}", *header[1:],
             "        a, b, c, d, e = h0 * 0x100000001, h1 * 0x100000001, h2, h3, h4"]   # A, B doubled
    names = ["a", "b", "c", "d", "e"]
    for t in range(80):
        a, b, c, d, e = names
        w = f"w{t % 16}" if schedule_in_place else f"w{t}"
        if t >= 16 and schedule_in_place:   # W[t] = ROTL^1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]), in W[t-16]'s place
            lines.append(f"        {w} = (((w{(t - 3) % 16} ^ w{(t - 8) % 16} ^ w{(t - 14) % 16} ^ {w})"
                         " * 0x100000001) >> 31) & 0xFFFFFFFF")
        f = _sha1_round_function(t, b, c, d)
        # TEMP = ROTL^5(A) + f(B, C, D) + E + K[t] + W[t]; E takes it (the new A, doubled); B = ROTL^30(B)
        lines.append(f"        {e} = (({e} + ({a} >> 27) + {f} + {SHA1_K[t // 20]:#x} + {w}) & 0xFFFFFFFF)"
                     " * 0x100000001")
        lines.append(f"        {b} >>= 2")
        names = [e, a, b, c, d]         # new A is the old E's variable; B the old A; ...
    a, b, c, d, e = names               # 80 rounds: back to a, b, c, d, e
    lines += [f"        h0 = (h0 + {a}) & 0xFFFFFFFF",
              f"        h1 = (h1 + {b}) & 0xFFFFFFFF",
              f"        h2 = (h2 + {c}) & 0xFFFFFFFF",
              f"        h3 = (h3 + {d}) & 0xFFFFFFFF",
              f"        h4 = (h4 + {e}) & 0xFFFFFFFF",
              "    return (h0, h1, h2, h3, h4)"]
    return "\n".join(lines)


def _sha1_source() -> str:
    scalar = _sha1_rounds_source("_sha1_scalar", [
        "(state, data, start, end):",
        "    h0, h1, h2, h3, h4 = state",
        "    for offset in range(start, end, 64):",
        "        " + ", ".join(f"w{i}" for i in range(16)) + " = _unpack_be(data, offset)"], True)
    scheduled = _sha1_rounds_source("_sha1_scheduled", [
        "(state, schedules):",
        "    h0, h1, h2, h3, h4 = state",
        "    for " + ", ".join(f"w{i}" for i in range(80)) + " in schedules:"], False)
    return scalar + "\n\n\n" + scheduled


def _md5_round_function(i: int, b: str, c: str, d: str) -> str:
    """RFC 1321 3.4: F, G, H, I (F and G in their two-operation forms)."""
    return (f"({d} ^ ({b} & ({c} ^ {d})))",
            f"({c} ^ ({d} & ({b} ^ {c})))",
            f"({b} ^ {c} ^ {d})",
            f"({c} ^ ({b} | (~{d} & 0xFFFFFFFF)))")[i // 16]


def _md5_source() -> str:
    lines = ["def _md5_blocks(state, data, start, end):",
             "    h0, h1, h2, h3 = state",
             "    for offset in range(start, end, 64):",
             "        " + ", ".join(f"x{i}" for i in range(16)) + " = _unpack_le(data, offset)",
             "        a, b, c, d = h0, h1, h2, h3"]
    names = ["a", "b", "c", "d"]
    for i in range(64):
        a, b, c, d = names
        s = MD5_S[i]
        f = _md5_round_function(i, b, c, d)
        # A = B + ROTL^s(A + f(B, C, D) + X[k] + T[i])
        lines.append(f"        {a} = {b} + ((({a} + {f} + x{md5_word_index(i)} + {MD5_T[i]:#x}) & 0xFFFFFFFF)"
                     f" * 0x100000001 >> {32 - s})")
        names = [d, a, b, c]            # new B is the old A's variable
    a, b, c, d = names                  # 64 steps: back to a, b, c, d
    lines += [f"        h0 = (h0 + {a}) & 0xFFFFFFFF",
              f"        h1 = (h1 + {b}) & 0xFFFFFFFF",
              f"        h2 = (h2 + {c}) & 0xFFFFFFFF",
              f"        h3 = (h3 + {d}) & 0xFFFFFFFF",
              "    return (h0, h1, h2, h3)"]
    return "\n".join(lines)


#: The generated source of the unrolled compression functions.
SOURCE = _sha1_source() + "\n\n\n" + _md5_source() + "\n"


def _compile() -> dict:
    filename = "<pacsim.sim.fast_digest generated>"
    linecache.cache[filename] = (len(SOURCE), None, SOURCE.splitlines(True), filename)   # tracebacks, profilers
    namespace = {"_unpack_be": struct.Struct(">16I").unpack_from, "_unpack_le": struct.Struct("<16I").unpack_from}
    exec(compile(SOURCE, filename, "exec"), namespace)
    return namespace


_generated = _compile()
_sha1_scalar = _generated["_sha1_scalar"]
_sha1_scheduled = _generated["_sha1_scheduled"]
_md5_blocks = _generated["_md5_blocks"]

#: From this many blocks in one call, the SHA-1 message schedules are
#: computed for all blocks at once (:func:`_sha1_schedules`).
LANE_MIN_BLOCKS = 5


def _sha1_schedules(data, start: int, end: int):
    """The SHA-1 message schedules W[0..79] of the blocks of ``data[start:end]``,
    one 80-tuple per block, computed for all blocks together: word ``t`` of
    every block is a lane of 32 bits in one integer (block 0 in the top lane),
    so each step of the recurrence W[t] = ROTL^1(W[t-3] ^ W[t-8] ^ W[t-14] ^
    W[t-16]) is a few operations on big integers for all the blocks. The
    rotation is by lane: bits 0..30 of each lane move up one (masked so bit
    31 does not reach the next lane), bit 31 comes round to bit 0."""
    count = (end - start) // 64
    words = struct.unpack_from(f">{16 * count}I", data, start)
    lanes = struct.Struct(f">{count}I")
    size = 4 * count
    low = int.from_bytes(b"\0\0\0\x01" * count, "big")          # bit 0 of each lane
    high = int.from_bytes(b"\xff\xff\xff\xfe" * count, "big")   # bits 1..31 of each lane
    w = [int.from_bytes(lanes.pack(*words[t::16]), "big") for t in range(16)]
    for t in range(16, 80):
        x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
        w.append(((x << 1) & high) | ((x >> 31) & low))
    return zip(*[lanes.unpack(x.to_bytes(size, "big")) for x in w])


def _block_range(data, start: int, end) -> int:
    end = len(data) if end is None else end
    if start < 0 or end < start or end > len(data) or (end - start) % 64:
        raise ValueError(f"bytes {start}..{end} of {len(data)}: expected whole 64-byte blocks")
    return end


def sha1_blocks(state: tuple, data, start: int = 0, end: int | None = None) -> tuple:
    """SHA-1 compression (FIPS 180-4 6.1.2) of the 64-byte blocks of ``data``
    (bytes-like) from byte ``start`` up to ``end`` (default: its length),
    from ``state`` ``(H0, H1, H2, H3, H4)``; returns the new state tuple."""
    end = _block_range(data, start, end)
    if end - start >= 64 * LANE_MIN_BLOCKS:
        return _sha1_scheduled(state, _sha1_schedules(data, start, end))
    return _sha1_scalar(state, data, start, end)


def md5_blocks(state: tuple, data, start: int = 0, end: int | None = None) -> tuple:
    """MD5 compression (RFC 1321 3.4) of the 64-byte blocks of ``data``
    (bytes-like) from byte ``start`` up to ``end`` (default: its length),
    from ``state`` ``(A, B, C, D)``; returns the new state tuple."""
    return _md5_blocks(state, data, start, _block_range(data, start, end))


def state_words(state: int, words: int) -> tuple:
    """A packed state (``H0<<128 | ... | H4``, ``A<<96 | ... | D``) as a tuple of ``words`` words."""
    return tuple((state >> (32 * (words - 1 - k))) & _MASK for k in range(words))


def packed_state(words) -> int:
    """The inverse of :func:`state_words`."""
    state = 0
    for word in words:
        state = (state << 32) | word
    return state


#: The standard initial states as word tuples.
SHA1_IV_WORDS = state_words(SHA1_IV, 5)
MD5_IV_WORDS = state_words(MD5_IV, 4)


def sha1_compress(state: int, block: bytes) -> int:
    """Drop-in for :func:`pacsim.reference.digests.sha1_compress`: one
    compression of a 64-byte ``block``, states packed ``H0<<128 | ... | H4``."""
    if len(block) != 64:
        raise ValueError(f"a SHA-1 block is 64 bytes, not {len(block)}")
    return packed_state(sha1_blocks(state_words(state, 5), block))


def md5_compress(state: int, block: bytes) -> int:
    """Drop-in for :func:`pacsim.reference.digests.md5_compress`: one
    compression of a 64-byte ``block``, states packed ``A<<96 | ... | D``."""
    if len(block) != 64:
        raise ValueError(f"an MD5 block is 64 bytes, not {len(block)}")
    return packed_state(md5_blocks(state_words(state, 4), block))
