# Ref: RFC 2401 sections 4.4 and 5 (SAD processing); spec/ipsec-commands.md §5.5-§5.7 (B42, B45-B47);
#      spec/show-outputs.md §3.2 (IPSec: ALG counters); strongSwan kernel_interface (get_spi, add_sa, del_sa, query_sa)
"""The SA kernel: the one owner of the life of an SA bundle on the card.

After strongSwan's kernel interface, the key managers (manual keying now,
ISAKMP later) and the router reach the card's SAs through one object,
:class:`SaKernel`:

- ``await get_spi(protocol)``: an inbound SPI (IPComp: CPI) no SA uses and
  no other caller holds, reserved until an SA takes it up and released
  when that SA ends;
- ``await add_bundle(bundle)``: set a SAD bundle up on the card: its runtime
  SAs (:func:`~.sa.from_pair`; tunnel endpoints: the policy's source
  interface address, ``local_address(policy)``, and the bundle's peer, a
  negotiated bundle's, else the policy's fixed peer), their
  ENCO channels (opened through the ENCO service) and its place in the
  datapath, all or nothing. A bundle that cannot be set up has every
  channel it opened closed again and is left INVALID in the SAD with its
  SAs UNDEF (the display shows why packets for it drop,
  ``outBundleStateBad``); the failure is counted
  (``setupSaSetupFailed``/``setupFailed`` and the per-protocol SETUP
  counters, ``ipsecConfigureFail`` when its SAs cannot be configured,
  ``ipsecAttachFail`` when their channels cannot be opened) and the reason
  returned;
- ``await del_bundle(bundle)``: take it off the datapath and close its
  channels (``ipsecRemove`` per SA, ``ipsecDetached``);
- ``query()``: an immutable :class:`KernelSnapshot` of the bundles on the
  card, their SAs, channels and states, and the ``IPSec:`` ALG counters.

The SAD tells the kernel what manual keying does to it as it happens
(:meth:`Sad.listener <.sad.Sad>` calls :meth:`SaKernel.added` and
:meth:`SaKernel.removed` inside the command that adds or removes the
bundle). The console's commands are synchronous and the card's driver is
not, so the kernel holds the work until :meth:`SaKernel.settle`, which the
router awaits at the end of each command and timer: removals first (their
channels are free again), then the new bundles in SAD order. A bundle
added and removed within one command never reaches the card. Bundles are
known by their SAD key (policy name, bundle id), runtime SAs by SA id.
"""
import dataclasses
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from ..state.counters import CounterSchema, CounterSet
from .datapath import BundleProcessor, Datapath
from .sa import SaSetupError, SecurityAssociation, from_pair
from .sad import BundleState, SaBundle, SaState
from .transforms import Protocol
from .udp_encap import NattEncapsulation, UdpTunnel

__all__ = ["SaKernel", "KernelSnapshot", "KernelBundle", "KernelSa", "bundle_key", "IPSEC_ALG_COUNTERS"]

#: The ``IPSec:`` block of ``counter=alg`` and ``nullKeymatProcessed`` (spec/show-outputs.md §3.2),
#: counted by the kernel (setup and removal) and the router's IPsec gate (packets).
IPSEC_ALG_COUNTERS = CounterSchema("alg ipsec", (
    "ipsecKeymatProcessed", "ipsecAttachFail", "ipsecAttachGood", "ipsecConfigureFail", "ipsecConfigureGood",
    "ipsecRemove", "ipsecDetached", "ipsecEncodeGood", "ipsecDecodeGood", "ipsecEncodeFail", "ipsecDecodeFail",
    "ipsecEncodeDiscard", "ipsecDecodeDiscard", "nullKeymatProcessed"))


def bundle_key(bundle: SaBundle) -> tuple[str, int]:
    """A SAD bundle's key: (policy name in lower case, bundle id)."""
    return bundle.policy_name.lower(), bundle.bundle_id


