# Ref: docs/rings.md "Rings", "Jobs"
# Ref: PCI Local Bus Specification 2.3, section 2.2.6 (INTA#)
"""The job queue: descriptors into the rings, one kick per batch, results
reaped on INTA#, the card's reset and the jobs it takes with it.

:class:`JobQueue` is the part of :class:`~.device.PacDevice` that holds the
rings (``rings``), the jobs in flight in submission order, the results one
caller reaped for another, and the collector's lock (one caller at a time
waits for INTA# and reaps). Times are PCI clocks, lengths bytes.

Ring policy: all four rings are in host memory, written and read with CPU
stores and loads. At most ``CMD entries - 1`` commands are in flight, so a
command entry is never rewritten before the card has cleared its ``own``
bit (the card clears it after writing the result, and a later result
proves it did); at most one job per result slot is in flight, so the
result ring never fills by itself. Segment entries are given back (zeroed)
when their job's result is collected. ``RING_CTRL.enable`` stays 1.
"""
from typing import NamedTuple

from ..contract.codes import ResultStatus
from ..contract.layouts import CMD, RESULT, SEG
from ..contract.regmap import BAR0, IDENTITY, RINGS
from .bus import DmaBuffer
from .arguments import timeout
from .errors import CardTimeout, InvalidArgument, PacError, RingAborted, RingFull
from .jobs import DriverStatus, Job, JobResult, channel_number
from .probe import encode_fields

__all__ = ["JobQueue", "RESULT_OBSERVERS", "default_timeout", "TIMEOUT_BASE_CLOCKS", "TIMEOUT_CLOCKS_PER_WORD", "RESET_CHECK_CLOCKS"]

#: Default timeout of waiting for results: a fixed allowance plus a
#: per-dword allowance for the data in flight, in PCI clocks; several times
#: what the slowest engine (3DES CBC encrypt, 12 clocks per 8 bytes) and the
#: bus (a read and a write per dword) need, with retries and disconnects.
TIMEOUT_BASE_CLOCKS = 10_000
TIMEOUT_CLOCKS_PER_WORD = 16
#: Longest single wait for INTA# while collecting, in PCI clocks: a caller
#: waiting on jobs that another caller's reset took notices within this.
RESET_CHECK_CLOCKS = 4096

#: Config status bits a failed job sets, which the driver clears when it collects the result.
_STATUS_BITS_OF_RESULT = {
    ResultStatus.MASTER_ABORT: ("received_master_abort",),
    ResultStatus.TARGET_ABORT: ("received_target_abort",),
    ResultStatus.PARITY: ("master_data_parity_error", "detected_parity_error"),
}
#: Statuses whose RESULT.ADDRESS is meaningful.
_ADDRESSED = (ResultStatus.MASTER_ABORT, ResultStatus.TARGET_ABORT)
#: Callables each given every :class:`JobResult` the driver collects (the
#: functional coverage of ``pacsim regress``); empty unless a campaign samples.
RESULT_OBSERVERS: list = []


