# Ref: PCI Local Bus Specification 2.3 chapters 2-3 (signals, bus operation)
"""Verification IP of the conventional PCI bench: bus resolution, arbiter, host memory, protocol checker."""
