"""SAD bookkeeping and manual keying (spec/ipsec-commands.md §5.5-§5.7, B37-B54):
bundle and SA ids, states, lifetimes on an injected clock, the 100-bundle
limit, the key-management seam, and when the IPsec module makes and
removes manual bundles."""
import ipaddress

import pytest

from pacsim.firmware.enco.keys import KeyInUse, KeyStore, KeyType
from pacsim.firmware.ipsec.config_errors import InvalidConfiguration, LimitReached, NotFound
from pacsim.firmware.ipsec.keying import bundle_selectors
from pacsim.firmware.ipsec.module import IpsecModule
from pacsim.firmware.ipsec.sad import (MAX_BUNDLES_PER_POLICY, BundleState, Expiry, KeyMaterial, LifetimeLimits,
                                       Role, SaPairSpec, Sad)
from pacsim.firmware.ipsec.selectors import AddressSelector, Direction, PacketSelector
from pacsim.firmware.ipsec.spd import Action, KeyManagement, SaSelector
from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg, Mode, Protocol

ip = ipaddress.ip_address


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def counting_bytes():
    state = {"n": 0}

    def random_bytes(n):
        state["n"] += 1
        return state["n"].to_bytes(n, "big")
    return random_bytes


def pair(spec_id=1, protocol=Protocol.ESP, inbound=300, outbound=400):
    return SaPairSpec(spec_id, protocol, Mode.TUNNEL, outbound, inbound, EncAlg.DES, HashAlg.SHA,
                      outbound_keys=KeyMaterial(b"k" * 8, b"h" * 20), inbound_keys=KeyMaterial(b"k" * 8, b"h" * 20))


# -- the SAD on its own ---------------------------------------------------------------------------

def test_bundle_and_sa_ids():
    sad = Sad(Clock())
    b0 = sad.add_sa_bundle("vpn", [pair(1, Protocol.ESP, 300), pair(2, Protocol.AH, 300)])
    b1 = sad.add_sa_bundle("vpn", [pair(1, Protocol.ESP, 301)])
    other = sad.add_sa_bundle("other", [pair(1, Protocol.ESP, 302)])
    assert (b0.bundle_id, b0.sa_ids, b1.bundle_id, b1.sa_ids) == (0, (0, 1), 1, (2,))
    assert (other.bundle_id, other.sa_ids) == (0, (3,))          # bundle ids are per policy, SA ids SAD-wide
    assert [b.bundle_id for b in sad.bundles("VPN")] == [1, 0]     # newest first (B40), names any case
    sad.del_sa_bundle("vpn", 0)
    assert sad.add_sa_bundle("vpn", [pair(1, Protocol.ESP, 303)]).bundle_id == 2    # increasing
    assert [r.sa_id for r in sad.sas()] == [2, 3, 4]
    with pytest.raises(NotFound, match='SA bundle 7 does not exist in IPsec policy "vpn"'):
        sad.del_sa_bundle("vpn", 7)


def test_inbound_lookup_and_spi_collisions():
    sad = Sad(Clock())
    b = sad.add_sa_bundle("vpn", [pair(1, Protocol.ESP, 300), pair(2, Protocol.AH, 300)])
    assert sad.find_inbound(Protocol.ESP, 300) is b.sas[0]
    assert sad.find_inbound(Protocol.AH, 300) is b.sas[1]
    assert sad.find_inbound(Protocol.ESP, 999) is None
    with pytest.raises(InvalidConfiguration, match="inbound ESP SPI 300 .* already used by SA 0"):
        sad.add_sa_bundle("other", [pair(5, Protocol.ESP, 300)])
    sad.del_sa_bundle("vpn", b.bundle_id)
    assert sad.find_inbound(Protocol.ESP, 300) is None


def test_get_spi_is_free_and_in_range():
    sad = Sad(Clock(), random_bytes=lambda n: bytes(n))         # always the same "random" number
    spi = sad.get_spi(Protocol.ESP)
    assert spi == 256
    sad.add_sa_bundle("vpn", [pair(inbound=spi)])
    with pytest.raises(LimitReached):
        sad.get_spi(Protocol.ESP)                                # every try collides
    assert 256 <= Sad(Clock()).get_spi(Protocol.IPCOMP) <= 61439


