# Ref: ../../docs/control.md (the protocol, the checks a client makes)
"""The client side of the control channel: :class:`ControlClient` sends
requests of :mod:`.protocol` to a running router's socket and returns
their results (blocking; for the command line).

Before connecting it checks that the socket is ours (owned by our
effective uid, a socket, mode not wider than 0600) and after connecting
that the server runs as our uid (``SO_PEERCRED``). Every refusal is a
:class:`ControlRefused` with a one-line reason: no router (no socket, or
connection refused), a socket that is not ours, or the router's typed
error (``kind`` its type).
"""
import itertools
import os
import socket
import stat
from pathlib import Path

from .protocol import HEADER, VERSION, RequestError, decode_json, encode, frame_length, socket_path
from .server import peer_uid

__all__ = ["ControlClient", "ControlRefused", "resolve_socket"]


class ControlRefused(Exception):
    """The request could not be made or the router refused it: ``kind`` (``no-router``,
    ``not-ours`` or the router's error type) and the one-line reason (``str``)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def resolve_socket(router: str | None = None, path: str | None = None) -> Path:
    """The socket to use: ``path`` if given, else router ``router``'s (default ``router``) default socket."""
    return Path(path) if path else socket_path(router or "router")


def check_socket(path: Path) -> None:
    """Refuse (:class:`ControlRefused`) a missing socket, or one that is not ours or too open."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ControlRefused("no-router", f"no router is running: no control socket {path}") from None
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlRefused("not-ours", f"{path} is not a socket")
    if info.st_uid != os.geteuid():
        raise ControlRefused("not-ours", f"{path} is owned by uid {info.st_uid}, not by us (uid {os.geteuid()})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ControlRefused("not-ours", f"{path} has mode {stat.S_IMODE(info.st_mode):o}; a control socket "
                                         "must be 0600")


class ControlClient:
    """A connection to the router at ``path`` (checked as the module docstring says); ``timeout``
    seconds per answer."""

    def __init__(self, path: Path, *, timeout: float = 60.0):
        self.path = Path(path)
        check_socket(self.path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(str(self.path))
        except (ConnectionRefusedError, FileNotFoundError):
            self._sock.close()
            raise ControlRefused("no-router", f"no router is running: {self.path} refuses connections") from None
        if peer_uid(self._sock) != os.geteuid():
            self._sock.close()
            raise ControlRefused("not-ours", f"{self.path} is served by another user")
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, kind: str, **fields):
        """Send a ``kind`` request with ``fields``; its result, or :class:`ControlRefused`."""
        request_id = next(self._ids)
        self._sock.sendall(encode({"version": VERSION, "id": request_id, "type": kind, **fields}))
        response = self.receive()
        if not response.get("ok"):
            problem = response.get("error") or {}
            raise ControlRefused(problem.get("type", "internal"), f"router: {problem.get('message', response)}")
        return response.get("result")

    def receive(self) -> dict:
        """One response frame (ControlRefused when the router closes the connection or sends a bad frame)."""
        try:
            body = self._read(frame_length(self._read(HEADER)))
            return decode_json(body)
        except RequestError as problem:
            raise ControlRefused(problem.kind, f"router: {problem.message}") from None

    def _read(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise ControlRefused("no-router", f"the router at {self.path} closed the connection")
            data += chunk
        return data
