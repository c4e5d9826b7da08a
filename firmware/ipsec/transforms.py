# Ref: spec/ipsec-commands.md §2.1 (SA specification values), spec/show-outputs.md §9, §18.6
"""The values an SA specification chooses from: IPsec protocol, mode and
the encryption, hash and compression algorithms, with the names the
displays print and the key lengths manual keying needs.

Key lengths (bytes) for manual keys: DES 8, 3DES2KEY 16 (K1, K2),
3DESINNER and 3DESOUTER 24 (K1, K2, K3), AES128/192/256 16/24/32,
DES-MAC 8 (a DES key). HMAC keys may have any length (RFC 2104), as the
card's HMAC channels allow: RFC 2403/2404 ask for 16 (MD5) and 20 (SHA-1)
bytes, but the manual's own example changes a specification from MD5 to
SHA keeping its hash key (L5563), so the length is not enforced.
"""
import enum

__all__ = ["Protocol", "Mode", "EncAlg", "HashAlg", "CompAlg", "IPCOMP_LZS_CPI", "SPI_RANGE"]

#: The well-known CPI of LZS (RFC 2395 / RFC 3173 §3.3: IPCOMP_LZS transform 3),
#: used by a manual IPComp SA that names no SPIs.
IPCOMP_LZS_CPI = 3
#: ESP and AH SPIs, inclusive: those of a manual SA specification (INSPI,
#: OUTSPI) and those the SAD hands out (0-255 are reserved, RFC 2406 section 2.1).
SPI_RANGE = (256, 0xFFFFFFFF)


class Protocol(enum.IntEnum):
    """The IPsec protocol of an SA specification, by IP protocol number."""
    ESP = 50
    AH = 51
    IPCOMP = 108

    @property
    def display(self) -> str:
        """As the displays print it (``COMP`` for IPComp)."""
        return "COMP" if self is Protocol.IPCOMP else self.name


class Mode(enum.Enum):
    """Encapsulation mode."""
    TUNNEL = "TUNNEL"
    TRANSPORT = "TRANSPORT"

    @property
    def short(self) -> str:
        """The summary display's form: ``TUNNEL`` or ``TRANSP``."""
        return "TRANSP" if self is Mode.TRANSPORT else "TUNNEL"


class EncAlg(enum.Enum):
    """ESP encryption algorithm; ``value`` is the display name."""
    TDES2KEY = "3DES2KEY"
    TDESOUTER = "3DESOUTER"
    TDESINNER = "3DESINNER"
    DES = "DES"
    AES128 = "AES128"
    AES192 = "AES192"
    AES256 = "AES256"
    NULL = "NULL"

    @property
    def key_bytes(self) -> int:
        """Key length manual keying needs (0 for NULL)."""
        return {"3DES2KEY": 16, "3DESOUTER": 24, "3DESINNER": 24, "DES": 8, "AES128": 16, "AES192": 24,
                "AES256": 32, "NULL": 0}[self.value]


class HashAlg(enum.Enum):
    """Authentication algorithm (HMAC-MD5-96, HMAC-SHA-1-96, DES-MAC); ``value`` is the display name."""
    DESMAC = "DESMAC"
    MD5 = "MD5"
    NULL = "NULL"
    SHA = "SHA"

    @property
    def key_bytes(self) -> int | None:
        """Key length manual keying needs (0 for NULL, None: any length)."""
        return {"DESMAC": 8, "MD5": None, "NULL": 0, "SHA": None}[self.value]


class CompAlg(enum.Enum):
    """Compression algorithm."""
    LZS = "LZS"
