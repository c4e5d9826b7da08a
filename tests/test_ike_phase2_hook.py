"""The hook the quick-mode layer plugs into: an exchange class registered
for an exchange type, started with ``start_exchange``, protected with
``IkeSa.seal``/``unseal``/``accept``/``prf_a``, and getting the daemon's
retransmission and repeat handling for free. A two-message echo exchange
stands in for quick mode here.
"""
import hmac

from ike_peers import ADDRESS_R, pair, run

from pacsim.firmware.isakmp.constants import ExchangeType
from pacsim.firmware.isakmp.exchange import Exchange, MessageRejected
from pacsim.firmware.isakmp.payloads import Hash, Nonce, encode_chain
from pacsim.firmware.isakmp.rules import Role

ECHO = ExchangeType.QUICK


async def _sealed(sa, message_id, nonce):
    """HDR*, HASH(prf_a(M-ID | Nonce)), Nonce."""
    payload = Nonce(nonce)
    digest = await sa.prf_a(message_id.to_bytes(4, "big") + encode_chain((payload,)))
    return await sa.seal(ECHO, message_id, (Hash(digest), payload))


async def _opened(sa, encrypted):
    """The Nonce data of a message built by :func:`_sealed`, its hash checked; the IV chain moves."""
    message = await sa.unseal(encrypted)
    digest = await sa.prf_a(encrypted.header.message_id.to_bytes(4, "big") + encode_chain(message.payloads[1:]))
    if not hmac.compare_digest(digest, message.payloads[0].data):
        raise MessageRejected("echo hash does not verify", counter=("quick.responder.hash", "hashBadLen"))
    sa.accept(encrypted)
    return message.payloads[1].data


class EchoInitiator(Exchange):
    EXCHANGE = ECHO

    def __init__(self, daemon, sa, message_id, now):
        super().__init__(daemon, sa, Role.INITIATOR, message_id, now)
        self.answer = None

    async def start(self, now):
        message = await _sealed(self.sa, self.message_id, b"echo request 16b")
        self.transmitted(message, now)
        return message

    async def process(self, encrypted, datagram, now):
        self.answer = await _opened(self.sa, encrypted)
        self.finish(now)
        return []


class EchoResponder(Exchange):
    EXCHANGE = ECHO

    def __init__(self, daemon, sa, header, now):
        super().__init__(daemon, sa, Role.RESPONDER, header.message_id, now)

    async def process(self, encrypted, datagram, now):
        request = await _opened(self.sa, encrypted)
        reply = await _sealed(self.sa, self.message_id, request[::-1])
        self.finish(now)
        return [reply]


def test_a_registered_exchange_runs_with_retransmission_and_cached_reply():
    async def body():
        network, initiator, responder = await pair()
        responder.register_exchange(ECHO, EchoResponder)
        await network.deliver(await initiator.initiate("p"))
        sa = next(iter(initiator.sas))
        dropped = []

        def tap(datagram):
            if datagram.src.exploded == ADDRESS_R and not dropped:
                dropped.append(datagram)
                return None
            return datagram
        network.tap = tap
        exchange = EchoInitiator(initiator, sa, await initiator.new_message_id(sa), network.now)
        await network.deliver(await initiator.start_exchange(exchange))
        pending = exchange.done
        await network.run(until=10)
        return exchange, pending, dropped, network, responder, initiator
    exchange, pending, dropped, network, responder, initiator = run(body())
    assert [s.phase2_exchanges for s in initiator.ike_sas() + responder.ike_sas()] == [1, 1]
    assert not pending and exchange.done and exchange.answer == b"echo request 16b"[::-1]
    resent = [d for t, d in network.log if t == 4 and d.src.exploded == ADDRESS_R]
    assert [d.data for d in resent] == [dropped[0].data]           # the cached reply, byte for byte
    assert responder.counters.get("general", "deleteDelayRetrySent") == 1       # answered from its deletedelay


def test_an_unregistered_exchange_type_is_counted():
    async def body():
        network, initiator, responder = await pair()
        await network.deliver(await initiator.initiate("p"))
        sa = next(iter(initiator.sas))
        exchange = EchoInitiator(initiator, sa, await initiator.new_message_id(sa), network.now)
        (request,) = await initiator.start_exchange(exchange)
        return await responder.receive(request), responder
    out, responder = run(body())
    assert out == [] and responder.counters.get("general", "msgRxPh2UnkwonXchgType") == 1
