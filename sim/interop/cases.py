# Ref: RFC 2409 sections 5 and 6, appendix A (IKEv1 modes, Oakley groups 1 and 2); issue 12 (interop must-show)
"""The interop cases, as data.

A :class:`Case` is one negotiation with the strongSwan peer: the phase-1
``mode`` (main or aggressive), who initiates (``pacsim`` or
``strongswan``), the algorithms (the router's names: ``3desinner``,
``aes128``, ``aes256``, ``des``; ``sha``, ``md5``), the Oakley ``group``
(1: MODP768, 2: MODP1024) for phase 1 and, with ``pfs``, for quick mode,
the ``bus`` the router's card is on (``rtl``: the co-simulated card,
for which the peer's retransmission timeout is raised), ``xauth``:
``none``, or strongSwan as an XAUTH client (PSK + XAUTH, user
:data:`XAUTH_USER`) of the router's XAUTH server checking its user
database (``generic``) or a FreeRADIUS (``radius``), asking for a
mode-config address (a virtual IP), ``nat``: strongSwan behind a real
NAT (:mod:`.nat`; the XAUTH cases and one plain PSK case), and ``auth``, the
phase-1 authentication (:data:`AUTHS`: ``psk``, a pre-shared key, or
``rsasig``, RSA signatures with certificates from a CA made for the run,
:mod:`.lab_certificates`; strongSwan has no IKEv1 RSA encryption, so
``rsaencr`` runs between two pacsim routers only).

An :class:`IkeScanProbe` is one ike-scan probe at the router: its mode,
the transform it offers (ike-scan's ``--trans`` attribute list, RFC 2409
appendix A numbers) or None for ike-scan's default offer, and whether the
router should accept it.

:data:`CASES` covers the must-show: both modes, both initiators, the four
algorithm sets, with and without PFS, one case on the RTL bus,
strongSwan as an XAUTH client with generic and with RADIUS authentication
(both through a NAT, as one plain PSK case is),
and RSA signatures in main mode both ways and in aggressive mode.
"""
from dataclasses import dataclass

__all__ = ["Case", "IkeScanProbe", "CASES", "PROBES", "PSK", "AUTHS", "ALGORITHM_SETS", "SWAN_CIPHER", "SWAN_HASH",
           "SWAN_GROUP", "XAUTH_USER", "XAUTH_PASSWORD", "XAUTH_TYPES", "RADIUS_SECRET"]

#: The pre-shared key both ends use (any identity).
PSK = "interop-test-psk"
#: strongSwan's XAUTH credentials (the manual's user ``remote``), and the router's RADIUS secret.
XAUTH_USER, XAUTH_PASSWORD = "remote", "interop-xauth-password"
RADIUS_SECRET = "interop-radius-secret"
XAUTH_TYPES = ("none", "generic", "radius")
#: The router's algorithm names -> strongSwan's proposal keywords.
SWAN_CIPHER = {"3desinner": "3des", "aes128": "aes128", "aes256": "aes256", "des": "des"}
SWAN_HASH = {"sha": "sha1", "md5": "md5"}
SWAN_GROUP = {1: "modp768", 2: "modp1024"}
#: Phase-1 authentications of the cases (the JSON rows' ``auth``).
AUTHS = ("psk", "rsasig")
#: RFC 2409 appendix A attribute values: encryption (1), key length (14), hash (2), group (4).
_IKE_CIPHER = {"des": "1=1", "3desinner": "1=5", "aes128": "1=7,14=128", "aes256": "1=7,14=256"}
_IKE_HASH = {"md5": "2=1", "sha": "2=2"}

#: strongSwan's retransmission timeout (seconds) with a model-bus router, and with the RTL card (its
#: co-simulated modular exponentiations for MM3/MM4 took 100 s of wall time on a loaded 2-core host).
RETRANSMIT_TIMEOUT = 1.0
RTL_RETRANSMIT_TIMEOUT = 60.0
#: (encalg, hashalg, group) of the must-show.
ALGORITHM_SETS = (("3desinner", "sha", 2), ("aes128", "sha", 2), ("aes256", "sha", 2), ("des", "md5", 1))


