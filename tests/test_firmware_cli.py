"""The command engine: keywords and abbreviations, the tokenizer, value types,
the generic parser, help and the dispatching CommandLine
(spec/isakmp-commands.md §0.1, spec/ipsec-commands.md §0.1)."""
import ipaddress

import pytest

from pacsim.firmware.cli import (SUCCESS, AmbiguousAbbreviation, BadValue, Command, CommandFailed, CommandLine,
                                 CommandTable, DuplicateParameter, HelpRequest, Keyword, MalformedLine,
                                 MissingParameter, OutOfRange, P, UnknownCommand, UnknownParameter, resolve)
from pacsim.firmware.cli.keywords import NoMatch, minimum_length
from pacsim.firmware.cli.tokens import tokenize
from pacsim.firmware.cli.values import (Boolean, Choice, CommaList, Integer, InterfaceName, InvalidValue,
                                        Ipv4Address, Ipv4Mask, IpAddress, Name, Text, Union)


# -- keywords -------------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling, minimum", [
    ("CREate", 3), ("SASpecification", 3), ("3DES2key", 5), ("RESET", 5), ("AES128", 6), ("NULl", 3),
    ("ISAkmp", 3), ("CONVERToldsa", 7), ("Both", 1), ("OFf", 2), ("32", 2), ("TRAnsportprotocol", 3),
])
def test_minimum_is_the_leading_capitals_and_digits(spelling, minimum):
    assert minimum_length(spelling) == minimum
    assert Keyword(spelling).shortest == spelling[:minimum].lower()


def test_keyword_accepts_prefixes_not_shorter_than_the_minimum_in_any_case():
    k = Keyword("SASpecification")
    assert k.accepts("sas") and k.accepts("SASP") and k.accepts("saspecification") and k.accepts("SaSpEc")
    assert not k.accepts("sa") and not k.accepts("sasx") and not k.accepts("saspecifications")


def test_minimum_override_and_bad_override():
    assert Keyword("STRING", 3).accepts("str")
    with pytest.raises(ValueError):
        Keyword("SA", 3)


def test_exact_match_wins_over_a_prefix_match():
    # "sa" is SA exactly and also starts SASpecification (minimum "sas")
    words = [Keyword("SASpecification"), Keyword("SA")]
    assert resolve("sa", words).spelling == "SA"
    assert resolve("sas", words).spelling == "SASpecification"
    # a synthetic table where the exact word is also a valid prefix of another
    words = [Keyword("Xauth"), Keyword("XAUTHName", 1)]
    assert resolve("xauth", words).spelling == "Xauth"
    assert resolve("XAUTH", words).spelling == "Xauth"
    assert resolve("xauthn", words).spelling == "XAUTHName"


def test_ambiguous_abbreviations():
    words = [Keyword("UDPHeartbeat"), Keyword("UDPPort"), Keyword("UDPTunnel")]
    with pytest.raises(AmbiguousAbbreviation) as e:
        resolve("udp", words, "for CREATE IPSEC POLICY")
    assert "UDPHeartbeat, UDPPort, UDPTunnel" in str(e.value) and "'udph'" in str(e.value)
    # two keywords whose minimums both fit the text
    with pytest.raises(AmbiguousAbbreviation, match='"ab" is ambiguous: it could be ABc, ABd'):
        resolve("ab", [Keyword("ABc", 2), Keyword("ABd", 2)])


def test_no_match_and_too_short():
    with pytest.raises(NoMatch) as e:
        resolve("zz", [Keyword("POLicy")])
    assert e.value.near == () and e.value.hint() == ""
    with pytest.raises(NoMatch) as e:
        resolve("po", [Keyword("POLicy"), Keyword("INTerface")])
    assert e.value.hint() == ' ("po" is too short for POLicy: write at least "pol")'


# -- tokenizer ------------------------------------------------------------------------------------

