# Ref: RFC 2401 appendix C, RFC 2406 section 3.4.3, RFC 2402 section 3.4.3
"""The receiver's anti-replay sliding window.

The window covers the ``size`` sequence numbers up to and including the
highest one received (``last``); ``bitmap`` bit *i* is 1 when ``last - i``
has been received (bit 0 is ``last`` itself), the ``Anti-replay bitmap``
of ``show ipsec sa`` (spec/show-outputs.md §7b). :meth:`check` runs before
the ICV is verified and changes nothing; :meth:`update` runs only after the
packet authenticated, so forged packets cannot move the window.
"""

__all__ = ["ReplayWindow", "WINDOW_SIZES"]

#: Sizes the router offers (``replaywindowsize``, spec/ipsec-commands.md §2.1).
WINDOW_SIZES = (32, 64, 128, 256)


class ReplayWindow:
    """An anti-replay window of ``size`` packets (a positive multiple of 32)."""

    def __init__(self, size: int = 32):
        if size <= 0 or size % 32:
            raise ValueError(f"anti-replay window of {size} packets; expected a positive multiple of 32 "
                             f"(the router offers {', '.join(map(str, WINDOW_SIZES))})")
        self.size = size
        self.last = 0       #: highest sequence number received (0: none yet)
        self.bitmap = 0

    def check(self, seq: int) -> bool:
        """True if ``seq`` may be new: not 0, not left of the window, not seen."""
        if seq == 0:
            return False
        if seq > self.last:
            return True
        behind = self.last - seq
        if behind >= self.size:
            return False
        return not self.bitmap >> behind & 1

    def update(self, seq: int) -> None:
        """Record ``seq`` (already authenticated and :meth:`check`-ed)."""
        if seq > self.last:
            shift = seq - self.last
            self.bitmap = (self.bitmap << shift | 1) & ((1 << self.size) - 1) if shift < self.size else 1
            self.last = seq
        else:
            self.bitmap |= 1 << (self.last - seq)

    def accept(self, seq: int) -> bool:
        """:meth:`check` and, if it passes, :meth:`update`."""
        if not self.check(seq):
            return False
        self.update(seq)
        return True

    def display_bitmap(self) -> str:
        """The bitmap in hex, ``size / 4`` digits (``000000ff`` for a 32-packet window)."""
        return f"{self.bitmap:0{self.size // 4}x}"
