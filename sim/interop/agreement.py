# Ref: swanctl(8) of strongSwan 5.9.8 (--list-sas); issue 13, "Must show" (every view agrees on every shared fact)
"""Whether every view of the router agrees with strongSwan's ``swanctl
--list-sas`` at the other end of the lab, field by field.

:func:`swan_facts` reads the first IKEv1 SA and its first CHILD_SA from
``--list-sas`` into the fields of :mod:`.view_facts`, turned to the
router's side: strongSwan's local address is the router's remote one,
its inbound SPI the router's outbound SPI, its packets in the router's
packets out (behind a NAT the router's remote address is the NAT's,
``peer_address``). Two conversions are stated here:

- bytes: strongSwan counts whole inner IP packets, the router's SAD the
  inner packets' payloads; with IPv4 inner packets without options, the
  router's ``payload_bytes`` is strongSwan's bytes in plus out less
  :data:`INNER_HEADER` per packet;
- lifetimes: strongSwan's ``expires in`` (CHILD_SA, hard lifetime) and
  ``reauth in`` (IKE_SA) against the router's remaining seconds, within
  ``tolerance`` seconds (:func:`mismatches`): the time between reading
  strongSwan and reading the views plus :data:`LIFETIME_SLACK`.

:func:`mismatches` names each field on which a view differs from
strongSwan, or does not show although it should (``view:field``, the
fields of :data:`~.view_facts.SHOWN`); ``swanctl:field`` when strongSwan
lists no SA to compare with.
"""
import re

from .view_facts import ESTABLISHED, SHOWN, cipher_of, integrity_of

__all__ = ["swan_facts", "mismatches", "INNER_HEADER", "LIFETIME_SLACK", "SWAN_LIFETIMES"]

#: Octets of an inner IPv4 header without options (strongSwan counts them, the router's SAD does not).
INNER_HEADER = 20
#: Seconds two reads of one lifetime may differ beyond the time between them: the two ends install an SA
#: up to one message's flight apart, and both round down to whole seconds.
LIFETIME_SLACK = 2.0
#: Fields compared as lifetimes (within the tolerance), the others exactly.
SWAN_LIFETIMES = ("ike.remaining", "ipsec.remaining")
_GROUPS = {"MODP_768": 1, "MODP_1024": 2, "MODP_1536": 5}
_IKE = re.compile(r"^\S+: #\d+, (?P<state>\w+), IKEv1, (?P<i>[0-9a-f]{16})_i\*? (?P<r>[0-9a-f]{16})_r\*?\n"
                  r"\s+local\s+'[^']*' @ (?P<local>[\d.]+)\[\d+\][^\n]*\n\s+remote\s+'[^']*' @ (?P<remote>[\d.]+)\[\d+\][^\n]*\n"
                  r"\s+(?P<algs>\S+)\n\s+established \d+s ago(?:, \w+ in (?P<left>\d+)s)?", re.M)
_CHILD = re.compile(r"^\s+\S+: #\d+, reqid \d+, (?P<state>\w+), [\w-]+, ESP:(?P<algs>\S+)\n"
                    r"\s+installed \d+s ago(?:, rekeying in \d+s)?(?:, expires in (?P<left>\d+)s)?\n"
                    r"\s+in\s+(?P<spi_in>[0-9a-f]{8}),\s+(?P<bytes_in>\d+) bytes,\s+(?P<packets_in>\d+) packets.*\n"
                    r"\s+out\s+(?P<spi_out>[0-9a-f]{8}),\s+(?P<bytes_out>\d+) bytes,\s+(?P<packets_out>\d+) packets",
                    re.M)


def _algorithms(prefix: str, text: str) -> dict:
    """Fields of strongSwan's ``CIPHER-BITS/INTEGRITY[/PRF][/GROUP]``."""
    parts = text.split("/")
    family, bits = cipher_of(parts[0])
    facts = {f"{prefix}.encryption": family, f"{prefix}.key_size": bits, f"{prefix}.integrity": integrity_of(parts[1])}
    group = next((_GROUPS[p] for p in parts[2:] if p in _GROUPS), None)
    if group is not None:
        facts[f"{prefix}.dh_group"] = group
    return facts


def swan_facts(text: str, peer_address: str | None = None) -> dict:
    """The router-side fields of the first IKEv1 SA and CHILD_SA of ``swanctl --list-sas`` (module docstring);
    ``peer_address``: the address the router sees strongSwan at when a NAT translates it (None: strongSwan's
    local address)."""
    facts = {}
    ike = _IKE.search(text)
    if ike:
        remote = peer_address or ike["local"]
        facts.update({"ike.state": ESTABLISHED if ike["state"] == "ESTABLISHED" else ike["state"],
                      "ike.cookies": f"{ike['i']}:{ike['r']}", "ike.local": ike["remote"],
                      "ike.remote": remote, **_algorithms("ike", ike["algs"])})
        if ike["left"] is not None:
            facts["ike.remaining"] = int(ike["left"])
        facts.update({"ipsec.local": ike["remote"], "ipsec.remote": remote})
    child = _CHILD.search(text)
    if child:
        packets = int(child["packets_in"]) + int(child["packets_out"])
        facts.update({"ipsec.state": ESTABLISHED if child["state"] == "INSTALLED" else child["state"],
                      "ipsec.spi_in": int(child["spi_out"], 16), "ipsec.spi_out": int(child["spi_in"], 16),
                      "ipsec.packets_in": int(child["packets_out"]), "ipsec.packets_out": int(child["packets_in"]),
                      "ipsec.payload_bytes": int(child["bytes_in"]) + int(child["bytes_out"]) - INNER_HEADER * packets,
                      **_algorithms("ipsec", child["algs"])})
        facts.pop("ipsec.dh_group", None)          # the PFS group: no view of ours shows it per SA
        if child["left"] is not None:
            facts["ipsec.remaining"] = int(child["left"])
    return facts


def mismatches(swan: dict, views: dict[str, dict], tolerance: float) -> list[str]:
    """``view:field`` for each field a view of ``views`` ({view: facts}) shows differently from ``swan``
    (lifetimes within ``tolerance`` seconds); see the module docstring for the other names."""
    if not swan.get("ike.cookies") or not swan.get("ipsec.spi_in"):
        return ["swanctl:ike.cookies" if not swan.get("ike.cookies") else "swanctl:ipsec.spi_in"]
    wrong = []
    for view, facts in sorted(views.items()):
        wrong += [f"{view}:{field}" for field in sorted(SHOWN[view] - set(facts))]
        for field, value in sorted(facts.items()):
            if field not in swan:
                continue
            if field in SWAN_LIFETIMES:
                same = abs(value - swan[field]) <= tolerance
            else:
                same = value == swan[field]
            if not same:
                wrong.append(f"{view}:{field}")
    return wrong
