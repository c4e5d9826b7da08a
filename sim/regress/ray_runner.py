# Ref: Ray Core API (ray.init, ray.remote max_retries, ray.wait); docs/regress.md "On Ray"
"""A campaign's cells on Ray: a local instance of ``workers`` CPUs by default,
or the cluster at ``address`` (``ray start --head`` prints it; ``auto``
finds a cluster started on this machine). Ray 2.5x clusters require a
token: joining one, the token that ``ray start`` saved in
``~/.ray/auth_token`` is used (``RAY_AUTH_MODE=token``) unless
``RAY_AUTH_MODE`` says otherwise.

Each cell is one task (one CPU); results come back as they finish
(:func:`ray.wait`), in any order. A task whose worker process dies is run
again (up to :data:`MAX_RETRIES` times) on any worker; a cell that fails
even so comes back as a failed cell (``failing_check`` ``lost worker``), so
every cell gives exactly one result. Builds of the RTL bench are shared
through the content-addressed cache (:func:`pacsim.sim.build.build`, one
build per configuration under a file lock), so a configuration is compiled
once per machine, whatever the number of workers.
"""
import os
from pathlib import Path

from .cells import cell_result, run_cell

__all__ = ["MAX_RETRIES", "run_on_ray"]

#: Where ``ray start`` saves the cluster's authentication token on this machine.
TOKEN_FILE = Path.home() / ".ray" / "auth_token"
#: Times a cell is run again after its worker process died.
MAX_RETRIES = 3


def _start(workers: int, address: str | None) -> None:
    import ray
    # The workers import pacsim from this interpreter's environment: hand them its PATH (the venv's tools).
    runtime_env = {"env_vars": {"PATH": os.environ.get("PATH", "")}}
    options = {"runtime_env": runtime_env, "logging_level": "WARNING", "log_to_driver": False}
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(address="local", num_cpus=workers, include_dashboard=False, **options)   # never an existing one


def run_on_ray(cells, *, workers: int, address: str | None = None, env: dict | None = None):
    """Run ``cells`` (:class:`~.campaign.Cell`); yield each result dict as it finishes.

    ``env``: environment handed to every cell (the test-only variables).
    """
    if address and "RAY_AUTH_MODE" not in os.environ and TOKEN_FILE.exists():
        os.environ["RAY_AUTH_MODE"] = "token"      # read when ray is imported: `ray start` saved its token there
    import ray
    from ray.exceptions import RayError

    _start(workers, address)
    try:
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(run_cell)
        pending = {task.remote(cell.as_dict(), env or {}): cell for cell in cells}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=min(len(pending), 16), timeout=0.5)
            for ref in done:
                cell = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except RayError as error:
                    result = cell_result(cell, {"verdict": "fail", "failing_check": "lost worker",
                                                "message": f"{type(error).__name__}: {str(error)[:2000]}"}, 0.0)
                yield result
    finally:
        ray.shutdown()
