# Ref: strongswan.conf(5), swanctl.conf(5), swanctl(8) of strongSwan 5.9.8; ../shared/interop/README.md §3
"""The strongSwan peer: charon in the peer namespace, driven by swanctl.

Configuration is generated here from a :class:`~.cases.Case` (one
connection ``case`` that both initiates to the router and answers it,
UDP encapsulation forced with ``encap = yes`` unless the case is behind
the lab's NAT (:mod:`.nat`: there strongSwan's own NAT-D detects it, from
its private address; its ID stays the NAT's address), a pre-shared key for any
identity, or RSA signatures with the case's certificates, written by
:class:`~.lab_certificates.LabCredentials` into the credential folders;
for an XAUTH case a second round ``auth = xauth`` with the
case's user and password, the xauth-generic plugin, and ``vips = 0.0.0.0``
asking the router's mode config for an address) and a strongswan.conf that loads an explicit plugin list
(kernel-libipsec, userspace ESP, with kernel-netlink for routes; the lab's
kernel has no ESP) and logs IKE and CHILD_SA details to ``charon.log``.

Charon 5.9.8 hard-codes ``/var/run/charon.pid``, so it runs with a private
``/run``: ``ip netns exec`` gives it a private mount namespace and a bind
mount puts the lab's ``run/`` directory there; swanctl reaches it through
the vici socket named in strongswan.conf. That ``run/`` directory is a
short temporary one (a unix socket path has at most 107 bytes), removed
by :meth:`Charon.stop`, which stops the process it started (by its pid,
never by name).
"""
import re
import shutil
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from ...firmware.ipsec.spd import BundleSpecification
from ...firmware.isakmp.policy_config import IsakmpPolicy

from .cases import PSK, XAUTH_PASSWORD, XAUTH_USER, Case
from .namespaces import ADDRESSES, LabAddresses, LabError, NamespaceProcess, Service, run

__all__ = ["Charon", "strongswan_conf", "swanctl_conf", "SwanSa", "parse_list_sas", "initiate_outcome", "virtual_ip",
           "behind_nat", "CONNECTION", "CHARON", "IKE_LIFETIME", "CHILD_LIFETIME"]

CHARON = "/usr/lib/ipsec/charon"
CONNECTION = "case"
_PLUGINS = ("random nonce openssl gcrypt aes sha1 sha2 md5 hmac gmp kdf pem pkcs1 x509 pubkey curve25519 xcbc cmac "
            "ctr ccm gcm kernel-libipsec kernel-netlink socket-default vici xauth-generic")
_CREDENTIAL_DIRS = ("x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa",
                    "bliss", "pkcs8", "pkcs12")


def _default(cls, name: str):
    return next(f.default for f in fields(cls) if f.name == name)


#: The router's default lifetimes (seconds), which the peer is given too, without jitter, so that both ends
#: count the same lifetimes down (:mod:`.agreement` compares them): the ISAKMP SA's and the SA bundle's.
IKE_LIFETIME = _default(IsakmpPolicy, "expiryseconds")
CHILD_LIFETIME = _default(BundleSpecification, "expiryseconds")
_LOG_LEVELS = "default = 1\n      ike = 2\n      chd = 2\n      knl = 1\n      cfg = 1\n      net = 2\n      enc = 1"


def strongswan_conf(directory: Path, run_dir: Path, *, retransmit_timeout: float = 2.0,
                    retransmit_tries: int = 3, quiet: bool = False) -> str:
    """charon's settings (one ``key = value`` a line: ``;`` is no separator
    there). Aggressive mode with PSK is allowed as responder; the half-open
    limit is raised for probes that never finish. ``quiet``: errors only in
    ``charon.log`` (for a timed run: charon is not slowed by its own log)."""
    levels = "default = 0" if quiet else _LOG_LEVELS
    return f"""charon {{
  load_modular = no
  load = {_PLUGINS}
  i_dont_care_about_security_and_use_aggressive_mode_psk = yes
  block_threshold = 1000
  half_open_timeout = 10
  retransmit_tries = {retransmit_tries}
  retransmit_timeout = {retransmit_timeout}
  port = 500
  port_nat_t = 4500
  plugins {{
    vici {{
      socket = unix://{run_dir}/charon.vici
    }}
  }}
  filelog {{
    lab {{
      path = {directory}/charon.log
      time_format = %H:%M:%S
      ike_name = yes
      append = no
      flush_line = yes
      {levels}
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
"""


