"""IKE SA cryptography on the card (behavioural model): known answers from
the strongSwan 5.9.8 interop capture and keys, and cross-checks of every
hash, prf, cipher and group against ``hashlib``/``hmac``/``cryptography``
and ``pow``.

Known answers: for every IKE SA charon logged, nonces and KE data come from
the capture (:mod:`ike_capture`), g^xy from the log, the PSK is the lab's;
SKEYID, SKEYID_d/a/e, Ka and the initial IV must be charon's, and so must
HASH_I/HASH_R over charon's hash data. Main mode MM5/MM6 are decrypted on
the card and their HASH_I/HASH_R verified from SAi_b and the ID payloads,
and so are the informational HASH(1)s. Then the quick modes are decrypted
on the card (phase-2 IV from the last phase-1 block and the M-ID, IV
chaining from QM1 to QM2), their HASH(1)/HASH(2) checked, and KEYMAT of
every child SA without PFS must give charon's ESP keys.
"""
import asyncio
import hashlib
import hmac
import os
import random

import pytest
from crypto_reference import cipher_reference
from isakmp_capture import (ENCRYPTED, EXCHANGES, HASH, ID, INFORMATIONAL, KE, MAIN, NONCE, QUICK, SA,
                         algorithms, derive, keys, payload, payloads)

from pacsim.firmware.isakmp.crypto import (IKE_CIPHERS, IkeCrypto, IkeCryptoError, IkeHash, InvalidCipherInput,
                                           InvalidPublicValue, UnknownAlgorithm, group_of)
from pacsim.firmware.isakmp.keymat import (PHASE1_MSG_ID, AuthMethod, IvChain, hash_i, hash_r, informational_hash,
                                           keymat, phase1_keys, phase2_iv, quick_hash1, quick_hash2, quick_hash3)
from pacsim.contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherAlg, CipherMode
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus

ESP = 3
_ESP_KEY_BYTES = {"AES_CBC": None, "3DES_CBC": 24, "DES_CBC": 8, "HMAC_SHA1_96": 20, "HMAC_MD5_96": 16}
_REFERENCE_HASH = {IkeHash.SHA1: hashlib.sha1, IkeHash.MD5: hashlib.md5}


def on_card(body):
    """Run ``body(device)`` on a fresh behavioural-model card."""
    async def main():
        return await body(await PacDevice.probe(ModelBus()))
    return asyncio.run(main())


def test_the_capture_holds_every_logged_ike_sa():
    assert len(EXCHANGES) == len(keys()["ike_sas"]) == 10
    assert {algorithms(sa) for sa, *_ in EXCHANGES} == {
        (IkeHash.SHA1, CipherAlg.AES128), (IkeHash.MD5, CipherAlg.DES), (IkeHash.SHA1, CipherAlg.TDES_INNER)}


@pytest.mark.parametrize("index", range(len(EXCHANGES)), ids=[f"{sa['ike_name']}-{sa['cookie_i']}"
                                                               for sa, *_ in EXCHANGES])
def test_phase1_keys_are_strongswans(index):
    sa, initiator, responder, _ = EXCHANGES[index]

    async def body(device):
        async with IkeCrypto(device) as crypto:
            derived = await derive(crypto, sa, initiator, responder)
            hashes = {}
            gxi = payload(initiator.first_payload, initiator.body, KE)
            gxr = payload(responder.first_payload, responder.body, KE)
            cky_i, cky_r = bytes.fromhex(sa["cookie_i"]), bytes.fromhex(sa["cookie_r"])
            for name, function, prefix in (("hash_i", hash_i, gxi + gxr + cky_i + cky_r),
                                           ("hash_r", hash_r, gxr + gxi + cky_r + cky_i)):
                if name in sa:
                    data = bytes.fromhex(sa[f"{name}_data"])
                    assert data.startswith(prefix)
                    hashes[name] = await function(crypto, derived, gxi=gxi, gxr=gxr, cky_i=cky_i, cky_r=cky_r,
                                                  sai=data[len(prefix):], id_body=b"")
            return derived, hashes

    derived, hashes = on_card(body)
    assert derived.skeyid.hex() == sa["skeyid"]
    assert derived.skeyid_d.hex() == sa["skeyid_d"]
    assert derived.skeyid_a.hex() == sa["skeyid_a"]
    assert derived.skeyid_e.hex() == sa["skeyid_e"]
    assert derived.enc_key.hex() == sa["enc_key"]
    assert derived.initial_iv.hex() == sa["initial_iv"]
    assert {name: value.hex() for name, value in hashes.items()} == {
        name: sa[name] for name in ("hash_i", "hash_r") if name in sa}
    assert hashes


