# Ref: sim/rtl_bus.py (the host-side port protocol it records); sim/host_script.cpp (its player)
"""Record what :class:`~.rtl_bus.RtlBus` does to the bench's host-side ports, for the C++ player.

The recording is a text file of one step per line, replayed by the pure
C++ Verilator harness (``sim/host_script.cpp``) on the same build:

- ``W index value``: a backdoor store of one host-memory dword (index from
  the start of host memory; applied before the next transaction);
- ``T gap command write address words byte_enables d0 d1 ...``: a host
  bridge transaction started ``gap`` PCI clocks after the previous one
  completed (the data words fill the bridge's burst buffer);
- ``M`` / ``E``: the timed workload starts / ends here;
- ``C index value``: after the script, host-memory dword ``index`` must
  hold ``value`` (the words the cocotb run read back, so the player proves
  it did the same work).

Numbers are decimal. Enable by setting ``RtlBus.script`` to a
:class:`HostScript` before the workload.
"""

__all__ = ["HostScript"]


class HostScript:
    """Steps of one run. ``clocks``: the bus's clock counter (a callable)."""

    def __init__(self, clocks):
        self._clocks = clocks
        self._last_done = None
        self.lines = []

    def store(self, index: int, value: int) -> None:
        self.lines.append(f"W {index} {value}")

    def transaction(self, command: int, write: bool, address: int, words: int, byte_enables: int,
                    data) -> None:
        """Call at the clock the bridge's ports are driven."""
        now = self._clocks()
        gap = 0 if self._last_done is None else now - self._last_done
        self.lines.append(" ".join(map(str, ["T", gap, command, int(write), address, words, byte_enables,
                                             *data])))

    def done(self) -> None:
        """Call at the clock a transaction's completion is seen."""
        self._last_done = self._clocks()

    def mark(self, what: str) -> None:
        """``"M"`` before the timed workload, ``"E"`` after it."""
        self.lines.append(what)

    def expect(self, index: int, values) -> None:
        self.lines += [f"C {index + i} {value}" for i, value in enumerate(values)]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
