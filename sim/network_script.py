"""Network scripts: several routers, the WAN between them, hosts and traffic
from one text file (``pacsim router --script FILE``).

One statement per line; ``#`` starts a comment line::

    router NAME                      declare a router (a "NAME:" line also does)
    NAME: console command            a command on router NAME's console
    wan A IFACE B IFACE              a WAN link between two router interfaces
    host NAME ROUTER IFACE ADDRESS   a host on the subnet of ROUTER's IFACE
    send SRC DST udp|icmp SIZE [count=N] [port=P]
                                     SRC a host or a router, DST a host or an
                                     address; UDP datagrams of SIZE payload
                                     bytes, or echo requests of SIZE bytes
                                     (a reply is expected)
    wait SECONDS                     let virtual time pass (timers run)

Console commands print their output under a ``NAME> command`` line; each
``send`` prints one line per packet saying whether it arrived (and for an
echo, whether the reply came back) or where and why it was dropped. A
script whose lines all use plain console commands is a one-router script
(:func:`is_network_script` tells them apart).
"""
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..firmware.ipsec.packet import PROTO_ICMP, parse_ip
from ..firmware.router import Router
from ..firmware.router.icmpv6 import PROTO_ICMPV6
from ..firmware.router.stack import echo_packet, udp_packet
from .network import Network

__all__ = ["run_network_script", "is_network_script", "ScriptError", "ScriptResult", "DIRECTIVES"]

DIRECTIVES = ("router", "wan", "host", "send", "wait")
_PREFIX = re.compile(r"\s*([A-Za-z][\w-]*)\s*:\s?(.*)\Z")


class ScriptError(ValueError):
    """A network-script line that cannot be carried out (line number in the message)."""


@dataclass
class ScriptResult:
    """What a run did: the text it printed, the packets ``sent`` and how many
    ``arrived`` (echo: the reply came back), and console ``errors``."""
    lines: list[str] = field(default_factory=list)
    sent: int = 0
    arrived: int = 0
    errors: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def is_network_script(text: str) -> bool:
    """Whether ``text`` uses network statements (``NAME:`` lines or a directive)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _PREFIX.match(stripped) or stripped.split()[0].lower() in DIRECTIVES:
            return True
    return False


async def run_network_script(text: str, make_router: Callable[[str], Awaitable[Router]], network: Network,
                             out: Callable[[str], None] | None = None) -> ScriptResult:
    """Run a network script on ``network``; ``make_router(name)`` builds each
    router (on whichever card). Each printed line also goes to ``out``."""
    result = ScriptResult()

    def say(line: str) -> None:
        result.lines.append(line)
        if out is not None:
            out(line)

    async def router(name: str) -> Router:
        if name not in network.routers:
            network.add_router(await make_router(name))
        return network.routers[name]

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prefixed = _PREFIX.match(line)
        try:
            if prefixed and prefixed.group(1).lower() not in DIRECTIVES:
                name, command = prefixed.group(1), prefixed.group(2).strip()
                r = await router(name)
                output = await r.run(command)
                say(f"{name}> {command}")
                if output:
                    say(output)
                if "Error:" in output:
                    result.errors += 1
                continue
            words = shlex.split(line)
            verb, args = words[0].lower(), words[1:]
            if verb == "router":
                _arity(args, 1, "router NAME")
                await router(args[0])
            elif verb == "wan":
                _arity(args, 4, "wan A IFACE B IFACE")
                network.join(*args)
            elif verb == "host":
                _arity(args, 4, "host NAME ROUTER IFACE ADDRESS")
                network.add_host(*args)
            elif verb == "wait":
                _arity(args, 1, "wait SECONDS")
                await network.wait(float(args[0]))
                say(f"# {network.clock.now:.3f} s")
            elif verb == "send":
                await _send(network, args, result, say)
            else:
                raise ValueError(f"unknown statement {verb!r}; expected NAME: command or one of "
                                 f"{', '.join(DIRECTIVES)}")
        except ValueError as error:
            raise ScriptError(f"line {number}: {raw.strip()}: {error}") from None
    return result


def _arity(args: list[str], n: int, syntax: str) -> None:
    if len(args) != n:
        raise ValueError(f"expected {syntax}")


async def _send(network: Network, args: list[str], result: ScriptResult, say) -> None:
    if len(args) < 4:
        raise ValueError("expected send SRC DST udp|icmp SIZE [count=N] [port=P]")
    source, destination, protocol, size = args[0], args[1], args[2].lower(), int(args[3])
    options = dict(a.split("=", 1) for a in args[4:] if "=" in a)
    unknown = set(options) - {"count", "port"}
    if unknown or len(options) != len(args) - 4:
        raise ValueError(f"unknown send options {sorted(unknown) or args[4:]}; expected count=N, port=P")
    count, port = int(options.get("count", 1)), int(options.get("port", 6000))
    if protocol not in ("udp", "icmp"):
        raise ValueError(f"protocol {protocol!r}; expected udp or icmp")
    if not 0 <= size <= 65000:
        raise ValueError(f"size {size}; expected 0 to 65000")
    dst = network.address_of(destination)
    for n in range(1, count + 1):
        marks = {name: len(r.drop_log) for name, r in network.routers.items()}
        lost = len(network.lost)
        before, check = _sender(network, source, dst, protocol, size, port, n)
        await network.run()
        arrived = check(before)
        result.sent += 1
        result.arrived += bool(arrived)
        what = f"{source} -> {destination} {protocol.upper()} {size} bytes"
        if count > 1:
            what += f" #{n}"
        if arrived:
            say(f"{what}: {'reply received' if protocol == 'icmp' else 'delivered'}")
            continue
        why = [f"dropped at {name} {d.interface} {d.direction}: {d.reason}" + (f" ({d.detail})" if d.detail else "")
               for name, r in network.routers.items() for d in list(r.drop_log)[marks[name]:]]
        why += [f"lost at {x.where}: {x.reason}" for x in network.lost[lost:]]
        say(f"{what}: NOT {'answered' if protocol == 'icmp' else 'delivered'}; " + ("; ".join(why) or "no trace"))


def _sender(network: Network, source: str, dst, protocol: str, size: int, port: int, n: int):
    """Start one packet; ``(state before, check(state) -> arrived)``."""
    payload = bytes((i + n) % 256 for i in range(size))
    if source in network.hosts:
        host = network.host(source)
        if protocol == "udp":
            network.send_udp(source, dst, payload=payload, dst_port=port)
        else:
            network.ping(source, dst, size, sequence=n)
        def replies():
            return len(host.echo_replies)
    elif source in network.routers:
        router = network.routers[source]
        module = router.ip if dst.version == 4 else router.ipv6
        route = module.lookup(dst)
        if route is None:
            raise ValueError(f"router {source} has no route to {dst}")
        src = module.address_of(route.interface)
        packet = (udp_packet(src, dst, 5000, port, payload, identification=n) if protocol == "udp" else
                  echo_packet(src, dst, 0x4321, n, payload, identification=n))
        network.originate(source, packet)
        def replies():
            return sum(1 for p in router.delivered if parse_ip(p).protocol in (PROTO_ICMP, PROTO_ICMPV6))
    else:
        raise ValueError(f"{source!r} is neither a host nor a router")
    if protocol == "icmp":
        return replies(), lambda before: replies() > before

    def received():
        """Packets landed where a datagram to ``dst`` lands: a host's or a router's."""
        return sum(len(h.received) for h in network.hosts.values() if h.has_address(dst)) + \
            sum(len(r.delivered) for r in network.routers.values() if r.is_local(dst))
    return received(), lambda before: received() > before
