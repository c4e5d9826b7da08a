"""The pre-IPsec SA counter displays (spec/show-outputs.md §16, §17):
``show sa counter`` (Figure 48-46), ``show sa=id counter`` (Figure 48-47) and
``show sa user`` (Figure 48-48) through the console, laid out as the figures,
with counters that the old-SA commands drive; and their errors."""
import ipaddress
import re

import pytest

from pacsim.firmware.cli import BadValue, CommandFailed, OutOfRange, UnknownParameter
from pacsim.firmware.console import standalone_console
from pacsim.firmware.ipsec.config_errors import InvalidConfiguration
from pacsim.firmware.ipsec.oldsa import OldSaCounter, OldSaModuleCounter, OldSaUserCounter
from pacsim.firmware.views.alliedware.oldsa import (MODULE_COUNTERS_FIGURE, SA_COUNTERS_FIGURE, USER_COUNTERS_FIGURE,
                                                    show_old_sa_counters)

M, S, U = OldSaModuleCounter, OldSaCounter, OldSaUserCounter
LOCAL = "mem=loc ip=202.36.163.21 mask=255.255.255.255"
REMOTE = "mem=rem ip=192.168.70.2 mask=255.255.255.255"

# The figures, copied from spec/show-outputs.md as they are (trailing blanks included).
FIG_48_46 = """\
SA Counters
 addrSearchBadIndex         0   addrSearchCacheHit         0
 addrSearchNotExist         0   addUserNotExist            0
 attachBadBPMode            0   attachGood                 0
 attachUserCreateFail       0   callBackBadIndex           0
 callBackNotExist           0   confBadBPMode              0
 confUserNotExist           0   decodeUserNotExist         0
 deletUserNotExist          0   detachGood                 0
 detachUserNotExist         0   encodeUserNotExist         0
 hasAddrDUserNotExist       0   ipAddAlreadyExists         0
 ipAddGood                  2   ipAddUnknownClass          0
 ipDeleteGood               0   ipDeleteNotFound           0
 processUserDecodeCAFailed  0    processUserDecodeNoAddr    0
 processUserDecodeNoSpi      0    processUserEncodeCAFailed  0
 processUserEncodeGood      0   processUserEncodeNoAddr    0
 secAssAddBadIndex          0   secAssAddNotExist          0
 secAssActBadIndex          0   secAssActNotExist          0
 secAssEncoHandBadIndex     0   secAssEncoHandNotExist     0
 secAssCreateAlreadyExist   0   secAssDeleteBadIndex       0
 secAssDeleteNotExist       0   secAssFindSpiFail          0
 secAssDestroyBadIndex      0   secAssDestroyNotExist      0
 secAssDestroyGood          0
 secAssFindSpiGood          0   secAssGetConfigBadIndex    0
 secAssGetConfigNotExist    1   secAssModifyBadIndex       0
 secAssModifyNotExist       0   userAddSecAssBadIndex      0
 userAddSecAssNotExist      0   userCreateGood             0
 userCreateNoSlot           0   userCreateUserExists       0
 userDelSecAssBadIndex      0   userDelSecAssNotExist      0
 userDestroyBadIndex        0   userDestroyGood            0
 userDestroyNotExist        0   userModifyBadIndex         0
 userModifyNotExist         0   userModifyGood             0"""

FIG_48_47 = """\
addAlreadyExist             0   addGood                    0
addUserNotExist             0   deleteAlreadyIndex         0
deleteGood                  0   getConfigGood              0
encoCreateDAttachDead       0   encoCreateDAttachFail      1
encoCreateDAttachGood       0   encoCreateEAttachDead      0
encoCreateEAttachFail       1   encoCreateEAttachGood      0
encoModifyDReconfDead       0   encoModifyDReconfFail      0
encoModifyDReconfGood       0   encoModifyEReconfDead      0
encoModifyEReconfFail       0   encoModifyEReconfGood      0
encoActDecode               0   encoActDecodeNotAttached   0
encoActEncode               0   encoActEncodeNotAttached   0
encoActUnknownType          0   encoHandUnknownEvent       0
encoHandEncodeConfigured    0   encoHandEncodeConfigFail   1
encoHandEncodeChanAttached  0   encoHandEncodeDetached     0
encoHandEncoded             0   encoHandEncodeFail         0
encoHandDecodeConfigured    0   encoHandDecodeConfigFail   1
encoHandEncodeDiscard       0   encoHandDecodeDiscard      0
encoHandDecodeChanAttached  0   encoHandDecodeDetached     0
encoHandDecoded              0   encoHandDecodeFail         0"""

