# Ref: RFC 791 section 3.2 (fragmentation and reassembly), RFC 815 (hole descriptors), RFC 1122 3.3.2
#      (reassembly timeout, fragment zero), RFC 5722 (overlaps: drop the whole datagram; applied to IPv4 here);
#      RFC 8200 section 4.5 (IPv6 Fragment header, source fragmentation, reassembly), RFC 6946 (atomic fragments)
"""IPv4 fragmentation and reassembly, and IPv6 fragmentation at the source
and reassembly, as packet algorithms: no counters, no clock of their own,
no router. :mod:`.mtu` applies them on the router's interfaces; the
simulated hosts reassemble with :class:`Reassembly` too.

**Fragmentation** (:func:`fragment`, RFC 791 3.2). The data is cut into
pieces of as many 8-byte units as fit the MTU behind the header; every
fragment keeps the Identification, the first keeps all options, the others
only the options with the copied flag (:func:`~pacsim.firmware.ipsec.packet.ipv4_copied_options`).
Offsets count from the datagram's own offset, so a fragment can be cut
again; MF is set on every piece but the last, which keeps the datagram's
MF. DF is left clear in the pieces. A datagram whose DF is set is not cut
(:class:`DontFragment`) unless the caller says to ignore DF. Routers do not
fragment IPv6 on the way: :func:`fragment` refuses it.

**IPv6 fragmentation** (:func:`fragment_ipv6`, RFC 8200 4.5) is for the
packet's source only. The unfragmentable part (the IPv6 header and the
hop-by-hop, routing and destination options headers before the upper
layer, :class:`~pacsim.firmware.ipsec.packet.IpPacket`'s ``header``) leads
every fragment, followed by a Fragment header (next header: the first
header of the fragmentable part; offset in 8-byte units; M; the 32-bit
Identification) and a piece of the fragmentable part.

**Reassembly** (:class:`Reassembly`, RFC 815). IPv4 fragments are grouped
by (source, destination, protocol, Identification) (RFC 791), IPv6
fragments by (source, destination, Identification) (RFC 8200 4.5;
:func:`ipv6_fragment` reads the Fragment header). Each datagram
in progress keeps RFC 815's hole list (a hole is a ``[first, last]`` byte
range not yet received, the last one open-ended until the fragment without
MF has come) and the pieces received. A fragment must fill part of one
hole; otherwise:

- a *duplicate* (the same range with the same bytes, as a network that
  repeats packets delivers) is dropped on its own;
- any other overlap, a second end that differs from the first, or data past
  the end is *inconsistent*: the whole datagram is dropped (RFC 5722's rule,
  which RFC 791 leaves open for IPv4: overlapping pieces are how
  fragment-overlap attacks rewrite headers that were already checked).

A fragment that cannot be part of any datagram is *malformed* and dropped on
its own, touching no datagram in progress: a fragment with MF whose data is
not a positive multiple of 8 bytes, or data that would end past 65535 bytes
with the header (IPv6: a payload length past 65535). The whole IPv6 packet
is fragment zero's unfragmentable part with the Fragment header's next
header in place of 44, then the data; the IPv4 one fragment zero's header
with MF and offset clear. An IPv6 *atomic fragment* (offset 0, no M) is
whole as it is and is reassembled on its own (RFC 6946), never joining a
datagram in progress.

**Limits.** A datagram may wait :data:`REASSEMBLY_TIMEOUT` seconds from its
first fragment (a fixed timer as RFC 1122 3.3.2 prefers; 30 s is above RFC
791's 15 s lower bound and below RFC 1122's 60-120 s recommendation, which
dates from slower networks, and is what Linux uses, keeping the buffers of
a router short-lived); the IPv6 module and hosts make theirs with RFC 8200
4.5's 60 s, :data:`IPV6_REASSEMBLY_TIMEOUT`. At most :data:`MAX_DATAGRAMS`
datagrams, holding at most :data:`MAX_BUFFERED` data bytes together, are in
progress; to make room the oldest datagrams are given up. A datagram of more than
:data:`MAX_FRAGMENTS` fragments is given up.

Every outcome of :meth:`Reassembly.add` and :meth:`Reassembly.expire` is a
:class:`ReassemblyEvent` saying what happened, for the caller to count.
"""
import enum
import struct
from dataclasses import dataclass, field

from ..ipsec.packet import (IPV4_HEADER, IPV6_FRAGMENT, IPV6_HEADER, MAX_IPV4_LENGTH, IpPacket, MalformedPacket,
                             ipv4_copied_options, ipv4_fragment_header)

