"""``activate ipsec convertoldsa`` (spec/ipsec-commands.md §4.1): old SAs
become manual ESP specifications, bundles and IPsec policies that select
the traffic the old SA did; the old SAs are destroyed; a refused
conversion changes nothing."""
import ipaddress

import pytest

from pacsim.firmware.cli import CommandFailed
from pacsim.firmware.console import standalone_console
from pacsim.firmware.ipsec.config_errors import InvalidConfiguration
from pacsim.firmware.ipsec.oldsa import OldSaModuleCounter
from pacsim.firmware.ipsec.selectors import Direction, PacketSelector
from pacsim.firmware.ipsec.spd import Action, KeyManagement
from pacsim.firmware.ipsec.transforms import EncAlg, Mode, Protocol

UDP = 17


def console_with_old_sas():
    """Old SA 2 (DES, two remote members) and old SA 3 (3DES2key, In only) on eth0."""
    c = standalone_console(clock=lambda: 0.0, random_bytes=lambda n: bytes(range(1, n + 1)))
    for line in ("create enco key=4 type=des value=fedcba9876543210",
                 "create enco key=2 type=3des value=0x00112233445566778899aabbccddeeff",
                 "cre sa=2 spi=1000 enck=4 di=both",
                 "add sa=2 mem=loc ip=192.168.1.0 mask=255.255.255.240",
                 "add sa=2 mem=rem ip=10.1.0.0 mask=255.255.0.0",
                 "add sa=2 mem=rem ip=10.2.0.0 mask=255.255.0.0",
                 "cre sa=3 spi=3000 enck=2 enc=3des2 di=in",
                 "add sa=3 mem=loc ip=192.168.3.0 mask=255.255.255.0",
                 "add sa=3 mem=rem ip=172.16.0.1 mask=255.255.255.255",
                 "ena ips old int=eth0"):
        c.execute(line)
    return c


def policy_for(c, src, dst, direction=Direction.OUTBOUND):
    p = c.ipsec.spd.lookup(PacketSelector.of(src, dst, UDP, 5000, 6000), "eth0", direction)
    return p.name if p is not None else None


def test_one_old_sa_becomes_ipsec_configuration():
    c = console_with_old_sas()
    c.execute("ena ips")
    out = c.execute("act ips convert sa=2")                                  # L2563
    assert out.startswith("Warning: this destroys the old SA configuration: old SA 2 converted")
    assert "Info: old SA 2: SA specification 2, bundle specification 2, IPsec policies: oldsa2_eth0_1, " \
           "oldsa2_eth0_2." in out
    assert "Warning: old SA 2 makes 2 IPsec policies sharing its SPI 1000: a manual SA's inbound SPI serves one " \
           "policy, so only oldsa2_eth0_1 can have an SA bundle;" in out
    assert 'Warning: no SA bundle for IPsec policy "oldsa2_eth0_2": inbound ESP SPI 1000' in out    # manual keying
    assert "PEERADDRESS=0.0.0.0, not a valid peer" in out and "create config=filename" in out
    assert [b.sas[0].pair.inbound_spi for b in c.ipsec.sad.bundles("oldsa2_eth0_1")] == [1000]
    spec = c.ipsec.spd.saspecifications[2]
    assert (spec.keymanagement, spec.protocol, spec.encalg, spec.enckey, spec.inspi, spec.outspi, spec.hashalg,
            spec.mode) == (KeyManagement.MANUAL, Protocol.ESP, EncAlg.DES, 4, 1000, 1000, None, Mode.TUNNEL)
    bundle = c.ipsec.spd.bundlespecifications[2]
    assert (bundle.keymanagement, tuple(bundle.bundle.spec_ids)) == (KeyManagement.MANUAL, (2,))
    policies = {p.name: p for p in c.ipsec.spd.policies("eth0")}
    assert set(policies) == {"oldsa2_eth0_1", "oldsa2_eth0_2"}
    for p in policies.values():
        assert (p.action, p.keymanagement, p.bundlespecification, p.peeraddress) == \
            (Action.IPSEC, KeyManagement.MANUAL, 2, ipaddress.IPv4Address("0.0.0.0"))
    # the policies select what the old SA's members did, both ways, and nothing else
    assert policy_for(c, "192.168.1.5", "10.1.200.7") == "oldsa2_eth0_1"
    assert policy_for(c, "192.168.1.15", "10.2.0.1") == "oldsa2_eth0_2"
    assert policy_for(c, "10.2.0.1", "192.168.1.15", Direction.INBOUND) == "oldsa2_eth0_2"
    assert policy_for(c, "192.168.1.16", "10.1.0.1") is None                # outside the local member
    assert policy_for(c, "192.168.1.5", "10.3.0.1") is None                 # outside both remote members
    table = c.ipsec.old_sas
    assert set(table.sas) == {3} and table.interfaces == {"eth0"}            # SA 3 and its interface stay
    assert table.counters[OldSaModuleCounter.secAssDestroyGood] == 1


