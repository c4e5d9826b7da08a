# Ref: DESIGN.md "Data flow" (ENCO service: open channel, submit job), principle 6; spec/show-outputs.md §3.2 (ALG counters)
"""The ENCO service: the firmware's view of the card's channels.

:class:`EncoService` stands in front of a
:class:`~pacsim.host.device.PacDevice` and is handed to whoever opens
channels (the IPsec SAs) as their "device": it passes every call through,
and around channel opening and closing it keeps what the displays need:

- who owns each open channel (``owner`` is the label given to channels
  opened from now on; :meth:`label` renames them);
- per algorithm unit (:class:`~pacsim.contract.codes.AlgUnit`) the
  ``show ipsec counter=alg`` events the card does not count: key material
  processed, attach good/fail (a channel found or not), configure good/fail
  (the context written, or the key refused), remove and detached;
- ``open_failures``: channel opens refused because every channel was in
  use (:class:`~pacsim.host.errors.ChannelsExhausted`), and the last such
  error text.

The card's own counters (per algorithm unit encode/decode good, fail,
discard; per channel jobs and bytes) are read by :meth:`refresh`, which is
async (it reads the card); the displays then format the snapshot
(:meth:`status` for ``show enco``).
"""
import collections

from ...contract.codes import AlgUnit, CipherAlg, CompAlg, MacAlg, Service
from ...host.errors import ChannelsExhausted, PacError
from ..state.counters import CounterSchema, CounterSet
from ..state.snapshots import AlgUnitSnapshot, ChannelSnapshot, EncoSnapshot

__all__ = ["EncoService", "unit_of", "ATTACH_COUNTERS"]

#: The per-unit events counted here, in display order.
ATTACH_COUNTERS = CounterSchema("enco unit", ("keymat", "attach_good", "attach_fail", "configure_good",
                                              "configure_fail", "remove", "detached"))

_CIPHER_UNIT = {CipherAlg.DES: AlgUnit.DES, CipherAlg.TDES_2KEY: AlgUnit.TDES_2KEY,
                CipherAlg.TDES_INNER: AlgUnit.TDES_INNER, CipherAlg.TDES_OUTER: AlgUnit.TDES_OUTER,
                CipherAlg.AES128: AlgUnit.AES, CipherAlg.AES192: AlgUnit.AES, CipherAlg.AES256: AlgUnit.AES}
_MAC_UNIT = {MacAlg.HMAC_SHA1: AlgUnit.SHA, MacAlg.SHA1: AlgUnit.SHA, MacAlg.HMAC_MD5: AlgUnit.MD5,
             MacAlg.MD5: AlgUnit.MD5, MacAlg.DES_MAC: AlgUnit.DES_MAC}
_SERVICE_NAMES = {Service.CIPHER: "CIPHER", Service.MAC: "MAC", Service.COMPRESSION: "COMPRESSION"}
# Keyed by (enum class, member): the three IntEnums share values.
_ALG_NAMES = {(CipherAlg, CipherAlg.DES): "DES", (CipherAlg, CipherAlg.TDES_2KEY): "3DES2KEY",
              (CipherAlg, CipherAlg.TDES_INNER): "3DESINNER", (CipherAlg, CipherAlg.TDES_OUTER): "3DESOUTER",
              (CipherAlg, CipherAlg.AES128): "AES128", (CipherAlg, CipherAlg.AES192): "AES192",
              (CipherAlg, CipherAlg.AES256): "AES256", (MacAlg, MacAlg.HMAC_SHA1): "HMAC-SHA1",
              (MacAlg, MacAlg.HMAC_MD5): "HMAC-MD5", (MacAlg, MacAlg.DES_MAC): "DES-MAC", (MacAlg, MacAlg.SHA1): "SHA1",
              (MacAlg, MacAlg.MD5): "MD5", (CompAlg, CompAlg.LZS): "LZS"}


def unit_of(alg) -> AlgUnit:
    """The algorithm unit (counter block) of a cipher, MAC or compression algorithm."""
    if isinstance(alg, CipherAlg):
        return _CIPHER_UNIT[alg]
    if isinstance(alg, MacAlg):
        return _MAC_UNIT[alg]
    return AlgUnit.LZS


