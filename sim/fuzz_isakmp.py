# Ref: RFC 2408 section 5 (message processing: a bad message is dropped and changes nothing)
# Ref: RFC 2409 sections 5, 5.3 (main and aggressive mode, encrypted bodies); RFC 3706 (DPD)
# Ref: ../shared/spec/isakmp-commands.md R6, R13-R14 (counters of dropped messages), R78-R83 (XAUTH)
"""The ISAKMP fuzz campaign: mutated messages into IKEv1 daemons in every exchange state.

Two :class:`~pacsim.firmware.isakmp.daemon.IsakmpDaemon` peers run on
their own behavioural-model cards (:class:`Peers`, virtual time frozen at
0 s, each card's generator instantiated from the campaign seed, so a seed
reproduces every cookie, nonce and key). Each :class:`Target` of
:data:`TARGETS` brings a receiver into one state by negotiating live
(the "real captures" are the datagrams of that negotiation) and names
the real message(s) to mutate:

* main mode messages 1-6 and aggressive mode messages 1-3, each into its
  receiver (responder or initiator) while it awaits the message and
  again after it took it (its next state);
* ``established``: every message of a negotiation, a DPD round trip and
  a heartbeat (:mod:`..firmware.isakmp.heartbeat`), both ways, into an established pair that is never rebuilt, so
  :func:`sa_survives` checks it after the campaign;
* ``established-authentic``: the same with the HASH always recomputed
  (the forger holds the keys), to reach the informational logic;
* ``rsaencr/...``: MM3/MM4 and AM1/AM2 with RSA-encrypted ID and nonce
  bodies (each peer's policy KEY the other's public key);
* ``rsasig/...``: the messages that carry CR, CERT and SIG payloads in
  phase 1 with RSA signatures (MM3-MM6, AM1-AM3), each peer with a
  512-bit RSA key from its seeded key store and a certificate from a CA
  made for the target (:class:`~.interop.certificate_authority.CertificateAuthority`;
  its keys and validity come from ``cryptography`` and the clock, so a
  reproducer rebuilds the same states with other certificate octets);
* ``xauth/...``: XAUTH and mode config after main mode (the responder the
  XAUTH server with a user database and a mode-config pool, the
  initiator the client), each receiver awaiting each transaction message
  (REQUEST, REPLY, SET, ACK, mode-config REQUEST and REPLY), and
  ``xauth-authentic``: every message both ways with the transaction HASH
  always recomputed, to reach the attribute logic.

A new exchange (quick mode) plugs in as more :class:`Target` rows of
kind ``"state"`` whose ``build`` negotiates phase 1, then that exchange
up to its message ``step``, and returns the receiver and the real
message (decrypted by :meth:`Template.of`); the structure-aware path
re-encrypts under the message's own message ID, and its HASH(1..3) would
join :func:`_rehashed`.

Each message is a byte-level mutation (:func:`~.fuzz_mutators.mutate_bytes`)
or a structure-aware one (:func:`~.fuzz_mutators.mutate_payloads` on the
decoded or decrypted chain, re-encoded, re-encrypted with the SA's keys
via :meth:`~pacsim.firmware.isakmp.ike_sa.IkeSa.seal` on a copy of the
receiver's IV chain, HASH_I/HASH_R or the informational HASH(1)
recomputed half the time). The receiver's answer is classified:
``escaped`` (an exception out of ``receive``/``on_timer`` or a new entry
in ``faults``; the input is saved as a reproducer, see :func:`replay`),
``accepted`` (replies, or its SAs/exchanges/events changed: a ``state``
target is then restored), else ``dropped``, and ``counted`` when a
counter more specific than the receive counters moved.

Entry points: :func:`fuzz_isakmp` (async) and :func:`run_campaign`
``(messages, seed, findings_dir)`` return a :class:`FuzzResult`;
:func:`replay` ``(path)`` re-runs a saved reproducer.
"""

