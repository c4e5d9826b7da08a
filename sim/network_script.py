# Ref: README.md ("network script"); sim/network.py (the harness it drives)
"""Network scripts: several routers, the WAN between them, hosts and traffic
from one text file (``pacsim router --script FILE``).

One statement per line; ``#`` starts a comment line::

    router NAME                      declare a router (a "NAME:" line also does)
    NAME: console command            a command on router NAME's console
    wan A IFACE B IFACE              a WAN link between two router interfaces
    host NAME ROUTER IFACE ADDRESS   a host on the subnet of ROUTER's IFACE
    nat NAME INSIDE PUBLIC [pinhole=udp|tcp/PORT/ADDRESS ...] [timeout=SECONDS]
                                     a NAT gateway (sim/nat_gateway.py):
                                     INSIDE its address on the inside link,
                                     PUBLIC its outside address; a pinhole
                                     forwards public PORT to ADDRESS's PORT;
                                     timeout: idle UDP mapping lifetime
                                     (default 60); join its ``inside`` and
                                     ``outside`` interfaces with ``wan``
    cut NODE IFACE                   cut the WAN link at NODE's (a router's or a
                                     NAT gateway's) IFACE: what is sent onto
                                     it, either way, is lost ("link cut" in
                                     the losses); a link not there or already
                                     cut is refused
    restore NODE IFACE               mend the cut link at NODE's IFACE (one not
                                     cut is refused)
    send SRC DST udp|icmp SIZE [count=N] [port=P]
                                     SRC a host or a router, DST a host or an
                                     address; SIZE (0 to 65000) payload bytes
                                     of each UDP datagram, or of each echo
                                     request (a reply is expected); N packets
                                     (1 to 10000, default 1); UDP to port P
                                     (1 to 65535, default 6000)
    wait SECONDS                     let virtual time pass (timers run);
                                     more than 0, at most 366 days

Router and host names start with a letter, then letters, digits, ``_`` or
``-``; any name, ``router`` included, may prefix a console command.

Console commands print their output under a ``NAME> command`` line; each
``send`` prints one line per packet saying whether it arrived (and for an
echo, whether the reply came back) or where and why it was dropped. What a
router prints between commands (its ISAKMP debug lines, once a console
command ran ``enable isakmp debug``) comes as it happens, as ``NAME| line``. A
console command that answers ``Error:`` is a failure
(:attr:`ScriptResult.failures`). A statement that cannot be carried out
(wrong syntax, a value out of range, an unknown node) is refused: it does
nothing, the rest of the script still runs, and at the end
:class:`ScriptError` lists every refused statement with its line number.
A script whose lines all use plain console commands is a one-router script
(:func:`is_network_script` tells them apart).
"""
import re
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..firmware.ipsec.packet import PROTO_ICMP, PROTO_UDP, parse_ip
from ..firmware.router import Router
from ..firmware.router.icmpv6 import PROTO_ICMPV6
from ..firmware.router.stack import echo_packet, udp_packet
from .nat_gateway import PROTO_TCP, UDP_TIMEOUT, NatGateway
from .network import MAX_WAIT_SECONDS, Network

__all__ = ["run_network_script", "is_network_script", "check_name", "describe_refused", "ScriptError",
           "ScriptResult", "DIRECTIVES", "NAME_PATTERN", "MAX_SIZE", "MAX_COUNT"]

DIRECTIVES = ("router", "wan", "host", "nat", "cut", "restore", "send", "wait")
#: A router or host name.
NAME_PATTERN = r"[A-Za-z][\w-]*"
_NAME = re.compile(NAME_PATTERN + r"\Z")
_PREFIX = re.compile(rf"\s*({NAME_PATTERN})\s*:\s?(.*)\Z")
#: ``send``: the largest SIZE, bytes, and the most packets (count=N).
MAX_SIZE, MAX_COUNT = 65000, 10000
_SEND_SYNTAX = "send SRC DST udp|icmp SIZE [count=N] [port=P]"


@dataclass
class ScriptResult:
    """What a run did: the text it printed, the packets ``sent`` and how many
    ``arrived`` (echo: the reply came back), the console commands that
    answered ``Error:`` (``failures``, each ``"line N: NAME: command"``) and
    the statements ``refused`` (each ``"line N: statement: why"``)."""
    lines: list[str] = field(default_factory=list)
    sent: int = 0
    arrived: int = 0
    failures: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """How many console commands failed."""
        return len(self.failures)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class ScriptError(ValueError):
    """A network script with refused statements: the message lists each
    with its line number; ``result`` is what the rest of the script did."""

    def __init__(self, result: ScriptResult):
        super().__init__(describe_refused(result.refused))
        self.result = result


def describe_refused(refused: list[str]) -> str:
    """The refused statements (:attr:`ScriptResult.refused`) as one message."""
    head = "" if len(refused) == 1 else f"{len(refused)} statements refused:\n"
    return head + "\n".join(refused)


