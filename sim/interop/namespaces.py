# Ref: ip-netns(8), veth(4); RFC 5737 (documentation addresses)
"""The lab's two network namespaces, joined by a veth pair.

::

    ns pacsim-<pid>-a (pacsim router)              ns pacsim-<pid>-b (peer: strongSwan, ike-scan)
    pcs<pid>a 192.0.2.1/24  <------- veth ------->  pcs<pid>b 192.0.2.2/24
      (the router's attached WAN interface)         lo 198.51.100.129/32 (the host behind the peer)
    simulated LAN behind the router: 198.51.100.0/25, host 198.51.100.10

Names are unique per process (``<pid>``) so two labs never meet, and
everything made is removed by :meth:`LabNamespaces.down`, which
``__exit__`` and an ``atexit`` hook both call (it is idempotent).
:func:`require_root` gives the one-line error for a user who is not root.
"""
import atexit
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabAddresses", "LabNamespaces", "LabError", "NamespaceProcess", "stop_process", "Service", "require_root",
           "run", "ADDRESSES"]


class LabError(RuntimeError):
    """The lab could not be set up or a tool it drives failed; the message says what and why."""


@dataclass(frozen=True)
class LabAddresses:
    """Addresses of the lab (RFC 5737): the router's WAN (``pacsim_wan``),
    the peer's (``peer_wan``), their /``prefix``; the router's LAN
    (``pacsim_lan`` on ``pacsim_net``) and its simulated host; the peer's
    protected network and the host on it (on the peer namespace's lo); for
    a case behind the NAT (:mod:`.nat`) the NAT's inside address
    (``nat_inside``) and the peer's private one (``natted_peer``) on a
    /``private_prefix`` (RFC 1918)."""
    pacsim_wan: str = "192.0.2.1"
    peer_wan: str = "192.0.2.2"
    prefix: int = 24
    pacsim_lan: str = "198.51.100.1"
    pacsim_net: str = "198.51.100.0/25"
    pacsim_host: str = "198.51.100.10"
    peer_net: str = "198.51.100.128/25"
    peer_host: str = "198.51.100.129"
    nat_inside: str = "10.1.0.1"
    natted_peer: str = "10.1.0.2"
    private_prefix: int = 24


ADDRESSES = LabAddresses()


def require_root(what: str = "pacsim interop") -> None:
    """Raise :class:`LabError` unless running as root."""
    if os.geteuid() != 0:
        raise LabError(f"{what} needs root (network namespaces, raw sockets, charon); run it as root")


def run(argv, *, check: bool = True, timeout: float = 30.0, **options) -> subprocess.CompletedProcess:
    """``argv`` run to completion, text output captured; :class:`LabError` if it fails and ``check``."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **options)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed (run scripts/setup.sh)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(map(str, argv))} did not finish in {timeout} s") from None
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(map(str, argv))} failed (rc {done.returncode}): "
                       f"{(done.stderr or done.stdout).strip()}")
    return done


class Service:
    """A context manager for a lab part with ``start()`` and ``stop()``: started on entry, stopped on exit."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def stop_process(process: subprocess.Popen | None, stop_signal: int = signal.SIGTERM) -> None:
    """Stop ``process`` (one this code started; None: nothing) if it still runs: ``stop_signal``, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class NamespaceProcess:
    """A daemon ``argv`` run inside namespace ``netns`` in a session of its
    own, its output in ``log``, with environment ``env`` (None: ours);
    stopped with ``stop_signal`` (then SIGKILL), by its pid only."""

    def __init__(self, netns: str, argv, log: Path, *, env: dict | None = None,
                 stop_signal: int = signal.SIGTERM):
        self.netns, self.argv, self.log = netns, [str(a) for a in argv], Path(log)
        self.env, self.stop_signal = env, stop_signal
        self.process: subprocess.Popen | None = None

    def start(self, ready, what: str, timeout: float = 10.0) -> None:
        """Start it and wait until ``ready()``; :class:`LabError` (``what``
        did not start, with its output) if it exits or ``timeout`` seconds pass."""
        with open(self.log, "wb") as output:
            try:
                self.process = subprocess.Popen(["ip", "netns", "exec", self.netns, *self.argv], env=self.env,
                                                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                                start_new_session=True)
            except FileNotFoundError:
                raise LabError("ip (iproute2) is not installed") from None
        end = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None or time.monotonic() > end:
                text = self.log.read_text(errors="replace").strip()
                self.stop()
                raise LabError(f"{what} did not start in {self.netns}: {text or 'no output'}")
            time.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        """Stop the process this object started, if it still runs."""
        stop_process(self.process, self.stop_signal)
        self.process = None


class LabNamespaces:
    """The two namespaces (see the module docstring); ``tag`` makes the
    names unique (default: this process's id)."""

    def __init__(self, addresses: LabAddresses = ADDRESSES, tag: str | None = None):
        tag = tag or str(os.getpid())
        self.addresses = addresses
        self.pacsim = f"pacsim-{tag}-a"
        self.peer = f"pacsim-{tag}-b"
        self.natted = f"pacsim-{tag}-n"
        # IFNAMSIZ: at most 15 characters
        self.pacsim_if = f"pcs{tag}a"[-15:]
        self.peer_if = f"pcs{tag}b"[-15:]
        self.nat_inside_if = f"pcs{tag}m"[-15:]
        self.natted_if = f"pcs{tag}n"[-15:]
        self._up = False

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()

    def up(self) -> None:
        require_root()
        existing = self.existing()
        for ns in (self.pacsim, self.peer):
            if ns in existing:
                raise LabError(f"network namespace {ns} already exists; delete it with: ip netns del {ns}")
        atexit.register(self.down)
        self._up = True
        a, b = self.addresses, (self.pacsim, self.peer)
        try:
            for ns in b:
                run(["ip", "netns", "add", ns])
            run(["ip", "link", "add", self.pacsim_if, "netns", self.pacsim, "type", "veth", "peer", "name",
                 self.peer_if, "netns", self.peer])
            for ns, interface, address in ((self.pacsim, self.pacsim_if, a.pacsim_wan),
                                           (self.peer, self.peer_if, a.peer_wan)):
                run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
                run(["ip", "-n", ns, "addr", "add", f"{address}/{a.prefix}", "dev", interface])
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
                run(["ip", "-n", ns, "link", "set", interface, "up"])
            run(["ip", "-n", self.peer, "addr", "add", f"{a.peer_host}/32", "dev", "lo"])
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Delete the namespaces, the NAT's private one too (their veth ends go with them); idempotent."""
        if not self._up:
            return
        self._up = False
        existing = self.existing()
        for ns in (self.pacsim, self.peer, self.natted):
            if ns in existing:
                run(["ip", "netns", "del", ns], check=False)
        atexit.unregister(self.down)

    @staticmethod
    def existing() -> set[str]:
        """Names of the network namespaces there are."""
        listing = run(["ip", "netns", "list"], check=False).stdout
        return {line.split()[0] for line in listing.splitlines() if line.strip()}

    def exec_argv(self, ns: str, argv) -> list[str]:
        """``argv`` to run inside namespace ``ns``."""
        return ["ip", "netns", "exec", ns, *map(str, argv)]

    def run_in(self, ns: str, argv, **options) -> subprocess.CompletedProcess:
        """``argv`` run to completion inside ``ns`` (see :func:`run`)."""
        return run(self.exec_argv(ns, argv), **options)
