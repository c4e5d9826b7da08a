# Ref: NIST SP 800-90A Rev. 1 section 9; README.md, "Register map" (RNG_* registers)
"""The random number generator's contract: commands, statuses, faults, self-test input.

The card's CTR_DRBG (:class:`pacsim.hdl.engines.drbg.CtrDrbg`) runs a
:class:`DrbgCommand` written to ``RNG_CONTROL.command`` and reports a
:class:`DrbgStatus` in ``RNG_STATUS.status``; ``TEST_CONTROL.rng_fault`` forces
a :class:`DrbgFault` on its health tests. :data:`RESEED_INTERVAL` is the
card's reseed interval (generate requests between seeds) and
:data:`KAT_ENTROPY` the entropy input of its power-on known-answer self-test.
"""
import enum

__all__ = ["DrbgCommand", "DrbgStatus", "DrbgFault", "RESEED_INTERVAL", "KAT_ENTROPY"]

#: Generate requests between reseeds (the card's; SP 800-90A allows up to 2^48).
RESEED_INTERVAL = 1 << 16

#: The self-test's entropy input (48 bytes, no personalization): any fixed value.
KAT_ENTROPY = bytes(range(0x40, 0x70))


class DrbgCommand(enum.IntEnum):
    """The DRBG function to run (SP 800-90A section 9)."""
    INSTANTIATE = 0
    RESEED = 1
    GENERATE = 2
    UNINSTANTIATE = 3


class DrbgStatus(enum.IntEnum):
    """Outcome of a command."""
    OK = 0
    NOT_INSTANTIATED = 1      #: RESEED or GENERATE before INSTANTIATE (or after UNINSTANTIATE)
    RESEED_REQUIRED = 2       #: GENERATE after ``reseed_interval`` requests without a reseed
    HEALTH_FAILED = 3         #: a self-test or the continuous test failed; until reset
    REQUEST_TOO_LARGE = 4     #: GENERATE of more than ``max_request_blocks`` blocks


class DrbgFault(enum.IntEnum):
    """Faults the test hook ``inject_fault`` (``TEST_CONTROL.rng_fault``) can force."""
    NONE = 0
    CORRUPT_KAT = 1           #: flip bit 0 of the self-test blocks before they are compared
    STUCK_OUTPUT = 2          #: each GENERATE block is replaced by the previous block
