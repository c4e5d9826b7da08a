# Ref: spec/ipsec-commands.md §2.1 (manual SA specifications), §6.1 (scenario A); spec/isakmp-commands.md
"""The pacsim router of the interop lab: its console lines and the router on
a wall-clock network.

The router ``pacsim`` has its LAN on eth0 (``pacsim_lan``, the
``pacsim_net`` /25, one simulated host ``pc``) and its WAN on eth1
(``pacsim_wan``/24, the interface the lab attaches to the peer
namespace), a route to the peer's network through eth1 and a tunnel
policy ``vpn`` between the two /25s with the peer's WAN address:

- :class:`ManualTunnel`: manual keys (ENCO keys and SPIs given here, so a
  scapy peer can hold the other end);
- :func:`isakmp_lines`: ``keymanagement=isakmp`` with a pre-shared key and
  one ISAKMP policy per lab case (mode, algorithms, group, PFS, XAUTH
  server and mode-config pool), for the ISAKMP daemon to negotiate.
"""
import ipaddress
import random
from dataclasses import dataclass, field

from ..network import model_router
from .cases import PSK, RADIUS_SECRET, XAUTH_PASSWORD, XAUTH_USER
from .lab_certificates import ROUTER_KEY_ID
from .namespaces import ADDRESSES, LabAddresses

__all__ = ["ManualTunnel", "manual_router", "base_lines", "isakmp_lines", "xauth_lines", "mode_config_pool",
           "configured_router", "configure", "ROUTER",
           "WAN_INTERFACE", "LAN_HOST"]

ROUTER = "pacsim"
WAN_INTERFACE = "eth1"
LAN_INTERFACE = "eth0"
LAN_HOST = "pc"
_ENC_KEY = {"des": ("des", 8), "3desinner": ("3des", 24), "aes128": ("aes", 16), "aes256": ("aes", 32)}
_HASH_KEY = {"sha": 20, "md5": 16}


def _mask(network: str) -> tuple[str, str]:
    net = ipaddress.IPv4Network(network)
    return str(net.network_address), str(net.netmask)


def base_lines(addresses: LabAddresses = ADDRESSES) -> list[str]:
    """Interfaces and the route to the peer's network."""
    lan_net, lan_mask = _mask(addresses.pacsim_net)
    peer_net, peer_mask = _mask(addresses.peer_net)
    wan_mask = str(ipaddress.IPv4Network(f"0.0.0.0/{addresses.prefix}").netmask)
    return [f"add ip int={LAN_INTERFACE} ip={addresses.pacsim_lan} mask={lan_mask}",
            f"add ip int={WAN_INTERFACE} ip={addresses.pacsim_wan} mask={wan_mask}",
            f"add ip route={peer_net} mask={peer_mask} int={WAN_INTERFACE}"]


def _policy_selectors(addresses: LabAddresses) -> str:
    lan_net, lan_mask = _mask(addresses.pacsim_net)
    peer_net, peer_mask = _mask(addresses.peer_net)
    return f"set ipsec policy=vpn laddress={lan_net} lmask={lan_mask} raddress={peer_net} rmask={peer_mask}"


@dataclass
class ManualTunnel:
    """A manually keyed ESP tunnel to the peer: ``encalg``/``hashalg``
    (manual names), keys from ``seed``, the router's inbound and outbound
    SPIs."""
    encalg: str = "aes128"
    hashalg: str = "sha"
    seed: int = 12
    router_inbound_spi: int = 0x3001
    router_outbound_spi: int = 0x4001
    addresses: LabAddresses = ADDRESSES
    enc_key: bytes = field(init=False)
    auth_key: bytes = field(init=False)

    def __post_init__(self):
        rng = random.Random(self.seed)
        self.enc_key = rng.randbytes(_ENC_KEY[self.encalg][1])
        self.auth_key = rng.randbytes(_HASH_KEY[self.hashalg])

    def lines(self) -> list[str]:
        key_type = _ENC_KEY[self.encalg][0]
        return [f"create enco key=1 type={key_type} value=0x{self.enc_key.hex()}",
                f"create enco key=2 type=general value=0x{self.auth_key.hex()}",
                *base_lines(self.addresses),
                f"create ipsec saspecification=1 keymanagement=manual protocol=esp encalg={self.encalg} "
                f"hashalg={self.hashalg} enckey=1 hashkey=2 inspi={self.router_inbound_spi} "
                f"outspi={self.router_outbound_spi} mode=tunnel",
                'create ipsec bundlespecification=1 keymanagement=manual string="1"',
                f"create ipsec policy=vpn int={WAN_INTERFACE} action=ipsec keymanagement=manual "
                f"bundlespecification=1 peer={self.addresses.peer_wan}",
                _policy_selectors(self.addresses),
                "enable ipsec"]


