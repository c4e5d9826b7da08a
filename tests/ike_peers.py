"""Two (or more) ISAKMP daemons on their own behavioural-model cards,
joined by a virtual network in virtual time (no tests of its own).

:class:`VirtualNetwork` delivers every datagram a daemon returns to the
daemon owning the destination address, in order, and advances its clock
to the earliest :meth:`IsakmpDaemon.next_timer` when nothing is in
flight. ``log`` keeps ``(time, Datagram)`` of everything sent; ``tap``
(``datagram -> datagram or None``) may rewrite or drop datagrams in
flight (a lossy link, a NAT, a forger).
"""
import asyncio

from pacsim.firmware.enco.keys import KeyStore, KeyType
from pacsim.firmware.isakmp.daemon import IsakmpDaemon
from pacsim.firmware.isakmp.policy_config import IsakmpConfig, IsakmpPolicy
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus

ADDRESS_I, ADDRESS_R = "192.0.2.1", "192.0.2.2"
PSK = b"interop-test-psk"
PSK_ID = 7


class VirtualNetwork:
    """Daemons by address, a virtual clock (``now``, seconds) and the datagram log."""

    def __init__(self):
        self.now = 0.0
        self.daemons = {}
        self.log = []
        self.tap = None

    def clock(self):
        return self.now

    async def add(self, address, policies, psk=PSK):
        """A daemon at ``address`` on a fresh card with ``policies`` (IsakmpPolicy list) and key PSK_ID."""
        device = await PacDevice.probe(ModelBus())
        keys = KeyStore()
        keys.create(PSK_ID, KeyType.GENERAL, value=psk)
        config = IsakmpConfig(policies={p.name: p for p in policies})
        daemon = IsakmpDaemon(config, keys, device, [address], self.clock)
        self.daemons[daemon.local_addresses[0]] = daemon
        return daemon

    async def deliver(self, datagrams):
        """Deliver ``datagrams`` and everything they cause, until nothing is in flight."""
        queue = list(datagrams)
        while queue:
            datagram = queue.pop(0)
            if self.tap is not None:
                datagram = self.tap(datagram)
                if datagram is None:
                    continue
            self.log.append((self.now, datagram))
            daemon = self.daemons.get(datagram.dst)
            if daemon is not None:
                queue += await daemon.receive(datagram)

    async def run(self, until):
        """Deliver and fire timers until virtual time ``until`` (seconds) or nothing is left to do."""
        while True:
            timers = [t for t in (d.next_timer() for d in self.daemons.values()) if t is not None]
            if not timers or min(timers) > until:
                self.now = max(self.now, until) if timers else self.now
                return
            self.now = max(self.now, min(timers))
            for daemon in list(self.daemons.values()):
                timer = daemon.next_timer()
                if timer is not None and timer <= self.now:
                    await self.deliver(await daemon.on_timer(self.now))


def policy(name="p", peer=ADDRESS_R, **params):
    """An IsakmpPolicy with the PSK and ``params`` (any group: the daemon's own check, not the CLI's)."""
    return IsakmpPolicy(name, peer=peer, key=PSK_ID, **params)


async def pair(initiator_params=None, responder_params=None, psk_r=PSK):
    """A network with an initiator at ADDRESS_I and a responder at ADDRESS_R."""
    network = VirtualNetwork()
    initiator = await network.add(ADDRESS_I, [policy(peer=ADDRESS_R, **(initiator_params or {}))])
    responder = await network.add(ADDRESS_R, [policy(peer=ADDRESS_I, **(responder_params or {}))], psk=psk_r)
    return network, initiator, responder


def run(coroutine):
    """Run an async test body."""
    return asyncio.run(coroutine)
