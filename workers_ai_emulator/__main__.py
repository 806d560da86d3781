"""Command line: ``python -m workers_ai_emulator --port 8787``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from aiohttp import web

from .access import DEFAULT_ACCOUNT_ID, DEFAULT_TOKEN, Settings
from .app import create_app
from .faults import FaultState, parse_fields
from .scripting import Script


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workers_ai_emulator",
        description="Offline emulator of Cloudflare Workers AI's REST API "
        f"(any 32-hex account id works, e.g. {DEFAULT_ACCOUNT_ID}).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="TCP port (default 8787)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help=f"accepted Bearer token (default {DEFAULT_TOKEN})")
    parser.add_argument("--max-body-mb", type=float, default=64.0,
                        help="request body limit, 413/3006 above it (room for a 25 MiB upload in base64 JSON)")
    faults = parser.add_argument_group("faults (overridden by the control API and x-emulator-* headers)")
    faults.add_argument("--ttft-ms", type=float, help="delay before the first token")
    faults.add_argument("--token-delay-ms", type=float, help="delay between streamed tokens")
    faults.add_argument("--fail-status", type=int, help="answer every run request with this HTTP status")
    faults.add_argument("--fail-code", type=int, help="answer every run request with this error code")
    faults.add_argument("--fail-message", help="message for --fail-status/--fail-code")
    faults.add_argument("--retry-after", help="Retry-After header on forced failures")
    faults.add_argument("--cut-after", type=int, help="drop streams after N token events")
    faults.add_argument("--tokens", type=int, help="make every text reply exactly N tokens long")
    parser.add_argument("--script", metavar="FILE",
                        help='scripted answers: a JSON file {"rules": [...]} (see workers_ai_emulator.scripting)')
    parser.add_argument("--backlog", type=int, default=4096, help="listen backlog, sized for 1,000+ clients")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    cli_faults = {
        name: getattr(args, name)
        for name in ("ttft_ms", "token_delay_ms", "fail_status", "fail_code", "fail_message", "retry_after",
                     "cut_after", "tokens")
    }
    try:
        fault_state = FaultState(cli=parse_fields(cli_faults, "command line"))
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    script = Script()
    if args.script:
        try:
            with open(args.script, encoding="utf-8") as handle:
                script.replace(json.load(handle))
        except (OSError, ValueError) as exc:
            sys.exit(f"error: --script {args.script}: {exc}")
    settings = Settings(token=args.token, max_body_bytes=int(args.max_body_mb * 1024 * 1024), faults=fault_state,
                        script=script)
    print(f"workers-ai-emulator listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(create_app(settings), host=args.host, port=args.port, backlog=args.backlog, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