def test_bundle_limit_is_100_per_policy():
    sad = Sad(Clock())
    for n in range(MAX_BUNDLES_PER_POLICY):
        sad.add_sa_bundle("vpn", [pair(inbound=1000 + n)])
    with pytest.raises(LimitReached, match="100 SA bundles"):
        sad.add_sa_bundle("vpn", [pair(inbound=5000)])
    sad.add_sa_bundle("other", [pair(inbound=5000)])
    with pytest.raises(InvalidConfiguration, match="1 to 3 SA pairs"):
        sad.add_sa_bundle("x", [])


def test_lifetimes_soft_and_hard_by_time_and_bytes():
    clock = Clock()
    events = []
    sad = Sad(clock)
    sad.expire_listener = lambda bundle, expiry: events.append((bundle.bundle_id, expiry))
    limits = LifetimeLimits(hard_kbytes=100, hard_seconds=1000)
    assert (limits.hard_bytes, limits.soft_bytes, limits.soft_seconds) == (102400, 92160, 900)
    by_time = sad.add_sa_bundle("vpn", [pair(inbound=300)], limits)
    by_bytes = sad.add_sa_bundle("vpn", [pair(inbound=301)], limits)
    clock.now += 899
    assert sad.poll() == [] and events == []
    clock.now += 1
    changed = sad.poll()
    assert {(b.bundle_id, e) for b, e in changed} == {(0, Expiry.SOFT), (1, Expiry.SOFT)}
    assert by_time.state is BundleState.VALID                    # soft: renegotiate, still usable
    assert sad.charge(by_bytes, 102400) is Expiry.HARD
    assert by_bytes.state is BundleState.INVALID
    clock.now += 100
    assert [(b.bundle_id, e) for b, e in sad.poll()] == [(0, Expiry.HARD)]
    assert sorted(events[:2]) == [(0, Expiry.SOFT), (1, Expiry.SOFT)]
    assert events[2:] == [(1, Expiry.HARD), (0, Expiry.HARD)]
    assert sad.poll() == []                                      # each transition reported once
    assert by_time.seconds_used(clock.now) == 1000


def test_manual_bundles_do_not_expire():
    clock = Clock()
    sad = Sad(clock)
    b = sad.add_sa_bundle("vpn", [pair()])
    clock.now += 10 ** 9
    assert sad.charge(b, 10 ** 12) is Expiry.NONE and sad.poll() == []


def test_find_bundle_with_packet_selectors():
    sad = Sad(Clock())
    a = sad.add_sa_bundle("vpn", [pair(inbound=300)], selectors={"dst": ip("10.2.1.1"), "dst_port": 80})
    b = sad.add_sa_bundle("vpn", [pair(inbound=301)], selectors={"dst": ip("10.2.1.2"), "dst_port": 80})
    pkt = PacketSelector.of("10.1.1.1", "10.2.1.1", 6, 1024, 80)
    assert sad.find_bundle("vpn", pkt) is a
    assert sad.find_bundle("vpn", PacketSelector.of("10.1.1.1", "10.2.1.2", 6, 1024, 80)) is b
    assert sad.find_bundle("vpn", PacketSelector.of("10.1.1.1", "10.2.1.3", 6, 1024, 80)) is None
    b.state = BundleState.INVALID
    assert sad.find_bundle("vpn", PacketSelector.of("10.1.1.1", "10.2.1.2", 6, 1024, 80)) is None


# -- manual keying through the IPsec module -------------------------------------------------------

@pytest.fixture
def module():
    keys = KeyStore(counting_bytes())
    keys.create(1, KeyType.DES, value="0123456789abcdef")
    keys.create(101, KeyType.GENERAL, value="0x" + "aa" * 16)
    m = IpsecModule(keys, Clock(), random_bytes=counting_bytes())
    m.create_saspecification(saspecification=1, keymanagement=KeyManagement.MANUAL, protocol=Protocol.ESP,
                             encalg=EncAlg.DES, hashalg=HashAlg.MD5, enckey=1, hashkey=101, inspi=300, outspi=400)
    m.create_saspecification(saspecification=2, keymanagement=KeyManagement.MANUAL, protocol=Protocol.AH,
                             hashalg=HashAlg.MD5, hashkey=101, inspi=300, outspi=400)
    m.create_bundlespecification(bundlespecification=1, keymanagement=KeyManagement.MANUAL, string="1 and 2")
    return m