@dataclass(frozen=True)
class KernelSa:
    """One runtime SA on the card: ``sa_id``, ``protocol``, ``state`` and
    ``channels`` (``(service, direction, channel number)`` of each open ENCO channel)."""
    sa_id: int
    protocol: Protocol
    state: SaState
    channels: tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class KernelBundle:
    """One SAD bundle the kernel was given: ``policy`` and ``bundle_id``, its
    SAD ``state``, ``sas`` (:class:`KernelSa`, empty when it is not on the
    card) and ``problem`` (why it could not be set up, "" if it was)."""
    policy: str
    bundle_id: int
    state: BundleState
    sas: tuple[KernelSa, ...]
    problem: str = ""


@dataclass(frozen=True)
class KernelSnapshot:
    """:meth:`SaKernel.query`: the ``bundles`` (:class:`KernelBundle`, by
    key), the SPIs held by :meth:`SaKernel.get_spi` (``reserved_spis``,
    ``(protocol, spi)``) and the ``IPSec:`` ALG counters (``counters``,
    ``(name, value)`` pairs, by name)."""
    bundles: tuple[KernelBundle, ...]
    reserved_spis: tuple[tuple[Protocol, int], ...]
    counters: tuple[tuple[str, int], ...]


@dataclass
class _Installed:
    """The kernel's record of one SAD bundle: the bundle, its processor on
    the card (None: not set up) and why not."""
    bundle: SaBundle
    processor: BundleProcessor | None
    problem: str = ""


