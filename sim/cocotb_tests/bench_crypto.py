# Ref: sim/bench_model.py (the workload it runs on the RTL)
"""cocotb entry point of ``pacsim bench crypto`` on the RTL bus.

Runs :func:`~pacsim.sim.bench_model.run_crypto_bench` (the same ESP batch
as the model row, output checked against ``cryptography``/``hmac``) for each
algorithm of ``PACSIM_BENCH_ALGS`` and size of ``PACSIM_BENCH_SIZES``, and
reports the rows; ``engine_clocks_per_block`` comes from the engines' own
measured figures (the slower of cipher and MAC per cipher block).
"""
import os

import cocotb

from pacsim.contract.codes import CIPHER_BLOCK_BYTES, CipherMode
from pacsim.hdl.cipher_unit import CipherUnit
from pacsim.hdl.mac_unit import MacUnit
from pacsim.sim.bench_model import crypto_bench_algorithms, crypto_bench_row, run_crypto_bench
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


def engine_clocks_per_block(alg_name: str) -> float:
    cipher, mac = crypto_bench_algorithms(alg_name)
    cipher_clocks = CipherUnit().clocks_per_block[(cipher, CipherMode.CBC, False)]
    units = MacUnit()
    mac_clocks = units.clocks_per_block[mac] * CIPHER_BLOCK_BYTES[cipher] / units.block_bytes[mac]
    return round(max(cipher_clocks, mac_clocks), 2)


@cocotb.test()
async def bench_crypto(dut):
    bus = await RtlBus.start(dut)
    rows = []
    for alg_name in os.environ["PACSIM_BENCH_ALGS"].split(","):
        for size in map(int, os.environ["PACSIM_BENCH_SIZES"].split(",")):
            clocks, wall = await run_crypto_bench(bus, alg_name, size)
            rows.append(crypto_bench_row("rtl", alg_name, size, clocks, wall,
                                         engine_clocks_per_block(alg_name)))
    await bus.finish()
    write_report({"rows": rows})
