# Ref: spec/ipsec-commands.md B14-B15 (bundle order), B37-B43 (SA bundles), B70-B76 (UDP), B78-B80 (unknown SPI);
#      RFC 2401 sections 4.5 (bundles) and 5.1.2 (tunnel headers)
"""SA bundles and the inbound demultiplexer: the data plane's entry points.

:class:`BundleProcessor` applies its SAs to outbound packets in bundle-string
order (e.g. IPComp, then ESP, then AH) and to inbound packets in reverse
(B15). Tunnel mode is IP-in-IP plus transport mode: the first tunnel-mode
SA (in bundle order) puts the packet in an outer IP header from its
``local`` to its ``peer`` endpoint, and it and the SAs after it work on that
outer header; a later tunnel-mode SA with other endpoints nests another
tunnel, one with the same endpoints does not (RFC 2401 4.5, transport
adjacency). Outer headers (RFC 2401 5.1.2): TOS / traffic class copied from
the inner header, DF per the policy's ``dfbit`` (:class:`DfBit`, default
clear; the SPD's enum, re-exported here), TTL / hop limit ``ttl``.

Inbound, each SA from the last to the first removes its header, which must
be the next one in the packet (else WRONG_PROTOCOL); an IPComp SA whose
header is absent is skipped (the peer sent that packet uncompressed, RFC
3173 2.2). A tunnelling SA then takes out the inner packet. Checking the
inner packet against the SA's selectors is the SPD's job.

:class:`Datapath` is what the IP layer hands IPsec packets to: it
decapsulates the UDP tunnel (its listen port), finds the bundle by the
outermost header's (protocol, SPI or CPI, destination) and counts and
drops what it cannot place (unknown SPI: ``on_unknown_spi`` lets the
ISAKMP side answer with an initial-contact notify, B80).

Nothing here raises on a packet: each call returns an
:class:`~.outcome.Outcome`, and every drop is counted under its
:class:`~.outcome.DropReason` (bundle and datapath ``drops``; the SA's
``drops`` and display counters when an SA dropped it). Each packet is one
card job per SA, awaited before the next step; await one packet at a time
per card (``PacDevice.run`` gives another caller's results to
``collect``, not to that caller's ``run``).
"""
import collections
import logging
import struct
from collections.abc import Callable

from .counters import IpsecCounters
from .outcome import Drop, DropReason, Outcome
from .packet import (PROTO_AH, PROTO_ESP, PROTO_IPCOMP, PROTO_IPV4, PROTO_IPV6, PROTO_UDP, MalformedPacket,
                     ipv4_header, ipv6_header, parse_ip)
from .sa import Mode, Protocol, SaSetupError, SecurityAssociation
from .spd import DfBit
from .nat_original import OriginalAddresses, restore_checksum
from .udp_encap import UDP_TUNNEL_PORT, MessageType, UdpTunnel, decapsulate

__all__ = ["DfBit", "BundleProcessor", "Datapath", "spi_of"]

_log = logging.getLogger(__name__)
_INNER_PROTOCOL = {4: PROTO_IPV4, 6: PROTO_IPV6}


def spi_of(ip) -> int:
    """The SPI (ESP, AH) or CPI (IPComp) of the IPsec header behind ``ip``'s
    IP header; raises Drop(MALFORMED) when the header is too short."""
    data, protocol = ip.payload, ip.protocol
    where = {PROTO_ESP: (0, "!I", 4), PROTO_AH: (4, "!I", 8), PROTO_IPCOMP: (2, "!H", 4)}.get(protocol)
    if where is None:
        raise Drop(DropReason.WRONG_PROTOCOL, f"protocol {protocol} is not ESP, AH or IPComp")
    offset, fmt, need = where
    if len(data) < need:
        raise Drop(DropReason.MALFORMED, f"a {Protocol(protocol).display} header of {len(data)} bytes; "
                   f"expected at least {need}")
    return struct.unpack_from(fmt, data, offset)[0]


