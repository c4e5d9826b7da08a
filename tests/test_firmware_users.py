"""Users and the Security Officer privilege rule (spec/ipsec-commands.md §0.2,
§6.0, §6.2; spec/isakmp-commands.md §0.2, R80): the user database and its
password hashes, the user and system security commands and their
abbreviations, login and logoff, the privilege each command table declares,
refusals in security mode and their counters, and the §6.0 preamble."""
import hmac

import pytest

from pacsim.firmware.cli import (SUCCESS, AmbiguousAbbreviation, BadValue, CommandFailed, MissingParameter,
                                 NotPermitted, OutOfRange, Privilege)
from pacsim.firmware.console import standalone_console
from pacsim.firmware.enco.commands import ENCO_COMMANDS
from pacsim.firmware.ipsec.commands import IPSEC_COMMANDS
from pacsim.firmware.ipsec.oldsa_commands import OLDSA_COMMANDS
from pacsim.firmware.ipsec.show_commands import IPSEC_SHOW_COMMANDS
from pacsim.firmware.isakmp.commands import ISAKMP_COMMANDS
from pacsim.firmware.isakmp.xauth_commands import XAUTH_COMMANDS
from pacsim.firmware.users import (USER_COMMANDS, LockoutRefused, PasswordHash, UserDatabase, UserExists,
                                   UserNotFound)
from pacsim.firmware.users.database import DEFAULT_SECUREDELAY
from pacsim.sim.network import VirtualClock, model_router

from router_support import run

SO, MANAGER, USER = Privilege.SECURITYOFFICER, Privilege.MANAGER, Privilege.USER


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def console(clock=None, **options):
    return standalone_console(clock=clock or (lambda: 0.0), random_bytes=lambda n: bytes(range(n)), **options)


def secure(c, password="your-password"):
    """The §6.0 preamble: a security officer, security mode, its login."""
    c.execute(f"add user=secoff password={password} priv=securityofficer")
    c.execute("enable system security")
    c.execute(f"login secoff password={password}")
    return c


# -- the database and its password hashes ---------------------------------------------------------------

def test_passwords_are_salted_hashes_never_clear_text():
    db = UserDatabase()
    user = db.add("remote", "friend")
    manager = db.user("manager")
    assert user.password.salt != manager.password.salt and user.password.digest != manager.password.digest
    assert len(user.password.salt) == 16 and len(user.password.digest) == 32
    assert user.password.matches("friend") and not user.password.matches("Friend")
    assert not user.password.matches("friend ") and not user.password.matches("")
    for text in (repr(user), repr(user.password), repr(db.users())):
        assert "friend" not in text and user.password.digest.hex() not in text
    assert all("friend" not in repr(v) for v in vars(user).values())
    again = PasswordHash.of("friend", user.password.salt, user.password.iterations)
    assert again == user.password                             # PBKDF2 is deterministic for a salt


def test_passwords_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: (calls.append((a, b)), real(a, b))[1])
    db = UserDatabase()
    assert db.authenticate("manager", "friend") is db.user("manager")
    assert db.authenticate("manager", "enemy") is None
    assert db.authenticate("nobody", "friend") is None        # an unknown name costs a hash and a compare too
    assert len(calls) == 3


def test_xauth_lookup_ignores_the_login_flag():
    """R80: XAUTHTYPE=GENERIC authenticates against the UAF; LOGIN only governs the console."""
    db = UserDatabase()
    remote = db.add("remote", "friend")
    assert remote.privilege is USER and remote.login is False and remote.telnet is False
    assert db.authenticate("remote", "friend") is remote and db.authenticate("REMOTE", "friend") is remote
    assert (remote.logins, remote.fails) == (0, 0)            # the look-up counts nothing


def test_user_names_match_without_case_and_are_unique():
    db = UserDatabase()
    db.add("SecOff", "pw", SO)
    assert db.user("secoff").name == "SecOff"
    with pytest.raises(UserExists):
        db.add("secoff", "other")
    with pytest.raises(UserNotFound):
        db.user("nobody")
    assert db.user("SECOFF").login is True                     # LOGIN defaults to YES for a security officer


