# Ref: docs/rings.md
"""The PAC host driver: finds the card on a :class:`PciBus`, keeps its
descriptor rings and channels, and runs jobs (docs/rings.md).

The driver awaits nothing but :class:`PciBus` methods, so the same code runs
under cocotb against the RTL and under ``asyncio`` against the behavioural
model. Every register offset, field position and descriptor layout comes
from :mod:`pacsim.contract.regmap` and :mod:`pacsim.contract.layouts`. Addresses are
bus byte addresses, lengths are bytes, times are PCI clocks.

The driver does not pre-check what the card itself validates (segment
alignment and lengths, job lengths, channel use): those reach the card and
come back as a :class:`JobResult` status (or :class:`JobFailed` from the
one-job conveniences). It refuses only what cannot be encoded into a
descriptor or context (:class:`InvalidArgument`, :class:`InvalidKey`).

The driver is one class, :class:`PacDevice`, made of the parts that hold
each unit: :class:`~.probe.CardAccess` (probing, registers, counters),
:class:`~.channel_slots.ChannelSlots` (channels),
:class:`~.job_queue.JobQueue` (rings, submit/collect, reset),
:class:`~.packet_ops.PacketOps` (one-job conveniences),
:class:`~.public_key.PublicKeyUnit` (modexp, Diffie-Hellman) and
:class:`~.rng.RandomGenerator` (random numbers). Each register-driven unit
(the collector, the public-key unit, the generator) has its own lock from
:meth:`PciBus.new_lock`, so tasks of one scheduler may call the driver
concurrently.
"""
import collections
import functools
import inspect

from .bus import PciBus
from .channel_slots import ChannelSlots
from .errors import InvalidArgument
from .job_queue import JobQueue, default_timeout
from .packet_ops import CopyResult, PacketOps, lzs_bound
from .probe import COUNTERS, CardAccess, CardIdentity
from .public_key import DH_PRIVATE_BITS, PublicKeyUnit
from .rng import RandomGenerator

__all__ = ["PacDevice", "CardIdentity", "CopyResult", "COUNTERS", "DH_PRIVATE_BITS", "default_timeout",
           "lzs_bound"]


def _counting_refusals(method):
    """``method`` (a public coroutine of the driver) counting the
    :class:`InvalidArgument` it raises in ``driver_counters["refused"]``,
    once per refusal however many public calls it passes through."""
    @functools.wraps(method)
    async def counted(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        except InvalidArgument as error:
            if not getattr(error, "counted", False):
                error.counted = True
                self.driver_counters["refused"] += 1
            raise
    return counted


def _count_refusals(cls):
    """Wrap every public coroutine method of ``cls`` with :func:`_counting_refusals`
    (not the probe/scan class and static methods: there is no device yet)."""
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _counting_refusals(member))
    return cls


@_count_refusals
class PacDevice(CardAccess, ChannelSlots, JobQueue, PacketOps, PublicKeyUnit, RandomGenerator):
    """One PAC on a :class:`PciBus` (``bus``). Create it with :meth:`probe`.

    ``driver_counters`` counts what the driver saw: ``jobs_submitted``,
    ``results_collected``, ``ring_full`` (batches refused with
    :class:`RingFull`), ``jobs_lost`` (to a reset), ``ring_aborts``,
    ``refused`` (calls refused with :class:`InvalidArgument`).
    """

    def __init__(self, bus: PciBus, device: int, bar0: int, identity: CardIdentity | None):
        """Wrap an already configured card; use :meth:`probe` instead."""
        self.bus = bus
        self._device = device
        self._bar0 = bar0
        self._identity = identity
        self.rings = {}
        self._coalesce = (1, 0)
        self._channels = {}
        self._in_flight = collections.deque()
        self._unclaimed = []
        self._job_buffers = {}          # tag: temporary buffers of a timed-out one-job call, freed when it ends
        self._next_tag = 1
        self._collector = bus.new_lock()    # one caller at a time reaps results and acknowledges INTA#
        self._pk_lock = bus.new_lock()      # one public-key operation at a time (its registers and slots)
        self._rng_lock = bus.new_lock()     # one generator command sequence at a time
        self._rng_seeded_by = None      # None, "caller" or "driver": who instantiated the generator
        self.driver_counters = dict.fromkeys(
            ("jobs_submitted", "results_collected", "ring_full", "jobs_lost", "ring_aborts", "refused"), 0)
