# Ref: RFC 2401 sections 4.4.3 and 5 (SAD entries), spec/ipsec-commands.md §2.1 and B43, spec/show-outputs.md §7-8
"""The runtime Security Association: what the SAD holds for one SA pair.

The router creates SAs in pairs (B6), one outbound and one inbound, and
shows a pair as one "SA" with an ``OutSPI`` and an ``InSPI``
(spec/show-outputs.md §7); :class:`SecurityAssociation` is that pair: one
protocol (ESP, AH or IPComp, B8), its SPIs (IPComp: CPIs), mode and tunnel
endpoints, algorithms, the key material of each direction, the outbound
sequence number, the inbound anti-replay window and the
``show ipsec sa counter`` counters. Lifetimes are the SAD's, per bundle
(:class:`~.sad.LifetimeLimits`, charged by the router and checked by the
SAD's clock): an SA has none of its own.

Card channels: :meth:`open` opens one channel per service per direction on
the :class:`~pacsim.host.device.PacDevice` it is given (docs/rings.md,
"Channels"), :meth:`close` closes them:

========  ============================  ============================
protocol  outbound                      inbound
========  ============================  ============================
ESP       cipher ENCODE, MAC ENCODE     cipher DECODE, MAC DECODE
AH        MAC ENCODE (HASH jobs)        MAC ENCODE with the inbound key
IPComp    compression ENCODE            compression DECODE
========  ============================  ============================

(AH's inbound MAC channel is an ENCODE channel because the card runs HASH
jobs on ENCODE channels only; the ICV is compared in software.)

Processing: :meth:`outbound` and :meth:`inbound` take an
:class:`~.packet.IpPacket` and apply this SA in the transport manner: its
header goes right behind the IP header. Tunnel mode is transport mode over
an IP-in-IP packet; :class:`~.datapath.BundleProcessor` builds and strips that
outer header. Both return the new packet's bytes or raise
:class:`~.outcome.Drop` after counting it; the protocol work is in
:mod:`.esp`, :mod:`.ah` and :mod:`.ipcomp`.

Time comes from the injected ``clock`` (seconds), IVs from the injected
``random_bytes`` (``os.urandom``-like; the card's RNG later).
"""
import collections
import ipaddress
import os
from dataclasses import dataclass

from ...contract.codes import CIPHER_BLOCK_BYTES, CipherAlg, CompAlg, Direction, MacAlg, ResultStatus
from ...host.bus import BusError
from ...host.channels import DEFAULT_ICV_BYTES
from ...host.errors import InvalidArgument, JobFailed, PacError, RingFull
from . import ah, esp, ipcomp
from .counters import IpsecCounters, SaCounters
from .outcome import CardFailure, Drop, DropReason
from .replay import ReplayWindow
from .sad import SaState
from .transforms import Mode, Protocol

__all__ = ["Protocol", "Mode", "SaState", "SaKeys", "SecurityAssociation",
           "SaSetupError", "SEQUENCE_MAX", "from_pair"]

SEQUENCE_MAX = 0xFFFF_FFFF


@dataclass(frozen=True)
class SaKeys:
    """Key material of one direction: ``cipher`` (CIPHER_KEY_BYTES of the
    algorithm; 3DES K1‖K2‖K3) and ``mac`` (HMAC: any length; DES-MAC 8)."""
    cipher: bytes = b""
    mac: bytes = b""


class SaSetupError(Exception):
    """Opening an SA's card channels failed; nothing stays open."""


_AUTH_MACS = (MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1, MacAlg.DES_MAC)
_SETUP_BLOCK = {50: "esp_setup", 51: "ah_setup", 108: "comp_setup"}


def _address(value):
    return None if value is None else ipaddress.ip_address(value)


