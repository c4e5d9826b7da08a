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
works on the header and payloads, not on guessing cookies); when the
E flag is set and the receiver has keys, the rest is the plaintext body,
encrypted here under the receiver's keys and IV chain (a copy of it) so
the engine works on what the daemon decrypts. The real messages
(decrypted) seed the engine. An input the daemon accepts moves the state:
the target is built again (the same state). An exception out of the daemon, or a new entry in
its ``faults``, raises :class:`Escaped`, which libFuzzer reports as a
crash (exit status non-zero, the input saved).
"""

import asyncio
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["pacsim.firmware.isakmp"]):
    from .fuzz_isakmp import TARGETS, LiveTarget, feed, forger   # noqa: E402 (instrumented on import)

from ..contract.codes import CIPHER_BLOCK_BYTES  # noqa: E402
from ..firmware.isakmp.constants import HEADER_LENGTH, HeaderFlag  # noqa: E402
from ..firmware.isakmp.payloads import encode_chain  # noqa: E402
from ..firmware.isakmp.transport import classify, frame  # noqa: E402

__all__ = ["Harness", "Escaped", "main"]

DEFAULT_TARGET = "main/responder/awaiting-5"
#: Octets of the real message kept ahead of the fuzzed input: the two cookies.
COOKIE_OCTETS = 16
_FLAGS = 19                 # the header's flags octet
_LENGTH = slice(24, 28)     # the header's length field


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
        """The real messages as inputs (index octet + octets after the
        cookies, the body decrypted when the receiver could read it)."""
        seeds = []
        for index, (_, template) in enumerate(self.live.pairs):
            message = classify(template.datagram)[1]
            if message[_FLAGS] & HeaderFlag.ENCRYPTION and template.payloads is not None:
                message = message[:HEADER_LENGTH] + encode_chain(template.payloads)
            seeds.append(bytes((index,)) + message[COOKIE_OCTETS:])
        return seeds

    def test_one_input(self, data):
        """Feed one input (see the module docstring); raises :class:`Escaped`."""
        if not data:
            return
        receiver, template = self.live.pairs[data[0] % len(self.live.pairs)]
        d = template.datagram
        message = classify(d)[1][:COOKIE_OCTETS] + data[1:]
        message = self.loop.run_until_complete(_sealed(receiver, message))
        outcome, detail, _ = self.loop.run_until_complete(feed(receiver, frame(d.src, d.dst, d.sport, d.dport, message)))
        if outcome == "escaped":
            raise Escaped(detail)
        if outcome == "accepted":
            self.live = self.loop.run_until_complete(LiveTarget.build(self.target, self.seed))


async def _sealed(receiver, message):
    """``message`` with its body encrypted under the receiver's keys when
    its E flag is set and the receiver holds keys for those cookies (the
    input is then the plaintext; the length field is set to match), else
    as it is."""
    if len(message) <= HEADER_LENGTH or not message[_FLAGS] & HeaderFlag.ENCRYPTION:
        return message
    sa = receiver.sas.get(message[:8])
    if sa is None or sa.keys is None:
        return message
    body = message[HEADER_LENGTH:]
    body += bytes(-len(body) % CIPHER_BLOCK_BYTES[sa.keys.cipher])
    ciphertext = await forger(sa).ivs.encrypt(message[20:24], body)
    header = message[:_LENGTH.start] + (HEADER_LENGTH + len(ciphertext)).to_bytes(4, "big")
    return header + ciphertext


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
