# Ref: spec/ipsec-commands.md §4 (pre-IPsec "old" SA commands), §5.14 (B89-B99);
#      spec/show-outputs.md §16-§17 (show sa counter, show sa user)
"""Pre-IPsec ("old") Security Associations: the configuration kept for
backward compatibility (B89).

An old SA has an id 0-255, an SPI, an ENCO encryption key, an algorithm
(DES, 3DES2KEY or 3DESINNER, B96) and a direction (IN, OUT, BOTH), and
local and remote members: base address and mask (B94). Old SA processing
is enabled per interface (B90). The rules of §4 are enforced: ids unique,
keys existing (and of the algorithm's length), members unique. The base
address of a member is stored as given and matched with its mask applied
(§7.34).

``activate ipsec convertoldsa`` turns old SAs into IPsec configuration
(:mod:`.oldsa_conversion`) and destroys them here.

**Counters** (``show sa counter``, ``show sa=id counter``, ``show sa
user``): :class:`OldSaModuleCounter`, :class:`OldSaCounter` and
:class:`OldSaUserCounter` name them once, as the manual names them and in
the figures' order; each member's docstring gives the manual's meaning and
where the model counts it, or why it stays 0. The table counts them where
the events happen: the module-wide ones in :attr:`OldSaTable.counters`, an
SA's in :attr:`OldSa.counters`, the IP user's in
:attr:`OldSaUser.counters`. No reset command is documented for them.

*The IP user.* The old router's SA module serves "user" modules; the only
one in the model is IP (``User .... IP`` in ``show sa=id``). IP attaches to
the SA module as its user when old SA processing is enabled on its first
interface and detaches when it is disabled on its last one (B90); while
attached the IP user holds every old SA (B95: all packets through such an
interface go to the SAs). This reading of the manual's user counters is
ours; the manual does not describe user objects.

*Not modelled.* Old SAs have no data path here (no address search, no
per-packet SPI lookup, no encode/decode requests) and attach no ENCO
channels (``show sa=id`` keeps the channel states ``Initial``): every
counter of those events stays 0, as its docstring says. Ids outside 0-255
only reach the table through its Python interface (the command line refuses
them first); the ``...BadIndex`` counters count them there.
"""
import enum
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .config_errors import AlreadyExists, InvalidConfiguration, NotFound
from .transforms import EncAlg

__all__ = ["OldSaDirection", "OldSaMember", "OldSa", "OldSaTable", "OldSaUser",
           "OLD_SA_IDS", "OldSaModuleCounter", "OldSaCounter", "OldSaUserCounter"]

#: Valid old SA ids ("sa-id is a number from 0 to 255").
OLD_SA_IDS = range(256)

# Why a counter stays 0 (see the module docstring).
_NO_DATAPATH = "Stays 0: old SAs have no data path in the model."
_NO_ENCO = "Stays 0: old SAs attach no ENCO channels in the model."
_API_ONLY = "Counted for ids outside 0-255 given to the table's Python interface (the command line refuses them)."


class _Counter(enum.Enum):
    """A counter; the member's name is the manual's name of it, its docstring
    the manual's meaning and where the model counts it."""

    def __new__(cls, doc: str):
        member = object.__new__(cls)
        member._value_ = len(cls.__members__)
        member.__doc__ = doc
        return member


