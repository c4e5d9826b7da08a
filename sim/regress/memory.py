# Ref: sim/vip/hostmem.py (the host-memory target's settings); docs/regress.md "Axes"
"""Host-memory behaviours of the RTL bench: :meth:`RtlBus.configure_memory`
settings by name, the ``memory`` axis of a campaign.

``zero_wait``: every transaction accepted at once; ``slow_random``: slow
DEVSEL#, random wait states, some retries and disconnects;
``medium_retry_disconnect``: a storm of retries and disconnects. The model
bus has only ``zero_wait`` (its costs are fixed: :mod:`pacsim.sim.pci_costs`).
Target aborts are not a whole-run behaviour (every job would fail): the
checks that need them set an ``abort_range`` themselves.
"""

__all__ = ["MEMORY_PROFILES", "MODEL_MEMORY", "memory_settings"]

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
