# Ref: Wireshark 4.0 user's guide (dumpcap, UAT tables ikev1_decryption_table and esp_sa); RFC 2409 appendix B
#      and section 5.4 (HASH_R with a pre-shared key); ike-scan(1), psk-crack(1) 1.9.5
"""The lab's wire-level tools: the capture and tshark's check of it, ike-scan and psk-crack.

:class:`Capture` runs dumpcap on the router namespace's veth end (every
packet between the router and the peer) and stops it by SIGINT; it
settles for half a second after starting and before stopping, so that it
sees every packet in between.

:class:`KeyLog` is what the router tells about its keys: per IKE SA the
initiator cookie and the phase-1 encryption key (Ka, RFC 2409 appendix B),
per ESP SA the addresses, SPI, algorithms and keys. It renders Wireshark's
UAT records: ``ikev1_decryption_table`` (unquoted hex: cookie, key) and
``esp_sa`` (quoted CSV: protocol, source, destination, SPI, encryption,
key, authentication, key).

:func:`tshark_check` reads the capture with those tables only and says
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
from dataclasses import dataclass, field
from pathlib import Path

from .cases import IkeScanProbe
from .namespaces import LabNamespaces, NamespaceProcess, Service, run

__all__ = ["Capture", "KeyLog", "EspKey", "IkeKey", "tshark_check", "TSHARK_CIPHER", "TSHARK_AUTH", "probe",
           "psk_cracked", "parse_ike_scan", "AGGRESSIVE_ID"]

#: The router's algorithm names -> Wireshark 4.0's esp_sa names.
TSHARK_CIPHER = {"des": "DES-CBC [RFC2405]", "3desinner": "TripleDES-CBC [RFC2451]", "aes128": "AES-CBC [RFC3602]",
                 "aes256": "AES-CBC [RFC3602]"}
TSHARK_AUTH = {"sha": "HMAC-SHA-1-96 [RFC2404]", "md5": "HMAC-MD5-96 [RFC2403]"}
#: Seconds to let the last packets reach dumpcap before stopping it (libpcap hands them over in blocks
#: the kernel retires on a timeout; a block still open at SIGINT was lost), and to wait after dumpcap
#: says "Capturing on" (the first packets after it were missing, now and then).
_SETTLE = 0.5


@dataclass(frozen=True)
class IkeKey:
    """One IKE SA: the initiator's cookie (8 bytes) and the phase-1 encryption key."""
    initiator_cookie: bytes
    encryption_key: bytes

    def uat(self) -> str:
        return f"{self.initiator_cookie.hex()},{self.encryption_key.hex()}"


@dataclass(frozen=True)
class EspKey:
    """One ESP SA, in the direction ``source`` -> ``destination``."""
    source: str
    destination: str
    spi: int
    encalg: str
    encryption_key: bytes
    hashalg: str
    authentication_key: bytes

    def uat(self) -> str:
        return (f'"IPv4","{self.source}","{self.destination}","0x{self.spi:08x}","{TSHARK_CIPHER[self.encalg]}",'
                f'"0x{self.encryption_key.hex()}","{TSHARK_AUTH[self.hashalg]}","0x{self.authentication_key.hex()}"')


@dataclass
class KeyLog:
    """The router's keys for tshark (see the module docstring)."""
    ike: list[IkeKey] = field(default_factory=list)
    esp: list[EspKey] = field(default_factory=list)

    def tshark_options(self) -> list[str]:
        options = ["-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE"]
        for key in self.ike:
            options += ["-o", f"uat:ikev1_decryption_table:{key.uat()}"]
        for key in self.esp:
            options += ["-o", f"uat:esp_sa:{key.uat()}"]
        return options


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


def tshark_check(pcap: Path, keys: KeyLog) -> dict:
    """What tshark makes of ``pcap`` with ``keys`` only: counts of encrypted
    ISAKMP messages (and how many it decrypted), ESP packets (and how many
    with a good ICV), and ``decrypted``: all of both, and at least one."""
    fields = ["-T", "fields", "-E", "separator=|", "-e", "isakmp.flags", "-e", "isakmp.hash", "-e", "esp.spi",
              "-e", "esp.icv_good"]
    done = run(["tshark", "-r", str(pcap), *keys.tshark_options(), *fields], timeout=120)
    counts = dict(isakmp_encrypted=0, isakmp_decrypted=0, esp=0, esp_good=0)
    for line in done.stdout.splitlines():
        flags, hashes, spi, icv_good = (line.split("|") + ["", "", "", ""])[:4]
        if flags and int(flags.split(",")[0], 0) & 1:
            counts["isakmp_encrypted"] += 1
            counts["isakmp_decrypted"] += bool(hashes)
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
