# Ref: RFC 2408 section 3.1 (Commit bit) and 3.14.1 (CONNECTED); RFC 2409 section 5.5 (quick mode);
#      ../shared/spec/isakmp-commands.md R45 (SETCommitbit), DELETedelay; spec/show-outputs.md §11.8 (Connected)
"""The commit bit of quick mode (``setcommitbit``, R45): "traffic is not
sent over an SA until confirmation of SA establishment is received from
the ISAKMP peer".

::

    Initiator                                   Responder
    QM1  HDR*c, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
                              <--  QM2  HDR*c, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
    QM3  HDR*c, HASH(3)                                -->
                              <--  QM4  HDR*c, HASH(4), N(CONNECTED)

- An initiator whose IKE SA's ISAKMP policy has ``setcommitbit`` sets the
  commit bit (``c``) in QM1; a responder sets it in QM2 when its own
  policy has ``setcommitbit`` or QM1 had it (RFC 2408 3.1: the side that did
  not set it waits for the one that did; the responder is the one that
  confirms, as racoon and the manual's counters have it: the initiator's
  ``connectedReceived``).
- With the commit bit in QM2, the initiator sends QM3, keeps the bundle
  back (nothing is installed, the packets that wait for the bundle keep
  waiting) and retransmits QM3 on the manual's timeline until QM4 comes.
- The responder installs the bundle on a verified QM3 and answers QM4,
  the CONNECTED notify (protocol and SPI: the first SA pair's, the SPI
  the responder receives on) with HASH(4) = prf(SKEYID_a, M-ID | N), in
  the quick mode's message ID and IV chain. A QM3 retransmitted during
  the deletedelay is answered with QM4 again (``deleteDelayConSent``).
- The initiator installs the bundle on a verified QM4 (``connectedReceived``,
  ``connectedReceivedGood``); a HASH(4) that does not verify is dropped
  and counted (``initHash4Fail``) and the exchange waits on.

:func:`commit_flags` gives a message's header flags, :func:`commit_requested`
reads a received one, :func:`connected_message` builds QM4 and
:func:`check_connected` verifies it.
"""
import hmac

from .constants import Doi, HeaderFlag, NotifyType
from .exchange import MessageRejected
from .keymat import informational_hash
from .payloads import Hash, Notification, encode_chain
from .phase2_proposal import PROTOCOL_IDS, spi_bytes

__all__ = ["commit_flags", "commit_requested", "connected_message", "check_connected"]


def commit_flags(commit: bool) -> HeaderFlag:
    """The header flags (besides encryption) of a quick-mode message: COMMIT when ``commit``."""
    return HeaderFlag.COMMIT if commit else HeaderFlag.NONE


def commit_requested(message) -> bool:
    """Whether a received message (decoded or encrypted) has the commit bit."""
    return bool(message.header.flags & HeaderFlag.COMMIT)


def _connected(choice, spis) -> Notification:
    first = choice.pairs[0].spec.protocol
    return Notification(Doi.IPSEC, PROTOCOL_IDS[first], NotifyType.CONNECTED, spi_bytes(first, spis[first]))


async def connected_message(exchange) -> bytes:
    """QM4 of the responder ``exchange`` (a :class:`~.quick_mode.QuickModeResponder`
    with its ``choice`` and inbound ``spis``): HASH(4) and N(CONNECTED), sealed."""
    sa = exchange.sa
    notification = _connected(exchange.choice, exchange.spis)
    digest = await informational_hash(sa.crypto, sa.keys, exchange.msg_id, encode_chain((notification,)))
    return await sa.seal(exchange.EXCHANGE, exchange.message_id, (Hash(digest), notification),
                         commit_flags(True))


async def check_connected(exchange, opened) -> None:
    """Verify QM4 ``opened`` (decrypted, rule-checked) for the initiator
    ``exchange``: HASH(4) over the notify and a CONNECTED notify; a
    :class:`~.exchange.MessageRejected` (counted ``initHash4Fail``) otherwise."""
    sa = exchange.sa
    notification = opened.first(Notification)
    expected = await informational_hash(sa.crypto, sa.keys, exchange.msg_id, encode_chain(opened.payloads[1:]))
    if not hmac.compare_digest(opened.payloads[0].data, expected) or \
            notification.notify_type != NotifyType.CONNECTED:
        raise MessageRejected("QM4 is no CONNECTED notify with a good HASH(4)", None,
                              (exchange.GROUP + ".errors", "initHash4Fail"))