def test_the_default_manager():
    db = UserDatabase()
    [manager] = db.users()
    assert (manager.name, manager.privilege, manager.login, manager.telnet) == ("manager", MANAGER, True, True)
    assert db.authenticate("manager", "friend") is manager
    assert UserDatabase(default_manager=False).users() == []
    assert db.secure_delay == DEFAULT_SECUREDELAY == 60 and not db.security_mode


def test_lockout_rules():
    db = UserDatabase()
    with pytest.raises(LockoutRefused, match="no user with Manager or Security Officer privilege"):
        db.delete("manager")
    with pytest.raises(LockoutRefused):
        db.set("manager", login=False)
    with pytest.raises(LockoutRefused, match="cannot be enabled"):
        db.enable_security()
    db.add("secoff", "pw", SO, login=False)
    with pytest.raises(LockoutRefused, match="cannot be enabled"):
        db.enable_security()                                   # a security officer who cannot log in is no use
    db.set("secoff", login=True)
    db.enable_security()
    db.delete("manager")
    for change in (lambda: db.delete("secoff"), lambda: db.set("secoff", privilege=MANAGER),
                   lambda: db.set("secoff", login=False)):
        with pytest.raises(LockoutRefused, match="no Security Officer who can log in"):
            change()
    db.add("second", "pw", SO)
    db.delete("secoff")                                        # another security officer remains
    assert [u.name for u in db.users()] == ["second"]
    db.disable_security()
    db.add("boss", "pw", MANAGER)
    db.set("second", privilege=USER)                           # out of security mode a manager is enough


# -- the commands: syntax and abbreviations -------------------------------------------------------------

def test_manual_abbreviations_parse():
    c = console()
    for line, args in (
            ("add user=secoff pass=secoff priv=sec login=yes telnet=yes",
             dict(user="secoff", password="secoff", privilege=SO, login=True, telnet=True)),
            ("add user=secoff password=your-password priv=securityofficer",
             dict(user="secoff", password="your-password", privilege=SO)),
            ("add user=remote password=friend", dict(user="remote", password="friend")),
            ("ADD USER=boss PASSW=x PRIV=MAN LOGIN=off TELNET=true DESC=\"the boss\"",
             dict(user="boss", password="x", privilege=MANAGER, login=False, telnet=True, description="the boss")),
            ("add user=u pass=x privilege=user", dict(user="u", password="x", privilege=USER)),
            ("set user securedelay=600", dict(user=None, securedelay=600)),
            ("delete user=manager", dict(user="manager")),
            ("del user=manager", dict(user="manager")),
            ("login secoff", dict(user="secoff")),
            ("login secoff pass=pw", dict(user="secoff", password="pw")),
            ("login user=secoff password=pw", dict(user="secoff", password="pw")),
            ("ena sys sec", {}), ("dis sys sec", {}), ("sh sys", {}), ("sh user", dict(user=None))):
        assert c.cli.parse(line).args == args, line
    with pytest.raises(BadValue, match='too short for SECurityofficer: write at least "sec"'):
        c.cli.parse("add user=x pass=y priv=s")
    with pytest.raises(AmbiguousAbbreviation):
        c.cli.parse("add user=x p=y")                          # PASSword or PRIVilege
    with pytest.raises(BadValue):
        c.cli.parse("add user=x pass=y priv=admin")
    with pytest.raises(OutOfRange):
        c.cli.parse("set user securedelay=5")
    with pytest.raises(MissingParameter):
        c.cli.parse("add user=x priv=sec")                    # PASSword is required
    with pytest.raises(MissingParameter):
        c.cli.parse("login")


def test_add_user_prints_the_manuals_entry():
    """L1657-1664, with our Login: field after Telnet:."""
    out = console().execute("add user=secoff password=your-password priv=securityofficer")
    assert out.splitlines() == [
        "User Authentication  Database",
        "-" * 60,
        "Username: secoff ()",
        "Status: Enabled Privelige: Sec Off Telnet: No Login: Yes",
        "Logins: 0 Fails: 0 Sent: 0 Rcvd: 0",
        "-" * 60]