def vpn(m, name="vpn", **kw):
    params = dict(peeraddress=ip("192.168.2.1"), keymanagement=KeyManagement.MANUAL, bundlespecification=1)
    params.update(kw)
    return m.create_policy(name, "ppp0", Action.IPSEC, **params)


def test_enable_creates_manual_bundles_b46b(module):
    vpn(module)
    module.create_policy("isakmp", "ppp0", Action.PERMIT)
    assert module.sad.bundles("vpn") == []                       # IPsec disabled: no bundles
    assert module.enable() == []
    (b,) = module.sad.bundles("vpn")
    assert b.state is BundleState.VALID and module.sad.bundles("isakmp") == []
    esp, ah = b.sas                                              # bundle-string order: ESP then AH (B15)
    assert (esp.pair.protocol, esp.pair.outbound_spi, esp.pair.inbound_spi) == (Protocol.ESP, 400, 300)
    assert esp.pair.outbound_keys.encryption == bytes.fromhex("0123456789abcdef")
    assert ah.pair.inbound_keys.hash == b"\xaa" * 16 and esp.role is Role.MANUAL
    assert module.vpns_current == 1 and module.vpns_peak == 1


def test_create_while_enabled_b46a_and_disable_b47b(module):
    module.enable()
    vpn(module)
    assert len(module.sad.bundles("vpn")) == 1
    module.disable()
    assert module.sad.bundles("vpn") == [] and module.spd.has_policy("vpn")
    assert module.counters["setup"][("setup", "setupDone")] == 1
    assert module.counters["setup"][("setup", "removeDone")] == 1
    assert module.policy_counters["vpn"][("setup", "removeSaSetupStarted")] == 2


def test_set_policy_rebuilds_b46c_b47c(module):
    removed = []
    module.on_bundle_removed = lambda bundle: removed.append(bundle.bundle_id)
    vpn(module)
    module.enable()
    module.set_policy("vpn", laddress=AddressSelector.parse("10.1.1.0"), lmask=ip("255.255.255.0"))
    assert [b.bundle_id for b in module.sad.bundles("vpn")] == [1] and removed == [0]
    module.set_policy("vpn", pktdebuglength=100)                  # no effect on processing: kept
    assert [b.bundle_id for b in module.sad.bundles("vpn")] == [1]
    module.set_policy("vpn", action=Action.PERMIT)                # no longer IPsec: bundles go
    assert module.sad.bundles("vpn") == []
    module.set_policy("vpn", action=Action.IPSEC)
    assert len(module.sad.bundles("vpn")) == 1


def test_set_saspecification_rebuilds_users(module):
    module.keys.create(2, KeyType.TDES, value="0x" + "11" * 16)
    vpn(module)
    module.enable()
    module.set_saspecification(1, encalg=EncAlg.TDES2KEY, enckey=2)
    (b,) = module.sad.bundles("vpn")
    assert b.bundle_id == 1 and b.sas[0].pair.encalg is EncAlg.TDES2KEY


def test_destroy_bundle_policy_reset_and_purge(module):
    vpn(module)
    module.enable()
    with pytest.raises(NotFound, match="SA bundle 5 does not exist"):
        module.destroy_policy("vpn", 5)
    module.destroy_policy("vpn", 0)                               # one bundle; the policy stays
    assert module.sad.bundles("vpn") == [] and module.spd.has_policy("vpn")
    module.reset_policy("vpn")                                    # §7.22 reading: manual bundle made again
    assert [b.bundle_id for b in module.sad.bundles("vpn")] == [1]
    module.destroy_policy("vpn")
    assert not module.spd.has_policy("vpn") and module.sad.sas() == []
    vpn(module, "again")
    module.set_udpport(4000)
    module.purge()
    assert not module.enabled and module.udp_listen_port == 2746 and not module.spd.policies()
    assert module.sad.sas() == []


def test_bundle_failures_are_warnings_and_counted(module):
    module.create_saspecification(saspecification=3, keymanagement=KeyManagement.MANUAL, protocol=Protocol.ESP,
                                  encalg=EncAlg.DES, enckey=1, inspi=300, outspi=401)
    module.create_bundlespecification(bundlespecification=2, keymanagement=KeyManagement.MANUAL, string="3")
    vpn(module)
    vpn(module, "clash", bundlespecification=2)                   # same inbound ESP SPI 300
    warnings = module.enable()
    assert len(warnings) == 1 and 'no SA bundle for IPsec policy "clash"' in warnings[0]
    assert "inbound ESP SPI 300" in warnings[0]
    assert module.counters["setup"][("setup", "setupFailed")] == 1
    assert module.policy_counters["clash"][("setup", "setupSaSetupFailed")] == 1