class OldSaModuleCounter(_Counter):
    """``show sa counter``: the module-wide ``SA Counters`` (Figure 48-46, Table 48-42), in figure order."""
    addrSearchBadIndex = "Address searches attempted with an invalid user. " + _NO_DATAPATH
    addrSearchCacheHit = "Address searches a cache hit resolved. " + _NO_DATAPATH
    addrSearchNotExist = "Address searches attempted with an unused user. " + _NO_DATAPATH
    addUserNotExist = ("Attempts to add an SA to a user that did not exist. Stays 0: SAs are added to the IP "
                       "user only while it is attached.")
    attachBadBPMode = ("Attach requests from user modules with a bad BP mode. Stays 0: the manual does not "
                       "define BP modes; the IP user's attach has none.")
    attachGood = ("Successful attaches from user modules. Counted when old SA processing is enabled on the "
                  "first interface (IP attaches).")
    attachUserCreateFail = ("Attach requests that failed because the user object could not be created. Stays 0: "
                            "the IP user's slot always exists.")
    callBackBadIndex = "User call backs that failed due to an invalid user id. " + _NO_DATAPATH
    callBackNotExist = "User call backs that failed due to an unused user. " + _NO_DATAPATH
    confBadBPMode = ("Configure requests from user modules with a bad BP mode. Stays 0: no user module sends "
                     "configure requests in the model.")
    confUserNotExist = ("Configure requests from user modules for an invalid user. Stays 0: no user module "
                        "sends configure requests in the model.")
    decodeUserNotExist = "Decode requests from user modules for an invalid user. " + _NO_DATAPATH
    deletUserNotExist = ("Attempts to delete an SA from a user that did not exist. Stays 0: SAs are deleted "
                         "from the IP user only while it is attached.")
    detachGood = ("Successful detaches by user modules. Counted when old SA processing is disabled on its "
                  "last interface (IP detaches).")
    detachUserNotExist = ("Detaches that failed because the user did not exist. Counted by ``disable ipsec "
                          "oldsa`` while old SA processing is enabled on no interface.")
    encodeUserNotExist = "Encode requests from user modules for an invalid user. " + _NO_DATAPATH
    hasAddrDUserNotExist = "Has-address searches that failed due to an invalid user. " + _NO_DATAPATH
    ipAddAlreadyExists = "Add IP member requests that failed because the member existed. ``add sa member``."
    ipAddGood = "Successful IP member adds. ``add sa member``."
    ipAddUnknownClass = ("Add IP member requests that failed due to an unknown class. Stays 0: every member "
                         "is an IP member (the command line takes only LOCal and REMote).")
    ipDeleteGood = "Successful IP member deletes. ``delete sa member``."
    ipDeleteNotFound = ("Delete IP member requests that failed because the member did not exist. ``delete sa "
                        "member``.")
    processUserDecodeCAFailed = "User decode requests failed because an ENCO action failed. " + _NO_DATAPATH
    processUserDecodeNoAddr = "User decode requests failed because the address search failed. " + _NO_DATAPATH
    processUserDecodeNoSpi = "User decode requests failed because no SPI existed. " + _NO_DATAPATH
    processUserEncodeCAFailed = "User encode requests failed because an ENCO action failed. " + _NO_DATAPATH
    processUserEncodeGood = "Successful user encode requests. " + _NO_DATAPATH
    processUserEncodeNoAddr = "User encode requests failed because the address search failed. " + _NO_DATAPATH
    secAssAddBadIndex = ("Adds to an SA that failed because the SA was invalid (the manual: \"add an SA to a "
                         "user\"; read here as the SA lookup of ``add sa member``, whose outcome the ip... "
                         "counters count). " + _API_ONLY)
    secAssAddNotExist = "Adds to an SA that failed because the SA did not exist: ``add sa member``."
    secAssActBadIndex = "ENCO actions that failed because the SA was invalid. " + _NO_ENCO
    secAssActNotExist = "ENCO actions that failed because the SA did not exist. " + _NO_ENCO
    secAssEncoHandBadIndex = "ENCO actions returned with an invalid SA. " + _NO_ENCO
    secAssEncoHandNotExist = "ENCO actions returned with an unused SA. " + _NO_ENCO
    secAssCreateAlreadyExist = "Create SA operations that failed because the SA existed. ``create sa``."
    secAssDeleteBadIndex = ("Delete operations on an SA that failed because the SA was invalid (read as the SA "
                            "lookup of ``delete sa member``). " + _API_ONLY)
    secAssDeleteNotExist = ("Delete operations on an SA that failed because the SA did not exist: ``delete sa "
                            "member``.")
    secAssFindSpiFail = "Find SPI operations that failed (the inbound packet lookup). " + _NO_DATAPATH
    secAssDestroyBadIndex = "Destroy SA operations that failed because the SA was invalid. " + _API_ONLY
    secAssDestroyNotExist = "Destroy SA operations that failed because the SA did not exist. ``destroy sa``."
    secAssDestroyGood = "Successful destroy SA operations. ``destroy sa``."
    secAssFindSpiGood = "Successful find SPI operations (the inbound packet lookup). " + _NO_DATAPATH
    secAssGetConfigBadIndex = "Get configuration operations that failed because the SA was invalid. " + _API_ONLY
    secAssGetConfigNotExist = ("Get configuration operations that failed because the SA did not exist: ``show "
                               "sa=id``.")
    secAssModifyBadIndex = "Modify SA operations that failed because the SA was invalid. " + _API_ONLY
    secAssModifyNotExist = ("Modify SA operations that failed because the SA did not exist: ``set sa``, "
                            "``enable/disable sa debug``.")
    userAddSecAssBadIndex = ("Add SA operations (to a user) that failed because the SA was invalid. Stays 0: "
                             "the IP user is given only existing SAs.")
    userAddSecAssNotExist = ("Add SA operations (to a user) that failed because the SA did not exist. Stays 0: "
                             "the IP user is given only existing SAs.")
    userCreateGood = "Successful create user operations. Counted with attachGood."
    userCreateNoSlot = "Create user operations that failed for want of a user slot. Stays 0: IP is the only user."
    userCreateUserExists = ("Create user operations that failed because the user existed. Stays 0: IP attaches "
                            "only when it has no user object.")
    userDelSecAssBadIndex = ("Delete SA operations (from a user) that failed because the SA was invalid. Stays "
                             "0: the IP user deletes only SAs it holds.")
    userDelSecAssNotExist = ("Delete SA operations (from a user) that failed because the SA did not exist. "
                             "Stays 0: the IP user deletes only SAs it holds.")
    userDestroyBadIndex = "Destroy user operations that failed (invalid). Stays 0: the IP user's slot is fixed."
    userDestroyGood = "Successful destroy user operations. Counted with detachGood."
    userDestroyNotExist = ("Destroy user operations that failed (did not exist). Stays 0: a detach without a "
                           "user stops at detachUserNotExist.")
    userModifyBadIndex = ("Modify user operations that failed (the manual's definitions of this and "
                          "userModifyNotExist look swapped). Stays 0: the IP user's slot is fixed.")
    userModifyNotExist = ("Modify user operations that failed (see userModifyBadIndex). Stays 0: the IP user "
                          "is modified only while attached.")
    userModifyGood = ("Successful modify user operations. Counted when old SA processing is enabled or disabled "
                      "on an interface while the IP user stays attached (its interfaces change).")