__all__ = ["fragment", "fragment_ipv6", "ipv6_fragment", "Ipv6Fragment", "FragmentationError", "DontFragment",
           "MtuTooSmall", "Reassembly", "ReassemblyEvent", "Outcome", "REASSEMBLY_TIMEOUT", "IPV6_REASSEMBLY_TIMEOUT",
           "MAX_DATAGRAMS", "MAX_BUFFERED", "MAX_FRAGMENTS", "PROTO_IPV6_FRAGMENT", "IPV6_FRAGMENT_HEADER"]

#: Seconds a datagram may wait for its fragments (see the module docstring).
REASSEMBLY_TIMEOUT = 30.0
#: Seconds an IPv6 packet may wait for its fragments (RFC 8200 4.5).
IPV6_REASSEMBLY_TIMEOUT = 60.0
#: The IPv6 Fragment header's length (RFC 8200 4.5); its next header value is packet.py's.
PROTO_IPV6_FRAGMENT = IPV6_FRAGMENT
IPV6_FRAGMENT_HEADER = 8
_MAX_IPV6_PAYLOAD = 0xFFFF
#: Datagrams in reassembly at once.
MAX_DATAGRAMS = 64
#: Data bytes held by all datagrams in reassembly together (four of the largest datagrams).
MAX_BUFFERED = 4 * MAX_IPV4_LENGTH
#: Fragments of one datagram (a 64 KiB datagram cut for a 576-byte MTU has 118).
MAX_FRAGMENTS = 256
_OPEN = MAX_IPV4_LENGTH          # the last hole is open-ended until the end is known


class FragmentationError(ValueError):
    """A datagram that cannot be fragmented for an MTU."""


class DontFragment(FragmentationError):
    """The datagram is too big for the MTU and has DF set."""


class MtuTooSmall(FragmentationError):
    """The MTU leaves no room for 8 data bytes behind the header, or the
    datagram is not IPv4 (routers do not fragment IPv6)."""


def fragment(ip: IpPacket, mtu: int, *, ignore_df: bool = False) -> list[bytes]:
    """The fragments of IPv4 ``ip`` for an interface of ``mtu`` bytes (the
    datagram itself if it fits). Raises :class:`DontFragment` when it is
    too big and has DF set (unless ``ignore_df``), :class:`MtuTooSmall`
    when no fragment fits."""
    if len(ip.packet) <= mtu:
        return [ip.packet]
    if ip.version != 4:
        raise MtuTooSmall(f"an IPv{ip.version} packet of {len(ip.packet)} bytes for an MTU of {mtu}; "
                          "only IPv4 is fragmented on the way")
    if ip.df and not ignore_df:
        raise DontFragment(f"{len(ip.packet)} bytes with DF set for an MTU of {mtu}")
    later = _later_header(ip.header)
    first_room = (mtu - len(ip.header)) // 8 * 8
    later_room = (mtu - len(later)) // 8 * 8
    if first_room < 8 or later_room < 8:
        raise MtuTooSmall(f"an MTU of {mtu} leaves no room for 8 data bytes behind a {len(ip.header)}-byte header")
    data, base, pieces, at = ip.payload, ip.fragment_offset, [], 0
    while at < len(data):
        header, room = (ip.header, first_room) if at == 0 else (later, later_room)
        chunk = data[at:at + room]
        more = at + len(chunk) < len(data) or ip.more_fragments
        pieces.append(ipv4_fragment_header(header, len(chunk), offset=base + at, more=more) + chunk)
        at += len(chunk)
    return pieces


def fragment_ipv6(ip: IpPacket, mtu: int, identification: int) -> list[bytes]:
    """The fragments of IPv6 ``ip``, which this node sends (RFC 8200 4.5:
    only the source fragments), for a path MTU of ``mtu`` bytes, with the
    32-bit ``identification`` (the packet itself if it fits). Raises
    :class:`MtuTooSmall` when no fragment fits."""
    if len(ip.packet) <= mtu:
        return [ip.packet]
    if ip.version != 6:
        raise MtuTooSmall(f"an IPv{ip.version} packet for IPv6 fragmentation")
    room = (mtu - len(ip.header) - IPV6_FRAGMENT_HEADER) // 8 * 8
    if room < 8:
        raise MtuTooSmall(f"an MTU of {mtu} leaves no room for 8 data bytes behind a {len(ip.header)}-byte "
                          "unfragmentable part and the Fragment header")
    data, pieces, at = ip.payload, [], 0
    while at < len(data):
        chunk = data[at:at + room]
        more = at + len(chunk) < len(data)
        header = struct.pack("!BBHI", ip.protocol, 0, at | more, identification & 0xFFFFFFFF)
        pieces.append(ip.rebuild(PROTO_IPV6_FRAGMENT, header + chunk))
        at += len(chunk)
    return pieces


