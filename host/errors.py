# Ref: docs/rings.md "Jobs" (result statuses), "Public-key unit", "Random number generator"
"""Exceptions raised by the PAC host driver.

Every driver error derives from :class:`PacError`. Failures of host-initiated
bus transactions are the bus's own exceptions (:class:`BusError` and its
subclasses), re-exported here so callers can import all errors from one place.

- :class:`CardNotFound`, :class:`UnsupportedCard`: probing.
- :class:`CardTimeout`: no interrupt in time.
- :class:`InvalidArgument` (also a ValueError), :class:`UnknownName` (also a
  KeyError), :class:`InvalidKey`: what the driver refuses before anything
  reaches the card.
- :class:`ChannelsExhausted`, :class:`RingFull`: no room on the card or in a ring.
- :class:`JobFailed`: a job's result status is not OK.
- :class:`RingAborted`: the card stopped its rings on a descriptor transfer
  error; the driver has reset it.
- :class:`PkFailed`: a public-key operation ended with a status other than OK.
- :class:`RngFailed`: the random number generator refused a command or
  failed a health test.
"""
from ..contract.codes import MAX_SEGMENTS, ResultStatus
from .bus import BusError, MasterAbort, RetryLimit, TargetAbort

__all__ = [
    "PacError", "CardNotFound", "CardTimeout", "UnsupportedCard", "InvalidArgument", "UnknownName", "InvalidKey",
    "ChannelsExhausted", "RingFull", "RingAborted", "JobFailed", "PkFailed", "RngFailed",
    "BusError", "MasterAbort", "TargetAbort", "RetryLimit",
]


class PacError(Exception):
    """Base class of the errors the PAC driver raises."""


class CardNotFound(PacError):
    """No PAC answered the configuration scan."""


class CardTimeout(PacError):
    """The card did not signal completion within the allowed PCI clocks."""


class UnsupportedCard(PacError):
    """The card's identity or register-map major version is not the one this driver speaks."""


class InvalidArgument(PacError, ValueError):
    """A value the driver cannot hand to the card (does not fit a field, wrong size)."""


class UnknownName(InvalidArgument, KeyError):
    """A register or field name the card does not have (also a KeyError, as
    the lookup of a name is)."""

    __str__ = Exception.__str__     # the message as it is, not quoted as KeyError's


class InvalidKey(InvalidArgument):
    """A key or IV of the wrong size for its algorithm."""


class ChannelsExhausted(PacError):
    """Every channel of the card is open."""


class RingFull(PacError):
    """A ring lacks room for a whole batch of jobs; nothing of the batch was written."""


class RingAborted(PacError):
    """The card stopped its rings (``RING_STATUS.aborted``) after a descriptor
    transfer failed with ``status`` (a :class:`ResultStatus`). The driver has
    reset the card and re-initialised the rings; ``lost`` are the results
    (lost to reset) of the jobs that were in flight."""

    def __init__(self, status: ResultStatus, lost: list):
        self.status = status
        self.lost = lost
        super().__init__(
            f"the card stopped its rings: a descriptor transfer failed with {status.name} "
            f"(RING_STATUS.aborted); expected the rings in host memory to be reachable by the "
            f"card's DMA. The card was reset; {len(lost)} job(s) in flight were lost")


#: What each failure status means, completed by :meth:`JobFailed._describe`.
_MEANING = {
    ResultStatus.MAC_MISMATCH: "the computed ICV differs from the packet's; expected equal "
                               "(wrong key, or the packet was altered); drop the output",
    ResultStatus.BAD_OPCODE: "the opcode is unknown; expected COPY, ENCODE, DECODE, HASH, COMPRESS or "
                             "DECOMPRESS",
    ResultStatus.BAD_CHANNEL: "a channel number is not below the card's channel count",
    ResultStatus.CHANNEL_CLOSED: "a named channel is not open",
    ResultStatus.CHANNEL_MISMATCH: "a channel's service or direction does not fit its slot and the "
                                   "opcode; expected a cipher channel in the cipher slot, a MAC "
                                   "channel in the MAC slot, both of the opcode's direction, and at "
                                   "least one for ENCODE/DECODE; HASH: only a MAC channel (ENCODE); "
                                   "COMPRESS/DECOMPRESS: only a compression channel of the opcode's "
                                   "direction, in the compression slot",
    ResultStatus.BAD_CONTEXT: "a channel's context names an unknown algorithm or mode, or an ICV "
                              "length that is not a multiple of 4 in 4..digest bytes",
    ResultStatus.OUTPUT_OVERFLOW: "the output does not fit the destination (what fits was written); "
                                  "expected a larger destination (COMPRESS: the data is not "
                                  "compressible into the limit, send it uncompressed)",
    ResultStatus.STREAM_BAD_OFFSET: "the LZS stream has a match reaching before the start of the output "
                                    "(or an 11-bit offset 0); expected a well-formed stream (the bytes "
                                    "decoded before it were written)",
    ResultStatus.STREAM_TRUNCATED: "the LZS stream ends before its end marker; expected a complete "
                                   "stream (the bytes decoded before its end were written)",
    ResultStatus.BAD_LENGTH: "the lengths do not fit; expected length and skip multiples of 4, "
                             "(HASH, COMPRESS, DECOMPRESS: any length, skip 0), "
                             "skip within the packet, the cipher region a multiple of the cipher "
                             "block (with an IV block before it when the IV comes from the packet), "
                             "source segments holding the length and destination segments the output",
    ResultStatus.BAD_DESCRIPTOR: "a segment descriptor was refused; expected each owned by the card, "
                                 "with a non-zero length that is a multiple of 4, a 4-byte aligned "
                                 f"address, and at most {MAX_SEGMENTS} per direction",
    ResultStatus.PARITY: "a data parity error occurred during the job",
}


