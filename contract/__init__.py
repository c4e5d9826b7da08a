# Ref: README.md, "Register map" and "Descriptor rings and channels" (rendered from this package)
"""The card's hardware/software contract, defined once and free of Amaranth.

- :mod:`.regmap`: configuration header, BAR0 registers and windows, ring rules;
- :mod:`.layouts`: descriptor, channel-context and counter layouts;
- :mod:`.codes`: opcodes, services, algorithms, result statuses and their counting;
- :mod:`.pk`: the public-key unit's slots, statuses and operation time;
- :mod:`.rng`: the random number generator's commands, statuses and faults;
- :mod:`.build`: the card's build defaults.

The gateware (``pacsim.hdl``), the behavioural model (``pacsim.sim``), the
driver (``pacsim.host``), the firmware and the documentation import it; it
imports nothing of pacsim.
"""
from .codes import AlgUnit, CipherAlg, CipherMode, CompAlg, Direction, IvSource, MacAlg, Opcode, ResultStatus, Service
from .pk import ModExpSlot, ModExpStatus
from .rng import DrbgCommand, DrbgFault, DrbgStatus

__all__ = ["ENUMS"]

#: Every code enum of the contract, in the order ``pacsim regmap`` renders them.
ENUMS = (Opcode, ResultStatus, Service, Direction, CipherAlg, CipherMode, IvSource, MacAlg, CompAlg, AlgUnit,
         ModExpSlot, ModExpStatus, DrbgCommand, DrbgStatus, DrbgFault)