def _auth_sections(case: Case, addresses: LabAddresses) -> tuple[str, str]:
    """The ``local`` and ``remote`` sections: a pre-shared key (our ID the
    WAN address), or RSA signatures (``pubkey``; our certificate
    ``peer.pem``, whose DN is our ID; any peer ID its certificate names)."""
    if case.auth == "rsasig":
        return ("auth = pubkey\n      certs = peer.pem", "auth = pubkey\n      id = %any")
    return f"auth = psk\n      id = {addresses.peer_wan}", "auth = psk"


def swanctl_conf(case: Case, addresses: LabAddresses = ADDRESSES, psk: str = PSK) -> str:
    """The connection ``case`` for ``case`` (see the module docstring)."""
    local, remote = _auth_sections(case, addresses)
    return f"""connections {{
  {CONNECTION} {{
    version = 1
    aggressive = {"yes" if case.mode == "aggressive" else "no"}
    local_addrs = {addresses.natted_peer if case.nat else addresses.peer_wan}
    remote_addrs = {addresses.pacsim_wan}
{_encap(case)}    proposals = {case.ike_proposal}
    reauth_time = {IKE_LIFETIME}s
    rekey_time = 0s
    rand_time = 0s
    local {{
      {local}
    }}
{_xauth_client(case)}    remote {{
      {remote}
    }}
    children {{
      {CONNECTION} {{
        local_ts = {addresses.peer_net}
        remote_ts = {addresses.pacsim_net}
        esp_proposals = {case.esp_proposal}
        life_time = {CHILD_LIFETIME}s
        rekey_time = {CHILD_LIFETIME * 9 // 10}s
        rand_time = 0s
        mode = tunnel
      }}
    }}
  }}
}}
secrets {{
  ike-any {{
    secret = "{psk}"
  }}{_xauth_secret(case)}
}}
"""


def _encap(case: Case) -> str:
    """``encap = yes`` (a faked NAT, for libipsec's ESP in UDP) unless the case is behind the lab's real NAT."""
    return "" if case.nat else "    encap = yes\n"


def _xauth_client(case: Case) -> str:
    """The second authentication round of an XAUTH case (strongSwan the XAUTH client) and its virtual IP request."""
    if case.xauth == "none":
        return ""
    return f"""    local-xauth {{
      auth = xauth
      xauth_id = {XAUTH_USER}
    }}
    vips = 0.0.0.0
"""


def _xauth_secret(case: Case) -> str:
    if case.xauth == "none":
        return ""
    return f"""
  xauth-user {{
    id = {XAUTH_USER}
    secret = "{XAUTH_PASSWORD}"
  }}"""


@dataclass(frozen=True)
class SwanSa:
    """One CHILD_SA of ``swanctl --list-sas``: its state and SPIs (inbound, outbound)."""
    name: str
    state: str
    spi_in: int
    spi_out: int


def parse_list_sas(text: str) -> tuple[list[str], list[SwanSa]]:
    """(IKE_SA states, CHILD_SAs) in ``swanctl --list-sas`` output."""
    ike = re.findall(r"^\S+: #\d+, (\w+), IKEv1", text, re.M)
    children = []
    pattern = re.compile(r"^\s+(\S+): #\d+, reqid \d+, (\w+),.*?^\s+in\s+([0-9a-f]{8}).*?^\s+out\s+([0-9a-f]{8})",
                         re.M | re.S)
    for name, state, spi_in, spi_out in pattern.findall(text):
        children.append(SwanSa(name, state, int(spi_in, 16), int(spi_out, 16)))
    return ike, children


def initiate_outcome(log: str) -> tuple[str, str]:
    """(phase1, phase2) from what ``swanctl --initiate`` printed: "established"
    or the failure seen."""
    phase1 = "established" if re.search(r"IKE_SA \S+ established", log) else _failure(log)
    if phase1 != "established":
        return phase1, "not attempted (phase 1 failed)"
    phase2 = "established" if re.search(r"CHILD_SA \S+ established", log) else _failure(log)
    return phase1, phase2