import asyncio
import copy
import json
import os
import pickle
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..firmware.enco.keys import KeyStore, KeyType
from ..firmware.isakmp.constants import ExchangeType
from ..firmware.isakmp.daemon import IsakmpDaemon
from ..firmware.isakmp.errors import EncodingError, MalformedMessage
from ..firmware.isakmp.heartbeat import HEARTBEAT_INTERVAL
from ..firmware.isakmp.ike_sa import DpdAcknowledged, IkeSaState
from ..firmware.isakmp.keymat import informational_hash
from ..firmware.isakmp.message import EncryptedMessage, decode_message, encode_message
from ..firmware.isakmp.mode_config import ModeConfigPool
from ..firmware.isakmp.payloads import Hash, Identification, encode_chain
from ..firmware.isakmp.policy_config import IsakmpConfig, IsakmpPolicy
from ..firmware.isakmp.rules import Role
from ..firmware.isakmp.transport import Datagram, address, classify, frame
from ..firmware.isakmp.xauth import XauthService
from ..firmware.users.database import UserDatabase
from ..firmware.users.radius import RadiusServers
from ..host.device import PacDevice
from .fuzz_mutators import mutate_bytes, mutate_payloads
from .interop.certificate_authority import CertificateAuthority
from .model_bus import ModelBus

__all__ = ["Peers", "Template", "Target", "TARGETS", "LiveTarget", "forger", "FuzzResult", "fuzz_isakmp", "run_campaign", "replay",
           "sa_survives", "feed"]

ADDRESS_I, ADDRESS_R = "192.0.2.1", "192.0.2.2"
PSK = b"pacsim-fuzz-psk"
PSK_ID = 1
#: ENCO key number and modulus bits of each peer's RSA key on the rsasig targets.
RSA_KEY_ID, RSA_BITS = 2, 512
POLICY = "p"
#: The XAUTH targets' user and password.
XAUTH_USER, XAUTH_PASSWORD = "remote", "friend"
#: Octets of seed material the card's CTR_DRBG is instantiated with.
SEED_BYTES = 48
#: Most messages fed to one target before the campaign moves to the next
#: (fewer when the campaign is too short to give every target this many).
BATCH = 50
#: Counters every received datagram moves: a drop must move another one.
GENERIC_COUNTERS = frozenset({("network", "rx"), ("general", "msgRxd"), ("general", "msgRxPlain"),
                              ("general", "msgRxEncrypted")})
#: Whether targets are restored by fork (POSIX) rather than rebuilt.
FORK = hasattr(os, "fork")
_ESTABLISHED_POLICY = {"nattraversal": True, "sendnotify": True, "senddeletes": True, "heartbeatmode": "both"}
_PHASE1_MESSAGES = {"main": 6, "aggressive": 3}


class Peers:
    """An initiator (ADDRESS_I) and a responder (ADDRESS_R) daemon, each on
    a fresh model card whose generator is seeded from ``card_seed`` (text),
    with one policy ``p`` towards the other (``params``: IsakmpPolicy
    fields). ``now`` (seconds) is the shared virtual clock."""

    def __init__(self):
        self.now = 0.0
        self.daemons = {}
        self.initiator = self.responder = None

    @classmethod
    async def create(cls, card_seed, params):
        """The two daemons, ready (nothing sent yet)."""
        peers = cls()
        authority = CertificateAuthority("fuzz CA", bits=1024) if params.get("authtype") == "rsasig" else None
        for local, peer in ((ADDRESS_I, ADDRESS_R), (ADDRESS_R, ADDRESS_I)):
            device = await PacDevice.probe(ModelBus())
            await device.rng_instantiate(random.Random(f"{card_seed}/{local}").randbytes(SEED_BYTES))
            keys = KeyStore(random.Random(f"{card_seed}/{local}/keys").randbytes)
            keys.create(PSK_ID, KeyType.GENERAL, value=PSK)
            if params.get("authtype") in ("rsasig", "rsaencr"):
                rsa = keys.create_rsa(RSA_KEY_ID, bits=RSA_BITS).rsa
            if authority is not None:
                keys.certificates.insert("own", authority.issue(f"fuzz {local}", rsa, [local]))
                keys.certificates.insert("ca", authority.pem(), trusted=True)
            config = IsakmpConfig(policies={POLICY: IsakmpPolicy(POLICY, peer=peer, key=PSK_ID, **params)})
            peers.daemons[address(local)] = IsakmpDaemon(config, keys, device, [local], lambda: peers.now)
        peers.initiator, peers.responder = peers.daemons[address(ADDRESS_I)], peers.daemons[address(ADDRESS_R)]
        if params.get("authtype") == "rsaencr":      # each holds the other's public key as its policy's KEY
            for one, other in ((peers.initiator, peers.responder), (peers.responder, peers.initiator)):
                one.keys.destroy(PSK_ID)
                one.keys.create_rsa(PSK_ID, public=other.keys.rsa(RSA_KEY_ID).public())
        return peers

    async def deliver(self, datagrams, record=None):
        """Deliver ``datagrams`` and their answers until none is in flight;
        ``record`` (a list) gets ``(receiver, Template)`` of each."""
        queue = list(datagrams)
        while queue:
            datagram = queue.pop(0)
            receiver = self.daemons[datagram.dst]
            if record is not None:
                record.append((receiver, await Template.of(receiver, datagram)))
            queue += await receiver.receive(datagram)


