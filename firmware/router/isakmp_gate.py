# Ref: ../shared/spec/isakmp-commands.md R2 (udpport), R14-R16 (packets wait for the negotiation), R99-R100;
#      ../shared/spec/ipsec-commands.md B51 (acquire); RFC 3947 section 4 (port 4500, non-ESP marker)
"""The router's ISAKMP: the daemon it owns once ``enable isakmp`` ran, the
UDP it hands it and the packets that wait for a negotiation.

:class:`IsakmpGate` is mixed into :class:`~.router.Router`:

- after each command (:meth:`_isakmp_sync`): ``enable isakmp`` creates the
  :class:`~..isakmp.daemon.IsakmpDaemon` (on the router's card through its
  ENCO service, which counts its channels and labels their owner, its
  addresses, the router's clock) and registers an
  :class:`~..isakmp.keying.IsakmpKeying` as the IPsec module's ISAKMP key
  manager, then starts phase 1 for the prenegotiating policies
  (:mod:`~..isakmp.prenegotiation`, R64); ``disable isakmp`` (R99) deletes every ISAKMP SA and exchange
  and drops the daemon (IPsec bundles stay and keep working); while it
  runs, the data plane's unknown-SPI packets go to a
  :class:`~..isakmp.bad_spi.BadSpiResponder` (``respondbadspi``, R75-R77);
  ``reset isakmp policy`` (R100) and ``destroy isakmp policy`` delete
  that policy's SAs; ``reset isakmp counters`` clears the daemon's
  counters. What those send (Deletes) leaves with the router's next
  :meth:`~.router.Router.receive` or :meth:`~.router.Router.poll`;
- UDP to the ISAKMP port (``udpport``, default 500) or 4500 of one of the
  router's addresses goes to the daemon (:meth:`_deliver` hook), and what
  it returns is sent as UDP from the router; ESP-in-UDP on 4500 (RFC 3948:
  no non-ESP marker) goes to IPsec's inbound processing instead;
- an outbound packet of an ISAKMP policy without a bundle is held
  (at most :data:`HELD_PER_POLICY` per policy, more are dropped and
  counted ``outNoBundleFail``) while the key manager negotiates, sent
  once the bundle is up, and dropped (counted the same) when the
  negotiation fails;
- :meth:`_isakmp_pump` (after every packet, command and timer) runs the
  key manager, the daemon's timers and sends the held packets;
  :meth:`next_timer` says when the daemon wants the router's next poll;
- the console's displays (``show isakmp sa`` ...) read the running daemon
  through :class:`IsakmpRuntime` (``daemon()``); the daemon's debug records
  go to :attr:`isakmp_debug` (an :class:`~..isakmp.debug.IsakmpDebug`
  whose ``lines`` are the router's ISAKMP debug log and whose ``write`` is
  the terminal of the console that last ran ``enable isakmp debug``:
  the lines are printed there as they happen).
"""
import collections

from ..ipsec.packet import PROTO_UDP, MalformedPacket, parse_ip, parse_udp
from ..ipsec.spd import KeyManagement
from ..ipsec.udp_encap import natt_decapsulate
from ..isakmp.bad_spi import BadSpiResponder
from ..isakmp.daemon import IsakmpDaemon
from ..isakmp.debug import IsakmpDebug
from ..isakmp.keying import IsakmpKeying
from ..isakmp.prenegotiation import prenegotiate
from ..isakmp.show_commands import IsakmpRuntime as ShowRuntime
from ..isakmp.transport import NAT_T_PORT, Datagram
from ..isakmp.xauth import XauthService
from ..views.alliedware.isakmp_debug import debug_lines
from .stack import selector_of, udp_packet

__all__ = ["IsakmpGate", "HELD_PER_POLICY"]

#: Packets held per policy while its bundle is negotiated (R16: "a few").
HELD_PER_POLICY = 8