def test_tokenize_keywords_values_and_quotes():
    toks = tokenize('cre ips pol="my vpn"  int=eth0 lad=192.168.1.0 random')
    assert [(t.keyword, t.value) for t in toks] == [("cre", None), ("ips", None), ("pol", "my vpn"),
                                                    ("int", "eth0"), ("lad", "192.168.1.0"), ("random", None)]
    assert toks[2].quoted and not toks[3].quoted
    assert toks[3].column == 22


def test_tokenize_manual_typography():
    # the manual's curly opening quote (L2677) and the blank after '=' (L4001)
    assert tokenize('str=\u201d1 and 2"')[0].value == "1 and 2"
    assert tokenize('str=\u201c1 and 2\u201d')[0].value == "1 and 2"
    toks = tokenize('dest ips pol= "my_vpn" sab=0')
    assert [(t.keyword, t.value) for t in toks][2:] == [("pol", "my_vpn"), ("sab", "0")]


def test_tokenize_help_marks():
    assert tokenize("show ?")[1].help
    t = tokenize("cre ips sas?")[2]
    assert t.help and t.keyword == "sas"
    t = tokenize("key=?")[0]
    assert t.help and t.keyword == "key" and t.value == ""
    assert tokenize('name="what?"')[0].help is False


@pytest.mark.parametrize("line, message", [
    ('pol="unterminated', "Unterminated quote"),
    ("=value", "A value needs a keyword"),
    ('"lonely"', "A quoted value needs a keyword"),
])
def test_tokenize_errors(line, message):
    with pytest.raises(MalformedLine, match=message):
        tokenize(line)


# -- values ---------------------------------------------------------------------------------------

def test_integer_range_and_form():
    t = Integer(256, 4294967295)
    assert t.parse("4294967295") == 4294967295 and t.describe() == "256..4294967295"
    with pytest.raises(InvalidValue) as e:
        t.parse("255")
    assert e.value.out_of_range and "expected 256..4294967295" in e.value.message
    with pytest.raises(InvalidValue) as e:
        t.parse("12a")
    assert not e.value.out_of_range and "not a number" in e.value.message


def test_choice_and_boolean():
    km = Choice({"ISakmp": "isakmp", "MAnual": "manual"})
    assert km.parse("is") == "isakmp" and km.parse("MANUAL") == "manual"
    assert km.describe() == "{ISakmp|MAnual}"
    with pytest.raises(InvalidValue, match=r'"x" is not one of \{ISakmp\|MAnual\}'):
        km.parse("x")
    with pytest.raises(InvalidValue, match='too short for MAnual'):
        km.parse("m")
    b = Boolean()
    assert b.parse("t") is True and b.parse("FALSE") is False and b.parse("true") is True
    with pytest.raises(InvalidValue):
        b.parse("on")
    isakmp_bool = Boolean(("ON", "TRue"), ("OFf", "FAlse"))
    assert isakmp_bool.parse("on") is True and isakmp_bool.parse("of") is False and isakmp_bool.parse("tr")


def test_union_comma_list_text_and_names():
    port = Union(Choice({"ANy": "any", "OPaque": "opaque"}), Integer(0, 65535))
    assert port.parse("an") == "any" and port.parse("500") == 500
    with pytest.raises(InvalidValue) as e:
        port.parse("70000")
    assert e.value.out_of_range
    with pytest.raises(InvalidValue, match=r"expected \{ANy\|OPaque\|0\.\.65535\}"):
        port.parse("x")
    lst = CommaList(Choice({"SAD": "sad", "SPD": "spd", "MAIn": "main"}))
    assert lst.parse("sad,spd") == ("sad", "spd")
    with pytest.raises(InvalidValue, match="listed twice"):
        lst.parse("sad,sad")
    with pytest.raises(InvalidValue, match="empty item"):
        lst.parse("sad,,spd")
    assert Name(23).parse("my vpn") == "my vpn"
    with pytest.raises(InvalidValue, match="1 to 23 characters"):
        Name(23).parse("x" * 24)
    with pytest.raises(InvalidValue, match="printable"):
        Text(1, 10).parse("a\tb")


