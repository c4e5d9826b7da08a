# Ref: spec/isakmp-commands.md §2.7 (what each ISAKMP debug class shows)
"""The ISAKMP debug lines, one format per record of
:mod:`pacsim.firmware.isakmp.debug` (the manual names the classes and what
they show, not the lines' layout, so the layout is ours):

* packet: ``ISAKMP RX 192.0.2.1:500 -> 192.0.2.2:500 MAIN msgid=00000000
  cky_i=... cky_r=... flags=E len=92``;
* pktraw: the datagram's octets, 16 per line, ``ISAKMP RAW 0000: 5e 8b ...``;
* state: ``ISAKMP STATE exchange 1: SASENT -> KESENT``;
* trace: ``ISAKMP TRACE <text>``;
* tracemore: ``ISAKMP VALUE SA 1: SKEYID calculated (20 octets)``.

:func:`debug_lines` takes a record and the enabled classes and returns
the lines to print (none when no class of the record is enabled).
"""
from ...isakmp.constants import ExchangeType
from ...isakmp.debug import PacketDebug, StateDebug, TraceDebug, ValueDebug

__all__ = ["debug_lines"]

_HEADER_OCTETS = 28
_RAW_WIDTH = 16
_FLAGS = "ECA"          # encryption, commit, authentication-only (RFC 2408 section 3.1)


def _packet(record: PacketDebug) -> str:
    d = record.datagram
    data = d.data[4:] if len(d.data) >= 4 and d.data[:4] == bytes(4) else d.data
    head = f"ISAKMP {'TX' if record.sent else 'RX'} {d.src}:{d.sport} -> {d.dst}:{d.dport}"
    if len(data) < _HEADER_OCTETS:
        return f"{head} short datagram len={len(data)}"
    try:
        kind = ExchangeType(data[18]).name
    except ValueError:
        kind = f"type{data[18]}"
    flags = "".join(f for bit, f in enumerate(_FLAGS) if data[19] >> bit & 1) or "-"
    return (f"{head} {kind} msgid={data[20:24].hex()} cky_i={data[:8].hex()} cky_r={data[8:16].hex()} "
            f"flags={flags} len={len(data)}")


def _raw(record: PacketDebug) -> list[str]:
    data = record.datagram.data
    return [f"ISAKMP RAW {i:04x}: " + " ".join(f"{b:02x}" for b in data[i:i + _RAW_WIDTH])
            for i in range(0, len(data), _RAW_WIDTH)]


def debug_lines(record, classes) -> list[str]:
    """The lines of ``record`` for the enabled debug ``classes`` (a set of class names)."""
    lines = []
    if isinstance(record, PacketDebug):
        if "packet" in classes:
            lines.append(_packet(record))
        if "pktraw" in classes:
            lines += _raw(record)
    elif isinstance(record, StateDebug) and "state" in classes:
        lines.append(f"ISAKMP STATE {record.what} {record.number}: {record.old or '-'} -> {record.new}")
    elif isinstance(record, TraceDebug) and "trace" in classes:
        lines.append(f"ISAKMP TRACE {record.text}")
    elif isinstance(record, ValueDebug) and "tracemore" in classes:
        lines.append(f"ISAKMP VALUE SA {record.sa_id}: {record.name} calculated ({record.size} octets)")
    return lines