class BundleProcessor:
    """The SAs of one bundle, in bundle-string order (outbound order).

    ``df_bit`` and ``ttl`` shape tunnel outer headers; ``udp_tunnel`` (a
    :class:`~.udp_encap.UdpTunnel`) puts outbound packets in UDP and lets
    the :class:`Datapath` accept UDP-tunnelled ones for this bundle.
    ``bundle_id`` is for displays; ``key`` names the SAD bundle it carries
    (:func:`~.kernel.bundle_key`, None outside the SA kernel). ``next_id`` gives the Identification of
    each IPv4 outer header: the router's one counter, so that no two of its
    datagrams to a peer share one while fragments of them may be in flight
    (RFC 791); by default the bundle counts on its own. ``original`` (the
    peer's NAT-OA, :class:`~.nat_original.OriginalAddresses`) makes inbound
    transport-mode packets have their TCP/UDP checksums fixed (R93).
    """

    def __init__(self, sas, *, bundle_id: int | None = None, key: tuple[str, int] | None = None, df_bit: DfBit = DfBit.CLEAR, ttl: int = 64,
                 udp_tunnel: UdpTunnel | None = None, next_id: Callable[[], int] | None = None,
                 original: OriginalAddresses | None = None):
        self.sas = list(sas)
        if not self.sas:
            raise ValueError("a bundle of no SAs; expected 1 to 3 SA pairs (B14, B16)")
        if not all(isinstance(sa, SecurityAssociation) for sa in self.sas):
            raise TypeError("a bundle holds SecurityAssociation objects")
        self.bundle_id = bundle_id
        self.key = key
        self.df_bit = DfBit(df_bit)
        self.ttl = ttl
        self.udp_tunnel = udp_tunnel
        self.original = original
        self.tunnels = self._plan_tunnels()
        #: ``{DropReason: packets}`` this bundle dropped (whichever SA dropped them).
        self.drops = collections.Counter()
        self._identification = 0
        self._next_id = next_id or self._own_id

    def _own_id(self) -> int:
        self._identification = self._identification % 0xFFFF + 1
        return self._identification

    def __repr__(self) -> str:
        return f"<bundle {self.bundle_id if self.bundle_id is not None else '-'} {self.sas}>"

    def _plan_tunnels(self) -> list:
        """For each SA, whether it starts a (new) tunnel."""
        plan, current = [], None
        for sa in self.sas:
            starts = sa.mode is Mode.TUNNEL and (sa.local, sa.peer) != current
            if starts:
                current = (sa.local, sa.peer)
            plan.append(starts)
        return plan

    @property
    def outermost(self) -> SecurityAssociation:
        """The SA whose header is outermost on the wire (the last in bundle order)."""
        return self.sas[-1]

    async def open(self, device) -> None:
        """Open every SA's channels; on failure close those opened and raise SaSetupError."""
        opened = []
        try:
            for sa in self.sas:
                await sa.open(device)
                opened.append(sa)
        except SaSetupError:
            for sa in opened:
                await sa.close()
            raise

    async def close(self) -> None:
        for sa in self.sas:
            await sa.close()

    # -- outbound ------------------------------------------------------------

    async def outbound(self, packet: bytes) -> Outcome:
        """Protect ``packet`` (an IP packet, bytes) with every SA in bundle
        order; the Outcome carries the packet to send."""
        sa = None
        try:
            ip = _parse(packet)
            for sa, tunnels in zip(self.sas, self.tunnels):
                if tunnels:
                    ip = _parse(self._encapsulate(sa, ip))
                ip = _parse(await sa.outbound(ip))
            sa = None
            out = ip.packet
            if self.udp_tunnel is not None:
                out = self.udp_tunnel.encapsulate(out)
            return Outcome(out, bundle=self)
        except Drop as drop:
            self.drops[drop.reason] += 1
            return Outcome.dropped(drop, sa, self)
        except Exception as error:         # a bug: count it, keep the router running
            return self._internal_error(error, sa, "outbound")

    def _encapsulate(self, sa: SecurityAssociation, inner) -> bytes:
        """``inner`` in an outer IP header from ``sa.local`` to ``sa.peer``."""
        protocol = _INNER_PROTOCOL[inner.version]
        try:
            if sa.local.version == 4:
                df = {DfBit.SET: True, DfBit.CLEAR: False, DfBit.COPY: inner.df}[self.df_bit]
                header = ipv4_header(sa.local, sa.peer, protocol, len(inner.packet), tos=inner.tos, ttl=self.ttl,
                                     identification=self._next_id(), df=df)
            else:
                header = ipv6_header(sa.local, sa.peer, protocol, len(inner.packet), traffic_class=inner.tos,
                                     hop_limit=self.ttl)
        except ValueError as error:
            raise Drop(DropReason.TOO_BIG, f"tunnel of {sa!r}: {error}") from error
        return header + inner.packet

    # -- inbound -------------------------------------------------------------

    async def inbound(self, packet: bytes) -> Outcome:
        """Verify and remove every SA's header from ``packet`` (an IP packet
        whose outermost IPsec header is this bundle's, already out of any UDP
        tunnel), last SA first; the Outcome carries the inner packet."""
        sa = None
        try:
            ip = _parse(packet)
            if ip.is_fragment:
                raise Drop(DropReason.FRAGMENT, "an IPsec fragment; expected IP to reassemble it first")
            for sa, tunnels in zip(reversed(self.sas), reversed(self.tunnels)):
                if ip.protocol == sa.protocol:
                    ip = _parse(await sa.inbound(ip))
                elif sa.protocol is not Protocol.IPCOMP:
                    raise Drop(DropReason.WRONG_PROTOCOL,
                               f"protocol {ip.protocol} where {sa!r} expects {sa.protocol.display} "
                               f"({int(sa.protocol)})")
                if tunnels:
                    ip = self._decapsulate(sa, ip)
            if self.original is not None and not any(self.tunnels):     # NAT-T transport mode (R93)
                return Outcome(restore_checksum(ip.packet, self.original), bundle=self)
            return Outcome(ip.packet, bundle=self)
        except Drop as drop:
            self.drops[drop.reason] += 1
            return Outcome.dropped(drop, sa, self)
        except Exception as error:
            return self._internal_error(error, sa, "inbound")

    @staticmethod
    def _decapsulate(sa: SecurityAssociation, outer):
        if outer.protocol not in (PROTO_IPV4, PROTO_IPV6):
            raise Drop(DropReason.TUNNEL_MISMATCH, f"{sa!r} is a tunnel but carried protocol {outer.protocol}; "
                       "expected an IPv4 (4) or IPv6 (41) packet", immediate=False)
        inner = _parse(outer.payload)
        if _INNER_PROTOCOL[inner.version] != outer.protocol:
            raise Drop(DropReason.TUNNEL_MISMATCH, f"next header {outer.protocol} with an IPv{inner.version} "
                       "packet inside", immediate=False)
        return inner

    def _internal_error(self, error: Exception, sa, direction: str) -> Outcome:
        _log.exception("IPsec %s processing failed in %r", direction, self)
        self.drops[DropReason.INTERNAL_ERROR] += 1
        if sa is not None:
            sa.drops[DropReason.INTERNAL_ERROR] += 1
        return Outcome(None, DropReason.INTERNAL_ERROR, f"{type(error).__name__}: {error}", sa, bundle=self)


