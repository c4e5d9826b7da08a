# Ref: docs/rings.md, "Jobs" (validation order, result statuses)
"""What the model does with one job, apart from bus transfers: decoding
commands and channel contexts, validating a job (docs/rings.md, "Jobs",
in the card's order), the data path from input to output, and how a job is
counted.

Decisions where docs/rings.md is silent (the RTL follows them):

- ``length`` 0 is ``BAD_LENGTH`` (except for HASH: the empty message); so
  are source segments that together hold fewer than ``length`` bytes (extra
  source bytes are not read; a HASH job reads ceil(length / 4) dwords).
- COPY ignores ``skip`` and both channel slots. HASH uses only the MAC slot
  (a cipher channel named is ``CHANNEL_MISMATCH``, a ``skip`` is
  ``BAD_LENGTH``) and counts as an encode. Only ENCODE, DECODE and HASH
  jobs are counted per channel and per algorithm (COPY and BAD_OPCODE jobs
  count in ``JOBS`` only).
- Channel checks go check by check over both slots (cipher slot first):
  any ``BAD_CHANNEL``, then any ``CHANNEL_CLOSED``, then any mismatch.
- "skip <= cipher region start" is read as ``skip`` <= ``length`` (ENCODE)
  or ``length - icv_bytes`` (DECODE), with or without a cipher channel.
- ``IvSource.PACKET`` needs ``skip >= block`` only in CBC mode (ECB has no IV).
- DES-MAC pads a final partial block with zeros (ISO/IEC 9797-1 method 1).
- A MAC_MISMATCH result's ``BYTES`` is the output written (all of it).
- Per-channel ``BYTES`` counts the cipher region (``length - skip``, minus
  the ICV on decode) of good jobs, for the cipher and the MAC channel alike.
- A job counts once per distinct channel it names below the card's channel
  count, and once per distinct algorithm unit of those of its channels that
  are open, of their slot's service and of a known algorithm.
- COMPRESS/DECOMPRESS use only the ``comp_channel`` slot: it alone is checked
  for ``BAD_CHANNEL``/``CHANNEL_CLOSED`` and counted; a channel named in
  the cipher or MAC slot is ``CHANNEL_MISMATCH`` (and is not counted), like
  the cipher slot of a HASH. ENCODE/DECODE naming a compression channel
  are chained (see :class:`ChainStream`): the three slots are checked and
  counted; COPY, HASH and RANDOM ignore ``comp_channel``.
  COMPRESS counts as an encode, DECOMPRESS as a decode; ``BYTES`` adds
  ``length`` (the input) of good jobs.
- COMPRESS/DECOMPRESS ``length`` may be 0 (COMPRESS: the stream is the end
  marker alone; DECOMPRESS: ``STREAM_TRUNCATED``); the destination's size is
  not validated: the output is cut at its end (``OUTPUT_OVERFLOW``).
- COMPRESS output cut at the destination's end: the first
  destination-total bytes of the stream are written and ``BYTES`` is that
  total. DECOMPRESS errors write the bytes decoded before the faulty token
  (:attr:`pacsim.reference.lzs.LzsError.output`). Either way the last dword
  written is zero-padded past ``BYTES``.
- RANDOM reads no source segments and ignores the channel slots; ``length``
  1..``RANDOM_MAX_BYTES``, ``skip`` 0, a destination of at least ``length``
  bytes (whole dwords: the last one is filled with generator output past
  ``length``), else ``BAD_LENGTH``. One GENERATE request of ceil(length/16)
  blocks; a refusal is ``RNG_FAILED`` with nothing written. Not counted per
  channel or unit.
"""
import functools
import struct
from dataclasses import dataclass

from ..contract.codes import (CIPHER_BLOCK_BYTES, MAC_DIGEST_BYTES, NO_CHANNEL, RANDOM_MAX_BYTES, CipherAlg, CipherMode,
                              CompAlg, Direction, IvSource, MacAlg, Opcode, ResultStatus, Service, alg_unit)
