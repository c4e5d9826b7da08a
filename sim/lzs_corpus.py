# Ref: RFC 3173 section 2 (what IPComp compresses: IP payloads)
"""Packets for LZS tests and ``pacsim bench lzs``: deterministic corpora
that look like what IPComp carries (text, HTML, packet-header-like binary,
zeros, random, short repeated patterns)."""
import random
import struct

__all__ = ["corpus", "KINDS"]


def corpus(rng: random.Random, kind: str, size: int) -> bytes:
    """A packet of ``size`` bytes that looks like ``kind``: text, html, binary,
    zeros, random, pattern."""
    if kind == "zeros":
        return bytes(size)
    if kind == "random":
        return rng.randbytes(size)
    if kind == "pattern":
        unit = rng.randbytes(rng.randint(1, 9))
        return (unit * (size // len(unit) + 1))[:size]
    if kind == "text":
        words = ("the of and to in is that for it as with was on be by this are from at or an "
                 "packet router tunnel security association key exchange compression payload "
                 "header encryption authentication policy lifetime proposal transform").split()
        out = []
        while sum(map(len, out)) < size:
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
            out.append(sentence.capitalize() + ". ")
        return "".join(out).encode()[:size]
    if kind == "html":
        out = ["<html><head><title>Status</title></head><body><table>\n"]
        while sum(map(len, out)) < size:
            out.append(f'<tr><td class="name">peer{rng.randrange(100)}</td>'
                       f'<td class="addr">10.{rng.randrange(256)}.{rng.randrange(256)}.1</td>'
                       f'<td class="state">{rng.choice(["up", "down", "idle"])}</td></tr>\n')
        return "".join(out).encode()[:size]
    if kind == "binary":
        out = bytearray()
        while len(out) < size:       # IPv4/UDP-like headers with small counters
            out += struct.pack(">BBHHHBBH4s4sHHHH", 0x45, 0, rng.randrange(1500), rng.randrange(65536),
                               0x4000, 64, 17, 0, bytes([10, 0, 0, rng.randrange(4)]),
                               bytes([10, 0, 1, 1]), 500, 4500, rng.randrange(1500), 0)
            out += bytes(rng.randrange(4) for _ in range(rng.randrange(12)))
        return bytes(out[:size])
    raise ValueError(kind)


KINDS = ("text", "html", "binary", "zeros", "random", "pattern")
