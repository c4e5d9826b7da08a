"""Reference crypto for the driver checks, written independently of the
card model: ciphers from ``cryptography``, HMAC and plain hashes from the
standard ``hmac`` and ``hashlib`` modules, DES-MAC built here from DES-CBC, and published known-answer
vectors (NIST CAVP multi-block messages and RFC 2202 from
``cryptography_vectors``; FIPS 81 and FIPS 113 examples).
"""
import hashlib
import hmac

import cryptography_vectors
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pacsim.contract.codes import CipherAlg, CipherMode, MacAlg

DES_BLOCK = 8

#: FIPS 81, appendix B (CBC): key, IV, plaintext, ciphertext.
FIPS81_DES_CBC = (bytes.fromhex("0123456789abcdef"), bytes.fromhex("1234567890abcdef"),
                  b"Now is the time for all ",
                  bytes.fromhex("e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"))
#: FIPS 113 (ANSI X9.9 DES-MAC) example: key, message (zero-padded by the MAC), 32-bit MAC.
FIPS113_DES_MAC = (bytes.fromhex("0123456789abcdef"), b"7654321 Now is the time for ",
                   bytes.fromhex("f1d30f68"))

#: NIST CAVP multi-block message files of each cipher, CBC and ECB.
_NIST_FILES = {
    (CipherAlg.DES, CipherMode.CBC): "ciphers/3DES/CBC/TCBCMMT1.rsp",       # K1 = K2 = K3: single DES
    (CipherAlg.TDES_2KEY, CipherMode.CBC): "ciphers/3DES/CBC/TCBCMMT2.rsp",  # K3 = K1
    (CipherAlg.TDES_INNER, CipherMode.CBC): "ciphers/3DES/CBC/TCBCMMT3.rsp",
    (CipherAlg.AES128, CipherMode.CBC): "ciphers/AES/CBC/CBCMMT128.rsp",
    (CipherAlg.AES192, CipherMode.CBC): "ciphers/AES/CBC/CBCMMT192.rsp",
    (CipherAlg.AES256, CipherMode.CBC): "ciphers/AES/CBC/CBCMMT256.rsp",
    (CipherAlg.TDES_INNER, CipherMode.ECB): "ciphers/3DES/ECB/TECBMMT3.rsp",
    (CipherAlg.AES128, CipherMode.ECB): "ciphers/AES/ECB/ECBMMT128.rsp",
}
_RFC2202 = {MacAlg.HMAC_SHA1: "HMAC/rfc-2202-sha1.txt", MacAlg.HMAC_MD5: "HMAC/rfc-2202-md5.txt"}
_HASH = {MacAlg.HMAC_SHA1: "sha1", MacAlg.HMAC_MD5: "md5", MacAlg.SHA1: "sha1", MacAlg.MD5: "md5"}


def read_rsp(path: str) -> list:
    """The vectors of a NIST CAVP ``.rsp`` file in ``cryptography_vectors``:
    ``[{"section": "ENCRYPT"|"DECRYPT", "count": int, <field in lower case>: bytes}]``
    in file order."""
    with cryptography_vectors.open_vector_file(path, "r") as f:
        lines = f.read().splitlines()
    vectors, section, current = [], None, None
    for line in (line.strip() for line in lines):
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if line.startswith("#") or "=" not in line:
            continue
        name, value = (part.strip() for part in line.split("=", 1))
        if name == "COUNT":
            current = {"section": section, "count": int(value)}
            vectors.append(current)
        else:
            current[name.lower()] = bytes.fromhex(value)
    assert vectors, f"{path}: no vectors read"
    return vectors


def nist_cipher_vectors(alg: CipherAlg, mode: CipherMode, section: str, counts) -> list:
    """``[{"key": bytes, "iv": bytes, "plaintext": bytes, "ciphertext": bytes}]`` of
    the given COUNTs of the ``[ENCRYPT]``/``[DECRYPT]`` section; the key in
    the channel's form (DES K1; 2-key K1‖K2; 3-key K1‖K2‖K3)."""
    chosen = [v for v in read_rsp(_NIST_FILES[(alg, mode)])
              if v["section"] == section and v["count"] in counts]
    for v in chosen:
        if "key1" in v:
            keys = {CipherAlg.DES: ["key1"], CipherAlg.TDES_2KEY: ["key1", "key2"]}.get(alg, ["key1", "key2", "key3"])
            v["key"] = b"".join(v[k] for k in keys)
        v.setdefault("iv", b"")
    return chosen


