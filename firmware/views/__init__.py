# Ref: spec/show-outputs.md (the AlliedWare displays); ../shared/seeds/000_*-003_* (IOS, racoonctl, tmsh)
"""Views: the router's state formatted as one product's CLI prints it.

A view is a set of pure functions from snapshots
(:mod:`pacsim.firmware.state.snapshots`,
:class:`~pacsim.firmware.state.counters.CounterSnapshot`) to text. Views
never read live objects and never change anything; the command handlers
build the snapshots and call the view.

- :mod:`.alliedware`: the AlliedWare router's ``show ipsec ...``, ``show
  isakmp ...``, ``show sa ...``, ``show enco ...``, ``show user`` and
  ``show system``, and the ISAKMP debug lines;
- :mod:`.racoonctl`: racoonctl ``show-sa isakmp|esp|ah|ipsec`` (and
  setkey's SA listing); :mod:`.tmsh`: F5 tmsh ``show net ipsec ike-sa|
  ipsec-sa``; :mod:`.ios`: Cisco IOS ``show crypto ...``. Each takes a
  :class:`ViewSource` (racoonctl and tmsh: ``render(argv, source) -> str``).

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

:class:`ViewSource` is what the other vendors' views read: the snapshots
of one router at one time;
:class:`~pacsim.firmware.router.view_source.RouterViewSource` implements
it over a running router. :mod:`.registry` names the views a running
router renders for its control channel (``pacsim ctl``, ``racoonctl``,
``tmsh``).
"""
from collections.abc import Sequence
from typing import Protocol

__all__ = ["ViewSource"]


class ViewSource(Protocol):
    """The snapshots of one router (frozen; building them changes nothing):

    - ``ike_sas()``: :class:`~pacsim.firmware.isakmp.ike_sa.IkeSaSnapshot` of each IKE SA, by SA id;
    - ``exchanges()``: :class:`~pacsim.firmware.isakmp.exchange.ExchangeSnapshot` of each exchange;
    - ``bundles()``: :class:`~pacsim.firmware.state.snapshots.BundleSnapshot` of each SA bundle;
    - ``sas()``: :class:`~pacsim.firmware.state.snapshots.SaSnapshot` of each SA (counters and
      ``tunnel_local`` filled in), by SA id;
    - ``policies()``: :class:`~pacsim.firmware.state.snapshots.PolicySnapshot` of each IPsec policy;
    - ``enco()``: the card's :class:`~pacsim.firmware.state.snapshots.EncoSnapshot`;
    - ``drops()``: :class:`~pacsim.firmware.state.snapshots.DropCount` of the packets the router's
      drop log holds (its last :data:`~pacsim.firmware.router.forwarding.DROP_LOG_LENGTH` drops);
    - ``now()``: the router's clock, seconds.
    """

    def ike_sas(self) -> Sequence: ...

    def exchanges(self) -> Sequence: ...

    def bundles(self) -> Sequence: ...

    def sas(self) -> Sequence: ...

    def policies(self) -> Sequence: ...

    def enco(self): ...

    def drops(self) -> Sequence: ...

    def now(self) -> float: ...

