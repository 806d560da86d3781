"""`requests` adapters whose urllib3 connections do two things stock ones do not.

- Reuse check off the hub: before reusing a pooled connection urllib3 asks whether the peer has hung
  up, with a zero-timeout poll. Under gevent that poll is gevent's, which parks the request and runs
  a full turn of the event loop first: one hub round trip per upstream call, and at 64 concurrent
  requests a wait behind all of them. The same zero-timeout poll made directly on the socket answers
  the same question at once.
- Public peers only (image fetches): the address a connection actually reached is checked before a
  byte is sent, so a host name that resolved to a public address for the URL check and to a private
  one for the connection (DNS rebinding) is refused too.

Nothing else about the connections changes (TLS, proxies, timeouts are urllib3's).
"""

from __future__ import annotations

import contextlib
import select
import socket
from typing import Any, ClassVar

import requests
from gevent.monkey import get_original
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection

from openai_compat.net.guard import PrivatePeerError, is_public_address

_poll = get_original("select", "poll")  # the operating system's poll, whether or not gevent patched it


def _usable(sock: Any) -> bool:
    """An idle keep-alive socket with anything to read has been closed (or spoken out of turn)."""
    if sock is None:
        return False
    poller = _poll()
    poller.register(sock, select.POLLIN)
    return not poller.poll(0)


class _Connection(HTTPConnection):
    @property
    def is_connected(self) -> bool:
        return _usable(self.sock)


class _TLSConnection(HTTPSConnection):
    @property
    def is_connected(self) -> bool:
        return _usable(self.sock)


class _PublicPeer:
    """Checks the connected address before TLS or the request; urllib3's own SOCKS support extends
    `_new_conn` the same way. Behind a proxy the proxy connects, so the check is the proxy's."""

    proxy: Any

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if self.proxy is None:
            address = sock.getpeername()[0]
            if not is_public_address(address):
                sock.close()
                raise PrivatePeerError(address)
        return sock


class _PublicConnection(_PublicPeer, _Connection):
    pass


class _PublicTLSConnection(_PublicPeer, _TLSConnection):
    pass


def _pools(connection: type[HTTPConnection], tls_connection: type[HTTPSConnection]) -> dict[str, type]:
    return {
        "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": connection}),
        "https": type("TLSPool", (HTTPSConnectionPool,), {"ConnectionCls": tls_connection}),
    }


class _OwnPools(HTTPAdapter):
    POOLS: ClassVar[dict[str, type]]

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self.POOLS  # an instance attribute: urllib3's mapping is untouched

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # SOCKS proxies bring their own connection classes
            manager.pool_classes_by_scheme = self.POOLS
        return manager


class UpstreamAdapter(_OwnPools):
    POOLS = _pools(_Connection, _TLSConnection)


class PublicOnlyAdapter(_OwnPools):
    POOLS = _pools(_PublicConnection, _PublicTLSConnection)


def socket_of(response: requests.Response) -> Any:
    """The socket a response is read from. While a body that ends when the connection closes (no
    length, not chunked) is read, http.client has handed the socket over to the response's file and
    the connection holds none: it is found there."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:
        buffered = getattr(getattr(raw, "_fp", None), "fp", None)  # http.client.HTTPResponse's reader
        sock = getattr(getattr(buffered, "raw", None), "_sock", None)  # its socket.SocketIO
    return sock


def shutdown_socket(response: requests.Response) -> None:
    """Wake any thread blocked reading this response: `close()` alone does not interrupt a read."""
    sock = socket_of(response)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
