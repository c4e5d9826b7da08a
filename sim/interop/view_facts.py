# Ref: ../shared/seeds/000_*.txt and 001_*.txt (racoonctl -ll show-sa isakmp, setkey -D, tmsh ike-sa);
#      ../shared/seeds/002_*.txt and 003_*.txt (IOS show crypto isakmp sa, show crypto ipsec sa);
#      ../shared/spec/isakmp-commands.md (show isakmp sa=N); ../shared/spec/ipsec-commands.md (show ipsec sa=N)
"""Every vendor view of a router's one IKE SA and one ESP SA, read back
into facts that can be compared (:mod:`.agreement`).

The parsers follow the layouts of the seeds' sample lines (and, for the
AlliedWare displays, the manual's ``label ..... value`` form); they read
text only, never the snapshots the views are rendered from.

:data:`VIEW_REQUESTS`: the (view, command words) pairs read, AlliedWare's
per-SA displays added by :func:`read_views` once the summaries name the
SA ids. :func:`read_views` takes ``fetch(view, argv) -> text`` (the
control socket's ``view`` request, or a renderer in-process) and returns
{key: text}, the key the view and its words. :func:`view_facts` turns
those texts into {view: {field: value}}.

Fields (from the router's side; a view states the ones it prints):

- ``ike.local``, ``ike.remote`` (addresses), ``ike.cookies``
  (``ICKY:RCKY``, hex), ``ike.state`` (``established`` or the view's own
  word), ``ike.encryption`` (``des``, ``3des``, ``aes``), ``ike.key_size``
  (bits), ``ike.integrity`` (``sha1``, ``md5``), ``ike.dh_group`` (Oakley
  group number), ``ike.remaining`` (seconds of lifetime left);
- ``ipsec.local``, ``ipsec.remote`` (tunnel ends), ``ipsec.spi_in``,
  ``ipsec.spi_out``, ``ipsec.state``, ``ipsec.encryption``,
  ``ipsec.key_size``, ``ipsec.integrity``, ``ipsec.packets_in``,
  ``ipsec.packets_out`` (packets opened and protected),
  ``ipsec.payload_bytes`` (the bundle's bytes: inner packets' payloads,
  both directions, as the SAD charges them), ``ipsec.remaining``
  (seconds).

AlliedWare's ``show isakmp sa=N`` gives no ``ike.remaining``: its
"Seconds since creation" counts from the SA's creation, when its
exchange began, and the lifetime from its establishment (on the RTL card
phase 1 takes a minute); the other views and strongSwan count from
establishment.
"""
import re

__all__ = ["VIEW_REQUESTS", "SHOWN", "ESTABLISHED", "read_views", "view_facts", "alliedware_facts", "ios_facts",
           "racoonctl_facts", "tmsh_facts", "cipher_of", "integrity_of", "leader_values"]

#: The word every view's "up and usable" state is read as.
ESTABLISHED = "established"
#: The views read for the comparison: (view, command words).
VIEW_REQUESTS = (("alliedware", "show isakmp sa"), ("alliedware", "show ipsec sa"),
                 ("alliedware", "show ipsec policy sabundle"),
                 ("ios", "show crypto isakmp sa"), ("ios", "show crypto isakmp sa detail"),
                 ("ios", "show crypto ipsec sa detail"),
                 ("racoonctl", "-ll show-sa isakmp"), ("racoonctl", "-ll show-sa esp"),
                 ("tmsh", "show net ipsec ike-sa all-properties"), ("tmsh", "show net ipsec ipsec-sa all-properties"))
_IKE = {"ike.local", "ike.remote", "ike.cookies", "ike.state", "ike.encryption", "ike.key_size", "ike.integrity",
        "ike.dh_group", "ike.remaining"}
_IPSEC = {"ipsec.local", "ipsec.remote", "ipsec.spi_in", "ipsec.spi_out", "ipsec.state", "ipsec.encryption",
          "ipsec.key_size", "ipsec.integrity", "ipsec.packets_in", "ipsec.packets_out", "ipsec.payload_bytes",
          "ipsec.remaining"}
#: The fields each view shows of an established SA pair (one a view leaves out is a mismatch).
SHOWN = {"alliedware": _IKE - {"ike.remaining"} | _IPSEC - {"ipsec.local", "ipsec.remote"},
         "ios": _IKE - {"ike.cookies"} | _IPSEC - {"ipsec.payload_bytes"},
         "racoonctl": {"ike.local", "ike.remote", "ike.cookies", "ike.state"} | _IPSEC - {"ipsec.key_size"},
         "tmsh": _IKE - {"ike.dh_group"} | _IPSEC - {"ipsec.key_size"}}
