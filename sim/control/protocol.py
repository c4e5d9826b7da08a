# Ref: ../../docs/control.md (the control protocol); strongSwan vici and racoon's admin port (the designs it follows)
"""The control protocol of a running router: framing, requests, typed
errors, socket paths and the JSON form of snapshots. Firmware-independent:
the server (:mod:`.server`) and the client (:mod:`.client`) import it,
neither defines any of it again.

**Frames.** Each message is a 4-octet big-endian length (octets, at most
:data:`MAX_FRAME`) followed by that many octets of UTF-8 JSON: an object.

**Requests** carry ``version`` (:data:`VERSION`), ``type`` (one of
:data:`REQUEST_TYPES`), an optional ``id`` echoed in the response, and the
fields of their type (:data:`REQUEST_FIELDS`: field -> JSON type).

**Responses** are ``{"version", "id", "ok": true, "result": ...}`` or
``{"version", "id", "ok": false, "error": {"type": ERROR, "message": ...}}``
with ERROR one of :data:`ERROR_TYPES`.

**Paths.** A router serves ``pacsim-<name>.sock`` in :func:`socket_dir`
(``$XDG_RUNTIME_DIR/pacsim``, else ``/run/pacsim`` for root, else
``/tmp/pacsim-<uid>``), a directory of mode 0700; the socket has mode 0600.
"""
import dataclasses
import enum
import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["VERSION", "MAX_FRAME", "HEADER", "REQUEST_TYPES", "REQUEST_FIELDS", "QUERY_WHATS", "DELETE_WHATS",
           "ERROR_TYPES", "RequestError", "FrameError", "encode", "frame_length", "decode_json", "decode_request",
           "ok", "error", "socket_dir", "socket_path", "to_json"]

#: The protocol's version; a request of another version is refused (``version`` error).
VERSION = 1
#: The largest frame, octets (requests and responses alike).
MAX_FRAME = 1 << 20
#: Octets of the length prefix.
HEADER = 4
#: What ``query`` lists (``control``: the server's own counters).
QUERY_WHATS = ("ike_sas", "exchanges", "bundles", "sas", "policies", "counters", "kernel", "control")
#: What ``delete`` removes.
DELETE_WHATS = ("ike_sa", "bundle")
#: Request type -> {field: (JSON type, required)}.
REQUEST_FIELDS = {
    "command": {"line": (str, True)},
    "query": {"what": (str, True)},
    "initiate": {"target": (str, True)},
    "delete": {"what": (str, True), "id": (int, False), "cookies": (str, False), "policy": (str, False),
               "all": (bool, False)},
    "view": {"name": (str, True), "argv": (list, True)},
}
REQUEST_TYPES = tuple(REQUEST_FIELDS)
#: Typed errors: ``frame`` (bad length: the connection is closed), ``malformed`` (not a JSON object),
#: ``version``, ``type`` (unknown request type), ``argument`` (a field missing, of the wrong type or
#: out of range), ``refused`` (the peer is not the socket's owner), ``unknown-view``, ``state`` (the
#: router cannot do it now), ``command`` (the console answered an error), ``internal`` (a fault).
ERROR_TYPES = ("frame", "malformed", "version", "type", "argument", "refused", "unknown-view", "state",
               "command", "internal")


class RequestError(Exception):
    """A request that gets a typed error response: ``kind`` (one of :data:`ERROR_TYPES`), ``message``."""

    def __init__(self, kind: str, message: str):
        assert kind in ERROR_TYPES, kind
        super().__init__(message)
        self.kind, self.message = kind, message


class FrameError(RequestError):
    """A length prefix out of range or a truncated frame: answered, then the connection is closed."""

    def __init__(self, message: str):
        super().__init__("frame", message)


def encode(message: Mapping) -> bytes:
    """``message`` as a frame (length prefix and JSON); ValueError when over :data:`MAX_FRAME`."""
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ValueError(f"a {len(body)}-octet message; at most {MAX_FRAME}")
    return len(body).to_bytes(HEADER, "big") + body


def frame_length(header: bytes) -> int:
    """The body length a 4-octet prefix announces; :class:`FrameError` when out of range."""
    length = int.from_bytes(header, "big")
    if not 0 < length <= MAX_FRAME:
        raise FrameError(f"frame of {length} octets; expected 1 to {MAX_FRAME}")
    return length


def decode_json(body: bytes) -> dict:
    """A frame's body as a JSON object; :class:`RequestError` (``malformed``) when it is not one."""
    try:
        message = json.loads(body.decode())
    except (UnicodeDecodeError, ValueError) as problem:
        raise RequestError("malformed", f"not UTF-8 JSON: {problem}") from None
    if not isinstance(message, dict):
        raise RequestError("malformed", f"a JSON {type(message).__name__}; expected an object")
    return message


def decode_request(body: bytes) -> dict:
    """A frame's body as a checked request; :class:`RequestError` when it is not one."""
    request = decode_json(body)
    if request.get("version") != VERSION:
        raise RequestError("version", f"version {request.get('version')!r}; this router speaks {VERSION}")
    kind = request.get("type")
    if kind not in REQUEST_FIELDS:
        raise RequestError("type", f"request type {kind!r}; expected one of {', '.join(REQUEST_TYPES)}")
    for name, (json_type, required) in REQUEST_FIELDS[kind].items():
        if name not in request:
            if required:
                raise RequestError("argument", f"{kind}: field {name!r} missing")
            continue
        value = request[name]
        if not isinstance(value, json_type) or (json_type is int and isinstance(value, bool)):
            raise RequestError("argument", f"{kind}: field {name!r} is {value!r}; expected {json_type.__name__}")
    if kind == "view" and not all(isinstance(word, str) for word in request["argv"]):
        raise RequestError("argument", "view: argv must be a list of strings")
    return request


def ok(request_id, result) -> dict:
    """A success response."""
    return {"version": VERSION, "id": request_id, "ok": True, "result": result}


def error(request_id, kind: str, message: str) -> dict:
    """An error response of type ``kind``."""
    return {"version": VERSION, "id": request_id, "ok": False, "error": {"type": kind, "message": message}}


def socket_dir(uid: int | None = None) -> Path:
    """The directory of the control sockets of user ``uid`` (default: ours); see the module docstring."""
    uid = os.geteuid() if uid is None else uid
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "pacsim"
    return Path("/run/pacsim") if uid == 0 else Path(f"/tmp/pacsim-{uid}")


def socket_path(router: str) -> Path:
    """The default control socket of router ``router``."""
    return socket_dir() / f"pacsim-{router}.sock"


def to_json(value):
    """A snapshot (dataclasses, enums, addresses, octets, counters, mappings, sequences) as JSON data:
    dataclasses as objects of their fields, enums by name, octets in hex, other objects by ``str``;
    mapping keys as strings (tuples joined by ``.``)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    return str(value)


def _key(key) -> str:
    return ".".join(map(str, key)) if isinstance(key, tuple) else str(to_json(key))
