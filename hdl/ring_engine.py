# Ref: docs/rings.md (the ring protocol this engine implements)
"""The ring engine: fetches commands and segment descriptors, validates jobs,
streams their data through the datapath by bus-master DMA, and writes results.

It owns the card's :class:`~.pci_master.PciMaster` command port. Descriptor
transfers use a 4-dword scratch buffer; data transfers fill the
:class:`~.stream_buffer.InBuffer` and drain the
:class:`~.stream_buffer.OutBuffer` in bursts of at most ``burst`` dwords,
writes first (so the datapath never starves for room), reads whenever the
input buffer has room for a whole burst, and once all input is in the
engines writes whatever output is ready, so DMA overlaps the engines.

Ports (``sync``):

=========================== ===== ======================================================
port                        dir   meaning
=========================== ===== ======================================================
``enable`` ``kick``         In    RING_CTRL.enable; RING_CTRL.kick (pulse)
``bus_master``              In    COMMAND.bus_master: jobs start only while it is set
``<r>_base`` ``<r>_size``   In    ring base (bytes) and entries, r in cmd/src/dst/res
``<r>_index``               Out   the card's next entry of each ring
``busy`` ``cmd_empty``      Out   RING_STATUS fields
``result_full`` ``aborted`` Out
``abort_status``            Out   ResultStatus of the transfer that stopped the rings
``result``                  Out   pulse: a result descriptor was written
``m_*``                     Out/In the master's command port and status
``scratch_*``               In/Out the master's buffer port when it targets the scratch
``in_*`` ``out_*``          Out/In commit/flush/count/free of the data buffers
``buffer_select``           Out   which buffer the master's burst uses (BufferSelect)
``cipher_channel``          Out   channels named by the current command, to the channel
``mac_channel``                   store; ``*_context`` In: their contexts;
``comp_channel``                  ``comp_config`` In: the compression channel's CONFIG
``job_*``                   Out   job parameters and ``job_start`` to the datapath,
                                  ``job_abort`` (reset it after a failed transfer),
                                  ``job_limit`` (bytes the destination takes);
                                  ``job_done``/``job_status`` (a ResultStatus: OK,
                                  MAC_MISMATCH, a stream error, RNG_FAILED)/
                                  ``job_out_bytes`` (exact output of variable-length
                                  jobs) In from it
``count_*``                 Out   counter additions (see :class:`~.channel_store.CounterBank`)
=========================== ===== ======================================================
"""
from contextlib import contextmanager

from amaranth import Array, Const, Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out

from ..contract.codes import MAX_SEGMENTS, Opcode, ResultStatus
from ..contract.layouts import CMD, RESULT, SEG
from .channel_store import CONTEXT_BITS
from .job_check import JobCheck, count_plan
from .pci_master import MasterStatus

__all__ = ["RingEngine", "BufferSelect"]


class BufferSelect(enum.Enum, shape=2):
    SCRATCH = 0
    IN = 1
    OUT = 2


def _pack(register, **values):
    """A register word with the given field values in place (0 elsewhere)."""
    word = Const(0, 32)
    for name, value in values.items():
        f = getattr(register, name)
        word = word | (value[:f.width].as_unsigned() << f.offset)
    return word[:32]


def _ring_ok(base, size):
    """A usable ring: base 16-byte aligned, size a power of two in 2..4096."""
    return (base[:4] == 0) & (size >= 2) & (size <= 4096) & ((size & (size - 1)) == 0)


def _field(register, name, word):
    f = getattr(register, name)
    return word[f.offset:f.offset + f.width]


