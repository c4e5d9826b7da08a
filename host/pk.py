# Ref: README.md, "Register map" (PK_OPERANDS window: 64 words per slot, least significant first)
"""Operand packing for the card's public-key unit: integers to and from the
``PK_OPERANDS`` window's 32-bit words (word 0 least significant).

- :func:`words_of`: an integer as ``words`` 32-bit words;
- :func:`value_of`: the integer of a list of 32-bit words.

Both raise :class:`~.errors.InvalidArgument` for values that are not operands.
The Diffie-Hellman groups are :data:`pacsim.reference.modp.GROUPS`.
"""
from .errors import InvalidArgument

__all__ = ["value_of", "words_of"]


def words_of(value: int, words: int) -> list:
    """``value`` as ``words`` 32-bit words, word 0 least significant (the
    operand memory's order). Raises :class:`~.errors.InvalidArgument` if it is
    negative or does not fit."""
    if value < 0 or value >> (32 * words):
        raise InvalidArgument(f"value of {value.bit_length()} bits does not fit {words} 32-bit words"
                              if value >= 0 else f"negative value {value} cannot be an operand")
    return [(value >> (32 * k)) & 0xFFFF_FFFF for k in range(words)]


def value_of(words) -> int:
    """The integer whose 32-bit words, least significant first, are ``words``."""
    value = 0
    for k, word in enumerate(words):
        if not 0 <= word <= 0xFFFF_FFFF:
            raise InvalidArgument(f"word {k} = {word!r} is not a 32-bit value")
        value |= word << (32 * k)
    return value
