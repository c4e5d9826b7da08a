"""The ENCO (compression and encryption) service of the router firmware: the
key database (:mod:`.keys`), its commands (:mod:`.commands`) and displays
(:mod:`.displays`). ENCO is the router's name for the services the PCI
Accelerator Card provides (spec/ipsec-commands.md §0.4)."""
