# Ref: docs/rings.md "Jobs"
"""Jobs the driver hands to the card, and the results it gets back.

A :class:`Job` names its data by scatter-gather segments of host memory
(bus byte addresses, lengths in bytes) and its channels; the driver turns it
into segment and command descriptors (docs/rings.md). A :class:`JobResult`
is the card's result descriptor, or the driver's own verdict when the card
was reset before the result was collected (:class:`DriverStatus`).
"""
import enum
from dataclasses import dataclass

from ..contract.codes import NO_CHANNEL, Opcode, ResultStatus
from .bus import DmaBuffer
from .errors import InvalidArgument, JobFailed

__all__ = ["Job", "JobResult", "DriverStatus", "segment_list", "channel_number"]


class DriverStatus(enum.Enum):
    """Job outcomes the driver reports itself (the card's are :class:`ResultStatus`)."""
    LOST_TO_RESET = "lost to reset"   #: submitted, not collected when the card was reset


def segment_list(segments, what: str) -> list:
    """``[(address, length), ...]`` from a :class:`DmaBuffer` (all of it), an
    ``(address, length)`` pair, or a sequence of such pairs (bytes)."""
    if isinstance(segments, DmaBuffer):
        return [(segments.address, segments.size)]
    if isinstance(segments, tuple) and len(segments) == 2 and all(isinstance(v, int) for v in segments):
        return [segments]
    try:
        pieces = [(int(address), int(length)) for address, length in segments]
    except (TypeError, ValueError):
        raise InvalidArgument(f"{what} segments {segments!r}: expected a DmaBuffer, an (address, length) "
                              "pair or a list of (address, length) pairs") from None
    return pieces


def channel_number(channel) -> int:
    """The command slot value of a :class:`~.channels.Channel`, a raw number, or None."""
    if channel is None:
        return NO_CHANNEL
    number = getattr(channel, "number", channel)
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidArgument(f"channel {channel!r}: expected a Channel, a channel number or None")
    return number


@dataclass
class Job:
    """One command for the card.

    ``opcode``: an :class:`Opcode` (any int reaches the card as it is).
    ``source``/``destination``: segments as :func:`segment_list` takes them.
    ``length``: source bytes the job reads (default: the source segments'
    total; on DECODE the ICV is included). ``skip``: header bytes before the
    cipher region. ``cipher``/``mac``/``comp``: the channels of the cipher,
    MAC and compression slots (a :class:`~.channels.Channel`, a raw channel
    number, or None: the slot reaches the card as ``NO_CHANNEL``; only
    COMPRESS/DECOMPRESS use ``comp``). ``tag`` is assigned by
    :meth:`~.device.PacDevice.submit`.
    """
    opcode: int
    source: object
    destination: object
    length: int | None = None
    skip: int = 0
    cipher: object = None
    mac: object = None
    comp: object = None
    tag: int | None = None

    def source_segments(self) -> list:
        return segment_list(self.source, "source")

    def destination_segments(self) -> list:
        return segment_list(self.destination, "destination")

    @property
    def source_length(self) -> int:
        """Bytes the command's LENGTH field carries."""
        if self.length is not None:
            return self.length
        return sum(length for _, length in self.source_segments())

    def describe(self) -> str:
        """E.g. ``ENCODE job (tag 7, 1024 bytes, skip 24, cipher channel 0, MAC channel 1)``."""
        try:
            name = Opcode(self.opcode).name
        except ValueError:
            name = f"opcode-{self.opcode}"
        parts = [f"tag {self.tag}", f"{self.source_length} bytes"]
        if self.skip:
            parts.append(f"skip {self.skip}")
        for slot, channel in (("cipher", self.cipher), ("MAC", self.mac), ("compression", self.comp)):
            if channel is not None:
                parts.append(f"{slot} channel {channel_number(channel)}")
        return f"{name} job ({', '.join(parts)})"


@dataclass(frozen=True)
class JobResult:
    """How a job ended: ``status`` (the card's :class:`ResultStatus`, or
    :attr:`DriverStatus.LOST_TO_RESET`), ``bytes`` written to the
    destination, ``address`` (failing bus byte address for
    MASTER_ABORT/TARGET_ABORT, else None), and the ``job`` itself."""
    tag: int
    status: object
    bytes: int
    address: int | None
    job: Job

    @property
    def ok(self) -> bool:
        return self.status is ResultStatus.OK

    def check(self) -> "JobResult":
        """Return self if OK; raise :class:`JobFailed` otherwise."""
        if not self.ok:
            raise JobFailed(self.status, job=self.job, address=self.address, bytes=self.bytes)
        return self