class OldSaCounter(_Counter):
    """``show sa=id counter``: one SA's counters (Figure 48-47, Table 48-43), in figure order."""
    addAlreadyExist = "Add member requests that failed because the member existed. ``add sa member``."
    addGood = "Successful add member requests. ``add sa member``."
    addUserNotExist = ("Requests to add a user to the SA that failed because the user did not exist. Stays 0: "
                       "the SA is given to the IP user only while it is attached.")
    deleteAlreadyIndex = ("Delete member requests that failed because the member did not exist. ``delete sa "
                          "member``.")
    deleteGood = "Successful delete member requests. ``delete sa member``."
    getConfigGood = "Successful get configuration operations: ``show sa=id``, ``show sa=all``."
    encoCreateDAttachDead = "Dead events while attaching a decoding channel to ENCO. " + _NO_ENCO
    encoCreateDAttachFail = "Failed attaches of a decoding channel to ENCO. " + _NO_ENCO
    encoCreateDAttachGood = "Successful attaches of a decoding channel to ENCO. " + _NO_ENCO
    encoCreateEAttachDead = "Dead events while attaching an encoding channel to ENCO. " + _NO_ENCO
    encoCreateEAttachFail = "Failed attaches of an encoding channel to ENCO. " + _NO_ENCO
    encoCreateEAttachGood = "Successful attaches of an encoding channel to ENCO. " + _NO_ENCO
    encoModifyDReconfDead = "Dead events while modifying a decoding channel. " + _NO_ENCO
    encoModifyDReconfFail = "Failed modifications of a decoding channel. " + _NO_ENCO
    encoModifyDReconfGood = "Successful modifications of a decoding channel. " + _NO_ENCO
    encoModifyEReconfDead = "Dead events while modifying an encoding channel. " + _NO_ENCO
    encoModifyEReconfFail = "Failed modifications of an encoding channel. " + _NO_ENCO
    encoModifyEReconfGood = "Successful modifications of an encoding channel. " + _NO_ENCO
    encoActDecode = "Decode ENCO actions sent. " + _NO_ENCO
    encoActDecodeNotAttached = "Decode ENCO actions not sent because the SA was not attached. " + _NO_DATAPATH
    encoActEncode = "Encode ENCO actions sent. " + _NO_ENCO
    encoActEncodeNotAttached = "Encode ENCO actions not sent because the SA was not attached. " + _NO_DATAPATH
    encoActUnknownType = "Unknown ENCO actions sent. " + _NO_ENCO
    encoHandUnknownEvent = "Unknown actions returned from ENCO. " + _NO_ENCO
    encoHandEncodeConfigured = "Good encode channel configure ENCO actions. " + _NO_ENCO
    encoHandEncodeConfigFail = "Bad encode channel attach (configure) ENCO actions. " + _NO_ENCO
    encoHandEncodeChanAttached = "Good encode channel attach ENCO actions. " + _NO_ENCO
    encoHandEncodeDetached = "Good encode channel detach ENCO actions. " + _NO_ENCO
    encoHandEncoded = "Good encode ENCO actions. " + _NO_ENCO
    encoHandEncodeFail = "Bad encode ENCO actions. " + _NO_ENCO
    encoHandDecodeConfigured = "Good decode channel configure ENCO actions. " + _NO_ENCO
    encoHandDecodeConfigFail = "Bad decode channel attach (configure) ENCO actions. " + _NO_ENCO
    encoHandEncodeDiscard = "Destroy encode ENCO actions. " + _NO_ENCO
    encoHandDecodeDiscard = "Destroy decode ENCO actions. " + _NO_ENCO
    encoHandDecodeChanAttached = "Good decode channel attach ENCO actions. " + _NO_ENCO
    encoHandDecodeDetached = "Good decode channel detach ENCO actions. " + _NO_ENCO
    encoHandDecoded = "Good decode ENCO actions. " + _NO_ENCO
    encoHandDecodeFail = "Bad decode ENCO actions. " + _NO_ENCO


