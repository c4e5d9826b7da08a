# Ref: docs/regress.md "Campaign files"; sim/vip/hostmem.py (the host-memory target's settings)
"""Campaigns declared as data: one TOML file per campaign in ``campaigns/``.

A campaign file holds ``description``, ``seeds`` (the default of
``--seeds``), named card builds (``[builds.NAME]``: ``burst_words``, and
``channels`` for the model or ``hostmem_kib`` for the RTL bench) and
``[[cells]]`` tables, each a family of cells: ``name``, ``kind`` (``check``:
driver-suite checks named in ``checks``; ``fuzz``: the ISAKMP fuzz with
``messages`` per cell; ``traffic``: two routers passing ``packets`` UDP datagrams each way),
``simulators`` (``model``, ``verilator``, ``icarus``), ``builds``,
``memories`` (:data:`~.memory.MEMORY_PROFILES`) and optionally ``seeds``,
at most that many seeds for the family (RTL cells are costly).

A cell is one point of simulator x build x memory x seed of a family; its
id ``CAMPAIGN/FAMILY/SIMULATOR/BUILD/MEMORY/SEED`` is unique in a campaign
and is all ``pacsim regress --rerun`` needs.

The memory axis (:data:`MEMORY_PROFILES`, settings of
:meth:`RtlBus.configure_memory`, see ``sim/vip/hostmem.py``): ``zero_wait``,
every transaction accepted at once; ``slow_random``, slow DEVSEL#, random
wait states, some retries and disconnects; ``medium_retry_disconnect``, a
storm of retries and disconnects. The model bus has only ``zero_wait`` (its
costs are fixed: :mod:`pacsim.sim.pci_costs`). Target aborts are not a
whole-run behaviour (every job would fail): the checks that need them set an
``abort_range`` themselves.
"""
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["CAMPAIGN_DIR", "KINDS", "SIMULATORS", "MEMORY_PROFILES", "MODEL_MEMORY", "Campaign", "Cell",
           "campaign_names", "load_campaign", "cell_from_id", "memory_settings"]

#: Where the campaign files live.
CAMPAIGN_DIR = Path(__file__).with_name("campaigns")
#: Cell kinds (see the module docstring).
KINDS = ("check", "fuzz", "traffic")
#: The simulator axis: the behavioural model and the two RTL simulators.
SIMULATORS = ("model", "verilator", "icarus")
#: Build parameters each simulator takes.
BUILD_PARAMETERS = {"model": ("burst_words", "channels"), "verilator": ("burst_words", "hostmem_kib"),
                    "icarus": ("burst_words", "hostmem_kib")}

#: Settings of each behaviour; ``seed`` is the profile's default LFSR seed.
MEMORY_PROFILES = {
    "zero_wait": {},
    "slow_random": {"devsel_speed": 2, "seed": 7, "wait_rate": 96, "initial_wait": 3,
                    "retry_rate": 48, "disconnect_rate": 24},
    "medium_retry_disconnect": {"devsel_speed": 1, "seed": 1234, "wait_rate": 32,
                                "retry_rate": 128, "disconnect_rate": 64},
}
#: The one behaviour the model bus has.
MODEL_MEMORY = "zero_wait"


def memory_settings(name: str, seed: int | None = None) -> dict:
    """The settings of behaviour ``name``; a cell's ``seed`` (an int) replaces
    the profile's LFSR seed, so each cell sees other waits and retries."""
    if name not in MEMORY_PROFILES:
        raise ValueError(f"unknown host-memory behaviour {name!r}; expected one of {', '.join(MEMORY_PROFILES)}")
    settings = dict(MEMORY_PROFILES[name])
    if settings and seed is not None:
        settings["seed"] = 1 + seed % 0xFFFF
    return settings


