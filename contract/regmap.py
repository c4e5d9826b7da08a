# Ref: README.md, "Register map" (rendered from this file); PCI Local Bus Specification 2.3, section 6.2
"""The card's hardware/software contract: configuration header and BAR0 registers.

This module is the single source of truth for every register offset, field
position, access type and reset value. The CSR block
(:mod:`pacsim.hdl.csr`) is generated from it, the driver and the behavioural
model encode and decode through it, and ``pacsim regmap`` renders it into the
documentation. No offset is typed anywhere else.

- :class:`Access`, :class:`Field`, :class:`Register`, :class:`RegisterMap`:
  the description types (also used by :mod:`.layouts`); :func:`render_enum`
  renders a code enum (:mod:`.codes`) as a Markdown table;
- :data:`PCI_IDS`, :data:`IDENTITY`, :data:`VERSION`, :data:`CONFIG`: identity
  and configuration header;
- :data:`BAR0`, :data:`WINDOWS` (byte offset, bytes per entry),
  :data:`MAX_CHANNELS`: the memory space;
- :data:`RINGS`, :data:`RING_ALIGN` (bytes), :data:`RING_SIZES` (entries): the
  descriptor rings' rules.
"""
import enum
import inspect
from dataclasses import dataclass, field

__all__ = [
    "Access", "Field", "Register", "RegisterMap", "BAR0", "CONFIG", "RINGS", "WINDOWS",
    "MAX_CHANNELS", "IDENTITY", "VERSION", "PCI_IDS", "RING_ALIGN", "RING_SIZES", "render_enum",
]


class Access(enum.Enum):
    """How software may access a field."""
    RO = "ro"        #: read-only; driven by the hardware
    RW = "rw"        #: read/write storage
    RW1C = "rw1c"    #: read; writing 1 clears the bit (event flags)
    W1S = "w1s"      #: write 1 to trigger an action; reads as 0


@dataclass(frozen=True)
class Field:
    """A bit field of a register: ``width`` bits starting at bit ``offset``."""
    name: str
    offset: int
    width: int
    access: Access
    reset: int = 0
    doc: str = ""

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.offset

    def extract(self, value: int) -> int:
        return (value >> self.offset) & ((1 << self.width) - 1)


@dataclass(frozen=True)
class Register:
    """A 32-bit register at a byte ``offset`` made of non-overlapping fields."""
    name: str
    offset: int
    fields: tuple
    doc: str = ""
    _by_name: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})
        used = 0
        for f in self.fields:
            if f.mask & used or f.offset + f.width > 32:
                raise ValueError(f"{self.name}.{f.name}: overlaps or exceeds 32 bits")
            used |= f.mask

    def __getattr__(self, name):
        try:
            return self.__dict__["_by_name"][name]
        except KeyError:
            raise AttributeError(f"register {self.__dict__.get('name')} has no field {name!r}") from None

    @property
    def reset_value(self) -> int:
        return sum(f.reset << f.offset for f in self.fields)

    def encode(self, **values) -> int:
        """Pack field values into a register word; unknown or too-wide values raise."""
        word = 0
        for name, value in values.items():
            f = self._by_name.get(name)
            if f is None:
                raise KeyError(f"register {self.name} has no field {name!r}")
            if not 0 <= int(value) < (1 << f.width):
                raise ValueError(f"{self.name}.{name}={value} does not fit {f.width} bits")
            word |= int(value) << f.offset
        return word

    def decode(self, word: int) -> dict:
        """Unpack a register word into ``{field name: value}``."""
        return {f.name: f.extract(word) for f in self.fields}


