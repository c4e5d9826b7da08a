# Ref: spec/ipsec-commands.md §4 (pre-IPsec "old" SA commands); spec/show-outputs.md §16, §17
"""The pre-IPsec SA commands, as data, and their handler.

Minimums from the capitals, except ``create sa`` ENCKEY, which the manual's
example abbreviates ``enck=`` (L3881, §7.1): its minimum is ``enck`` as in
``set sa``. ``set sa`` SPI takes create's range (§7.35).

The old-SA counter displays, ``SHow SA[=sa-id] COUnter`` and ``SHow SA
USER``, are here too: they read only the old-SA module. (``show sa[=id]``
itself is with the IPsec displays, :mod:`.show_commands`, as it reads the
data plane's channel view.)

Privilege: each entry "requires a user with security officer privilege
when the router is in security mode" (``SO``); the displays need any
logged-in user (``USER``).
"""
from ..cli.grammar import Command, P
from ..cli.keywords import Keyword
from ..cli.privilege import Privilege
from ..cli.values import Choice, InterfaceName, Ipv4Address, Ipv4Mask
from ..views.alliedware.oldsa import show_old_sa_counters, show_old_sa_module_counters, show_old_sa_users
from .command_values import KEY_ID, SPI, SPEC_ID
from .module import IpsecModule
from .oldsa import OldSaDirection
from .oldsa_conversion import convert_old_sas
from .transforms import EncAlg

__all__ = ["OLDSA_COMMANDS", "OldSaCommands"]

SO, USER = Privilege.SECURITYOFFICER, Privilege.USER
_SA_ID = SPEC_ID              # 0..255
_OLD_ENCALG = Choice({"DES": EncAlg.DES, "3DES2key": EncAlg.TDES2KEY, "3DESInner": EncAlg.TDESINNER})
_DIRECTION = Choice({"IN": OldSaDirection.IN, "OUT": OldSaDirection.OUT, "BOTH": OldSaDirection.BOTH})
_MEMBER = Choice({"LOCal": True, "REMote": False})
_SA_DEBUG = Choice({"All": "all", "Pkt": "pkt", "Search": "search"})
_OLDSA_INTERFACE = InterfaceName(("eth", "ppp", "vlan", "fr", "x25t"))
_MEMBER_PARAMS = (P("MEMber", _MEMBER, required=True), P("IPaddress", Ipv4Address(), required=True),
                  P("MASK", Ipv4Mask(), required=True))

OLDSA_COMMANDS = (
    Command((P("ACTivate"), P("IPSec"), P("CONVERToldsa")), (P("SA", _SA_ID),), "convert_old_sa",
            "Convert old SAs to IPsec", "§4.1", SO),
    Command((P("ENAble"), P("IPSec"), P("OLDsa")), (P("INTerface", _OLDSA_INTERFACE, required=True),),
            "enable_oldsa", "Enable old SAs on an interface", "§4.2", SO),
    Command((P("DISable"), P("IPSec"), P("OLDsa")), (P("INTerface", _OLDSA_INTERFACE, required=True),),
            "disable_oldsa", "Disable old SAs on an interface", "§4.3", SO),
    Command((P("CREate"), P("SA", _SA_ID)),
            (P(Keyword("ENCKEY", 4), KEY_ID, required=True), P("SPI", SPI, required=True),   # §7.1: enck=
             P("ENCalg", _OLD_ENCALG), P("DIrection", _DIRECTION)), "create_sa", "Create an old SA", "§4.4", SO),
    Command((P("SET"), P("SA", _SA_ID)),
            (P("DEBUGPkttype", Choice({"Short": "short", "Full": "full"})), P("DIrection", _DIRECTION),
             P("ENCalg", _OLD_ENCALG), P("ENCKey", KEY_ID), P("SPI", SPI)), "set_sa", "Change an old SA", "§4.5", SO),
    Command((P("DESTroy"), P("SA", _SA_ID)), (), "destroy_sa", "Destroy an old SA", "§4.6", SO),
    Command((P("ADD"), P("SA", _SA_ID)), _MEMBER_PARAMS, "add_sa_member", "Add a member to an old SA", "§4.7", SO),
    Command((P("DELete"), P("SA", _SA_ID)), _MEMBER_PARAMS, "delete_sa_member", "Delete a member of an old SA",
            "§4.8", SO),
    Command((P("ENAble"), P("SA", _SA_ID)), (P("DEBug", _SA_DEBUG, required=True),), "enable_sa_debug",
            "Enable old SA debugging", "§4.9", SO),
    Command((P("DISable"), P("SA", _SA_ID)), (P("DEBug", _SA_DEBUG, required=True),), "disable_sa_debug",
            "Disable old SA debugging", "§4.10", SO),
    Command((P("SHow"), P("SA", _SA_ID, optional_value=True), P("COUnter")), (), "show_sa_counter",
            "Pre-IPsec SA counters", "show-outputs §16", USER),
    Command((P("SHow"), P("SA"), P("USER")), (), "show_sa_user", "Pre-IPsec SA user counters", "show-outputs §17",
            USER),
)


class OldSaCommands:
    """Carries out :data:`OLDSA_COMMANDS` on ``module.old_sas``."""

    def __init__(self, module: IpsecModule):
        self.module = module
        self.table = module.old_sas

    def convert_old_sa(self, sa: int | None = None):
        """``activate ipsec convertoldsa`` (:mod:`.oldsa_conversion`)."""
        return convert_old_sas(self.module, sa)

    def enable_oldsa(self, interface: str):
        self.table.enable_interface(interface, True)

    def disable_oldsa(self, interface: str):
        self.table.enable_interface(interface, False)

    def create_sa(self, sa: int, enckey: int, spi: int, **args):
        self.table.create(sa, enckey, spi, **args)

    def set_sa(self, sa: int, **args):
        self.table.set(sa, **args)

    def destroy_sa(self, sa: int):
        self.table.destroy(sa)

    def add_sa_member(self, sa: int, member: bool, ipaddress, mask):
        self.table.add_member(sa, member, ipaddress, mask)

    def delete_sa_member(self, sa: int, member: bool, ipaddress, mask):
        self.table.delete_member(sa, member, ipaddress, mask)

    def enable_sa_debug(self, sa: int, debug: str):
        self.table.set_debug(sa, frozenset({"pkt", "search"} if debug == "all" else {debug}), True)

    def disable_sa_debug(self, sa: int, debug: str):
        self.table.set_debug(sa, frozenset({"pkt", "search"} if debug == "all" else {debug}), False)

    def show_sa_counter(self, sa: int | None = None):
        """``show sa counter`` (module-wide) or ``show sa=id counter`` (one SA)."""
        if sa is None:
            return show_old_sa_module_counters(self.table.counters)
        return show_old_sa_counters(self.table.sa(sa).counters)

    def show_sa_user(self):
        """``show sa user``: the IP user (the model's only one)."""
        return show_old_sa_users([self.table.user])
