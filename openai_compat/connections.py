"""Cutting a `requests` response's connection from another thread."""

from __future__ import annotations

import contextlib
import socket

import requests


def shutdown_socket(response: requests.Response) -> None:
    """Wake any thread blocked reading this response: `close()` alone does not interrupt a read."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
