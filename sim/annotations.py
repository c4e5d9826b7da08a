# Ref: ../docs/waves.md (the job on the bus); ../contract/codes.py (opcodes)
"""Bench-only annotation inputs: which job, channel, packet and phase the bus is serving.

The test bench (:mod:`.testbench`) has one top-level input ``ann_<name>``
per entry of :data:`ANNOTATIONS`. Nothing in the card reads them; they
exist so that a waveform shows, beside every burst, the job the host handed
the card last (its tag, opcode and channels), the packet or ISAKMP message
it belongs to and the phase of the test or demo. The host driver announces
each job through :meth:`pacsim.host.bus.PciBus.annotate`, which
:class:`~.rtl_bus.RtlBus` plays onto these inputs one clock apart (so
that jobs handed over together still show one by one, in order); the
behavioural model ignores them.
"""
import enum

from ..contract.codes import Opcode

__all__ = ["ANNOTATIONS", "BenchPhase", "annotation_port"]


class BenchPhase(enum.IntEnum):
    """Phases of a bench run (``ann_phase``): the demo's sections in order."""
    NONE = 0
    PROBE = 1           #: configuration reads, BAR assignment, identity
    COPIES = 2          #: COPY jobs checked against their sources
    REFUSED_JOB = 3     #: a job the card must refuse
    ESP = 4             #: one ESP packet encoded, decoded and tampered with
    IKE = 5             #: main mode and quick mode between two daemons on the card
    COUNTERS = 6        #: counter and status reads at the end
    FAULT = 7           #: a test-only fault (failure-window tests)


#: Annotation name -> the shape of its input (``ann_<name>``): an enum or a width in bits.
ANNOTATIONS = {
    "job": 32,              # tag of the job handed over last
    "opcode": Opcode,
    "cipher_channel": 8,    # 0xFF: none (NO_CHANNEL)
    "mac_channel": 8,
    "packet": 32,           # packet number or ISAKMP message id (0: none)
    "phase": BenchPhase,
}


def annotation_port(name: str) -> str:
    """The bench's top-level port of annotation ``name``."""
    if name not in ANNOTATIONS:
        raise ValueError(f"unknown annotation {name!r}; expected one of {sorted(ANNOTATIONS)}")
    return f"ann_{name}"