@dataclass(frozen=True)
class Ipv6Fragment:
    """An IPv6 packet with a Fragment header (RFC 8200 4.5) as reassembly
    sees it: the packet ``ip`` as received (its ``header``: the
    unfragmentable part), the Fragment header's next header
    (``protocol``), offset (bytes), M flag and Identification, and the
    fragment's data (``payload``)."""
    ip: IpPacket
    protocol: int
    fragment_offset: int
    more_fragments: bool
    identification: int
    payload: bytes
    version = 6

    @property
    def src(self):
        return self.ip.src

    @property
    def dst(self):
        return self.ip.dst

    @property
    def header(self) -> bytes:
        return self.ip.header

    @property
    def packet(self) -> bytes:
        return self.ip.packet


def ipv6_fragment(ip: IpPacket) -> Ipv6Fragment:
    """Read the Fragment header of IPv6 ``ip`` (:attr:`~IpPacket.is_fragment`);
    raises :class:`MalformedPacket` when it is cut short."""
    if ip.version != 6 or ip.protocol != PROTO_IPV6_FRAGMENT:
        raise MalformedPacket(f"an IPv{ip.version} packet with next header {ip.protocol}; expected an IPv6 "
                              "Fragment header (44)")
    if len(ip.payload) < IPV6_FRAGMENT_HEADER:
        raise MalformedPacket(f"an IPv6 Fragment header of {len(ip.payload)} bytes; expected {IPV6_FRAGMENT_HEADER}")
    protocol, _, field_, identification = struct.unpack_from("!BBHI", ip.payload)
    return Ipv6Fragment(ip, protocol, field_ & 0xFFF8, bool(field_ & 1), identification,
                        ip.payload[IPV6_FRAGMENT_HEADER:])


def _later_header(header: bytes) -> bytes:
    """The header of a fragment other than the first: only copied options."""
    options = ipv4_copied_options(header)
    fixed = bytearray(header[:IPV4_HEADER])
    fixed[0] = 0x40 | (IPV4_HEADER + len(options)) // 4
    return bytes(fixed) + options


class Outcome(enum.Enum):
    """What one fragment (or one timer run) did to reassembly."""
    HELD = "held"                               #: kept; the datagram is not complete yet
    REASSEMBLED = "reassembled"                 #: it completed its datagram
    DUPLICATE = "duplicate"                     #: a repeat of a fragment held; dropped on its own
    MALFORMED = "malformed"                     #: dropped on its own (see the module docstring)
    INCONSISTENT = "inconsistent"               #: overlap or conflicting end: the datagram is dropped
    TOO_MANY_FRAGMENTS = "too many fragments"   #: the datagram is dropped
    EVICTED = "evicted"                         #: given up to make room for newer datagrams
    TIMED_OUT = "timed out"                     #: not complete within the timeout


@dataclass(frozen=True)
class ReassemblyEvent:
    """One outcome: what happened, a ``detail`` for logs, the whole
    ``packet`` (REASSEMBLED), and for a datagram given up whose fragment
    zero had come, ``first``: that fragment (header and data), which an ICMP
    time exceeded message quotes (RFC 1122 3.3.2)."""
    outcome: Outcome
    detail: str = ""
    packet: bytes | None = None
    first: bytes | None = None


@dataclass
class _Datagram:
    """One datagram in reassembly (RFC 815): its holes, pieces and timer."""
    key: tuple
    started: float
    holes: list[list[int]] = field(default_factory=lambda: [[0, _OPEN]])
    pieces: dict[int, bytes] = field(default_factory=dict)   # first byte -> data
    header: bytes | None = None                               # of fragment zero
    zero: "IpPacket | Ipv6Fragment | None" = None             # fragment zero
    end: int | None = None                                    # data bytes, once the last fragment came
    held: int = 0                                             # data bytes held

    def name(self) -> str:
        src, dst, protocol, ident = self.key
        if protocol is None:
            return f"IPv6 packet {ident} from {src} to {dst}"
        return f"datagram {ident} from {src} to {dst} (protocol {protocol})"

    def first_fragment(self) -> bytes | None:
        if self.zero is None:
            return None
        return self.zero.packet