class RegisterMap:
    """An ordered set of registers in one address space of ``size`` bytes."""

    def __init__(self, name: str, size: int, registers):
        self.name = name
        self.size = size
        self.registers = tuple(sorted(registers, key=lambda reg: reg.offset))
        self._by_name = {}
        self._by_offset = {}
        for reg in self.registers:
            if reg.offset % 4 or reg.offset >= size or reg.offset in self._by_offset:
                raise ValueError(f"{name}.{reg.name}: bad or duplicate offset {reg.offset:#x}")
            self._by_offset[reg.offset] = reg
            self._by_name[reg.name] = reg

    def __getattr__(self, name):
        try:
            return self.__dict__["_by_name"][name]
        except KeyError:
            raise AttributeError(f"{self.__dict__.get('name')} has no register {name!r}") from None

    def __iter__(self):
        return iter(self.registers)

    def at(self, offset: int):
        """The register at byte ``offset``, or None."""
        return self._by_offset.get(offset)

    def render_markdown(self) -> str:
        """The map as a Markdown table (used by the docs and ``pacsim regmap``)."""
        lines = [f"### {self.name} ({self.size} bytes)", "",
                 "| offset | register | bits | field | access | reset | description |",
                 "|---|---|---|---|---|---|---|"]
        for reg in self.registers:
            lines.append(f"| `{reg.offset:#05x}` | **{reg.name}** | | | | `{reg.reset_value:#010x}` | {reg.doc} |")
            for f in sorted(reg.fields, key=lambda f: -f.offset):
                hi = f.offset + f.width - 1
                bits = f"{hi}:{f.offset}" if f.width > 1 else f"{f.offset}"
                lines.append(f"| | | {bits} | `{f.name}` | {f.access.value} | `{f.reset:#x}` | {f.doc} |")
        return "\n".join(lines) + "\n"


def _member_docs(codes) -> dict:
    """``{member name: its ``#:`` comment}`` from the enum's source (continuation lines joined)."""
    docs, last = {}, None
    for line in inspect.getsource(codes).splitlines():
        code, _, comment = line.partition("#:")
        name = code.split("=")[0].strip()
        if "=" in code and name.isidentifier():
            last = name
            docs[name] = comment.strip()
        elif last and not code.strip() and comment:
            docs[last] += " " + comment.strip()
        else:
            last = None
    return docs


