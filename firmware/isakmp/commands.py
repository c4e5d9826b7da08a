# Ref: spec/isakmp-commands.md §1-§2 (ISAKMP commands, minimum abbreviations)
"""The ISAKMP configuration commands, as data, and their handler: accepted,
checked and stored in an :class:`~.policy_config.IsakmpConfig`. The
router runs the daemon the configuration describes (its ``runtime``, see
:mod:`~pacsim.firmware.router.isakmp_gate`): ``enable``/``disable isakmp``
start and stop it after the command, ``reset isakmp policy`` deletes the
policy's SAs (R100), as ``destroy isakmp policy`` does, and ``reset
isakmp counters`` clears the daemon's
counters. Without a router (a console on a bare configuration) no daemon
runs: ``reset isakmp policy`` says so (:data:`NOT_RUNNING`) and ``reset
isakmp counters`` clears the idle counters the displays show.
``enable/disable isakmp debug`` store the expanded debug classes
(:func:`.debug.debug_classes`), and ``enable`` sends the debug lines to
the terminal of the console that ran it (``terminal()``, through the
runtime's ``debug_to``); ``enable/disable isakmp keylog`` are ours,
not the manual's: the key log (:mod:`.key_log`) for Wireshark.

Booleans are ``{ON|OFf|TRue|FAlse}`` (§0.1). ``set`` takes XAUth
``NOne`` as its syntax writes it; create ``NONE``. ENABLE/DISABLE ISAKMP
DEBUG take DEBug with an optional value (the examples write a bare
``deb``, §2.7), meaning DEFAULT.

Privilege (§0.2): every command is marked ``SO`` (Security Officer in
security mode, Manager otherwise): "Changing the ISAKMP configuration
requires Security Officer privilege" (L1024-1025) covers ``set isakmp
policy``, whose entry does not say so; the two resets, whose entries do
not mention privilege either, are taken with the IPsec resets, which do.
"""
from ..cli.grammar import Command, P
from ..cli.keywords import Keyword
from ..cli.privilege import Privilege
from ..cli.values import Boolean, Choice, CommaList, Integer, InterfaceName, IpAddress, Name, Text, Union
from .counters import IsakmpCounters
from .debug import debug_classes
from .key_log import KeyLog
from .policy_config import PEER_ANY, IsakmpConfig, IsakmpConfigError

__all__ = ["ISAKMP_COMMANDS", "IsakmpCommands", "ERRORS", "NOT_RUNNING", "ISA", "POLICY_NAME", "COUNTER_CATEGORIES"]

#: Why the resets have nothing to act on (see the module docstring).
NOT_RUNNING = "no ISAKMP daemon runs on this configuration"

ERRORS = (IsakmpConfigError,)
SO = Privilege.SECURITYOFFICER
BOOL = Boolean(("ON", "TRue"), ("OFf", "FAlse"))
POLICY_NAME = Name(24, "ISAKMP policy name")
_PEER = Union(Choice({"ANy": PEER_ANY}), IpAddress())
_KEY_ID = Integer(0, 65535)
_ID = Text(1, 128, "identity")


def _policy_params(create: bool) -> tuple:
    return (
        P("PEer", _PEER, required=create),
        P("AUTHType", Choice({"PREshared": "preshared", "RSAEncr": "rsaencr", "RSASig": "rsasig"})),
        P("DELETedelay", Integer(0, 30)), P("DHExponentlength", Integer(160, 2047)),
        P("ENCalg", Choice({"3DES2key": "3des2key", "3DESInner": "3desinner", "3DESOuter": "3desouter",
                            "DES": "des", "AES128": "aes128", "AES192": "aes192", "AES256": "aes256"})),
        P("EXPIRYKbytes", Integer(1, 1000)), P("EXPIRYSeconds", Integer(600, 31449600)),
        P("GROup", Choice({"0": 0, "1": 1, "2": 2, "5": 5, "14": 14})), P("HAShalg", Choice({"SHa": "sha", "MD5": "md5"})),
        P("HEARtbeatmode", Choice({"Both": "both", "None": "none", "Receive": "receive", "Send": "send"})),
        P("HYBRIDxauth", BOOL), P("IPVersion", Choice({"4": 4, "6": 6})), P("KEY", _KEY_ID),
        P("LOCALID", _ID), P("LOCALRsakey", _KEY_ID),
        P("MODe", Choice({"MAIn": "main", "AGGressive": "aggressive"})),
        P("MSGBACkoff", Choice({"INCREMental": "incremental", "NONE": "none"})),
        P("MSGREtrylimit", Integer(0, 1024)), P("MSGTImeout", Integer(1, 86400)), P("NATTraversal", BOOL),
        P("PHASE2xchglimit", Union(Choice({"NOne": None}), Integer(1, 1024))),
        P("POLICYFilename", Text(1, 64, "file name")), P("PREnegotiate", BOOL), P("REMOTEId", _ID),
        P("RETRYIKEattempts", Union(Choice({"CONTinuous": "continuous"}), Integer(0, 16))),
        P("SENDDeletes", BOOL), P("SENDIdalways", BOOL), P("SENDNotify", BOOL), P("SETCommitbit", BOOL),
        P("SRCInterface", InterfaceName(("eth", "ppp", "vlan", "fr", "x25t"))),
        P("XAUth", Choice({"CLient": "client", "SErver": "server", ("NONE" if create else "NOne"): "none"})),
        P("XAUTHName", Name(64, "user name")), P("XAUTHPasswd", Name(64, "password")),
        P("XAUTHType", Choice({"GEneric": "generic", "RAdius": "radius"})),
    )


