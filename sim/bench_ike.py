# Ref: RFC 2409 sections 5 and 5.4 (main mode with pre-shared keys); README.md "Commands" (bench output keys)
"""``pacsim bench ike``: IKEv1 negotiations per second between two pacsim
routers' ISAKMP daemons, each on its own card, beside strongSwan (two
charons driven over vici, :mod:`.interop.charon_pair`) in the same run.

A negotiation is the steps of :data:`STEPS` run in order by
:func:`negotiate` on an :class:`IkePair`; each step is
``async step(pair) -> None`` and raises :class:`NegotiationFailed` unless
both sides agree: phase 1 in main mode (:func:`main_mode`), then phase 2
in quick mode over it (:func:`quick_mode`: one ESP tunnel SA pair,
AES-128 with HMAC-SHA1, no PFS, as strongSwan's child
:data:`STRONGSWAN_CHILD`). After each negotiation :meth:`IkePair.clear`
deletes the SAs on both sides (not timed), so every negotiation starts
from the same state and the cards' channels are given back.

The transform is strongSwan's first proposal, aes128-sha1-modp1024
(:data:`BENCH_POLICY`), with the router's default DH exponent length (160
bits). Every negotiation must end with one established SA on each side,
no daemon fault, and equal keys and transforms on both sides (phase 2:
each side's outbound SPI and keys are the other's inbound ones), so a fast
but wrong path cannot post a figure.

Row keys: ``bench`` ("ike"), ``bus`` ("model" or "rtl"), ``steps`` (the
exchanges of one negotiation), ``transform``, ``negotiations``, ``per_s``
(wall clock), ``cpu_per_s`` (this process' CPU time: steadier than the
wall clock on a shared machine), ``card_pk_clocks`` (PCI clocks the two
cards' public-key units were busy in all negotiations, the driver's
:attr:`PacDevice.pk_clocks`), ``card_pk_operations``; then, added by
:func:`beside_strongswan`, ``strongswan_per_s`` and
``ratio_vs_strongswan`` (ours / theirs; both null when strongSwan cannot
run here, ``strongswan`` saying why).
"""
import time

from types import SimpleNamespace

from ..firmware.enco.keys import KeyStore, KeyType
from ..firmware.ipsec.spd import KeyManagement, SaSpecification
from ..firmware.ipsec.transforms import EncAlg, HashAlg, Mode, Protocol
from ..firmware.isakmp.constants import ExchangeType
from ..firmware.isakmp.daemon import IsakmpDaemon
from ..firmware.isakmp.ike_sa import IkeSaState
from ..firmware.isakmp.policy_config import IsakmpConfig, IsakmpPolicy
from ..firmware.isakmp.quick_mode import Phase2Request, QuickModeInitiator, quick_mode_factory
from ..host.device import PacDevice
from .interop.charon_pair import strongswan_rate
from .interop.strongswan import CONNECTION
from .model_bus import ModelBus

__all__ = ["IkePair", "IpsecSide", "NegotiationFailed", "PHASE2_REQUEST", "STEPS", "STRONGSWAN_CHILD", "BENCH_POLICY", "DEFAULT_NEGOTIATIONS",
           "negotiate", "main_mode", "quick_mode", "bench_ike", "bench_ike_model", "beside_strongswan", "ike_pair_on"]

DEFAULT_NEGOTIATIONS = 50
#: Addresses of the two routers (RFC 5737), the same as the interop lab's.
ADDRESS_I, ADDRESS_R = "192.0.2.1", "192.0.2.2"
#: The pre-shared key (ENCO key ``PSK_ID`` on both routers) and the lab's.
PSK, PSK_ID = b"interop-test-psk", 7
#: The policy of both routers: strongSwan's aes128-sha1-modp1024.
BENCH_POLICY = {"encalg": "aes128", "hashalg": "sha", "group": 2, "mode": "main"}
#: The quick mode's offer (both sides): one ESP tunnel pair, AES-128 + HMAC-SHA1, 3600 s, no PFS, host to host.
PHASE2_REQUEST = Phase2Request(SimpleNamespace(name="bench"), (((SaSpecification(
    1, KeyManagement.ISAKMP, Protocol.ESP, Mode.TUNNEL, EncAlg.AES128, HashAlg.SHA),),),), 3600, None, None)