class SecurityAssociation:
    """An SA pair (see the module doc).

    ``protocol``: :class:`Protocol`. ``outbound_spi``/``inbound_spi``: SPIs
    (IPComp: CPIs, 16 bits). ``mode``: :class:`Mode`; ``local``/``peer``:
    the tunnel endpoints (required in tunnel mode; also the inbound
    destination an SA is found by, when given). ``cipher``
    (:class:`CipherAlg`, ESP), ``mac`` (:class:`MacAlg`: HMAC_MD5,
    HMAC_SHA1 or DES_MAC; ESP optional, AH required), ``icv_bytes`` (default
    12 for HMAC-96, 8 for DES-MAC), ``compression`` (:class:`CompAlg`,
    IPComp). ``outbound_keys``/``inbound_keys``: :class:`SaKeys`.
    ``replay_window``: anti-replay window size in packets, or None for no
    anti-replay (only SAs with an ICV check it).
    ``outer_cbc_ivs``: IV2‖IV3 of a TDES_OUTER channel (ESP carries IV1).
    IPComp: ``compress_threshold`` (payloads shorter are sent uncompressed),
    ``backoff_after`` non-smaller results in a row start a back-off of
    ``backoff_packets`` packets sent uncompressed without trying.
    ``module_counters``: an :class:`IpsecCounters` the SA adds its counts to.
    """

    def __init__(self, protocol: Protocol, *, outbound_spi: int, inbound_spi: int, mode: Mode = Mode.TUNNEL,
                 local=None, peer=None, cipher: CipherAlg | None = None, mac: MacAlg | None = None,
                 compression: CompAlg | None = None, outbound_keys: SaKeys = SaKeys(),
                 inbound_keys: SaKeys = SaKeys(), icv_bytes: int | None = None, replay_window: int | None = 32,
                 random_bytes=os.urandom,
                 module_counters: IpsecCounters | None = None, sa_id: int | None = None,
                 outer_cbc_ivs: bytes = bytes(16), compress_threshold: int = ipcomp.DEFAULT_THRESHOLD,
                 backoff_after: int = ipcomp.DEFAULT_BACKOFF_AFTER,
                 backoff_packets: int = ipcomp.DEFAULT_BACKOFF_PACKETS):
        self.protocol = Protocol(protocol)
        self.mode = Mode(mode)
        self.local, self.peer = _address(local), _address(peer)
        self.cipher = None if cipher is None else CipherAlg(cipher)
        self.mac = None if mac is None else MacAlg(mac)
        self.compression = None if compression is None else CompAlg(compression)
        self._check_config(outbound_spi, inbound_spi)
        self.outbound_spi, self.inbound_spi = outbound_spi, inbound_spi
        self.icv_bytes = (icv_bytes if icv_bytes is not None else DEFAULT_ICV_BYTES[self.mac]) if self.mac else 0
        self.outbound_keys, self.inbound_keys = outbound_keys, inbound_keys
        self.outer_cbc_ivs = bytes(outer_cbc_ivs)
        self.replay = ReplayWindow(replay_window) if replay_window else None
        self.random_bytes = random_bytes
        self.sa_id = sa_id
        self.module_counters = module_counters
        self.counters = SaCounters(module_counters)
        #: ``{DropReason: packets}`` this SA dropped.
        self.drops = collections.Counter()
        self.state = SaState.UNDEF
        self.device = None
        #: Open card channels: ``{(service, "outbound"|"inbound"): Channel}``, service "cipher", "mac" or "comp".
        self.channels = {}
        self.sequence = 0                      #: last sent sequence number
        self.received_sequence = 0             #: highest authenticated sequence number received
        self.compressor = ipcomp.CompressionPolicy(compress_threshold, backoff_after, backoff_packets)

    def _check_config(self, outbound_spi: int, inbound_spi: int) -> None:
        if self.protocol is Protocol.ESP:
            if self.cipher is None and self.mac is None:
                raise ValueError("an ESP SA with neither a cipher nor a MAC; expected at least one (B: "
                                 "encalg=null and hashalg=null are not allowed together)")
        elif self.protocol is Protocol.AH:
            if self.mac is None or self.cipher is not None:
                raise ValueError("an AH SA takes a MAC and no cipher")
        elif self.compression is None or self.cipher is not None or self.mac is not None:
            raise ValueError("an IPComp SA takes a compression algorithm and no cipher or MAC")
        if self.mac is not None and self.mac not in _AUTH_MACS:
            raise ValueError(f"{self.mac.name} is not an IPsec authenticator; expected one of "
                             f"{', '.join(m.name for m in _AUTH_MACS)}")
        limit = 0xFFFF if self.protocol is Protocol.IPCOMP else 0xFFFF_FFFF
        for name, spi in (("outbound", outbound_spi), ("inbound", inbound_spi)):
            if not 0 < spi <= limit:
                raise ValueError(f"{name} {'CPI' if limit == 0xFFFF else 'SPI'} {spi}; expected 1 to {limit}")
        if self.mode is Mode.TUNNEL:
            if self.local is None or self.peer is None:
                raise ValueError("a tunnel-mode SA needs its local and peer tunnel endpoints")
            if self.local.version != self.peer.version:
                raise ValueError(f"tunnel endpoints {self.local} and {self.peer} are of different IP versions")

    def __repr__(self) -> str:
        return (f"<SA {self.sa_id if self.sa_id is not None else '-'} {self.protocol.display} "
                f"{self.mode.value.lower()} out {self.outbound_spi} in {self.inbound_spi} {self.state.value}>")

    @property
    def block_bytes(self) -> int:
        """Cipher block (ESP IV) bytes; 0 without a cipher."""
        return CIPHER_BLOCK_BYTES[self.cipher] if self.cipher is not None else 0

    @property
    def anti_replay(self) -> bool:
        """Whether inbound packets are checked against the window (needs an ICV)."""
        return self.replay is not None and self.mac is not None

    # -- card channels -----------------------------------------------------

    async def open(self, device) -> None:
        """Open this SA's card channels on ``device`` (a PacDevice) and make
        it VALID. Raises :class:`SaSetupError` (channels closed again, state
        UNDEF) if the card refuses a channel (no free channel, bad key)."""
        if self.state is not SaState.UNDEF:
            raise SaSetupError(f"{self!r} is {self.state.value}; expected UNDEF to open it")
        self.state, self.device = SaState.CREATING, device
        block = _SETUP_BLOCK[self.protocol]
        failed = None
        try:
            if self.protocol is Protocol.ESP:
                if self.cipher is not None:
                    failed = "setupEncSetupFailed"
                    iv = self.outer_cbc_ivs if self.cipher is CipherAlg.TDES_OUTER else b""
                    for side, direction, keys in self._sides():
                        self.channels["cipher", side] = await device.open_cipher_channel(
                            self.cipher, direction, keys.cipher, iv=iv)
                if self.mac is not None:
                    failed = "setupHashSetupFailImm"
                    for side, direction, keys in self._sides():
                        self.channels["mac", side] = await device.open_mac_channel(
                            self.mac, direction, keys.mac, icv_bytes=self.icv_bytes)
            elif self.protocol is Protocol.AH:
                for side, _, keys in self._sides():
                    self.channels["mac", side] = await device.open_mac_channel(
                        self.mac, Direction.ENCODE, keys.mac, icv_bytes=self.icv_bytes)
            else:
                if not hasattr(device, "open_comp_channel"):
                    raise PacError(f"the driver {type(device).__name__} has no open_comp_channel; expected "
                                   "compression channels (COMPRESS/DECOMPRESS jobs)")
                for side, direction, _ in self._sides():
                    self.channels["comp", side] = await device.open_comp_channel(direction)
        except (PacError, BusError) as error:
            self._count_module(block, failed)
            self._count_module(block, "setupFailed")
            await self._close_channels()
            self.state, self.device = SaState.UNDEF, None
            raise SaSetupError(f"{self!r}: opening its card channels failed: {error}") from error
        self._count_module(block, "setupDone")
        self.state = SaState.VALID

    def _sides(self):
        return (("outbound", Direction.ENCODE, self.outbound_keys), ("inbound", Direction.DECODE, self.inbound_keys))

    async def close(self) -> None:
        """Close the SA's channels; the SA drops packets from now on (UNDEF)."""
        block = _SETUP_BLOCK[self.protocol]
        if not self.channels:
            self._count_module(block, "removeNothingDone")
            self.state = SaState.UNDEF
            return
        self.state = SaState.REMOVING
        if not await self._close_channels() and self.protocol is Protocol.ESP:
            self._count_module(block, "removeHashFailImm")
        self._count_module(block, "removeDone")
        self.state, self.device = SaState.UNDEF, None

    async def _close_channels(self) -> bool:
        """Close every open channel; False if the card refused one (it is forgotten anyway)."""
        clean = True
        for key, channel in list(self.channels.items()):
            try:
                await self.device.close_channel(channel)
            except (PacError, BusError):
                clean = False
            del self.channels[key]
        return clean

    def channel(self, service: str, side: str):
        """The open channel of ``service`` ("cipher", "mac", "comp") for ``side`` ("outbound", "inbound")."""
        return self.channels.get((service, side))

    def _count_module(self, block: str, name: str | None) -> None:
        if self.module_counters is not None and name is not None:
            self.module_counters.count(block, name)

    # -- sequence numbers ------------------------------------------------------

    def next_sequence(self, cycled_counter: str) -> int:
        """The next outbound sequence number. At 2**32 - 1 an anti-replay SA
        refuses (RFC 2406 3.3.3: rekey first); one without anti-replay wraps.
        Either way ``cycled_counter`` (``block.name`` of the module counters,
        or an SA counter name) is counted."""
        if self.sequence == SEQUENCE_MAX:
            self._count_cycled(cycled_counter)
            if self.replay is not None:
                raise Drop(DropReason.SEQUENCE_EXHAUSTED,
                           f"{self!r} has sent sequence number {SEQUENCE_MAX}; expected a new SA (rekey) "
                           "before it cycles")
            self.sequence = 0
        self.sequence += 1
        return self.sequence

    def check_replay(self, seq: int, counter: str) -> None:
        """Before authentication: drop ``seq`` if the window says it is a
        replay (counted as ``counter``, an SA counter name)."""
        if self.anti_replay and not self.replay.check(seq):
            self.counters.count(counter)
            raise Drop(DropReason.REPLAYED, f"sequence number {seq} is 0, left of the window or already "
                       f"received (last {self.replay.last}, window {self.replay.size})")

    def accept_sequence(self, seq: int, counter: str) -> None:
        """After authentication: record ``seq`` in the window (dropping it if
        another copy was accepted while this one was on the card)."""
        if self.anti_replay:
            if not self.replay.check(seq):
                self.counters.count(counter)
                raise Drop(DropReason.REPLAYED, f"sequence number {seq} was received meanwhile", immediate=False)
            self.replay.update(seq)
        self.received_sequence = max(self.received_sequence, seq)

    def _count_cycled(self, name: str) -> None:
        if "." in name:
            self._count_module(*name.split("."))
        else:
            self.counters.count(name)

    # -- processing ----------------------------------------------------------

    def _admit(self) -> None:
        if self.state is not SaState.VALID:
            raise Drop(DropReason.SA_NOT_VALID, f"{self!r} is {self.state.value}; expected VALID")

    def still_valid(self, bad_state_counter: str) -> None:
        """After awaiting the card: drop if the SA was closed meanwhile
        (``bad_state_counter``: ``block.name`` of the module counters)."""
        if self.state is not SaState.VALID:
            self._count_module(*bad_state_counter.split("."))
            raise Drop(DropReason.SA_NOT_VALID, f"{self!r} became {self.state.value} while the card "
                       "processed the packet", immediate=False)

    async def outbound(self, ip) -> bytes:
        """Apply this SA to ``ip`` (an IpPacket), transport manner; the new
        packet's bytes. Raises :class:`Drop` (counted)."""
        return await self._process("outbound", ip)

    async def inbound(self, ip) -> bytes:
        """Remove this SA's header from ``ip`` (its protocol is this SA's),
        verifying it; the packet behind it. Raises :class:`Drop` (counted)."""
        return await self._process("inbound", ip)

    async def _process(self, side: str, ip) -> bytes:
        prefix = "out" if side == "outbound" else "in"
        self.counters.count(f"{prefix}ProcessStart")
        try:
            self._admit()
            module = {Protocol.ESP: esp, Protocol.AH: ah, Protocol.IPCOMP: ipcomp}[self.protocol]
            transform = module.outbound if side == "outbound" else module.inbound
            packet = await transform(self, ip)
        except Drop as drop:
            self.counters.count(f"{prefix}ProcessFailImm" if drop.immediate else f"{prefix}ProcessFail")
            self.drops[drop.reason] += 1
            raise
        self.counters.count(f"{prefix}ProcessDone")
        return packet

    async def card(self, awaitable) -> bytes:
        """Await a driver call; its output, or :class:`CardFailure`."""
        try:
            return await awaitable
        except JobFailed as error:
            raise CardFailure(error.status if isinstance(error.status, ResultStatus) else None, False,
                              str(error)) from error
        except PacError as error:
            immediate = isinstance(error, (RingFull, InvalidArgument))
            raise CardFailure(None, immediate, f"{type(error).__name__}: {error}") from error
        except BusError as error:
            raise CardFailure(None, False, f"{type(error).__name__}: {error}") from error


