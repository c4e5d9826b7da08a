# Ref: docs/rings.md "Channels"
"""Channels on the card: opening one writes its context into the lowest
free channel number of the card's CONTEXT window, closing it zeroes CONFIG.

:class:`ChannelSlots` is the part of :class:`~.device.PacDevice` that holds
the open channels (``_channels``: ``{number: Channel}``); what goes into a
context comes from :mod:`.channels`.
"""
from ..contract.codes import (CIPHER_BLOCK_BYTES, NO_CHANNEL, CipherAlg, CipherMode, CompAlg, Direction, IvSource,
                              MacAlg, Service)
from ..contract.layouts import CONTEXT
from .channels import DEFAULT_ICV_BYTES, Channel, cipher_context, comp_context, mac_context
from .errors import ChannelsExhausted, InvalidArgument
from .jobs import channel_number

__all__ = ["ChannelSlots"]


class ChannelSlots:
    """Opening and closing the card's channels (a part of :class:`~.device.PacDevice`)."""

    @property
    def channels(self) -> dict:
        """Open channels: ``{number: Channel}``."""
        return dict(self._channels)

    def _channel_in_range(self, number: int) -> int:
        if not 0 <= number < self.identity.channels:
            raise InvalidArgument(f"channel {number}; expected 0 to {self.identity.channels - 1} "
                                  f"(the card has {self.identity.channels} channels)")
        return number

    def _free_channel(self) -> int:
        usable = min(self.identity.channels, NO_CHANNEL)
        for number in range(usable):
            if number not in self._channels:
                return number
        raise ChannelsExhausted(f"all {usable} channels of the card are open (CHANNELS.count = "
                                f"{self.identity.channels}); expected one to be closed before opening another")

    async def _write_context_config(self, number: int, config: int) -> None:
        await self.bus.mem_write(self._window("CONTEXT", number) + CONTEXT.CONFIG.offset, [config])

    async def _open(self, words: dict, config: int, make) -> Channel:
        """Write a context (every word but CONFIG, in bursts of consecutive
        registers, then CONFIG) into the lowest free channel."""
        number = self._free_channel()
        base = self._window("CONTEXT", number)
        regs = [reg for reg in CONTEXT if reg is not CONTEXT.CONFIG]
        run = [regs[0]]
        for reg in regs[1:] + [None]:
            if reg is not None and reg.offset == run[-1].offset + 4:
                run.append(reg)
                continue
            await self.bus.mem_write(base + run[0].offset, [words[r.name] for r in run])
            run = [reg]
        await self._write_context_config(number, config)
        channel = make(number)
        self._channels[number] = channel
        return channel

    async def open_cipher_channel(self, alg: CipherAlg, direction: Direction, key: bytes, *,
                                  mode: CipherMode = CipherMode.CBC, iv_source: IvSource = IvSource.PACKET,
                                  iv: bytes = b"") -> Channel:
        """Open a cipher channel in the lowest free number.

        ``key``: CIPHER_KEY_BYTES[alg] bytes (3DES K1‖K2‖K3, 2-key K1‖K2).
        ``iv``: ECB none; CBC with ``IvSource.CONTEXT`` one block (3DES
        outer: IV1‖IV2‖IV3); CBC with ``IvSource.PACKET`` none (3DES outer:
        IV2‖IV3). Raises :class:`InvalidKey`/:class:`InvalidArgument` for
        wrong sizes, :class:`ChannelsExhausted` when every channel is open.
        """
        words, config = cipher_context(alg, direction, key, mode, iv_source, iv)
        alg = CipherAlg(alg)
        return await self._open(words, config, lambda number: Channel(
            number, Service.CIPHER, alg, Direction(direction), block_bytes=CIPHER_BLOCK_BYTES[alg],
            mode=CipherMode(mode), iv_source=IvSource(iv_source)))

    async def open_mac_channel(self, alg: MacAlg, direction: Direction, key: bytes = b"", *,
                               icv_bytes: int | None = None) -> Channel:
        """Open a MAC channel in the lowest free number: HMAC with any key
        (the driver writes its pad states), DES-MAC with an 8-byte key,
        SHA1/MD5 (plain hash) with none; ``icv_bytes`` a multiple of 4 from 4
        to the digest size (default :data:`~.channels.DEFAULT_ICV_BYTES`:
        12 for HMAC, the whole digest otherwise)."""
        if icv_bytes is None:
            icv_bytes = DEFAULT_ICV_BYTES.get(alg, 12)
        words, config = mac_context(alg, direction, key, icv_bytes)
        return await self._open(words, config, lambda number: Channel(
            number, Service.MAC, MacAlg(alg), Direction(direction), icv_bytes=icv_bytes))

    async def open_comp_channel(self, direction: Direction, alg: CompAlg = CompAlg.LZS) -> Channel:
        """Open a compression channel in the lowest free number: ``direction``
        ENCODE for :meth:`compress`, DECODE for :meth:`decompress`; ``alg``
        LZS (the only one). The context is CONFIG alone."""
        words, config = comp_context(alg, direction)
        return await self._open(words, config, lambda number: Channel(
            number, Service.COMPRESSION, CompAlg(alg), Direction(direction)))

    async def close_channel(self, channel) -> None:
        """Close an open channel (a :class:`Channel` or its number): CONFIG = 0."""
        number = channel_number(channel)
        if number not in self._channels:
            raise InvalidArgument(f"channel {number} is not open; open channels: {sorted(self._channels)}")
        await self._write_context_config(number, 0)
        del self._channels[number]