class IpsecSide:
    """The IPsec side of one daemon in quick mode (the ``host`` of
    :mod:`~pacsim.firmware.isakmp.quick_mode`): inbound SPIs from a counter
    starting at ``first_spi``, :data:`PHASE2_REQUEST` offered and answered,
    the :class:`~pacsim.firmware.isakmp.quick_mode.Phase2Outcome` of each
    exchange kept in ``outcomes`` (nothing goes to a SAD: the bench times
    the negotiation), failures in ``failures``."""

    def __init__(self, first_spi: int):
        self.next_spi, self.outcomes, self.failures = first_spi, [], []

    async def spis(self, protocols) -> dict:
        self.next_spi += 1
        return {protocol: self.next_spi for protocol in protocols}

    def release(self, spis) -> None:
        """SPIs of a failed exchange: nothing holds them."""

    def failed(self, request) -> None:
        self.failures.append(request)

    def responder_offer(self, sa, idci, idcr):
        return PHASE2_REQUEST

    async def installed(self, outcome) -> None:
        self.outcomes.append(outcome)


class NegotiationFailed(AssertionError):
    """A step of a negotiation did not end with both sides agreeing."""


class IkePair:
    """Two ISAKMP daemons (``initiator``, ``responder``) joined by a
    lossless network in ``now`` (seconds, virtual time): :meth:`exchange`
    hands every datagram to the daemon at its destination until nothing
    is in flight. ``devices``: the two :class:`~pacsim.host.device.PacDevice`
    (possibly the same card twice); ``log``: ``(now, Datagram)`` of every
    datagram delivered since :meth:`clear`; ``policy``: parameters of
    :class:`~pacsim.firmware.isakmp.policy_config.IsakmpPolicy` over
    :data:`BENCH_POLICY`."""

    def __init__(self, initiator_device, responder_device, policy=None):
        self.now = 0.0
        self.log = []
        self.devices = (initiator_device, responder_device)
        params = dict(BENCH_POLICY, **(policy or {}))
        self.initiator = self._daemon(initiator_device, ADDRESS_I, ADDRESS_R, params)
        self.responder = self._daemon(responder_device, ADDRESS_R, ADDRESS_I, params)
        self._by_address = {d.local_addresses[0]: d for d in (self.initiator, self.responder)}
        self.ipsec = (IpsecSide(0x1000), IpsecSide(0x2000))
        for daemon, side in zip((self.initiator, self.responder), self.ipsec):
            daemon.register_exchange(ExchangeType.QUICK, quick_mode_factory(side))

    def _daemon(self, device, local, peer, params):
        keys = KeyStore()
        keys.create(PSK_ID, KeyType.GENERAL, value=PSK)
        config = IsakmpConfig(policies={"bench": IsakmpPolicy("bench", peer=peer, key=PSK_ID, **params)})
        return IsakmpDaemon(config, keys, device, [local], lambda: self.now)

    async def exchange(self, datagrams) -> int:
        """Deliver ``datagrams`` and all they cause; returns the datagrams delivered."""
        queue, delivered = list(datagrams), 0
        while queue:
            datagram = queue.pop(0)
            delivered += 1
            self.log.append((self.now, datagram))
            self._by_address[datagram.dst].device.bus.annotate(packet=len(self.log))   # for the waveform
            queue += await self._by_address[datagram.dst].receive(datagram)
        return delivered

    def established(self) -> tuple:
        """``(initiator's SA, responder's SA)`` of the phase 1 just made, else :class:`NegotiationFailed`."""
        sas = [list(d.sas) for d in (self.initiator, self.responder)]
        faults = self.initiator.faults + self.responder.faults
        if faults or any(len(s) != 1 or s[0].state is not IkeSaState.ESTABLISHED for s in sas):
            raise NegotiationFailed(f"phase 1 did not establish one SA on each side: {sas}; faults {faults}")
        return sas[0][0], sas[1][0]

    async def clear(self) -> None:
        """Delete every SA on both sides (the cards' channels are closed), empty the log and the outcomes."""
        self.log.clear()
        for side in self.ipsec:
            side.outcomes.clear()
        for daemon in (self.initiator, self.responder):
            for sa in list(daemon.sas):
                await daemon.delete_sa(sa)


async def main_mode(pair: IkePair) -> None:
    """Phase 1 in main mode (six messages); both sides must hold the same keys and transform."""
    if await pair.exchange(await pair.initiator.initiate("bench")) != 6:
        raise NegotiationFailed("main mode did not take six messages")
    sa_i, sa_r = pair.established()
    if sa_i.keys != sa_r.keys or sa_i.transform != sa_r.transform:
        raise NegotiationFailed("the two sides of phase 1 derived different keys or transforms")