def test_addresses_masks_and_interfaces():
    assert IpAddress().parse("3ffe::4") == ipaddress.ip_address("3ffe::4")
    assert Ipv4Address().parse("10.1.1.0") == ipaddress.ip_address("10.1.1.0")
    for bad in ("10.1.1", "300.1.1.1", "host"):
        with pytest.raises(InvalidValue, match="not an IPv4 address"):
            Ipv4Address().parse(bad)
    assert Ipv4Mask().parse("255.255.255.240")
    with pytest.raises(InvalidValue, match="contiguous"):
        Ipv4Mask().parse("255.0.255.0")
    iface = InterfaceName()
    for ok in ("eth0", "ppp1-1", "vlan2", "fr0-15", "x25t0", "virt9", "PPP0"):
        assert iface.parse(ok) == ok.lower()
    with pytest.raises(InvalidValue, match="not an interface name"):
        iface.parse("serial0")
    with pytest.raises(InvalidValue, match="logical interface number must be 0..15"):
        iface.parse("eth0-16")
    with pytest.raises(InvalidValue):
        InterfaceName(("eth",)).parse("virt9")


# -- the parser -----------------------------------------------------------------------------------

TABLE = CommandTable([
    Command((P("CREate"), P("THing", Integer(0, 9))), (P("KINd", Choice({"BIg": "big", "SMall": "small"}),
                                                         required=True), P("NAMe", Name(8)), P("RANdom"))),
    Command((P("SHow"), P("THing", Integer(0, 9), optional_value=True))),
    Command((P("SHow"), P("THing", Integer(0, 9), optional_value=True), P("COUnter"))),
    Command((P("SHow"), P("THINGs"))),
    Command((P("SHow"),)),
])


def test_parse_words_parameters_and_values():
    parsed = TABLE.parse("cre th=3 kin=bi nam=abc random")
    assert parsed.command is TABLE.commands[0]
    assert parsed.args == {"thing": 3, "kind": "big", "name": "abc", "random": None}
    assert TABLE.parse("   ") is None


def test_parse_optional_values_and_trailing_words():
    assert TABLE.parse("sh th").args == {"thing": None}
    assert TABLE.parse("sh th=4").command is TABLE.commands[1]
    p = TABLE.parse("SH TH=4 COU")
    assert p.command is TABLE.commands[2] and p.args == {"thing": 4}
    # exact "things" wins over the prefix "thing"... and "thin" is THing, not THINGs (minimum "thin")
    assert TABLE.parse("show things").command is TABLE.commands[3]
    assert TABLE.parse("show thin").command is TABLE.commands[1]
    assert TABLE.parse("show").command is TABLE.commands[4]


@pytest.mark.parametrize("line, error, message", [
    ("frob", UnknownCommand, 'Unknown command "frob": commands start with CREate, SHow'),
    ("cr th=1 kind=big", UnknownCommand, '"cr" is too short for CREate'),
    ("create", UnknownCommand, 'Incomplete command "CREATE": expected one of THing'),
    ("create widget=1", UnknownCommand, '"widget" is not valid after CREATE: expected THing'),
    ("cre th=1", MissingParameter, "CREATE THING needs KINd={BIg|SMall}"),
    ("cre th kind=big", MissingParameter, "THing needs a value: THing=0..9"),
    ("cre th=10 kind=big", OutOfRange, "Bad value for THing: 10 is out of range: expected 0..9"),
    ("cre th=x kind=big", BadValue, 'Bad value for THing: "x" is not a number'),
    ("cre th=1 kind=huge", BadValue, 'Bad value for KINd: "huge" is not one of {BIg|SMall}'),
    ("cre th=1 kind=big colour=red", UnknownParameter,
     '"colour" is not a parameter of CREATE THING; its parameters are KINd, NAMe, RANdom'),
    ("cre th=1 kind=big kin=small", DuplicateParameter, 'Parameter KINd is given more than once (as "kind" and "kin")'),
    ("cre th=1 kind=big random=yes", BadValue, 'RANdom takes no value, but "random=yes" was given'),
    ("cre th=1 kind=big name=", MissingParameter, "NAMe needs a value"),
    ("show th=1 count=2", BadValue, 'COUnter takes no value, but "count=2" was given'),
    ("show th=1 colour=2", UnknownCommand, '"colour" is not valid after SHOW TH: expected COUnter'),
])
def test_parse_errors_name_the_fault(line, error, message):
    with pytest.raises(error) as e:
        TABLE.parse(line)
    assert message in str(e.value)


