# Ref: RFC 5280 section 4.1 (the certificate fields shown); ../shared/spec/isakmp-commands.md R30
"""AlliedWare-style certificate displays: ``show pki certificate[=name]``.

The PKI chapter is not among our sources; the layout follows the ENCO
displays' conventions (a dashed table for the summary, dotted leaders for
the detail) and is ours. Arguments are
:class:`~pacsim.firmware.enco.certificates.StoredCertificate` s.
"""
from collections.abc import Iterable

from ...cli.layout import columns, join_lines, leader

__all__ = ["show_pki_certificates", "show_pki_certificate"]


def show_pki_certificates(certificates: Iterable) -> str:
    """``show pki certificate`` (summary)."""
    lines = ["PKI Certificates", "", "Name                     Trusted  Key   Subject", "-" * 72]
    for c in certificates:
        lines.append(columns([c.name, "YES" if c.trusted else "NO", c.public_key.bits, c.subject], [25, 9, 6, 0]))
    return join_lines(lines)


def show_pki_certificate(c) -> str:
    """``show pki certificate=name`` (detail)."""
    return join_lines([
        "PKI Certificate", "",
        leader("Name", c.name, 23), leader("Trusted", "YES" if c.trusted else "NO", 23),
        leader("Subject", c.subject, 23), leader("Issuer", c.issuer, 23),
        leader("Alternative names", ", ".join(c.alt_names) or "-", 23),
        leader("Valid from", c.not_before.strftime("%Y-%m-%d %H:%M:%S UTC"), 23),
        leader("Valid to", c.not_after.strftime("%Y-%m-%d %H:%M:%S UTC"), 23),
        leader("Public key", f"RSA {c.public_key.bits} bits", 23),
        leader("Signature", f"RSA with {c.signature_hash.upper()}", 23),
    ])
