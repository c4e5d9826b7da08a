# Ref: docs/regress.md "A fault to catch"
"""A deliberate fault of the behavioural model, for tests of the campaigns only.

``PACSIM_TEST_FAULT=cipher_payload=N`` makes the model's cipher unit flip the
first output byte of every job whose cipher region is ``N`` bytes (a wrong
ciphertext that a differential check must catch). Unset (always, outside
the tests of ``pacsim regress``) the model is untouched.

``PACSIM_TEST_KILL_CELL`` and ``PACSIM_TEST_KILL_MARK`` make the worker that
starts one cell kill itself, once (the test of a worker lost mid-campaign).
:data:`TEST_ENV` names all three: ``pacsim regress`` hands them to its workers
and prints them in the rerun command of a failure.
"""
import os
import signal

__all__ = ["FAULT_ENV", "KILL_CELL_ENV", "KILL_MARK_ENV", "cipher_fault_length", "faulty_cipher_output", "kill_worker_once",
           "TEST_ENV"]

#: Environment variable naming the fault.
FAULT_ENV = "PACSIM_TEST_FAULT"


def cipher_fault_length() -> int | None:
    """The cipher-region length (bytes) the fault corrupts, or None."""
    text = os.environ.get(FAULT_ENV, "")
    if not text:
        return None
    name, _, value = text.partition("=")
    if name != "cipher_payload" or not value.isdigit():
        raise ValueError(f"{FAULT_ENV}={text!r}: expected cipher_payload=N (bytes)")
    return int(value)


def faulty_cipher_output(output: bytes, payload_bytes: int) -> bytes:
    """``output`` (the first cipher output of a job with ``payload_bytes`` of
    cipher region) with its first byte flipped when the fault names that length."""
    if output and cipher_fault_length() == payload_bytes:
        return bytes([output[0] ^ 0xFF]) + output[1:]
    return output


#: A test of ``pacsim regress`` kills the worker process that starts cell
#: ``PACSIM_TEST_KILL_CELL`` (a cell id), once: the file ``PACSIM_TEST_KILL_MARK``
#: records that it did, so Ray's retry of the cell runs to its end.
KILL_CELL_ENV = "PACSIM_TEST_KILL_CELL"
KILL_MARK_ENV = "PACSIM_TEST_KILL_MARK"


def kill_worker_once(cell_id: str) -> None:
    """SIGKILL this process if it is the first to start the cell the kill test names."""
    mark = os.environ.get(KILL_MARK_ENV)
    if mark and os.environ.get(KILL_CELL_ENV) == cell_id:
        try:
            with open(mark, "x") as file:
                file.write(f"{os.getpid()}\n")
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


#: Every variable of this module, handed from ``pacsim regress`` to its cells.
TEST_ENV = (FAULT_ENV, KILL_CELL_ENV, KILL_MARK_ENV)