class OldSaUserCounter(_Counter):
    """``show sa user``: a user object's counters (Figure 48-48, Table 48-44), in figure order."""
    addGood = "Good add user requests. Counted when IP attaches (old SA processing enabled on a first interface)."
    addrSearchFail = "Unsuccessful address searches. " + _NO_DATAPATH
    addrSearchGood = "Successful address searches. " + _NO_DATAPATH
    addSecAssNotExist = ("Requests to add an SA to the user that failed because the SA did not exist. Stays 0: "
                         "the IP user is given only existing SAs.")
    callBackBlock = "User packets that were blocked. " + _NO_DATAPATH
    callBackDecode = "Packets received to decode. " + _NO_DATAPATH
    callBackDecoded = "Packets successfully decoded. " + _NO_DATAPATH
    callBackDecodeFail = "Packets unsuccessfully decoded. " + _NO_DATAPATH
    callBackEncode = "Packets received to encode. " + _NO_DATAPATH
    callBackEncoded = "Packets successfully encoded. " + _NO_DATAPATH
    callBackEncodeFail = "Packets unsuccessfully encoded. " + _NO_DATAPATH
    callBackIndFailed = "User operations that failed (call back indications). " + _NO_DATAPATH
    callBackUnknownType = "Unknown user call back events. " + _NO_DATAPATH
    decodeNoAddress = "Decode packet requests from the user with no address. " + _NO_DATAPATH
    decodeNoBuffer = "Decode packet requests from the user with no buffer. " + _NO_DATAPATH
    decodeReceiveGood = "Good decode packet requests from the user. " + _NO_DATAPATH
    deleteGood = ("Good delete (user) requests. Counted when IP detaches (old SA processing disabled on its last "
                  "interface).")
    deleteSecAssNotExist = ("Requests to delete an SA from the user that failed because the SA did not exist. "
                            "Stays 0: the IP user deletes only SAs it holds.")
    encodeNoAddress = "Encode packet requests from the user with no address. " + _NO_DATAPATH
    encodeNoBuffer = "Encode packet requests from the user with no buffer. " + _NO_DATAPATH
    hasAddrDNoAddress = "Has-address operations that failed. " + _NO_DATAPATH
    addSecAssAlreadyPresent = ("Add SA requests that failed because the SA was present. Stays 0: each SA is "
                               "given to the IP user once.")
    addSecAssGood = ("Good add SA requests from the user. Counted per SA when IP attaches, and by ``create sa`` "
                     "while it is attached.")
    addSecAssNotExistSecAss = ("Add SA requests that failed because the SA did not exist. Stays 0: the IP user "
                               "is given only existing SAs.")
    delSecAssAlreadyPresent = ("Delete SA requests that failed because the SA was not present. Stays 0: the IP "
                               "user deletes only SAs it holds.")
    delSecAssGood = "Good delete SA requests from the user. Counted by ``destroy sa`` while IP is attached."
    encodeReceiveGood = "Good encode packet requests from the user. " + _NO_DATAPATH