FIG_48_48 = """\
IP User:    1
 addGood                    1   addrSearchFail             2
 addrSearchGood             0   addSecAssNotExist          0
 callBackBlock              0   callBackDecode             0
 callBackDecoded            0   callBackDecodeFail         0
 callBackEncode             0   callBackEncoded            0
 callBackEncodeFail         0   callBackIndFailed          0
 callBackUnknownType        0   decodeNoAddress            0
 decodeNoBuffer             0                              
 decodeReceiveGood          0   deleteGood                 0
 deleteSecAssNotExist       0   encodeNoAddress            0
 encodeNoBuffer             0   hasAddrDNoAddress          0
 addSecAssAlreadyPresent    0   addSecAssGood              1
 addSecAssNotExistSecAss    0   delSecAssAlreadyPresent    0
 delSecAssGood              0   encodeReceiveGood          0"""


def without_trailing_blanks(text: str) -> str:
    """Displays never end a line in blanks (pacsim.firmware.cli.layout); the
    figures' trailing blanks (Figure 48-48's empty cell) are dropped."""
    return "\n".join(line.rstrip() for line in text.splitlines())


def with_values(figure: str, **values: int) -> str:
    """``figure`` with the named counters set to ``values``, each value still
    ending in its column."""
    for name, value in values.items():
        pattern = re.compile(rf"(?<=\b{name}) +\d+(?= |$)", re.M)
        figure, n = pattern.subn(lambda m: str(value).rjust(len(m.group())), figure)
        assert n == 1, name
    return figure


@pytest.fixture
def c():
    console = standalone_console(clock=lambda: 0.0, random_bytes=lambda n: b"\x5a" * n)
    console.execute("create enco key=1 type=des value=0x0123456789abcdef")
    return console


def run(console, *lines):
    for line in lines:
        console.execute(line)


def module(c) -> dict:
    return c.ipsec.old_sas.counters


# -- the figures ----------------------------------------------------------------------------------

def test_figure_48_46_module_counters(c):
    # The manual's state: two members added (ipAddGood 2), one show of an SA that does not exist
    # (secAssGetConfigNotExist 1). The figure needs no change.
    run(c, "cre sa=1 spi=1000 enck=1", f"add sa=1 {LOCAL}", f"add sa=1 {REMOTE}")
    with pytest.raises(CommandFailed, match="SA 2 does not exist"):
        c.execute("show sa=2")
    assert c.execute("show sa counter") == FIG_48_46
    assert c.execute("sh sa cou") == FIG_48_46


def test_figure_48_47_sa_counters(c):
    run(c, "cre sa=1 spi=1000 enck=1")
    # The figure's four 1s count failed ENCO channel attaches (encode and decode). Old SAs attach no
    # ENCO channels in the model, so these stay 0; everything else is the figure's text.
    expected = with_values(FIG_48_47, encoCreateDAttachFail=0, encoCreateEAttachFail=0,
                           encoHandEncodeConfigFail=0, encoHandDecodeConfigFail=0)
    assert c.execute("show sa=1 counter") == expected


def test_figure_48_48_user_counters(c):
    # IP attaches as the SA module's user (addGood 1) and is given the one SA (addSecAssGood 1).
    run(c, "cre sa=1 spi=1000 enck=1", "ena ips old int=eth0")
    # addrSearchFail (2 in the figure) counts packets' address searches: old SAs have no data path
    # in the model, so it stays 0.
    expected = with_values(FIG_48_48, addrSearchFail=0)
    assert c.execute("show sa user") == without_trailing_blanks(expected)


def test_figures_show_every_counter_once_in_the_enum_order():
    for figure, text in ((MODULE_COUNTERS_FIGURE, FIG_48_46.split("\n", 1)[1]), (SA_COUNTERS_FIGURE, FIG_48_47),
                         (USER_COUNTERS_FIGURE, FIG_48_48.split("\n", 1)[1])):
        assert re.findall(r"[A-Za-z]+", text) == [counter.name for counter in figure.counters]
        assert len(figure.rows()) == len(text.splitlines())


# -- counters follow the events -------------------------------------------------------------------

