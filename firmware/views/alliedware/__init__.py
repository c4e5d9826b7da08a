# Ref: spec/show-outputs.md (Figures 48-5 to 48-48), spec/ipsec-commands.md §6.0, spec/isakmp-commands.md §2.7
"""The AlliedWare router's displays, as the manual's figures print them.

- :mod:`.ipsec`: ``show ipsec``, specifications, policies and SA bundles;
- :mod:`.sa`: ``show ipsec sa``;
- :mod:`.counters`: ``show ipsec counter``, ``policy counter``, ``sa counter``;
- :mod:`.oldsa`: the pre-IPsec ``show sa``, its counters and users;
- :mod:`.enco`: ``show enco`` and ``show enco key``;
- :mod:`.users`: ``show user`` and ``show system``;
- :mod:`.isakmp`: ``show isakmp``, its policies, SAs and exchanges;
- :mod:`.isakmp_counters`: ``show isakmp counters`` (all twelve categories);
- :mod:`.isakmp_debug`: the lines of ``enable isakmp debug``.

:data:`DASH` is what every AlliedWare display prints for a value not known
or not applicable (:func:`dash_or`).
"""

__all__ = ["DASH", "dash_or"]

DASH = "-"


def dash_or(value) -> str:
    """``value`` as text, :data:`DASH` when None."""
    return DASH if value is None else str(value)
