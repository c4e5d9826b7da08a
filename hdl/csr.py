# Ref: contract/regmap.py (the register map this block is generated from)
"""A register block generated from a :class:`~.regmap.RegisterMap`.

Used for both the configuration header and BAR0: every field of the map
becomes hardware here, so the block cannot drift from the map.

Ports (all in the ``sync`` domain):

================= ===== ===== ================================================
port              dir   width meaning
================= ===== ===== ================================================
``addr``          In    n     dword index into the map (byte offset / 4)
``re``            In    1     a read completes this clock (reserved for
                              read side effects; none today)
``we``            In    1     write ``wdata`` to ``addr`` this clock
``wdata``         In    32    write data
``wbe``           In    4     byte enables, active high, per byte lane
``rdata``         Out   32    combinational read data for ``addr``
================= ===== ===== ================================================

Per field ``f`` of register ``R`` (names lower case, ``r_f``):

- RW: ``r_f`` Out, the stored value (reset from the map).
- RO: ``r_f`` In, the value software reads (driven by the design).
- RW1C: ``r_f`` Out, the flag; ``r_f_set`` In, a 1 sets it (a set wins
  over a clear in the same clock).
- W1S: ``r_f`` Out, a one-clock pulse in the clock after software writes 1
  (registered, so the other fields written with it already hold their new
  values: ``RNG_CONTROL.command`` with ``start``).

Byte enables gate every write action lane by lane.
"""
from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..contract.regmap import Access, RegisterMap

__all__ = ["RegisterBlock", "port_name"]


def port_name(register, field) -> str:
    """Name of the port for ``field`` of ``register``."""
    return f"{register.name.lower()}_{field.name}"


class RegisterBlock(wiring.Component):
    """Hardware for ``regmap``; see the module docstring for the ports."""

    def __init__(self, regmap: RegisterMap):
        self.regmap = regmap
        self.addr_width = max(1, (regmap.size // 4 - 1).bit_length())
        members = {
            "addr": In(self.addr_width),
            "re": In(1),
            "we": In(1),
            "wdata": In(32),
            "wbe": In(4),
            "rdata": Out(32),
        }
        for reg in regmap:
            for f in reg.fields:
                name = port_name(reg, f)
                if f.access is Access.RO:
                    members[name] = In(f.width, init=f.reset)
                elif f.access is Access.RW1C:
                    members[name] = Out(f.width, init=f.reset)
                    members[name + "_set"] = In(f.width)
                else:
                    members[name] = Out(f.width, init=f.reset)
        super().__init__(members)

    def field(self, register_name: str, field_name: str) -> Signal:
        """The port of a field, looked up by register and field name."""
        reg = getattr(self.regmap, register_name)
        return getattr(self, port_name(reg, getattr(reg, field_name)))

    def _read_word(self, reg):
        """The register's read value: its fields in place, 0 in the gaps and for W1S."""
        parts, bit = [], 0
        for f in sorted(reg.fields, key=lambda f: f.offset):
            if f.offset > bit:
                parts.append(Const(0, f.offset - bit))
            parts.append(Const(0, f.width) if f.access is Access.W1S
                         else getattr(self, port_name(reg, f)))
            bit = f.offset + f.width
        if bit < 32:
            parts.append(Const(0, 32 - bit))
        return Cat(*parts)

    def elaborate(self, platform):
        m = Module()
        # Expand byte enables to a bit mask.
        bitmask = Signal(32)
        m.d.comb += bitmask.eq(Cat(*[self.wbe[i // 8] for i in range(32)]))

        with m.Switch(self.addr):
            for reg in self.regmap:
                with m.Case(reg.offset // 4):
                    m.d.comb += self.rdata.eq(self._read_word(reg))
            with m.Default():
                m.d.comb += self.rdata.eq(0)

        for reg in self.regmap:
            hit = Signal(name=f"{reg.name.lower()}_hit")
            m.d.comb += hit.eq(self.we & (self.addr == reg.offset // 4))
            for f in reg.fields:
                port = getattr(self, port_name(reg, f))
                data = self.wdata[f.offset:f.offset + f.width]
                mask = bitmask[f.offset:f.offset + f.width]
                if f.access is Access.RW:
                    with m.If(hit):
                        m.d.sync += port.eq((port & ~mask) | (data & mask))
                elif f.access is Access.RW1C:
                    setter = getattr(self, port_name(reg, f) + "_set")
                    cleared = Signal(unsigned(f.width), name=port_name(reg, f) + "_cleared")
                    m.d.comb += cleared.eq(Mux(hit, port & ~(data & mask), port))
                    m.d.sync += port.eq(cleared | setter)
                elif f.access is Access.W1S:
                    m.d.sync += port.eq(Mux(hit, data & mask, 0))
        return m

