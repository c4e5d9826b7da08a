# Ref: issue 12 ("A real network attachment", the interop must-show); ../shared/interop/README.md §§2-6
"""The interop lab: what ``pacsim interop strongswan|ike-scan`` runs.

:class:`Lab` sets up the namespaces (:mod:`.namespaces`), a working
directory and, per case, a fresh pacsim router with its WAN interface
attached in the router namespace (:mod:`.lab_router`: on a model card in
this process, or on the RTL card in a cocotb simulation for a case with
``bus="rtl"``, whose slower answers the peer's raised retransmission
timeout allows for), and a capture of the veth.
Everything is torn down on the way out, on an exception or a signal
(context managers; the namespaces also by ``atexit``); the working
directory is removed unless the caller named one to keep.

A strongSwan case (:func:`Lab.strongswan_case`, a :class:`~.cases.Case`):
charon in the peer namespace loads the case's connection; either
strongSwan initiates (``swanctl --initiate``) or the router's simulated
host sends to the peer's host, which makes the router ask its ISAKMP
daemon for SAs. Then: both phases' outcome (from swanctl's output or
``--list-sas`` and charon's log), whether the CHILD_SA SPIs strongSwan
lists are the mirror of those ``show ipsec sa`` shows, pings both ways
through the tunnel, the packets the card encrypted and decrypted, and
whether tshark decrypts the capture given only the router's key log
(``enable isakmp keylog=DIR``: :mod:`pacsim.firmware.isakmp.key_log`).

An ike-scan probe (:func:`Lab.ike_scan_probe`): ike-scan from the peer
namespace at the router's WAN address, and psk-crack on an aggressive-mode
answer.

Each case gives one record (a dict, the JSON keys of the issue). A case
that cannot run records why in ``phase1`` instead of raising.
"""
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from .cases import PSK, Case, IkeScanProbe
from .lab_certificates import LabCredentials
from .lab_router import PING_IDENT, ModelLabRouter, RtlLabRouter
from .namespaces import ADDRESSES, LabNamespaces, require_root
from .router_config import isakmp_lines
from .strongswan import Charon, initiate_outcome
from .wire_tools import Capture, probe, psk_cracked, tshark_check

__all__ = ["Lab", "NEGOTIATION_TIMEOUT", "spis_of_show", "spis_match", "views_match"]

#: Seconds a negotiation may take: strongSwan's retransmissions (1 s, then 1.8 s and 3.2 s: it gives
#: up after 6 s and says so) fit in it.
NEGOTIATION_TIMEOUT = 8.0
RETRANSMIT_TRIES = 2
#: A negotiation's timeout in strongSwan retransmission timeouts (1 + 1.8 + 3.24 of them until it gives up).
GIVE_UP_FACTOR = 8
#: Seconds to wait for an echo reply (either way); the RTL card's case waits its retransmission timeout.
PING_WAIT = 5.0


def spis_of_show(text: str) -> list[tuple[int, int]]:
    """(outbound, inbound) SPIs of each ESP row of ``show ipsec sa``."""
    rows = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 7 and words[0].isdigit() and words[-3].upper() == "ESP":
            rows.append((int(words[-2]), int(words[-1])))
    return rows


def spis_match(children, ours: list[tuple[int, int]]) -> bool:
    """Whether strongSwan lists CHILD_SAs (``children``: :class:`~.strongswan.SwanSa`) and each is the mirror of
    one of ``ours`` ((outbound, inbound) from :func:`spis_of_show`): its inbound SPI our outbound one."""
    return bool(children) and all((child.spi_in, child.spi_out) in ours for child in children)


