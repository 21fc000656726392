"""Crash points for the reliability tests: `REGWATCH_CRASHPOINT=NAME:N` makes the process
kill itself with SIGKILL the Nth time it passes the point NAME.

A test cannot otherwise stop a daemon exactly between "the change is stored" and "the next
one is", or between "the SMTP server has the message" and "the outbox says sent"; those are
the moments whose recovery must be proven. Unset (always, outside tests), a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_passes: dict[str, int] = {}


def crashpoint(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if REGWATCH_CRASHPOINT names this point and pass."""
    spec = os.environ.get("REGWATCH_CRASHPOINT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
