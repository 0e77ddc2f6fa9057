"""Processes of a gloo group on this machine, started by a benchmark."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port free on this machine now, for the group's rendezvous."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