@dataclass(frozen=True)
class Case:
    """One negotiation with the strongSwan peer (see the module docstring)."""
    mode: str
    initiator: str
    encalg: str
    hashalg: str
    group: int
    pfs: bool = False
    bus: str = "model"
    xauth: str = "none"
    auth: str = "psk"
    nat: bool = False

    def __post_init__(self):
        if self.mode not in ("main", "aggressive") or self.initiator not in ("pacsim", "strongswan"):
            raise ValueError(f"case {self}: mode main|aggressive, initiator pacsim|strongswan")
        if self.encalg not in SWAN_CIPHER or self.hashalg not in SWAN_HASH or self.group not in SWAN_GROUP:
            raise ValueError(f"case {self}: unknown algorithm")
        if self.xauth not in XAUTH_TYPES or self.xauth != "none" and (self.initiator, self.bus) != ("strongswan",
                                                                                                   "model"):
            raise ValueError(f"case {self}: xauth none|generic|radius, XAUTH with strongSwan initiating on the model")
        if self.auth not in AUTHS:
            raise ValueError(f"case {self}: auth {' or '.join(AUTHS)}")

    @property
    def name(self) -> str:
        return (f"{self.mode[:2]}-{self.initiator[:2]}-{SWAN_CIPHER[self.encalg]}-{SWAN_HASH[self.hashalg]}-"
                f"g{self.group}{'-pfs' if self.pfs else ''}{'-rtl' if self.bus == 'rtl' else ''}"
                f"{'' if self.xauth == 'none' else '-xauth-' + self.xauth}"
                f"{'-rsasig' if self.auth == 'rsasig' else ''}{'-nat' if self.nat else ''}")

    @property
    def retransmit_timeout(self) -> float:
        """strongSwan's retransmission timeout (seconds): raised for the RTL card, which answers slowly."""
        return RTL_RETRANSMIT_TIMEOUT if self.bus == "rtl" else RETRANSMIT_TIMEOUT

    @property
    def ike_proposal(self) -> str:
        """strongSwan's IKE proposal (e.g. ``aes128-sha1-modp1024``)."""
        return f"{SWAN_CIPHER[self.encalg]}-{SWAN_HASH[self.hashalg]}-{SWAN_GROUP[self.group]}"

    @property
    def esp_proposal(self) -> str:
        """strongSwan's ESP proposal, with the PFS group when ``pfs``."""
        pfs = f"-{SWAN_GROUP[self.group]}" if self.pfs else ""
        return f"{SWAN_CIPHER[self.encalg]}-{SWAN_HASH[self.hashalg]}{pfs}"


@dataclass(frozen=True)
class IkeScanProbe:
    """One ike-scan probe (see the module docstring)."""
    name: str
    mode: str
    transform: tuple | None = None
    acceptable: bool = True

    @property
    def trans(self) -> str | None:
        """ike-scan's ``--trans`` value, or None for its default offer."""
        if self.transform is None:
            return None
        encalg, hashalg, group = self.transform
        return f"({_IKE_CIPHER[encalg]},{_IKE_HASH[hashalg]},3=1,4={group})"


def _cases() -> tuple:
    cases = []
    for index, (encalg, hashalg, group) in enumerate(ALGORITHM_SETS):
        for initiator in ("strongswan", "pacsim"):
            pfs = (index + (initiator == "pacsim")) % 2 == 1
            cases.append(Case("main", initiator, encalg, hashalg, group, pfs=pfs))
    cases += [Case("aggressive", "strongswan", "3desinner", "sha", 2),
              Case("aggressive", "pacsim", "aes128", "sha", 2, pfs=True),
              Case("aggressive", "strongswan", "des", "md5", 1, pfs=True),
              Case("main", "strongswan", "aes128", "sha", 2, bus="rtl"),
              Case("main", "strongswan", "aes128", "sha", 2, xauth="generic", nat=True),
              Case("main", "strongswan", "3desinner", "sha", 2, pfs=True, xauth="radius", nat=True),
              Case("main", "strongswan", "aes256", "sha", 2, pfs=True, nat=True),
              Case("main", "strongswan", "aes128", "sha", 2, auth="rsasig"),
              Case("main", "pacsim", "3desinner", "sha", 2, pfs=True, auth="rsasig"),
              Case("aggressive", "strongswan", "aes256", "sha", 2, auth="rsasig")]
    return tuple(cases)


#: The strongSwan cases (18).
CASES = _cases()

#: The ike-scan probes: the default offer, each algorithm set, one the router must refuse, aggressive mode.
PROBES = (IkeScanProbe("main-default", "main"),
          *(IkeScanProbe(f"main-{SWAN_CIPHER[e]}-{SWAN_HASH[h]}-g{g}", "main", (e, h, g))
            for e, h, g in ALGORITHM_SETS),
          IkeScanProbe("main-aes256-md5-g5-refused", "main", ("aes256", "md5", 5), acceptable=False),
          IkeScanProbe("aggressive-3des-sha1-g2", "aggressive", ("3desinner", "sha", 2)))