def test_member_counters(c):
    run(c, "cre sa=1 spi=1000 enck=1", f"add sa=1 {LOCAL}", f"add sa=1 {REMOTE}")
    sa = c.ipsec.old_sas.sas[1]
    assert (module(c)[M.ipAddGood], sa.counters[S.addGood]) == (2, 2)
    with pytest.raises(CommandFailed, match="already has the local member"):
        c.execute(f"add sa=1 {LOCAL}")
    assert (module(c)[M.ipAddAlreadyExists], sa.counters[S.addAlreadyExist]) == (1, 1)
    run(c, f"del sa=1 {LOCAL}")
    with pytest.raises(CommandFailed, match="has no local member"):
        c.execute(f"del sa=1 {LOCAL}")
    assert (module(c)[M.ipDeleteGood], sa.counters[S.deleteGood]) == (1, 1)
    assert (module(c)[M.ipDeleteNotFound], sa.counters[S.deleteAlreadyIndex]) == (1, 1)
    for line in (f"add sa=7 {LOCAL}", f"del sa=7 {LOCAL}"):
        with pytest.raises(CommandFailed, match="SA 7 does not exist"):
            c.execute(line)
    assert (module(c)[M.secAssAddNotExist], module(c)[M.secAssDeleteNotExist]) == (1, 1)
    assert "addGood                    2" in c.execute("show sa=1 counter")
    assert " ipDeleteNotFound           1" in c.execute("show sa counter")


def test_sa_counters(c):
    run(c, "cre sa=1 spi=1000 enck=1")
    with pytest.raises(CommandFailed, match="SA 1 already exists"):
        c.execute("cre sa=1 spi=2000 enck=1")
    for line in ("set sa=9 spi=300", "ena sa=9 deb=a", "dis sa=9 deb=p"):
        with pytest.raises(CommandFailed, match="SA 9 does not exist"):
            c.execute(line)
    assert module(c)[M.secAssCreateAlreadyExist] == 1 and module(c)[M.secAssModifyNotExist] == 3
    run(c, "show sa=1", "show sa=all", "cre sa=2 spi=2000 enck=1", "show sa=all")
    assert c.ipsec.old_sas.sas[1].counters[S.getConfigGood] == 3
    assert c.ipsec.old_sas.sas[2].counters[S.getConfigGood] == 1
    assert "getConfigGood              3" in c.execute("show sa=1 counter")
    run(c, "set sa=1 spi=4000 di=in")                       # the same SA: its counters stay
    assert c.ipsec.old_sas.sas[1].counters[S.getConfigGood] == 3
    run(c, "dest sa=1")
    with pytest.raises(CommandFailed, match="SA 1 does not exist"):
        c.execute("dest sa=1")
    assert (module(c)[M.secAssDestroyGood], module(c)[M.secAssDestroyNotExist]) == (1, 1)
    run(c, "cre sa=1 spi=1000 enck=1")                      # a new SA starts from 0
    assert c.ipsec.old_sas.sas[1].counters[S.getConfigGood] == 0
    assert " secAssDestroyGood          1" in c.execute("show sa counter").splitlines()


def refuse_bad_indexes(table) -> list[OldSaModuleCounter]:
    """Call each counted table operation with an id outside 0-255; the counters they count."""
    addr, mask = ipaddress.IPv4Address("10.0.0.1"), ipaddress.IPv4Address("255.255.255.255")
    calls = {M.secAssDestroyBadIndex: lambda: table.destroy(256),
             M.secAssModifyBadIndex: lambda: table.set(-1, spi=300),
             M.secAssAddBadIndex: lambda: table.add_member(300, True, addr, mask),
             M.secAssDeleteBadIndex: lambda: table.delete_member(300, True, addr, mask),
             M.secAssGetConfigBadIndex: lambda: table.get_config(1000)}
    for call in calls.values():
        with pytest.raises(InvalidConfiguration, match="is not a valid SA id: expected 0-255"):
            call()
    return list(calls)


def test_bad_indexes_through_the_module_interface(c):
    table = c.ipsec.old_sas
    for counter in refuse_bad_indexes(table):
        assert module(c)[counter] == 1, counter.name
    with pytest.raises(InvalidConfiguration, match="not a valid SA id"):
        table.create(256, 1, 1000)
    assert 256 not in table.sas
    assert " secAssDestroyBadIndex      1   secAssDestroyNotExist      0" in c.execute("show sa counter").splitlines()


