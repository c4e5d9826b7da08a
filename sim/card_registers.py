# Ref: contract/regmap.py (registers, fields, access types; README.md "Register map"); docs/rings.md "Counters", "Channels"
"""The behavioural card's register words, precompiled from the contract:
write semantics by access type, field updates and reads, and the decode of
a BAR0 offset into its storage.

Everything here is derived once, at import or when a card is built, from
the :class:`~pacsim.contract.regmap.Register` descriptions of
:mod:`pacsim.contract.regmap` and :mod:`pacsim.contract.layouts`, so the
model's hot paths (every host access, every descriptor the ring engine
reads or writes) do masks and shifts instead of building ``{field: value}``
dictionaries. Storage is a dict ``{register name: word}`` per register
group, as :class:`~.card_model.CardModel` keeps it; a stored word has no
bits outside its register's fields.

- :func:`store`: a register write by access type (RW stored, RW1C cleared
  by 1s, W1S triggered, RO kept) with active-high byte enables;
- :func:`set_fields`, :func:`field`: hardware-side update and read of
  fields of a stored word; :func:`descriptor_words`: a descriptor's dwords;
- :class:`Bar0Decoder`: a BAR0 byte offset to ``(window, entry, register)``
  for the registers and the counter and context windows of a card with a
  given channel count.
"""
from ..contract.codes import AlgUnit
from ..contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CONTEXT
from ..contract.regmap import BAR0, WINDOWS, Access

__all__ = ["store", "set_fields", "field", "lanes", "descriptor_words", "Bar0Decoder", "REGISTERS",
           "COUNTER_WINDOWS"]

#: Bit mask of the byte lanes of each 4-bit active-high byte-enable value.
_LANES = tuple(sum(0xFF << (8 * byte) for byte in range(4) if enables >> byte & 1) for enables in range(16))
#: Which storage each BAR0 window's entries live in, by window name.
REGISTERS = "REGISTERS"
COUNTER_WINDOWS = (("ALG_COUNTERS", ALG_COUNTERS), ("CHANNEL_COUNTERS", CHANNEL_COUNTERS), ("CONTEXT", CONTEXT))


def lanes(byte_enables: int) -> int:
    """Bit mask of the byte lanes enabled by active-high ``byte_enables``."""
    return _LANES[byte_enables & 0xF]


class _Rules:
    """One register's precompiled masks: ``write`` is ``(RW mask, RW1C mask,
    ((W1S field name, mask), ...))``, ``fields`` ``{name: (offset, mask)}``."""

    __slots__ = ("write", "fields", "register")

    def __init__(self, reg):
        self.register = reg                 # keeps the id() key of :data:`_RULES` alive
        self.write = (sum(f.mask for f in reg.fields if f.access is Access.RW),
                      sum(f.mask for f in reg.fields if f.access is Access.RW1C),
                      tuple((f.name, f.mask) for f in reg.fields if f.access is Access.W1S))
        self.fields = {f.name: (f.offset, f.mask) for f in reg.fields}


#: ``{id(register): _Rules}``; keyed by identity: a Register is a frozen
#: dataclass whose hash walks all its fields, on every lookup.
_RULES = {}


def _rules(reg) -> _Rules:
    rules = _RULES.get(id(reg))
    if rules is None:
        rules = _RULES[id(reg)] = _Rules(reg)
    return rules


def store(reg, old: int, value: int, byte_enables: int) -> tuple:
    """Apply a register write by access type: ``(new word, names of W1S fields triggered)``."""
    enabled = _LANES[byte_enables & 0xF]
    rw, rw1c, w1s = _rules(reg).write
    value &= enabled
    new = (old & ~(rw & enabled)) | (value & rw)
    new &= ~(value & rw1c)
    return new, [name for name, mask in w1s if value & mask]


def set_fields(word: int, reg, /, **fields) -> int:
    """``word`` of ``reg`` with the named fields set to the given values
    (ints or int enums that fit their fields: the model's own values)."""
    rules = _rules(reg).fields
    for name, value in fields.items():
        offset, mask = rules[name]
        word = (word & ~mask) | ((int(value) << offset) & mask)
    return word


def field(word: int, reg, name: str) -> int:
    """The value of field ``name`` of ``reg`` in ``word``."""
    offset, mask = _rules(reg).fields[name]
    return (word & mask) >> offset


def descriptor_words(layout, **values) -> list:
    """A descriptor's dwords in address order from ``{register name: word}``."""
    words = [0] * (layout.size // 4)
    for name, word in values.items():
        words[getattr(layout, name).offset // 4] = word
    return words


class Bar0Decoder:
    """BAR0 byte offsets of a card with ``channels`` channels, decoded once:
    :meth:`locate` gives ``(window, entry, register)``: ``window``
    :data:`REGISTERS` (entry 0) for the registers of :data:`BAR0`, else the
    name of a counter or context window of :data:`COUNTER_WINDOWS` with the
    entry number (an algorithm unit or a channel); None for an offset that
    holds nothing (unused dwords, entries past the card's channels)."""

    def __init__(self, channels: int):
        entries = {"ALG_COUNTERS": len(AlgUnit), "CHANNEL_COUNTERS": channels, "CONTEXT": channels}
        self._at = {reg.offset: (REGISTERS, 0, reg) for reg in BAR0}
        for name, layout in COUNTER_WINDOWS:
            base, size = WINDOWS[name]
            for index in range(entries[name]):
                for reg in layout:
                    self._at.setdefault(base + index * size + reg.offset, (name, index, reg))

    def locate(self, offset: int):
        """``(window, entry, register)`` at BAR0 byte ``offset``, or None."""
        return self._at.get(offset)
