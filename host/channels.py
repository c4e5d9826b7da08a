# Ref: docs/rings.md "Channels"
# Ref: RFC 2104 section 2 (HMAC pad states)
"""Channels: what the driver writes into a channel context (docs/rings.md,
"Channels"), and the :class:`Channel` handle it returns.

Compression channels hold only ``CONFIG`` (open, direction, service, alg).

Key and IV bytes go into the context in order, byte *i* at context byte
``KEY0.offset + i`` (each dword little-endian). HMAC channels hold no key,
only the compression states after K ⊕ ipad and K ⊕ opad, computed here with
:func:`~pacsim.reference.chained_digest.hmac_pad_states` (libcrypto from the
standard IV; the same states as :func:`pacsim.reference.digests.hmac_pad_states`).
"""
import hashlib
import struct
from dataclasses import dataclass

from ..reference.chained_digest import hmac_pad_states
from ..contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, MAC_DIGEST_BYTES, CipherAlg, CipherMode, CompAlg,
                              Direction, IvSource, MacAlg, Service)
from ..contract.layouts import CONTEXT
from .arguments import byte_string, integer, member
from .errors import InvalidArgument, InvalidKey

__all__ = ["Channel", "cipher_context", "mac_context", "comp_context"]

_HMAC_BLOCK_BYTES = 64
_HMAC_HASH = {MacAlg.HMAC_SHA1: "sha1", MacAlg.HMAC_MD5: "md5"}
_PLAIN_HASH = (MacAlg.SHA1, MacAlg.MD5)

#: ICV bytes a MAC channel gets when the caller does not say: the IPsec
#: 96-bit truncation for HMAC (RFC 2403/2404), the whole digest otherwise.
DEFAULT_ICV_BYTES = {MacAlg.HMAC_MD5: 12, MacAlg.HMAC_SHA1: 12, MacAlg.DES_MAC: 8,
                     MacAlg.SHA1: 20, MacAlg.MD5: 16}
_DES_MAC_KEY_BYTES = CIPHER_KEY_BYTES[CipherAlg.DES]


@dataclass(frozen=True)
class Channel:
    """An open channel: its ``number`` on the card, ``service``, ``alg`` (a
    :class:`CipherAlg`, :class:`MacAlg` or :class:`CompAlg`) and
    ``direction`` (a compression channel compresses on ENCODE, decompresses
    on DECODE). Cipher
    channels have ``block_bytes``, ``mode`` and ``iv_source``; MAC channels
    ``icv_bytes`` (bytes appended on ENCODE, checked on DECODE)."""
    number: int
    service: Service
    alg: object
    direction: Direction
    icv_bytes: int = 0
    block_bytes: int = 0
    mode: CipherMode | None = None
    iv_source: IvSource | None = None


def _group_words(prefix: str, data: bytes) -> dict:
    """``{register name: word}`` of the context registers named ``prefix<i>``,
    filled from ``data`` (zero-padded), each dword little-endian."""
    regs = [reg for reg in CONTEXT if reg.name.rstrip("0123456789") == prefix]
    data = data.ljust(4 * len(regs), b"\0")
    return {reg.name: struct.unpack_from("<I", data, 4 * i)[0] for i, reg in enumerate(regs)}


def _state_words(prefix: str, state: int, words: int) -> dict:
    """HMAC state packed ``w0 << 32*(words-1) | ... `` as ``prefix0..``."""
    data = b"".join(((state >> 32 * (words - 1 - i)) & 0xFFFF_FFFF).to_bytes(4, "little")
                    for i in range(words))
    return _group_words(prefix, data)


def _empty_context() -> dict:
    return {reg.name: 0 for reg in CONTEXT if reg is not CONTEXT.CONFIG}