def test_ip_user_attach_modify_detach(c):
    table = c.ipsec.old_sas
    run(c, "cre sa=1 spi=1000 enck=1", "cre sa=3 spi=3000 enck=1")
    run(c, "dis ips old int=eth0")                          # no IP user to detach
    assert module(c)[M.detachUserNotExist] == 1 and not table.user.attached
    run(c, "ena ips old int=eth0")
    assert (module(c)[M.attachGood], module(c)[M.userCreateGood]) == (1, 1)
    assert table.user.attached and table.user.sas == {1, 3}
    assert (table.user.counters[U.addGood], table.user.counters[U.addSecAssGood]) == (1, 2)
    run(c, "ena ips old int=eth0", "ena ips old int=ppp0")  # the same interface again changes nothing
    assert module(c)[M.userModifyGood] == 1
    run(c, "cre sa=2 spi=2000 enck=1", "dest sa=3")
    assert table.user.sas == {1, 2}
    assert (table.user.counters[U.addSecAssGood], table.user.counters[U.delSecAssGood]) == (3, 1)
    run(c, "dis ips old int=ppp0")
    assert module(c)[M.userModifyGood] == 2 and table.user.attached
    run(c, "dis ips old int=eth0")
    assert (module(c)[M.detachGood], module(c)[M.userDestroyGood], table.user.counters[U.deleteGood]) == (1, 1, 1)
    assert not table.user.attached and table.user.sas == set()
    run(c, "dest sa=2")                                     # not held by a detached user
    assert table.user.counters[U.delSecAssGood] == 1
    shown = c.execute("show sa user").splitlines()
    assert shown[0] == "IP User:    1"
    assert " addGood                    1   addrSearchFail             0" in shown
    assert " addSecAssAlreadyPresent    0   addSecAssGood              3" in shown


def test_every_counted_counter_is_driven_and_the_others_stay_0(c):
    """Each counter's docstring says where it is counted, or that it stays 0
    in the model: one session through every counted event proves both."""
    table = c.ipsec.old_sas
    ok = ("cre sa=1 spi=1000 enck=1", f"add sa=1 {LOCAL}", f"del sa=1 {LOCAL}", "show sa=1", "dis ips old int=eth0",
          "ena ips old int=eth0", "ena ips old int=eth1", "cre sa=2 spi=2000 enck=1", "dest sa=2",
          "dis ips old int=eth1", "dis ips old int=eth0")
    failing = ("cre sa=1 spi=1000 enck=1", f"add sa=1 {REMOTE}", f"add sa=1 {REMOTE}", f"del sa=1 {LOCAL}",
               f"add sa=5 {LOCAL}", f"del sa=5 {LOCAL}", "set sa=5 spi=300", "show sa=5", "dest sa=5")
    run(c, *ok[:4])
    for line in failing:
        c.run(line)
    run(c, *ok[4:])
    refuse_bad_indexes(table)
    user_counters = table.user.counters
    for counters in (table.counters, table.sas[1].counters, user_counters):
        for counter, value in counters.items():
            assert counter.__doc__
            if "Stays 0" in counter.__doc__:
                assert value == 0, f"{counter.name} should stay 0"
            else:
                assert value > 0, f"{counter.name} was not counted"


# -- errors ---------------------------------------------------------------------------------------

def test_errors(c):
    run(c, "cre sa=1 spi=1000 enck=1")
    with pytest.raises(CommandFailed, match="SA 99 does not exist"):
        c.execute("show sa=99 counter")
    assert c.run("show sa=99 counter") == "Error: SA 99 does not exist"
    assert module(c)[M.secAssGetConfigNotExist] == 0         # reading counters is no get configuration
    with pytest.raises(OutOfRange, match="Bad value for SA: 256 is out of range: expected 0..255"):
        c.execute("show sa=256 counter")
    with pytest.raises(BadValue, match='Bad value for SA: "all" is not a number'):
        c.execute("show sa=all counter")
    with pytest.raises(BadValue, match='SA takes no value, but "sa=1" was given'):
        c.execute("show sa=1 user")
    with pytest.raises(BadValue, match='USER takes no value'):
        c.execute("show sa user=1")
    with pytest.raises(BadValue, match='COUnter takes no value'):
        c.execute("show sa=1 counter=5")
    with pytest.raises(UnknownParameter, match="takes no parameters"):
        c.execute("show sa counter all")
    assert c.execute("show sa ?").splitlines() == ["Options after SHOW SA:", "  COUnter", "  USER", "  <cr>"]


def test_counter_display_takes_any_values():
    values = dict.fromkeys(OldSaCounter, 0) | {S.encoHandDecoded: 12345}
    assert show_old_sa_counters(values).splitlines()[-1] == \
        "encoHandDecoded          12345   encoHandDecodeFail         0"
