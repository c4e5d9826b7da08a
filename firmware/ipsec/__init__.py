"""IPsec in the router firmware.

The control plane: the SPD (:mod:`.spd`, :mod:`.selectors`,
:mod:`.bundle_string`, :mod:`.transforms`), the SAD's bookkeeping
(:mod:`.sad`), the key-management seam and manual keying (:mod:`.keying`),
the module that ties them together (:mod:`.module`), the pre-IPsec SAs
(:mod:`.oldsa`) and the commands (:mod:`.commands`, :mod:`.show_commands`);
the displays are views of snapshots (:mod:`pacsim.firmware.views`,
:mod:`pacsim.firmware.state`).

The data plane: runtime SAs (:mod:`.sa`), ESP, AH and IPComp on the card
(:mod:`.esp`, :mod:`.ah`, :mod:`.ipcomp`), bundles and the inbound
demultiplexer (:mod:`.datapath`: ``BundleProcessor`` and ``Datapath``; the
SAD's bookkeeping bundle is :class:`.sad.SaBundle`), the UDP tunnel
(:mod:`.udp_encap`), packets (:mod:`.packet`), the anti-replay window
(:mod:`.replay`), counters and drop reasons (:mod:`.counters`,
:mod:`.outcome`).

:mod:`pacsim.firmware.router` joins the two on a card.
"""
