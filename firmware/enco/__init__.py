"""The ENCO (compression and encryption) service of the router firmware: the
key database (:mod:`.keys`), the service on the card (:mod:`.service`) and
its commands (:mod:`.commands`); its displays are in
:mod:`pacsim.firmware.views.alliedware.enco`. ENCO is the router's name for the services the PCI
Accelerator Card provides (spec/ipsec-commands.md §0.4)."""
