# Ref: ../shared/spec/isakmp-commands.md R30 (RSA keys from CA-signed certificates); RFC 5280 section 4.1
"""The certificate commands (ours: the PKI chapter is not among our
sources; the spelling follows AlliedWare's), as data, and their handler::

    ADD PKI CERTificate=name LOCation=file [TRUSTed={YES|NO}]
    DELete PKI CERTificate=name
    SHow PKI CERTificate[=name]

``location`` is a PEM or DER X.509 certificate file on the host running
the simulation. ``trusted=yes`` makes it a certification authority the
router checks peers' certificates against (the root of trust of
``authtype=rsasig``); a certificate whose key is an ENCO RSA key
(``create enco key=N type=rsa``) is the router's own and is sent in CERT
payloads. Adding and deleting are security commands (SO), as ENCO keys.
"""
from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Boolean, Text
from ..views.alliedware.pki import show_pki_certificate, show_pki_certificates
from .certificates import NAME_LENGTH, CertificateError, CertificateStore

__all__ = ["PKI_COMMANDS", "PkiCommands", "ERRORS"]

ERRORS = (CertificateError,)
SO, USER = Privilege.SECURITYOFFICER, Privilege.USER
_NAME = Text(1, NAME_LENGTH, "certificate name")

PKI_COMMANDS = (
    Command((P("ADD"), P("PKI"), P("CERTificate", _NAME)),
            (P("LOCation", Text(1, 255, "file name"), required=True), P("TRUSTed", Boolean(("YES",), ("NO",)))),
            "add_certificate", "Load an X.509 certificate", "R30", SO),
    Command((P("DELete"), P("PKI"), P("CERTificate", _NAME)), (), "delete_certificate",
            "Delete a certificate", "R30", SO),
    Command((P("SHow"), P("PKI"), P("CERTificate", _NAME, optional_value=True)), (), "show_certificate",
            "Certificates", "R30", USER),
)


class PkiCommands:
    """Carries out :data:`PKI_COMMANDS` on a :class:`~.certificates.CertificateStore`."""

    def __init__(self, certificates: CertificateStore):
        self.certificates = certificates

    def add_certificate(self, certificate: str, location: str, trusted: bool = False):
        self.certificates.add(certificate, location, trusted)

    def delete_certificate(self, certificate: str):
        self.certificates.delete(certificate)

    def show_certificate(self, certificate: str | None = None):
        if certificate is None:
            return show_pki_certificates(self.certificates.certificates())
        found = [c for c in self.certificates.certificates() if c.name == certificate]
        if not found:
            raise CertificateError(f'certificate "{certificate}" does not exist (names are case sensitive)')
        return show_pki_certificate(found[0])
