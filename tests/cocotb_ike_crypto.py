"""cocotb module: IKE SA cryptography on the card's RTL through the whole PCI path.

One short test: a MODP group 2 key pair (private value from the card's
generator, g^x on the public-key unit) and the shared secret with a
reference peer, checked with ``pow``; the phase-1 derivation of the first
IKE SA of the strongSwan interop capture (HMAC-SHA1 prf jobs on MAC
channels, the initial IV by a SHA-1 HASH job), checked against charon's
logged keys; one AES-128-CBC encryption under the derived key and IV,
checked against ``cryptography``; then the SA's channels must all be
closed and the PCI protocol checker must be clean.
"""
import random

import cocotb

from crypto_reference import cipher_reference
from isakmp_capture import EXCHANGES, derive
from pacsim.firmware.isakmp.crypto import IkeCrypto, group_of
from pacsim.contract.codes import CipherMode
from pacsim.host.device import PacDevice
from pacsim.sim.rtl_bus import RtlBus

#: The router's smallest DHExponentlength (spec/isakmp-commands.md): keeps the RTL modexps short.
PRIVATE_BITS = 160


@cocotb.test()
async def group2_skeyid_and_aes_cbc(dut):
    bus = await RtlBus.start(dut)
    dev = await PacDevice.probe(bus)
    group = group_of(2)
    peer_private = random.Random(2409).getrandbits(PRIVATE_BITS) | 1 << (PRIVATE_BITS - 1)
    peer_public = pow(group.generator, peer_private, group.prime)
    sa, initiator, responder, _ = EXCHANGES[0]
    plaintext = bytes(range(64))
    before = dict(dev.channels)
    async with IkeCrypto(dev) as crypto:
        private, public = await crypto.dh_keypair(2, private_bits=PRIVATE_BITS)
        shared = await crypto.dh_shared(2, private, crypto.public_bytes(2, peer_public))
        keys = await derive(crypto, sa, initiator, responder)
        ciphertext, next_iv = await crypto.encrypt(keys.cipher, keys.enc_key, keys.initial_iv, plaintext)
    assert private.bit_length() == PRIVATE_BITS
    assert public == pow(group.generator, private, group.prime)
    assert shared == pow(peer_public, private, group.prime).to_bytes(group.bits // 8, "big")
    derived = {name: getattr(keys, name).hex() for name in
               ("skeyid", "skeyid_d", "skeyid_a", "skeyid_e", "enc_key", "initial_iv")}
    assert derived == {name: sa[name] for name in derived}, (derived, sa)
    assert ciphertext == cipher_reference(keys.cipher, CipherMode.CBC, keys.enc_key, keys.initial_iv, plaintext)
    assert next_iv == ciphertext[-16:]
    assert dict(dev.channels) == before
    await bus.finish()
