# Ref: nft(8) (NAT statements: masquerade), ip-netns(8), veth(4); RFC 3947 (NAT-D), RFC 3948 (ESP in UDP);
#      RFC 1918 (private addresses); issue 14 (XAUTH through NAT-T)
"""A real NAT between the router and strongSwan, for the cases with ``nat``.

::

    ns pacsim-<pid>-a (router)       ns pacsim-<pid>-b (the NAT)             ns pacsim-<pid>-n (strongSwan)
    pcs<pid>a 192.0.2.1/24 <-veth->  pcs<pid>b 192.0.2.2/24 (outside)
                                     pcs<pid>m 10.1.0.1/24 (inside) <-veth->  pcs<pid>n 10.1.0.2/24
                                                                             lo 198.51.100.129/32
                                                                             default via 10.1.0.1

The peer namespace ``b`` becomes the NAT: forwarding on and an nftables
table ``pacsim_nat`` that masquerades what comes from the private network
(source NAT to ``peer_wan``, UDP source ports translated into
:data:`NAT_PORTS`), so the router sees the NAT's address and a translated
port, the NAT-D hashes really mismatch, IKE floats to 4500 and ESP comes in
UDP through the mapping. strongSwan runs in the namespace ``n`` behind it.
:meth:`NatSegment.stop` deletes ``n`` (its veth goes with it) and the table;
:meth:`~.namespaces.LabNamespaces.down` deletes ``n`` too if it is left.
"""
from .namespaces import LabNamespaces, Service, run

__all__ = ["NatSegment", "NAT_PORTS", "NAT_TABLE"]

#: The UDP source ports the NAT translates to (so that a translated port is never 500 or 4500).
NAT_PORTS = "40000-40999"
NAT_TABLE = "pacsim_nat"


class NatSegment(Service):
    """The NAT of :mod:`.nat` on ``namespaces`` (a :class:`~.namespaces.LabNamespaces`, up)."""

    def __init__(self, namespaces: LabNamespaces):
        self.namespaces = namespaces
        self.natted = namespaces.natted
        self._up = False

    def start(self) -> None:
        lab, a = self.namespaces, self.namespaces.addresses
        self._up = True
        try:
            run(["ip", "netns", "add", self.natted])
            run(["ip", "link", "add", lab.nat_inside_if, "netns", lab.peer, "type", "veth", "peer", "name",
                 lab.natted_if, "netns", self.natted])
            run(lab.exec_argv(self.natted, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]))
            for ns, interface, address in ((lab.peer, lab.nat_inside_if, a.nat_inside),
                                           (self.natted, lab.natted_if, a.natted_peer)):
                run(["ip", "-n", ns, "addr", "add", f"{address}/{a.private_prefix}", "dev", interface])
                run(["ip", "-n", ns, "link", "set", interface, "up"])
            run(["ip", "-n", self.natted, "link", "set", "lo", "up"])
            run(["ip", "-n", self.natted, "addr", "add", f"{a.peer_host}/32", "dev", "lo"])
            run(["ip", "-n", self.natted, "route", "add", "default", "via", a.nat_inside])
            run(lab.exec_argv(lab.peer, ["sysctl", "-qw", "net.ipv4.ip_forward=1"]))
            private = f"{a.natted_peer}/{a.private_prefix}"
            rules = (f"table ip {NAT_TABLE} {{\n chain postrouting {{\n  type nat hook postrouting priority 100;\n"
                     f"  oifname {lab.peer_if} ip saddr {private} meta l4proto udp masquerade to :{NAT_PORTS}\n"
                     f"  oifname {lab.peer_if} ip saddr {private} masquerade\n }}\n}}\n")
            run(lab.exec_argv(lab.peer, ["nft", "-f", "-"]), input=rules)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Delete the namespace behind the NAT and the NAT's table; idempotent."""
        if not self._up:
            return
        self._up = False
        lab = self.namespaces
        if self.natted in lab.existing():
            run(["ip", "netns", "del", self.natted], check=False)
        if lab.peer in lab.existing():
            run(lab.exec_argv(lab.peer, ["nft", "delete", "table", "ip", NAT_TABLE]), check=False)
            run(lab.exec_argv(lab.peer, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]), check=False)