def mode_config_pool(addresses: LabAddresses = ADDRESSES) -> tuple[str, str]:
    """(first, last) of the XAUTH cases' mode-config pool: ten addresses at the top of the peer's network (so
    that the peer's quick-mode IDs, its network, still match the tunnel policy)."""
    net = ipaddress.IPv4Network(addresses.peer_net)
    return str(net.broadcast_address - 15), str(net.broadcast_address - 6)


def xauth_lines(case, radius_port: int | None = None, addresses: LabAddresses = ADDRESSES) -> list[str]:
    """The XAUTH server of an XAUTH ``case`` on the ISAKMP policy ``peer``: the user (generic) or the RADIUS
    server on 127.0.0.1:``radius_port`` (radius; None: 1812), and the mode-config pool (:func:`mode_config_pool`)."""
    if case.xauth == "none":
        return []
    first, last = mode_config_pool(addresses)
    check = ([f"add user={XAUTH_USER} password={XAUTH_PASSWORD}"] if case.xauth == "generic" else
             [f"add radius server=127.0.0.1 secret={RADIUS_SECRET}" + (f" port={radius_port}" if radius_port else "")])
    return [*check, f"set isakmp policy=peer xauth=server xauthtype={case.xauth}",
            f"set isakmp modeconfig pool={first}-{last}"]


def isakmp_lines(case, addresses: LabAddresses = ADDRESSES, psk: str = PSK, keylog=None,
                 radius_port: int | None = None, credentials=None) -> list[str]:
    """The router for ``case`` (a :class:`~.cases.Case`): ``psk`` as ENCO
    key 1 (with ``auth=rsasig``: the RSA key and certificates of
    ``credentials``, a :class:`~.lab_certificates.LabCredentials`, and
    ``authtype=rsasig localrsakey=2``), one ISAKMP policy with the case's mode, algorithms and group
    (NAT traversal on: the peer's userspace ESP only does ESP in UDP;
    notifies on, so that a refused proposal is answered NO-PROPOSAL-CHOSEN),
    ISAKMP and NAT-T permitted on the WAN (from any remote port for a case
    behind the lab's NAT, which translates source ports), and the tunnel policy with
    ``usepfskey`` when the case has PFS (spec/ipsec-commands.md §6.1), and
    an XAUTH case's server (:func:`xauth_lines`, ``radius_port``: the
    FreeRADIUS of a radius case); ``keylog``: the key log directory (None: none)."""
    pfs = f" usepfskey=true group={case.group}" if case.pfs else ""
    rsa = case.auth == "rsasig"
    auth = f"authtype=rsasig localrsakey={ROUTER_KEY_ID}" if rsa else "authtype=preshared key=1"
    return [f"create enco key=1 type=general value={psk}",
            *(credentials.router_lines() if rsa else []),
            *base_lines(addresses),
            f"create isakmp policy=peer peer={addresses.peer_wan} {auth} encalg={case.encalg} "
            f"hashalg={case.hashalg} group={case.group} mode={case.mode} nattraversal=on sendnotify=true",
            f"create ipsec saspecification=1 keymanagement=isakmp protocol=esp encalg={case.encalg} "
            f"hashalg={case.hashalg}",
            'create ipsec bundlespecification=1 keymanagement=isakmp string="1"',
            f"create ipsec policy=isakmp int={WAN_INTERFACE} action=permit lport=500{_rport(case, 500)}",
            f"create ipsec policy=natt int={WAN_INTERFACE} action=permit lport=4500{_rport(case, 4500)}",
            f"create ipsec policy=vpn int={WAN_INTERFACE} action=ipsec keymanagement=isakmp bundlespecification=1 "
            f"peer={addresses.peer_wan}{pfs}",
            *xauth_lines(case, radius_port, addresses),
            _policy_selectors(addresses),
            "enable ipsec",
            *([f"enable isakmp keylog={keylog}"] if keylog is not None else []),
            "enable isakmp"]


def _rport(case, port: int) -> str:
    """The permit policies' remote port: ``port``, or any behind the lab's NAT (it translates source ports)."""
    return "" if getattr(case, "nat", False) else f" rport={port}"


async def configured_router(network, lines: list[str], *, seed: int = 1, addresses: LabAddresses = ADDRESSES):
    """The lab's router on a fresh model card, on ``network``'s clock (see :func:`configure`)."""
    return await configure(network, await model_router(ROUTER, network.clock, seed=seed), lines, addresses)


async def configure(network, router, lines: list[str], addresses: LabAddresses = ADDRESSES):
    """``router`` (named :data:`ROUTER`) on ``network`` with its LAN host;
    ``lines`` run on its console (a failing line raises ValueError with the
    router's error)."""
    network.add_router(router)
    for line in lines:
        out = await router.run(line)
        if out.startswith("Error"):
            raise ValueError(f"{line!r}: {out}")
    network.add_host(LAN_HOST, ROUTER, LAN_INTERFACE, addresses.pacsim_host)
    return router


async def manual_router(network, tunnel: ManualTunnel):
    """The router with ``tunnel`` configured (see :func:`configured_router`)."""
    return await configured_router(network, tunnel.lines(), addresses=tunnel.addresses)