@dataclass(frozen=True)
class Template:
    """A real message: the ``datagram`` as sent and its ``payloads``
    (decoded, or decrypted with the receiver's keys; None when neither)."""
    datagram: Datagram
    payloads: tuple | None

    @classmethod
    async def of(cls, receiver, datagram):
        """The template of ``datagram`` as ``receiver`` (a daemon) can read it now."""
        message = _decoded(datagram)
        if isinstance(message, EncryptedMessage):
            sa = receiver.sas.get(message.header.initiator_cookie)
            if sa is None or sa.keys is None:
                return cls(datagram, None)
            message = await sa.unseal(message)
        return cls(datagram, None if message is None else message.payloads)

    def reversed(self):
        """The same octets as if the receiver had sent them to the sender."""
        d = self.datagram
        return replace(self, datagram=Datagram(d.dst, d.src, d.dport, d.sport, d.data))


def _decoded(datagram):
    _, data = classify(datagram)
    return decode_message(data) if data is not None else None


@dataclass(frozen=True)
class Target:
    """A receiver in one state: ``name``, ``build(target, peers)`` (an
    async function bringing ``peers`` to the state and returning the
    ``(receiver, Template)`` pairs to mutate), ``params`` (policy fields),
    ``kind``: ``"state"`` (restored after it accepts a mutation),
    ``"survival"`` (never restored, checked by :func:`sa_survives`) or
    ``"authentic"`` (HASH always recomputed; restored when its SA is gone);
    ``step`` (0-based number of the real message in the negotiation) and
    ``awaiting`` (the receiver has not had it yet) for ``build``'s use."""
    name: str
    build: object
    params: dict = field(default_factory=dict)
    kind: str = "state"
    step: int = 0
    awaiting: bool = False


async def _phase1_state(target, peers):
    """Negotiate up to message ``target.step`` (0-based) and stop before
    (``awaiting``) or after delivering it."""
    queue = list(await peers.initiator.initiate(POLICY))
    for index in range(target.step + 1):
        datagram = queue.pop(0)
        receiver = peers.daemons[datagram.dst]
        template = await Template.of(receiver, datagram)
        if index == target.step and target.awaiting:
            return [(receiver, template)]
        queue += await receiver.receive(datagram)
    return [(receiver, template)]


async def _established_state(target, peers):
    """A complete main mode, a DPD round trip and a heartbeat (20 s later); every message both ways."""
    record = []
    await peers.deliver(await peers.initiator.initiate(POLICY), record)
    await peers.deliver(await peers.initiator.send_dpd(_established_sa(peers.initiator)), record)
    peers.now += HEARTBEAT_INTERVAL                # both send their first heartbeat: none is due while fuzzing
    for daemon in (peers.initiator, peers.responder):
        await peers.deliver(await daemon.on_timer(peers.now), record)
    return record + [(peers.daemons[t.datagram.src], t.reversed()) for _, t in record]