class OldSaDirection(enum.Enum):
    IN = "In"
    OUT = "Out"
    BOTH = "Both"


@dataclass(frozen=True)
class OldSaMember:
    """A member: base address and mask; ``local`` or remote."""
    local: bool
    address: ipaddress.IPv4Address
    mask: ipaddress.IPv4Address

    def contains(self, addr: ipaddress.IPv4Address) -> bool:
        m = int(self.mask)
        return int(addr) & m == int(self.address) & m


@dataclass
class OldSa:
    """One old SA (see the module docstring)."""
    id: int
    spi: int
    enckey: int
    encalg: EncAlg = EncAlg.DES
    direction: OldSaDirection = OldSaDirection.BOTH
    members: list[OldSaMember] = field(default_factory=list)
    debug: frozenset[str] = frozenset()
    debugpkttype: str | None = None
    #: ``show sa=id counter``; kept by ``set sa`` (the same SA), new with ``create sa``.
    counters: dict[OldSaCounter, int] = field(default_factory=lambda: dict.fromkeys(OldSaCounter, 0),
                                              compare=False, repr=False)

    def local_members(self) -> list[OldSaMember]:
        return [m for m in self.members if m.local]

    def remote_members(self) -> list[OldSaMember]:
        return [m for m in self.members if not m.local]


@dataclass
class OldSaUser:
    """A user module of the old-SA module and its ``show sa user`` counters.
    The model's only user is IP, in user slot 1 (see the module docstring);
    ``attached`` while old SA processing is enabled on an interface, ``sas``
    the SA ids it then holds."""
    module: str = "IP"
    index: int = 1
    attached: bool = False
    sas: set[int] = field(default_factory=set)
    counters: dict[OldSaUserCounter, int] = field(default_factory=lambda: dict.fromkeys(OldSaUserCounter, 0))

    def count(self, counter: OldSaUserCounter) -> None:
        self.counters[counter] += 1


