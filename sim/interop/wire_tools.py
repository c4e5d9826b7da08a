# Ref: Wireshark 4.0 user's guide (dumpcap, UAT tables ikev1_decryption_table and esp_sa); RFC 2409 appendix B
#      and section 5.4 (HASH_R with a pre-shared key); ike-scan(1), psk-crack(1) 1.9.5
"""The lab's wire-level tools: the capture and tshark's check of it, ike-scan and psk-crack.

:class:`Capture` runs dumpcap on the router namespace's veth end (every
packet between the router and the peer) and stops it by SIGINT; it
settles for half a second after starting and before stopping, so that it
sees every packet in between.

:func:`tshark_check` reads the capture with the tables of a key log only
(the router's: :mod:`pacsim.firmware.isakmp.key_log`, whose daemon logs
each IKE SA's phase-1 encryption key and whose key manager logs each ESP
SA, both directions) and says
whether tshark decrypted it: every encrypted ISAKMP message shows its HASH
payload, every ESP packet's ICV is good, and there was something to
decrypt.

:func:`probe` sends one :class:`~.cases.IkeScanProbe` to a target and
reads what ike-scan printed: whether a handshake came back
(``answered``), the notify message if one did instead (``notify``, e.g.
``NO-PROPOSAL-CHOSEN``), and for aggressive mode the psk-crack parameters
file (``--pskcrack``). :func:`psk_cracked` runs psk-crack with a
dictionary of a wrong guess and the lab's key: True when the responder's
HASH_R verifies with that key, an independent check of HASH_R.
"""
import re
import signal
import time
from pathlib import Path

from ...firmware.isakmp.key_log import tshark_options
from .cases import IkeScanProbe
from .namespaces import LabNamespaces, NamespaceProcess, Service, run

__all__ = ["Capture", "tshark_check", "probe", "psk_cracked", "parse_ike_scan", "AGGRESSIVE_ID"]

#: Seconds to let the last packets reach dumpcap before stopping it (libpcap hands them over in blocks
#: the kernel retires on a timeout; a block still open at SIGINT was lost), and to wait after dumpcap
#: says "Capturing on" (the first packets after it were missing, now and then).
_SETTLE = 0.5
#: tshark display filter: no ICMP errors (destination unreachable, time exceeded), which quote truncated packets.
_NOT_ICMP_ERRORS = "not (icmp.type == 3 or icmp.type == 11)"


class Capture(Service):
    """dumpcap on ``interface`` in namespace ``netns``, written to ``path``
    (its messages next to it, ``.dumpcap.log``)."""

    def __init__(self, netns: str, interface: str, path: Path):
        self.interface, self.path = interface, Path(path)
        self.dumpcap = NamespaceProcess(netns, ["dumpcap", "-i", interface, "-w", self.path],
                                        self.path.with_suffix(".dumpcap.log"), stop_signal=signal.SIGINT)

    def start(self) -> None:
        self.dumpcap.start(lambda: b"Capturing on" in self.dumpcap.log.read_bytes(), f"dumpcap on {self.interface}")
        time.sleep(_SETTLE)

    def stop(self) -> None:
        """Stop dumpcap (SIGINT: it finishes the file)."""
        if self.dumpcap.running:
            time.sleep(_SETTLE)
        self.dumpcap.stop()


def tshark_check(pcap: Path, key_log: Path) -> dict:
    """What tshark makes of ``pcap`` with the key log in directory ``key_log`` only: counts of encrypted
    ISAKMP messages (and how many it decrypted: a HASH or, with RSA signatures, a SIG read), ESP packets (and how many
    with a good ICV), and ``decrypted``: all of both, and at least one. Packets quoted in ICMP errors
    (e.g. the peer's Deletes after the router left: port unreachable) are truncated and not counted. A
    retransmission (a datagram the same, octet for octet, as an earlier one: RFC 2408 retransmits the message
    as sent) is counted in ``isakmp_retransmitted`` only: tshark takes the IV of a message ID's next message
    from the last one it saw, so it cannot decrypt the copy."""
    fields = ["-T", "fields", "-E", "separator=|", "-e", "isakmp.flags", "-e", "isakmp.hash", "-e", "esp.spi",
              "-e", "esp.icv_good", "-e", "isakmp.sig", "-e", "udp.payload"]
    done = run(["tshark", "-r", str(pcap), *tshark_options(key_log), "-Y", _NOT_ICMP_ERRORS, *fields], timeout=120)
    counts = dict(isakmp_encrypted=0, isakmp_decrypted=0, isakmp_retransmitted=0, esp=0, esp_good=0)
    seen = set()
    for line in done.stdout.splitlines():
        flags, hashes, spi, icv_good, signature, payload = (line.split("|") + [""] * 6)[:6]
        if flags and payload in seen:
            counts["isakmp_retransmitted"] += 1
            continue
        seen.add(payload)
        if flags and int(flags.split(",")[0], 0) & 1:
            counts["isakmp_encrypted"] += 1
            counts["isakmp_decrypted"] += bool(hashes or signature)
        if spi:
            counts["esp"] += 1
            counts["esp_good"] += icv_good.split(",")[0] == "1"
    counts["decrypted"] = (counts["isakmp_encrypted"] + counts["esp"] > 0
                           and counts["isakmp_decrypted"] == counts["isakmp_encrypted"]
                           and counts["esp_good"] == counts["esp"])
    return counts

AGGRESSIVE_ID = "ikescan@test.invalid"
_WRONG_GUESS = "not-the-key"


def parse_ike_scan(output: str) -> dict:
    """``answered`` (a handshake came back), ``notify`` (name or None), ``handshake`` (its SA line or None)."""
    handshake = re.search(r"(Main|Aggressive) Mode Handshake returned", output)
    notify = re.search(r"Notify message (\d+) \(([^)]*)\)", output)
    sa = re.search(r"SA=\(([^)]*)\)", output)
    return dict(answered=handshake is not None, notify=notify.group(2) if notify else None,
                handshake=sa.group(1) if handshake and sa else None)


def probe(namespaces: LabNamespaces, netns: str, target: str, scan: IkeScanProbe, directory: Path) -> dict:
    """Run ``scan`` from ``netns`` at ``target``; :func:`parse_ike_scan`'s
    result plus ``pskcrack`` (the parameters file, aggressive mode)."""
    argv = ["ike-scan", "--retry=2", "--timeout=500"]
    if scan.trans is not None:
        argv.append(f"--trans={scan.trans}")
    pskcrack = None
    if scan.mode == "aggressive":
        pskcrack = Path(directory) / f"{scan.name}.psk"
        argv += ["-A", f"--id={AGGRESSIVE_ID}", f"--pskcrack={pskcrack}"]
        if scan.transform is not None:
            argv.append(f"--dhgroup={scan.transform[2]}")
    done = namespaces.run_in(netns, argv + [target], check=False, timeout=30)
    result = parse_ike_scan(done.stdout)
    result["pskcrack"] = pskcrack if pskcrack is not None and pskcrack.exists() and pskcrack.stat().st_size else None
    return result


def psk_cracked(parameters: Path, psk: str) -> bool:
    """Whether psk-crack finds ``psk`` (in a dictionary with a wrong guess) for ``parameters``."""
    dictionary = Path(parameters).with_suffix(".dict")
    dictionary.write_text(f"{_WRONG_GUESS}\n{psk}\n")
    done = run(["psk-crack", "-d", str(dictionary), str(parameters)], check=False, timeout=60)
    return f'key "{psk}" matches' in done.stdout
