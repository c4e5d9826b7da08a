"""The ENCO key database (spec/ipsec-commands.md §0.3, §6.0): key types and
lengths, values in hex or text, random keys from the injected source, and
keys other modules use."""
import pytest

from pacsim.firmware.enco.keys import (InvalidKey, KeyExists, KeyInUse, KeyNotFound, KeyStore, KeyType,
                                       parse_key_value)


def test_random_keys_come_from_the_injected_source():
    asked = []

    def rng(n):
        asked.append(n)
        return bytes([0x5A]) * n
    keys = KeyStore(rng)
    assert keys.create(1, KeyType.GENERAL, random=True).value == b"\x5a" * 16
    assert keys.create(2, KeyType.DES, random=True).length == 8
    assert keys.create(3, KeyType.TDES, random=True).length == 24
    assert keys.create(4, KeyType.AES, random=True, length=32).length == 32
    assert asked == [16, 8, 24, 32]
    assert keys.key(1).random and keys.key(1).display_value() == "0x" + "5A" * 16
    with pytest.raises(InvalidKey, match="gave 1 bytes, 16 were asked for"):
        KeyStore(lambda n: b"x").create(1, KeyType.GENERAL, random=True)


def test_values_in_hex_and_as_text():
    assert parse_key_value("0x0a0B", KeyType.GENERAL) == (b"\x0a\x0b", False)
    assert parse_key_value("alphanumeric-key", KeyType.GENERAL) == (b"alphanumeric-key", True)
    assert parse_key_value("0123456789abcdef", KeyType.DES) == (bytes.fromhex("0123456789abcdef"), False)
    for text, key_type, message in [("0x123", KeyType.GENERAL, "even number of hex digits"),
                                    ("secret", KeyType.DES, "not a hex key value"),
                                    ("caf\u00e9", KeyType.GENERAL, "printable ASCII")]:
        with pytest.raises(InvalidKey, match=message):
            parse_key_value(text, key_type)


def test_lengths_ids_and_errors():
    keys = KeyStore()
    keys.create(65535, KeyType.TDES, value="0x" + "11" * 16)
    with pytest.raises(InvalidKey, match="a 3DES key is 16 or 24 bytes long, not 8"):
        keys.create(1, KeyType.TDES, value="0x" + "11" * 8)
    with pytest.raises(InvalidKey, match="a GENERAL key is 1..128 bytes long, not 129"):
        keys.create(1, KeyType.GENERAL, value=b"x" * 129)
    with pytest.raises(InvalidKey, match="LENGTH=8 but the value is 2 bytes long"):
        keys.create(1, KeyType.GENERAL, value="0x0102", length=8)
    with pytest.raises(InvalidKey, match="out of range"):
        keys.create(65536, KeyType.DES, random=True)
    with pytest.raises(KeyExists):
        keys.create(65535, KeyType.DES, random=True)
    with pytest.raises(KeyNotFound, match="ENCO key 7 does not exist"):
        keys.destroy(7)
    assert keys.get(7) is None and keys.length(7) is None and keys.bytes(7) is None
    assert "11" not in repr(keys.key(65535))                   # key bytes never printed by repr


def test_keys_in_use():
    keys = KeyStore()
    keys.create(1, KeyType.DES, value="0x0123456789abcdef")
    keys.add_user(lambda key_id: "SA 3" if key_id == 1 else None)
    keys.add_user(lambda key_id: None)
    with pytest.raises(KeyInUse, match="ENCO key 1 is used by SA 3"):
        keys.destroy(1)
    assert [k.id for k in keys.keys()] == [1]
