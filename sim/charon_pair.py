# Ref: ../shared/interop/README.md (two charons in two namespaces, private /run, vici)
"""Two strongSwan charons in two network namespaces, for ``pacsim bench ike``.

:func:`strongswan_rate` builds the interop lab's topology under names of
its own (namespaces ``pacsim-ike<pid>-a``/``-b`` joined by a veth pair,
192.0.2.1 and 192.0.2.2), starts one charon per namespace with a private
``/run`` (a bind mount inside ``ip netns exec``'s mount namespace: charon
5.9.8 hard-codes its pid file), loads an IKEv1 PSK initiator in A and a
responder in B with ``swanctl``, then times ``negotiations`` initiations
from A over vici (PyPI ``vici``), each followed by a terminate that is not
timed; everything is removed afterwards. The transform is
aes128-sha1-modp1024 with child ``net`` (ESP aes128-sha1, tunnel) on
kernel-libipsec, as in the lab; logging is off except errors, so charon is
not slowed by its own log.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["strongswan_rate", "CHARON"]

CHARON = "/usr/lib/ipsec/charon"
ADDRESSES = {"a": "192.0.2.1", "b": "192.0.2.2"}
SUBNETS = {"a": "198.51.100.0/25", "b": "198.51.100.128/25"}
PSK = "interop-test-psk"
PLUGINS = ("random nonce openssl aes sha1 sha2 md5 hmac gmp kdf kernel-libipsec kernel-netlink socket-default "
           "vici")

STRONGSWAN_CONF = """charon {{
  load_modular = no
  load = {plugins}
  port = 500
  port_nat_t = 4500
  block_threshold = 1000
  plugins {{
    vici {{
      socket = unix://{run}/charon.vici
    }}
  }}
  filelog {{
    bench {{
      path = {side_dir}/charon.log
      default = 0
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
"""

SWANCTL_CONF = """connections {{
  bench {{
    version = 1
    aggressive = no
    local_addrs = {local}
    remote_addrs = {remote}
    proposals = aes128-sha1-modp1024
    local {{
      auth = psk
      id = {local}
    }}
    remote {{
      auth = psk
    }}
    children {{
      net {{
        local_ts = {local_ts}
        remote_ts = {remote_ts}
        esp_proposals = aes128-sha1
        mode = tunnel
      }}
    }}
  }}
}}
secrets {{
  ike-any {{
    secret = "{psk}"
  }}
}}
"""


def missing() -> str | None:
    """Why strongSwan cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "swanctl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not Path(CHARON).exists():
        return f"strongSwan is not installed ({CHARON} missing)"
    try:
        import vici  # noqa: F401
    except ImportError:
        return "the vici package is not installed (pip install pacsim[test])"
    return None


def _ip(*args) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class CharonPair:
    """The namespaces, the charons and their vici sockets (a context manager)."""

    def __init__(self):
        tag = f"{os.getpid() % 100000}"
        self.namespaces = {side: f"pacsim-ike{tag}-{side}" for side in "ab"}
        self.links = {side: f"pik{tag}{side}" for side in "ab"}
        self.root = Path(tempfile.mkdtemp(prefix="pacsim-charon-"))
        self.charons = {}

    def __enter__(self):
        try:
            self._network()
            for side in "ab":
                self._start(side)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for process in self.charons.values():
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for namespace in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _network(self) -> None:
        a, b = self.namespaces["a"], self.namespaces["b"]
        _ip("netns", "add", a)
        _ip("netns", "add", b)
        _ip("link", "add", self.links["a"], "netns", a, "type", "veth", "peer", "name", self.links["b"], "netns", b)
        for side, namespace in self.namespaces.items():
            _ip("-n", namespace, "addr", "add", f"{ADDRESSES[side]}/24", "dev", self.links[side])
            _ip("-n", namespace, "link", "set", "lo", "up")
            _ip("-n", namespace, "link", "set", self.links[side], "up")

    def socket_path(self, side: str) -> Path:
        return self.root / side / "run" / "charon.vici"

    def _start(self, side: str) -> None:
        side_dir, other = self.root / side, "b" if side == "a" else "a"
        run = side_dir / "run"
        run.mkdir(parents=True)
        (side_dir / "strongswan.conf").write_text(STRONGSWAN_CONF.format(plugins=PLUGINS, run=run, side_dir=side_dir))
        (side_dir / "swanctl.conf").write_text(SWANCTL_CONF.format(
            local=ADDRESSES[side], remote=ADDRESSES[other] if side == "a" else "%any", psk=PSK,
            local_ts=SUBNETS[side], remote_ts=SUBNETS[other]))
        self.charons[side] = subprocess.Popen(
            ["ip", "netns", "exec", self.namespaces[side], "env", f"STRONGSWAN_CONF={side_dir}/strongswan.conf",
             "sh", "-c", f"mount --bind '{run}' /run && exec {CHARON}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.socket_path(side).exists():
            if time.monotonic() > deadline or self.charons[side].poll() is not None:
                raise RuntimeError(f"charon {side} did not come up; see {side_dir}/charon.log")
            time.sleep(0.02)
        subprocess.run(["swanctl", "--load-all", "--file", str(side_dir / "swanctl.conf"),
                        "--uri", f"unix://{self.socket_path(side)}"], check=True, capture_output=True)

    def session(self, side: str):
        """A vici session with charon ``side``."""
        import vici
        connection = socket.socket(socket.AF_UNIX)
        connection.connect(str(self.socket_path(side)))
        return vici.Session(connection)


def _initiate(session, child) -> float:
    """Seconds one initiation of ``bench`` (and ``child``) took; raises unless it succeeded."""
    request = {"ike": "bench", "timeout": "20000"}
    if child is not None:
        request["child"] = child
    started = time.perf_counter()
    for _ in session.initiate(request):
        pass
    elapsed = time.perf_counter() - started
    for _ in session.terminate({"ike": "bench", "timeout": "5000"}):
        pass
    return elapsed


def strongswan_rate(negotiations: int, child=None) -> tuple:
    """``(negotiations per second, None)`` of strongSwan between two charons
    (``child``: the child SA initiated with each IKE SA, None for phase 1
    only; one warm-up negotiation is not counted), or ``(None, why)``
    when strongSwan cannot run here."""
    why = missing()
    if why is not None:
        return None, why
    with CharonPair() as pair:
        session = pair.session("a")
        _initiate(session, child)
        wall = sum(_initiate(session, child) for _ in range(negotiations))
    return negotiations / wall, None