class IsakmpRuntime(ShowRuntime):
    """What the ISAKMP commands and displays ask of the running daemon (set
    as ``IsakmpConfig.runtime``, and the console's ``isakmp_runtime``); the
    work is done after the command."""

    def __init__(self, gate):
        self.gate = gate
        self.reset_policies = []

    def daemon(self):
        """The router's running :class:`~..isakmp.daemon.IsakmpDaemon`, or None."""
        return self.gate.isakmp_daemon

    def reset_policy(self, name):
        """``reset isakmp policy`` (and ``destroy isakmp policy``): its SAs are deleted after the command."""
        self.reset_policies.append(name)

    def retries(self):
        """The ISAKMP key manager's :class:`~..isakmp.retry.IkeRetries` (``retryikeattempts``), or None."""
        keying = self.gate.isakmp_keying
        return None if keying is None else keying.retries

    def debug_to(self, terminal):
        """``enable isakmp debug`` on a console with ``terminal``: print the debug lines there."""
        self.gate.isakmp_debug.write = terminal

    def reset_counters(self, groups):
        """``reset isakmp counters``: the daemon's counters (all or ``groups``)."""
        daemon = self.gate.isakmp_daemon
        if daemon is not None:
            daemon.counters.reset(groups)


class IsakmpGate:
    """The ISAKMP part of a :class:`~.router.Router` (see the module docstring)."""

    def _init_isakmp(self):
        self.isakmp_daemon = None
        self.isakmp_keying = None
        self.isakmp_bad_spi = None
        self._held = collections.defaultdict(collections.deque)
        self._pumping = False
        self.state.isakmp.runtime = IsakmpRuntime(self)
        self.isakmp_debug = IsakmpDebug(self.state.isakmp, debug_lines)

    def next_timer(self):
        """When (router clock, seconds) the ISAKMP daemon's next timer or a
        ``retryikeattempts`` re-attempt is due, or None: poll then."""
        if self.isakmp_daemon is None:
            return None
        times = [t for t in (self.isakmp_daemon.next_timer(), self.isakmp_keying.retries.next_timer()) if t is not None]
        return min(times, default=None)

    def _addresses(self):
        """The router's IPv4 and IPv6 addresses, those of interfaces with IPsec policies first (the
        daemon's local address towards a peer is the first of its IP version)."""
        first = (lambda iface: not self.ipsec.spd.policies(iface.name))
        out = [iface.address.ip for iface in sorted(self.ip.interfaces.values(), key=first)]
        return out + [a.ip for iface in sorted(self.ipv6.interfaces.values(), key=first) for a in iface.addresses]

    async def _isakmp_sync(self):
        """Follow the ISAKMP configuration after a command (see the module docstring)."""
        config = self.state.isakmp
        created = config.enabled and self.isakmp_daemon is None
        if created:
            self.isakmp_daemon = IsakmpDaemon(config, self.state.keys, self.enco, self._addresses(), self.clock)
            self.isakmp_daemon.interface_address = self._interface_address
            self.isakmp_debug.attach(self.isakmp_daemon)
            self.isakmp_keying = IsakmpKeying(self.isakmp_daemon, self.ipsec, self.kernel)
            XauthService(self.isakmp_daemon, self.state.users, self.state.radius, self.state.modeconfig)
            self.ipsec.register_key_manager(KeyManagement.ISAKMP, self.isakmp_keying)
            self.ipsec.on_bundle_removed = self.isakmp_keying.bundle_removed
            self.isakmp_bad_spi = BadSpiResponder(self.isakmp_daemon, self.ipsec.spd)
            self.datapath.on_unknown_spi = self.isakmp_bad_spi.unknown_spi
        out = []
        daemon = self.isakmp_daemon
        if daemon is not None:
            daemon.local_addresses = tuple(self._addresses())        # interfaces and policies may have changed
        if daemon is not None and not config.enabled:
            for sa in list(daemon.sas):
                out += await daemon.delete_sa(sa, "local")
            self.ipsec.key_managers.pop(KeyManagement.ISAKMP, None)
            self.ipsec.on_bundle_removed = lambda bundle: None
            self.datapath.on_unknown_spi = None
            self.isakmp_daemon = self.isakmp_keying = self.isakmp_bad_spi = None
        if daemon is not None and created:
            out += await prenegotiate(daemon)
        runtime = config.runtime
        for name in runtime.reset_policies:
            for sa in list(daemon.sas) if daemon is not None and self.isakmp_daemon is not None else ():
                if sa.policy.name == name:
                    out += await daemon.delete_sa(sa, "local")
        runtime.reset_policies.clear()
        return await self._send_datagrams(out)

    def _interface_address(self, name):
        """The IPv4 address of interface ``name``, or None (the daemon's SRCINTERFACE look-up)."""
        iface = self.ip.interfaces.get(name.lower())
        return iface.address.ip if iface is not None else None

    async def _send_datagrams(self, datagrams):
        out = []
        for datagram in datagrams:
            out += await self.send(udp_packet(datagram.src, datagram.dst, datagram.sport, datagram.dport,
                                              datagram.data, identification=self._next_id()))
        return out

    def _isakmp_port(self, ip):
        """Whether ``ip`` is UDP for the daemon."""
        if self.isakmp_daemon is None or ip.protocol != PROTO_UDP or len(ip.payload) < 4:
            return False
        port = int.from_bytes(ip.payload[2:4], "big")
        return port in (self.state.isakmp.udpport, NAT_T_PORT)

    async def _isakmp_deliver(self, ip):
        """Hand a UDP datagram for the daemon to it; the packets it answers with."""
        try:
            sport, dport, payload = parse_udp(ip)
        except MalformedPacket as error:
            return self._drop("-", "local", "udpInErrors", f"from {ip.src}: {error}", "udpInErrors",
                              version=ip.version)
        if dport == NAT_T_PORT:
            esp = natt_decapsulate(ip)
            if esp is not None:                         # RFC 3948 ESP-in-UDP: IPsec's
                route = self.ip.lookup(ip.src)
                return await self._inbound_ipsec(esp, route.interface if route is not None else "-")
        replies = await self.isakmp_daemon.receive(Datagram(ip.src, ip.dst, sport, dport, payload))
        return await self._send_datagrams(replies)

    def _hold(self, policy, packet, interface):
        """Keep ``packet`` until ``policy`` has a bundle; False when the queue is full."""
        held = self._held[policy.name]
        if len(held) >= HELD_PER_POLICY:
            return False
        held.append((packet, interface))
        return True

    async def _isakmp_pump(self):
        """Run the key manager and the daemon's timers, send held packets whose bundle is up."""
        if self._pumping or self.isakmp_daemon is None:
            return []
        self._pumping = True
        try:
            daemon = self.isakmp_daemon
            out = await self._send_datagrams(await self.isakmp_keying.pump())
            out += await self._send_datagrams(await self.isakmp_bad_spi.pump())
            timer = daemon.next_timer()
            if timer is not None and timer <= self.clock():
                out += await self._send_datagrams(await daemon.on_timer(self.clock()))
                out += await self._send_datagrams(await self.isakmp_keying.pump())
            for name in list(self._held):
                out += await self._release_held(name)
            return out
        finally:
            self._pumping = False

    async def _release_held(self, name):
        """Send ``name``'s held packets whose bundle is up; drop them (counted) when no negotiation is left."""
        held, out = self._held[name], []
        while held and self.ipsec.spd.has_policy(name) and \
                self.ipsec.sad.find_bundle(name, selector_of(parse_ip(held[0][0]))) is not None:
            packet, interface = held.popleft()
            out += await self._output(packet, interface)
        if held and not (self.ipsec.spd.has_policy(name) and self.isakmp_keying.pending(name)):
            for packet, interface in held:
                self._pcount(name, "out", "outNoBundleFail")
                self._module(packet[0] >> 4).count("ipsecDiscards")
                self._drop(interface, "out", "outNoBundleFail", f"policy {name}: the negotiation failed")
            held.clear()
        if not held:
            del self._held[name]
        return out