class JobFailed(PacError):
    """A job's result status is not OK.

    Attributes: ``status`` (a :class:`ResultStatus`, or
    :attr:`~.jobs.DriverStatus.LOST_TO_RESET`), ``address`` (failing bus
    byte address for MASTER_ABORT/TARGET_ABORT, else None), ``bytes``
    (output bytes written), ``job`` (the :class:`~.jobs.Job`).
    """

    def __init__(self, status, *, job, address: int | None = None, bytes: int = 0):
        if status == ResultStatus.OK:
            raise ValueError("JobFailed needs a failure status, got ResultStatus.OK")
        self.status = status
        self.job, self.address, self.bytes = job, address, bytes
        super().__init__(self._describe())

    def _describe(self) -> str:
        status = self.status
        where = f"bus address {self.address:#010x}" if self.address is not None else "an unknown address"
        if not isinstance(status, ResultStatus):
            reason = ("the card was reset before the job's result was collected; "
                      "expected it to be submitted again")
        elif status is ResultStatus.MASTER_ABORT:
            reason = f"no target claimed the card's access to {where}; expected host memory there"
        elif status is ResultStatus.TARGET_ABORT:
            reason = f"the target aborted the card's access to {where}"
        else:
            reason = _MEANING.get(status, "see docs/rings.md for what the card checks")
        return f"{self.job.describe()} failed after {self.bytes} output bytes: {reason} ({status.name})"


class PkFailed(PacError):
    """A public-key operation ended with ``status`` (a
    :class:`~pacsim.contract.pk.ModExpStatus` other than OK) after
    ``clocks`` PCI clocks (PK_CLOCKS)."""

    _MEANING = {
        "EVEN_MODULUS": "the modulus is even (or zero); expected an odd modulus (Montgomery arithmetic)",
        "BAD_SIZE": "PK_SIZE.words is 0 or above PK_STATUS.max_words, or exp_bits above 32 * max_words",
        "TIMEOUT": "the operation needed more PCI clocks than PK_WATCHDOG allows; expected a larger "
                   "watchdog (or 0, no limit) or a shorter exponent",
        "ABORTED": "PK_CONTROL.abort stopped the operation",
    }

    def __init__(self, status, *, clocks: int = 0, what: str = "modular exponentiation"):
        self.status, self.clocks = status, clocks
        name = getattr(status, "name", str(status))
        reason = self._MEANING.get(name, "unknown status")
        super().__init__(f"{what} failed after {clocks} PCI clocks: {reason} ({name})")


class RngFailed(PacError):
    """The random number generator ended ``command`` (a
    :class:`~pacsim.contract.rng.DrbgCommand`) with ``status`` (a
    :class:`~pacsim.contract.rng.DrbgStatus` other than OK)."""

    _MEANING = {
        "NOT_INSTANTIATED": "the generator is not instantiated; expected rng_instantiate() first "
                            "(CONTROL.reset uninstantiates it)",
        "RESEED_REQUIRED": "the generator served its reseed interval of requests; expected rng_reseed()",
        "HEALTH_FAILED": "a health test (known-answer or continuous output test) failed; the generator "
                         "refuses every command until the card is reset",
        "REQUEST_TOO_LARGE": "the request asked for more blocks than the generator serves at once",
    }

    def __init__(self, status, *, command=None):
        self.status, self.command = status, command
        name = getattr(status, "name", str(status))
        doing = getattr(command, "name", command)
        reason = self._MEANING.get(name, "unknown status")
        super().__init__(f"random number generator {doing or 'command'} refused: {reason} ({name})")