def test_set_and_show_user():
    c = console()
    c.execute("add user=remote password=friend")
    out = c.execute('set user=remote priv=manager login=yes desc="XAUTH peer"')
    assert "Username: remote (XAUTH peer)" in out and "Privelige: Manager Telnet: No Login: Yes" in out
    c.execute("set user=remote password=enemy")
    assert c.users.authenticate("remote", "enemy") and not c.users.authenticate("remote", "friend")
    shown = c.execute("show user")
    assert shown.count("Username:") == 2 and shown.index("manager (Manager Account)") < shown.index("remote")
    assert c.execute("show user=REMOTE").count("Username:") == 1
    assert c.execute("set user securedelay=600") == SUCCESS and c.users.secure_delay == 600
    for line, error in (("set user", MissingParameter), ("set user=remote", MissingParameter),
                        ("set user=remote securedelay=100", CommandFailed), ("set user priv=user", CommandFailed),
                        ("show user=nobody", CommandFailed), ("delete user=nobody", CommandFailed),
                        ("add user=Remote password=x", CommandFailed)):
        with pytest.raises(error):
            c.execute(line)


def test_enable_security_needs_a_security_officer():
    c = console()
    with pytest.raises(CommandFailed, match="no user with Security Officer privilege"):
        c.execute("enable system security")
    assert not c.users.security_mode


# -- login, logoff and the prompt -----------------------------------------------------------------------

def test_login_logoff_and_prompt():
    c = console()
    assert c.prompt("r1") == "Manager r1> " and c.prompt() == "Manager> "
    c.execute("add user=secoff password=pw priv=sec")
    c.execute("add user=op password=pw login=yes")
    assert c.execute("login SECOFF password=pw") == "Info: User secoff logged in with Security Officer privilege."
    assert c.prompt("r1") == "SecOff r1> "
    assert c.execute("logoff") == "Info: User secoff logged off."
    assert c.prompt("r1") == "login: " and c.session.user is None
    c.execute("login op pass=pw")
    assert c.prompt("r1") == "r1> "
    assert c.users.user("secoff").logins == 1 and c.users.user("op").logins == 1
    assert "Logins: 1 Fails: 0" in c.execute("show user=op")


def test_wrong_password_and_refused_logins_change_nothing():
    c = console()
    c.execute("add user=secoff password=pw priv=sec")
    c.execute("add user=remote password=friend")               # a plain user: LOGIN=NO by default
    for line, message in (("login secoff password=PW", "Login incorrect"),
                          ("login nobody password=pw", "Login incorrect"),
                          ("login remote password=wrong", "Login incorrect"),
                          ("login remote password=friend", "may not log in")):
        with pytest.raises(CommandFailed, match=message):
            c.execute(line)
        assert c.session.user.name == "manager"                # still logged in as before
    assert c.users.user("secoff").fails == 1 and c.users.user("remote").fails == 2
    assert c.session.counters["loginFail"] == 4 and c.session.counters["loginGood"] == 0
    with pytest.raises(MissingParameter, match="cannot answer the Password: prompt"):
        c.execute("login secoff")
    assert "Login Failures ....................... 4" in c.execute("show system")


def test_interactive_login_asks_for_the_password():
    prompts = []
    c = console(ask_password=lambda prompt: (prompts.append(prompt), "pw")[1])
    c.execute("add user=secoff password=pw priv=sec")
    c.execute("login secoff")
    assert prompts == ["Password: "] and c.session.user.name == "secoff"


def test_logged_off_console_runs_only_login():
    c = console()
    c.execute("logoff")
    for line in ("show ipsec", "create enco key=1 type=general random", "logoff", "show system"):
        with pytest.raises(NotPermitted, match="needs a logged-in user"):
            c.execute(line)
    assert c.execute("show ?").startswith("Options after SHOW")    # help is never refused
    assert c.session.counters["refusedNotLoggedIn"] == 4 and c.keys.keys() == []
    c.execute("login manager password=friend")
    assert "  No User Logged In .................. 4" in c.execute("show system")


# -- the rule --------------------------------------------------------------------------------------------

SECURITY_TABLES = {"ipsec": IPSEC_COMMANDS, "ipsec show": IPSEC_SHOW_COMMANDS, "old sa": OLDSA_COMMANDS,
                   "isakmp": ISAKMP_COMMANDS, "enco": ENCO_COMMANDS, "user": USER_COMMANDS,
                   "xauth": XAUTH_COMMANDS}


