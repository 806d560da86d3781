"""The image retrieval baseline: the stored objects read straight from the local store's directory and
sent as they are (aiohttp's static files, sendfile where the OS has it): what serving an image costs
with nothing of the gateway in the way.

``python -m bench.store_server --port 8123 --directory .data/storage/objects``
"""

from __future__ import annotations

import argparse

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/health", lambda request: web.Response(text="ok"))
    app.router.add_static("/", args.directory)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, backlog=4096)


if __name__ == "__main__":
    main()