def test_help_lists_what_can_follow():
    h = TABLE.parse("?")
    assert isinstance(h, HelpRequest) and h.options == ("CREate", "SHow")
    assert TABLE.parse("show ?").options == ("THing[=0..9]", "THINGs", "<cr>")
    assert TABLE.parse("show th?").options == ("THing[=0..9]", "THINGs")
    assert TABLE.parse("cre th=1 ?").options == ("KINd={BIg|SMall}", "[NAMe=name (1-8 characters)]", "[RANdom]",
                                                 "<cr>")
    assert TABLE.parse("cre th=1 kind=big ?").options == ("[NAMe=name (1-8 characters)]", "[RANdom]", "<cr>")
    assert TABLE.parse("cre th=1 kind=?").options == ("BIg", "SMall")
    assert TABLE.parse("cre th=1 kind=s?").options == ("SMall", "{BIg|SMall}")
    h = TABLE.parse("cre th=?")
    assert (h.context, h.options) == ("CREATE THing=", ("0..9",))


def test_duplicate_command_paths_are_refused():
    with pytest.raises(ValueError):
        CommandTable([Command((P("SHow"),)), Command((P("SHOW"),))])


def test_command_syntax_line():
    assert TABLE.commands[0].syntax() == "CREate THing=0..9 KINd={BIg|SMall} [NAMe=name (1-8 characters)] [RANdom]"


# -- the command line -----------------------------------------------------------------------------

class Widgets:
    class Refused(Exception):
        pass

    def __init__(self):
        self.made = {}

    def create(self, thing, kind, name=None, random=None):
        if thing in self.made:
            raise self.Refused(f"thing {thing} already exists")
        self.made[thing] = (kind, name)

    def show(self, thing=None):
        return "\n".join(f"{k}: {v[0]}" for k, v in sorted(self.made.items()) if thing in (None, k))


WIDGET_COMMANDS = (
    Command((P("CREate"), P("THing", Integer(0, 9))),
            (P("KINd", Choice({"BIg": "big", "SMall": "small"}), required=True), P("NAMe", Name(8)), P("RANdom")),
            "create"),
    Command((P("SHow"), P("THing", Integer(0, 9), optional_value=True)), (), "show"),
)


def test_command_line_dispatches_and_formats_errors():
    cli = CommandLine()
    widgets = Widgets()
    cli.register(WIDGET_COMMANDS, widgets, errors=(Widgets.Refused,))
    assert cli.execute("cre th=1 kind=big") == SUCCESS
    assert cli.execute("sh th") == "1: big"
    with pytest.raises(CommandFailed, match="thing 1 already exists"):
        cli.execute("cre th=1 kind=small")
    assert cli.run("cre th=1 kind=small") == "Error: thing 1 already exists"
    assert cli.run("cre th=1 kind=x").startswith("Error: Bad value for KINd")
    assert cli.run("# a comment") == "" and cli.run("") == ""
    assert cli.run("sh ?") == "Options after SH:\n  THing[=0..9]"
    results = cli.run_script("cre th=2 kind=small\nbogus\nsh th=2")
    assert [r.failed for r in results] == [False, True, False]
    assert results[2].output == "2: small"
    assert widgets.made == {1: ("big", None), 2: ("small", None)}


def test_register_checks_handlers():
    with pytest.raises(TypeError, match="has no method create"):
        CommandLine().register(WIDGET_COMMANDS, object())