class SaKernel:
    """The SA kernel (see the module docstring).

    ``ipsec``: the :class:`~.module.IpsecModule` (its SPD, SAD, UDP listen
    port and SETUP counters); ``enco``: the
    :class:`~pacsim.firmware.enco.service.EncoService` channels are opened
    through; ``datapath``: the :class:`~.datapath.Datapath`; ``counters``:
    the data plane's counters the runtime SAs count in;
    ``local_address(policy)``: the policy's local tunnel end, or None;
    ``clock()`` seconds; ``random_bytes(n)`` for IVs; ``next_id()`` the
    router's IPv4 Identification counter; ``replay_window`` (packets, None:
    off): anti-replay for manual ESP and AH SAs, a model extension.
    """

    def __init__(self, ipsec, enco, datapath: Datapath, counters, *, local_address: Callable,
                 clock: Callable[[], float], random_bytes: Callable[[int], bytes], next_id: Callable[[], int],
                 replay_window: int | None = None):
        self.ipsec = ipsec
        self.enco = enco
        self.datapath = datapath
        self.counters = counters
        self.local_address = local_address
        self.clock = clock
        self.random_bytes = random_bytes
        self.next_id = next_id
        self.replay_window = replay_window
        #: The ``IPSec:`` and ``General:`` ALG counters (spec/show-outputs.md §3.2).
        self.alg = CounterSet(IPSEC_ALG_COUNTERS)
        self._installed: dict[tuple[str, int], _Installed] = {}
        self._sas: dict[int, SecurityAssociation] = {}
        self._reserved: set[tuple[Protocol, int]] = set()
        self._pending_add: dict[tuple[str, int], SaBundle] = {}
        self._pending_del: list[_Installed] = []
        ipsec.sad.listener = self

    # -- what the SAD reports (inside a command) -------------------------------------------------------

    def added(self, bundle: SaBundle) -> None:
        """The SAD stored ``bundle``: it goes on the card at the next :meth:`settle`."""
        self._pending_add[bundle_key(bundle)] = bundle
        for rec in bundle.sas:
            self._reserved.discard((rec.pair.protocol, rec.pair.inbound_spi))

    def removed(self, bundle: SaBundle) -> None:
        """The SAD removed ``bundle``: it leaves the card at the next :meth:`settle`."""
        key = bundle_key(bundle)
        if self._pending_add.get(key) is bundle:
            del self._pending_add[key]
        entry = self._installed.get(key)
        if entry is not None and entry.bundle is bundle:
            del self._installed[key]
            self._pending_del.append(entry)

    async def settle(self) -> list[str]:
        """Carry out what the SAD reported (see the module docstring); an
        ``Error:`` line per bundle that could not be set up."""
        self.datapath.udp_listen_port = self.ipsec.udp_listen_port
        removals, self._pending_del = self._pending_del, []
        for entry in removals:
            if entry.processor is not None:
                await self._detach(entry.processor)
        order = [bundle_key(b) for b in self.ipsec.sad.all_bundles()]
        additions = sorted(self._pending_add.values(), key=lambda b: order.index(bundle_key(b)))
        self._pending_add.clear()
        notes = []
        for bundle in additions:
            problem = await self.add_bundle(bundle)
            if problem:
                notes.append(f'Error: SA bundle {bundle.bundle_id} of IPsec policy "{bundle.policy_name}" '
                             f"was not set up: {problem}")
        return notes

    # -- the kernel interface ------------------------------------------------------------------------

    async def get_spi(self, protocol: Protocol) -> int:
        """An inbound SPI (IPComp: CPI) of ``protocol`` that no SA uses and
        no earlier call holds; held until an SA of the SAD takes it up."""
        while True:
            spi = self.ipsec.sad.get_spi(protocol)
            if (protocol, spi) not in self._reserved:
                self._reserved.add((protocol, spi))
                return spi

    def release_spi(self, protocol: Protocol, spi: int) -> None:
        """Give back an SPI from :meth:`get_spi` that no SA took up."""
        self._reserved.discard((protocol, spi))

    async def add_bundle(self, bundle: SaBundle) -> str:
        """Set SAD ``bundle`` up on the card, all or nothing (see the module
        docstring); "" when it is, otherwise why not (the bundle is then
        INVALID in the SAD and the failure counted). A key manager that
        awaits it right after storing the bundle in the SAD has it on the
        card at once; a bundle already set up is left as it is."""
        key = bundle_key(bundle)
        if self._pending_add.get(key) is bundle:            # set up now rather than at the next settle
            del self._pending_add[key]
        installed = self._installed.get(key)
        if installed is not None and installed.bundle is bundle:
            return installed.problem
        policy = self.ipsec.spd.policy(bundle.policy_name)
        proc, problem = self._configure(bundle, policy)
        configured = proc is not None
        if proc is not None:
            self.enco.owner = f"IPsec {policy.name} bundle {bundle.bundle_id}"
            try:
                await proc.open(self.enco)
            except SaSetupError as error:
                problem, proc = str(error.__cause__ or error), None
        if proc is not None:
            try:
                self.datapath.add_bundle(proc)
            except ValueError as error:
                await proc.close()
                problem, proc = str(error), None
        self._installed[key] = _Installed(bundle, proc, problem or "")
        if proc is None:
            bundle.state = BundleState.INVALID
            for rec in bundle.sas:
                rec.state = SaState.UNDEF
            self.ipsec.bundle_setup_failed(policy.name)
            self.alg["ipsecAttachFail" if configured else "ipsecConfigureFail"] += 1
            return problem
        for sa, rec in zip(proc.sas, bundle.sas):
            self.enco.label(sa.channels.values(), f"IPsec SA {sa.sa_id}")
            self._sas[sa.sa_id] = sa
            self.ipsec.sad.attach(rec.sa_id, sa)
            self.alg["ipsecAttachGood"] += 1
            self.alg["ipsecConfigureGood"] += 1
            if sa.outbound_keys.cipher or sa.outbound_keys.mac:
                self.alg["ipsecKeymatProcessed"] += 1
            if sa.protocol is Protocol.ESP and (sa.cipher is None or sa.mac is None):
                self.alg["nullKeymatProcessed"] += 1
        return ""

    async def del_bundle(self, bundle: SaBundle) -> None:
        """Remove ``bundle`` from the SAD and take it off the card (its
        channels closed, its SPIs free again)."""
        self.ipsec.sad.del_sa_bundle(bundle.policy_name, bundle.bundle_id)
        await self.settle()

    def query(self) -> KernelSnapshot:
        """An immutable snapshot of the bundles, SAs, channels, states and counters."""
        bundles = []
        for key in sorted(self._installed):
            entry = self._installed[key]
            sas = () if entry.processor is None else tuple(
                KernelSa(sa.sa_id, sa.protocol, sa.state,
                         tuple((service, direction, channel.number)
                               for (service, direction), channel in sorted(sa.channels.items())))
                for sa in entry.processor.sas)
            bundles.append(KernelBundle(entry.bundle.policy_name, entry.bundle.bundle_id, entry.bundle.state, sas,
                                        entry.problem))
        return KernelSnapshot(tuple(bundles), tuple(sorted(self._reserved, key=lambda r: (r[0].value, r[1]))),
                              tuple(sorted(self.alg.items())))

    # -- lookups for the data plane and the displays ---------------------------------------------------

    def processor(self, bundle: SaBundle) -> BundleProcessor | None:
        """The card's processor of SAD ``bundle``, or None (not set up)."""
        entry = self._installed.get(bundle_key(bundle))
        return entry.processor if entry is not None and entry.bundle is bundle else None

    def owner(self, processor: BundleProcessor) -> SaBundle | None:
        """The SAD bundle ``processor`` carries, or None (it was removed)."""
        entry = self._installed.get(processor.key) if processor.key is not None else None
        return entry.bundle if entry is not None and entry.processor is processor else None

    def runtime_sa(self, sa_id: int) -> SecurityAssociation | None:
        """The runtime SA of SA ``sa_id``, or None."""
        return self._sas.get(sa_id)

    # -- inside ----------------------------------------------------------------------------------------

    def _configure(self, bundle: SaBundle, policy) -> tuple[BundleProcessor | None, str | None]:
        """The bundle's processor (its SAs not yet open), or None and why."""
        local = self.local_address(policy)
        peer = bundle.peer if bundle.peer is not None else policy.peeraddress \
            if isinstance(policy.peeraddress, ipaddress.IPv4Address | ipaddress.IPv6Address) else None
        if local is None:
            return None, (f"interface {policy.source_interface} has no IP{'v6' if policy.ipversion == 6 else ''} "
                          "address (the tunnel's local end)")
        if peer is None:
            return None, "the peer address is not fixed; manual keys need PEERADDRESS=ipadd"
        try:
            sas = [from_pair(self._pair(rec.pair), sa_id=rec.sa_id, local=local, peer=peer,
                             random_bytes=self.random_bytes, module_counters=self.counters)
                   for rec in bundle.sas]
            tunnel = None
            if bundle.natt_ports is not None:
                tunnel = NattEncapsulation(local_port=bundle.natt_ports[0], remote_port=bundle.natt_ports[1])
            elif policy.udptunnel:
                tunnel = UdpTunnel(local_port=self.ipsec.udp_listen_port, remote_port=policy.udpport,
                                   heartbeats=policy.udpheartbeat, clock=self.clock)
            return BundleProcessor(sas, bundle_id=bundle.bundle_id, key=bundle_key(bundle), df_bit=policy.dfbit,
                                   udp_tunnel=tunnel, next_id=self.next_id, original=bundle.nat_oa), None
        except ValueError as error:
            return None, str(error)

    def _pair(self, pair):
        if self.replay_window and pair.protocol is not Protocol.IPCOMP:
            return dataclasses.replace(pair, antireplay=True, replay_window=self.replay_window)
        return pair

    async def _detach(self, proc: BundleProcessor) -> None:
        self.datapath.remove_bundle(proc)
        for sa in proc.sas:
            self.alg["ipsecRemove"] += 1
            if self._sas.get(sa.sa_id) is sa:
                del self._sas[sa.sa_id]
        await proc.close()
        self.alg["ipsecDetached"] += len(proc.sas)