@dataclass(frozen=True)
class Cell:
    """One cell: the family's ``params`` (checks, messages, sizes), on
    ``simulator`` with build ``build`` (``build_params``), host memory
    ``memory``, seed ``seed``."""
    campaign: str
    family: str
    kind: str
    simulator: str
    build: str
    memory: str
    seed: int
    build_params: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.campaign}/{self.family}/{self.simulator}/{self.build}/{self.memory}/{self.seed}"

    @property
    def configuration(self) -> str:
        """The build as text, e.g. ``small(burst_words=16,channels=4)``."""
        return f"{self.build}({','.join(f'{k}={v}' for k, v in sorted(self.build_params.items()))})"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Campaign:
    """A loaded campaign file (see the module docstring)."""
    name: str
    description: str
    seeds: int
    builds: dict
    families: list

    def cells(self, seeds: int | None = None) -> list:
        """Every cell for seeds ``0 .. seeds-1`` (default: the file's ``seeds``)."""
        seeds = self.seeds if seeds is None else seeds
        cells = []
        for seed in range(seeds):
            for family in self.families:
                if seed >= family.get("seeds", seeds):
                    continue
                for simulator in family["simulators"]:
                    for build in family["builds"]:
                        for memory in family["memories"]:
                            cells.append(self._cell(family, simulator, build, memory, seed))
        return cells

    def _cell(self, family, simulator, build, memory, seed) -> Cell:
        params = {k: v for k, v in self.builds[build].items() if k in BUILD_PARAMETERS[simulator]}
        extra = {k: v for k, v in family.items() if k in ("checks", "messages", "packets")}
        return Cell(self.name, family["name"], family["kind"], simulator, build, memory, seed, params, extra)

    def cell(self, cell_id: str) -> Cell:
        """The cell named by ``cell_id`` (any seed, also beyond ``seeds``)."""
        parts = cell_id.split("/")
        if len(parts) != 6 or parts[0] != self.name:
            raise ValueError(f"cell id {cell_id!r}: expected {self.name}/FAMILY/SIMULATOR/BUILD/MEMORY/SEED")
        _, name, simulator, build, memory, seed = parts
        family = next((f for f in self.families if f["name"] == name), None)
        if family is None:
            raise ValueError(f"cell id {cell_id!r}: campaign {self.name} has no family {name!r}")
        for axis, value, values in (("simulator", simulator, family["simulators"]),
                                    ("build", build, family["builds"]), ("memory", memory, family["memories"])):
            if value not in values:
                raise ValueError(f"cell id {cell_id!r}: family {name} has no {axis} {value!r} ({', '.join(values)})")
        if not seed.isdigit():
            raise ValueError(f"cell id {cell_id!r}: seed {seed!r} is not a non-negative integer")
        return self._cell(family, simulator, build, memory, int(seed))


def campaign_names() -> list:
    return sorted(path.stem for path in CAMPAIGN_DIR.glob("*.toml"))


def _check_family(path: Path, family: dict, builds: dict) -> None:
    where = f"{path.name}: cells {family.get('name', '?')!r}"
    for key in ("name", "kind", "simulators"):
        if key not in family:
            raise ValueError(f"{where}: no {key!r}")
    if family["kind"] not in KINDS:
        raise ValueError(f"{where}: kind {family['kind']!r}; expected one of {', '.join(KINDS)}")
    family.setdefault("builds", ["default"])
    family.setdefault("memories", [MODEL_MEMORY])
    for simulator in family["simulators"]:
        if simulator not in SIMULATORS:
            raise ValueError(f"{where}: simulator {simulator!r}; expected one of {', '.join(SIMULATORS)}")
        if family["kind"] != "check" and simulator != "model":
            raise ValueError(f"{where}: {family['kind']} cells run on the model only")
        if simulator == "model" and family["memories"] != [MODEL_MEMORY]:
            raise ValueError(f"{where}: the model bus has only {MODEL_MEMORY} host memory")
    for build in family["builds"]:
        if build not in builds:
            raise ValueError(f"{where}: build {build!r} is not declared ({', '.join(builds)})")
    for memory in family["memories"]:
        if memory not in MEMORY_PROFILES:
            raise ValueError(f"{where}: memory {memory!r}; expected one of {', '.join(MEMORY_PROFILES)}")
    if "/" in family["name"]:
        raise ValueError(f"{where}: a family name has no '/'")


def load_campaign(name: str) -> Campaign:
    """Campaign ``name`` (a file stem in :data:`CAMPAIGN_DIR`, or a path to a TOML file)."""
    path = Path(name) if name.endswith(".toml") else CAMPAIGN_DIR / f"{name}.toml"
    if not path.is_file():
        raise ValueError(f"no campaign {name!r}; campaigns: {', '.join(campaign_names())}")
    data = tomllib.loads(path.read_text())
    builds = data.get("builds", {"default": {}})
    families = data.get("cells", [])
    if not families:
        raise ValueError(f"{path.name}: no [[cells]]")
    for family in families:
        _check_family(path, family, builds)
    return Campaign(path.stem, data.get("description", ""), int(data.get("seeds", 1)), builds, families)


def cell_from_id(cell_id: str) -> Cell:
    """The cell ``cell_id`` names, from its campaign's file."""
    return load_campaign(cell_id.split("/", 1)[0]).cell(cell_id)
