"""The key log (firmware/isakmp/key_log.py): two daemons on ModelBus cards
complete main mode and exchange an informational message with the key log
on; a pcap of their datagrams (written with scapy) is decrypted by tshark
given only the key log, showing the ID and HASH payloads of MM5/MM6 and
the informational's HASH and Delete as the wire's sender encrypted them
(checked against the daemons' own peers: the ID is the sender's address).
Without the key log tshark sees only ciphertext; keys appear in no
display; the ESP lines have Wireshark's esp_sa format."""
import ipaddress
import os
import subprocess

import pytest
from ike_peers import pair, run
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw
from scapy.utils import wrpcap

from pacsim.firmware.console import standalone_console
from pacsim.firmware.isakmp.key_log import ENVIRONMENT, KeyLog, configured_key_log, tshark_options
from pacsim.firmware.isakmp.policy_config import IsakmpConfig
from pacsim.firmware.isakmp.show_commands import IsakmpShow

FIELDS = ("isakmp.exchangetype", "isakmp.typepayload", "isakmp.id.type", "isakmp.id.data.ipv4_addr", "isakmp.hash",
          "isakmp.delete.spi", "isakmp.flags")


def negotiate(directory, mode="main"):
    async def body():
        params = {"mode": mode, "senddeletes": True}
        network, initiator, responder = await pair(params, params)
        for daemon in (initiator, responder):
            daemon.config.keylog = str(directory)
        await network.deliver(await initiator.initiate("p"))
        (sa,) = list(initiator.sas)
        await network.deliver(await initiator.delete_sa(sa))
        return network, initiator, responder
    return run(body())


def write_pcap(network, path):
    packets = []
    for time, datagram in network.log:
        packet = IP(src=str(datagram.src), dst=str(datagram.dst)) / UDP(sport=datagram.sport, dport=datagram.dport) \
            / Raw(datagram.data)
        packet.time = time
        packets.append(packet)
    wrpcap(str(path), packets)


def tshark(pcap, options, env=None):
    command = ["tshark", "-r", str(pcap), "-Y", "isakmp", "-T", "fields", "-E", "occurrence=a",
               "-E", "aggregator=,", "-E", "separator=|"] + options
    for field in FIELDS:
        command += ["-e", field]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return [dict(zip(FIELDS, line.split("|"))) for line in out.splitlines()]


@pytest.mark.parametrize("mode", ["main", "aggressive"])
def test_tshark_decrypts_our_isakmp_with_the_key_log_only(tmp_path, mode):
    network, initiator, responder = negotiate(tmp_path / "keys", mode)
    pcap = tmp_path / "ike.pcap"
    write_pcap(network, pcap)
    table = (tmp_path / "keys" / "ikev1_decryption_table").read_text().splitlines()
    cookie = next(iter(initiator.sas), None)
    assert len([line for line in table if not line.startswith("#")]) == 1      # one line per IKE SA, both sides alike
    rows = tshark(pcap, tshark_options(tmp_path / "keys"))
    encrypted = [(row, d) for row, (_, d) in zip(rows, network.log) if d.data[19] & 1]
    assert encrypted and all(row["isakmp.hash"] for row, _ in encrypted)       # decrypted: a HASH payload each
    identities = [(row, d) for row, d in encrypted if row["isakmp.id.type"]]
    expected = 2 if mode == "main" else 0           # MM5, MM6; aggressive mode sends its IDs in the clear
    assert len(identities) == expected
    for row, datagram in identities:
        assert row["isakmp.id.type"] == "1"                                   # ID_IPV4_ADDR
        assert str(datagram.src) in row["isakmp.id.data.ipv4_addr"].split(",")
    delete = [row for row, _ in encrypted if row["isakmp.exchangetype"] == "5"]
    assert len(delete) == 1 and delete[0]["isakmp.delete.spi"]                # the informational's Delete
    assert cookie is None                                                     # deleted, the log stays
    profiles = tmp_path / "config" / "wireshark" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "pacsim").symlink_to(tmp_path / "keys")                     # the key log used as a profile
    assert tshark(pcap, ["-C", "pacsim"], dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))) == rows
    bare = tshark(pcap, [])
    assert not any(bare[i]["isakmp.hash"] for i, (_, d) in enumerate(network.log) if d.data[19] & 1)


def test_key_log_lines_and_nothing_else_shows_keys(tmp_path):
    async def body():
        network, initiator, responder = await pair()
        initiator.config.keylog = str(tmp_path / "k")
        await network.deliver(await initiator.initiate("p"))
        return initiator
    initiator = run(body())
    (sa,) = list(initiator.sas)
    key = sa.keys.enc_key.hex()
    lines = (tmp_path / "k" / "ikev1_decryption_table").read_text().splitlines()
    assert lines[1:] == [f"{sa.cky_i.hex()},{key}"]
    show = IsakmpShow(initiator.config, type("R", (), {"daemon": lambda self: initiator})())
    shown = "\n".join([show.show_sa(), show.show_sa(sa=sa.sa_id), show.show_exchange(), show.show_counters(),
                       show.show_exchange(exchange=1), repr(list(initiator.events))])
    for secret in (key, sa.keys.skeyid.hex(), sa.keys.skeyid_d.hex(), sa.keys.skeyid_a.hex()):
        assert secret not in shown


def test_esp_sa_lines_have_wiresharks_format(tmp_path):
    log = KeyLog(tmp_path)
    assert log.esp_sa("192.0.2.1", ipaddress.ip_address("192.0.2.2"), 0x672987BA, "AES128", bytes(range(16)), "SHA",
                      bytes(20))
    assert not log.esp_sa("192.0.2.1", "192.0.2.2", 1, "3DESOUTER", bytes(24), "SHA", bytes(20))
    assert log.skipped == 1
    lines = (tmp_path / "esp_sa").read_text().splitlines()
    assert lines[1:] == ['"IPv4","192.0.2.1","192.0.2.2","0x672987ba","AES-CBC [RFC3602]",'
                         '"0x000102030405060708090a0b0c0d0e0f","HMAC-SHA-1-96 [RFC2404]",'
                         '"0x0000000000000000000000000000000000000000"']
    assert "esp.enable_encryption_decode: TRUE" in (tmp_path / "preferences").read_text()


def test_the_option_and_the_command(tmp_path, monkeypatch):
    config = IsakmpConfig()
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert configured_key_log(config) is None
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "env"))
    assert configured_key_log(config).directory == tmp_path / "env"
    console = standalone_console(clock=lambda: 0.0)
    console.execute(f'ena isa keyl="{tmp_path / "cmd"}"')
    assert configured_key_log(console.isakmp).directory == tmp_path / "cmd"
    console.execute("dis isa keyl")
    assert configured_key_log(console.isakmp).directory == tmp_path / "env"


def test_an_unwritable_key_log_is_refused_and_never_costs_a_negotiation(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    console = standalone_console(clock=lambda: 0.0)
    assert console.run(f'ena isa keyl="{blocker / "keys"}"').startswith(f"Error: key log directory {blocker / 'keys'}")
    assert console.isakmp.keylog is None

    async def body():
        network, initiator, responder = await pair()
        initiator.config.keylog = str(blocker / "keys")               # e.g. removed after the command
        await network.deliver(await initiator.initiate("p"))
        return initiator, responder
    initiator, responder = run(body())
    assert len(initiator.ike_sas()) == len(responder.ike_sas()) == 1
    assert initiator.ike_sas()[0].state.usable
    assert initiator.faults == [f"key log {blocker / 'keys'}: Not a directory"]