class Reassembly:
    """Datagrams in reassembly (see the module docstring). ``timeout``
    seconds, ``max_datagrams``, ``max_buffered`` bytes and
    ``max_fragments`` per datagram; time comes with each call."""

    def __init__(self, *, timeout: float = REASSEMBLY_TIMEOUT, max_datagrams: int = MAX_DATAGRAMS,
                 max_buffered: int = MAX_BUFFERED, max_fragments: int = MAX_FRAGMENTS):
        if timeout <= 0 or max_datagrams < 1 or max_buffered < MAX_IPV4_LENGTH or max_fragments < 2:
            raise ValueError(f"reassembly limits timeout={timeout} s, max_datagrams={max_datagrams}, "
                             f"max_buffered={max_buffered}, max_fragments={max_fragments}; expected a positive "
                             f"timeout, 1 datagram, {MAX_IPV4_LENGTH} bytes and 2 fragments at least")
        self.timeout, self.max_datagrams = timeout, max_datagrams
        self.max_buffered, self.max_fragments = max_buffered, max_fragments
        self._datagrams: dict[tuple, _Datagram] = {}          # insertion order: oldest first

    def __len__(self) -> int:
        """Datagrams in progress."""
        return len(self._datagrams)

    @property
    def buffered(self) -> int:
        """Data bytes held."""
        return sum(d.held for d in self._datagrams.values())

    def expire(self, now: float) -> list[ReassemblyEvent]:
        """Give up the datagrams whose timer ran out by ``now``."""
        events = []
        for key, datagram in list(self._datagrams.items()):
            if now - datagram.started >= self.timeout:
                del self._datagrams[key]
                events.append(ReassemblyEvent(Outcome.TIMED_OUT, f"{datagram.name()}: incomplete after "
                                              f"{self.timeout:g} s", first=datagram.first_fragment()))
        return events

    def add(self, ip: IpPacket | Ipv6Fragment, now: float) -> list[ReassemblyEvent]:
        """Take fragment ``ip`` (IPv4 or IPv6, :attr:`~IpPacket.is_fragment`)
        at time ``now``; what happened, in order (datagrams evicted to make
        room come before the fragment's own outcome, which is last). Call
        :meth:`expire` first, so that a late fragment does not join a
        datagram whose time is up."""
        if isinstance(ip, IpPacket) and ip.version == 6:
            try:
                ip = ipv6_fragment(ip)
            except MalformedPacket as error:
                return [ReassemblyEvent(Outcome.MALFORMED, str(error))]
        first, data, more = ip.fragment_offset, ip.payload, ip.more_fragments
        last = first + len(data) - 1
        problem = _malformed(ip, first, data, more)
        if problem:
            return [ReassemblyEvent(Outcome.MALFORMED, problem)]
        if ip.version == 6 and first == 0 and not more:             # an atomic fragment (RFC 6946)
            try:
                whole = ip.ip.rebuild(ip.protocol, data)
            except MalformedPacket as error:
                return [ReassemblyEvent(Outcome.MALFORMED, f"atomic fragment {ip.identification}: {error}")]
            return [ReassemblyEvent(Outcome.REASSEMBLED, f"atomic fragment {ip.identification} from {ip.src}",
                                    packet=whole)]
        key = (ip.src, ip.dst, ip.protocol if ip.version == 4 else None, ip.identification)
        events = []
        datagram = self._datagrams.get(key)
        if datagram is None:
            events += self._make_room(len(data), datagram_slot=True)
            datagram = self._datagrams[key] = _Datagram(key, now)
        elif len(datagram.pieces) >= self.max_fragments:
            del self._datagrams[key]
            return events + [ReassemblyEvent(Outcome.TOO_MANY_FRAGMENTS, f"{datagram.name()}: more than "
                                             f"{self.max_fragments} fragments", first=datagram.first_fragment())]
        else:
            events += self._make_room(len(data), keep=key)
        conflict = self._conflict(datagram, first, last, data, more)
        if conflict is not None:
            outcome, detail = conflict
            if outcome is Outcome.INCONSISTENT:
                del self._datagrams[key]
                return events + [ReassemblyEvent(outcome, detail, first=datagram.first_fragment())]
            return events + [ReassemblyEvent(outcome, detail)]
        self._fill(datagram, first, last, more)
        datagram.pieces[first] = data
        datagram.held += len(data)
        if first == 0:
            datagram.header, datagram.zero = ip.header, ip
        if not more:
            datagram.end = last + 1
        if datagram.holes:
            return events + [ReassemblyEvent(Outcome.HELD, f"{datagram.name()}: bytes {first}-{last}")]
        del self._datagrams[key]
        try:
            whole = _join(datagram)
        except MalformedPacket as error:
            return events + [ReassemblyEvent(Outcome.INCONSISTENT, f"{datagram.name()}: {error}")]
        return events + [ReassemblyEvent(Outcome.REASSEMBLED, datagram.name(), packet=whole)]

    # -- the hole list (RFC 815 section 3) -----------------------------------------------------------

    @staticmethod
    def _conflict(datagram: _Datagram, first: int, last: int, data: bytes, more: bool):
        """None if [first, last] lies in one hole and agrees with the end; else (outcome, detail)."""
        name = datagram.name()
        if not more and datagram.end is not None and datagram.end != last + 1:
            return Outcome.INCONSISTENT, (f"{name}: a second last fragment ends at byte {last + 1}, the first at "
                                          f"{datagram.end}")
        if datagram.end is not None and last >= datagram.end:
            return Outcome.INCONSISTENT, f"{name}: bytes {first}-{last} run past the end at byte {datagram.end}"
        if not more and any(piece_first + len(piece) > last + 1 for piece_first, piece in datagram.pieces.items()):
            return Outcome.INCONSISTENT, (f"{name}: the last fragment ends at byte {last + 1}, before data "
                                          "already received")
        if any(hole_first <= first and last <= hole_last for hole_first, hole_last in datagram.holes):
            return None
        if datagram.pieces.get(first) == data:
            return Outcome.DUPLICATE, f"{name}: bytes {first}-{last} again"
        return Outcome.INCONSISTENT, f"{name}: bytes {first}-{last} overlap data already received"

    @staticmethod
    def _fill(datagram: _Datagram, first: int, last: int, more: bool) -> None:
        """RFC 815 steps 1-7 for a fragment that lies in one hole."""
        holes = []
        for hole_first, hole_last in datagram.holes:
            if first > hole_last or last < hole_first:
                if more or hole_first <= last:        # holes past the last fragment's end disappear
                    holes.append([hole_first, hole_last])
                continue
            if first > hole_first:
                holes.append([hole_first, first - 1])
            if last < hole_last and more:
                holes.append([last + 1, hole_last])
        datagram.holes = holes

    # -- limits -------------------------------------------------------------------------------------

    def _make_room(self, size: int, *, datagram_slot: bool = False, keep: tuple | None = None):
        """Give up the oldest datagrams (not ``keep``) until ``size`` more
        bytes (and, with ``datagram_slot``, one more datagram) fit."""
        events = []
        buffered = self.buffered
        while self._datagrams:
            over_count = datagram_slot and len(self._datagrams) >= self.max_datagrams
            if not over_count and buffered + size <= self.max_buffered:
                break
            victim = next((k for k in self._datagrams if k != keep), None)
            if victim is None:
                break
            datagram = self._datagrams.pop(victim)
            buffered -= datagram.held
            events.append(ReassemblyEvent(Outcome.EVICTED, f"{datagram.name()}: given up for room (at most "
                                          f"{self.max_datagrams} datagrams, {self.max_buffered} bytes)",
                                          first=datagram.first_fragment()))
        return events