def _spi(sa_body: bytes) -> bytes:
    """The SPI of the first proposal of an IPsec SA payload body (RFC 2407 4.6.1, RFC 2408 3.5)."""
    proposal = sa_body[8:]
    return proposal[8:8 + proposal[6]]


async def replay(crypto: IkeCrypto, derived, mine) -> list:
    """``[(message, plaintext)]`` of an IKE SA's encrypted messages (without
    retransmissions), decrypted in capture order through one :class:`IvChain`."""
    chain = IvChain(crypto, derived)
    return [(message, await chain.decrypt(message.msg_id, message.body))
            for message in dict.fromkeys(m for m in mine if m.flags & ENCRYPTED)]


async def quick_mode_keys(crypto: IkeCrypto, sa: dict, initiator, responder, mine) -> dict:
    """``({SPI hex: (KEYMAT of 64 bytes, PFS?)}, HASH(3)s checked)`` of every
    quick mode of an IKE SA, decrypted on the card; checks HASH(1)/HASH(2)
    and HASH(3) where the capture has QM3."""
    derived = await derive(crypto, sa, initiator, responder)
    decrypted = await replay(crypto, derived, mine)
    found, hash3s = {}, 0
    for msg_id in dict.fromkeys(m.msg_id for m, _ in decrypted if m.exchange == QUICK):
        (qm1, plain1), (qm2, plain2), *qm3 = [(m, p) for m, p in decrypted if m.msg_id == msg_id]
        chain1, chain2 = payloads(qm1.first_payload, plain1), payloads(qm2.first_payload, plain2)
        assert chain1[0][0] == chain2[0][0] == HASH
        after1 = b"".join(whole for _, _, whole in chain1[1:])
        after2 = b"".join(whole for _, _, whole in chain2[1:])
        ni, nr = payload(qm1.first_payload, plain1, NONCE), payload(qm2.first_payload, plain2, NONCE)
        assert await quick_hash1(crypto, derived, msg_id, after1) == chain1[0][1]
        assert await quick_hash2(crypto, derived, msg_id, ni, after2) == chain2[0][1]
        for qm3_message, plain3 in qm3[:1]:       # a capture may end before QM3
            assert await quick_hash3(crypto, derived, msg_id, ni, nr) == payload(qm3_message.first_payload, plain3,
                                                                                  HASH)
            hash3s += 1
        pfs = bool(payload(qm1.first_payload, plain1, KE))
        for sa_body in (payload(qm1.first_payload, plain1, SA), payload(qm2.first_payload, plain2, SA)):
            spi = _spi(sa_body)
            found[spi.hex()] = (await keymat(crypto, derived, protocol=ESP, spi=spi, ni=ni, nr=nr, length=64), pfs)
    return found, hash3s


def test_quick_mode_keymat_gives_strongswans_esp_keys():
    async def body(device):
        found, hash3s = {}, 0
        for sa, initiator, responder, mine in EXCHANGES:
            async with IkeCrypto(device) as crypto:
                keymats, checked = await quick_mode_keys(crypto, sa, initiator, responder, mine)
            found.update(keymats)
            hash3s += checked
        return found, hash3s

    found, hash3s = on_card(body)
    assert hash3s == 7 == sum(len({m.body for m in mine if m.msg_id == msg_id}) >= 3 for *_, mine in EXCHANGES
                              for msg_id in {m.msg_id for m in mine if m.exchange == QUICK})
    checked = 0
    for child in keys()["child_sas"]:
        material, pfs = found[child["spi"]]
        if pfs:
            continue                      # g(qm)^xy of a PFS quick mode is not in charon's log
        enc_bytes = _ESP_KEY_BYTES[child["enc_alg"]] or len(child["enc_key"]) // 2
        integ_bytes = _ESP_KEY_BYTES[child["integ_alg"]]
        assert material[:enc_bytes].hex() == child["enc_key"], child
        assert material[enc_bytes:enc_bytes + integ_bytes].hex() == child["integ_key"], child
        checked += 1
    assert checked == len(keys()["child_sas"]) - 2      # all but the two directions of net-pfs