def cipher_context(alg: CipherAlg, direction: Direction, key: bytes, mode: CipherMode,
                   iv_source: IvSource, iv: bytes) -> tuple:
    """``(context words without CONFIG, CONFIG word with open = 1)`` of a cipher channel.

    ``key``: CIPHER_KEY_BYTES[alg] bytes (3DES K1‖K2‖K3; 2-key K1‖K2).
    ``iv``: the IV bytes the context holds: none in ECB; in CBC from the
    context one block (3DES outer: IV1‖IV2‖IV3); in CBC from the packet
    none (3DES outer: IV2‖IV3, IV1 comes from the packet).
    """
    alg, mode = member(CipherAlg, alg, "cipher channel alg"), member(CipherMode, mode, "cipher channel mode")
    iv_source = member(IvSource, iv_source, "cipher channel iv_source")
    direction = member(Direction, direction, "cipher channel direction")
    key, iv = byte_string(key, "cipher key"), byte_string(iv, "cipher iv")
    if len(key) != CIPHER_KEY_BYTES[alg]:
        raise InvalidKey(f"{alg.name} key of {len(key)} bytes; expected {CIPHER_KEY_BYTES[alg]} bytes")
    block = CIPHER_BLOCK_BYTES[alg]
    outer = alg is CipherAlg.TDES_OUTER
    if mode is CipherMode.ECB:
        iv_bytes, iv_offset, what = 0, 0, "ECB takes no IV"
    elif iv_source is IvSource.CONTEXT:
        iv_bytes, iv_offset, what = (3 if outer else 1) * block, 0, "CBC with the IV from the context"
    else:
        iv_bytes, iv_offset, what = (2 if outer else 0) * block, block, "CBC with IV1 from the packet"
    if len(iv) != iv_bytes:
        raise InvalidArgument(f"{alg.name} IV of {len(iv)} bytes; expected {iv_bytes} bytes ({what}"
                              + (", IV2‖IV3 for 3DES outer CBC" if outer and iv_bytes == 2 * block else "")
                              + ")")
    words = _empty_context()
    words.update(_group_words("KEY", key))
    words.update(_group_words("IV", bytes(iv_offset) + iv))
    config = CONTEXT.CONFIG.encode(open=1, direction=direction, service=Service.CIPHER, alg=alg,
                                   mode=mode, iv_source=iv_source)
    return words, config


def mac_context(alg: MacAlg, direction: Direction, key: bytes, icv_bytes: int) -> tuple:
    """``(context words without CONFIG, CONFIG word with open = 1)`` of a MAC channel.

    HMAC: any key (longer than 64 bytes: hashed first, RFC 2104); the
    context holds the pad states. DES-MAC: the 8-byte key. SHA1/MD5 (plain
    hash): no key. ``icv_bytes``: a multiple of 4 from 4 to the digest size.
    """
    alg, direction = member(MacAlg, alg, "MAC channel alg"), member(Direction, direction, "MAC channel direction")
    key = byte_string(key, "MAC key")
    digest = MAC_DIGEST_BYTES[alg]
    if integer(icv_bytes, "MAC channel ICV bytes (icv_bytes)") % 4 or not 4 <= icv_bytes <= digest:
        raise InvalidArgument(f"{alg.name} ICV of {icv_bytes} bytes; expected a multiple of 4 "
                              f"from 4 to {digest} bytes")
    words = _empty_context()
    if alg in _PLAIN_HASH:
        if key:
            raise InvalidKey(f"{alg.name} is a plain hash and takes no key; got {len(key)} key bytes "
                             f"(HMAC_{alg.name} is the keyed one)")
    elif alg is MacAlg.DES_MAC:
        if len(key) != _DES_MAC_KEY_BYTES:
            raise InvalidKey(f"DES_MAC key of {len(key)} bytes; expected {_DES_MAC_KEY_BYTES} bytes")
        words.update(_group_words("KEY", key))
    else:
        name = _HMAC_HASH[alg]
        if len(key) > _HMAC_BLOCK_BYTES:
            key = hashlib.new(name, key).digest()
        inner, outer = hmac_pad_states(name, key)
        words.update(_state_words("INNER", inner, digest // 4))
        words.update(_state_words("OUTER", outer, digest // 4))
    config = CONTEXT.CONFIG.encode(open=1, direction=direction, service=Service.MAC, alg=alg,
                                   icv_bytes=icv_bytes)
    return words, config


def comp_context(alg: CompAlg, direction: Direction) -> tuple:
    """``(context words without CONFIG, CONFIG word with open = 1)`` of a
    compression channel: only CONFIG means anything (the other words are 0)."""
    alg = member(CompAlg, alg, "compression channel alg")
    direction = member(Direction, direction, "compression channel direction")
    config = CONTEXT.CONFIG.encode(open=1, direction=direction, service=Service.COMPRESSION, alg=alg)
    return _empty_context(), config