def views_match(children, ike_spis, views: dict) -> bool:
    """Whether our other vendors' views of the router show what strongSwan
    lists at the other end: every CHILD_SA's two SPIs (``children``) in each
    IPsec view (``views["ipsec"]``: IOS ``show crypto ipsec sa``, racoonctl
    ``show-sa esp``, tmsh ``show net ipsec ipsec-sa``; decimal or eight hex
    digits) and every IKE_SA's cookies (``ike_spis``, hex) in each ISAKMP
    view (``views["ike"]``: racoonctl ``-ll show-sa isakmp``, tmsh ``show net
    ipsec ike-sa all-properties``)."""
    def shows(text: str, spi: int) -> bool:
        text = text.lower()
        return str(spi) in text or f"{spi:08x}" in text
    ipsec, ike = views.get("ipsec", {}), views.get("ike", {})
    return bool(children and ike_spis and ipsec and ike) \
        and all(shows(text, spi) for child in children for spi in (child.spi_in, child.spi_out)
                for text in ipsec.values()) \
        and all(cookie in text.lower() for pair in ike_spis for cookie in pair for text in ike.values())


class Lab:
    """The lab (see the module docstring); ``workdir``: where captures and
    logs go and stay (None: a temporary directory, removed at the end)."""

    def __init__(self, workdir: Path | None = None, *, addresses=ADDRESSES, timeout: float = NEGOTIATION_TIMEOUT):
        self.addresses = addresses
        self.timeout = timeout
        self.keep = workdir is not None
        self.workdir = Path(workdir) if workdir is not None else None
        self.namespaces = LabNamespaces(addresses)

    def __enter__(self):
        require_root()
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="pacsim-interop-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.namespaces.up()
        except BaseException:
            self._remove_workdir()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.namespaces.down()
        finally:
            self._remove_workdir()

    def _remove_workdir(self) -> None:
        if not self.keep and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- strongSwan -----------------------------------------------------------------------------------

    def _lab_router(self, case: Case, directory: Path, credentials=None):
        lines = isakmp_lines(case, self.addresses, keylog=directory / "keylog", credentials=credentials)
        if case.bus == "rtl":
            return RtlLabRouter(lines, self.namespaces.pacsim, directory / "rtl", self.addresses)
        return ModelLabRouter(lines, self.namespaces.pacsim, self.addresses)

    async def strongswan_case(self, case: Case) -> dict:
        """One :class:`~.cases.Case` against strongSwan; its record."""
        start = time.monotonic()
        record = dict(peer="strongswan", case=case.name, mode=case.mode, initiator=case.initiator,
                      encalg=case.encalg, hashalg=case.hashalg, group=case.group, pfs=case.pfs, bus=case.bus,
                      auth=case.auth,
                      phase1=None, phase2=None, spis_match=False, views_match=False, ping_ok=False,
                      card_packets=dict(encrypted=0, decrypted=0), tshark_decrypted=False)
        directory = self.workdir / case.name
        directory.mkdir(exist_ok=True)
        credentials = LabCredentials(directory / "pki", self.addresses) if case.auth == "rsasig" else None
        router = self._lab_router(case, directory, credentials)
        timeout = max(self.timeout, case.retransmit_timeout * GIVE_UP_FACTOR)
        with Charon(self.namespaces.peer, directory / "charon", retransmit_timeout=case.retransmit_timeout,
                    retransmit_tries=RETRANSMIT_TRIES) as charon, \
                Capture(self.namespaces.pacsim, self.namespaces.pacsim_if, directory / "wan.pcapng") as capture:
            if credentials is not None:
                credentials.write_peer(charon.directory)
            charon.load(case, self.addresses)
            await router.start()
            try:
                await self._negotiate(case, charon, router, record, timeout)
                if record["phase2"] == "established":
                    record["ping_ok"] = await self._pings(router, max(PING_WAIT, case.retransmit_timeout))
                _, children = await asyncio.to_thread(charon.list_sas)
                ike_spis = await asyncio.to_thread(charon.ike_spis)
            finally:
                summary = await router.finish()
            record["spis_match"] = spis_match(children, spis_of_show(summary["show_ipsec_sa"]))
            record["views_match"] = views_match(children, ike_spis, summary["views"])
            charon.terminate()
            capture.stop()
            record["tshark_decrypted"] = tshark_check(capture.path, directory / "keylog")["decrypted"]
        counters = summary["alg_ipsec"]
        record.update(card_packets=dict(encrypted=counters.get("ipsecEncodeGood", 0),
                                        decrypted=counters.get("ipsecDecodeGood", 0)),
                      attachment=summary["attachment"], runtime_failures=summary["failures"])
        return dict(record, ms=round((time.monotonic() - start) * 1000))

    async def _negotiate(self, case: Case, charon: Charon, router, record: dict, timeout: float) -> None:
        """Phase 1 and 2 for ``case``; their outcomes into ``record``."""
        if case.initiator == "strongswan":
            _, output = await asyncio.to_thread(charon.initiate, timeout)
            record["phase1"], record["phase2"] = initiate_outcome(output)
            return
        # the router initiates when its LAN sends into the tunnel policy (the policy asks its key manager)
        await router.ping_peer(1)
        end = time.monotonic() + timeout
        ike, children = [], []
        while time.monotonic() < end:
            ike, children = await asyncio.to_thread(charon.list_sas)
            if any(c.state == "INSTALLED" for c in children):
                break
            await asyncio.sleep(0.2)
        record["phase1"] = "established" if "ESTABLISHED" in ike else _responder_failure(charon.log(), self.addresses)
        if record["phase1"] != "established":
            record["phase2"] = "not attempted (phase 1 failed)"
        else:
            record["phase2"] = "established" if any(c.state == "INSTALLED" for c in children) else \
                _responder_failure(charon.log(), self.addresses)

    async def _pings(self, router, wait: float) -> bool:
        """Traffic both ways: the peer's host pings ours (ping in the peer
        namespace), ours pings the peer's host (echo replies come back)."""
        a = self.addresses
        done = await asyncio.to_thread(self.namespaces.run_in, self.namespaces.peer,
                                       ["ping", "-c", "2", "-i", "0.2", "-W", str(round(wait)), "-I", a.peer_host,
                                        a.pacsim_host],
                                       check=False, timeout=2 * wait + 10)
        wanted = {(PING_IDENT, 2), (PING_IDENT, 3)}
        for sequence in (2, 3):
            await router.ping_peer(sequence)
        end = time.monotonic() + wait
        while time.monotonic() < end and not wanted <= set(router.echo_replies()):
            await asyncio.sleep(0.05)
        return done.returncode == 0 and wanted <= set(router.echo_replies())

    # -- ike-scan -------------------------------------------------------------------------------------

    async def ike_scan_probe(self, scan: IkeScanProbe) -> dict:
        """One ike-scan probe at the router; its record."""
        start = time.monotonic()
        encalg, hashalg, group = scan.transform if scan.acceptable and scan.transform else ("3desinner", "sha", 2)
        router = ModelLabRouter(isakmp_lines(Case(scan.mode, "pacsim", encalg, hashalg, group), self.addresses),
                                self.namespaces.pacsim, self.addresses)
        await router.start()
        try:
            result = await asyncio.to_thread(probe, self.namespaces, self.namespaces.peer, self.addresses.pacsim_wan,
                                             scan, self.workdir)
        finally:
            summary = await router.finish()
        cracked = psk_cracked(result["pskcrack"], PSK) if result["pskcrack"] is not None else False
        record = dict(peer="ike-scan", case=scan.name, mode=scan.mode, transform=scan.trans or "default",
                      expected="answer" if scan.acceptable else "NO-PROPOSAL-CHOSEN",
                      answered=result["answered"], notify=result["notify"],
                      psk_cracked=cracked if scan.mode == "aggressive" else None,
                      attachment=summary["attachment"])
        return dict(record, ms=round((time.monotonic() - start) * 1000))


def _responder_failure(log: str, addresses) -> str:
    """What charon's log says went wrong when the router initiated."""
    if f"received packet: from {addresses.pacsim_wan}" not in log:
        return "no ISAKMP message from pacsim"
    failures = [line.split("]", 1)[-1].strip() for line in log.splitlines()
                if any(word in line for word in ("failed", "invalid", "unable", "no proposal"))]
    return failures[-1] if failures else "no outcome in strongSwan's log"
