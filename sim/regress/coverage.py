# Ref: docs/regress.md "Coverage"; sim/regress/coverage.toml (the declared bins)
"""Functional coverage: bins declared in ``coverage.toml``, sampled by cells,
merged across workers.

A bin is ``CROSS:value/value/...`` (one value per axis of the cross, in the
cross's order). :data:`BINS` is every declared bin, :data:`IMPOSSIBLE` the
ones declared as unable to occur. A sample is a dict ``{axis: value}``
(:func:`job_sample` makes one from a collected job, :func:`fuzz_samples` from
an ISAKMP fuzz run); :func:`bins_of` gives the bins it hits. Hits are a
:class:`collections.Counter` of bins; :func:`coverage_fraction` is the share
of the possible bins hit at least once.
"""
import itertools
import tomllib
from collections import Counter
from pathlib import Path

from ...contract.codes import CipherAlg, MacAlg, Opcode, ResultStatus
from .campaign import MEMORY_PROFILES

__all__ = ["BINS", "IMPOSSIBLE", "CROSSES", "LENGTH_CLASSES", "MAX_LENGTH", "length_class", "segment_class",
           "job_sample", "fuzz_samples", "bins_of", "coverage_fraction", "holes"]

_DECLARED = tomllib.loads(Path(__file__).with_name("coverage.toml").read_text())
#: Length classes, in the order the report shows them.
LENGTH_CLASSES = tuple(_DECLARED["lengths"])
#: The "max" length class: the longest job the suite moves, bytes (64 KiB).
MAX_LENGTH = 65536
#: Block of a job with no cipher (the AES block), bytes.
GENERIC_BLOCK = 16
_FIXED = {"0": 0, "64": 64, "576": 576, "1400": 1400, "max": MAX_LENGTH}


def _fuzz_targets() -> list:
    from ..fuzz_isakmp import TARGETS
    return [target.name for target in TARGETS]


_SOURCES = {"opcode": lambda: [o.name for o in Opcode], "cipher_alg": lambda: [a.name for a in CipherAlg],
            "mac_alg": lambda: [a.name for a in MacAlg], "status": lambda: [s.name for s in ResultStatus],
            "length": lambda: list(LENGTH_CLASSES), "segments": lambda: list(_DECLARED["segments"]),
            "memory": lambda: list(MEMORY_PROFILES), "fuzz_target": _fuzz_targets,
            "fuzz_outcome": lambda: list(_DECLARED["fuzz_outcomes"])}


def _crosses() -> dict:
    crosses = {}
    for table in _DECLARED["crosses"]:
        crosses[table["name"]] = {axis: list(table.get(axis) or _SOURCES[axis]()) for axis in table["axes"]}
    return crosses


#: ``{cross: {axis: [values]}}``, axes in the cross's order.
CROSSES = _crosses()


def _bins() -> tuple:
    bins, impossible = [], set()
    for name, axes in CROSSES.items():
        for values in itertools.product(*axes.values()):
            bins.append(f"{name}:{'/'.join(values)}")
    for table in _DECLARED.get("impossible", []):
        axes = CROSSES[table["cross"]]
        choices = [table.get(axis, values) for axis, values in axes.items()]
        impossible.update(f"{table['cross']}:{'/'.join(values)}" for values in itertools.product(*choices))
    return tuple(bins), frozenset(impossible)


#: Every declared bin, and the declared impossible ones among them.
BINS, IMPOSSIBLE = _bins()


def length_class(length: int, block: int = GENERIC_BLOCK) -> str | None:
    """The class of ``length`` bytes for a unit of ``block`` bytes, or None (no declared class)."""
    for name, value in _FIXED.items():
        if length == value:
            return name
    for name, value in (("block-1", block - 1), ("block", block), ("block+1", block + 1)):
        if length == value:
            return name
    return "1-15" if 1 <= length <= 15 else None


def segment_class(count: int) -> str:
    return "1" if count <= 1 else "2-4" if count <= 4 else "5-8"


def _name(enum_type, value):
    try:
        return enum_type(value).name
    except ValueError:
        return None


def job_sample(result, memory: str) -> dict:
    """``{axis: value}`` of a collected :class:`~pacsim.host.jobs.JobResult` on ``memory``."""
    job = result.job
    opcode = _name(Opcode, job.opcode)
    status = result.status.name if isinstance(result.status, ResultStatus) else None
    sample = {"opcode": opcode, "status": status, "memory": memory}
    try:
        segments = job.source_segments()
    except Exception:                     # noqa: BLE001 - a deliberately bad job: no segment sample
        segments = None
    if segments is not None:
        sample["segments"] = segment_class(len(segments))
    cipher, mac = job.cipher, job.mac
    payload = job.source_length - job.skip
    if getattr(cipher, "alg", None) is not None and isinstance(cipher.alg, CipherAlg):
        sample["cipher_alg"] = cipher.alg.name
        sample["length"] = length_class(payload, cipher.block_bytes)
    elif getattr(mac, "alg", None) is not None and isinstance(mac.alg, MacAlg) and job.opcode == Opcode.HASH:
        sample["mac_alg"] = mac.alg.name
        sample["length"] = length_class(payload)
    elif job.cipher is None and job.mac is None:
        sample["length"] = length_class(payload)
    return sample


def fuzz_samples(outcomes) -> list:
    """Samples of an ISAKMP fuzz run: ``outcomes`` is ``{(target, outcome): count}``."""
    return [{"fuzz_target": target, "fuzz_outcome": outcome} for (target, outcome), n in outcomes.items() if n]


def bins_of(sample: dict) -> list:
    """The declared bins ``sample`` hits (one per cross whose axes it all has)."""
    hit = []
    for name, axes in CROSSES.items():
        values = [sample.get(axis) for axis in axes]
        if all(value in axes[axis] for value, axis in zip(values, axes)):
            hit.append(f"{name}:{'/'.join(values)}")
    return hit


def coverage_fraction(hits: Counter) -> float:
    """Share of the possible bins hit at least once (0..1)."""
    possible = [b for b in BINS if b not in IMPOSSIBLE]
    return sum(1 for b in possible if hits.get(b)) / len(possible)


def holes(hits: Counter) -> list:
    """Possible bins never hit, in declaration order."""
    return [b for b in BINS if b not in IMPOSSIBLE and not hits.get(b)]