def _parse(packet: bytes):
    try:
        return parse_ip(packet)
    except MalformedPacket as error:
        raise Drop(DropReason.MALFORMED, str(error)) from error


class Datapath:
    """The inbound demultiplexer and the module-wide data-plane counters.

    ``counters``: the :class:`IpsecCounters` every added SA counts into
    (give the same object to SAs as ``module_counters`` to count their
    setup too); ``udp_listen_port`` (``set ipsec udpport``);
    ``on_unknown_spi(src, dst, protocol, spi)``: called for each packet
    whose SPI no bundle has (B78-B80).
    """

    def __init__(self, *, counters: IpsecCounters | None = None, udp_listen_port: int = UDP_TUNNEL_PORT,
                 on_unknown_spi=None):
        self.counters = counters if counters is not None else IpsecCounters()
        self.udp_listen_port = udp_listen_port
        self.on_unknown_spi = on_unknown_spi
        self.bundles = []
        self._inbound = collections.defaultdict(list)   # (protocol, spi) -> [(sa, bundle)]
        #: ``{DropReason: packets}`` dropped by the datapath or its bundles.
        self.drops = collections.Counter()

    def add_bundle(self, bundle: BundleProcessor) -> None:
        """Make ``bundle``'s inbound SPIs known. Raises ValueError if one is
        already taken by another SA for the same destination."""
        for sa in bundle.sas:
            for other, _ in self._inbound[sa.protocol, sa.inbound_spi]:
                if other.local is None or sa.local is None or other.local == sa.local:
                    raise ValueError(f"inbound {sa.protocol.display} SPI {sa.inbound_spi} of {sa!r} is taken "
                                     f"by {other!r}")
        for sa in bundle.sas:
            self._inbound[sa.protocol, sa.inbound_spi].append((sa, bundle))
            if sa.counters.module is None:
                sa.counters.module = sa.module_counters = self.counters
        self.bundles.append(bundle)

    def remove_bundle(self, bundle: BundleProcessor) -> None:
        """Forget ``bundle`` (its SPIs become unknown)."""
        self.bundles.remove(bundle)
        for sa in bundle.sas:
            entries = self._inbound[sa.protocol, sa.inbound_spi]
            entries[:] = [(s, b) for s, b in entries if b is not bundle]
            if not entries:
                del self._inbound[sa.protocol, sa.inbound_spi]

    def find(self, protocol: int, spi: int, destination) -> BundleProcessor | None:
        """The bundle with an inbound SA of ``protocol`` and ``spi`` whose
        local address is ``destination`` (or unset); counted as a SAD Find SA."""
        for sa, bundle in self._inbound.get((protocol, spi), ()):
            if sa.local is None or sa.local == destination:
                self.counters.count("sad_find", "good")
                return bundle
        self.counters.count("sad_find", "failed")
        return None

    def claims(self, packet: bytes) -> bool:
        """Whether ``packet`` is for the data plane: ESP, AH or IPComp, or
        UDP to the listen port (the IP layer hands those to :meth:`inbound`)."""
        try:
            ip = parse_ip(packet, verify_checksum=False)
            if ip.protocol == PROTO_UDP:
                return len(ip.payload) >= 4 and struct.unpack_from("!H", ip.payload, 2)[0] == self.udp_listen_port
            return ip.protocol in (PROTO_ESP, PROTO_AH, PROTO_IPCOMP)
        except MalformedPacket:
            return False

    async def outbound(self, bundle: BundleProcessor, packet: bytes) -> Outcome:
        """:meth:`BundleProcessor.outbound`, counted here (UDP ``outPkt``/``outPktFail``)."""
        outcome = await bundle.outbound(packet)
        if bundle.udp_tunnel is not None:
            self.counters.count("udp", "outPkt" if outcome.ok else "outPktFail")
        if not outcome.ok:
            self.drops[outcome.reason] += 1
        return outcome

    def heartbeats(self) -> list:
        """Heartbeat datagrams due now on the bundles' UDP tunnels (counted as ``outUdpHeartBeat``)."""
        out = []
        for bundle in self.bundles:
            tunnel = bundle.udp_tunnel
            if tunnel is not None and tunnel.heartbeat_due():
                local, peer = next(((s.local, s.peer) for s in bundle.sas if s.local and s.peer), (None, None))
                if local is None or local.version != 4:
                    continue
                out.append(tunnel.heartbeat(local, peer))
                self.counters.count("udp", "outUdpHeartBeat")
        return out

    async def inbound(self, packet: bytes) -> Outcome:
        """Process a received IPsec packet (``claims(packet)``); the Outcome
        carries the packet IPsec delivers, or says why it was dropped, or
        marks a consumed heartbeat."""
        try:
            outcome = await self._inbound_packet(packet)
        except Drop as drop:
            outcome = Outcome.dropped(drop)
        except Exception as error:
            _log.exception("IPsec inbound demultiplexing failed")
            outcome = Outcome(None, DropReason.INTERNAL_ERROR, f"{type(error).__name__}: {error}")
        if outcome.reason is not None:
            self.drops[outcome.reason] += 1
        return outcome

    async def _inbound_packet(self, packet: bytes) -> Outcome:
        ip = _parse(packet)
        via_udp = False
        if ip.protocol == PROTO_UDP:
            try:
                message = decapsulate(ip, self.udp_listen_port)
            except Drop as drop:
                if drop.reason is DropReason.UDP_BAD_VERSION:
                    self.counters.count("udp", "inPktBadVersion")
                raise
            if message is None:
                raise Drop(DropReason.WRONG_PROTOCOL, f"UDP to a port other than the IPsec listen port "
                           f"{self.udp_listen_port}")
            if message.kind is MessageType.HEARTBEAT:
                self.counters.count("udp", "inUdpHeartBeat")
                return Outcome(None, heartbeat=True)
            self.counters.count("udp", "inPkt")
            ip, via_udp = _parse(message.packet), True
        if ip.is_fragment:
            raise Drop(DropReason.FRAGMENT, "an IPsec fragment; expected IP to reassemble it first")
        spi = spi_of(ip)
        bundle = self.find(ip.protocol, spi, ip.dst)
        if bundle is None:
            if self.on_unknown_spi is not None:
                self.on_unknown_spi(ip.src, ip.dst, Protocol(ip.protocol), spi)
            raise Drop(DropReason.UNKNOWN_SPI, f"no inbound {Protocol(ip.protocol).display} SA with SPI {spi} "
                       f"for {ip.dst} (from {ip.src})")
        if via_udp and bundle.udp_tunnel is None:
            self.counters.count("udp", "inPktNoPolicy")
            raise Drop(DropReason.NO_UDP_TUNNEL, f"a UDP-tunnelled packet for {bundle!r}, which does not tunnel "
                       "over UDP")
        return await bundle.inbound(ip.packet)