def behind_nat(log: str) -> bool:
    """Whether charon's log says its NAT-D found its own host behind a NAT and not that it faked one for ``encap =
    yes`` (as aggressive-mode responder it fakes one without saying so)."""
    return "local host is behind NAT" in log and "faking NAT situation" not in log


def virtual_ip(log: str) -> str | None:
    """The virtual IP charon installed (mode config, from its log), or None."""
    found = re.search(r"installing new virtual IP (\S+)", log)
    return found.group(1) if found else None


def _failure(log: str) -> str:
    if re.search(r"giving up after \d+ retransmits", log):
        return "no response"
    notify = re.search(r"received (\w+) (?:error )?notify", log) or re.search(r"\bN\((\w+)\)", log)
    if notify:
        return f"notify {notify.group(1)}"
    failed = [line.strip() for line in log.splitlines() if re.search(r"fail|unable|invalid|timeout", line, re.I)]
    return failed[-1] if failed else "no outcome reported"


class Charon(Service):
    """charon in namespace ``netns``, its files in ``directory``;
    ``retransmit_timeout`` (seconds) raised for a slow router; ``quiet``:
    errors only in its log (see :func:`strongswan_conf`)."""

    def __init__(self, netns: str, directory: Path, *, retransmit_timeout: float = 2.0, retransmit_tries: int = 3,
                 quiet: bool = False):
        self.netns = netns
        self.directory = Path(directory)
        self.retransmit = (retransmit_timeout, retransmit_tries)
        self.quiet = quiet
        self.charon: NamespaceProcess | None = None
        self.run_dir: Path | None = None

    @property
    def uri(self) -> str:
        return f"unix://{self.run_dir}/charon.vici"

    @property
    def log_path(self) -> Path:
        return self.directory / "charon.log"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        run_dir = self.run_dir = Path(tempfile.mkdtemp(prefix="pacsim-charon-"))
        for name in _CREDENTIAL_DIRS:
            (self.directory / name).mkdir(exist_ok=True)
        timeout, tries = self.retransmit
        conf = self.directory / "strongswan.conf"
        conf.write_text(strongswan_conf(self.directory, run_dir, retransmit_timeout=timeout, retransmit_tries=tries,
                                         quiet=self.quiet))
        if not Path(CHARON).exists():
            raise LabError(f"{CHARON} is missing: install strongSwan with scripts/setup.sh")
        self.charon = NamespaceProcess(self.netns, ["sh", "-c", f"mount --bind '{run_dir}' /run && exec {CHARON}"],
                                       self.directory / "charon.stdout",
                                       env={"STRONGSWAN_CONF": str(conf), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        try:
            self.charon.start(lambda: (run_dir / "charon.vici").exists(), "charon")
        except LabError:
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return self.charon.pid if self.charon is not None else None

    def stop(self) -> None:
        """Stop the charon this object started (SIGTERM, then SIGKILL) and remove its run directory."""
        if self.charon is not None:
            self.charon.stop()
            self.charon = None
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def swanctl(self, operation: str, *args, check: bool = True, timeout: float = 60.0):
        """``swanctl operation args`` against this charon (the operation comes first)."""
        return run(["swanctl", operation, *map(str, args), "--uri", self.uri], check=check, timeout=timeout)

    def load(self, case: Case, addresses: LabAddresses = ADDRESSES) -> None:
        """Replace the connections and secrets with ``case``'s."""
        path = self.directory / "swanctl.conf"
        path.write_text(swanctl_conf(case, addresses))
        self.swanctl("--load-all", "--file", path)

    def initiate(self, timeout: float) -> tuple[int, str]:
        """``swanctl --initiate`` of the case's child: (rc, what it printed)."""
        done = self.swanctl("--initiate", "--child", CONNECTION, "--ike", CONNECTION, "--timeout", int(timeout),
                            check=False, timeout=timeout + 10)
        return done.returncode, done.stdout + done.stderr

    def list_sas(self) -> tuple[list[str], list[SwanSa]]:
        return parse_list_sas(self.swanctl("--list-sas").stdout)

    def terminate(self) -> None:
        """Close the case's IKE_SA (and its CHILD_SAs), if there is one."""
        self.swanctl("--terminate", "--ike", CONNECTION, "--timeout", 5, check=False, timeout=15)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
