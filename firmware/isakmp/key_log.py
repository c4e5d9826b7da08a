# Ref: Wireshark User's Guide, "User Table" (UAT) files ikev1_decryption_table and esp_sa
# Ref: ../shared/interop/ikt-keys.py and samples/wireshark-profile-ikt (the formats tshark reads)
"""The key log: the keys of our IKE and ESP SAs, written where Wireshark
and tshark read them, so that they decrypt our ISAKMP and ESP (like
SSLKEYLOGFILE for TLS). Nothing else ever shows key bytes: no display,
no debug line, no event.

``KeyLog(directory)`` keeps a Wireshark profile directory up to date
(a line already there is not written again):

* ``ikev1_decryption_table``: one ``<initiator cookie hex>,<encryption
  key hex>`` line per phase-1 SA (hex-bytes fields are not quoted in a UAT) (:meth:`KeyLog.phase1`, called by the
  daemon when an IKE SA is established);
* ``esp_sa``: one ``"IPv4","<src>","<dst>","0x<spi>","<cipher>","0x<key>",
  "<authenticator>","0x<key>"`` line per ESP SA (:meth:`KeyLog.esp_sa`,
  for the phase-2 layer to call per SA direction);
* ``preferences``: ESP decryption and authentication checking on.

Use it as a profile (``ln -s DIR ~/.config/wireshark/profiles/pacsim``;
``tshark -C pacsim``) or pass its lines with :func:`tshark_options`
(``-o uat:ikev1_decryption_table:...``).

Where: the console's ``enable isakmp keylog=DIR`` (ours: the manual has
no key log) sets :attr:`IsakmpConfig.keylog
<.policy_config.IsakmpConfig>`; else the environment variable
:data:`ENVIRONMENT` (``PACSIM_KEYLOG``); :func:`configured_key_log`
returns the one in force, or None.

A directory that cannot be written is refused by the command
(:meth:`KeyLog.check`: :class:`KeyLogError`); when writing fails later the
daemon records the fault and goes on (the negotiation never suffers).

An ESP SA whose cipher or authenticator Wireshark cannot decode (3DES
outer CBC, 3DES two-key, DES-MAC) is not written; :attr:`KeyLog.skipped`
counts them.
"""
import ipaddress
import os
from pathlib import Path

from .policy_config import IsakmpConfigError

__all__ = ["KeyLog", "KeyLogError", "configured_key_log", "tshark_options", "ENVIRONMENT", "IKEV1_TABLE", "ESP_TABLE"]

ENVIRONMENT = "PACSIM_KEYLOG"
IKEV1_TABLE = "ikev1_decryption_table"
ESP_TABLE = "esp_sa"
_HEADER = "# Written by pacsim's key log (firmware/isakmp/key_log.py).\n"
_PREFERENCES = ("esp.enable_encryption_decode: TRUE\n"
                "esp.enable_authentication_check: TRUE\n")
#: EncAlg display name -> Wireshark's esp_sa cipher name.
WIRESHARK_CIPHERS = {"DES": "DES-CBC [RFC2405]", "3DESINNER": "TripleDES-CBC [RFC2451]",
                     "AES128": "AES-CBC [RFC3602]", "AES192": "AES-CBC [RFC3602]", "AES256": "AES-CBC [RFC3602]",
                     "NULL": "NULL"}
#: HashAlg display name -> Wireshark's esp_sa authenticator name.
WIRESHARK_AUTHENTICATORS = {"SHA": "HMAC-SHA-1-96 [RFC2404]", "MD5": "HMAC-MD5-96 [RFC2403]", "NULL": "NULL"}


class KeyLogError(IsakmpConfigError):
    """The key log's directory cannot be made or written."""


class KeyLog:
    """A key log in Wireshark profile directory ``directory`` (created when
    missing; the tables are appended to, never rewritten)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.skipped = 0

    def check(self) -> None:
        """Make the directory; :class:`KeyLogError` when it cannot be made or written."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise KeyLogError(f"key log directory {self.directory} cannot be made: {error.strerror}") from None
        if not os.access(self.directory, os.W_OK):
            raise KeyLogError(f"key log directory {self.directory} cannot be written")

    def _append(self, table: str, line: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        preferences = self.directory / "preferences"
        if not preferences.exists():
            preferences.write_text(_PREFERENCES)
        path = self.directory / table
        if path.exists() and line in path.read_text().splitlines():
            return                  # both peers of one SA logging into one directory
        with path.open("a") as out:
            if out.tell() == 0:
                out.write(_HEADER)
            out.write(line + "\n")

    def phase1(self, cky_i: bytes, enc_key: bytes) -> None:
        """Log the phase-1 encryption key (Ka, RFC 2409 appendix B) of the IKE SA with initiator cookie ``cky_i``."""
        self._append(IKEV1_TABLE, f"{bytes(cky_i).hex()},{bytes(enc_key).hex()}")

    def esp_sa(self, src, dst, spi: int, encalg: str, enc_key: bytes, hashalg: str, auth_key: bytes) -> bool:
        """Log one ESP SA (one direction): addresses ``src``/``dst`` (text or
        ipaddress), ``spi`` (int), ``encalg``/``hashalg`` the
        :class:`~pacsim.firmware.ipsec.transforms.EncAlg`/``HashAlg``
        display names, and their keys. False (and counted in
        :attr:`skipped`) when Wireshark cannot decode that transform."""
        cipher, authenticator = WIRESHARK_CIPHERS.get(encalg), WIRESHARK_AUTHENTICATORS.get(hashalg)
        if cipher is None or authenticator is None:
            self.skipped += 1
            return False
        src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        self._append(ESP_TABLE, f'"IPv{src.version}","{src}","{dst}","0x{spi:08x}","{cipher}",'
                                f'"0x{bytes(enc_key).hex()}","{authenticator}","0x{bytes(auth_key).hex()}"')
        return True


def configured_key_log(config) -> KeyLog | None:
    """The key log in force for ``config`` (an IsakmpConfig): its
    ``keylog``, else ``$PACSIM_KEYLOG``, else None."""
    directory = config.keylog or os.environ.get(ENVIRONMENT)
    return KeyLog(directory) if directory else None


def tshark_options(directory) -> list[str]:
    """``-o uat:TABLE:LINE`` options for every line of a key log's tables, and ESP decryption and ICV checking on."""
    options = ["-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE"]
    for table in (IKEV1_TABLE, ESP_TABLE):
        path = Path(directory, table)
        lines = path.read_text().splitlines() if path.exists() else []
        options += [o for line in lines if line and not line.startswith("#") for o in ("-o", f"uat:{table}:{line}")]
    return options