async def main_mode_checks(crypto: IkeCrypto, sa: dict, initiator, responder, mine) -> int:
    """Decrypt the SA's messages on the card (:func:`replay`), check the
    HASH_I/HASH_R of MM5/MM6 and the HASH(1) of every informational
    message; returns the number of informational messages checked."""
    derived = await derive(crypto, sa, initiator, responder)
    gxi = payload(initiator.first_payload, initiator.body, KE)
    gxr = payload(responder.first_payload, responder.body, KE)
    cookies = dict(cky_i=bytes.fromhex(sa["cookie_i"]), cky_r=bytes.fromhex(sa["cookie_r"]))
    sai = payload(mine[0].first_payload, mine[0].body, SA)
    decrypted = await replay(crypto, derived, mine)
    (mm5, plain5), (mm6, plain6) = [(m, p) for m, p in decrypted if m.exchange == MAIN]
    assert await hash_i(crypto, derived, gxi=gxi, gxr=gxr, **cookies, sai=sai,
                        id_body=payload(mm5.first_payload, plain5, ID)) == payload(mm5.first_payload, plain5, HASH)
    assert await hash_r(crypto, derived, gxi=gxi, gxr=gxr, **cookies, sai=sai,
                        id_body=payload(mm6.first_payload, plain6, ID)) == payload(mm6.first_payload, plain6, HASH)
    informational = [(m, p) for m, p in decrypted if m.exchange == INFORMATIONAL]
    for message, plain in informational:
        chain = payloads(message.first_payload, plain)
        assert chain[0][0] == HASH
        assert await informational_hash(crypto, derived, message.msg_id,
                                        b"".join(whole for _, _, whole in chain[1:])) == chain[0][1]
    return len(informational)


def test_main_mode_and_informational_hashes_verify_on_the_card():
    async def body(device):
        checked = 0
        for sa, initiator, responder, mine in EXCHANGES:
            if initiator.exchange == MAIN:
                async with IkeCrypto(device) as crypto:
                    checked += await main_mode_checks(crypto, sa, initiator, responder, mine)
        return checked
    assert on_card(body) == 16          # two encrypted informational messages for each of the 8 main-mode IKE SAs


def test_keymat_with_pfs_adds_gxy_in_front():
    """RFC 2409 5.5: with PFS, g(qm)^xy comes first in every Kn; checked against hmac."""
    gxy, spi, ni, nr, skeyid_d = os.urandom(128), os.urandom(4), os.urandom(16), os.urandom(20), os.urandom(20)
    seed = gxy + bytes([ESP]) + spi + ni + nr
    k1 = hmac.new(skeyid_d, seed, hashlib.sha1).digest()
    k2 = hmac.new(skeyid_d, k1 + seed, hashlib.sha1).digest()
    expected = (k1 + k2 + hmac.new(skeyid_d, k2 + seed, hashlib.sha1).digest())[:56]

    async def body(device):
        async with IkeCrypto(device) as crypto:
            derived = type("Keys", (), {"hash_alg": IkeHash.SHA1, "skeyid_d": skeyid_d})
            return await keymat(crypto, derived, protocol=ESP, spi=spi, ni=ni, nr=nr, length=56, gxy_qm=gxy)
    assert on_card(body) == expected


@pytest.mark.parametrize("auth", [AuthMethod.SIGNATURE, AuthMethod.PUBLIC_KEY_ENCRYPTION])
def test_skeyid_of_the_other_methods(auth):
    ni, nr, gxy, cky_i, cky_r = os.urandom(16), os.urandom(24), os.urandom(128), os.urandom(8), os.urandom(8)
    if auth is AuthMethod.SIGNATURE:
        expected = hmac.new(ni + nr, gxy, hashlib.md5).digest()
    else:
        expected = hmac.new(hashlib.md5(ni + nr).digest(), cky_i + cky_r, hashlib.md5).digest()

    async def body(device):
        async with IkeCrypto(device) as crypto:
            return await phase1_keys(crypto, IkeHash.MD5, CipherAlg.AES256, ni=ni, nr=nr, gxi=b"x", gxr=b"y",
                                     gxy=gxy, cky_i=cky_i, cky_r=cky_r, auth=auth)
    derived = on_card(body)
    assert derived.skeyid == expected
    assert len(derived.enc_key) == 32           # appendix B: 32 bytes from two MD5 prf outputs
    k1 = hmac.new(derived.skeyid_e, b"\0", hashlib.md5).digest()
    assert derived.enc_key == k1 + hmac.new(derived.skeyid_e, k1, hashlib.md5).digest()


