# Ref: ike-scan(1), psk-crack(1) 1.9.5; RFC 2409 section 5.4 (HASH_R with a pre-shared key)
"""ike-scan probes and psk-crack, run in a lab namespace.

:func:`probe` sends one :class:`~.cases.IkeScanProbe` to a target and
reads what ike-scan printed: whether a handshake came back
(``answered``), the notify message if one did instead (``notify``, e.g.
``NO-PROPOSAL-CHOSEN``), and for aggressive mode the psk-crack parameters
file (``--pskcrack``). :func:`psk_cracked` runs psk-crack with a
dictionary of a wrong guess and the lab's key: True when the responder's
HASH_R verifies with that key, an independent check of HASH_R.
"""
import re
from pathlib import Path

from .cases import IkeScanProbe
from .namespaces import LabNamespaces, run

__all__ = ["probe", "psk_cracked", "parse_ike_scan", "AGGRESSIVE_ID"]

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