_UP = {"ACTIVE", "ESTABLISHED", "Valid", "valid", "mature", "INSTALLED", "QM_IDLE", "9"}
_KEY_BITS = {"des": 56, "3des": 168}
_LEADER = re.compile(r"^ *([^.]+?) ?\.+ ?(.*)$")


def read_views(fetch) -> dict[str, str]:
    """{"view: words": text} of :data:`VIEW_REQUESTS` and AlliedWare's
    ``show isakmp sa=N`` and ``show ipsec sa=N [counter]`` of each SA the
    summaries list; ``fetch(view, argv)`` gives a view's text."""
    texts = {f"{view}: {words}": fetch(view, words.split()) for view, words in VIEW_REQUESTS}
    for words, suffixes in (("show isakmp sa", ("",)), ("show ipsec sa", ("", " counter"))):
        for sa_id in _ids(texts[f"alliedware: {words}"]):
            for suffix in suffixes:
                line = f"{words}={sa_id}{suffix}"
                texts[f"alliedware: {line}"] = fetch("alliedware", line.split())
    return texts


def _ids(summary: str) -> list[str]:
    return [line.split()[0] for line in summary.splitlines()[2:] if line.split() and line.split()[0].isdigit()]


def up(word: str) -> str:
    """``established`` for a view's word for a usable SA, else the word."""
    return ESTABLISHED if word in _UP else word


def cipher_of(name: str) -> tuple[str, int | None]:
    """(``des``|``3des``|``aes``, key bits) of a cipher as any view or strongSwan names it: ``AES_CBC-128``,
    ``3DES_CBC``, ``aes128``, ``3desinner``, ``aes-cbc`` (no size), ``esp-aes 256``, ``DES - 56 bit``."""
    text = name.lower().replace("esp-", "")
    family = "3des" if "3des" in text else "aes" if "aes" in text else "des" if "des" in text else text
    if family != "aes":
        return family, _KEY_BITS.get(family)
    size = re.search(r"(128|192|256)", text)
    return family, int(size.group(1)) if size else None if "cbc" in text else 128


def integrity_of(name: str) -> str:
    """``sha1`` or ``md5`` of any view's hash name (``SHA``, ``hmac-sha1``, ``HMAC_SHA1_96``, ``esp-md5-hmac``)."""
    return "sha1" if "sha" in name.lower() else "md5" if "md5" in name.lower() else name.lower()


def _cipher_fields(prefix: str, name: str) -> dict:
    family, bits = cipher_of(name)
    return {f"{prefix}.encryption": family, **({f"{prefix}.key_size": bits} if bits is not None else {})}


def leader_values(text: str) -> dict[str, str]:
    """{label: value} of an AlliedWare ``label ..... value`` display (first of each label)."""
    out = {}
    for line in text.splitlines():
        m = _LEADER.match(line)
        if m:
            out.setdefault(m.group(1).strip(), m.group(2).strip())
    return out


def _texts_of(texts: dict, view: str, words: str) -> list[str]:
    return [text for key, text in texts.items() if key.startswith(f"{view}: {words}")]


# -- AlliedWare ------------------------------------------------------------------------------------------

_GROUP = {"MODP768": 1, "MODP1024": 2, "MODP1536": 5}
_BUNDLE = re.compile(r"^\d+\s+\S+\s+\S+\s+\S+/\S+/(\d+)\n\s+(\d+|-)/\S+/(\d+)$", re.M)
_COUNTER = re.compile(r"(\w+)\s+(\d+)")


def alliedware_facts(texts: dict) -> dict:
    facts = {}
    for text in _texts_of(texts, "alliedware", "show isakmp sa="):
        v = leader_values(text)
        facts.update({"ike.cookies": f"{v['Initiator Cookie']}:{v['Responder Cookie']}".lower(),
                      "ike.state": up(v["State"]), "ike.local": v["Local address"], "ike.remote": v["Remote Address"],
                      **_cipher_fields("ike", v["Encryption Algorithm"]),
                      "ike.integrity": integrity_of(v["Hash Algorithm"]),
                      "ike.dh_group": _GROUP.get(v["group Description"], v["group Description"])})
    for key, text in texts.items():
        if key.startswith("alliedware: show ipsec sa=") and key.endswith("counter"):
            counts = {name: int(value) for name, value in _COUNTER.findall(text)}
            facts.update({"ipsec.packets_in": counts["inProcessDone"], "ipsec.packets_out": counts["outProcessDone"]})
        elif key.startswith("alliedware: show ipsec sa="):
            v = leader_values(text)
            facts.update({"ipsec.spi_in": int(v["Inbound SPI"]), "ipsec.spi_out": int(v["Outbound SPI"]),
                          "ipsec.state": up(v["State"]), **_cipher_fields("ipsec", v["Encryption algorithm"]),
                          "ipsec.integrity": integrity_of(v["Hash algorithm"])})
    for bytes_used, hard, used in _BUNDLE.findall(texts.get("alliedware: show ipsec policy sabundle", "")):
        facts.update({"ipsec.payload_bytes": int(bytes_used)})
        if hard != "-":
            facts["ipsec.remaining"] = int(hard) - int(used)
    return facts


