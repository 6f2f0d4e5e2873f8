"""Where a long training run's time goes, as it goes: step, model, fold and what is left.

`make run` prints notebook 03's lines starting with `PREFIX` as they come (the runner reads
the kernel's stdout live), so a London-size run says "compare: Random Forest Regressor,
fold 3/5, about 4.2 min left" instead of nothing for ten minutes. The model comes from
PyCaret's own log ("Initializing Random Forest Regressor"), the fold from the
cross-validation splitter, which yields each fold just before its fit.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Self, TextIO

from sklearn.model_selection import KFold

#: The start of every progress line (the runner forwards lines that start with it).
PREFIX = "training: "
#: PyCaret's logger and the message it writes before each model it fits.
PYCARET_LOGGER = "logs"
INITIALIZING = "Initializing "


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def unredirected(stream: TextIO) -> TextIO:
    """Where progress lines go while PyCaret cross-validates, which redirects stdout into its
    log, at the file-descriptor level too (wurlitzer): a notebook's output stream as it is
    (it is no file descriptor); a terminal's through a duplicate of its descriptor."""
    if hasattr(stream, "pub_thread"):  # ipykernel's OutStream
        return stream
    try:
        return os.fdopen(os.dup(stream.fileno()), "w", buffering=1)
    except (OSError, ValueError, io.UnsupportedOperation):  # pytest's capture, a StringIO
        return stream


class Progress(logging.Handler):
    """Counts fits within a step (models x folds) and says each with an estimate of the time
    left: the step's elapsed time per finished fold times the fits to go."""

    def __init__(self, say: Callable[[str], None] = print) -> None:
        super().__init__(logging.INFO)
        self.say = say
        self.stream = unredirected(sys.stdout)
        self.name_, self.total, self.done, self.model = "", 0, 0, ""
        self.started = time.monotonic()

    def line(self, message: str) -> None:
        with contextlib.redirect_stdout(self.stream):
            self.say(f"{PREFIX}{message}")

    def step(self, name: str, fits: int, note: str = "") -> None:
        """A step of `fits` model fits starts (0: unknown)."""
        self.name_, self.total, self.done, self.model = name, fits, 0, ""
        self.started = time.monotonic()
        self.line(f"{name}{': ' + note if note else ''}")

    def emit(self, record: logging.LogRecord) -> None:
        """PyCaret's log: the model it fits next ("Initializing Random Forest Regressor")."""
        message = record.getMessage()
        if message.startswith(INITIALIZING) and not message.endswith("()"):  # not a function
            self.model = message[len(INITIALIZING):].strip()

    def fold(self, index: int, folds: int) -> None:
        """A fold's fit starts (said in a step of known fits: a randomized search takes all
        its folds at once, so its folds say nothing of its progress)."""
        if not self.total:
            return
        left = ""
        if self.done and self.total:
            per_fit = (time.monotonic() - self.started) / self.done
            left = f", about {minutes(per_fit * max(0, self.total - self.done))} left"
        self.done += 1
        model = f"{self.model}, " if self.model else ""
        self.line(f"{self.name_}: {model}fold {index}/{folds}{left}")

    def __enter__(self) -> Self:
        """Listen to PyCaret's log (after setup(), which replaces its handlers)."""
        logging.getLogger(PYCARET_LOGGER).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger(PYCARET_LOGGER).removeHandler(self)
        if self.stream is not sys.stdout:
            self.stream.close()


class AnnouncedKFold(KFold):
    """PyCaret's own shuffled K-fold (same splits for the same seed) that tells `progress`
    each fold as cross-validation takes it."""

    def __init__(self, n_splits: int, random_state: int, progress: Progress | None = None):
        super().__init__(n_splits=n_splits, shuffle=True, random_state=random_state)
        self.progress = progress

    def split(self, X, y=None, groups=None) -> Iterator:
        for index, fold in enumerate(super().split(X, y, groups), start=1):
            if self.progress is not None:
                self.progress.fold(index, self.n_splits)
            yield fold