def default_timeout(data_bytes: int) -> int:
    """PCI clocks to wait for jobs moving ``data_bytes`` (source plus destination) by default."""
    return TIMEOUT_BASE_CLOCKS + TIMEOUT_CLOCKS_PER_WORD * (max(data_bytes, 0) // 4)


class _InFlight(NamedTuple):
    """A submitted job and the ring entries it holds (a named tuple: one per job)."""
    job: Job
    sources: tuple
    destinations: tuple
    data_bytes: int


def _job_list(jobs) -> list:
    """``jobs`` (an iterable of :class:`Job`) as a list."""
    try:
        jobs = list(jobs)
    except TypeError:
        raise InvalidArgument(f"jobs {jobs!r}: expected a list of Job objects") from None
    for job in jobs:
        if not isinstance(job, Job):
            raise InvalidArgument(f"jobs: {job!r} is not a Job")
    return jobs


class JobQueue:
    """Submitting jobs and collecting their results (a part of :class:`~.device.PacDevice`)."""

    @property
    def in_flight(self) -> int:
        """Jobs submitted whose results have not been collected."""
        return len(self._in_flight)

    async def reset(self) -> list:
        """Reset the card (CONTROL.reset), wait until BAR0 answers again, and
        restart the rings from scratch: every entry cleared, indices 0, every
        result slot armed, COALESCE, the result, ring_error and pk interrupts
        and ``RING_CTRL.enable``. Channels stay open (the card keeps
        contexts); the random number generator is uninstantiated (the next
        :meth:`random` instantiates it again).

        Returns a :class:`JobResult` with status ``DriverStatus.LOST_TO_RESET``
        for every job submitted and not collected, in submission order.
        """
        await self.write("CONTROL", BAR0.CONTROL.encode(reset=1))
        ident = await self.read("IDENT")       # the card retries BAR0 accesses until reset completes
        if ident != IDENTITY:
            raise PacError(f"IDENT reads {ident:#010x} after CONTROL.reset; expected {IDENTITY:#010x}")
        status = await self.read_fields("RING_STATUS")
        if status["busy"] or status["aborted"]:
            raise PacError(f"RING_STATUS {status} after CONTROL.reset; expected busy = 0 and aborted = 0")
        self._rng_seeded_by = None
        lost = [JobResult(entry.job.tag, DriverStatus.LOST_TO_RESET, 0, None, entry.job)
                for entry in self._in_flight]
        self._in_flight.clear()
        for result in lost:
            self._free_job_buffers(result.tag)
        self.driver_counters["jobs_lost"] += len(lost)
        for name in RINGS:
            ring = self.rings[name]
            ring.start()
            base, size = getattr(BAR0, f"{name}_RING_BASE"), getattr(BAR0, f"{name}_RING_SIZE")
            await self.write(base.name, base.encode(address=ring.buffer.address))
            await self.write(size.name, size.encode(entries=ring.entries))
        for index in range(self.rings["RES"].entries):
            self.rings["RES"].arm(index)
        await self.set_coalescing(*self._coalesce)
        await self.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1, pk=1))
        await self.write("RING_CTRL", BAR0.RING_CTRL.encode(enable=1))
        return lost

    async def set_coalescing(self, count: int, timeout_clocks: int) -> None:
        """Interrupt after ``count`` results (0 acts as 1) or ``timeout_clocks``
        PCI clocks after the first result not yet signalled (0: no timeout);
        kept across :meth:`reset`."""
        await self.write("COALESCE", encode_fields(BAR0.COALESCE, "coalescing", count=count, timeout=timeout_clocks))
        self._coalesce = (count, timeout_clocks)

    async def kick(self) -> None:
        """Make the card look at the rings again (``RING_CTRL.kick``; enable stays 1)."""
        await self.write("RING_CTRL", BAR0.RING_CTRL.encode(enable=1, kick=1))

    def _room(self) -> dict:
        """Free entries per ring under the driver's policy (see the module doc)."""
        rings = self.rings
        return {"CMD": rings["CMD"].entries - 1 - rings["CMD"].used,
                "SRC": rings["SRC"].entries - rings["SRC"].used,
                "DST": rings["DST"].entries - rings["DST"].used,
                "RES": rings["RES"].entries - len(self._in_flight)}

    def _descriptors(self, job: Job) -> tuple:
        """``(command words without own and tag, source words, destination words)``."""
        def segments(pieces, what):
            words = []
            for i, (address, length) in enumerate(pieces):
                control = encode_fields(SEG.CONTROL, f"{what} segment length", length=length)
                words.append({"CONTROL": control | SEG.CONTROL.encode(last=int(i == len(pieces) - 1), own=1),
                              "ADDRESS": encode_fields(SEG.ADDRESS, f"{what} segment address", address=address)})
            return words
        control = encode_fields(CMD.CONTROL, "command", opcode=job.opcode,
                          cipher_channel=channel_number(job.cipher), mac_channel=channel_number(job.mac),
                          comp_channel=channel_number(job.comp))
        command = {"CONTROL": control, "LENGTH": encode_fields(CMD.LENGTH, "command length", length=job.source_length),
                   "SKIP": encode_fields(CMD.SKIP, "command skip", skip=job.skip)}
        return (command, segments(job.source_segments(), "source"),
                segments(job.destination_segments(), "destination"))

    async def submit(self, jobs) -> list:
        """Hand a batch of :class:`Job` objects to the card: their source and
        destination segment descriptors, then their commands, then one kick.
        Assigns and returns their tags.

        Raises :class:`RingFull` (nothing of the batch written) if the
        command ring, a segment ring or the result slots lack room for the
        whole batch, and :class:`InvalidArgument` for values that do not fit
        a descriptor.
        """
        jobs = _job_list(jobs)
        planned = [self._descriptors(job) for job in jobs]
        need = {"CMD": len(jobs), "SRC": sum(len(p[1]) for p in planned),
                "DST": sum(len(p[2]) for p in planned), "RES": len(jobs)}
        room = self._room()
        short = [f"{name} needs {need[name]} entries, {room[name]} free" for name in need if need[name] > room[name]]
        if short:
            self.driver_counters["ring_full"] += 1
            raise RingFull(f"a batch of {len(jobs)} job(s) does not fit the rings: {'; '.join(short)} "
                           f"({len(self._in_flight)} job(s) in flight); expected results collected first")
        placed = []
        for job, (_, sources, destinations) in zip(jobs, planned):
            job.tag = self._next_tag
            self._next_tag = self._next_tag % 0xFFFF_FFFF + 1
            placed.append((self._place("SRC", sources), self._place("DST", destinations)))
        for job, (command, _, _), (sources, destinations) in zip(jobs, planned, placed):
            self.bus.annotate(job=job.tag, opcode=job.opcode, cipher_channel=channel_number(job.cipher),
                              mac_channel=channel_number(job.mac))
            self._place("CMD", [{**command, "CONTROL": command["CONTROL"] | CMD.CONTROL.encode(own=1),
                                 "TAG": CMD.TAG.encode(tag=job.tag)}])
            data = sum(n for _, n in job.source_segments()) + sum(n for _, n in job.destination_segments())
            self._in_flight.append(_InFlight(job, sources, destinations, data))
        self.driver_counters["jobs_submitted"] += len(jobs)
        await self.kick()
        return [job.tag for job in jobs]

    def _place(self, name: str, entries: list) -> tuple:
        """Write descriptors (``{register: word}`` each) at the next entries of a ring; their indices."""
        ring = self.rings[name]
        indices = tuple(ring.take(len(entries)))
        for index, words in zip(indices, entries):
            ring.write(index, **words)
        return indices

    async def collect(self, timeout_clocks: int | None = None) -> list:
        """Wait for INTA#, acknowledge INT_STATUS.result, and return the
        results the card has written, in ring order (each slot re-armed).
        Results collected earlier by :meth:`run` for other jobs come first,
        without waiting. Returns [] when nothing is in flight.

        ``timeout_clocks`` (default :func:`default_timeout` of the data in
        flight): raises :class:`CardTimeout` if no interrupt with new
        results comes in time. If the card stopped its rings, resets it
        (see :meth:`reset`) and raises :class:`RingAborted`.
        """
        timeout(timeout_clocks)
        async with self._collector:
            if self._unclaimed:
                results, self._unclaimed = self._unclaimed, []
                return results
            return await self._collect(timeout_clocks)

    async def _collect(self, timeout_clocks: int | None) -> list:
        if not self._in_flight:
            return []
        if timeout_clocks is None:
            timeout_clocks = default_timeout(sum(entry.data_bytes for entry in self._in_flight))
        deadline = self.bus.clocks() + timeout_clocks
        while (remaining := deadline - self.bus.clocks()) > 0:
            # Waits are cut into slices so that jobs another caller's reset
            # took (no interrupt will come for them) end the wait.
            if not await self.bus.wait_interrupt(min(remaining, RESET_CHECK_CLOCKS), self._device):
                if not self._in_flight:
                    return []
                continue
            events = await self.read_fields("INT_STATUS")
            if events["ring_error"]:
                await self._ring_aborted()
            if events["result"]:
                await self.write("INT_STATUS", BAR0.INT_STATUS.encode(result=1))
            results = await self._reap()
            if results:
                return results
        raise CardTimeout(await self._timeout_report(timeout_clocks))

    async def _timeout_report(self, timeout_clocks: int) -> str:
        indices = {name: (await self.read_fields(f"{name}_RING_INDEX"))["index"] for name in RINGS}
        return (f"no result signalled within {timeout_clocks} PCI clocks for {len(self._in_flight)} job(s) "
                f"in flight (oldest: {self._in_flight[0].job.describe() if self._in_flight else 'none'}); "
                "expected INTA# with "
                f"INT_STATUS.result (RING_STATUS {await self.read_fields('RING_STATUS')}, ring indices "
                f"{indices}, INT_STATUS {await self.read_fields('INT_STATUS')}, "
                f"INT_ENABLE {await self.read_fields('INT_ENABLE')}, "
                f"COALESCE {await self.read_fields('COALESCE')}, "
                f"interrupt_disable {(await self.config_status())['interrupt_disable']})")

    async def _reap(self) -> list:
        """Read the results the card has written (own = 0), oldest first; re-arm their slots."""
        ring = self.rings["RES"]
        results, seen = [], set()
        while self._in_flight:
            words = ring.read(ring.head)
            status = RESULT.STATUS.decode(words["STATUS"])
            if status["own"]:
                break
            entry = self._in_flight[0]
            tag = RESULT.TAG.decode(words["TAG"])["tag"]
            if tag != entry.job.tag:
                raise PacError(f"result slot {ring.head} holds tag {tag}; expected {entry.job.tag} "
                               f"({entry.job.describe()}, the oldest job in flight: results come in "
                               "command order)")
            echo = (status["opcode"], status["cipher_channel"], status["mac_channel"],
                    RESULT.BYTES.decode(words["BYTES"])["comp_channel"])
            sent = (entry.job.opcode, channel_number(entry.job.cipher), channel_number(entry.job.mac),
                    channel_number(entry.job.comp))
            if echo != sent:
                raise PacError(f"result slot {ring.head} echoes (opcode, cipher channel, MAC channel, "
                               f"compression channel) {echo}; expected {sent} from {entry.job.describe()}")
            try:
                code = ResultStatus(status["status"])
            except ValueError:
                raise PacError(f"result slot {ring.head} holds status {status['status']}; expected a "
                               f"ResultStatus ({entry.job.describe()})") from None
            ring.arm(ring.head)
            ring.head = (ring.head + 1) % ring.entries
            self._in_flight.popleft()
            self._release(entry)
            self._free_job_buffers(tag)
            address = RESULT.ADDRESS.decode(words["ADDRESS"])["address"] if code in _ADDRESSED else None
            results.append(JobResult(tag, code, RESULT.BYTES.decode(words["BYTES"])["bytes"], address, entry.job))
            seen.add(code)
        bits = [bit for code in seen for bit in _STATUS_BITS_OF_RESULT.get(code, ())]
        if bits:
            await self.clear_config_errors(*bits)
        self.driver_counters["results_collected"] += len(results)
        for observer in RESULT_OBSERVERS:
            for result in results:
                observer(result)
        return results

    def _release(self, entry: _InFlight) -> None:
        """Give a collected job's ring entries back (segment entries zeroed)."""
        self.rings["CMD"].used -= 1
        for name, indices in (("SRC", entry.sources), ("DST", entry.destinations)):
            ring = self.rings[name]
            for index in indices:
                ring.write(index)
            ring.used -= len(indices)

    async def _ring_aborted(self):
        status = await self.read_fields("RING_STATUS")
        try:
            abort = ResultStatus(status["abort_status"])
        except ValueError:
            raise PacError(f"RING_STATUS {status}: abort_status is not a ResultStatus") from None
        lost = await self.reset()
        await self.clear_config_errors()
        self.driver_counters["ring_aborts"] += 1
        raise RingAborted(abort, lost)

    async def run(self, jobs, timeout_clocks: int | None = None) -> list:
        """Submit a batch and collect until each of its jobs has a result;
        returns them in submission order. Results of other jobs collected on
        the way are kept for :meth:`collect`. ``timeout_clocks`` applies to
        each wait (default from the data in flight); after a
        :class:`CardTimeout` the jobs stay in flight (collect them later, or
        :meth:`reset`).

        Safe for concurrent callers (tasks of one scheduler): one of them at
        a time waits for INTA# and reaps; results it reaps for the others
        wait for them in the unclaimed list. Jobs another caller's
        :meth:`reset` took come back with status
        ``DriverStatus.LOST_TO_RESET``."""
        jobs = _job_list(jobs)
        timeout(timeout_clocks)
        tags = await self.submit(jobs)
        results = {}
        while len(results) < len(tags):
            async with self._collector:
                mine = [result for result in self._unclaimed if result.tag in tags]
                self._unclaimed = [result for result in self._unclaimed if result.tag not in tags]
                results.update((result.tag, result) for result in mine)
                in_flight = {entry.job.tag for entry in self._in_flight}
                if len(results) < len(tags) and not in_flight & set(tags):
                    # Neither reaped nor in flight: another caller's reset took them.
                    results.update((job.tag, JobResult(job.tag, DriverStatus.LOST_TO_RESET, 0, None, job))
                                   for job in jobs if job.tag not in results)
                elif len(results) < len(tags):
                    for result in await self._collect(timeout_clocks):
                        if result.tag in tags:
                            results[result.tag] = result
                        else:
                            self._unclaimed.append(result)
        return [results[tag] for tag in tags]

    def _give_back(self, job: Job | None, *buffers: DmaBuffer) -> None:
        """Free a one-job call's temporary ``buffers``; while its ``job`` is
        still in flight (the call timed out), they stay the job's until its
        result is collected or the card is reset."""
        if job is not None and any(entry.job is job for entry in self._in_flight):
            self._job_buffers[job.tag] = buffers
            return
        for buffer in buffers:
            self.bus.free(buffer)

    def _free_job_buffers(self, tag: int) -> None:
        """Free the temporary buffers an ended job held (none for most jobs)."""
        for buffer in self._job_buffers.pop(tag, ()):
            self.bus.free(buffer)
