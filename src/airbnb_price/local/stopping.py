"""Stopping a run when asked: Ctrl-C (SIGINT) in a terminal, or SIGTERM from a scheduler's or
CI's timeout, ends the run within seconds and leaves its folder clean and its record true.

Kernels are started in a session of their own (jupyter_client does that), so a terminal's
Ctrl-C reaches only the runner: the runner's handler raises `RunInterrupted`, which unwinds
papermill wherever it waits, and `stop_kernels` then ends every kernel this process started
(its whole process group: PyCaret's joblib workers with it). The runner marks run.json "interrupted" with the notebook and the cell
(`running_cell`, from the partly executed notebook papermill saves as cells finish).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: Exit codes of a process ended by a signal, as shells report them (128 + signal number).
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
#: Seconds to wait for killed kernels to be gone.
GRACE_S = 3.0
#: The process ids of the kernels this process started and has not yet shut down.
KERNELS: set[int] = set()


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal; `signal_name` says which."""

    def __init__(self, signal_name: str):
        super().__init__(f"stopped by {signal_name}")
        self.signal_name = signal_name
        self.run_dir: Path | None = None  # set once the run has a folder

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signal_name, 1)


@contextlib.contextmanager
def signals_stop_the_run() -> Iterator[None]:
    """SIGINT and SIGTERM raise RunInterrupted while the block runs (main thread only: a
    fleet's runs execute in Dask worker threads, where the worker's own handling applies)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise RunInterrupted(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); reap it if it is our child
    with contextlib.suppress(ChildProcessError):
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    return True


def stop_kernels() -> list[int]:
    """End every kernel this process started, each with its process group (PyCaret's joblib
    workers go with it), and the work papermill left waiting on them; the pids ended.

    SIGKILL, not a polite shutdown: the run is being abandoned, and a kernel told to stop in
    mid-cell answers on sockets already closed (tracebacks on the user's terminal)."""
    pids = sorted(KERNELS)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + GRACE_S
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    KERNELS.difference_update(pids)
    _drop_abandoned_tasks()
    return pids


def _drop_abandoned_tasks() -> None:
    """Cancel the tasks the signal left in papermill's event loop (they wait on a kernel that
    is gone) and keep the loop from printing their 'Kernel died' when they are collected."""
    import asyncio

    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending and not loop.is_running():
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.set_exception_handler(_quiet_about_dead_kernels)


def _quiet_about_dead_kernels(loop: object, context: dict) -> None:
    from nbclient.exceptions import DeadKernelError

    if not isinstance(context.get("exception"), DeadKernelError):
        loop.default_exception_handler(context)  # type: ignore[attr-defined]


def running_cell(executed: Path) -> dict | None:
    """The cell the run stopped in: the first code cell of the executed notebook (papermill
    saves it as cells finish) that never finished (no end time); its index, execution count
    and first line. None when every cell finished or the notebook is unreadable."""
    try:
        notebook = json.loads(executed.read_text())
    except (OSError, ValueError):
        return None
    for index, cell in enumerate(notebook.get("cells", [])):
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.get("cell_type") == "code" and (meta.get("status") == "running"
                                                 or not meta.get("end_time")):
            source = "".join(cell.get("source", "")).strip().splitlines()
            return {"cell_index": index, "execution_count": cell.get("execution_count"),
                    "first_line": source[0] if source else ""}
    return None