def render_enum(codes, columns=None) -> str:
    """The members of the enum class ``codes`` (value, name, description from their
    ``#:`` comments, and one column per ``{title: function of the member}`` in
    ``columns``) under the first line of its docstring, as a Markdown table."""
    columns = columns or {}
    docs = _member_docs(codes)
    summary = (codes.__doc__ or "").strip().splitlines()[:1]
    titles = ["value", "name", *columns, "description"]
    lines = [f"### {codes.__name__}", "", *summary, *[""] * len(summary),
             "| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for member in codes:
        cells = [f"`{int(member.value)}`", f"`{member.name}`", *(str(f(member)) for f in columns.values()),
                 docs.get(member.name, "")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


RO, RW, RW1C, W1S = Access.RO, Access.RW, Access.RW1C, Access.W1S


#: Identity of the card in PCI configuration space. 0x7AC5 is not assigned by
#: the PCI-SIG: a simulation-only vendor ID, chosen so no real driver binds.
PCI_IDS = {
    "vendor_id": 0x7AC5,
    "device_id": 0x0001,
    "subsystem_vendor_id": 0x7AC5,
    "subsystem_id": 0x0001,
    "revision_id": 0x01,
    "class_code": 0x10_00_00,   # encryption/decryption controller, network and computing
    "interrupt_pin": 1,         # INTA#
    "min_gnt": 0x08,            # units of 250 ns
    "max_lat": 0x00,
}

#: ``IDENT`` reads "PAC1" in ASCII.
IDENTITY = 0x5041_4331
#: Register-map version: bump the minor for additions, the major for changes.
VERSION = (1, 4, 0)

#: Type-0 configuration header: the fields the card implements. Other
#: dwords of the 256-byte space read as 0 and ignore writes.
CONFIG = RegisterMap("Configuration header (type 0)", 256, [
    Register("ID", 0x00, (
        Field("vendor_id", 0, 16, RO, PCI_IDS["vendor_id"], "simulation-only vendor"),
        Field("device_id", 16, 16, RO, PCI_IDS["device_id"], "PAC"),
    ), "Vendor and device ID"),
    Register("COMMAND_STATUS", 0x04, (
        Field("io_space", 0, 1, RO, 0, "no I/O BAR: hard-wired 0"),
        Field("memory_space", 1, 1, RW, 0, "respond to BAR0 memory accesses"),
        Field("bus_master", 2, 1, RW, 0, "allow the card's DMA to master the bus"),
        Field("parity_error_response", 6, 1, RW, 0, "assert PERR# and report data parity errors"),
        Field("serr_enable", 8, 1, RW, 0, "drive SERR# on address parity errors"),
        Field("interrupt_disable", 10, 1, RW, 0, "keep INTA# deasserted"),
        Field("interrupt_status", 19, 1, RO, 0, "an interrupt is pending (before interrupt_disable)"),
        Field("master_data_parity_error", 24, 1, RW1C, 0, "card as master saw PERR# or bad read parity"),
        Field("devsel_timing", 25, 2, RO, 1, "medium DEVSEL#"),
        Field("signaled_target_abort", 27, 1, RW1C, 0, "card as target aborted a transaction"),
        Field("received_target_abort", 28, 1, RW1C, 0, "card's DMA was target-aborted"),
        Field("received_master_abort", 29, 1, RW1C, 0, "card's DMA was master-aborted"),
        Field("signaled_system_error", 30, 1, RW1C, 0, "card asserted SERR#"),
        Field("detected_parity_error", 31, 1, RW1C, 0, "card saw an address or data parity error"),
    ), "Command (bits 15:0) and status (bits 31:16) registers"),
    Register("CLASS_REVISION", 0x08, (
        Field("revision_id", 0, 8, RO, PCI_IDS["revision_id"]),
        Field("class_code", 8, 24, RO, PCI_IDS["class_code"], "0x10 encryption controller"),
    ), "Revision ID and class code"),
    Register("BIST_HEADER_LATENCY_CACHE", 0x0C, (
        Field("cache_line_size", 0, 8, RW, 0, "in dwords; memory read line when set"),
        Field("latency_timer", 8, 8, RW, 0, "bus clocks the card may keep the bus after GNT# is removed"),
        Field("header_type", 16, 8, RO, 0, "type 0, single function"),
    ), "Cache line size, latency timer, header type, BIST"),
    Register("BAR0", 0x10, (
        Field("space", 0, 1, RO, 0, "memory space"),
        Field("type", 1, 2, RO, 0, "32-bit decoder"),
        Field("prefetchable", 3, 1, RO, 0, "registers have side effects"),
        Field("address", 16, 16, RW, 0, "base address, 64 KiB aligned (the BAR size)"),
    ), "Base address register 0: the card's registers"),
    Register("SUBSYSTEM", 0x2C, (
        Field("subsystem_vendor_id", 0, 16, RO, PCI_IDS["subsystem_vendor_id"]),
        Field("subsystem_id", 16, 16, RO, PCI_IDS["subsystem_id"]),
    ), "Subsystem vendor and subsystem ID"),
    Register("INTERRUPT", 0x3C, (
        Field("interrupt_line", 0, 8, RW, 0, "system's routing, not used by the card"),
        Field("interrupt_pin", 8, 8, RO, PCI_IDS["interrupt_pin"], "INTA#"),
        Field("min_gnt", 16, 8, RO, PCI_IDS["min_gnt"]),
        Field("max_lat", 24, 8, RO, PCI_IDS["max_lat"]),
    ), "Interrupt line and pin, MIN_GNT, MAX_LAT"),
])

#: Rings of the crypto datapath, in register order.
RINGS = ("CMD", "SRC", "DST", "RES")
#: Alignment of a ring base the card requires (bytes).
RING_ALIGN = 16
#: Entries a ring may have: the powers of two 2..4096.
RING_SIZES = tuple(1 << n for n in range(1, 13))

#: BAR0 windows: (byte offset, bytes per entry). Each entry is laid out by
#: the map of the same name in :mod:`.layouts`.
WINDOWS = {
    "ALG_COUNTERS": (0x0800, 32),        # one entry per codes.AlgUnit
    "CHANNEL_COUNTERS": (0x1000, 16),    # one entry per channel
    "CONTEXT": (0x8000, 128),            # one entry per channel
    "PK_OPERANDS": (0x4000, 256),        # one entry per pk.ModExpSlot (BASE, EXPONENT, MODULUS,
                                         # RESULT): 64 words, least significant first
}

#: Most channels any build may have (the windows are sized for it).
MAX_CHANNELS = 256


def _ring_registers(index, name):
    base = 0x100 + 0x10 * index
    return [
        Register(f"{name}_RING_BASE", base, (
            Field("address", 0, 32, RW, 0, "host byte address of entry 0, 16-byte aligned"),
        ), f"{name} ring base"),
        Register(f"{name}_RING_SIZE", base + 4, (
            Field("entries", 0, 13, RW, 0, "entries in the ring, a power of two 2..4096"),
        ), f"{name} ring size"),
        Register(f"{name}_RING_INDEX", base + 8, (
            Field("index", 0, 12, RO, 0, "entry the card reads or writes next"),
        ), f"{name} ring index (the card's)"),
    ]


#: BAR0: the card's control and status registers, then the windows above.
BAR0 = RegisterMap("BAR0 registers", 65536, [
    Register("IDENT", 0x000, (
        Field("ident", 0, 32, RO, IDENTITY, 'reads 0x50414331, "PAC1"'),
    ), "Card identity"),
    Register("VERSION", 0x004, (
        Field("patch", 0, 8, RO, VERSION[2]),
        Field("minor", 8, 8, RO, VERSION[1]),
        Field("major", 16, 8, RO, VERSION[0]),
    ), "Register-map version"),
    Register("CAPS", 0x008, (
        Field("copy", 0, 1, RO, 1, "COPY command"),
        Field("crypto", 1, 1, RO, 1, "ENCODE/DECODE commands with cipher and MAC channels"),
        Field("hash", 2, 1, RO, 1, "HASH command: a message of any byte length, its digest or MAC out"),
        Field("compression", 3, 1, RO, 1, "COMPRESS/DECOMPRESS commands (LZS) with compression channels"),
        Field("pk", 4, 1, RO, 1, "public-key unit (PK_* registers, PK_OPERANDS window)"),
        Field("rng", 5, 1, RO, 1, "random number generator (RNG_* registers)"),
        Field("chained", 6, 1, RO, 1, "ENCODE/DECODE chained with a compression channel"),
        Field("burst_words", 8, 8, RO, 0, "DMA burst, 32-bit words (build parameter)"),
    ), "Capabilities of this build"),
    Register("SCRATCH", 0x00C, (
        Field("scratch", 0, 32, RW, 0, "free for software; bus tests"),
    ), "Scratch register"),
    Register("CONTROL", 0x010, (
        Field("reset", 0, 1, W1S, 0, "reset the card's engines, rings, registers and counters (not "
              "config space, not channel contexts); BAR0 accesses are retried until it completes"),
    ), "Card control"),
    Register("INT_STATUS", 0x014, (
        Field("result", 0, 1, RW1C, 0, "results were written (after coalescing, see COALESCE)"),
        Field("ring_error", 1, 1, RW1C, 0, "the rings stopped on a descriptor transfer error"),
        Field("pk", 2, 1, RW1C, 0, "the public-key unit finished an operation (any PK_STATUS.status)"),
    ), "Interrupt status: INTA# is asserted while (INT_STATUS & INT_ENABLE) != 0"),
    Register("INT_ENABLE", 0x018, (
        Field("result", 0, 1, RW, 0),
        Field("ring_error", 1, 1, RW, 0),
        Field("pk", 2, 1, RW, 0),
    ), "Interrupt enable"),
    Register("CHANNELS", 0x01C, (
        Field("count", 0, 9, RO, 0, "channels of this build (build parameter, at most 256)"),
    ), "Channel count"),
    Register("RING_CTRL", 0x020, (
        Field("kick", 0, 1, W1S, 0, "new commands or free result slots: look at the rings again"),
        Field("enable", 1, 1, RW, 0, "process the rings; cleared, the card stops after the current job"),
    ), "Ring control"),
    Register("RING_STATUS", 0x024, (
        Field("busy", 0, 1, RO, 0, "a job is being processed"),
        Field("cmd_empty", 1, 1, RO, 0, "idle: the next command is not owned by the card"),
        Field("result_full", 2, 1, RO, 0, "waiting: the next result slot is not owned by the card"),
        Field("aborted", 3, 1, RO, 0, "stopped: a descriptor transfer failed (CONTROL.reset restarts)"),
        Field("abort_status", 8, 8, RO, 0, "ResultStatus of the transfer that stopped the rings"),
    ), "Ring status"),
    Register("COALESCE", 0x028, (
        Field("count", 0, 8, RW, 1, "results per interrupt (0 acts as 1)"),
        Field("timeout", 8, 24, RW, 0, "PCI clocks after a result before interrupting anyway (0: none)"),
    ), "Result interrupt coalescing"),
    Register("JOBS", 0x02C, (
        Field("count", 0, 32, RO, 0, "results written since reset"),
    ), "Job counter"),
    *[reg for i, name in enumerate(RINGS) for reg in _ring_registers(i, name)],
    Register("DMA_RETRIES", 0x040, (
        Field("count", 0, 32, RO, 0, "target retries seen by the card's master since reset"),
    ), "Retry counter"),
    Register("DMA_DISCONNECTS", 0x044, (
        Field("count", 0, 32, RO, 0, "target disconnects seen by the card's master since reset"),
    ), "Disconnect counter"),
    Register("DMA_LATENCY_EXPIRIES", 0x048, (
        Field("count", 0, 32, RO, 0, "bursts ended by the latency timer after GNT# was removed"),
    ), "Latency-timer counter"),
    Register("DMA_TRANSACTIONS", 0x04C, (
        Field("count", 0, 32, RO, 0, "bus transactions started by the card's master since reset"),
    ), "Transaction counter"),
    Register("PCI_PARITY_ERRORS", 0x050, (
        Field("count", 0, 32, RO, 0, "address and data parity errors detected by the card"),
    ), "Parity error counter"),
    Register("TEST_CONTROL", 0x054, (
        Field("rng_fault", 0, 2, RW, 0, "DrbgFault forced on the RNG's health tests while set "
              "(the engine's inject_fault): 1 CORRUPT_KAT flips bit 0 of the known-answer self-test's blocks, "
              "so the next INSTANTIATE fails; 2 STUCK_OUTPUT replaces each GENERATE block (RNG_CONTROL or a "
              "RANDOM job) by the previous one, so the continuous test fails the next GENERATE on its first "
              "block; 0 and 3: none. A failure zeroizes the generator: RNG_STATUS.status HEALTH_FAILED, "
              "every command refused, until CONTROL.reset or RST# (clearing this field does not heal it)"),
    ), "Test control: fault injection to verify the health tests (FIPS 140 self-test verification); "
       "0 in service, and CONTROL.reset and RST# clear it"),
    Register("PK_CONTROL", 0x060, (
        Field("start", 0, 1, W1S, 0, "start base^exponent mod modulus from the PK_OPERANDS slots"),
        Field("abort", 1, 1, W1S, 0, "stop a running operation (status ABORTED)"),
    ), "Public-key unit control"),
    Register("PK_SIZE", 0x064, (
        Field("words", 0, 8, RW, 0, "modulus size in 32-bit words (1..PK_STATUS.max_words; 16 for 512 bits)"),
        Field("exp_bits", 16, 12, RW, 0, "exponent length in bits (its top bit need not be 1; 0: result 1)"),
    ), "Public-key operand sizes"),
    Register("PK_WATCHDOG", 0x068, (
        Field("clocks", 0, 32, RW, 0x0400_0000, "PCI clocks an operation may take before it is stopped "
              "(status TIMEOUT); 0: no limit"),
    ), "Public-key watchdog"),
    Register("PK_STATUS", 0x06C, (
        Field("busy", 0, 1, RO, 0, "an operation is running (the operand window is read-only)"),
        Field("status", 8, 3, RO, 0, "ModExpStatus of the last operation"),
        Field("max_words", 16, 8, RO, 0, "largest modulus, 32-bit words (build parameter)"),
    ), "Public-key status"),
    Register("PK_CLOCKS", 0x070, (
        Field("clocks", 0, 32, RO, 0, "PCI clocks the last operation took (start to done)"),
    ), "Public-key operation time"),
    Register("RNG_CONTROL", 0x074, (
        Field("command", 0, 2, RW, 0, "DrbgCommand run by start"),
        Field("start", 2, 1, W1S, 0, "run command (GENERATE: one 128-bit block into RNG_OUTPUT)"),
    ), "Random number generator control"),
    Register("RNG_STATUS", 0x078, (
        Field("busy", 0, 1, RO, 0, "a command or the power-on self-test is running"),
        Field("ready", 1, 1, RO, 0, "instantiated, healthy and within the reseed interval"),
        Field("valid", 2, 1, RO, 0, "RNG_OUTPUT holds the block of the last GENERATE (cleared by start)"),
        Field("status", 8, 3, RO, 0, "DrbgStatus of the last command"),
    ), "Random number generator status"),
    *[Register(f"RNG_OUTPUT{i}", 0x080 + 4 * i, (
        Field("bytes", 0, 32, RO, 0, "output bytes, little-endian (byte 0 of the block in RNG_OUTPUT0[7:0])"),),
        f"Generated block bytes {4 * i}..{4 * i + 3}") for i in range(4)],
    *[Register(f"RNG_SEED{i}", 0x090 + 4 * i, (
        Field("bytes", 0, 32, RW, 0, "seed material bytes, little-endian"),),
        f"Seed material bytes {4 * i}..{4 * i + 3} (INSTANTIATE, RESEED)") for i in range(12)],
])
