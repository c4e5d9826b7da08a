# Ref: ../../docs/control.md (protocol, paths, access); unix(7) SO_PEERCRED
"""The control server of a running router: an asyncio unix-domain socket
that answers the requests of :mod:`.protocol` with a target's handlers.

Arguments of :class:`ControlServer`: ``target`` (an object with
``async handle(request) -> result``, raising
:class:`~.protocol.RequestError`; :class:`~.router_target.RouterTarget`
for a router) and ``path`` (the socket).

- **Access.** The directory is created with mode 0700 (an existing one
  must be ours and not wider), the socket is bound with mode 0600, and
  every connection's peer (``SO_PEERCRED``) must have the socket owner's
  uid (the server's effective uid). Root is not special: root's requests
  to another user's router are refused like anyone else's.
- **Errors.** A malformed request gets its typed error and the connection
  goes on; a bad length prefix gets a ``frame`` error and the connection
  is closed (it cannot be resynchronised). Each error is counted by type
  (:attr:`ControlServer.counters`, also ``query control``); a fault in a
  handler is an ``internal`` error, never the server's end.
- **Serialisation.** The server runs in the router's event loop; the
  target runs each request between the router's own work (its lock, or
  the wall-clock runtime's worker).
"""
import asyncio
import collections
import contextlib
import os
import socket
import stat
import struct
from pathlib import Path

from .protocol import (HEADER, FrameError, RequestError, decode_request, encode, error, frame_length, ok)

__all__ = ["ControlServer", "ControlSetupError"]

_PEERCRED = struct.Struct("3i")         # struct ucred: pid, uid, gid


class ControlSetupError(Exception):
    """The socket cannot be served: its directory is not ours or too open, or a router serves it already."""


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of unix socket ``sock`` (``SO_PEERCRED``)."""
    _, uid, _ = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    return uid


def _answers(path: Path) -> bool:
    """Whether something listens on unix socket ``path``."""
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class ControlServer:
    """See the module docstring. ``counters``: requests answered (``ok``), errors by type, connections
    (``clients``)."""

    def __init__(self, target, path):
        self.target = target
        self.path = Path(path)
        self.counters = collections.Counter()
        self._server = None

    async def start(self) -> "ControlServer":
        """Prepare the directory, clear a stale socket, bind (mode 0600) and serve."""
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise ControlSetupError(f"{directory}: owner uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):o}; "
                                    f"the control directory must be ours (uid {os.geteuid()}) with mode 0700")
        if self.path.exists() or self.path.is_symlink():
            if not stat.S_ISSOCK(self.path.lstat().st_mode):
                raise ControlSetupError(f"{self.path}: exists and is not a socket")
            if _answers(self.path):
                raise ControlSetupError(f"{self.path}: a router serves it already")
            self.path.unlink()                     # stale: its router is gone
        mask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._connection, str(self.path))
        finally:
            os.umask(mask)
        os.chmod(self.path, 0o600)
        return self

    async def close(self) -> None:
        """Stop serving and remove the socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.close()

    def stats(self) -> dict:
        """The counters as JSON data (``query control``)."""
        return dict(sorted(self.counters.items()))

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters["clients"] += 1
        try:
            uid = peer_uid(writer.get_extra_info("socket"))
            if uid != os.geteuid():
                self.counters["refused"] += 1
                writer.write(encode(error(None, "refused", f"uid {uid} is not this router's owner "
                                                           f"(uid {os.geteuid()})")))
                return
            while True:
                try:
                    header = await reader.readexactly(HEADER)
                except asyncio.IncompleteReadError as end:
                    if end.partial:
                        self._count_error(writer, None, FrameError(f"a {len(end.partial)}-octet length prefix"))
                    return
                try:
                    body = await reader.readexactly(frame_length(header))
                except FrameError as problem:
                    self._count_error(writer, None, problem)
                    return
                except asyncio.IncompleteReadError as end:
                    self._count_error(writer, None, FrameError(f"a frame cut short after {len(end.partial)} octets"))
                    return
                writer.write(await self._answer(body))
                await writer.drain()
        except (ConnectionError, OSError):
            self.counters["lost"] += 1
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            writer.close()

    async def _answer(self, body: bytes) -> bytes:
        """The response frame to the request frame ``body``."""
        request_id = None
        try:
            request = decode_request(body)
            request_id = request.get("id")
            if request["type"] == "query" and request["what"] == "control":
                result = self.stats()
            else:
                result = await self.target.handle(request)
            frame = encode(ok(request_id, result))
        except RequestError as problem:
            self.counters[problem.kind] += 1
            return encode(error(request_id, problem.kind, problem.message))
        except Exception as fault:              # a bug in one request must not end the server
            self.counters["internal"] += 1
            return encode(error(request_id, "internal", f"{type(fault).__name__}: {fault}"))
        self.counters["ok"] += 1
        return frame

    def _count_error(self, writer, request_id, problem: RequestError) -> None:
        self.counters[problem.kind] += 1
        writer.write(encode(error(request_id, problem.kind, problem.message)))
