# Ref: spec/show-outputs.md (the AlliedWare displays); ../shared/seeds/000_*-003_* (IOS, racoonctl, tmsh)
"""Views: the router's state formatted as one product's CLI prints it.

A view is a set of pure functions from snapshots
(:mod:`pacsim.firmware.state.snapshots`,
:class:`~pacsim.firmware.state.counters.CounterSnapshot`) to text. Views
never read live objects and never change anything; the command handlers
build the snapshots and call the view.

- :mod:`.alliedware`: the AlliedWare router's ``show ipsec ...``, ``show
  isakmp ...``, ``show sa ...``, ``show enco ...``, ``show user`` and
  ``show system``, and the ISAKMP debug lines.

How a new view plugs in (the Cisco IOS ``show crypto ...``, racoonctl
``show-sa`` and tmsh ``show net ipsec ...`` views of the same SAs):

1. add a subpackage here (``views/ios/``...) and list it in
   ``pyproject.toml`` (``[tool.setuptools] packages``);
2. write one function per display, taking the snapshots it needs, e.g.
   ``show_crypto_ipsec_sa(sas: Iterable[SaSnapshot]) -> str``: the
   snapshots already carry addresses, SPIs, algorithms, modes, states,
   packet and byte counters, creation time, remaining lifetime (seconds
   and kilobytes) and the card's channel numbers; None means "not known"
   and the view chooses how to print it;
3. read counters by their schema's names only (an unknown name raises
   :class:`~pacsim.firmware.state.counters.UnknownCounter`);
4. register the commands with a handler that builds the snapshots with the
   builders of :mod:`pacsim.firmware.state.snapshots` (as
   :class:`~pacsim.firmware.ipsec.show_commands.IpsecShow` does for the
   AlliedWare view) and returns the view's text.
"""


def alliedware_show(argv: list[str], source) -> str:
    """The AlliedWare displays as a view: ``argv`` the words of a ``show``
    command, run read-only by ``source.show(line)``; ValueError for anything
    but a ``show`` command."""
    if not argv or argv[0].lower() not in ("show", "sh"):
        raise ValueError(f"the alliedware view shows only (show ...); got {' '.join(argv)!r}")
    return source.show(" ".join(argv))


#: The views a running router renders for ``pacsim ctl``/``racoonctl``/``tmsh`` (control request
#: ``view``): name -> ``render(argv, source) -> str``, ``argv`` the product's command words and
#: ``source`` a ``ViewSource`` (``ike_sas()``, ``exchanges()``, ``bundles()``, ``sas()``,
#: ``policies()``, ``enco()``, ``now()``); the vendor views register here as ``racoonctl``,
#: ``tmsh`` and ``ios``.
VIEWS = {"alliedware": alliedware_show}