from ..contract.layouts import CMD, CONTEXT
from ..reference.lzs import LzsBadOffset, LzsError, LzsOverflow, LzsTruncated, decompress
from .card_crypto import CipherStream, DesMacStream, HmacStream
from .test_fault import faulty_cipher_output
from .lzs_model import hardware_compress

__all__ = ["Command", "Context", "JobContexts", "validate", "JobStream", "ChainStream", "LzsStream", "RandomStream", "job_stream",
           "LZS_OPCODES"]

#: Opcodes that use only the compression slot.
LZS_OPCODES = (Opcode.COMPRESS, Opcode.DECOMPRESS)

_OPCODES = {int(op) for op in Opcode}
_DIRECTION = {Opcode.ENCODE: Direction.ENCODE, Opcode.DECODE: Direction.DECODE, Opcode.HASH: Direction.ENCODE,
              Opcode.COMPRESS: Direction.ENCODE, Opcode.DECOMPRESS: Direction.DECODE}
_ALGS = {Service.CIPHER: CipherAlg, Service.MAC: MacAlg, Service.COMPRESSION: CompAlg}
#: The algorithm values of each service, and the cipher mode values (checked on every job).
_ALG_VALUES = {int(service): frozenset(int(a) for a in algs) for service, algs in _ALGS.items()}
_MODE_VALUES = frozenset(int(m) for m in CipherMode)
#: The card's decompression errors, by the reference's exception.
_STREAM_STATUS = {LzsBadOffset: ResultStatus.STREAM_BAD_OFFSET, LzsTruncated: ResultStatus.STREAM_TRUNCATED,
                  LzsOverflow: ResultStatus.OUTPUT_OVERFLOW}


def _dwords_bytes(words) -> bytes:
    return struct.pack(f"<{len(words)}I", *words)