async def quick_mode(pair: IkePair) -> None:
    """Phase 2 in quick mode (three messages) over the phase 1 just made:
    one SA pair on each side, each side's outbound SPI and keys the other's inbound ones."""
    sa, _ = pair.established()
    initiator = pair.initiator
    exchange = QuickModeInitiator(initiator, sa, pair.ipsec[0], PHASE2_REQUEST,
                                  await initiator.new_message_id(sa), pair.now)
    if await pair.exchange(await initiator.start_exchange(exchange)) != 3:
        raise NegotiationFailed("quick mode did not take three messages")
    outcomes = [side.outcomes for side in pair.ipsec]
    if any(len(o) != 1 or len(o[0].pairs) != 1 for o in outcomes):
        raise NegotiationFailed(f"quick mode did not give one SA pair on each side: {outcomes}")
    (mine,), (theirs,) = (o[0].pairs for o in outcomes)
    if (mine.outbound_spi, mine.outbound_keys, mine.inbound_spi, mine.inbound_keys) != (
            theirs.inbound_spi, theirs.inbound_keys, theirs.outbound_spi, theirs.outbound_keys):
        raise NegotiationFailed("the two sides of quick mode derived different SPIs or keys")


#: The exchanges of one measured negotiation, in order.
STEPS = (main_mode, quick_mode)
#: The strongSwan child SA initiated with the IKE SA for these steps (the lab's: ESP aes128-sha1, tunnel).
STRONGSWAN_CHILD = CONNECTION


async def negotiate(pair: IkePair, steps=STEPS) -> None:
    """One negotiation: every step in order."""
    for step in steps:
        await step(pair)


async def ike_pair_on(bus, devices=None, policy=None) -> IkePair:
    """An :class:`IkePair` on ``bus``: the daemons on the cards at PCI
    ``devices`` (two numbers; default the first two found, or the only one twice)."""
    found = devices or (await PacDevice.scan(bus))[:2]
    first = await PacDevice.probe(bus, device=found[0])
    second = await PacDevice.probe(bus, device=found[1]) if len(found) > 1 else first
    return IkePair(first, second, policy)


async def _measure(pair: IkePair, negotiations: int) -> tuple:
    """Seconds of wall clock and of this process' CPU in ``negotiations``
    negotiations, PK clocks and PK operations of both cards."""
    cards = {id(d): d for d in pair.devices}.values()
    before = [(d.pk_clocks, d.pk_operations) for d in cards]
    wall = cpu = 0.0
    for _ in range(negotiations):
        started, started_cpu = time.perf_counter(), time.process_time()
        await negotiate(pair)
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        await pair.clear()
    clocks = sum(d.pk_clocks - c for d, (c, _) in zip(cards, before))
    operations = sum(d.pk_operations - o for d, (_, o) in zip(cards, before))
    return wall, cpu, clocks, operations


async def bench_ike(pair: IkePair, bus_name: str, negotiations: int = DEFAULT_NEGOTIATIONS) -> dict:
    """Our half of the bench row: ``negotiations`` negotiations on ``pair``."""
    wall, cpu, clocks, operations = await _measure(pair, negotiations)
    return {"bench": "ike", "bus": bus_name, "steps": "+".join(s.__name__ for s in STEPS),
            "transform": "aes128-sha1-modp1024", "negotiations": negotiations,
            "per_s": round(negotiations / wall, 2), "cpu_per_s": round(negotiations / cpu, 2) if cpu else None,
            "card_pk_clocks": clocks, "card_pk_operations": operations}


async def bench_ike_model(negotiations: int = DEFAULT_NEGOTIATIONS) -> dict:
    """:func:`bench_ike` with each daemon on its own model card."""
    cards = [await PacDevice.probe(ModelBus()) for _ in range(2)]
    return await bench_ike(IkePair(*cards), "model", negotiations)


def beside_strongswan(rows: list, negotiations: int) -> list:
    """``rows`` with strongSwan's rate for the same steps (measured once) and our ratio to it."""
    theirs, why = strongswan_rate(negotiations, STRONGSWAN_CHILD)
    return [dict(row, strongswan_per_s=None if theirs is None else round(theirs, 2),
                 ratio_vs_strongswan=None if theirs is None else round(row["per_s"] / theirs, 3),
                 strongswan=why or f"two charons (strongSwan), child {STRONGSWAN_CHILD}") for row in rows]