class OldSaTable:
    """The old SAs, the interfaces old SA processing is enabled on, the IP
    user and the counters (see the module docstring).
    ``key_length(id)`` gives an ENCO key's length or None;
    ``interface_exists(name)`` whether an IP interface exists."""

    def __init__(self, key_length: Callable[[int], int | None] = lambda key_id: None,
                 interface_exists: Callable[[str], bool] = lambda name: True):
        self.key_length = key_length
        self.interface_exists = interface_exists
        self.sas: dict[int, OldSa] = {}
        self.interfaces: set[str] = set()
        self.user = OldSaUser()
        #: ``show sa counter``.
        self.counters: dict[OldSaModuleCounter, int] = dict.fromkeys(OldSaModuleCounter, 0)

    def count(self, counter: OldSaModuleCounter) -> None:
        self.counters[counter] += 1

    def sa(self, sa_id: int) -> OldSa:
        """The SA ``sa_id`` (not counted: for displays and checks)."""
        try:
            return self.sas[sa_id]
        except KeyError:
            raise NotFound(f"SA {sa_id} does not exist") from None

    def _lookup(self, sa_id: int, bad_index: OldSaModuleCounter, not_exist: OldSaModuleCounter) -> OldSa:
        """The SA an operation acts on; an invalid or unused id is counted
        under the operation's ``bad_index`` or ``not_exist`` counter."""
        if sa_id not in OLD_SA_IDS:
            self.count(bad_index)
            raise InvalidConfiguration(f"SA {sa_id} is not a valid SA id: expected 0-255")
        if sa_id not in self.sas:
            self.count(not_exist)
            raise NotFound(f"SA {sa_id} does not exist")
        return self.sas[sa_id]

    def get_config(self, sa: int) -> OldSa:
        """The SA's configuration for ``show sa=id`` (counted: getConfigGood, or the module's
        secAssGetConfig... failure)."""
        old = self._lookup(sa, OldSaModuleCounter.secAssGetConfigBadIndex, OldSaModuleCounter.secAssGetConfigNotExist)
        old.counters[OldSaCounter.getConfigGood] += 1
        return old

    def _check_key(self, sa_id: int, key_id: int, alg: EncAlg) -> None:
        length = self.key_length(key_id)
        if length is None:
            raise InvalidConfiguration(f"SA {sa_id}: ENCKEY={key_id}: ENCO key {key_id} does not exist")
        if length != alg.key_bytes:
            raise InvalidConfiguration(f"SA {sa_id}: ENCO key {key_id} is {length} bytes long, {alg.value} needs "
                                       f"{alg.key_bytes}")

    def create(self, sa: int, enckey: int, spi: int, encalg: EncAlg = EncAlg.DES,
               direction: OldSaDirection = OldSaDirection.BOTH) -> OldSa:
        """``create sa`` (§4.4); an attached IP user is given the new SA."""
        if sa not in OLD_SA_IDS:
            raise InvalidConfiguration(f"SA {sa} is not a valid SA id: expected 0-255")
        if sa in self.sas:
            self.count(OldSaModuleCounter.secAssCreateAlreadyExist)
            raise AlreadyExists(f"SA {sa} already exists")
        self._check_key(sa, enckey, encalg)
        self.sas[sa] = OldSa(sa, spi, enckey, encalg, direction)
        if self.user.attached:
            self._give_user(sa)
        return self.sas[sa]

    def set(self, sa: int, **params) -> OldSa:
        """``set sa`` (§4.5): debugpkttype, direction, encalg, enckey, spi."""
        old = self._lookup(sa, OldSaModuleCounter.secAssModifyBadIndex, OldSaModuleCounter.secAssModifyNotExist)
        new = replace(old, **params)
        if "enckey" in params or "encalg" in params:
            self._check_key(sa, new.enckey, new.encalg)
        self.sas[sa] = new
        return new

    def destroy(self, sa: int) -> OldSa:
        """``destroy sa`` (§4.6); the IP user lets go of it first."""
        old = self._lookup(sa, OldSaModuleCounter.secAssDestroyBadIndex, OldSaModuleCounter.secAssDestroyNotExist)
        if sa in self.user.sas:
            self.user.sas.discard(sa)
            self.user.count(OldSaUserCounter.delSecAssGood)
        del self.sas[sa]
        self.count(OldSaModuleCounter.secAssDestroyGood)
        return old

    def add_member(self, sa: int, local: bool, address: ipaddress.IPv4Address, mask: ipaddress.IPv4Address) -> None:
        """``add sa member`` (§4.7)."""
        old = self._lookup(sa, OldSaModuleCounter.secAssAddBadIndex, OldSaModuleCounter.secAssAddNotExist)
        member = OldSaMember(local, address, mask)
        if member in old.members:
            self.count(OldSaModuleCounter.ipAddAlreadyExists)
            old.counters[OldSaCounter.addAlreadyExist] += 1
            raise AlreadyExists(f"SA {sa} already has the {'local' if local else 'remote'} member {address} "
                                f"mask {mask}")
        old.members.append(member)
        self.count(OldSaModuleCounter.ipAddGood)
        old.counters[OldSaCounter.addGood] += 1

    def delete_member(self, sa: int, local: bool, address: ipaddress.IPv4Address,
                      mask: ipaddress.IPv4Address) -> None:
        """``delete sa member`` (§4.8)."""
        old = self._lookup(sa, OldSaModuleCounter.secAssDeleteBadIndex, OldSaModuleCounter.secAssDeleteNotExist)
        member = OldSaMember(local, address, mask)
        if member not in old.members:
            self.count(OldSaModuleCounter.ipDeleteNotFound)
            old.counters[OldSaCounter.deleteAlreadyIndex] += 1
            raise NotFound(f"SA {sa} has no {'local' if local else 'remote'} member {address} mask {mask}")
        old.members.remove(member)
        self.count(OldSaModuleCounter.ipDeleteGood)
        old.counters[OldSaCounter.deleteGood] += 1

    def set_debug(self, sa: int, options: frozenset[str], enable: bool) -> None:
        """``enable/disable sa debug`` (§4.9, §4.10)."""
        old = self._lookup(sa, OldSaModuleCounter.secAssModifyBadIndex, OldSaModuleCounter.secAssModifyNotExist)
        old.debug = old.debug | options if enable else old.debug - options

    def enable_interface(self, interface: str, enable: bool) -> None:
        """``enable/disable ipsec oldsa`` (§4.2, §4.3): IP attaches as the
        module's user with its first interface, detaches with its last."""
        if not self.interface_exists(interface):
            raise InvalidConfiguration(f"interface {interface} does not exist (it must be assigned to IP)")
        if enable:
            if interface in self.interfaces:
                return
            self.interfaces.add(interface)
            if self.user.attached:
                self.count(OldSaModuleCounter.userModifyGood)
            else:
                self._attach_user()
        elif not self.user.attached:
            self.count(OldSaModuleCounter.detachUserNotExist)
        elif interface in self.interfaces:
            self.interfaces.discard(interface)
            if self.interfaces:
                self.count(OldSaModuleCounter.userModifyGood)
            else:
                self._detach_user()

    def _attach_user(self) -> None:
        self.count(OldSaModuleCounter.attachGood)
        self.count(OldSaModuleCounter.userCreateGood)
        self.user.attached = True
        self.user.count(OldSaUserCounter.addGood)
        for sa_id in sorted(self.sas):
            self._give_user(sa_id)

    def _give_user(self, sa_id: int) -> None:
        self.user.sas.add(sa_id)
        self.user.count(OldSaUserCounter.addSecAssGood)

    def _detach_user(self) -> None:
        self.count(OldSaModuleCounter.detachGood)
        self.count(OldSaModuleCounter.userDestroyGood)
        self.user.count(OldSaUserCounter.deleteGood)
        self.user.attached = False
        self.user.sas.clear()

    def uses_key(self, key_id: int) -> str | None:
        """How the old SAs use ENCO key ``key_id`` (for the key store)."""
        users = [str(s.id) for s in self.sas.values() if s.enckey == key_id]
        return f"SA {', '.join(users)}" if users else None
