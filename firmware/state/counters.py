# Ref: ../shared/DESIGN.md principle 6 ("everything that happens is counted"); spec/show-outputs.md §3, §5, §8
"""Counter schemas: every counter group declares its names once, and its
values can only be read or counted by those names.

- :class:`CounterSchema`: a group's name and its counter names in display
  order (a name is a string, or a ``(block, name)`` pair where one name
  appears in several blocks of a display);
- :class:`CounterSet`: the live, mutable counters of one schema; counting
  (``c.count(name)`` or ``c[name] += 1``) or reading an undeclared name
  raises :class:`UnknownCounter`, so a misspelt name is an error, not a
  silent 0;
- :class:`CounterSnapshot`: the frozen values of one schema at one moment,
  what the views format. :meth:`CounterSnapshot.of` also takes a plain
  mapping (a ``collections.Counter`` a module still keeps) and refuses any
  key the schema does not declare.

Arguments: ``name`` a counter name of the schema, ``n`` the count to add
(events, packets or bytes as the counter's name says).
"""
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = ["UnknownCounter", "CounterSchema", "CounterSet", "CounterSnapshot"]


class UnknownCounter(KeyError):
    """A counter name its schema does not declare: ``.name``, ``.group``."""

    def __init__(self, group: str, name: Hashable):
        super().__init__(f"{name!r} is not a counter of {group}")
        self.group = group
        self.name = name

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class CounterSchema:
    """A counter group: ``group`` (its name in messages) and ``names`` in
    display order (no duplicates)."""
    group: str
    names: tuple[Hashable, ...]

    def __post_init__(self):
        index = {name: i for i, name in enumerate(self.names)}
        if len(index) != len(self.names):
            raise ValueError(f"counter group {self.group} declares a name twice")
        object.__setattr__(self, "_index", index)

    def __contains__(self, name) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.names)

    def position(self, name: Hashable) -> int:
        """Where ``name`` is in display order (:class:`UnknownCounter` if undeclared)."""
        return self._index[self.check(name)]

    def check(self, name: Hashable) -> Hashable:
        """``name``, or :class:`UnknownCounter` if the schema lacks it."""
        if name not in self._index:
            raise UnknownCounter(self.group, name)
        return name

    def zeros(self) -> dict:
        """``{name: 0}`` in display order."""
        return dict.fromkeys(self.names, 0)


class CounterSet:
    """The live counters of ``schema`` (all 0 at first)."""

    def __init__(self, schema: CounterSchema):
        self.schema = schema
        self._values = schema.zeros()

    def __getitem__(self, name: Hashable) -> int:
        return self._values[self.schema.check(name)]

    def __setitem__(self, name: Hashable, value: int) -> None:
        self._values[self.schema.check(name)] = value

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self.schema.names)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name) -> bool:
        return name in self.schema

    def __eq__(self, other) -> bool:
        """Equal to a counter set of the same schema and values, or to a
        mapping of every name to its value."""
        if isinstance(other, CounterSet):
            return self.schema == other.schema and self._values == other._values
        if isinstance(other, Mapping):
            return self._values == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        counted = {k: v for k, v in self._values.items() if v}
        return f"CounterSet({self.schema.group}, {counted})"

    def count(self, name: Hashable, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        self[name] += n

    def items(self) -> Iterable[tuple[Hashable, int]]:
        """(name, value) in display order."""
        return self._values.items()

    def keys(self) -> Iterable[Hashable]:
        """The names in display order."""
        return self._values.keys()

    def reset(self) -> None:
        """Every counter back to 0."""
        self._values = self.schema.zeros()

    def snapshot(self) -> "CounterSnapshot":
        """The values now, frozen."""
        return CounterSnapshot(self.schema, tuple(self._values.values()))


@dataclass(frozen=True)
class CounterSnapshot:
    """The values of ``schema``'s counters at one moment (``values`` in
    schema order); reading an undeclared name raises :class:`UnknownCounter`."""
    schema: CounterSchema
    values: tuple[int, ...]

    @classmethod
    def of(cls, schema: CounterSchema, counts: Mapping) -> "CounterSnapshot":
        """The snapshot of a mapping of counts (missing names are 0); a key
        the schema does not declare (a misspelt count) raises
        :class:`UnknownCounter`."""
        for name in counts:
            schema.check(name)
        return cls(schema, tuple(counts.get(name, 0) for name in schema.names))

    @classmethod
    def read(cls, schema: CounterSchema, value_of: Callable[[Hashable], int]) -> "CounterSnapshot":
        """The snapshot of ``value_of(name)`` for every name of ``schema``."""
        return cls(schema, tuple(value_of(name) for name in schema.names))

    def __getitem__(self, name: Hashable) -> int:
        return self.values[self.schema.position(name)]

    def items(self) -> Iterator[tuple[Hashable, int]]:
        """(name, value) in display order."""
        return zip(self.schema.names, self.values)
