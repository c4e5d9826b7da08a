# Ref: spec/ipsec-commands.md §6.1 (scenario A: two offices, ISAKMP keys), §2.1-§2.7 (isakmp SA and bundle
#      specifications, keymanagement=isakmp policies); spec/isakmp-commands.md §2.1, §2.5 (policy, enable isakmp)
"""Two routers joined by a WAN whose VPN is keyed by ISAKMP: scenario A
of the manual with the topology of :mod:`.manual_vpn` (routers ``a`` and
``b``, hosts ``pc1`` and ``pc2``).

Each router gets one ENCO general key (the pre-shared key, the same on
both), an ISAKMP policy ``i`` to the other router, ``enable isakmp``, a
PERMIT policy ``isakmp`` for UDP 500 (first, so that the negotiation
itself is not subject to the VPN policy) and the ISAKMP VPN policy
``vpn`` with its SA specifications and bundle string. ``specs`` are the
SA specifications (``{id: "protocol=esp encalg=des hashalg=sha"}``, mode
added); ``bundle`` the bundle string (``"1"``, ``"1 and 2"``, ``"2, 1"``,
``"1 or 2"``); ``responder_specs``/``responder_bundle`` give router ``b``
other ones (to make it accept a later alternative). ``pfs_group`` turns
USEPFSKEY on with that group; ``expiryseconds``/``expirykbytes`` go to
the bundle specification (``responder_expiryseconds`` gives ``b`` its
own); ``psk_b`` gives ``b`` another key (a wrong PSK);
``nat_traversal`` sets NATTRAVERSAL on the ISAKMP policies and adds a
PERMIT policy ``natt`` for UDP 4500 (IKE after the float, ESP in UDP);
``ip_version=6`` runs the same VPN over IPv6 with :mod:`.manual_vpn`'s
IPv6 addresses (no NAT-T: IPv6 has no NAT).
"""
from dataclasses import dataclass, field

from .manual_vpn import ManualVpn

__all__ = ["IsakmpVpn"]

DEFAULT_PSK = b"scenario-A-shared-secret"


@dataclass
class IsakmpVpn:
    """The configuration (see the module docstring)."""
    specs: dict = field(default_factory=lambda: {1: "protocol=esp encalg=des hashalg=sha"})
    bundle: str = "1"
    mode: str = "tunnel"
    responder_specs: dict | None = None
    responder_bundle: str | None = None
    pfs_group: int | None = None
    expiryseconds: int | None = None
    expirykbytes: int | None = None
    responder_expiryseconds: int | None = None
    psk: bytes = DEFAULT_PSK
    psk_b: bytes | None = None
    isakmp_params: str = ""
    nat_traversal: bool = False
    ip_version: int = 4

    def __post_init__(self):
        self.layout = ManualVpn(mode=self.mode, ip_version=self.ip_version)

    def wan(self, name):
        return self.layout.wan(name)

    def host_address(self, name):
        return self.layout.host_address(name)

    def router_lines(self, name):
        """Router ``name``'s console lines."""
        me, peer = self.layout.site(name), self.layout.other(name)
        specs = self.responder_specs if name == "b" and self.responder_specs else self.specs
        bundle = self.responder_bundle if name == "b" and self.responder_bundle else self.bundle
        psk = self.psk_b if name == "b" and self.psk_b is not None else self.psk
        natt = " nattraversal=true" if self.nat_traversal else ""
        v6 = " ipversion=6" if self.ip_version == 6 else ""
        lines = [f"create enco key=1 type=general value=0x{psk.hex()}", *self.layout._ip_lines(me),
                 f"create isakmp policy=i peer={self.wan(peer.name)} key=1{v6}{natt} {self.isakmp_params}".rstrip(),
                 "enable isakmp"]
        for spec_id, text in specs.items():
            lines.append(f"create ipsec saspecification={spec_id} keymanagement=isakmp {text} mode={self.mode}")
        seconds = self.responder_expiryseconds if name == "b" and self.responder_expiryseconds else self.expiryseconds
        expiry = "".join(f" {k}={v}" for k, v in (("expiryseconds", seconds), ("expirykbytes", self.expirykbytes))
                         if v)
        lines.append(f'create ipsec bundlespecification=1 keymanagement=isakmp string="{bundle}"{expiry}')
        lines.append(f"create ipsec policy=isakmp int=ppp0 action=permit lport=500 rport=500 transportprotocol=udp{v6}")
        if self.nat_traversal:
            lines.append("create ipsec policy=natt int=ppp0 action=permit lport=4500 rport=4500 "
                         "transportprotocol=udp")
        pfs = f" usepfskey=true group={self.pfs_group}" if self.pfs_group is not None else ""
        lines.append(f"create ipsec policy=vpn int=ppp0 action=ipsec keymanagement=isakmp bundlespecification=1 "
                     f"peer={self.wan(peer.name)} isakmppolicy=i{pfs}{v6}")
        lines += [self.layout.selector_line(name), "enable ipsec"]
        return lines

    site = staticmethod(ManualVpn.site)
    other = staticmethod(ManualVpn.other)
