"""The pooled-connection reuse check: a connection the upstream closed is never reused."""

from __future__ import annotations

import socket

from openai_compat.net.transport import UpstreamAdapter, _usable


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


def test_direct_and_proxied_pools_do_not_reuse_a_connection_the_upstream_closed() -> None:
    """Both the direct pools and those behind an HTTP proxy get connections with the check."""
    adapter = UpstreamAdapter()
    proxied = adapter.proxy_manager_for("http://proxy.test:3128")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        for manager in (adapter.poolmanager, proxied):
            connection = manager.pool_classes_by_scheme["http"].ConnectionCls("127.0.0.1", port)
            connection.connect()
            peer, _ = server.accept()
            try:
                assert connection.is_connected
                peer.close()
                assert not connection.is_connected
            finally:
                connection.close()
