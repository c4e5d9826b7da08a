# Ref: ../shared/interop/README.md (the lab recipe this package automates)
"""The IKEv1 interop lab: network namespaces, a strongSwan peer, ike-scan,
tshark, and the pacsim router attached to them (:mod:`..attachment`,
:mod:`..wall_runtime`). Driven by ``pacsim interop``."""