async def _xauth_state(target, peers):
    """XAUTH after main mode (the responder the server, checking :data:`XAUTH_USER` in a user database, with a
    mode-config pool; the initiator the client): negotiate up to message ``target.step`` (0-based; 6 is the
    server's REQUEST) and stop before it when ``awaiting``; else every message both ways."""
    users = UserDatabase()
    users.add(XAUTH_USER, XAUTH_PASSWORD)
    pool = ModeConfigPool()
    pool.configure(address("10.9.0.1"), address("10.9.0.9"), (address("10.9.0.53"),))
    for daemon, role in ((peers.initiator, {"xauth": "client", "xauthname": XAUTH_USER, "xauthpasswd": XAUTH_PASSWORD}),
                         (peers.responder, {"xauth": "server"})):
        daemon.config.policies[POLICY] = replace(daemon.config.policies[POLICY], **role)
        XauthService(daemon, users, RadiusServers(), pool)
    if target.awaiting:
        return await _phase1_state(target, peers)
    record = []
    await peers.deliver(await peers.initiator.initiate(POLICY), record)
    return record + [(peers.daemons[t.datagram.src], t.reversed()) for _, t in record]


def _xauth_targets():
    names = {6: "client/awaiting-request", 7: "server/awaiting-reply", 8: "client/awaiting-set",
             9: "server/awaiting-ack", 10: "server/awaiting-cfg-request", 11: "client/awaiting-cfg-reply"}
    return tuple(Target(f"xauth/{name}", _xauth_state, step=step, awaiting=True) for step, name in names.items()) + (
        Target("xauth-authentic", _xauth_state, kind="authentic"),)


def _phase1_targets():
    targets = []
    for mode, count in _PHASE1_MESSAGES.items():
        for step in range(count):
            role = "responder" if step % 2 == 0 else "initiator"
            for awaiting in (True, False):
                when = "awaiting" if awaiting else "after"
                targets.append(Target(f"{mode}/{role}/{when}-{step + 1}", _phase1_state, {"mode": mode},
                                      step=step, awaiting=awaiting))
    return targets


def _rsa_targets():
    """The receivers of the messages with CR, CERT or SIG under RSA signatures, and of the
    RSA-encrypted IDs and nonces (MM3/MM4, AM1/AM2) under RSA encryption, awaiting them."""
    steps = {("rsasig", "main"): (2, 3, 4, 5), ("rsasig", "aggressive"): (0, 1, 2),
             ("rsaencr", "main"): (2, 3), ("rsaencr", "aggressive"): (0, 1)}
    return [Target(f"{auth}/{mode}/{'responder' if step % 2 == 0 else 'initiator'}/awaiting-{step + 1}",
                   _phase1_state, {"mode": mode, "authtype": auth, "localrsakey": RSA_KEY_ID}, step=step,
                   awaiting=True)
            for (auth, mode), numbers in steps.items() for step in numbers]


#: Every target of a campaign, visited in this order in batches of :data:`BATCH`.
TARGETS = tuple(_phase1_targets()) + tuple(_rsa_targets()) + (
    Target("established", _established_state, _ESTABLISHED_POLICY, kind="survival"),
    Target("established-authentic", _established_state, _ESTABLISHED_POLICY, kind="authentic"),
) + _xauth_targets()


def _established_sa(daemon):
    return next((s for s in daemon.sas if s.state is IkeSaState.ESTABLISHED), None)


async def sa_survives(peers):
    """True when both peers still hold their established SA and a DPD
    round trip over it completes (the initiator gets R-U-THERE-ACK)."""
    sa = _established_sa(peers.initiator)
    if sa is None or _established_sa(peers.responder) is None:
        return False
    acknowledged = sum(isinstance(e, DpdAcknowledged) for e in peers.initiator.events)
    await peers.deliver(await peers.initiator.send_dpd(sa))
    return sum(isinstance(e, DpdAcknowledged) for e in peers.initiator.events) == acknowledged + 1


# -- forging ------------------------------------------------------------------------------------------------------