class RingEngine(wiring.Component):
    def __init__(self, burst: int, buffer_words: int, counter_bits: int):
        self.burst = burst
        bw = burst.bit_length()
        cw = (buffer_words - 1).bit_length() + 1
        ports = {
            "enable": In(1), "kick": In(1), "bus_master": In(1),
            "busy": Out(1), "cmd_empty": Out(1), "result_full": Out(1), "aborted": Out(1),
            "abort_status": Out(8), "result": Out(1),
            "m_start": Out(1), "m_write": Out(1), "m_address": Out(32), "m_words": Out(bw),
            "m_done": In(1), "m_status": In(MasterStatus), "m_error_address": In(32),
            "m_moved": In(bw), "m_parity_error": In(1),
            "scratch_addr": In(bw), "scratch_we": In(1), "scratch_wdata": In(32),
            "scratch_rdata": Out(32),
            "buffer_select": Out(BufferSelect),
            "in_commit": Out(1), "in_free": In(cw), "in_count": In(cw), "in_flush": Out(1),
            "out_commit": Out(1), "out_count": In(cw), "out_flush": Out(1),
            "commit_words": Out(bw),
            "cipher_channel": Out(8), "mac_channel": Out(8), "comp_channel": Out(8),
            "cipher_context": In(CONTEXT_BITS), "mac_context": In(CONTEXT_BITS), "comp_config": In(32),
            "job_start": Out(1), "job_opcode": Out(4), "job_length": Out(24),
            "job_skip_words": Out(14), "job_cipher": Out(1), "job_mac": Out(1), "job_comp": Out(1),
            "job_icv_words": Out(3), "job_limit": Out(24),
            "job_done": In(1), "job_status": In(8), "job_out_bytes": In(24),
            "job_abort": Out(1),
            "channels": In(9),
            "count_add": Out(1), "count_bank": Out(1), "count_addr": Out(counter_bits),
            "count_value": Out(32), "jobs": Out(32),
        }
        for ring in ("cmd", "src", "dst", "res"):
            ports[f"{ring}_base"] = In(32)
            ports[f"{ring}_size"] = In(13)
            ports[f"{ring}_index"] = Out(12)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        burst = self.burst

        # --- scratch buffer for descriptor transfers (one clock read latency)
        scratch = Array(Signal(32, name=f"scratch{i}") for i in range(4))
        with m.If(self.scratch_we):
            m.d.sync += scratch[self.scratch_addr[:2]].eq(self.scratch_wdata)
        m.d.sync += self.scratch_rdata.eq(scratch[self.scratch_addr[:2]])

        # --- the current command
        cmd_word = [Signal(32, name=f"cmd_word{i}") for i in range(4)]
        opcode = _field(CMD.CONTROL, "opcode", cmd_word[0])
        cipher_channel = _field(CMD.CONTROL, "cipher_channel", cmd_word[0])
        mac_channel = _field(CMD.CONTROL, "mac_channel", cmd_word[0])
        comp_channel = _field(CMD.CONTROL, "comp_channel", cmd_word[0])
        length = _field(CMD.LENGTH, "length", cmd_word[1])
        skip = _field(CMD.SKIP, "skip", cmd_word[2])
        m.d.comb += [self.cipher_channel.eq(cipher_channel), self.mac_channel.eq(mac_channel),
                     self.comp_channel.eq(comp_channel)]

        # --- segment tables
        seg_addr = {d: Array(Signal(32, name=f"{d}_seg_addr{i}") for i in range(MAX_SEGMENTS))
                    for d in ("src", "dst")}
        seg_len = {d: Array(Signal(24, name=f"{d}_seg_len{i}") for i in range(MAX_SEGMENTS))
                   for d in ("src", "dst")}
        seg_count = Signal(13)           # descriptors read for this job in this ring
        src_total = Signal(28)
        dst_total = Signal(28)
        bad_descriptor = Signal()

        # --- validation (combinational, from the command, segments and contexts)
        m.submodules.check = check = JobCheck()
        m.d.comb += [
            check.opcode.eq(opcode), check.length.eq(length), check.skip.eq(skip),
            check.cipher_channel.eq(cipher_channel), check.mac_channel.eq(mac_channel),
            check.comp_channel.eq(comp_channel), check.comp_config.eq(self.comp_config),
            check.cipher_context.eq(self.cipher_context), check.mac_context.eq(self.mac_context),
            check.channels.eq(self.channels), check.src_total.eq(src_total),
            check.dst_total.eq(dst_total),
        ]
        m.d.comb += [
            self.job_opcode.eq(opcode), self.job_length.eq(length),
            self.job_skip_words.eq(skip[2:]), self.job_cipher.eq(check.use_cipher),
            self.job_mac.eq(check.use_mac), self.job_icv_words.eq(check.icv_bytes[2:]),
            self.job_limit.eq(check.out_bytes), self.job_comp.eq(check.use_comp),
        ]
        # Output of unknown length (or none, if the RNG refuses): the job ends when the datapath is done.
        variable = ((opcode == Opcode.COMPRESS) | (opcode == Opcode.DECOMPRESS) | (opcode == Opcode.RANDOM) |
                    check.chained)
        status = Signal(8)
        out_bytes = Signal(24)          # bytes written to the destination
        exact = Signal()                # RESULT.BYTES is the datapath's exact count (variable jobs)
        error_address = Signal(32)

        # --- ring indices
        index = {}
        for ring in ("cmd", "src", "dst", "res"):
            index[ring] = getattr(self, f"{ring}_index")

        def advance(ring):
            size = getattr(self, f"{ring}_size")
            m.d.sync += index[ring].eq(Mux(index[ring] + 1 >= size, 0, index[ring] + 1))

        def entry(ring, nbytes):
            return getattr(self, f"{ring}_base") + index[ring] * nbytes

        def master(write, address, words, select=BufferSelect.SCRATCH):
            m.d.comb += [self.m_start.eq(1), self.m_write.eq(write), self.m_address.eq(address),
                         self.m_words.eq(words)]
            m.d.sync += self.buffer_select.eq(select)

        failed = self.m_status != MasterStatus.OK
        bus_status = Mux(self.m_status == MasterStatus.MASTER_ABORT,
                         ResultStatus.MASTER_ABORT, ResultStatus.TARGET_ABORT)

        @contextmanager
        def descriptor_done():
            """When a descriptor transfer ends: a bus error stops the rings,
            otherwise the body runs."""
            with m.If(self.m_done):
                with m.If(failed):
                    m.d.sync += self.abort_status.eq(bus_status)
                    m.next = "ABORTED"
                with m.Else():
                    yield

        kicked = Signal()
        with m.If(self.kick):
            m.d.sync += kicked.eq(1)

        # --- data movement state
        src_seg = Signal(range(MAX_SEGMENTS))
        dst_seg = Signal(range(MAX_SEGMENTS))
        src_seg_left = Signal(22)        # dwords left in the current source segment
        dst_seg_left = Signal(22)
        src_left = Signal(23)            # dwords still to read
        out_left = Signal(22)            # dwords still to write
        src_ptr = Signal(32)
        dst_ptr = Signal(32)
        parity = Signal()
        with m.If(self.m_parity_error):
            m.d.sync += parity.eq(1)

        def moved(side, ptr, seg, seg_left, left):
            """Account a burst's dwords on one side; step to the next segment at its end."""
            m.d.sync += [ptr.eq(ptr + (self.m_moved << 2)), left.eq(left - self.m_moved)]
            with m.If(seg_left == self.m_moved):
                m.d.sync += [seg.eq(seg + 1), ptr.eq(seg_addr[side][seg + 1]),
                             seg_left.eq(seg_len[side][seg + 1][2:])]
            with m.Else():
                m.d.sync += seg_left.eq(seg_left - self.m_moved)

        def smaller(a, b):
            return Mux(a < b, a, b)

        read_words = Signal(range(burst + 1))
        write_words = Signal(range(burst + 1))
        m.d.comb += [
            read_words.eq(smaller(smaller(src_seg_left, src_left), burst)),
            write_words.eq(smaller(smaller(dst_seg_left, out_left), burst)),
        ]

        # --- counting a finished job: JOBS, then per-channel and per-unit counters
        plan = count_plan(check, status, opcode, cipher_channel, mac_channel, comp_channel,
                          self.channels, len(self.count_addr))
        count_step = Signal(range(len(plan) + 1))

        m.d.comb += self.busy.eq(0)
        with m.FSM(name="ring"):
            with m.State("IDLE"):
                with m.If(self.enable & self.bus_master & kicked):
                    m.d.sync += self.cmd_empty.eq(0)
                    m.next = "FETCH_CMD"

            with m.State("FETCH_CMD"):
                with m.If(~(_ring_ok(self.cmd_base, self.cmd_size) & _ring_ok(self.src_base, self.src_size) &
                            _ring_ok(self.dst_base, self.dst_size) & _ring_ok(self.res_base, self.res_size))):
                    m.d.sync += self.abort_status.eq(ResultStatus.BAD_DESCRIPTOR)
                    m.next = "ABORTED"
                with m.Else():
                    m.d.sync += kicked.eq(0)
                    master(0, entry("cmd", CMD.size), 4)
                    m.next = "FETCH_CMD_WAIT"
            with m.State("FETCH_CMD_WAIT"):
                with descriptor_done():
                    with m.If(~_field(CMD.CONTROL, "own", scratch[0])):
                        m.d.sync += self.cmd_empty.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [w.eq(scratch[i]) for i, w in enumerate(cmd_word)]
                        m.d.sync += [seg_count.eq(0), bad_descriptor.eq(0), dst_total.eq(0),
                                     src_total.eq(0),
                                     status.eq(ResultStatus.OK), out_bytes.eq(0), exact.eq(0),
                                     error_address.eq(0), parity.eq(0)]
                        with m.If(_field(CMD.CONTROL, "opcode", scratch[0]) == Opcode.RANDOM):
                            m.next = "FETCH_DST"        # RANDOM has no source segments
                        with m.Else():
                            m.next = "FETCH_SRC"

            for ring, nxt in (("src", "FETCH_DST"), ("dst", "CHECK")):
                with m.State(f"FETCH_{ring.upper()}"):
                    m.d.comb += self.busy.eq(1)
                    master(0, entry(ring, SEG.size), 2)
                    m.next = f"FETCH_{ring.upper()}_WAIT"
                with m.State(f"FETCH_{ring.upper()}_WAIT"):
                    m.d.comb += self.busy.eq(1)
                    seg_length = _field(SEG.CONTROL, "length", scratch[0])
                    seg_address = scratch[1]
                    with descriptor_done():
                        with m.If(~_field(SEG.CONTROL, "own", scratch[0])):
                            # Not ours: the job fails, the descriptor stays.
                            m.d.sync += [bad_descriptor.eq(1), seg_count.eq(0)]
                            m.next = nxt if ring == "dst" else "FETCH_DST"
                        with m.Else():
                            advance(ring)
                            with m.If(seg_count < MAX_SEGMENTS):
                                m.d.sync += [seg_addr[ring][seg_count].eq(seg_address),
                                             seg_len[ring][seg_count].eq(seg_length)]
                            with m.Else():
                                m.d.sync += bad_descriptor.eq(1)
                            with m.If((seg_length == 0) | (seg_length[:2] != 0) | (seg_address[:2] != 0)):
                                m.d.sync += bad_descriptor.eq(1)
                            total = dst_total if ring == "dst" else src_total
                            m.d.sync += total.eq(total + seg_length)
                            with m.If(_field(SEG.CONTROL, "last", scratch[0])):
                                m.d.sync += seg_count.eq(0)
                                m.next = nxt
                            with m.Elif(seg_count + 1 >= getattr(self, f"{ring}_size")):
                                # A ring's worth without a last one: give up on this job.
                                m.d.sync += [bad_descriptor.eq(1), seg_count.eq(0)]
                                m.next = nxt
                            with m.Else():
                                m.d.sync += seg_count.eq(seg_count + 1)
                                m.next = f"FETCH_{ring.upper()}"

            with m.State("CHECK"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += status.eq(Mux(bad_descriptor, ResultStatus.BAD_DESCRIPTOR, check.status))
                m.next = "SLOT"

            with m.State("SLOT"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += kicked.eq(0)
                master(0, entry("res", RESULT.size), 1)
                m.next = "SLOT_WAIT"
            with m.State("SLOT_WAIT"):
                m.d.comb += self.busy.eq(1)
                with descriptor_done():
                    with m.If(~_field(RESULT.STATUS, "own", scratch[0])):
                        m.d.sync += self.result_full.eq(1)
                        m.next = "SLOT_FULL"
                    with m.Elif(status == ResultStatus.OK):
                        m.d.comb += self.job_start.eq(1)
                        m.d.sync += [
                            src_seg.eq(0), dst_seg.eq(0),
                            src_seg_left.eq(seg_len["src"][0][2:]), dst_seg_left.eq(seg_len["dst"][0][2:]),
                            src_ptr.eq(seg_addr["src"][0]), dst_ptr.eq(seg_addr["dst"][0]),
                            src_left.eq((length + 3)[2:]), out_left.eq(check.out_bytes[2:]),
                        ]
                        m.next = "MOVE"
                    with m.Else():
                        m.next = "RESULT"
            with m.State("SLOT_FULL"):
                m.d.comb += self.busy.eq(1)
                with m.If(kicked):
                    m.d.sync += self.result_full.eq(0)
                    m.next = "SLOT"

            with m.State("MOVE"):
                m.d.comb += self.busy.eq(1)
                with m.If((write_words != 0) & (self.out_count >= write_words)):
                    master(1, dst_ptr, write_words, BufferSelect.OUT)
                    m.next = "MOVE_WRITE"
                with m.Elif((read_words != 0) & (self.in_free >= read_words)):
                    master(0, src_ptr, read_words, BufferSelect.IN)
                    m.next = "MOVE_READ"
                with m.Elif((write_words != 0) & (self.out_count != 0) & (src_left == 0) &
                            (self.in_count == 0)):
                    # All input is in the engines: write what is ready rather
                    # than wait for the rest (the MAC's tail) to fill a burst.
                    master(1, dst_ptr, self.out_count, BufferSelect.OUT)
                    m.next = "MOVE_WRITE"
                with m.Elif(Mux(variable, self.out_count == 0, out_left == 0) & self.job_done):
                    m.d.sync += exact.eq(variable)
                    with m.If(parity):
                        m.d.sync += status.eq(ResultStatus.PARITY)
                    with m.Elif(self.job_status != ResultStatus.OK):
                        m.d.sync += status.eq(self.job_status)
                    m.next = "RESULT"

            with m.State("MOVE_READ"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.m_done):
                    m.d.comb += [self.in_commit.eq(~failed), self.commit_words.eq(self.m_moved)]
                    with m.If(failed):
                        m.d.sync += [status.eq(bus_status), error_address.eq(self.m_error_address)]
                        m.next = "JOB_FAILED"
                    with m.Else():
                        moved("src", src_ptr, src_seg, src_seg_left, src_left)
                        m.next = "MOVE"

            with m.State("MOVE_WRITE"):
                m.d.comb += self.busy.eq(1)
                with m.If(self.m_done):
                    m.d.comb += [self.out_commit.eq(1), self.commit_words.eq(self.m_moved)]
                    m.d.sync += out_bytes.eq(out_bytes + (self.m_moved << 2))
                    with m.If(failed):
                        m.d.sync += [status.eq(bus_status), error_address.eq(self.m_error_address)]
                        m.next = "JOB_FAILED"
                    with m.Else():
                        moved("dst", dst_ptr, dst_seg, dst_seg_left, out_left)
                        m.next = "MOVE"

            with m.State("JOB_FAILED"):
                m.d.comb += [self.busy.eq(1), self.in_flush.eq(1), self.out_flush.eq(1),
                             self.job_abort.eq(1)]
                m.next = "RESULT"

            with m.State("RESULT"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [
                    scratch[0].eq(_pack(RESULT.STATUS, status=status, cipher_channel=cipher_channel,
                                        mac_channel=mac_channel, opcode=opcode)),
                    scratch[1].eq(cmd_word[3]),
                    scratch[2].eq(_pack(RESULT.BYTES, bytes=Mux(exact, self.job_out_bytes, out_bytes),
                                        comp_channel=comp_channel)),
                    scratch[3].eq(error_address),
                    count_step.eq(0),
                ]
                m.next = "COUNT"
            with m.State("RESULT_WRITE"):
                m.d.comb += self.busy.eq(1)
                master(1, entry("res", RESULT.size), 4)
                m.next = "RESULT_WAIT"
            with m.State("RESULT_WAIT"):
                m.d.comb += self.busy.eq(1)
                with descriptor_done():
                    m.d.comb += self.result.eq(1)
                    m.d.sync += self.jobs.eq(self.jobs + 1)
                    advance("res")
                    m.d.sync += scratch[0].eq(cmd_word[0] & ~(1 << CMD.CONTROL.own.offset))
                    m.next = "RELEASE_CMD"
            with m.State("RELEASE_CMD"):
                m.d.comb += self.busy.eq(1)
                master(1, entry("cmd", CMD.size), 1)
                m.next = "RELEASE_WAIT"
            with m.State("RELEASE_WAIT"):
                m.d.comb += self.busy.eq(1)
                with descriptor_done():
                    advance("cmd")
                    with m.If(self.enable & self.bus_master):
                        m.next = "FETCH_CMD"
                    with m.Else():
                        m.next = "IDLE"

            with m.State("COUNT"):
                m.d.comb += self.busy.eq(1)
                additions = plan
                with m.Switch(count_step):
                    for i, (enable, bank, addr, value) in enumerate(additions):
                        with m.Case(i):
                            m.d.comb += [self.count_add.eq(enable), self.count_bank.eq(bank),
                                         self.count_addr.eq(addr), self.count_value.eq(value)]
                m.d.sync += count_step.eq(count_step + 1)
                with m.If(count_step == len(additions) - 1):
                    # Counters first, so they agree with every result the host can see.
                    m.next = "RESULT_WRITE"

            with m.State("ABORTED"):
                m.d.sync += self.aborted.eq(1)

        return m