def test_quick_hash3_and_phase2_iv_against_hmac():
    skeyid_a, msg_id, ni, nr, last = os.urandom(20), os.urandom(4), os.urandom(16), os.urandom(16), os.urandom(16)

    async def body(device):
        async with IkeCrypto(device) as crypto:
            derived = type("Keys", (), {"hash_alg": IkeHash.SHA1, "skeyid_a": skeyid_a, "cipher": CipherAlg.AES128})
            return (await quick_hash3(crypto, derived, msg_id, ni, nr),
                    await phase2_iv(crypto, derived, last, msg_id))
    hash3, iv = on_card(body)
    assert hash3 == hmac.new(skeyid_a, b"\0" + msg_id + ni + nr, hashlib.sha1).digest()
    assert iv == hashlib.sha1(last + msg_id).digest()[:16]


@pytest.mark.parametrize("alg", list(IkeHash))
def test_hash_and_prf_match_the_reference_for_every_key_length(alg):
    rng = random.Random(alg.name)
    cases = [(rng.randbytes(k), rng.randbytes(m)) for k in (0, 1, 16, 20, 63, 64, 65, 128, 300)
             for m in (0, 1, 55, 64, 200)]

    async def body(device):
        async with IkeCrypto(device) as crypto:
            prfs = []
            for key, data in cases:
                prfs.append(await crypto.prf(alg, key, data))
                await crypto.release_key(alg, key)        # 45 keys: more than the card's 16 channels
            return prfs, [await crypto.hash(alg, data) for _, data in cases]
    prfs, hashes = on_card(body)
    reference = _REFERENCE_HASH[alg]
    assert prfs == [hmac.new(key, data, reference).digest() for key, data in cases]
    assert hashes == [reference(data).digest() for _, data in cases]


@pytest.mark.parametrize("alg", IKE_CIPHERS, ids=[c.name for c in IKE_CIPHERS])
def test_cbc_matches_the_reference_and_chains_ivs(alg):
    rng = random.Random(int(alg))
    block, key = CIPHER_BLOCK_BYTES[alg], rng.randbytes(CIPHER_KEY_BYTES[alg])
    iv, messages_ = rng.randbytes(block), [rng.randbytes(block * n) for n in (1, 2, 7)]

    async def body(device):
        async with IkeCrypto(device) as crypto:
            out, next_iv = [], iv
            for plaintext in messages_:
                ciphertext, following = await crypto.encrypt(alg, key, next_iv, plaintext)
                recovered, decrypt_iv = await crypto.decrypt(alg, key, next_iv, ciphertext)
                out.append((ciphertext, recovered, following, decrypt_iv))
                next_iv = following
            return out
    next_iv = iv
    for plaintext, (ciphertext, recovered, following, decrypt_iv) in zip(messages_, on_card(body)):
        assert ciphertext == cipher_reference(alg, CipherMode.CBC, key, next_iv, plaintext)
        assert recovered == plaintext
        assert following == decrypt_iv == ciphertext[-block:]
        next_iv = following