def forger(sa):
    """A copy of ``sa`` with its own copy of the IV chain (same keys and card
    channels): :meth:`IkeSa.seal` on it encrypts as the peer would, and
    leaves ``sa`` as it was."""
    twin = copy.copy(sa)
    twin.ivs = copy.deepcopy(sa.ivs, {id(sa.crypto): sa.crypto, id(sa.keys): sa.keys})
    return twin


async def _rehashed(receiver, header, payloads):
    """``payloads`` with their HASH recomputed as the receiver will check
    it (informational HASH(1); HASH_I/HASH_R over the chain's ID payload),
    or unchanged when the receiver has no keys or state for it yet."""
    sa = receiver.sas.get(header.initiator_cookie)
    at = next((i for i, p in enumerate(payloads) if isinstance(p, Hash)), None)
    if sa is None or sa.keys is None or at is None:
        return payloads
    if header.exchange in (ExchangeType.INFORMATIONAL, ExchangeType.TRANSACTION):
        digest = await informational_hash(sa.crypto, sa.keys, header.message_id.to_bytes(4, "big"),
                                          encode_chain(payloads[at + 1:]))
    else:
        exchange = receiver.exchange_for(header.initiator_cookie, 0)
        identification = next((p for p in payloads if isinstance(p, Identification)), None)
        if exchange is None or identification is None or None in (exchange.ke_i, exchange.ke_r, exchange.sai_b):
            return payloads
        digest = await exchange.authentication(exchange.role is Role.RESPONDER, identification)
    return payloads[:at] + (Hash(digest),) + payloads[at + 1:]


async def _forged(rng, receiver, template, corpus, rehash):
    """A structure-aware mutation of ``template`` as octets, or None when the
    mutated chain does not encode or the receiver has no keys to seal it."""
    message = _decoded(template.datagram)
    payloads = mutate_payloads(rng, template.payloads, corpus)
    header = message.header
    if header.exchange == ExchangeType.INFORMATIONAL and header.encrypted or \
            header.exchange == ExchangeType.TRANSACTION and rng.random() < 0.5:
        header = replace(header, message_id=rng.randrange(1, 1 << 32))     # a new exchange, not a repeat
    try:
        encode_chain(payloads)
    except EncodingError:       # a value its field cannot hold: not a message
        return None
    if rehash:
        payloads = await _rehashed(receiver, header, payloads)
    if not header.encrypted:
        return encode_message(header, payloads)
    sa = receiver.sas.get(header.initiator_cookie)
    if sa is None or sa.keys is None:
        return None
    return await forger(sa).seal(header.exchange, header.message_id, payloads, header.flags)


# -- the campaign --------------------------------------------------------------------------------------------------


@dataclass
class FuzzResult:
    """Counts of a campaign (see the module docstring); ``findings``: the
    reproducer files written; ``seconds``: wall-clock time of the campaign;
    ``targets``: messages per target name; ``reached``: messages per
    ``(group, name)`` counter they moved (how deep the mutations got)."""
    messages: int = 0
    escaped: int = 0
    dropped: int = 0
    counted: int = 0
    accepted: int = 0
    restores: int = 0
    sa_survived: bool = False
    seconds: float = 0.0
    findings: list = field(default_factory=list)
    targets: dict = field(default_factory=dict)
    reached: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)   #: messages per ``(target name, outcome of feed)``

    def as_dict(self):
        """The JSON object ``pacsim fuzz isakmp --json`` prints."""
        return {"messages": self.messages, "escaped": self.escaped, "dropped": self.dropped,
                "counted": self.counted, "uncounted": self.dropped - self.counted, "accepted": self.accepted,
                "sa_survived": self.sa_survived, "restores": self.restores,
                "messages_per_second": round(self.messages / self.seconds, 1) if self.seconds else None,
                "targets": len(self.targets), "findings": [str(p) for p in self.findings]}


@dataclass
class LiveTarget:
    """A built target (:meth:`build` ``(target, seed)``, the same state for
    the same seed): its ``peers``, the ``(receiver, Template)`` pairs and
    whether it is ``stale`` (to be restored before the next message)."""
    target: Target
    peers: Peers
    pairs: list
    stale: bool = False

    @classmethod
    async def build(cls, target, seed):
        peers = await Peers.create(f"{seed}/{target.name}", target.params)
        return cls(target, peers, await target.build(target, peers))