_DEBUG = CommaList(Choice({"ALl": "all", "DEFault": "default", "PAcket": "packet", "PKT": "pkt",
                           "PKTRaw": "pktraw", "STAte": "state", "TRAce": "trace", "TRACEMore": "tracemore"}))
COUNTER_CATEGORIES = CommaList(Choice({"AGGressive": "aggressive", "GENeral": "general", "HEArtbeat": "heartbeat",
                              "INFo": "info", "IPSec": "ipsec", "MAIn": "main", "NETwork": "network",
                              "QUIck": "quick", "SAD": "sad", "SPD": "spd", "TRAnsaction": "transaction",
                              "XDB": "xdb"}))
ISA = P("ISAkmp")

ISAKMP_COMMANDS = (
    Command((P("CREate"), ISA, P("POLicy", POLICY_NAME)), _policy_params(True), "create_policy",
            "Create an ISAKMP policy (stored)", "§2.1", SO),
    Command((P("SET"), ISA, P("POLicy", POLICY_NAME)), _policy_params(False), "set_policy",
            "Change an ISAKMP policy (stored)", "§2.2", SO),
    Command((P("DESTroy"), ISA, P("POLicy", POLICY_NAME)), (), "destroy_policy", "Destroy an ISAKMP policy", "§2.3",
            SO),
    Command((P("RESET"), ISA, P("POLicy", POLICY_NAME)), (), "reset_policy", "Reset an ISAKMP policy", "§2.4", SO),
    Command((P("ENAble"), ISA),
            (P("LOCALRsakey", _KEY_ID), P("POLICYServerenabled", BOOL), P("POLICYFilename", Text(1, 64, "file name")),
             P("UDPPort", Integer(1, 65535))), "enable_isakmp", "Enable ISAKMP (stored)", "§2.5", SO),
    Command((P("DISable"), ISA), (), "disable_isakmp", "Disable ISAKMP", "§2.6", SO),
    Command((P("ENAble"), ISA, P("DEBug", _DEBUG, optional_value=True)), (), "enable_debug",
            "Enable ISAKMP debugging (stored)", "§2.7", SO),
    Command((P("DISable"), ISA, P(Keyword("DEBug"), _DEBUG, optional_value=True)), (), "disable_debug",
            "Disable ISAKMP debugging (stored)", "§2.7", SO),
    Command((P("ENAble"), ISA, P("KEYLog", Text(1, 255, "directory name"))), (), "enable_keylog",
            "Write IKE and ESP keys for Wireshark (ours, not the manual's)", "key_log.py", SO),
    Command((P("DISable"), ISA, P(Keyword("KEYLog"))), (), "disable_keylog", "Stop writing the key log",
            "key_log.py", SO),
    Command((P("RESET"), ISA, P("COUnters", COUNTER_CATEGORIES, optional_value=True)), (), "reset_counters",
            "Clear ISAKMP counters", "§2.8", SO),
)


class IsakmpCommands:
    """Carries out :data:`ISAKMP_COMMANDS` on an :class:`IsakmpConfig`;
    ``counters()`` returns the :class:`~.counters.IsakmpCounters` that
    ``reset isakmp counters`` clears (default: counters of its own);
    ``terminal()`` the console's terminal (``line -> None``, or None), where
    ``enable isakmp debug`` sends the debug lines."""

    def __init__(self, config: IsakmpConfig | None = None, counters=None, terminal=lambda: None):
        self.config = config if config is not None else IsakmpConfig()
        self.terminal = terminal
        own = IsakmpCounters()
        self.counters = counters or (lambda: own)

    def create_policy(self, policy: str, **args):
        self.config.create_policy(policy, **args)

    def set_policy(self, policy: str, **args):
        self.config.set_policy(policy, **args)

    def destroy_policy(self, policy: str):
        """``destroy isakmp policy`` (§2.3); a running daemon deletes the policy's SAs."""
        self.config.destroy_policy(policy)
        if self.config.runtime is not None:
            self.config.runtime.reset_policy(policy)

    def reset_policy(self, policy: str):
        """``reset isakmp policy`` (§2.4, R100): the policy must exist; its SAs are deleted."""
        self.config.policy(policy)
        if self.config.runtime is None:
            return f'Info: ISAKMP policy "{policy}" has no SAs to remove and nothing to restart: {NOT_RUNNING}.'
        self.config.runtime.reset_policy(policy)
        return None

    def enable_isakmp(self, **args):
        self.config.enable(**args)

    def disable_isakmp(self):
        self.config.enabled = False

    def enable_debug(self, debug=None):
        self.config.debug = self.config.debug | debug_classes(debug)
        if self.config.runtime is not None:
            self.config.runtime.debug_to(self.terminal())

    def disable_debug(self, debug=None):
        self.config.debug = self.config.debug - debug_classes(debug)

    def enable_keylog(self, keylog):
        """``enable isakmp keylog=DIR`` (ours: see :mod:`.key_log`); a directory that cannot be written is refused."""
        KeyLog(keylog).check()
        self.config.keylog = keylog

    def disable_keylog(self, keylog=None):
        """``disable isakmp keylog``."""
        self.config.keylog = None

    def reset_counters(self, counters=None):
        """``reset isakmp counters[=categories]`` (§2.8): clears all, or those
        categories, of the running daemon (through the router's ISAKMP gate),
        else of the idle counters the displays show (``counters()``)."""
        if self.config.runtime is not None:
            self.config.runtime.reset_counters(tuple(counters) if counters else None)
        else:
            self.counters().reset(counters)