@pytest.mark.parametrize("number", [0, 1, 2, 5, 14])
def test_dh_on_the_card_agrees_with_pow(number):
    group = group_of(number)

    async def body(device):
        async with IkeCrypto(device) as crypto:
            (a, ya), (b, yb) = await crypto.dh_keypair(number), await crypto.dh_keypair(number, private_bits=160)
            return a, ya, b, yb, await crypto.dh_shared(number, a, crypto.public_bytes(number, yb)), \
                await crypto.dh_shared(number, b, ya)
    a, ya, b, yb, shared_a, shared_b = on_card(body)
    assert b.bit_length() == 160 and a != b
    assert ya == pow(group.generator, a, group.prime) and yb == pow(group.generator, b, group.prime)
    assert shared_a == shared_b == pow(yb, a, group.prime).to_bytes(group.bits // 8, "big")


def test_shared_secret_keeps_its_leading_zero_bytes():
    """A peer value whose g^xy is small: y = p - 1 is refused, so use y = 4 = 2^2
    with private 1 (g^xy = 4, 127 leading zero bytes in group 2)."""
    async def body(device):
        async with IkeCrypto(device) as crypto:
            return await crypto.dh_shared(2, 1, 4)
    assert on_card(body) == bytes(127) + b"\x04"


def test_group_numbers_are_the_routers():
    """spec/isakmp-commands.md section 4: group 0 is MODP512, 1 MODP768, 2 MODP1024 (RFC 2409 6.1, 6.2)."""
    assert {n: group_of(n).bits for n in (0, 1, 2, 5, 14)} == {0: 512, 1: 768, 2: 1024, 5: 1536, 14: 2048}
    with pytest.raises(UnknownAlgorithm, match="expected one of"):
        group_of(3)


def test_bad_input_is_refused_clearly_and_counted_and_channels_are_released():
    p = group_of(2).prime

    async def body(device):
        before = dict(device.channels)
        crypto = IkeCrypto(device)
        for bad in (0, 1, p - 1, p, p + 5, bytes(129)):
            with pytest.raises(InvalidPublicValue):
                await crypto.dh_shared(2, 5, bad)
        with pytest.raises(InvalidCipherInput, match="multiple of the 16-byte block"):
            await crypto.encrypt(CipherAlg.AES128, bytes(16), bytes(16), bytes(20))
        with pytest.raises(InvalidCipherInput, match="key of 15 bytes"):
            await crypto.decrypt(CipherAlg.AES128, bytes(15), bytes(16), bytes(16))
        with pytest.raises(UnknownAlgorithm):
            await crypto.encrypt(CipherAlg.TDES_2KEY, bytes(16), bytes(8), bytes(8))
        with pytest.raises(UnknownAlgorithm):
            await crypto.prf("sha256", b"k", b"d")
        with pytest.raises(IkeCryptoError, match="nonce of 7 bytes"):
            await crypto.nonce(7)
        with pytest.raises(IkeCryptoError, match="CKY-R of 7 bytes: expected 8 bytes"):
            await phase1_keys(crypto, IkeHash.SHA1, CipherAlg.DES, ni=b"n", nr=b"n", gxi=b"", gxr=b"", gxy=b"g",
                              cky_i=bytes(8), cky_r=bytes(7), psk=b"k")
        with pytest.raises(IkeCryptoError, match="without a pre-shared key"):
            await phase1_keys(crypto, IkeHash.SHA1, CipherAlg.DES, ni=b"n", nr=b"n", gxi=b"", gxr=b"", gxy=b"g",
                              cky_i=bytes(8), cky_r=bytes(8))
        with pytest.raises(IkeCryptoError, match="SPI of 3 bytes"):
            await keymat(crypto, None, protocol=ESP, spi=bytes(3), ni=b"", nr=b"", length=20)
        assert dict(crypto.refused) == {"InvalidPublicValue": 6, "InvalidCipherInput": 2, "UnknownAlgorithm": 2,
                                        "IkeCryptoError": 4}
        # the SA still works after refusals, and its channels are released
        await crypto.prf(IkeHash.SHA1, b"k", b"d")
        await crypto.encrypt(CipherAlg.AES128, bytes(16), bytes(16), bytes(32))
        await crypto.decrypt(CipherAlg.AES128, bytes(16), bytes(16), bytes(32))
        await crypto.hash(IkeHash.MD5, b"x")
        during = len(device.channels)
        await crypto.close()
        return before, during, dict(device.channels), crypto.channels
    before, during, after, held = on_card(body)
    assert during == len(before) + 4
    assert after == before and held == []


def test_a_derivation_leaves_no_channel_open():
    sa, initiator, responder, _ = EXCHANGES[0]

    async def body(device):
        before = dict(device.channels)
        async with IkeCrypto(device) as crypto:
            await derive(crypto, sa, initiator, responder)
            held = len(crypto.channels)
        return before, held, dict(device.channels)
    before, held, after = on_card(body)
    assert held == 2            # the prf under SKEYID and the plain hash (the PSK's channel is released)
    assert after == before


def test_iv_chain_follows_appendix_b_and_moves_only_on_accepted_messages():
    rng = random.Random(2409)
    keys_ = type("Keys", (), {"hash_alg": IkeHash.SHA1, "cipher": CipherAlg.AES128, "enc_key": rng.randbytes(16),
                              "initial_iv": rng.randbytes(16)})
    mm5, mm6, qm1, qm2 = (rng.randbytes(n) for n in (48, 32, 64, 16))
    msg_id = bytes.fromhex("e6bb76b0")

    async def body(device):
        async with IkeCrypto(device) as crypto:
            chain = IvChain(crypto, keys_)
            sent = [await chain.encrypt(PHASE1_MSG_ID, mm5)]
            held = await chain.decrypt(PHASE1_MSG_ID, mm6, advance=False)     # rejected: the chain stays
            assert await chain.iv(PHASE1_MSG_ID) == sent[0][-16:]
            chain.advance(PHASE1_MSG_ID, mm6)
            sent += [await chain.encrypt(msg_id, qm1), await chain.decrypt(msg_id, qm2)]
            with pytest.raises(IkeCryptoError, match="M-ID of 3 bytes"):
                await chain.iv(b"abc")
            with pytest.raises(IkeCryptoError, match="expected a started exchange"):
                chain.advance(b"\1\2\3\4", qm2)
            chain.forget(msg_id)
            return sent, held, await chain.iv(msg_id), dict(crypto.refused)
    (ct5, ct_qm1, pt_qm2), held, restarted, refused = on_card(body)
    key, iv0 = keys_.enc_key, keys_.initial_iv
    assert ct5 == cipher_reference(CipherAlg.AES128, CipherMode.CBC, key, iv0, mm5)
    assert held == cipher_reference(CipherAlg.AES128, CipherMode.CBC, key, ct5[-16:], mm6, decrypt=True)
    qm_iv = hashlib.sha1(mm6[-16:] + msg_id).digest()[:16]
    assert ct_qm1 == cipher_reference(CipherAlg.AES128, CipherMode.CBC, key, qm_iv, qm1)
    assert pt_qm2 == cipher_reference(CipherAlg.AES128, CipherMode.CBC, key, ct_qm1[-16:], qm2, decrypt=True)
    assert restarted == qm_iv
    assert refused == {"IkeCryptoError": 2}


@pytest.mark.parametrize("group, hash_alg, cipher", [(1, IkeHash.MD5, CipherAlg.TDES_INNER),
                                                      (2, IkeHash.SHA1, CipherAlg.AES256),
                                                      (0, IkeHash.SHA1, CipherAlg.DES)],
                         ids=["group1-md5-3des", "group2-sha1-aes256", "group0-sha1-des"])
def test_two_peers_on_one_card_agree(group, hash_alg, cipher):
    """An initiator and a responder SA, each with its own IkeCrypto on one
    card, exchange nonces and KE values, derive the same keys and read each
    other's encrypted messages; their channels are all released."""
    cky_i, cky_r, psk = os.urandom(8), os.urandom(8), b"enco key 7"

    async def body(device):
        before = dict(device.channels)
        async with IkeCrypto(device) as initiator, IkeCrypto(device) as responder:
            (xi, gxi), (xr, gxr) = await initiator.dh_keypair(group), await responder.dh_keypair(group)
            ni, nr = await initiator.nonce(16), await responder.nonce(20)
            ke_i, ke_r = initiator.public_bytes(group, gxi), responder.public_bytes(group, gxr)
            common = dict(ni=ni, nr=nr, gxi=ke_i, gxr=ke_r, cky_i=cky_i, cky_r=cky_r, psk=psk)
            keys_i = await phase1_keys(initiator, hash_alg, cipher, gxy=await initiator.dh_shared(group, xi, ke_r),
                                       **common)
            keys_r = await phase1_keys(responder, hash_alg, cipher, gxy=await responder.dh_shared(group, xr, ke_i),
                                       **common)
            chain_i, chain_r = IvChain(initiator, keys_i), IvChain(responder, keys_r)
            message = bytes(range(CIPHER_BLOCK_BYTES[cipher] * 3))
            received = [await chain_r.decrypt(PHASE1_MSG_ID, await chain_i.encrypt(PHASE1_MSG_ID, message)),
                        await chain_i.decrypt(PHASE1_MSG_ID, await chain_r.encrypt(PHASE1_MSG_ID, message[::-1]))]
            msg_id = os.urandom(4)
            received.append(await chain_r.decrypt(msg_id, await chain_i.encrypt(msg_id, message)))
            held = len(initiator.channels) + len(responder.channels)
        return keys_i, keys_r, received, message, held, before, dict(device.channels)
    keys_i, keys_r, received, message, held, before, after = on_card(body)
    assert keys_i == keys_r
    assert len(keys_i.enc_key) == CIPHER_KEY_BYTES[cipher] and len(keys_i.initial_iv) == CIPHER_BLOCK_BYTES[cipher]
    assert received == [message, message[::-1], message]
    assert held == 2 * 4        # each: prf under SKEYID, hash, ENCODE and DECODE cipher (SKEYID_e released)
    assert after == before
