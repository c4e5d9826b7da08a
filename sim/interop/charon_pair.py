# Ref: ../shared/interop/README.md (two namespaces, charon with a private /run, vici); swanctl.conf(5)
"""Two strongSwan charons negotiating with each other, for ``pacsim bench ike``.

:func:`strongswan_rate` sets up the lab's namespaces
(:class:`~.namespaces.LabNamespaces`, under a tag of its own) and runs one
:class:`~.strongswan.Charon` in each, ``quiet`` (errors only in its log,
so charon is not slowed by its own log). The charon in the peer namespace
loads the lab's connection for the bench's transform (:data:`BENCH_CASE`:
main mode, aes128-sha1-modp1024, child ESP aes128-sha1 in tunnel mode);
the one in the router's namespace loads the same connection with the
addresses mirrored (:data:`MIRRORED`), so it initiates to the peer (the
router's LAN host goes on that namespace's lo, as the peer's host is on
the peer's: kernel-libipsec routes the child's traffic from it). It
then times ``negotiations`` initiations from the router's namespace over
vici (PyPI ``vici``: no swanctl process in the timed path), each followed
by a terminate that is not timed; everything is removed afterwards.
"""
import os
import shutil
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .cases import Case
from .namespaces import ADDRESSES, LabNamespaces
from .strongswan import CHARON, CONNECTION, Charon

__all__ = ["strongswan_rate", "missing", "BENCH_CASE", "MIRRORED"]

#: The bench's negotiation as a lab case (the charon in the router's namespace initiates).
BENCH_CASE = Case("main", "pacsim", "aes128", "sha", 2)
#: The lab's addresses seen from the router's namespace: its charon's local and remote swapped.
MIRRORED = replace(ADDRESSES, pacsim_wan=ADDRESSES.peer_wan, peer_wan=ADDRESSES.pacsim_wan,
                   pacsim_net=ADDRESSES.peer_net, peer_net=ADDRESSES.pacsim_net)


def missing() -> str | None:
    """Why two charons cannot run here (None when they can)."""
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


def _session(charon: Charon):
    """A vici session with ``charon``."""
    import vici
    connection = socket.socket(socket.AF_UNIX)
    connection.connect(str(charon.run_dir / "charon.vici"))
    return vici.Session(connection)


def _initiate(session, child) -> float:
    """Seconds one initiation of the connection (and ``child``) took; raises unless it succeeded."""
    request = {"ike": CONNECTION, "timeout": "20000"}
    if child is not None:
        request["child"] = child
    started = time.perf_counter()
    for _ in session.initiate(request):
        pass
    elapsed = time.perf_counter() - started
    for _ in session.terminate({"ike": CONNECTION, "timeout": "5000"}):
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
    root = Path(tempfile.mkdtemp(prefix="pacsim-ike-charons-"))
    try:
        with LabNamespaces(tag=f"ike{os.getpid() % 100000}") as lab, \
                Charon(lab.pacsim, root / "a", quiet=True) as initiator, \
                Charon(lab.peer, root / "b", quiet=True) as responder:
            # the host behind the router, as the peer's is on its lo: the source of the child's route
            lab.run_in(lab.pacsim, ["ip", "addr", "add", f"{ADDRESSES.pacsim_host}/32", "dev", "lo"])
            responder.load(BENCH_CASE)
            initiator.load(BENCH_CASE, MIRRORED)
            session = _session(initiator)
            _initiate(session, child)
            wall = sum(_initiate(session, child) for _ in range(negotiations))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return negotiations / wall, None