#: SA specification algorithm names (transforms.EncAlg/HashAlg/CompAlg values) -> card algorithms.
CIPHERS = {"DES": CipherAlg.DES, "3DES2KEY": CipherAlg.TDES_2KEY, "3DESINNER": CipherAlg.TDES_INNER,
           "3DESOUTER": CipherAlg.TDES_OUTER, "AES128": CipherAlg.AES128, "AES192": CipherAlg.AES192,
           "AES256": CipherAlg.AES256, "NULL": None}
MACS = {"MD5": MacAlg.HMAC_MD5, "SHA": MacAlg.HMAC_SHA1, "DESMAC": MacAlg.DES_MAC, "NULL": None}
COMPRESSIONS = {"LZS": CompAlg.LZS}


def from_pair(pair, *, sa_id: int | None = None, local=None, peer=None, **options) -> SecurityAssociation:
    """The runtime SA of an SAD pair (a :class:`~.sad.SaPairSpec`: protocol,
    mode, SPIs, ``encalg``/``hashalg``/``compalg``, ``outbound_keys``/
    ``inbound_keys`` with ``encryption`` and ``hash``, ``antireplay`` and
    ``replay_window``). ``local``/``peer``: the tunnel endpoints;
    ``options``: the other :class:`SecurityAssociation` arguments (clock,
    random_bytes, module_counters, ...)."""
    def algorithm(table, value):
        return None if value is None else table[getattr(value, "value", value)]

    def keys(material):
        return SaKeys(material.encryption, material.hash)

    return SecurityAssociation(
        pair.protocol, outbound_spi=pair.outbound_spi, inbound_spi=pair.inbound_spi, mode=pair.mode,
        local=local, peer=peer, cipher=algorithm(CIPHERS, pair.encalg), mac=algorithm(MACS, pair.hashalg),
        compression=algorithm(COMPRESSIONS, pair.compalg), outbound_keys=keys(pair.outbound_keys),
        inbound_keys=keys(pair.inbound_keys), replay_window=pair.replay_window if pair.antireplay else None,
        sa_id=sa_id, **options)