# -- Cisco IOS -------------------------------------------------------------------------------------------

_IOS_ROW = re.compile(r"^\s*(?P<dst>[0-9a-f.:]+)\s+(?P<src>[0-9a-f.:]+)\s+(?P<state>(?:MM|AG|QM)_[A-Z_]+)\s+"
                      r"(?P<conn>\d+)\s+(?P<status>\S.*?)\s*$")
_IOS_DETAIL = re.compile(r"^\d+\s+(?P<local>[\d.]+)\s+(?P<remote>[\d.]+)\s+(?P<status>[A-Z]+)\s+"
                         r"(?P<encr>3des|des|aes(?: \d+)?)\s+(?P<hash>sha|md5)\s+\S+\s+(?P<dh>\d+)\s+"
                         r"(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)", re.M)
_IOS_COUNTS = {"out": re.compile(r"#pkts encaps: (\d+)"), "in": re.compile(r"#pkts decaps: (\d+)")}
_IOS_ENDS = re.compile(r"local crypto endpt\.: (\S+), remote crypto endpt\.: (\S+)")
_IOS_SA = re.compile(r"^\s*(inbound|outbound) esp sas:\n\s*spi: 0x[0-9A-F]+\((\d+)\)\n\s*transform: (.+?) ,\n"
                     r"(?:.*\n){2}.*remaining key lifetime \(k/sec\): \((?:\d+|-)/(\d+|-)\)\n(?:.*\n){2}"
                     r"\s*Status: (\w+)", re.M)


def ios_facts(texts: dict) -> dict:
    facts = {}
    for row in map(_IOS_ROW.match, texts.get("ios: show crypto isakmp sa", "").splitlines()):
        if row:
            facts["ike.state"] = up(row["state"])
    for m in _IOS_DETAIL.finditer(texts.get("ios: show crypto isakmp sa detail", "")):
        if up(m["status"]) != ESTABLISHED:
            facts["ike.state"] = m["status"]
        facts.update({"ike.local": m["local"], "ike.remote": m["remote"],
                      **_cipher_fields("ike", m["encr"]), "ike.integrity": integrity_of(m["hash"]),
                      "ike.dh_group": int(m["dh"]),
                      "ike.remaining": int(m["h"]) * 3600 + int(m["m"]) * 60 + int(m["s"])})
    text = texts.get("ios: show crypto ipsec sa detail", "")
    ends = _IOS_ENDS.search(text)
    if ends:
        facts.update({"ipsec.local": ends.group(1), "ipsec.remote": ends.group(2)})
    for direction, regex in _IOS_COUNTS.items():
        m = regex.search(text)
        if m:
            facts[f"ipsec.packets_{direction}"] = int(m.group(1))
    for where, spi, transform, seconds, status in _IOS_SA.findall(text + "\n"):
        enc, _, integ = transform.rpartition(" ")
        facts.update({f"ipsec.spi_{'in' if where == 'inbound' else 'out'}": int(spi), "ipsec.state": up(status),
                      **_cipher_fields("ipsec", enc), "ipsec.integrity": integrity_of(integ)})
        if seconds != "-":
            facts["ipsec.remaining"] = int(seconds)
    return facts


# -- racoonctl -------------------------------------------------------------------------------------------

_RACOON_ROW = re.compile(r"^(?P<src>\S+)\.(?P<sport>\d+)\s+(?P<dst>\S+)\.(?P<dport>\d+)\s+"
                         r"(?P<cky_i>[0-9a-f]{16}):(?P<cky_r>[0-9a-f]{16})\s+(?P<st>\d+) (?P<s>[IR])\s+(?P<v>\d+) "
                         r"(?P<e>[MAB]) (?P<created>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(?P<phase2>\d+)$", re.M)
_SETKEY = re.compile(r"^(?P<src>\S+) (?P<dst>\S+)\n\t(?P<proto>esp) mode=\w+ spi=(?P<spi>\d+)\(0x[0-9a-f]{8}\).*\n"
                     r"\tE: (?P<enc>\S+)\n\tA: (?P<auth>\S+)\n\tseq=\S+ replay=\d+ flags=\S+ state=(?P<state>\w+) \n"
                     r".*\n\tdiff: (?P<diff>\d+)\(s\)\thard: (?P<hard>\d+)\(s\).*\n.*\n"
                     r"\tcurrent: (?P<bytes>\d+)\(bytes\).*\n\tallocated: (?P<packets>\d+)\t", re.M)