def test_keys_in_use_cannot_be_destroyed(module):
    with pytest.raises(KeyInUse, match="IPsec SA specification 1, 2"):
        module.keys.destroy(101)
    module.destroy_bundlespecification(1)
    module.destroy_saspecification(1)
    module.destroy_saspecification(2)
    module.keys.destroy(101)


def test_policy_debug_settings(module):
    vpn(module)
    module.set_policy_debug(None, ("filter",), True, {"selector": ("laddress",), "result": ("fail",)})
    assert module.spd.policy("vpn").debug["filter"] == {"on", "selector=laddress", "result=fail"}
    module.set_policy_debug("vpn", ("all",), True)
    assert set(module.spd.policy("vpn").debug) == {"filter", "packet", "trace"}
    module.set_policy_debug("vpn", ("filter",), False, {"result": ("fail",)})
    assert "result=fail" not in module.spd.policy("vpn").debug["filter"]
    module.set_policy_debug("vpn", ("all",), False)
    assert module.spd.policy("vpn").debug == {}


# -- the key-management seam ----------------------------------------------------------------------

class RecordingKeyManager:
    """A stand-in ISAKMP: records acquires and expiries, makes bundles through the SAD."""

    def __init__(self, module):
        self.module = module
        self.acquired, self.expired = [], []

    def acquire(self, policy, packet):
        self.acquired.append((policy.name, packet))
        kernel = self.module.sad
        spi = kernel.get_spi(Protocol.ESP)
        kernel.add_sa_bundle(policy.name, [pair(3, Protocol.ESP, spi)], LifetimeLimits(hard_seconds=600),
                             bundle_selectors(policy, packet, Direction.OUTBOUND), Role.INITIATOR)

    def expire(self, bundle, expiry):
        self.expired.append((bundle.bundle_id, expiry))


def test_isakmp_key_manager_plugs_in(module):
    module.create_saspecification(saspecification=3, keymanagement=KeyManagement.ISAKMP, protocol=Protocol.ESP,
                                  encalg=EncAlg.DES, hashalg=HashAlg.SHA)
    module.create_bundlespecification(bundlespecification=2, keymanagement=KeyManagement.ISAKMP, string="3")
    vpn(module, "ike", keymanagement=KeyManagement.ISAKMP, bundlespecification=2, saselectorfrompkt=("all",))
    km = RecordingKeyManager(module)
    module.register_key_manager(KeyManagement.ISAKMP, km)
    module.enable()
    assert module.sad.bundles("ike") == []                        # ISAKMP bundles are made on demand (B51)
    policy = module.spd.policy("ike")
    pkt = PacketSelector.of("10.1.1.1", "10.2.1.1", 6, 1024, 80)
    module.acquire(policy, pkt)
    (b,) = module.sad.bundles("ike")
    assert km.acquired == [("ike", pkt)] and b.sas[0].role is Role.INITIATOR
    assert b.selectors == {"src": ip("10.1.1.1"), "dst": ip("10.2.1.1"), "src_port": 1024, "dst_port": 80,
                           "protocol": 6}
    assert module.sad.find_bundle("ike", pkt) is b
    assert module.policy_counters["ike"][("out", "outNoBundle")] == 1
    module.clock.now += 540
    module.sad.poll()
    module.clock.now += 60
    module.sad.poll()                                             # hard: the module removes it
    assert km.expired == [(0, Expiry.SOFT), (0, Expiry.HARD)] and module.sad.bundles("ike") == []
    assert policy.saselectorfrompkt == frozenset(SaSelector)


def test_bundle_selectors_inbound():
    class P:
        saselectorfrompkt = frozenset({SaSelector.LADDRESS, SaSelector.RPORT})
    pkt = PacketSelector.of("10.2.1.1", "10.1.1.1", 6, 80, 1024)
    assert bundle_selectors(P, pkt, Direction.INBOUND) == {"dst": ip("10.1.1.1"), "src_port": 80}
    P.saselectorfrompkt = frozenset()
    assert bundle_selectors(P, pkt, Direction.INBOUND) is None