def _malformed(ip: IpPacket | Ipv6Fragment, first: int, data: bytes, more: bool) -> str:
    """Why ``ip`` cannot be a fragment of any datagram ("" if it can)."""
    where = f"fragment {ip.identification} from {ip.src} at byte {first}"
    flag = "M" if ip.version == 6 else "MF"
    if more and (not data or len(data) % 8):
        return f"{where}: {len(data)} data bytes with {flag} set; expected a positive multiple of 8"
    if ip.version == 6:
        if len(ip.header) - IPV6_HEADER + first + len(data) > _MAX_IPV6_PAYLOAD:
            return f"{where}: {len(data)} data bytes would make a payload longer than {_MAX_IPV6_PAYLOAD} bytes"
    elif IPV4_HEADER + first + len(data) > MAX_IPV4_LENGTH:
        return f"{where}: {len(data)} data bytes would end the datagram past {MAX_IPV4_LENGTH} bytes"
    return ""


def _join(datagram: _Datagram) -> bytes:
    """The whole datagram: fragment zero's header with MF and offset clear
    (IPv6: its unfragmentable part with the Fragment header's next header)."""
    data = b"".join(datagram.pieces[k] for k in sorted(datagram.pieces))
    assert datagram.header is not None and len(data) == datagram.end
    if isinstance(datagram.zero, Ipv6Fragment):
        return datagram.zero.ip.rebuild(datagram.zero.protocol, data)
    try:
        header = ipv4_fragment_header(datagram.header, len(data), offset=0, more=False,
                                      df=bool(datagram.header[6] & 0x40))
    except ValueError as error:            # fragment zero's options made it longer than IP allows
        raise MalformedPacket(f"the whole datagram would be too long: {error}") from error
    return header + data
