# Ref: RFC 2409 appendix B (IV of phase 1 and of each phase-2 or informational exchange)
"""The CBC IVs of one ISAKMP SA: the phase-1 chain and one chain per message
ID, with the encryption and decryption of ISAKMP message bodies on the card.

- Phase 1 (message ID 0): the first IV is hash(g^xi | g^xr) truncated to
  the block (:attr:`Phase1Keys.initial_iv`); each message's IV is the last
  ciphertext block of the previous encrypted phase-1 message.
- Every other exchange (quick mode, informational) starts from hash(last
  phase-1 block | M-ID) (:func:`~.keymat.phase2_iv`), computed on the
  exchange's first message, and chains the same way within the exchange.

A received message that fails its checks (HASH, payload rules) must not
move the chain: :meth:`IvChain.decrypt` with ``advance=False`` leaves it
and :meth:`IvChain.advance` moves it once the message is accepted.
"""
from ...hdl.layouts import CIPHER_BLOCK_BYTES
from .crypto import IkeCrypto, IkeCryptoError
from .keymat import MSG_ID_BYTES, Phase1Keys, phase2_iv

__all__ = ["IvChain", "PHASE1_MSG_ID"]

#: The message ID of phase-1 (main and aggressive mode) messages.
PHASE1_MSG_ID = bytes(MSG_ID_BYTES)


class IvChain:
    """The IVs of the ISAKMP SA keyed by ``keys`` (a :class:`~.keymat.Phase1Keys`),
    its messages encrypted and decrypted through ``crypto`` (the SA's
    :class:`~.crypto.IkeCrypto`). Message IDs are the 4 bytes of the header."""

    def __init__(self, crypto: IkeCrypto, keys: Phase1Keys):
        self.crypto = crypto
        self.keys = keys
        self._block = CIPHER_BLOCK_BYTES[keys.cipher]
        self._ivs = {PHASE1_MSG_ID: keys.initial_iv}

    async def iv(self, msg_id: bytes) -> bytes:
        """The IV the next message of exchange ``msg_id`` is encrypted with."""
        msg_id = bytes(msg_id)
        with self.crypto.counted():
            if len(msg_id) != MSG_ID_BYTES:
                raise IkeCryptoError(f"M-ID of {len(msg_id)} bytes: expected {MSG_ID_BYTES} bytes")
        if msg_id not in self._ivs:
            self._ivs[msg_id] = await phase2_iv(self.crypto, self.keys, self._ivs[PHASE1_MSG_ID], msg_id)
        return self._ivs[msg_id]

    async def encrypt(self, msg_id: bytes, plaintext: bytes) -> bytes:
        """The ciphertext of a message body (padded to the block by the
        caller) of exchange ``msg_id``; the chain moves to its last block."""
        ciphertext, self._ivs[bytes(msg_id)] = await self.crypto.encrypt(self.keys.cipher, self.keys.enc_key,
                                                                         await self.iv(msg_id), plaintext)
        return ciphertext

    async def decrypt(self, msg_id: bytes, ciphertext: bytes, *, advance: bool = True) -> bytes:
        """The plaintext of a received message body of exchange ``msg_id``;
        the chain moves to its last ciphertext block unless ``advance`` is
        false (then :meth:`advance` once the message is accepted)."""
        plaintext, following = await self.crypto.decrypt(self.keys.cipher, self.keys.enc_key,
                                                         await self.iv(msg_id), ciphertext)
        if advance:
            self._ivs[bytes(msg_id)] = following
        return plaintext

    def advance(self, msg_id: bytes, ciphertext: bytes) -> None:
        """Move the chain of ``msg_id`` past an accepted message ``ciphertext``."""
        with self.crypto.counted():
            if bytes(msg_id) not in self._ivs or len(ciphertext) < self._block:
                raise IkeCryptoError(f"advance of exchange {bytes(msg_id).hex()} by {len(ciphertext)} bytes: "
                                     f"expected a started exchange and at least one {self._block}-byte block")
        self._ivs[bytes(msg_id)] = bytes(ciphertext[-self._block:])

    def forget(self, msg_id: bytes) -> None:
        """Drop the chain of a finished exchange (no-op if unknown; phase 1 is kept)."""
        if bytes(msg_id) != PHASE1_MSG_ID:
            self._ivs.pop(bytes(msg_id), None)
