"""IKE SA cryptography on the card's RTL (Verilator): ``tests/cocotb_ike_crypto.py``
runs a MODP group 2 key pair and shared secret, a phase-1 derivation with
strongSwan's known answers and an AES-CBC encryption through the PCI path.
"""
import pytest

from pacsim.sim.build import BenchConfig, build, run


@pytest.mark.slow
def test_ike_crypto_verilator():
    config = BenchConfig(simulator="verilator")
    run(config, "cocotb_ike_crypto", test_dir=build(config) / "runs" / "cocotb_ike_crypto-default")
