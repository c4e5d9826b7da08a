# Ref: spec/ipsec-commands.md §6.1 (scenario A, adapted to manual keys), §2.1 (manual SA specifications),
#      §6.0 (keys), §5.9 B66-B67 (ipversion=6 policies); RFC 3849 (2001:db8::/32 for documentation)
"""Two routers joined by a WAN with a manually keyed VPN: the configuration
scripts the tests, the bench, the RTL co-simulation and the example
network script share.

The topology is scenario A's (spec/ipsec-commands.md §6.1): the head office
``a`` (WAN ppp0 202.45.12.8, LAN eth0 10.1.1.0/24) and the remote site
``b`` (ppp0 202.78.65.4, LAN 10.2.1.0/24), each with a default route out of
ppp0 and one host on its LAN (``pc1`` 10.1.1.10, ``pc2`` 10.2.1.10). The
ISAKMP lines of scenario A become manual keys: the same ENCO keys are
entered on both routers (§6.0: "The values for the keys must be the same
on both routers"), each SA specification names its SPIs, mirrored on the
other router, and ``keymanagement=manual`` replaces ``isakmp``.

Bundles: ``esp`` (one ESP SA, encryption and HMAC), ``esp+ah`` (ESP then AH,
AH outermost), ``esp+ipcomp`` (IPComp then ESP). Modes: ``tunnel`` protects
LAN to LAN traffic (laddress/raddress the two LANs, the policy's peer the
other router); ``transport`` protects traffic between the two routers
themselves (laddress/raddress the two WAN addresses). A second policy,
``internet`` (PERMIT), comes after the VPN policy when ``permit_other``
is set (scenario B's "VPN + Internet browsing"); without it the
configuration is VPN-only (B35).

``ip_version=6`` builds the same VPN over IPv6 (B66-B67): the routers
``enable ipv6`` and have IPv6 addresses only, from the documentation
prefix (a: ppp0 2001:db8:45:12::8/64, eth0 2001:db8:1:1::1/64, ``pc1``
2001:db8:1:1::10; b: ppp0 2001:db8:78:65::4/64, eth0 2001:db8:2:1::1/64,
``pc2`` 2001:db8:2:1::10), a default route ``::/0`` out of ppp0, and the
policies have ``ipversion=6`` with the peer's IPv6 address, the LAN
prefixes (tunnel) or the WAN addresses (transport) as selectors. The
keys, SPIs and bundles are the same.
"""
import random
from dataclasses import dataclass, field

from ..firmware.ipsec.transforms import IPCOMP_LZS_CPI

__all__ = ["ManualVpn", "BUNDLES", "MODES", "IP_VERSIONS", "SITES", "Site"]

BUNDLES = ("esp", "esp+ah", "esp+ipcomp")
MODES = ("tunnel", "transport")
IP_VERSIONS = (4, 6)


@dataclass(frozen=True)
class Site:
    """One router of the VPN: name, WAN and LAN addresses, its host; the
    IPv6 addresses (``wan6``, ``lan6``, ``host_address6``) and LAN prefix
    (``lan_net6``, with its length) of the ``ip_version=6`` VPN."""
    name: str
    wan: str
    lan: str
    host: str
    host_address: str
    lan_net: str
    wan6: str = ""
    lan6: str = ""
    host_address6: str = ""
    lan_net6: str = ""


SITES = (Site("a", "202.45.12.8", "10.1.1.1", "pc1", "10.1.1.10", "10.1.1.0",
              "2001:db8:45:12::8", "2001:db8:1:1::1", "2001:db8:1:1::10", "2001:db8:1:1::/64"),
         Site("b", "202.78.65.4", "10.2.1.1", "pc2", "10.2.1.10", "10.2.1.0",
              "2001:db8:78:65::4", "2001:db8:2:1::1", "2001:db8:2:1::10", "2001:db8:2:1::/64"))
#: Prefix length of the IPv6 interface addresses.
_IPV6_PREFIX = 64
#: Key lengths of the ENCO keys by algorithm (bytes).
_ENC_KEY_BYTES = {"des": 8, "3des2key": 16, "3desinner": 24, "3desouter": 24, "aes128": 16, "aes192": 24,
                  "aes256": 32}
_ENC_KEY_TYPE = {"des": "des", "3des2key": "3des", "3desinner": "3des", "3desouter": "3des", "aes128": "aes",
                 "aes192": "aes", "aes256": "aes"}
_HASH_KEY_BYTES = {"sha": 20, "md5": 16}


