# Ref: ../shared/spec/isakmp-commands.md R78-R83 (XAUTH), R80 (RADIUS servers); mode-cfg-05 section 3.3
"""XAUTH displays (ours: the manual prints none): ``show radius`` and
``show isakmp modeconfig``.

* :func:`show_radius` (``servers``: RadiusServer entries, ``counters``:
  address -> {counter name: packets}) lists address and port, never the secret, then
  each server's counters (RFC 4668 names, packets)::

      RADIUS servers
        Server           Port
        ---------------------
        127.0.0.1        1812
        Counters of 127.0.0.1
          accessRequests             1
          accessAccepts              1
          ...

* :func:`show_modeconfig` (``pool``: the ModeConfigPool, ``received``:
  ModeConfigReceived entries of an XAUTH client, ``results``: XauthDone
  events, oldest first) shows the pool, its leases (address to peer), what
  the client received and the XAUTH results; an empty part says ``(none)``.
"""

__all__ = ["show_radius", "show_modeconfig"]


def _names(items):
    return ", ".join(map(str, items)) or "none"


def show_radius(servers, counters):
    """``show radius``: ``servers`` (RadiusServer list), ``counters`` (address
    -> {counter name: packets}): each server's line, then its counters."""
    lines = ["RADIUS servers", "  Server           Port", "  ---------------------"]
    lines += [f"  {str(s.address):<16} {s.port}" for s in servers] or ["  (none)"]
    for server in servers:
        lines.append(f"  Counters of {server.address}")
        lines += [f"    {name:<26} {value}" for name, value in counters[server.address].items()]
    return "\n".join(lines)


def show_modeconfig(pool, received, results):
    """``show isakmp modeconfig``."""
    lines = ["ISAKMP mode config",
             "  Pool ........................ " + (f"{pool.first}-{pool.last}" if pool.first is not None else "none"),
             "  DNS ......................... " + _names(pool.dns),
             "  Subnets ..................... " + _names(pool.subnets),
             "  Leases"]
    lines += [f"    {address} to {peer}" for address, peer in pool.leases.values()] or ["    (none)"]
    lines.append("  Received (XAUTH client)")
    lines += [f"    policy {r.policy} from {r.peer}: address {r.address or 'none'} netmask {r.netmask or 'none'} "
              f"DNS {_names(r.dns)} subnets {_names(r.subnets)}" for r in received] or ["    (none)"]
    lines.append("  XAUTH results")
    lines += [f"    SA {r.sa.sa_id} peer {r.sa.peer} user {r.user or '-'}: {'PASSED' if r.accepted else 'FAILED'} "
              f"({r.detail})" for r in results] or ["    (none)"]
    return "\n".join(lines)
