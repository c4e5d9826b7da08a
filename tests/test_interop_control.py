"""The interop lab's router serves its control socket while the lab runs
(sim/interop/lab_router.py): with strongSwan's IKE_SA and CHILD_SA up,
``pacsim racoonctl -ll show-sa isakmp`` and ``pacsim tmsh show net ipsec
ike-sa all-properties`` (subprocesses, the real client) print the SAs
strongSwan lists at the other end (its ``swanctl --list-sas`` the
reference), the lifetime the router shows counts down with the wall clock
while it serves, and once the router has stopped the same command exits 1
with a one-line reason.

Needs root (network namespaces, charon): marked ``interop``; CI runs as root."""
import asyncio
import os
import re
import subprocess
import sys
import time

import pytest

from pacsim.sim.interop.cases import CASES
from pacsim.sim.interop.lab import Lab
from pacsim.sim.interop.namespaces import ADDRESSES
from pacsim.sim.interop.strongswan import Charon
from pacsim.sim.interop.view_facts import leader_values

pytestmark = [pytest.mark.slow, pytest.mark.interop]


def pacsim(*argv):
    return subprocess.run([sys.executable, "-m", "pacsim.cli", *map(str, argv)], capture_output=True, text=True,
                          timeout=120)


def seconds_since_creation(socket) -> int:
    done = pacsim("ctl", "--socket", socket, "view", "alliedware", "show", "isakmp", "sa=1")
    assert done.returncode == 0, done.stderr
    return int(leader_values(done.stdout)["Seconds since creation"])


def test_racoonctl_and_tmsh_show_the_labs_negotiated_sas(tmp_path):
    assert os.geteuid() == 0, "run the interop tests as root (network namespaces, charon)"
    case = next(c for c in CASES if c.name == "ma-st-aes128-sha1-g2-pfs")

    async def body():
        with Lab(tmp_path) as lab:
            router = lab._lab_router(case, tmp_path)
            with Charon(lab.namespaces.peer, tmp_path / "charon", retransmit_timeout=case.retransmit_timeout) \
                    as charon:
                charon.load(case, lab.addresses)
                await router.start()
                try:
                    rc, said = await asyncio.to_thread(charon.initiate, 8.0)
                    assert rc == 0, said
                    listed = (await asyncio.to_thread(charon.swanctl, "--list-sas")).stdout
                    racoon = await asyncio.to_thread(pacsim, "racoonctl", "--socket", router.control, "-ll",
                                                     "show-sa", "isakmp")
                    tmsh = await asyncio.to_thread(pacsim, "tmsh", "--socket", router.control, "show", "net",
                                                   "ipsec", "ike-sa", "all-properties")
                    esp = await asyncio.to_thread(pacsim, "racoonctl", "--socket", router.control, "show-sa", "esp")
                    first = await asyncio.to_thread(seconds_since_creation, router.control)
                    await asyncio.sleep(2.2)
                    second = await asyncio.to_thread(seconds_since_creation, router.control)
                finally:
                    await router.finish()
            return listed, racoon, tmsh, esp, (first, second), router.control

    listed, racoon, tmsh, esp, ages, socket = asyncio.run(body())
    cky_i, cky_r = re.search(r"IKEv1, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", listed).groups()
    spis = re.search(r"in\s+([0-9a-f]{8}),.*\n\s+out\s+([0-9a-f]{8}),", listed).groups()
    spi_in, spi_out = (int(s, 16) for s in spis)
    assert racoon.returncode == 0 and tmsh.returncode == 0 and esp.returncode == 0, (racoon.stderr, tmsh.stderr)
    (row,) = [line for line in racoon.stdout.splitlines() if f"{cky_i}:{cky_r}" in line]
    assert re.search(r"\s9 R 10 M ", row) and row.startswith(f"{ADDRESSES.pacsim_wan}.")   # established, R, main
    assert "State: ESTABLISHED" in tmsh.stdout and f"0x{cky_r}" in tmsh.stdout and f"0x{cky_i}" in tmsh.stdout
    assert f"spi={spi_in}(" in esp.stdout and f"spi={spi_out}(" in esp.stdout       # both directions
    assert ages[1] >= ages[0] + 2                                                   # the wall clock, not frozen
    gone = pacsim("racoonctl", "--socket", socket, "-ll", "show-sa", "isakmp")
    assert gone.returncode == 1 and gone.stdout == "" and len(gone.stderr.strip().splitlines()) == 1, gone
