# Ref: docs/regress.md "Seeds"
"""The seed of a randomised check: fixed by default, set by a campaign.

A check that draws random data asks :func:`seeded_random` with its own
fixed value (the seed it always had). Without ``PACSIM_SEED`` in the
environment that is exactly ``random.Random(default)``, so the suite's data
is unchanged; with ``PACSIM_SEED=N`` (what ``pacsim regress`` sets for each
cell, and what a developer sets to replay one) every check draws from
``random.Random(f"{default}/{N}")``: other data, reproducible from N.
"""
import os
import random

__all__ = ["SEED_ENV", "campaign_seed", "seeded_random"]

#: Environment variable holding a campaign's seed (a decimal integer).
SEED_ENV = "PACSIM_SEED"


def campaign_seed() -> int | None:
    """The seed ``PACSIM_SEED`` sets, or None when it is unset or empty."""
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{SEED_ENV}={text!r}: expected a decimal integer") from None


def seeded_random(default) -> random.Random:
    """``random.Random(default)`` (``default``: the check's fixed seed, an int
    or a string), mixed with ``PACSIM_SEED`` when that is set."""
    seed = campaign_seed()
    return random.Random(default if seed is None else f"{default}/{seed}")
