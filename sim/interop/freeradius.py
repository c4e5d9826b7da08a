# Ref: radiusd(8), radiusd.conf(5), rlm_files and rlm_pap of FreeRADIUS 3.2 (Debian 12 ``freeradius``)
# Ref: RFC 2865 (the protocol the router's XAUTH server speaks to it); ../shared/spec/isakmp-commands.md R80
"""A FreeRADIUS of our own for ``xauthtype=radius``: on 127.0.0.1 at a free
UDP port, in a directory of its own with a minimal configuration (one
client, 127.0.0.1 with ``secret``; the ``files`` module with ``users``,
``{name: password}``, checked by PAP), in the foreground (``-f -X``),
never the system service.

:class:`FreeRadius` (``directory``, ``users``, ``secret``) is a context
manager: :meth:`FreeRadius.start` writes the configuration, starts
``freeradius`` and waits until it says it is ready (:class:`LabError`
with its output when it does not); :meth:`FreeRadius.stop` stops the
process it started, by its pid. ``port`` is the UDP port it listens on.
The router reaches it from this process (a host UDP socket: see
:mod:`pacsim.firmware.users.radius`).
"""
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .namespaces import LabError, Service, stop_process

__all__ = ["FreeRadius", "radiusd_conf", "FREERADIUS"]

FREERADIUS = "freeradius"
_READY = "Ready to process requests"


def radiusd_conf(directory: Path, secret: str, port: int) -> str:
    """The whole configuration (see the module docstring)."""
    return f"""prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = {directory}
raddbdir = {directory}
radacctdir = {directory}
name = radiusd
confdir = {directory}
modconfdir = {directory}
run_dir = {directory}
db_dir = {directory}
libdir = /usr/lib/freeradius
dictdir = /usr/share/freeradius
pidfile = {directory}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
  destination = stdout
}}
security {{
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}}
client localhost {{
  ipaddr = 127.0.0.1
  secret = {secret}
}}
modules {{
  pap {{
    normalise = yes
  }}
  files {{
    filename = {directory}/users
  }}
}}
server default {{
  listen {{
    type = auth
    ipaddr = 127.0.0.1
    port = {port}
  }}
  authorize {{
    files
    pap
  }}
  authenticate {{
    pap
  }}
}}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FreeRadius(Service):
    """See the module docstring."""

    def __init__(self, directory: Path, users: dict, secret: str):
        self.directory, self.users, self.secret = Path(directory), dict(users), secret
        self.port = None
        self.process = None

    @property
    def log_path(self) -> Path:
        return self.directory / "radiusd.log"

    def start(self, timeout: float = 20.0) -> None:
        binary = shutil.which(FREERADIUS)
        if binary is None:
            raise LabError("freeradius is not installed (run scripts/setup.sh)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        (self.directory / "radiusd.conf").write_text(radiusd_conf(self.directory, self.secret, self.port))
        (self.directory / "users").write_text("".join(f'"{name}" Cleartext-Password := "{password}"\n'
                                                      for name, password in self.users.items()))
        (self.directory / "dictionary").write_text("")
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen([binary, "-f", "-X", "-d", str(self.directory), "-n", "radiusd"],
                                            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        end = time.monotonic() + timeout
        while _READY not in self.log():
            if self.process.poll() is not None or time.monotonic() > end:
                text = self.log()[-3000:]
                self.stop()
                raise LabError(f"freeradius did not start: {text or 'no output'}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the process this object started (SIGTERM, then SIGKILL)."""
        stop_process(self.process)
        self.process = None