def test_all_old_sas_and_their_interfaces_are_converted():
    c = console_with_old_sas()
    c.execute("ena ips")
    c.execute("cre ips sas=3 prot=es key=ma inspi=300 outspi=400 enc=des enck=4")    # id 3 is taken
    out = c.execute("act ips convert")                                               # L2568
    assert "old SAs 2, 3 converted" in out
    assert "Info: old SA 3: SA specification 0, bundle specification 3, IPsec policies: oldsa3_eth0_1." in out
    assert "Warning: old SA 3 applied to In traffic only; its IPsec policies protect both directions." in out
    spec = c.ipsec.spd.saspecifications[0]
    assert (spec.encalg, spec.enckey, spec.inspi, spec.outspi) == (EncAlg.TDES2KEY, 2, 3000, 3000)
    assert policy_for(c, "192.168.3.9", "172.16.0.1") == "oldsa3_eth0_1"
    assert policy_for(c, "192.168.3.9", "172.16.0.2") is None
    table = c.ipsec.old_sas
    assert table.sas == {} and table.interfaces == set() and not table.user.attached
    with pytest.raises(CommandFailed, match="there are no old SAs to convert"):
        c.execute("act ips convert")


def test_old_sa_that_matched_nothing_gets_no_policy():
    c = console_with_old_sas()
    c.execute("ena ips")
    c.execute("cre sa=7 spi=7000 enck=4")
    c.execute("add sa=7 mem=loc ip=192.168.7.0 mask=255.255.255.0")
    out = c.execute("act ips convert sa=7")
    assert "IPsec policies: none." in out
    assert "Warning: old SA 7 has no remote member, so it matched no traffic: no IPsec policy was made for it." \
        in out
    assert 7 in c.ipsec.spd.saspecifications and c.ipsec.spd.policies() == []
    c.execute("dis ips old int=eth0")
    out = c.execute("act ips convert sa=2")
    assert "old SA processing is enabled on no interface, so old SA 2 applied nowhere" in out


def test_refused_conversion_changes_nothing(monkeypatch):
    c = console_with_old_sas()
    with pytest.raises(CommandFailed, match="IPsec must be enabled"):
        c.execute("act ips convert")
    c.execute("ena ips")
    with pytest.raises(CommandFailed, match="SA 9 does not exist"):
        c.execute("act ips convert sa=9")
    c.execute("cre ips sas=9 prot=es key=ma inspi=300 outspi=400 enc=des enck=4")
    c.execute("cre ips bund=9 key=ma string=9")
    c.execute("cre ips pol=oldsa3_eth0_1 int=eth0 act=permit")
    with pytest.raises(CommandFailed, match='IPsec policy "oldsa3_eth0_1" already exists'):
        c.execute("act ips convert")
    assert set(c.ipsec.old_sas.sas) == {2, 3}
    assert set(c.ipsec.spd.saspecifications) == {9} and set(c.ipsec.spd.bundlespecifications) == {9}
    assert [p.name for p in c.ipsec.spd.policies()] == ["oldsa3_eth0_1"]
    # a refusal at SA 3's policy, after SA 2's entries were made, undoes them all
    c.execute("dest ips pol=oldsa3_eth0_1")
    create_policy = c.ipsec.create_policy

    def refuse_sa3(name, *args, **params):
        if name.startswith("oldsa3"):
            raise InvalidConfiguration(f'IPsec policy "{name}": refused for the test')
        return create_policy(name, *args, **params)
    monkeypatch.setattr(c.ipsec, "create_policy", refuse_sa3)
    with pytest.raises(CommandFailed, match="refused for the test"):
        c.execute("act ips convert")
    assert set(c.ipsec.old_sas.sas) == {2, 3} and c.ipsec.spd.policies() == []
    assert set(c.ipsec.spd.saspecifications) == {9} and set(c.ipsec.spd.bundlespecifications) == {9}
    monkeypatch.undo()
    assert "IPsec policies: oldsa2_eth0_1, oldsa2_eth0_2." in c.execute("act ips convert")
    assert c.ipsec.old_sas.sas == {}