def test_every_configuration_command_is_marked():
    """Every command of the IPsec, ISAKMP, ENCO and user tables that is not a
    display needs a Security Officer in security mode; displays any user."""
    seen = 0
    for name, table in SECURITY_TABLES.items():
        for command in table:
            seen += 1
            verb = command.words[0].keyword.name
            if command.title in ("LOGIN", "LOGOFF"):
                assert command.privilege is (Privilege.NONE if command.title == "LOGIN" else USER)
            elif verb != "show":
                assert command.privilege is SO, f"{name}: {command.title} is not marked SECURITYOFFICER"
            elif command.title == "SHOW ENCO KEY":
                assert command.privilege is SO                 # it prints key values
            else:
                assert command.privilege is USER, f"{name}: {command.title} should be open to any user"
    assert seen == sum(len(t) for t in SECURITY_TABLES.values()) > 60
    titles = {c.title for c in IPSEC_COMMANDS}
    assert {"RESET IPSEC POLICY", "SET IPSEC UDPPORT"} <= titles    # §0.2's two exceptions: the general rule
    registered = {c.title: c for c in console().cli.table.commands}
    for table in SECURITY_TABLES.values():
        for command in table:
            assert registered[command.title].privilege is command.privilege


def test_every_marked_command_is_refused_to_a_manager_in_security_mode():
    c = secure(console())
    c.execute("login manager password=friend")
    marked = [cmd for t in SECURITY_TABLES.values() for cmd in t if cmd.privilege is SO]
    for command in marked:
        with pytest.raises(NotPermitted, match="requires Security Officer privilege while the router is in security"):
            c.session.authorize(command)
    assert c.session.counters["refusedSecurityOfficer"] == len(marked)
    c.execute("login secoff password=your-password")
    for command in marked:
        c.session.authorize(command)
    c.users.disable_security()
    c.execute("login manager password=friend")
    for command in marked:
        c.session.authorize(command)                           # out of security mode a manager may
    assert c.session.counters["refusedSecurityOfficer"] == len(marked)


def test_security_mode_refusals_change_nothing_and_are_counted():
    c = secure(console())
    c.execute("create enco key=1 type=general random")         # the security officer sets up
    c.execute("create ipsec sas=1 key=isakmp prot=esp enc=des hasha=sha")
    c.execute("login manager password=friend")
    assert c.prompt("gw") == "Manager gw> "
    for line in ("create ipsec sas=2 key=isakmp prot=esp enc=des hasha=sha", "destroy ipsec sas=1",
                 "set ipsec udpport=4000", "reset ipsec counter", "enable ipsec", "purge ipsec",
                 "create isakmp policy=p peer=any key=1", "enable isakmp",
                 "create enco key=2 type=general random", "destroy enco key=1", "show enco key=1",
                 "create sa=1 enckey=1 spi=300", "add user=x password=y", "delete user=secoff",
                 "set user securedelay=600", "disable system security"):
        with pytest.raises(NotPermitted, match="Security Officer privilege"):
            c.execute(line)
    assert list(c.ipsec.spd.saspecifications) == [1] and c.ipsec.udp_listen_port == 2746
    assert not c.ipsec.enabled and not c.isakmp.enabled and c.isakmp.policies == {}
    assert [k.id for k in c.keys.keys()] == [1] and c.ipsec.old_sas.sas == {}
    assert [u.name for u in c.users.users()] == ["manager", "secoff"] and c.users.secure_delay == 60
    assert c.users.security_mode
    for line in ("show ipsec", "show ipsec sas", "show enco", "show user", "show sa counter", "show system"):
        c.execute(line)                                        # displays: any logged-in user
    shown = c.execute("show system")
    assert "Security Mode ........................ Enabled" in shown
    assert "Commands Refused ..................... 16" in shown
    assert "  Security Officer Privilege Needed .. 16" in shown
    assert c.run("enable ipsec").startswith("Error: ENABLE IPSEC requires Security Officer privilege while the "
                                            'router is in security mode; user "manager" has Manager privilege')