def check_name(name: str, what: str) -> str:
    """``name`` if it is a valid router or host name (:data:`NAME_PATTERN`);
    ValueError otherwise (``what``: "router" or "host")."""
    if not _NAME.match(name):
        raise ValueError(f"{what} name {name!r}: expected a letter, then letters, digits, _ or -")
    return name


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
                             out: Callable[[str], None] | None = None, *, first_line: int = 1) -> ScriptResult:
    """Run a network script on ``network``; ``make_router(name)`` builds each
    router (on whichever card). Each printed line also goes to ``out``;
    ``first_line`` is the number of the text's first line. Raises
    :class:`ScriptError` at the end if any statement was refused."""
    result = ScriptResult()

    def say(line: str) -> None:
        result.lines.append(line)
        if out is not None:
            out(line)

    async def router(name: str) -> Router:
        if name not in network.routers:
            made = await make_router(check_name(name, "router"))
            made.console.terminal = lambda line: say(f"{name}| {line}")     # its debug output, as it happens
            network.add_router(made)
        return network.routers[name]

    for number, raw in enumerate(text.splitlines(), first_line):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        prefixed = _PREFIX.match(line)
        try:
            if prefixed:
                name, command = prefixed.group(1), prefixed.group(2).strip()
                r = await router(name)
                output = await r.run(command)
                say(f"{name}> {command}")
                if output:
                    say(output)
                if "Error:" in output:
                    result.failures.append(f"line {number}: {name}: {command}")
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
                network.add_host(check_name(args[0], "host"), *args[1:])
            elif verb == "nat":
                network.add_gateway(_gateway(network, args))
            elif verb in ("cut", "restore"):
                _arity(args, 2, f"{verb} NODE IFACE")
                far = getattr(network, verb)(*args)
                say(f"# {network.clock.now:.3f} s: link {args[0]} {args[1].lower()} - {far[0]} {far[1]} "
                    f"{'cut' if verb == 'cut' else 'restored'}")
            elif verb == "wait":
                _arity(args, 1, "wait SECONDS")
                await network.wait(_seconds(args[0]))
                say(f"# {network.clock.now:.3f} s")
            elif verb == "send":
                await _send(network, args, result, say)
            else:
                raise ValueError(f"unknown statement {verb!r}; expected NAME: command or one of "
                                 f"{', '.join(DIRECTIVES)}")
        except ValueError as error:
            refusal = f"line {number}: {line}: {error}"
            result.refused.append(refusal)
            say(f"# refused: {refusal}")
    if result.refused:
        raise ScriptError(result)
    return result


def _arity(args: list[str], n: int, syntax: str) -> None:
    if len(args) != n:
        raise ValueError(f"expected {syntax}")


def _whole(text: str, what: str, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high``; ValueError naming ``what`` otherwise."""
    value = int(text) if re.fullmatch(r"[+-]?\d+", text) else None
    if value is None or not low <= value <= high:
        raise ValueError(f"{what} {text!r}; expected a whole number from {low} to {high}")
    return value


def _gateway(network: Network, args: list[str]) -> NatGateway:
    """The NAT gateway of a ``nat`` statement's ``args``."""
    syntax = "nat NAME INSIDE PUBLIC [pinhole=udp|tcp/PORT/ADDRESS ...] [timeout=SECONDS]"
    if len(args) < 3:
        raise ValueError(f"expected {syntax}")
    pinholes, options = {}, {}
    for option in args[3:]:
        key, equals, value = option.partition("=")
        key = key.lower()
        if key == "pinhole" and equals:
            parts = value.split("/")
            if len(parts) != 3 or parts[0].lower() not in ("udp", "tcp"):
                raise ValueError(f"pinhole {value!r}: expected udp|tcp/PORT/ADDRESS")
            protocol = PROTO_UDP if parts[0].lower() == "udp" else PROTO_TCP
            port = _whole(parts[1], "pinhole PORT", 1, 65535)
            pinholes[(protocol, port)] = (network.address_of(parts[2], 4), port)
        elif key == "timeout" and equals and key not in options:
            options[key] = _seconds(value)
        else:
            raise ValueError(f"unknown or repeated nat option {option!r} ({syntax})")
    inside, public = (network.address_of(a, 4) for a in args[1:3])
    return NatGateway(check_name(args[0], "gateway"), public, inside, clock=network.clock, pinholes=pinholes,
                      udp_timeout=options.get("timeout", UDP_TIMEOUT))


def _seconds(text: str) -> float:
    """``wait``'s SECONDS: a decimal number, more than 0 and at most :data:`MAX_WAIT_SECONDS`."""
    value = float(text) if re.fullmatch(r"\d+(\.\d*)?|\.\d+", text) else None
    if value is None or not 0 < value <= MAX_WAIT_SECONDS:
        raise ValueError(f"SECONDS {text!r}; expected a number more than 0 and at most {MAX_WAIT_SECONDS} "
                         "(366 days)")
    return value


async def _send(network: Network, args: list[str], result: ScriptResult, say) -> None:
    if len(args) < 4:
        raise ValueError(f"expected {_SEND_SYNTAX}")
    source, destination, protocol = args[0], args[1], args[2].lower()
    if protocol not in ("udp", "icmp"):
        raise ValueError(f"protocol {protocol!r}; expected udp or icmp")
    size = _whole(args[3], "SIZE", 0, MAX_SIZE)
    options = {}
    for option in args[4:]:
        key, equals, value = option.partition("=")
        key = key.lower()
        if not equals or key not in ("count", "port"):
            raise ValueError(f"unknown send option {option!r}; expected count=N or port=P ({_SEND_SYNTAX})")
        if key in options:
            raise ValueError(f"send option {key}= given twice")
        options[key] = value
    if "port" in options and protocol != "udp":
        raise ValueError("port=P is for udp; an echo request has no port")
    count = _whole(options.get("count", "1"), "count=N", 1, MAX_COUNT)
    port = _whole(options.get("port", "6000"), "port=P", 1, 65535)
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
