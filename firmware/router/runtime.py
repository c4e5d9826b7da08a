# Ref: spec/show-outputs.md §3 (show ipsec counter), §4b (policy runtime fields), §7b (SA runtime fields), §8
"""The display adapters: what the control plane's ``show`` commands read
from the data plane, the card and the router.

:class:`RouterRuntime` is the :class:`~pacsim.firmware.ipsec.show_commands.IpsecRuntime`
of a :class:`~.router.Router`:

- ``show ipsec counter=esp|ah|comp``: the data plane's
  :class:`~pacsim.firmware.ipsec.counters.IpsecCounters` blocks (setup,
  out, in);
- ``counter=main``: the router's main packet counters and the data plane's
  UDP block;
- ``counter=alg``: per algorithm unit, the card's encode/decode good, fail
  and discard counters (read by ``PacDevice.alg_counters()`` through the
  ENCO service) and the service's key material, attach, configure, remove
  and detached counts; the ``IPSec:`` block is the SA kernel's
  (:attr:`~pacsim.firmware.ipsec.kernel.SaKernel.alg`): SAs (key
  material, configure, attach, remove) and packets IPsec encoded and
  decoded (bundle outbound/inbound done or failed, and discarded after:
  see :mod:`.ipsec_gate`); ``nullKeymatProcessed`` counts SAs
  opened with a NULL algorithm. ``...GetInfoFail`` stays 0 (the card has
  no such step);
- ``show ipsec sa[=id]``: the runtime SA's state, its channels
  (``outbound/inbound`` channel numbers), sequence numbers and replay
  window;
- ``show ipsec sa counter``: the runtime SA's own counters;
- ``show ipsec policy=name``: the local tunnel address (the address of the
  policy's source interface; its primary IPv6 address for an
  ``ipversion=6`` policy).
"""
from ...contract.codes import AlgUnit
from ..ipsec.show_commands import IpsecRuntime
from ..state.counters import CounterSchema, CounterSnapshot
from ..state.snapshots import PolicyStatus
from ..views.alliedware.counters import CounterValues

__all__ = ["RouterRuntime", "ALG_BLOCKS", "MAIN_COUNTERS"]

#: ``show ipsec counter=alg`` block key -> (card unit, counter name prefix).
ALG_BLOCKS = {"des": (AlgUnit.DES, "des"), "3desinner": (AlgUnit.TDES_INNER, "3DesInner"),
              "3desouter": (AlgUnit.TDES_OUTER, "3DesOuter"), "3des2key": (AlgUnit.TDES_2KEY, "3Des2Key"),
              "aes": (AlgUnit.AES, "aes"), "sha": (AlgUnit.SHA, "sha"), "md5": (AlgUnit.MD5, "md5"),
              "desmac": (AlgUnit.DES_MAC, "desmac"), "lzs": (AlgUnit.LZS, "lzs")}
#: Counter name suffix -> (source, key): "card" counters come from the card, "service" from the ENCO service.
_ALG_SUFFIXES = {"KeymatProcessed": ("service", "keymat"), "AttachFail": ("service", "attach_fail"),
                 "AttachGood": ("service", "attach_good"), "ConfigureFail": ("service", "configure_fail"),
                 "ConfigureGood": ("service", "configure_good"), "Remove": ("service", "remove"),
                 "Detached": ("service", "detached"), "EncodeGood": ("card", "encode_good"),
                 "EncodeFail": ("card", "encode_fail"), "EncodeDiscard": ("card", "encode_discard"),
                 "DecodeGood": ("card", "decode_good"), "DecodeFail": ("card", "decode_fail"),
                 "DecodeDiscard": ("card", "decode_discard")}
#: The router's ``IPsec main packet processing counters``.
MAIN_COUNTERS = CounterSchema("main", (
    "outProcessPkt", "inProcessPkt", "outNoPolicyFound", "inNoPolicyFound", "outProcessPktFinished",
    "inProcessPktFinished", "inProcessPktKeepalive"))
_DATAPLANE_GROUPS = {"esp": "esp", "ah": "ah", "comp": "comp"}


class RouterRuntime(IpsecRuntime):
    """See the module docstring; ``router`` is the :class:`~.router.Router`."""

    def __init__(self, router):
        self.router = router

    def policy_status(self, policy_name: str) -> PolicyStatus:
        spd = self.router.ipsec.spd
        if not spd.has_policy(policy_name):
            return PolicyStatus()
        policy = spd.policy(policy_name)
        module = self.router.ipv6 if policy.ipversion == 6 else self.router.ip
        local = module.address_of(policy.source_interface)
        return PolicyStatus(local_address=str(local) if local is not None else None)

    def sa_runtime(self, sa_id: int) -> dict:
        sa = self.router.runtime_sa(sa_id)
        if sa is None:
            return {}

        def channels(service):
            out, into = sa.channel(service, "outbound"), sa.channel(service, "inbound")
            if out is None and into is None:
                return None
            return "/".join("-" if c is None else str(c.number) for c in (out, into))
        fields = dict(state=sa.state.value, enc_channel=channels("cipher"), hash_channel=channels("mac"),
                      comp_channel=channels("comp"), last_sent_sequence=sa.sequence,
                      last_received_sequence=sa.received_sequence)
        if sa.replay is not None:
            fields.update(antireplay=sa.anti_replay, replay_window=sa.replay.size, replay_bitmap=sa.replay.bitmap)
        return fields

    def counter_values(self, group: str) -> CounterValues:
        router = self.router
        if group in _DATAPLANE_GROUPS:
            prefix = _DATAPLANE_GROUPS[group]
            return lambda block, name: router.counters[f"{prefix}_{block}"][name]
        if group == "main":
            main = router.main.snapshot()
            return lambda block, name: router.counters["udp"][name] if block == "udp" else main[name]
        if group == "alg":
            return self._alg_value
        return lambda block, name: 0

    def _alg_value(self, block: str, name: str) -> int:
        router = self.router
        if block in ("ipsec", "general"):
            return router.kernel.alg[name]
        unit, prefix = ALG_BLOCKS[block]
        source, key = _ALG_SUFFIXES.get(name[len(prefix):], (None, None))
        if source == "card":
            return router.enco.card_units.get(unit, {}).get(key, 0)
        if source == "service":
            return router.enco.units[unit][key]
        return 0

    def sa_counter_values(self, sa_id: int) -> CounterValues | None:
        sa = self.router.runtime_sa(sa_id)
        if sa is None:
            return None
        return lambda block, name: sa.counters[name]