def test_plain_users_only_display():
    c = console()
    c.execute("add user=op password=pw login=yes")
    c.execute("login op password=pw")
    with pytest.raises(NotPermitted, match='requires Manager privilege; user "op" has User privilege'):
        c.execute("create ipsec sas=1 key=isakmp prot=esp enc=des hasha=sha")
    with pytest.raises(NotPermitted, match="requires Manager privilege"):
        c.execute("show enco key")                             # key values are not for plain users
    assert c.ipsec.spd.saspecifications == {}
    c.execute("show ipsec")
    c.execute("show user")
    assert c.session.counters["refusedManager"] == 2
    assert "  Manager Privilege Needed ........... 2" in c.execute("show system")


def test_outside_security_mode_a_manager_configures():
    c = console()
    c.execute("add user=secoff password=pw priv=sec")
    c.execute("create ipsec sas=1 key=isakmp prot=esp enc=des hasha=sha")
    c.execute("enable system security")                        # a manager may enter security mode
    with pytest.raises(NotPermitted):
        c.execute("disable system security")                   # but not leave it
    c.execute("login secoff password=pw")
    assert c.execute("disable system security") == SUCCESS and not c.users.security_mode
    assert "Security Mode ........................ Disabled" in c.execute("show system")


def test_deleting_the_last_security_officer_in_security_mode_is_refused():
    c = secure(console())
    for line in ("delete user=secoff", "set user=secoff priv=manager", "set user=secoff login=no"):
        with pytest.raises(CommandFailed, match="no Security Officer who can log in"):
            c.execute(line)
    c.execute("add user=backup password=pw2 priv=sec")
    c.execute("delete user=secoff")                            # the logged-in one may go: backup remains
    assert c.session.user.name == "secoff" and c.prompt() == "SecOff> "
    c.execute("logoff")
    with pytest.raises(CommandFailed, match="Login incorrect"):
        c.execute("login secoff password=your-password")
    c.execute("login backup password=pw2")


def test_secure_delay_logs_an_idle_security_officer_off():
    clock = Clock()
    c = secure(console(clock))
    c.execute("set user securedelay=600")
    clock.now = 600.0
    c.execute("show ipsec")                                    # 600 s idle: still in time
    clock.now = 1200.5
    with pytest.raises(NotPermitted, match="logged off after more than 600 seconds"):
        c.execute("enable ipsec")
    assert c.session.user is None and not c.ipsec.enabled
    assert c.session.counters["secureDelayLogoff"] == 1 and c.session.counters["refusedNotLoggedIn"] == 1
    c.execute("login secoff password=your-password")
    c.execute("enable ipsec")
    c.users.disable_security()
    c.execute("login manager password=friend")
    clock.now = 99999.0
    c.execute("show ipsec")                                    # the delay applies to security officers only


# -- the §6.0 preamble, on the console and on a router ----------------------------------------------------

PREAMBLE = """add user=secoff password=your-password priv=securityofficer
enable system security
login secoff password=your-password
create enco key=1 type=general random
show enco key=1"""


def test_the_preamble_as_a_script():
    c = console()
    results = c.run_script(PREAMBLE)
    assert [r.failed for r in results] == [False] * 5
    assert results[0].output.startswith("User Authentication  Database")
    assert results[1].output == SUCCESS
    assert results[2].output == "Info: User secoff logged in with Security Officer privilege."
    assert "Value" in results[4].output
    assert c.prompt("Head Office") == "SecOff Head Office> "


def test_a_router_refuses_without_touching_the_data_plane():
    async def body():
        r = await model_router("gw", VirtualClock())
        assert r.console.prompt(r.name) == "Manager gw> "
        for line in PREAMBLE.splitlines()[:3]:
            await r.execute(line)
        await r.execute("add ip int=eth0 ip=10.0.0.1")        # IP is not a security command
        await r.execute("login manager password=friend")
        out = await r.run("create ipsec policy=p int=eth0 action=permit")
        assert out.startswith("Error: CREATE IPSEC POLICY requires Security Officer privilege")
        assert not r.ipsec.spd.has_policy("p") and r.console.session.counters["refusedSecurityOfficer"] == 1
        await r.execute("login secoff password=your-password")
        assert "Info" in await r.execute("create ipsec policy=p int=eth0 action=permit")
        assert r.ipsec.spd.has_policy("p")
    run(body())
