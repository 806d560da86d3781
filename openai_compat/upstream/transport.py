"""The `requests` adapter under the upstream client: urllib3 pools whose reuse check stays off the hub.

Before reusing a pooled connection urllib3 asks whether the peer has hung up, with a zero-timeout
poll. Under gevent that poll is gevent's, which parks the request and runs a full turn of the
event loop first: one hub round trip per upstream call, and at 64 concurrent requests a wait
behind all of them. The same zero-timeout poll made directly on the socket answers the same question
at once. Nothing else about the connections changes (TLS, proxies, timeouts are urllib3's).
"""

from __future__ import annotations

import select
from typing import Any

from gevent.monkey import get_original
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection

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


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOLS = {"http": _Pool, "https": _TLSPool}


class UpstreamAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._use_our_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # SOCKS proxies bring their own connection classes
            self._use_our_pools(manager)
        return manager

    @staticmethod
    def _use_our_pools(manager: PoolManager) -> None:
        manager.pool_classes_by_scheme = _POOLS  # an instance attribute; the module's mapping is untouched