#: ``(Command attribute, dword index, shift, mask)`` of each command field.
_COMMAND_FIELDS = tuple((f.name, reg.offset // 4, f.offset, (1 << f.width) - 1)
                        for reg, names in ((CMD.CONTROL, ("own", "opcode", "cipher_channel", "mac_channel",
                                                          "comp_channel")),
                                           (CMD.LENGTH, ("length",)), (CMD.SKIP, ("skip",)), (CMD.TAG, ("tag",)))
                        for f in (getattr(reg, name) for name in names))
_CONTROL_WORD = CMD.CONTROL.offset // 4


@dataclass(frozen=True)
class Command:
    """A command descriptor as the card read it (``control``: its first dword)."""
    control: int
    own: int
    opcode: int
    cipher_channel: int
    mac_channel: int
    comp_channel: int
    length: int
    skip: int
    tag: int

    @classmethod
    def decode(cls, words) -> "Command":
        values = {name: (words[index] >> shift) & mask for name, index, shift, mask in _COMMAND_FIELDS}
        return cls(control=words[_CONTROL_WORD], **values)

    @property
    def channels(self) -> list:
        """``(slot service, channel number)`` of each named slot the opcode
        uses, cipher slot first (HASH uses only the MAC slot,
        COMPRESS/DECOMPRESS only the compression slot)."""
        if self.opcode in LZS_OPCODES:
            slots = [(Service.COMPRESSION, self.comp_channel)]
        else:
            slots = [(Service.MAC, self.mac_channel)]
            if self.opcode != Opcode.HASH:
                slots.insert(0, (Service.CIPHER, self.cipher_channel))
            if self.chained:
                slots.append((Service.COMPRESSION, self.comp_channel))
        return [(service, number) for service, number in slots if number != NO_CHANNEL]

    @property
    def chained(self) -> bool:
        """ENCODE/DECODE naming a compression channel: compress, encrypt, MAC /
        MAC check, decrypt, decompress in one job."""
        return self.opcode in (Opcode.ENCODE, Opcode.DECODE) and self.comp_channel != NO_CHANNEL

    @property
    def foreign_slots(self) -> bool:
        """A channel named in a slot the opcode does not use but must leave
        empty (HASH: cipher; COMPRESS/DECOMPRESS: cipher and MAC)."""
        if self.opcode in LZS_OPCODES:
            return self.cipher_channel != NO_CHANNEL or self.mac_channel != NO_CHANNEL
        return self.opcode == Opcode.HASH and self.cipher_channel != NO_CHANNEL


#: The CONTEXT register names of each group of words, in address order.
_CONTEXT_GROUPS = {prefix: tuple(reg.name for reg in CONTEXT if reg.name.startswith(prefix))
                   for prefix in ("KEY", "IV", "INNER", "OUTER")}


@dataclass(frozen=True)
class Context:
    """A channel context decoded from its registers (``{register name: word}``)."""
    open: int
    direction: int
    service: int
    alg: int
    mode: int
    iv_source: int
    icv_bytes: int
    key: bytes
    ivs: bytes
    inner: tuple
    outer: tuple

    @classmethod
    def decode(cls, words: dict) -> "Context":
        config = CONTEXT.CONFIG.decode(words[CONTEXT.CONFIG.name])
        group = lambda prefix: [words[name] for name in _CONTEXT_GROUPS[prefix]]
        return cls(**config, key=_dwords_bytes(group("KEY")), ivs=_dwords_bytes(group("IV")),
                   inner=tuple(group("INNER")), outer=tuple(group("OUTER")))

    @property
    def known_alg(self) -> bool:
        """Whether ``alg`` names an algorithm of the channel's service."""
        return self.alg in _ALG_VALUES.get(self.service, ())

    def valid(self) -> bool:
        """The ``BAD_CONTEXT`` check: known algorithm and mode; a MAC's
        ``icv_bytes`` a multiple of 4 in 4..digest bytes (a compression
        channel has only its algorithm)."""
        if not self.known_alg:
            return False
        if self.service == Service.CIPHER:
            return self.mode in _MODE_VALUES
        if self.service == Service.COMPRESSION:
            return True
        return self.icv_bytes % 4 == 0 and 4 <= self.icv_bytes <= MAC_DIGEST_BYTES[MacAlg(self.alg)]

    @functools.cached_property
    def unit(self):
        """The :class:`AlgUnit` counting this channel's jobs, or None
        (found once: a Context is kept until its words change)."""
        return alg_unit(Service(self.service), self.alg) if self.known_alg else None

    def packed(self, words: tuple) -> int:
        """HMAC state words (SHA-1 H0..H4, MD5 A..D) packed as the hash cores take them."""
        count = MAC_DIGEST_BYTES[MacAlg(self.alg)] // 4
        return sum(w << 32 * (count - 1 - i) for i, w in enumerate(words[:count]))

    @functools.cached_property
    def pad_states(self) -> tuple:
        """``(inner, outer)`` HMAC states packed (:meth:`packed`), computed once per decoded context."""
        return self.packed(self.inner), self.packed(self.outer)


class JobContexts:
    """The channel contexts one job sees, as :class:`Context` objects:
    ``words`` the card's context words (``{register name: word}`` per
    channel); the channels ``named`` (``(service, number)`` pairs) are
    taken when the command is read, any other on first use, and the job
    keeps what it took. ``cache`` is the card's ``{channel: Context}``,
    which every write into a context entry clears for that channel: a
    context is decoded once per change, not once per job."""

    def __init__(self, words: list, named, cache: dict):
        self._words, self._cache = words, cache
        self._decoded = {number: self._fetch(number) for _, number in named if number < len(words)}

    def _fetch(self, number: int) -> Context:
        context = self._cache.get(number)
        if context is None:
            context = self._cache[number] = Context.decode(self._words[number])
        return context

    def __len__(self) -> int:
        return len(self._words)

    def __getitem__(self, number: int) -> Context:
        if number not in self._decoded:
            self._decoded[number] = self._fetch(number)
        return self._decoded[number]


def _slot_contexts(command: Command, contexts) -> tuple:
    used_cipher = command.cipher_channel != NO_CHANNEL and command.opcode != Opcode.HASH
    cipher = contexts[command.cipher_channel] if used_cipher else None
    mac = contexts[command.mac_channel] if command.mac_channel != NO_CHANNEL else None
    return cipher, mac


def validate(command: Command, source_bytes: int, destination_bytes: int, contexts) -> ResultStatus:
    """The card's checks of a job whose segment descriptors were accepted
    (``source_bytes``/``destination_bytes``: their total lengths), in the
    order of docs/rings.md; ``contexts`` is one :class:`Context` per channel."""
    length, skip = command.length, command.skip
    if command.opcode not in _OPCODES:
        return ResultStatus.BAD_OPCODE
    opcode = Opcode(command.opcode)
    if opcode is Opcode.COPY:
        good = length > 0 and length % 4 == 0 and source_bytes >= length and destination_bytes >= length
        return ResultStatus.OK if good else ResultStatus.BAD_LENGTH
    if opcode is Opcode.RANDOM:
        good = 0 < length <= RANDOM_MAX_BYTES and skip == 0 and destination_bytes >= length
        return ResultStatus.OK if good else ResultStatus.BAD_LENGTH
    named = command.channels
    if any(number >= len(contexts) for _, number in named):
        return ResultStatus.BAD_CHANNEL
    if any(not contexts[number].open for _, number in named):
        return ResultStatus.CHANNEL_CLOSED
    if not named or any(contexts[number].service != service or contexts[number].direction != _DIRECTION[opcode]
                        for service, number in named):
        return ResultStatus.CHANNEL_MISMATCH
    if command.foreign_slots:
        return ResultStatus.CHANNEL_MISMATCH
    if not all(contexts[number].valid() for _, number in named):
        return ResultStatus.BAD_CONTEXT
    if opcode in LZS_OPCODES:           # any length from 0; the output is cut at the destination's end
        return ResultStatus.OK if skip == 0 and source_bytes >= length else ResultStatus.BAD_LENGTH
    cipher, mac = _slot_contexts(command, contexts)
    if command.chained:
        return _validate_chained(command, cipher, mac, source_bytes)
    stream = JobStream.layout(command, cipher, mac)
    if opcode is Opcode.HASH:
        good = skip == 0 and source_bytes >= length and destination_bytes >= stream["output_bytes"]
        return ResultStatus.OK if good else ResultStatus.BAD_LENGTH
    good = (length > 0 and length % 4 == 0 and skip % 4 == 0 and skip <= stream["auth_end"]
            and source_bytes >= length and destination_bytes >= stream["output_bytes"])
    if cipher is not None:
        block = CIPHER_BLOCK_BYTES[CipherAlg(cipher.alg)]
        good = good and (stream["auth_end"] - skip) % block == 0
        if cipher.mode == CipherMode.CBC and cipher.iv_source == IvSource.PACKET:
            good = good and skip >= block
    return ResultStatus.OK if good else ResultStatus.BAD_LENGTH


def _validate_chained(command: Command, cipher, mac, source_bytes: int) -> ResultStatus:
    """Lengths of a chained job: ENCODE takes a payload of any byte length
    (the card pads the compressed stream), DECODE is checked as a DECODE;
    the destination is not checked (the output is cut at its end)."""
    length, skip = command.length, command.skip
    icv = mac.icv_bytes if mac is not None else 0
    if command.opcode == Opcode.ENCODE:
        good = skip % 4 == 0 and length >= skip and source_bytes >= length
    else:
        good = (length > 0 and length % 4 == 0 and skip % 4 == 0 and skip <= length - icv
                and source_bytes >= length)
        if cipher is not None:
            good = good and (length - icv - skip) % CIPHER_BLOCK_BYTES[CipherAlg(cipher.alg)] == 0
    if cipher is not None and cipher.mode == CipherMode.CBC and cipher.iv_source == IvSource.PACKET:
        good = good and skip >= CIPHER_BLOCK_BYTES[CipherAlg(cipher.alg)]
    return ResultStatus.OK if good else ResultStatus.BAD_LENGTH


def job_stream(command: Command, contexts, destination_bytes: int, rng=None):
    """The data path of a validated job: a :class:`LzsStream` for
    COMPRESS/DECOMPRESS (``destination_bytes``, the destination segments'
    total, bounds its output), a :class:`RandomStream` on ``rng`` (the
    card's :class:`~.card_units.RngUnit`) for RANDOM, a :class:`JobStream`
    otherwise."""
    if command.opcode in LZS_OPCODES:
        return LzsStream(command, destination_bytes)
    if command.opcode == Opcode.RANDOM:
        return RandomStream(command, rng)
    if command.chained:
        return ChainStream(command, contexts, destination_bytes)
    return JobStream(command, contexts)


class RandomStream:
    """A RANDOM job: no input; :meth:`finish` makes one GENERATE request on
    the card's generator. ``exact_bytes`` is ``length`` (0 when refused)."""

    payload_bytes = 0

    def __init__(self, command: Command, rng):
        self.command = command
        self.rng = rng
        self.exact_bytes = None
        self._clocks = 0

    def feed(self, data: bytes) -> bytes:
        raise AssertionError("a RANDOM job has no source")

    def engine_clocks(self, costs) -> int:
        blocks = -(-self.command.length // 16)
        return costs.rng_generate_clocks(blocks)

    def finish(self) -> tuple:
        """``(output padded to whole dwords, status)``: RNG_FAILED when the generator refuses."""
        output, _ = self.rng.generate_request(-(-self.command.length // 16))
        if output is None:
            self.exact_bytes = 0
            return b"", ResultStatus.RNG_FAILED
        self.exact_bytes = self.command.length
        return output[:-(-self.command.length // 4) * 4], ResultStatus.OK


class JobStream:
    """The data path of one validated job: :meth:`feed` takes the source
    bytes in order (any pieces of whole dwords) and returns the output bytes
    ready so far; :meth:`finish` returns the last output (the ICV of an
    ENCODE, the digest of a HASH) and the job's status (MAC_MISMATCH or OK).
    A HASH job's source may end in a partial dword: bytes past ``length``
    are dropped. ``exact_bytes`` is None: the result's ``BYTES`` is what was
    written."""

    exact_bytes = None

    def __init__(self, command: Command, contexts):
        self.command = command
        self.cipher, self.mac = _slot_contexts(command, contexts) if command.opcode != Opcode.COPY else (None, None)
        layout = self.layout(command, self.cipher, self.mac)
        self.icv_bytes, self.auth_end, self.output_bytes = layout["icv_bytes"], layout["auth_end"], layout["output_bytes"]
        self.decode = command.opcode == Opcode.DECODE
        self._position = 0
        self._header = b""
        self._trailer = b""
        self._cipher_stream = None
        self._mac_stream = self._make_mac() if self.mac is not None else None

    @staticmethod
    def layout(command: Command, cipher, mac) -> dict:
        """``icv_bytes``; ``auth_end``, the end of header + payload in the
        input; ``output_bytes``, what the job writes."""
        icv = mac.icv_bytes if mac is not None else 0
        if command.opcode == Opcode.ENCODE:
            return {"icv_bytes": icv, "auth_end": command.length, "output_bytes": command.length + icv}
        if command.opcode == Opcode.DECODE:
            end = command.length - icv
            return {"icv_bytes": icv, "auth_end": end, "output_bytes": end}
        if command.opcode == Opcode.HASH:
            return {"icv_bytes": icv, "auth_end": command.length, "output_bytes": icv}
        return {"icv_bytes": 0, "auth_end": command.length, "output_bytes": command.length}

    @property
    def payload_bytes(self) -> int:
        """Bytes of the cipher region (what the channels' BYTES counters add)."""
        return self.auth_end - self.command.skip

    def engine_clocks(self, costs) -> int:
        """Clocks the cipher and MAC engines need for this job (a :class:`~.pci_costs.PciCosts`)."""
        direction = Direction.DECODE if self.decode else Direction.ENCODE
        cipher = mac = None
        if self.cipher is not None:
            cipher = (CipherAlg(self.cipher.alg), CipherMode(self.cipher.mode), direction)
        if self.mac is not None:
            mac = MacAlg(self.mac.alg)
        return costs.engine_clocks(cipher=cipher, cipher_bytes=self.payload_bytes, mac=mac,
                                   mac_bytes=self.auth_end)

    def _make_mac(self):
        if self.mac.alg == MacAlg.DES_MAC:
            return DesMacStream(self.mac.key)
        return HmacStream(MacAlg(self.mac.alg), *self.mac.pad_states)

    def _make_cipher(self) -> CipherStream:
        alg = CipherAlg(self.cipher.alg)
        block = CIPHER_BLOCK_BYTES[alg]
        ivs = self.cipher.ivs
        if self.cipher.iv_source == IvSource.PACKET:
            ivs = self._header[-block:] + ivs[block:]
        return CipherStream(alg, CipherMode(self.cipher.mode), self.decode, self.cipher.key, ivs)

    def feed(self, data: bytes) -> bytes:
        if self.command.opcode == Opcode.COPY:
            self._position += len(data)
            return data
        if self.command.opcode == Opcode.HASH:
            self._authenticate(data[:max(0, self.auth_end - self._position)])
            self._position += len(data)
            return b""
        skip = self.command.skip
        out = []
        while data:
            if self._position < skip:
                piece = data[:skip - self._position]
                self._header += piece
                self._authenticate(piece)
                out.append(piece)
            elif self._position < self.auth_end:
                piece = data[:self.auth_end - self._position]
                out.append(self._payload(piece))
            else:
                piece = data
                self._trailer += piece
            self._position += len(piece)
            data = data[len(piece):]
        return b"".join(out)

    def _payload(self, piece: bytes) -> bytes:
        if self.cipher is None:
            self._authenticate(piece)
            return piece
        first = self._cipher_stream is None
        if first:
            self._cipher_stream = self._make_cipher()
        result = self._cipher_stream.update(piece)
        if first:
            result = faulty_cipher_output(result, self.payload_bytes)
        self._authenticate(piece if self.decode else result)   # the MAC covers the ciphertext
        return result

    def _authenticate(self, data: bytes) -> None:
        if self._mac_stream is not None and data:
            self._mac_stream.update(data)

    def finish(self) -> tuple:
        """``(last output bytes, status)`` once all the input was fed."""
        if self._mac_stream is None:
            return b"", ResultStatus.OK
        icv = self._mac_stream.digest()[:self.icv_bytes]
        if not self.decode:
            return icv, ResultStatus.OK
        return b"", ResultStatus.OK if icv == self._trailer[:self.icv_bytes] else ResultStatus.MAC_MISMATCH


class LzsStream:
    """The data path of a validated COMPRESS or DECOMPRESS job with
    ``limit`` destination bytes: :meth:`feed` collects the source (the first
    ``length`` bytes count), :meth:`finish` runs the card's engine on it and
    returns the whole output, zero-padded to whole dwords, and the status.
    ``exact_bytes`` (set by :meth:`finish`) is the result's ``BYTES``.

    COMPRESS is the card's compressor, bit for bit
    (:func:`~.lzs_model.hardware_compress`); a stream longer than ``limit``
    is cut there (``OUTPUT_OVERFLOW``). DECOMPRESS is
    :func:`pacsim.reference.lzs.decompress` with ``limit``: its errors give
    ``STREAM_BAD_OFFSET``, ``STREAM_TRUNCATED`` or ``OUTPUT_OVERFLOW`` with the
    bytes decoded before the error."""

    def __init__(self, command: Command, limit: int):
        self.command = command
        self.limit = limit
        self.decode = command.opcode == Opcode.DECOMPRESS
        self.exact_bytes = None
        self._source = bytearray()

    @property
    def payload_bytes(self) -> int:
        """The input length (what the channel's BYTES counter adds)."""
        return self.command.length

    def _input(self) -> bytes:
        return bytes(self._source[:self.command.length])

    def feed(self, data: bytes) -> bytes:
        self._source += data
        return b""

    def engine_clocks(self, costs) -> int:
        """Clocks the LZS engine needs for the input fed so far (estimates, see :mod:`.lzs_model`)."""
        if self.decode:
            return costs.lzs_decompress_clocks(self._input())
        return costs.lzs_compress_clocks(self.command.length)

    def finish(self) -> tuple:
        """``(output zero-padded to whole dwords, status)`` once all the input was fed."""
        status = ResultStatus.OK
        if self.decode:
            try:
                output = decompress(self._input(), self.limit)
            except LzsError as error:
                output, status = error.output, _STREAM_STATUS[type(error)]
        else:
            output = hardware_compress(self._input())
            if len(output) > self.limit:
                output, status = output[:self.limit], ResultStatus.OUTPUT_OVERFLOW
        self.exact_bytes = len(output)
        return output + bytes(-len(output) % 4), status


class ChainStream(JobStream):
    """A chained ENCODE/DECODE with ``limit`` destination bytes, computed at
    :meth:`finish` from the whole input. ENCODE: the header, then the
    payload through the card's compressor (:func:`~.lzs_model.hardware_compress`),
    zero-padded to the cipher block (to 4 bytes without a cipher),
    encrypted, then the ICV over header + ciphertext; what passes ``limit``
    is dropped (``OUTPUT_OVERFLOW``). DECODE: the MAC checked over header +
    ciphertext (``MAC_MISMATCH`` wins over a stream error), the ciphertext
    decrypted and decompressed into at most ``limit`` - header bytes
    (stream errors as for DECOMPRESS), the header then the plaintext out.
    ``exact_bytes`` is the output's length."""

    def __init__(self, command: Command, contexts, limit: int):
        super().__init__(command, contexts)
        self.limit = limit
        self._source = bytearray()
        self.exact_bytes = None

    @property
    def payload_bytes(self) -> int:
        return self.command.length - self.command.skip - (self.icv_bytes if self.decode else 0)

    def feed(self, data: bytes) -> bytes:
        self._source += data
        return b""

    def engine_clocks(self, costs) -> int:
        return costs.lzs_compress_clocks(self.command.length - self.command.skip)

    def _mac_of(self, data: bytes) -> bytes:
        stream = self._make_mac()
        stream.update(data)
        return stream.digest()[:self.icv_bytes]

    def finish(self) -> tuple:
        data = bytes(self._source[:self.command.length])
        skip = self.command.skip
        self._header = data[:skip]
        status = ResultStatus.OK
        if not self.decode:
            payload = hardware_compress(data[skip:])
            block = CIPHER_BLOCK_BYTES[CipherAlg(self.cipher.alg)] if self.cipher is not None else 4
            payload += bytes(-len(payload) % block)
            if self.cipher is not None:
                payload = self._make_cipher().update(payload)
            out = self._header + payload
            if self.mac is not None:
                out += self._mac_of(out)
            if len(out) > self.limit:
                out, status = out[:self.limit], ResultStatus.OUTPUT_OVERFLOW
        else:
            body, icv = data[:len(data) - self.icv_bytes], data[len(data) - self.icv_bytes:]
            mac_ok = self.mac is None or self._mac_of(body) == icv
            plain = body[skip:]
            if self.cipher is not None:
                plain = self._make_cipher().update(plain)
            try:
                decoded = decompress(plain, max(0, self.limit - skip))
            except LzsError as error:
                decoded, status = error.output, _STREAM_STATUS[type(error)]
            if not mac_ok:
                status = ResultStatus.MAC_MISMATCH
            out = self._header + decoded
        self.exact_bytes = len(out)
        return out + bytes(-len(out) % 4), status
