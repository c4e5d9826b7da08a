# Ref: issue 12 ("A real network attachment", the interop must-show); issue 13 (views agree with swanctl);
#      ../shared/interop/README.md §§2-6
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
through the tunnel, whether every vendor view of the router (read through
its control socket after the pings, :mod:`.view_facts`) agrees field by
field with ``swanctl --list-sas`` read just before (:mod:`.agreement`:
``views_match``, ``views_mismatch``; both texts kept in the case's
directory), the packets the card encrypted and decrypted, and
whether tshark decrypts the capture given only the router's key log
(``enable isakmp keylog=DIR``: :mod:`pacsim.firmware.isakmp.key_log`).

An ike-scan probe (:func:`Lab.ike_scan_probe`): ike-scan from the peer
namespace at the router's WAN address, and psk-crack on an aggressive-mode
answer.

An XAUTH case (``xauth`` generic or radius) runs the same with the
router as XAUTH server (its user database, or a FreeRADIUS of the case's
own on loopback, :mod:`.freeradius`) and mode config; the record adds
the virtual IP strongSwan installed (``virtual_ip``, from its log).

A case with ``nat`` puts strongSwan behind a real NAT (:mod:`.nat`).

Each case gives one record (a dict, the JSON keys of the issue), with
``auth`` ("psk"), ``xauth`` (none|generic|radius), ``nat`` (the case's),
``router_nat_detected`` (the router's NAT-D found a NAT and IKE floated
to 4500), ``udp_encap`` (ESP came to the router in UDP/4500),
``peer_behind_nat`` (charon's log says its NAT-D found its host behind a
NAT and not that it faked one; as aggressive-mode responder with ``encap
= yes`` it says so without a NAT too) and ``natt``: a real NAT on the path
(the case's ``nat``), the router's NAT-D detected it and ESP went in
UDP/4500. Without a NAT ``natt`` is false but ``udp_encap`` true:
strongSwan's userspace ESP (kernel-libipsec) only does ESP in UDP, so
``encap = yes`` makes it fake a NAT (its NAT-D hashes are bogus, which
the router mostly, not always, takes for a NAT). A case that cannot run records why
in ``phase1`` instead of raising.
"""
import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path

from .agreement import LIFETIME_SLACK, mismatches, swan_facts
from .cases import PSK, RADIUS_SECRET, XAUTH_PASSWORD, XAUTH_USER, Case, IkeScanProbe
from .freeradius import FreeRadius
from .lab_certificates import LabCredentials
from .lab_router import PING_IDENT, ModelLabRouter, RtlLabRouter
from .namespaces import ADDRESSES, LabNamespaces, require_root
from .nat import NatSegment
from .router_config import isakmp_lines
from .strongswan import Charon, behind_nat, initiate_outcome, parse_list_sas, virtual_ip
from .view_facts import view_facts
from .wire_tools import Capture, probe, psk_cracked, tshark_check

__all__ = ["Lab", "NEGOTIATION_TIMEOUT", "spis_of_show", "spis_match"]

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

    def _lab_router(self, case: Case, directory: Path, radius_port: int | None = None, credentials=None):
        lines = isakmp_lines(case, self.addresses, keylog=directory / "keylog", radius_port=radius_port,
                             credentials=credentials)
        if case.bus == "rtl":
            return RtlLabRouter(lines, self.namespaces.pacsim, directory / "rtl", self.addresses)
        return ModelLabRouter(lines, self.namespaces.pacsim, self.addresses)

    async def strongswan_case(self, case: Case) -> dict:
        """One :class:`~.cases.Case` against strongSwan; its record."""
        start = time.monotonic()
        record = dict(peer="strongswan", case=case.name, mode=case.mode, initiator=case.initiator,
                      encalg=case.encalg, hashalg=case.hashalg, group=case.group, pfs=case.pfs, bus=case.bus,
                      auth=case.auth, xauth=case.xauth, natt=False, virtual_ip=None,
                      phase1=None, phase2=None, spis_match=False, views_match=False, views_mismatch=[], ping_ok=False,
                      card_packets=dict(encrypted=0, decrypted=0), tshark_decrypted=False)
        directory = self.workdir / case.name
        directory.mkdir(exist_ok=True)
        credentials = LabCredentials(directory / "pki", self.addresses) if case.auth == "rsasig" else None
        timeout = max(self.timeout, case.retransmit_timeout * GIVE_UP_FACTOR)
        with (FreeRadius(directory / "freeradius", {XAUTH_USER: XAUTH_PASSWORD}, RADIUS_SECRET)
              if case.xauth == "radius" else contextlib.nullcontext()) as radius, \
                (NatSegment(self.namespaces) if case.nat else contextlib.nullcontext()):
            return await self._strongswan_case(case, record, directory, radius, credentials, timeout, start)

    async def _strongswan_case(self, case, record, directory, radius, credentials, timeout, start) -> dict:
        router = self._lab_router(case, directory, radius.port if radius is not None else None, credentials)
        swan_ns = self.namespaces.natted if case.nat else self.namespaces.peer
        with Charon(swan_ns, directory / "charon", retransmit_timeout=case.retransmit_timeout,
                    retransmit_tries=RETRANSMIT_TRIES) as charon, \
                Capture(self.namespaces.pacsim, self.namespaces.pacsim_if, directory / "wan.pcapng") as capture:
            if credentials is not None:
                credentials.write_peer(charon.directory)
            charon.load(case, self.addresses)
            await router.start()
            try:
                await self._negotiate(case, charon, router, record, timeout)
                if record["phase2"] == "established":
                    await self._bundle_installed(router, timeout)
                    record["ping_ok"] = await self._pings(router, swan_ns, max(PING_WAIT, case.retransmit_timeout))
                swan_read = time.monotonic()
                listed = (await asyncio.to_thread(charon.swanctl, "--list-sas")).stdout
                views = await router.views()
                views_read = time.monotonic()
            finally:
                summary = await router.finish()
            _, children = parse_list_sas(listed)
            record["spis_match"] = spis_match(children, spis_of_show(summary["show_ipsec_sa"]))
            seen_at = self.addresses.peer_wan if case.nat else None      # the NAT's outside address
            wrong = mismatches(swan_facts(listed, seen_at), view_facts(views), views_read - swan_read + LIFETIME_SLACK)
            record.update(views_match=not wrong, views_mismatch=wrong)
            _keep(directory, listed, views)
            charon.terminate()
            capture.stop()
            record["tshark_decrypted"] = tshark_check(capture.path, directory / "keylog")["decrypted"]
            record["virtual_ip"] = virtual_ip(charon.log())
            swan_behind_nat = behind_nat(charon.log())
        counters = summary["alg_ipsec"]
        udp_encap = summary["attachment"].get("natt_esp_in", 0) > 0
        record.update(nat=case.nat, udp_encap=udp_encap, router_nat_detected=summary["natt"],
                      peer_behind_nat=swan_behind_nat, natt=case.nat and summary["natt"] and udp_encap)
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
        # the router initiates as `pacsim ctl initiate vpn` asks it (the tunnel policy's key manager acquires): no
        # data packet waits for the bundle, so none races strongSwan's install of the SAs (IKEv1 has no such
        # guarantee without the commit bit) and both ends count the same packets afterwards
        await router.request("initiate", target="vpn")
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

    @staticmethod
    async def _bundle_installed(router, timeout: float) -> None:
        """Until the router lists the negotiated bundle: strongSwan, the initiator, installs its SAs before the
        router has taken its last quick-mode message (slow on the RTL card), and a ping then would be dropped as
        an unknown SPI by the router and counted by strongSwan only."""
        end = time.monotonic() + timeout
        while not (await router.request("query", what="bundles")) and time.monotonic() < end:
            await asyncio.sleep(0.2)

    async def _pings(self, router, swan_ns: str, wait: float) -> bool:
        """Traffic both ways: the peer's host pings ours (ping in strongSwan's
        namespace ``swan_ns``), ours pings the peer's host (echo replies come back)."""
        a = self.addresses
        done = await asyncio.to_thread(self.namespaces.run_in, swan_ns,
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


def _keep(directory: Path, listed: str, views: dict) -> None:
    """What the views comparison read, in the case's directory: ``list-sas.txt``, ``views.txt``."""
    (directory / "list-sas.txt").write_text(listed)
    (directory / "views.txt").write_text("".join(f"### {key}\n{text}\n" for key, text in views.items()))


def _responder_failure(log: str, addresses) -> str:
    """What charon's log says went wrong when the router initiated."""
    if f"received packet: from {addresses.pacsim_wan}" not in log:
        return "no ISAKMP message from pacsim"
    failures = [line.split("]", 1)[-1].strip() for line in log.splitlines()
                if any(word in line for word in ("failed", "invalid", "unable", "no proposal"))]
    return failures[-1] if failures else "no outcome in strongSwan's log"
