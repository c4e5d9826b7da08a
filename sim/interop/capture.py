# Ref: Wireshark 4.0 user's guide (dumpcap, UAT tables ikev1_decryption_table and esp_sa); RFC 2409 appendix B
"""The lab's capture and its check by tshark, given only our key log.

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
"""
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from .namespaces import NamespaceProcess, Service, run

__all__ = ["Capture", "KeyLog", "EspKey", "IkeKey", "tshark_check", "TSHARK_CIPHER", "TSHARK_AUTH"]

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