@dataclass
class ManualVpn:
    """The configuration (see the module docstring). ``encalg``/``hashalg``:
    the ESP SA's algorithms (manual names: ``aes128``, ``sha``...);
    ``ah_hashalg`` the AH SA's; keys are random bytes from ``seed``;
    ``ip_version`` 4 or 6 (see the module docstring)."""
    bundle: str = "esp"
    mode: str = "tunnel"
    encalg: str = "aes128"
    hashalg: str = "sha"
    ah_hashalg: str = "md5"
    permit_other: bool = False
    seed: int = 6
    esp_spis: tuple[int, int] = (0x1001, 0x2001)     #: (a's inbound, b's inbound)
    ah_spis: tuple[int, int] = (0x1002, 0x2002)
    ip_version: int = 4
    keys: dict = field(init=False)

    def __post_init__(self):
        if self.bundle not in BUNDLES:
            raise ValueError(f"bundle {self.bundle!r}; expected one of {', '.join(BUNDLES)}")
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.ip_version not in IP_VERSIONS:
            raise ValueError(f"IP version {self.ip_version!r}; expected 4 or 6")
        rng = random.Random(self.seed)
        self.keys = {"esp_enc": rng.randbytes(_ENC_KEY_BYTES[self.encalg]),
                     "esp_auth": rng.randbytes(_HASH_KEY_BYTES[self.hashalg]),
                     "ah_auth": rng.randbytes(_HASH_KEY_BYTES[self.ah_hashalg])}

    # -- what a peer needs to check the WAN ---------------------------------------------------------

    def esp_spi(self, sender: str) -> int:
        """The ESP SPI on packets ``sender`` sends (the other router's inbound SPI)."""
        return self.esp_spis[1] if sender == "a" else self.esp_spis[0]

    def ah_spi(self, sender: str) -> int:
        return self.ah_spis[1] if sender == "a" else self.ah_spis[0]

    @property
    def cpi(self) -> int:
        return IPCOMP_LZS_CPI

    @staticmethod
    def site(name: str) -> Site:
        return next(s for s in SITES if s.name == name)

    @staticmethod
    def other(name: str) -> Site:
        return next(s for s in SITES if s.name != name)

    def wan(self, name: str) -> str:
        """Router ``name``'s WAN address of this VPN's IP version."""
        site = self.site(name)
        return site.wan6 if self.ip_version == 6 else site.wan

    def host_address(self, name: str) -> str:
        """The address of router ``name``'s host, of this VPN's IP version."""
        site = self.site(name)
        return site.host_address6 if self.ip_version == 6 else site.host_address

    # -- scripts ----------------------------------------------------------------------------------

    def router_lines(self, name: str) -> list[str]:
        """Router ``name``'s console lines, in the order a manager types them."""
        me, peer = self.site(name), self.other(name)
        mine = 0 if name == "a" else 1
        esp_in, esp_out = self.esp_spis[mine], self.esp_spis[1 - mine]
        ah_in, ah_out = self.ah_spis[mine], self.ah_spis[1 - mine]
        lines = [
            f"create enco key=1 type={_ENC_KEY_TYPE[self.encalg]} value=0x{self.keys['esp_enc'].hex()}",
            f"create enco key=2 type=general value=0x{self.keys['esp_auth'].hex()}",
            f"create enco key=3 type=general value=0x{self.keys['ah_auth'].hex()}",
            *self._ip_lines(me),
            f"create ipsec saspecification=1 keymanagement=manual protocol=esp encalg={self.encalg} "
            f"hashalg={self.hashalg} enckey=1 hashkey=2 inspi={esp_in} outspi={esp_out} mode={self.mode}",
            f"create ipsec saspecification=2 keymanagement=manual protocol=ah hashalg={self.ah_hashalg} hashkey=3 "
            f"inspi={ah_in} outspi={ah_out} mode={self.mode}",
            f"create ipsec saspecification=3 keymanagement=manual protocol=comp compalg=lzs mode={self.mode}",
            f'create ipsec bundlespecification=1 keymanagement=manual string="{self.bundle_string}"',
            f"create ipsec policy=vpn int=ppp0 action=ipsec keymanagement=manual bundlespecification=1 "
            f"peer={self.wan(peer.name)}" + (" ipversion=6" if self.ip_version == 6 else ""),
            self.selector_line(name),
        ]
        if self.permit_other:
            lines.append("create ipsec policy=internet int=ppp0 action=permit"
                         + (" ipversion=6" if self.ip_version == 6 else ""))
        lines.append("enable ipsec")
        return lines

    def selector_line(self, name: str) -> str:
        """The ``set ipsec policy=vpn`` line of router ``name``'s selectors:
        the two LANs (tunnel) or the two WAN addresses (transport)."""
        me, peer = self.site(name), self.other(name)
        if self.mode == "tunnel" and self.ip_version == 6:
            return f"set ipsec policy=vpn laddress={me.lan_net6} raddress={peer.lan_net6}"
        if self.mode == "tunnel":
            return (f"set ipsec policy=vpn laddress={me.lan_net} lmask=255.255.255.0 "
                    f"raddress={peer.lan_net} rmask=255.255.255.0")
        return f"set ipsec policy=vpn laddress={self.wan(me.name)} raddress={self.wan(peer.name)}"

    def _ip_lines(self, me: Site) -> list[str]:
        if self.ip_version == 6:
            return ["enable ipv6",
                    f"add ipv6 interface=eth0 ipaddress={me.lan6}/{_IPV6_PREFIX}",
                    f"add ipv6 interface=ppp0 ipaddress={me.wan6}/{_IPV6_PREFIX}",
                    "add ipv6 route=::/0 interface=ppp0"]
        return [f"add ip int=eth0 ip={me.lan} mask=255.255.255.0",
                f"add ip int=ppp0 ip={me.wan} mask=255.255.255.0",
                "add ip route=0.0.0.0 mask=0.0.0.0 int=ppp0"]

    @property
    def bundle_string(self) -> str:
        return {"esp": "1", "esp+ah": "1 and 2", "esp+ipcomp": "3 and 1"}[self.bundle]

    def network_script(self, traffic: tuple[str, ...] = ()) -> str:
        """A whole network script (``pacsim router --script``): both routers,
        the WAN, the hosts, then ``traffic`` lines."""
        lines = [f"# Two routers, manual keys: {self.bundle.upper()} bundle, {self.mode} mode"
                 + (", IPv6" if self.ip_version == 6 else "") + " (spec/ipsec-commands.md §6.1 adapted)"]
        for site in SITES:
            lines.append(f"router {site.name}")
            lines += [f"{site.name}: {line}" for line in self.router_lines(site.name)]
        lines.append("wan a ppp0 b ppp0")
        lines += [f"host {s.host} {s.name} eth0 {self.host_address(s.name)}" for s in SITES]
        return "\n".join(lines + list(traffic)) + "\n"
