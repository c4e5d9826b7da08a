# Ref: ../../docs/control.md
"""The control channel of a running router (after strongSwan's vici and
racoon's admin port): :mod:`.protocol` (frames, requests, typed errors,
socket paths), :mod:`.server` (the asyncio unix-socket server and its
access checks), :mod:`.router_target` (the requests over a router),
:mod:`.client` (the blocking client), :mod:`.serving` (serving the routers
of a session) and :mod:`.commands` (``pacsim ctl``, ``racoonctl``,
``tmsh``).
"""
