# Ref: spec/ipsec-commands.md §6.0 (create enco key=N type=general {random|value=...}, show enco key=N)
"""The ENCO key commands, as data, and their handler::

    CREate ENCo KEY=0..65535 TYPe={AES|DES|GENeral|3DES} {RANdom|VALue=key-value}
        [LENgth=1..128] [DESCription=text]
    CREate ENCo KEY=0..65535 TYPe=RSA [LENgth={512|1024|2048} | FILe=key-file] [DESCription=text]
    DESTroy ENCo KEY=0..65535
    SHow ENCo KEY[=0..65535]
    SHow ENCo

Only ``create enco key=1 type=general random|value=...`` and ``show enco
key=1`` appear in our sources; the types other than GENERAL, LENgth and
DESCription are ours (see :mod:`.keys`), and so is TYPE=RSA (AlliedWare's
spelling; the ISAKMP chapter names RSA keys by number but does not give
the command): LENgth is then the modulus in bits (default 1024) and FILe
a PEM or DER RSA key file to load instead (:mod:`.rsa_keys`). The
certificate commands (``add pki certificate``) are in
:mod:`.pki_commands` and registered with these. ``show enco`` without a channel
source shows the card as unknown with no channels.

Privilege: creating and destroying keys are security commands (``SO``:
Security Officer in security mode, Manager otherwise); the manual has the
Security Officer make the keys in security mode (§6.0). ``show enco key``
is marked ``SO`` too although it is a display: it prints key values
(§6.0 step 2), which security mode exists to protect. ``show enco`` needs
any logged-in user.
"""
from collections.abc import Callable

from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Choice, Integer, Text
from ..state.snapshots import EncoSnapshot
from ..views.alliedware.enco import show_enco, show_enco_key, show_enco_keys
from .keys import EncoKeyError, KeyStore, KeyType
from .pki_commands import ERRORS as PKI_ERRORS, PKI_COMMANDS, PkiCommands

__all__ = ["ENCO_COMMANDS", "EncoCommands", "ERRORS"]

ERRORS = (EncoKeyError, *PKI_ERRORS)
SO, USER = Privilege.SECURITYOFFICER, Privilege.USER
_KEY_ID = Integer(0, 65535)
_TYPE = Choice({"AES": KeyType.AES, "DES": KeyType.DES, "GENeral": KeyType.GENERAL, "3DES": KeyType.TDES,
                 "RSA": KeyType.RSA})

ENCO_COMMANDS = (
    Command((P("CREate"), P("ENCo"), P("KEY", _KEY_ID)),
            (P("TYPe", _TYPE, required=True), P("RANdom"), P("VALue", Text(1, 256, "key value")),
             P("LENgth", Integer(1, 2048)), P("FILe", Text(1, 255, "key file")),
             P("DESCription", Text(1, 40, "description"))),
            "create_key", "Create an ENCO key", "§6.0", SO),
    Command((P("DESTroy"), P("ENCo"), P("KEY", _KEY_ID)), (), "destroy_key", "Destroy an ENCO key", "§6.0", SO),
    Command((P("SHow"), P("ENCo"), P("KEY", _KEY_ID, optional_value=True)), (), "show_key", "ENCO keys", "§6.0", SO),
    Command((P("SHow"), P("ENCo")), (), "show_enco", "ENCO card and channels", "show-outputs §19", USER),
) + PKI_COMMANDS


class EncoCommands(PkiCommands):
    """Carries out :data:`ENCO_COMMANDS` on a :class:`KeyStore` (and its certificates);
    ``status()`` gives the card's
    :class:`~pacsim.firmware.state.snapshots.EncoSnapshot` for ``show enco``."""

    def __init__(self, keys: KeyStore, status: Callable[[], EncoSnapshot] = lambda: EncoSnapshot("-", 0)):
        super().__init__(keys.certificates)
        self.keys = keys
        self.status = status

    def create_key(self, key: int, type: KeyType, value: str | None = None, length: int | None = None,
                   description: str | None = None, file: str | None = None, **flags):
        if type is KeyType.RSA and "random" not in flags and value is None:
            self.keys.create_rsa(key, bits=length, file=file, description=description)
            return
        if file is not None:
            raise EncoKeyError("FILE= loads RSA keys only (TYPE=RSA)")
        self.keys.create(key, type, random="random" in flags, value=value, length=length, description=description)

    def destroy_key(self, key: int):
        self.keys.destroy(key)

    def show_key(self, key: int | None = None):
        if key is None:
            return show_enco_keys(self.keys.keys())
        return show_enco_key(self.keys.key(key))

    def show_enco(self):
        return show_enco(self.status())
