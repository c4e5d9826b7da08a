# Ref: ../../docs/control.md ("Commands"); ../shared/seeds/000_*, 001_* (racoonctl, tmsh)
"""``pacsim ctl``, ``pacsim racoonctl`` and ``pacsim tmsh``: clients of a
running router's control socket (:mod:`.client`).

Each function takes the parsed arguments (``socket``/``router`` say which
router) and returns the text to print, raising
:class:`~.client.ControlRefused` with a one-line reason (no router, a
socket that is not ours, the router's error).

racoonctl and tmsh displays are the router's ``racoonctl``/``tmsh`` views
(:data:`pacsim.firmware.views.VIEWS`); a router without them (the vendor
views not yet registered) answers ``unknown-view`` and the display falls
back to the matching AlliedWare one (:data:`ALLIEDWARE_FALLBACK`),
saying so on standard error.
"""
import json
import sys

from .client import ControlClient, ControlRefused, resolve_socket

__all__ = ["run_ctl", "run_racoonctl", "run_tmsh", "ALLIEDWARE_FALLBACK"]

#: The AlliedWare display standing in for a vendor display: what it shows -> the show command's words.
ALLIEDWARE_FALLBACK = {"isakmp": ["show", "isakmp", "sa"], "ipsec": ["show", "ipsec", "sa"]}


def _client(args) -> ControlClient:
    return ControlClient(resolve_socket(args.router, args.socket))


def _summary(result) -> str:
    """A query result as text: one line per item (``key=value, ...``)."""
    items = result if isinstance(result, list) else [result]
    lines = []
    for item in items:
        if isinstance(item, dict):
            lines.append(", ".join(f"{k}={json.dumps(v) if isinstance(v, (dict, list)) else v}"
                                   for k, v in item.items()))
        else:
            lines.append(str(item))
    return "\n".join(lines) if lines else "(none)"


def run_ctl(args) -> str:
    """``pacsim ctl command|query|initiate|delete|view ...``."""
    with _client(args) as client:
        if args.action == "command":
            return client.request("command", line=" ".join(args.words))["output"]
        if args.action == "query":
            result = client.request("query", what=args.what)
            return json.dumps(result) if args.json else _summary(result)
        if args.action == "initiate":
            result = client.request("initiate", target=args.target)
            return f"initiated {result['initiated']}; ISAKMP SAs: {len(result['ike_sas'])}"
        if args.action == "delete":
            fields = {"all": True} if args.all else {"id": args.id} if args.id is not None else {}
            if args.cookies:
                fields["cookies"] = args.cookies
            if args.what == "bundle":
                fields["policy"] = args.policy
            result = client.request("delete", what=args.what.replace("-", "_"), **fields)
            return f"deleted {args.what} {', '.join(map(str, result['deleted']))}"
        return client.request("view", name=args.name, argv=args.words)["text"]


def _show(client, view: str, argv: list[str], shows: str) -> str:
    """View ``view`` of ``argv``, else the AlliedWare display of ``shows`` (isakmp or ipsec)."""
    try:
        return client.request("view", name=view, argv=argv)["text"]
    except ControlRefused as refusal:
        if refusal.kind != "unknown-view":
            raise
    print(f"# the router has no {view} view; its AlliedWare display instead", file=sys.stderr)
    return client.request("view", name="alliedware", argv=ALLIEDWARE_FALLBACK[shows])["text"]


def _delete_ike_sas(client, local=None, peer=None) -> str:
    """Delete the ISAKMP SAs from ``local`` to ``peer`` (None: any); ControlRefused when there are none."""
    chosen = [sa["sa_id"] for sa in client.request("query", what="ike_sas")
              if local in (None, sa["local"]) and peer in (None, sa["peer"])]
    if not chosen:
        raise ControlRefused("argument", f"no ISAKMP SA{' from ' + local if local else ''}"
                                         f"{' to ' + peer if peer else ''}")
    for sa_id in chosen:
        client.request("delete", what="ike_sa", id=sa_id)
    return ""


def _flush_bundles(client) -> str:
    for policy in sorted({bundle["policy"] for bundle in client.request("query", what="bundles")}):
        client.request("delete", what="bundle", policy=policy, all=True)
    return ""


def run_racoonctl(args) -> str:
    """``pacsim racoonctl [-l|-ll] show-sa|delete-sa|flush-sa ...`` (racoonctl's words)."""
    with _client(args) as client:
        if args.action == "show-sa":
            detail = ["-" + "l" * args.long] if args.long else []
            return _show(client, "racoonctl", [*detail, "show-sa", args.protocol],
                         "isakmp" if args.protocol == "isakmp" else "ipsec")
        if args.action == "delete-sa":
            return _delete_ike_sas(client, args.source, args.destination)
        if args.protocol == "isakmp":
            client.request("delete", what="ike_sa", all=True)
            return ""
        return _flush_bundles(client)


def run_tmsh(args) -> str:
    """``pacsim tmsh show|delete net ipsec ike-sa|ipsec-sa [peer-ip ADDRESS] [all-properties]``."""
    words = args.words
    if words[:3] not in (["show", "net", "ipsec"], ["delete", "net", "ipsec"]) or len(words) < 4 or \
            words[3] not in ("ike-sa", "ipsec-sa"):
        raise ControlRefused("argument", "expected show|delete net ipsec ike-sa|ipsec-sa [peer-ip ADDRESS] "
                                         "[all-properties]")
    peer = words[words.index("peer-ip") + 1] if "peer-ip" in words[:-1] else None
    with _client(args) as client:
        if words[0] == "show":
            return _show(client, "tmsh", words, "isakmp" if words[3] == "ike-sa" else "ipsec")
        if words[3] == "ike-sa":
            return _delete_ike_sas(client, peer=peer)
        return _flush_bundles(client)
