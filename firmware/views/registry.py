# Ref: ../../docs/control.md, "view" (the views a running router renders)
"""The views a running router renders for its control channel
(:mod:`pacsim.sim.control`, request ``view``): name -> ``render(argv,
source) -> str``, ``argv`` the product's command words and ``source`` the
router's :class:`~pacsim.firmware.views.ViewSource` plus ``show(line)``,
a read-only console of its own.

- ``racoonctl``: :func:`.racoonctl.render` (``show-sa isakmp|esp|ah|ipsec``);
- ``tmsh``: :func:`.tmsh.render` (``show net ipsec ike-sa|ipsec-sa``);
- ``ios`` and ``alliedware``: the router console's own displays (the IOS
  ``show crypto ...`` commands are console commands beside the AlliedWare
  ``show`` ones), run read-only.
"""
from . import racoonctl, tmsh

__all__ = ["VIEWS", "console_show"]


def console_show(argv: list[str], source) -> str:
    """A console display as a view: ``argv`` the words of a ``show``
    command, run read-only by ``source.show(line)``; ValueError for anything
    but a ``show`` command."""
    if not argv or argv[0].lower() not in ("show", "sh"):
        raise ValueError(f"a console view shows only (show ...); got {' '.join(argv)!r}")
    return source.show(" ".join(argv))


VIEWS = {"alliedware": console_show, "ios": console_show, "racoonctl": racoonctl.render, "tmsh": tmsh.render}