def _clear_chains(messages):
    """The payload chains of those ``messages`` (octets) that decode in the clear."""
    chains = []
    for data in messages:
        try:
            message = decode_message(data)
        except MalformedMessage:
            continue
        if not isinstance(message, EncryptedMessage) and message.payloads:
            chains.append(message.payloads)
    return chains


def _signature(daemon):
    """What an accepted message changes: SAs and their states, exchanges and their states, events."""
    return (tuple((s.cky_i, s.cky_r, s.state) for s in daemon.sas),
            tuple((e.exchange_id, e.state) for e in daemon.exchanges()), len(daemon.events))


async def feed(receiver, datagram):
    """Deliver one datagram to ``receiver`` and run its timers: ``(outcome,
    detail, moved)`` with outcome ``"escaped"`` (detail: the error),
    ``"accepted"``, ``"counted"`` (dropped, a specific counter moved) or
    ``"uncounted"``; ``moved``: the counters other than the receive
    counters that moved, as ``(group, name)`` pairs."""
    before, state, faults = receiver.counters.nonzero(), _signature(receiver), len(receiver.faults)
    try:
        replies = await receiver.receive(datagram)
        await receiver.on_timer(receiver.clock())
    except Exception as error:          # what the fuzzer hunts: nothing may come out of the daemon
        return "escaped", repr(error), frozenset()
    after = receiver.counters.nonzero()
    moved = frozenset(key for key, value in after.items() if value != before.get(key, 0)) - GENERIC_COUNTERS
    if len(receiver.faults) > faults:
        return "escaped", receiver.faults[-1], moved
    if replies or _signature(receiver) != state:
        return "accepted", None, moved
    return ("counted" if moved else "uncounted"), None, moved


