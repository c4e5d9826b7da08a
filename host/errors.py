"""Exceptions raised by the PAC host driver.

Every driver error derives from :class:`PacError`. Failures of host-initiated
bus transactions are the bus's own exceptions (:class:`BusError` and its
subclasses), re-exported here so callers can import all errors from one place.
"""
from ..hdl.regmap import DmaError
from .bus import BusError, MasterAbort, RetryLimit, TargetAbort

__all__ = [
    "PacError", "CardNotFound", "CardTimeout", "DmaFailed", "UnsupportedCard",
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


#: Codes with which the card refuses a command at start (nothing is transferred).
REJECTIONS = frozenset({DmaError.BUSY, DmaError.BUS_MASTER_OFF,
                        DmaError.BAD_ALIGNMENT, DmaError.BAD_LENGTH})


class DmaFailed(PacError):
    """A DMA command ended with an error code in ``DMA_STATUS.error``.

    Attributes: ``code`` (:class:`DmaError`), ``src``/``dst`` (bus byte
    addresses) and ``length`` (bytes) of the command, ``address`` (bus byte
    address of the failed data phase from ``DMA_ERROR_ADDR``; None when the
    card rejected the command before any transfer) and ``bytes_done`` (bytes
    written to the destination, from ``DMA_COUNT``).
    """

    def __init__(self, code: DmaError, *, src: int, dst: int, length: int,
                 address: int | None = None, bytes_done: int = 0):
        self.code = DmaError(code)
        if self.code is DmaError.NONE:
            raise ValueError("DmaFailed needs an error code, got DmaError.NONE")
        self.src, self.dst, self.length = src, dst, length
        self.address = address
        self.bytes_done = bytes_done
        super().__init__(self._describe())

    @property
    def rejected(self) -> bool:
        """True when the card refused the command at start (no bus transfer)."""
        return self.code in REJECTIONS

    def _describe(self) -> str:
        code = self.code
        if self.rejected:
            return f"copy rejected by the card: {self._rejection_reason()} ({code.name})"
        where = f"bus address {self.address:#010x}" if self.address is not None else "an unknown address"
        reason = {
            DmaError.MASTER_ABORT: f"no target claimed the card's access to {where}; "
                                   "expected host memory there",
            DmaError.TARGET_ABORT: f"the target aborted the card's access to {where}",
            DmaError.PARITY: f"data parity error on the card's access to {where}",
        }[code]
        return (f"copy of {self.length} bytes from {self.src:#010x} to {self.dst:#010x} "
                f"failed after {self.bytes_done} bytes: {reason} ({code.name})")

    def _rejection_reason(self) -> str:
        code = self.code
        if code is DmaError.BAD_ALIGNMENT:
            wrong = [f"{what} address {address:#010x}"
                     for what, address in (("source", self.src), ("destination", self.dst))
                     if address % 4]
            if not wrong:
                return (f"the card reports a misaligned address, but source {self.src:#010x} "
                        f"and destination {self.dst:#010x} are both 4-byte aligned")
            verb = "is" if len(wrong) == 1 else "are"
            return f"{' and '.join(wrong)} {verb} not 4-byte aligned"
        if code is DmaError.BAD_LENGTH:
            return f"length {self.length} bytes is not a non-zero multiple of 4"
        if code is DmaError.BUS_MASTER_OFF:
            return ("COMMAND_STATUS.bus_master is 0; expected 1 so the card may master the bus "
                    "(set it in configuration space)")
        return "a previous command is still running (DMA_STATUS.busy = 1); wait for it to complete"
