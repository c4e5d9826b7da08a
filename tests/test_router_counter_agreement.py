"""A policy's counters and its SAs' counters tell the same story about a
packet (spec/show-outputs.md §5 and the SA counters of Figure 48-22), and
the ``IPSec:`` ALG counters that ``show ipsec counter=alg`` displays are
counted where their events happen:

- a drop before any card job is ``...ProcessFailImm`` in both, whatever its
  reason (a card ring that refuses the job is one), and one after a card
  job ``...ProcessFail`` (an SA closed while the card decoded);
- a packet that authenticates but carries an inner packet outside the
  policy's selectors (test_router_drops) finished IPsec processing
  (``inProcessDone`` in both) and then failed the selector check;
- a sealed packet its out interface refuses (DF set, too big) is an
  ``ipsecEncodeDiscard``; a bundle that cannot be configured (no fixed
  peer) an ``ipsecConfigureFail``, one whose channels cannot be opened an
  ``ipsecAttachFail``.

# Ref: ../shared/spec/show-outputs.md §3.2 (IPSec: ALG counters), §5 (policy counters), Figure 48-22 (SA counters)
"""
from scapy.layers.inet import IP, UDP

from pacsim.firmware.ipsec.sad import SaState
from pacsim.host.errors import RingFull
from pacsim.sim.manual_vpn import ManualVpn
from router_support import counter, router_a, run


def test_card_refusing_the_job_is_an_immediate_failure_in_policy_and_sa():
    async def body():
        network, a = await router_a(ManualVpn())
        sa = a.runtime_sa(0)

        async def ring_full(*args, **kwargs):
            raise RingFull("the command ring has no room")
        sa.device.encode = ring_full
        network.send_udp("pc1", "pc2", 40)
        await network.run()
        assert not network.hosts["pc2"].received and a.drop_log[-1].reason == "card error"
        sa_counters = await a.execute("show ipsec sa=0 counter")
        policy = await a.execute("show ipsec policy=vpn counter")
        assert counter(sa_counters, "outProcessFailImm") == 1 and counter(sa_counters, "outProcessFail") == 0
        assert counter(policy, "outProcessFailImm") == 1 and counter(policy, "outProcessFail") == 0
    run(body())


def test_sa_closed_while_the_card_decoded_is_a_late_failure_in_policy_and_sa():
    async def body():
        network, a = await router_a(ManualVpn())
        sa = a.runtime_sa(0)
        decode = sa.device.decode

        async def decode_then_close(*args, **kwargs):
            out = await decode(*args, **kwargs)
            sa.state = SaState.REMOVING                   # taken down while the job ran
            return out
        sa.device.decode = decode_then_close
        network.send_udp("pc2", "pc1", 40)
        await network.run()
        assert not network.hosts["pc1"].received and a.drop_log[-1].reason == "SA not valid"
        sa_counters = await a.execute("show ipsec sa=0 counter")
        policy = await a.execute("show ipsec policy=vpn counter")
        for display in (sa_counters, policy):
            assert counter(display, "inProcessFail") == 1 and counter(display, "inProcessFailImm") == 0
    run(body())


def test_sealed_packet_refused_by_the_mtu_is_an_encode_discard():
    async def body():
        network, a = await router_a(ManualVpn())
        for line in ("set ppp0 mtu=576", "set ipsec policy=vpn dfbit=copy"):
            assert "Error" not in await a.execute(line)
        network.inject("a", "eth0", bytes(IP(src="10.1.1.10", dst="10.2.1.10", flags="DF") / UDP()
                                          / bytes(560)))
        await network.run()
        assert not network.hosts["pc2"].received
        alg = await a.execute("show ipsec counter=alg")
        assert counter(alg, "ipsecEncodeGood") == 1 and counter(alg, "ipsecEncodeDiscard") == 1
        assert counter(await a.execute("show ip counter"), "fragFails") == 1
    run(body())


def test_bundle_without_a_fixed_peer_is_a_configure_failure():
    async def body():
        _, a = await router_a(ManualVpn())
        out = await a.execute("set ipsec policy=vpn peer=dynamic")
        assert "was not set up" in out and "peer address is not fixed" in out
        alg = await a.execute("show ipsec counter=alg")
        assert counter(alg, "ipsecConfigureFail") == 1 and counter(alg, "ipsecAttachFail") == 0
    run(body())
