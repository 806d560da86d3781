"""The pooled-connection reuse check: a connection the upstream closed is never reused."""

from __future__ import annotations

import socket

from openai_compat.transport import UpstreamAdapter, _usable


def test_an_idle_open_connection_is_reused() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert _usable(ours)


def test_a_connection_the_upstream_closed_is_not_reused() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        theirs.close()
        assert not _usable(ours)


def test_a_connection_with_unexpected_bytes_waiting_is_not_reused() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
        assert not _usable(ours)


def test_no_socket_is_not_usable() -> None:
    assert not _usable(None)


def test_direct_and_proxied_pools_use_the_check() -> None:
    adapter = UpstreamAdapter()
    manager = adapter.poolmanager
    proxied = adapter.proxy_manager_for("http://proxy.test:3128")
    for pool_manager in (manager, proxied):
        for scheme in ("http", "https"):
            assert pool_manager.pool_classes_by_scheme[scheme].ConnectionCls.is_connected.fget is not None
            assert "transport" in pool_manager.pool_classes_by_scheme[scheme].ConnectionCls.__module__