class _Campaign:
    def __init__(self, seed, findings_dir, targets, corpus, fork):
        self.seed, self.findings_dir, self.targets, self.corpus = seed, findings_dir, targets, tuple(corpus)
        self.fork = fork
        self.rng = random.Random(seed)
        self.result = FuzzResult()
        self.octets = self.chains = None

    async def run(self, messages):
        started = time.perf_counter()
        live = {t.name: await LiveTarget.build(t, self.seed) for t in self.targets}
        corpus = [t for entry in live.values() for _, t in entry.pairs]
        self.octets = [t.datagram.data for t in corpus] + list(self.corpus)
        self.chains = [t.payloads for t in corpus if t.payloads] + _clear_chains(self.corpus)
        batch = max(1, min(BATCH, messages // len(self.targets)))
        while self.result.messages < messages:
            for target in self.targets:
                count = min(batch, messages - self.result.messages)
                if self.fork and target.kind != "survival":
                    await self._forked(live[target.name], count)
                else:
                    live[target.name] = await self._in_process(live[target.name], count)
        survivors = [entry.peers for entry in live.values() if entry.target.kind == "survival"]
        self.result.sa_survived = all([await sa_survives(peers) for peers in survivors]) and bool(survivors)
        self.result.seconds = time.perf_counter() - started
        return self.result

    async def _batch(self, entry, count):
        """Up to ``count`` messages into ``entry``, stopping once it is stale."""
        for _ in range(count):
            await self._one(entry)
            if entry.stale:
                return

    async def _in_process(self, entry, count):
        """``count`` messages, re-creating the target (same seed: the same
        state) whenever it goes stale; returns the live target."""
        end = self.result.messages + count
        while self.result.messages < end:
            if entry.stale:
                entry = await LiveTarget.build(entry.target, self.seed)
                self.result.restores += 1
            await self._batch(entry, end - self.result.messages)
        return entry

    async def _forked(self, entry, count):
        """``count`` messages, each run of them in a forked child of this
        process (a copy-on-write snapshot of the untouched target) that ends
        when the target goes stale; the child hands back the result and the
        generator state, so the counts equal those of :meth:`_in_process`."""
        end = self.result.messages + count
        while self.result.messages < end:
            if entry.stale:
                entry.stale = False
                self.result.restores += 1
            reader, writer = os.pipe()
            child = os.fork()
            if not child:
                os.close(reader)
                try:
                    await self._batch(entry, end - self.result.messages)
                    with os.fdopen(writer, "wb") as pipe:
                        pickle.dump((self.result, self.rng.getstate(), entry.stale), pipe)
                finally:
                    os._exit(0)
            os.close(writer)
            with os.fdopen(reader, "rb") as pipe:
                handed = pipe.read()
            os.waitpid(child, 0)
            if not handed:
                raise RuntimeError(f"the fuzz child process for {entry.target.name} died")
            self.result, state, entry.stale = pickle.loads(handed)
            self.rng.setstate(state)

    async def _one(self, entry):
        result, rng, target = self.result, self.rng, entry.target
        receiver, template = rng.choice(entry.pairs)
        data = None
        if template.payloads is not None and rng.random() < 0.5:
            rehash = target.kind == "authentic" or (target.kind == "state" and rng.random() < 0.5)
            data = await _forged(rng, receiver, template, self.chains, rehash)
        if data is None:
            _, message = classify(template.datagram)
            data = mutate_bytes(rng, message if message is not None else template.datagram.data, self.octets)
        d = template.datagram
        datagram = frame(d.src, d.dst, d.sport, d.dport, data)
        outcome, detail, moved = await feed(receiver, datagram)
        result.reached.update(moved)
        result.messages += 1
        result.targets[target.name] = result.targets.get(target.name, 0) + 1
        result.outcomes[target.name, outcome] += 1
        if outcome == "escaped":
            result.escaped += 1
            result.findings.append(self._save(entry, datagram, detail))
            entry.stale = target.kind != "survival"
        elif outcome == "accepted":
            result.accepted += 1
            entry.stale = target.kind == "state" or (target.kind == "authentic" and not all(
                _established_sa(d) for d in (entry.peers.initiator, entry.peers.responder)))
        else:
            result.dropped += 1
            result.counted += outcome == "counted"

    def _save(self, entry, datagram, detail):
        """Write a reproducer: seed and target (the state) and the datagram."""
        directory = Path(self.findings_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"isakmp-{self.seed}-{self.result.messages}.json"
        path.write_text(json.dumps({
            "seed": self.seed, "target": entry.target.name, "error": detail,
            "datagram": {"src": str(datagram.src), "dst": str(datagram.dst), "sport": datagram.sport,
                         "dport": datagram.dport, "data": datagram.data.hex()},
            "replay": f"pacsim fuzz isakmp --replay {path}"}, indent=2) + "\n")
        return path


async def fuzz_isakmp(messages, seed=0, findings_dir="isakmp-fuzz-findings", targets=TARGETS, corpus=(),
                      fork=FORK):
    """Run a campaign of ``messages`` mutated messages (seeded by ``seed``,
    an int) over ``targets``; reproducers go to ``findings_dir``.
    ``corpus``: more real ISAKMP messages (octets, such as another
    implementation's capture) to splice with and take payloads from.
    ``fork``: restore a target by forking (fast) rather than by building
    it again (the same counts either way)."""
    return await _Campaign(seed, findings_dir, targets, corpus, fork).run(messages)


def run_campaign(messages, seed=0, findings_dir="isakmp-fuzz-findings", targets=TARGETS, corpus=(), fork=FORK):
    """:func:`fuzz_isakmp` from synchronous code."""
    return asyncio.run(fuzz_isakmp(messages, seed, findings_dir, targets, corpus, fork))


async def replay_async(path):
    """Rebuild the target state a reproducer names and feed its datagram: ``(outcome, detail, moved)`` of :func:`feed`."""
    saved = json.loads(Path(path).read_text())
    target = next(t for t in TARGETS if t.name == saved["target"])
    entry = await LiveTarget.build(target, saved["seed"])
    d = saved["datagram"]
    datagram = Datagram(d["src"], d["dst"], d["sport"], d["dport"], bytes.fromhex(d["data"]))
    return await feed(entry.peers.daemons[datagram.dst], datagram)


def replay(path):
    """:func:`replay_async` from synchronous code."""
    return asyncio.run(replay_async(path))