def monte_vectors(path: str) -> tuple:
    """``(seed, [checkpoint digest, ...])`` of a NIST CAVP hash Monte Carlo
    file (``Seed =`` then ``COUNT``/``MD`` pairs) in ``cryptography_vectors``."""
    with cryptography_vectors.open_vector_file(path, "r") as f:
        lines = [line.strip() for line in f.read().splitlines()]
    seed, digests = None, []
    for line in lines:
        if "=" in line and not line.startswith(("#", "[")):
            name, value = (part.strip() for part in line.split("=", 1))
            if name == "Seed":
                seed = bytes.fromhex(value)
            elif name == "COUNT":
                assert int(value) == len(digests), f"{path}: COUNT {value} out of order"
            elif name == "MD":
                digests.append(bytes.fromhex(value))
    assert seed is not None and digests, f"{path}: no seed or no checkpoints"
    return seed, digests


def hash_vectors(path: str) -> list:
    """``[(message, digest)]`` of a ``Len``/``Msg``/``MD`` hash vector file in
    ``cryptography_vectors`` (byte-aligned lengths; ``Len = 0`` has an empty message)."""
    with cryptography_vectors.open_vector_file(path, "r") as f:
        lines = [line.strip() for line in f.read().splitlines()]
    vectors, entry = [], {}
    for line in lines:
        if "=" in line and not line.startswith(("#", "[")):
            name, value = (part.strip() for part in line.split("=", 1))
            entry[name] = value
            if name == "MD":
                bits = int(entry["Len"])
                assert bits % 8 == 0, f"{path}: a {bits}-bit message"
                vectors.append((bytes.fromhex(entry["Msg"])[:bits // 8], bytes.fromhex(value)))
                entry = {}
    assert vectors, f"{path}: no vectors read"
    return vectors


def rfc2202_vectors(alg: MacAlg) -> list:
    """``[(key, message, digest)]`` of RFC 2202 (all seven test cases)."""
    with cryptography_vectors.open_vector_file(_RFC2202[alg], "r") as f:
        lines = [line.strip() for line in f.read().splitlines()]
    vectors, entry = [], {}
    for line in lines:
        if "=" in line and not line.startswith("#"):
            name, value = (part.strip() for part in line.split("=", 1))
            entry[name] = value
            if name == "MD":
                vectors.append((bytes.fromhex(entry["Key"]), bytes.fromhex(entry["Msg"]), bytes.fromhex(value)))
                entry = {}
    assert len(vectors) == 7, f"{_RFC2202[alg]}: {len(vectors)} test cases"
    return vectors


def _des(key: bytes):
    return TripleDES(key * 3)


def _run(algorithm, mode, data: bytes, decrypt: bool) -> bytes:
    cipher = Cipher(algorithm, mode)
    context = cipher.decryptor() if decrypt else cipher.encryptor()
    return context.update(data) + context.finalize()


def cipher_reference(alg: CipherAlg, mode: CipherMode, key: bytes, ivs: bytes, data: bytes,
                     decrypt: bool = False) -> bytes:
    """Encrypt (or decrypt) ``data`` as docs/rings.md defines each channel
    algorithm; ``ivs`` = IV1 (3DES outer CBC: IV1‖IV2‖IV3)."""
    if alg is CipherAlg.TDES_OUTER and mode is CipherMode.CBC:
        k1, k2, k3 = key[:8], key[8:16], key[16:24]
        iv1, iv2, iv3 = ivs[:8], ivs[8:16], ivs[16:24]
        stages = [(k1, iv1, False), (k2, iv2, True), (k3, iv3, False)]   # E_k1, D_k2, E_k3
        if decrypt:
            stages = [(k, iv, not d) for k, iv, d in reversed(stages)]
        for k, iv, d in stages:
            data = _run(_des(k), modes.CBC(iv), data, d)
        return data
    algorithm = {CipherAlg.DES: lambda: _des(key),
                 CipherAlg.TDES_2KEY: lambda: TripleDES(key + key[:8]),
                 CipherAlg.TDES_INNER: lambda: TripleDES(key),
                 CipherAlg.TDES_OUTER: lambda: TripleDES(key)}.get(alg, lambda: algorithms.AES(key))()
    block = algorithm.block_size // 8
    return _run(algorithm, modes.ECB() if mode is CipherMode.ECB else modes.CBC(ivs[:block]), data, decrypt)


def des_mac(key: bytes, message: bytes) -> bytes:
    """ANSI X9.9 DES-MAC: last block of DES-CBC with IV 0 over the message
    zero-padded to whole blocks (an empty message: one zero block)."""
    padded = message + bytes(-len(message) % DES_BLOCK or (DES_BLOCK if not message else 0))
    return _run(_des(key), modes.CBC(bytes(DES_BLOCK)), padded, False)[-DES_BLOCK:]


def mac_reference(alg: MacAlg, key: bytes, message: bytes) -> bytes:
    """The full MAC of ``message`` (truncate to the ICV length yourself)."""
    if alg is MacAlg.DES_MAC:
        return des_mac(key, message)
    if alg in (MacAlg.SHA1, MacAlg.MD5):
        assert not key, "a plain hash has no key"
        return hashlib.new(_HASH[alg], message).digest()
    return hmac.new(key, message, getattr(hashlib, _HASH[alg])).digest()
