# Ref: RFC 2408 section 5 (message processing: a bad message is dropped and changes nothing)
# Ref: https://github.com/google/atheris (the coverage-guided engine, libFuzzer's options)
"""Coverage-guided fuzzing of the ISAKMP daemon with Atheris (libFuzzer).

``python -m pacsim.sim.fuzz_atheris [--target NAME] [libFuzzer options] [CORPUS_DIR]``

* ``--target``: a :data:`~.fuzz_isakmp.TARGETS` name (default
  ``main/responder/awaiting-5``: the responder holding the phase-1 keys
  and awaiting the encrypted MM5);
* libFuzzer options pass through, e.g. ``-runs=3000`` (executions),
  ``-seed=1`` (reproducible), ``-max_total_time=3600`` (seconds),
  ``-artifact_prefix=DIR/`` (where a crashing input is written).

The target is built once by :mod:`.fuzz_isakmp`'s own code (seeded model
cards, live negotiation). Each input is one ISAKMP message to its
receiver: the input's first octet picks one of the target's real
messages, whose UDP addressing and 16 cookie octets are kept, and the
rest of the input replaces everything after the cookies (so the engine
works on the header and payloads, not on guessing cookies); the real
messages seed the engine. An input the daemon accepts moves the state:
the target is built again (the same state). An exception out of the daemon, or a new entry in
its ``faults``, raises :class:`Escaped`, which libFuzzer reports as a
crash (exit status non-zero, the input saved).
"""

import asyncio
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["pacsim.firmware.isakmp"]):
    from .fuzz_isakmp import TARGETS, LiveTarget, feed   # noqa: E402 (instrumented on import)

from ..firmware.isakmp.transport import classify, frame  # noqa: E402

__all__ = ["Harness", "Escaped", "main"]

DEFAULT_TARGET = "main/responder/awaiting-5"
#: Octets of the real message kept ahead of the fuzzed input: the two cookies.
COOKIE_OCTETS = 16


class Escaped(Exception):
    """Something came out of the daemon (the message names it)."""


class Harness:
    """One target (``name``) on a private event loop; :meth:`test_one_input`
    is libFuzzer's callback; ``seed`` picks the cards' generator seeds."""

    def __init__(self, name=DEFAULT_TARGET, seed=0):
        self.target = next(t for t in TARGETS if t.name == name)
        self.seed = seed
        self.loop = asyncio.new_event_loop()
        self.live = self.loop.run_until_complete(LiveTarget.build(self.target, seed))

    def seeds(self):
        """The real messages as inputs (index octet + octets after the cookies)."""
        return [bytes((index,)) + classify(t.datagram)[1][COOKIE_OCTETS:]
                for index, (_, t) in enumerate(self.live.pairs)]

    def test_one_input(self, data):
        """Feed one input (see the module docstring); raises :class:`Escaped`."""
        if not data:
            return
        receiver, template = self.live.pairs[data[0] % len(self.live.pairs)]
        d = template.datagram
        message = classify(d)[1][:COOKIE_OCTETS] + data[1:]
        outcome, detail, _ = self.loop.run_until_complete(feed(receiver, frame(d.src, d.dst, d.sport, d.dport, message)))
        if outcome == "escaped":
            raise Escaped(detail)
        if outcome == "accepted":
            self.live = self.loop.run_until_complete(LiveTarget.build(self.target, self.seed))


def main(argv=None):
    """Parse ``--target`` and run libFuzzer with the other arguments."""
    argv = list(sys.argv if argv is None else argv)
    name = DEFAULT_TARGET
    if "--target" in argv:
        at = argv.index("--target")
        name = argv[at + 1]
        del argv[at:at + 2]
    harness = Harness(name)
    corpus = [a for a in argv[1:] if not a.startswith("-")]
    if corpus:
        Path(corpus[0]).mkdir(parents=True, exist_ok=True)
        for index, seed in enumerate(harness.seeds()):
            (Path(corpus[0]) / f"real-{index}").write_bytes(seed)
    atheris.Setup(argv, harness.test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