class EncoService:
    """See the module docstring. ``device``: the PacDevice; ``card``: the
    accelerator's name for ``show enco``."""

    def __init__(self, device, card: str = "PAC"):
        self.device = device
        self.card = card
        self.owner = "-"
        self.owners: dict[int, str] = {}
        self.units = {unit: CounterSet(ATTACH_COUNTERS) for unit in AlgUnit}
        self.open_failures = 0
        self.last_failure = ""
        #: Snapshot of the card: ``{AlgUnit: {kind: n}}`` and ``{channel: {good, fail, discard, bytes}}``.
        self.card_units: dict = {unit: collections.Counter() for unit in AlgUnit}
        self.card_channels: dict[int, dict] = {}
        self._baseline: dict = {}

    def __getattr__(self, name):
        # Everything else (encode, decode, hash, compress, run, ...) is the driver's.
        if name == "device":
            raise AttributeError(name)
        return getattr(self.device, name)

    # -- channels -----------------------------------------------------------------------------------

    async def _open(self, unit: AlgUnit, keyed: bool, opening):
        if keyed:
            self.units[unit]["keymat"] += 1
        try:
            channel = await opening
        except ChannelsExhausted as error:
            self.units[unit]["attach_fail"] += 1
            self.open_failures += 1
            self.last_failure = str(error)
            raise
        except PacError:
            self.units[unit]["attach_good"] += 1
            self.units[unit]["configure_fail"] += 1
            raise
        self.units[unit]["attach_good"] += 1
        self.units[unit]["configure_good"] += 1
        self.owners[channel.number] = self.owner
        return channel

    async def open_cipher_channel(self, alg, direction, key, **options):
        return await self._open(unit_of(CipherAlg(alg)), True,
                                self.device.open_cipher_channel(alg, direction, key, **options))

    async def open_mac_channel(self, alg, direction, key=b"", **options):
        return await self._open(unit_of(MacAlg(alg)), bool(key),
                                self.device.open_mac_channel(alg, direction, key, **options))

    async def open_comp_channel(self, direction, alg=CompAlg.LZS):
        return await self._open(AlgUnit.LZS, False, self.device.open_comp_channel(direction, alg))

    async def close_channel(self, channel) -> None:
        unit = unit_of(channel.alg)
        self.units[unit]["remove"] += 1
        await self.device.close_channel(channel)
        self.units[unit]["detached"] += 1
        self.owners.pop(channel.number, None)
        self.card_channels.pop(channel.number, None)

    def label(self, channels, owner: str) -> None:
        """Name the owner of ``channels`` (Channel handles)."""
        for channel in channels:
            self.owners[channel.number] = owner

    # -- the card's counters --------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the card's algorithm-unit counters (less the values at the
        last :meth:`reset_counters`) and the open channels' counters."""
        units = await self.device.alg_counters()
        self.card_units = {unit: {k: v - self._baseline.get(unit, {}).get(k, 0) for k, v in counts.items()}
                           for unit, counts in units.items()}
        self.card_channels = {number: await self.device.channel_counters(number)
                              for number in sorted(self.device.channels)}

    async def reset_counters(self) -> None:
        """``reset ipsec counter=alg``: the card's counters cannot be cleared,
        so their present values become the zero; the service's own are cleared."""
        self._baseline = {unit: dict(counts) for unit, counts in (await self.device.alg_counters()).items()}
        self.card_units = {unit: collections.Counter() for unit in AlgUnit}
        self.units = {unit: CounterSet(ATTACH_COUNTERS) for unit in AlgUnit}
        self.open_failures = 0
        self.last_failure = ""

    def status(self) -> EncoSnapshot:
        """``show enco`` from the last :meth:`refresh` (jobs and bytes of a
        channel opened since then show 0)."""
        views = []
        for number, channel in sorted(self.device.channels.items()):
            counts = self.card_channels.get(number, {})
            views.append(ChannelSnapshot(number, _SERVICE_NAMES.get(channel.service, str(channel.service)),
                                         _ALG_NAMES.get((type(channel.alg), channel.alg), str(channel.alg)),
                                         "ENCODE" if channel.direction == 0 else "DECODE",
                                         self.owners.get(number, "-"), counts.get("good", 0), counts.get("bytes", 0),
                                         counts.get("fail", 0) + counts.get("discard", 0)))
        units = []
        for unit in AlgUnit:
            card, ours = self.card_units.get(unit, {}), self.units[unit]
            units.append(AlgUnitSnapshot(
                unit.name, ours["attach_good"] - ours["detached"],
                tuple(card.get(k, 0) for k in ("encode_good", "encode_fail", "encode_discard")),
                tuple(card.get(k, 0) for k in ("decode_good", "decode_fail", "decode_discard"))))
        return EncoSnapshot(self.card, self.device.identity.channels, tuple(views), open_failures=self.open_failures,
                          last_failure=self.last_failure, units=tuple(units))
