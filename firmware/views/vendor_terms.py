# Ref: ../shared/seeds/000_*.txt (racoonctl ST codes), 002_*-003_* (IOS states); ipsec-tools isakmp_var.h PHASE1ST_*
"""What the racoonctl, tmsh and IOS views share: the phase-1 state as
racoon numbers it, the IKE and IPsec algorithm names the other vendors
print, the SA's tunnel ends and dates, and the packet counters of an SA
in the data path's own names.

- :func:`racoon_state`: racoon's PHASE1ST number of an IKE SA. Our state
  machine moves on when a message is sent, so the numbers are those racoon
  holds after sending: 1 start (initiator, nothing sent), 2 msg 1 received
  (responder), 3 msg 1 sent (MM_SA_SETUP, AG_INIT_EXCH, and the
  aggressive responder's AG_AUTH), 5 msg 2 sent (MM_KEY_EXCH), 7 msg 3 sent
  (MM_KEY_AUTH), 9 established, 10 dying, 11 expired (and deleted);
- :func:`ios_state`: the IOS state (MM_*/AG_* while negotiating,
  QM_IDLE once established);
- :func:`ike_cipher`, :func:`ike_hash`: an IKE transform's algorithms,
  lower case (``aes128``, ``sha``);
- :func:`ends`: (local, peer) tunnel ends of an SA;
- :func:`date`: a router clock time as ``YYYY-MM-DD hh:mm:ss`` (UTC);
- :class:`SaPackets`: an SA's packets and errors by direction.
"""
import time

from ..isakmp.ike_sa import IkeSaSnapshot, IkeSaState
from ..isakmp.proposal import CIPHERS
from ..isakmp.rules import Role
from ..state.snapshots import SaSnapshot

__all__ = ["racoon_state", "ios_state", "ike_cipher", "ike_hash", "ends", "date", "SaPackets"]

_RACOON = {IkeSaState.MM_SA_SETUP: 3, IkeSaState.MM_KEY_EXCH: 5, IkeSaState.MM_KEY_AUTH: 7,
           IkeSaState.AG_INIT_EXCH: 3, IkeSaState.AG_AUTH: 3, IkeSaState.ESTABLISHED: 9, IkeSaState.DYING: 10,
           IkeSaState.EXPIRED: 11, IkeSaState.DELETED: 11}
_CIPHER_NAME = {cipher: name for name, (_, _, cipher) in CIPHERS.items()}


def racoon_state(s: IkeSaSnapshot) -> int:
    """racoon's PHASE1ST number of ``s`` (see the module docstring)."""
    if s.state in (IkeSaState.MM_NO_STATE, IkeSaState.AG_NO_STATE):
        return 1 if s.role is Role.INITIATOR else 2
    return _RACOON[s.state]


def ios_state(s: IkeSaSnapshot) -> str:
    """The IOS ``show crypto isakmp sa`` state of ``s``."""
    if s.state.usable:
        return "QM_IDLE"
    if s.state in (IkeSaState.EXPIRED, IkeSaState.DELETED):
        return "MM_NO_STATE"
    return s.state.value


def ike_cipher(s: IkeSaSnapshot) -> str:
    """The IKE cipher (``des``, ``3desinner``, ``aes128``...), ``-`` before it is chosen."""
    return "-" if s.transform is None else _CIPHER_NAME[s.transform.cipher]


def ike_hash(s: IkeSaSnapshot) -> str:
    """The IKE hash (``md5`` or ``sha``), ``-`` before it is chosen."""
    if s.transform is None:
        return "-"
    return "sha" if s.transform.hash.name.startswith("SHA") else "md5"


def ends(sa: SaSnapshot) -> tuple[str, str]:
    """(local, peer) tunnel ends of ``sa`` (``0.0.0.0`` when not known)."""
    return sa.tunnel_local or "0.0.0.0", sa.peer or "0.0.0.0"


def date(seconds: float | None) -> str:
    """``YYYY-MM-DD hh:mm:ss`` of a clock time (UTC); ``-`` when not known."""
    return "-" if seconds is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


class SaPackets:
    """An SA's packet counters in the data path's terms (0 without counters):
    ``out``/``into`` packets protected/opened, ``encrypted``/``decrypted``,
    ``digested``/``verified`` (ICV made/checked good), ``compressed``,
    ``decompressed``, ``not_compressed`` (too small or would expand),
    ``compress_failed``, ``decompress_failed``, ``send_errors``,
    ``recv_errors``, and the inbound drops by class: ``bad_icv``,
    ``replayed``, ``bad_padding``."""

    def __init__(self, sa: SaSnapshot):
        c = sa.counters
        get = (lambda *names: sum(c[n] for n in names)) if c is not None else (lambda *names: 0)
        self.out, self.into = get("outProcessDone"), get("inProcessDone")
        self.encrypted, self.decrypted = get("espEncryptionGood"), get("espDecryptionGood")
        self.digested = get("espOutHashGood", "ahOutHashGood")
        self.verified = get("espInHashGood", "ahInHashGood")
        self.compressed, self.decompressed = get("compressionGood"), get("decompressionGood")
        self.not_compressed = get("compTooSmall", "nonExpansionBackoff", "dataExpansion")
        self.compress_failed = get("compressionFailImm", "compressionFail")
        self.decompress_failed = get("decompressionFailImm", "decompressionFail")
        self.send_errors = get("outProcessFailImm", "outProcessFail")
        self.recv_errors = get("inProcessFailImm", "inProcessFail")
        self.bad_icv = get("espIcvInvalid", "ahIcvInvalid")
        self.replayed = get("espReplayedPacket", "ahReplayedPacket")
        self.bad_padding = get("espPaddingInvalid")
