"""The bundle-string grammar (spec/ipsec-commands.md §2.4, B13-B20): the
manual's examples parse to the proposals it documents; bad strings are
refused with the fault named."""
import pytest

from pacsim.firmware.ipsec.bundle_string import BundleStringError, parse
from pacsim.firmware.ipsec.transforms import Protocol


def shape(text):
    """Proposals as lists of pairs, each pair a tuple of spec ids in preference order."""
    return [[pair.spec_ids for pair in p.pairs] for p in parse(text).proposals]


# SA specification 1: ESP 3DES, 2: ESP DES, 3: AH MD5 (the worked example, L617-637), 4: AH SHA, 5: IPComp
PROTOCOLS = {1: Protocol.ESP, 2: Protocol.ESP, 3: Protocol.AH, 4: Protocol.AH, 5: Protocol.IPCOMP}


def test_worked_example_b18():
    # "Preferred proposal: an ESP pair (3DES preferred over DES) and an AH pair; second: one ESP pair"
    assert shape("1 OR 2 AND 3, 1 OR 2") == [[(1, 2), (3,)], [(1, 2)]]
    parse("1 OR 2 AND 3, 1 OR 2").check(False, PROTOCOLS.get)


@pytest.mark.parametrize("text, proposals", [
    ("1 AND 3, 1, 2 AND 3, 2", [[(1,), (3,)], [(1,)], [(2,), (3,)], [(2,)]]),      # B19
    ("1, 2 AND 3", [[(1,)], [(2,), (3,)]]),
    ("1, 2", [[(1,)], [(2,)]]),
])
def test_other_valid_strings_b19(text, proposals):
    assert shape(text) == proposals
    parse(text).check(False, PROTOCOLS.get)


def test_bundlespecification_examples():
    # cre ips bund=1 key=ma str="1 and 2": "creates two SAs from SA specifications 1 and 2" (manual: ESP + AH)
    assert shape("1 and 2") == [[(1,), (2,)]]
    parse("1 and 3").check(True, PROTOCOLS.get)
    # cre ips bund=2 key=is str="1 or 2 and 3, 4 and 3": "the first would create two SAs using either SA
    # specification 1 or 2, and SA specification 3; and the second ... SA specifications 4 and 3" (L2679-2683)
    assert shape("1 or 2 and 3, 4 and 3") == [[(1, 2), (3,)], [(4,), (3,)]]


def test_scenario_strings():
    assert shape("2 and 3,1 and 3") == [[(2,), (3,)], [(1,), (3,)]]     # Scenario A, head office (L1773)
    assert shape("1 and 2") == [[(1,), (2,)]]                           # Scenario A, remote site
    assert shape("1") == [[(1,)]]                                       # Scenario B


@pytest.mark.parametrize("text, canonical", [
    ("1 AND 3", "1 AND 3"), ("1 or 2 and 3", "1 OR 2 AND 3"), ("1 and 3,2  AND 4", "1 AND 3, 2 AND 4"),
    ("1and2", "1 AND 2"), (" 7 ", "7"),
])
def test_canonical_form_is_what_the_displays_print(text, canonical):
    # Figure 48-6 prints "1 AND 3", "1 OR 2 AND 3", "1 AND 3, 2 AND 4"
    assert str(parse(text)) == canonical


def test_precedence_or_then_and_then_comma():
    assert shape("1 or 2 and 3 or 4, 5") == [[(1, 2), (3, 4)], [(5,)]]


def test_spec_ids_in_order_of_first_use():
    assert parse("2 and 3, 1 and 3").spec_ids == (2, 3, 1)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("1 and", "ends with AND"),
    ("1,", "ends with ','"),
    ("and 1", "AND at column 1 needs an SA specification id before it"),
    ("1,,2", "',' at column 3 needs an SA specification id"),
    ("1 or or 2", "OR at column 6 needs an SA specification id"),
    ("1 2", "2 at column 3 follows another id"),
    ("1 xor 2", '"xor" at column 3 is not AND or OR'),
    ("1 & 2", '"&" at column 3 is not allowed'),
    ("256", "SA specification id 256 at column 1 is out of range 0-255"),
    ("1 or 1", "SA specification 1 is offered twice"),
    ("1 and " * 20 + "1", "at most 100"),
])
def test_invalid_strings_name_the_fault(text, message):
    with pytest.raises(BundleStringError, match=message):
        parse(text)


@pytest.mark.parametrize("text, manual, message", [
    ("1, 3", True, "a manual bundle string has one bundle"),
    ("1 or 2 and 3", True, "a manual bundle string cannot offer choices"),
    ("1 and 3 and 5 and 4", False, "4 SA pairs in proposal|a bundle has 1 to 3"),
    ("1 or 3", False, "use different protocols"),
    ("1 and 2", True, "both use ESP"),
    ("3 and 1, 4 and 3", False, "both use AH"),
])
def test_bundle_rules(text, manual, message):
    with pytest.raises(BundleStringError, match=message):
        parse(text).check(manual, PROTOCOLS.get)


def test_three_pairs_of_different_protocols():
    parse("5 and 1 and 3").check(True, PROTOCOLS.get)
