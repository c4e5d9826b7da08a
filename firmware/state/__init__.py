# Ref: ../shared/DESIGN.md "Firmware" (control plane, displays); spec/show-outputs.md
"""The router's state apart from its views.

- :mod:`.configuration`: :class:`~.configuration.RouterState`, the
  configuration a router's consoles share (key store, IPsec module, ISAKMP
  configuration, users);
- :mod:`.counters`: counter schemas and the counter sets and snapshots
  built on them (a misspelt counter name is an error, not a silent 0);
- :mod:`.snapshots`: frozen, typed snapshots of the IPsec module, its
  policies, SA bundles and SAs, the card's ENCO channels and counters,
  and the pure functions that build them from the live objects;
- :mod:`.isakmp_snapshots`: the ISAKMP module's status (``show isakmp``).

Snapshots are read-only values: nothing in them formats, and building one
changes nothing. The views (:mod:`pacsim.firmware.views`) format them.
"""