def racoonctl_facts(texts: dict) -> dict:
    facts = {}
    for m in _RACOON_ROW.finditer(texts.get("racoonctl: -ll show-sa isakmp", "")):
        facts.update({"ike.local": m["src"], "ike.remote": m["dst"], "ike.cookies": f"{m['cky_i']}:{m['cky_r']}",
                      "ike.state": up(m["st"])})
    for m in _SETKEY.finditer(texts.get("racoonctl: -ll show-sa esp", "")):
        direction = "out" if m["src"] == facts.get("ike.local", m["src"]) else "in"
        facts.update({f"ipsec.spi_{direction}": int(m["spi"]), f"ipsec.packets_{direction}": int(m["packets"]),
                      "ipsec.state": up(m["state"]), "ipsec.encryption": cipher_of(m["enc"])[0],
                      "ipsec.integrity": integrity_of(m["auth"]), "ipsec.payload_bytes": int(m["bytes"]),
                      "ipsec.remaining": int(m["hard"]) - int(m["diff"])})
        if direction == "out":
            facts.update({"ipsec.local": m["src"], "ipsec.remote": m["dst"]})
    return facts


# -- tmsh ------------------------------------------------------------------------------------------------

_LABELS = ("Version", "State", "IKE Peer", r"Spi\(local\)", r"Spi\(Remote\)", "Encryption", "Authentication",
           "Hash Algorithm", "Initiator", "Life/Active Time", "NAT-T", "Child SA Count", "Mode",
           "Remaining Time", "Remaining Kbytes", "Packets", "Bytes")
_FIELD = re.compile(rf"({'|'.join(_LABELS)}): (.+?)(?=\s+(?:{'|'.join(_LABELS)}):|\s*$)")
_IKE_ENDS = re.compile(r"^\s*(\S+)/(\d+) -> (\S+)/(\d+)$")
_IPSEC_HEAD = re.compile(r"^\s*(\S+) -> (\S+) SPI\(0x([0-9a-f]+)\) (in|out) (esp|ah|ipcomp) \(tmm: \d+\)$")


def _tmsh_records(text: str, head) -> list[tuple[tuple, dict]]:
    records = []
    for line in text.splitlines():
        m = head.match(line)
        if m:
            records.append((m.groups(), {}))
        elif records:
            records[-1][1].update((label.replace("\\", ""), value.strip()) for label, value in _FIELD.findall(line))
    return records


def tmsh_facts(texts: dict) -> dict:
    facts = {}
    for (local, _, remote, _), f in _tmsh_records(texts.get("tmsh: show net ipsec ike-sa all-properties", ""),
                                                  _IKE_ENDS):
        ours, theirs = f["Spi(local)"][2:], f["Spi(Remote)"][2:]
        life, active = re.match(r"(\d+)/(\d+)", f["Life/Active Time"]).groups()
        facts.update({"ike.local": local, "ike.remote": remote, "ike.state": up(f["State"]),
                      "ike.cookies": f"{ours}:{theirs}" if f["Initiator"] == "TRUE" else f"{theirs}:{ours}",
                      **_cipher_fields("ike", f["Encryption"]), "ike.integrity": integrity_of(f["Hash Algorithm"]),
                      "ike.remaining": int(life) - int(active)})
    for (src, dst, spi, direction, _), f in _tmsh_records(
            texts.get("tmsh: show net ipsec ipsec-sa all-properties", ""), _IPSEC_HEAD):
        facts.update({f"ipsec.spi_{direction}": int(spi, 16), f"ipsec.packets_{direction}": int(f["Packets"]),
                      "ipsec.state": up(f["State"]), "ipsec.encryption": cipher_of(f["Encryption"])[0],
                      "ipsec.integrity": integrity_of(f["Authentication"]), "ipsec.payload_bytes": int(f["Bytes"]),
                      "ipsec.remaining": int(f["Remaining Time"].split()[0])})
        if direction == "out":
            facts.update({"ipsec.local": src, "ipsec.remote": dst})
    return facts


_PARSERS = {"alliedware": alliedware_facts, "ios": ios_facts, "racoonctl": racoonctl_facts, "tmsh": tmsh_facts}


def view_facts(texts: dict) -> dict[str, dict]:
    """{view: {field: value}} of :func:`read_views`' texts."""
    return {view: parse(texts) for view, parse in _PARSERS.items()}
