"""One daemon per database: an exclusive lock on a file next to it.

flock (not a PID file): the kernel releases it when the process dies, even by SIGKILL, so a
crashed daemon never blocks its restart, and two live daemons can never both hold it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from store.db import StoreError


class LockedError(Exception):
    """Raised when another process holds the database's daemon lock, from `DaemonLock.acquire`."""


class DaemonLock:
    """The daemon lock of `database` (file `<database>.daemon.lock`)."""

    def __init__(self, database: str | Path) -> None:
        self.database = Path(database)
        self.path = Path(f"{database}.daemon.lock")
        self._fd: int | None = None

    def acquire(self) -> DaemonLock:
        """Take the lock or raise LockedError naming the holder's PID."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot use database {self.database}: cannot create its lock file: "
                             f"{exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(f"another `regwatch run` (pid {holder}) is already using {self.database}"
                              f"; stop it first (lock: {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up (also done by the kernel when the process ends)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DaemonLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
