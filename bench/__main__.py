"""Command line: ``python -m bench [--quick] [--scenarios a,b] [--worker-class gevent] [--peer litellm] [--scale]``.

Exit status: 0 when every scenario ran without errors, 1 when one errored badly (more than 1 % of
its requests failed, or a process died) or the scale run lost a request, 2 for bad arguments.
Missed performance targets are printed, not turned into a failure: ``--quick`` is the CI smoke
test of the harness itself.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import report, runner, scale
from bench.scenarios import SCENARIOS, select
from bench.servers import WorkerConfig
from harness.processes import StartError

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_TTFT_MS = 20.0
QUICK_TOKEN_DELAY_MS = 2.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: every scenario, tiny, a few seconds")
    parser.add_argument("--scenarios", help="comma-separated names (default: all but opt-in ones; see --list)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the results")
    parser.add_argument("--log-dir", type=Path, default=RESULTS / "logs", help="emulator/gateway/peer logs")
    gw = parser.add_argument_group("gateway (passed as the environment the Procfile's gunicorn reads)")
    gw.add_argument("--worker-class", choices=("gthread", "gevent"), default="gevent",
                    help="default: the Procfile's (gevent)")
    gw.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    gw.add_argument("--threads", type=int, default=64, help="GUNICORN_THREADS (gthread)")
    gw.add_argument("--worker-connections", type=int, default=1000, help="GUNICORN_WORKER_CONNECTIONS (gevent)")
    gw.add_argument("--pool-size", type=int, default=None,
                    help="UPSTREAM_POOL_SIZE (default: the gateway's, one per concurrent request)")
    gw.add_argument("--gateway-env", action="append", default=[], metavar="KEY=VALUE",
                    help="any other gateway setting, e.g. SSE_HEARTBEAT_SECONDS=0 (repeatable)")
    emu = parser.add_argument_group("emulator pacing (scenarios scale these; see --list)")
    emu.add_argument("--ttft-ms", type=float, help=f"time to first token (default 200, --quick {QUICK_TTFT_MS:g})")
    emu.add_argument("--token-delay-ms", type=float,
                     help=f"delay between streamed tokens (default 20, --quick {QUICK_TOKEN_DELAY_MS:g})")
    parser.add_argument("--peer", choices=("litellm",), help="also run the chat scenarios through a peer")
    parser.add_argument("--peer-workers", type=int, default=2, help="the peer's worker processes")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the chat scenarios through bench.floor_app: gunicorn + Flask + requests "
                             "relaying to the emulator with no gateway logic, the stack's own cost (default: on)")
    parser.add_argument("--relay", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the chat and completions scenarios through bench.relay_app: a pure byte "
                             "relay (gunicorn + Flask + urllib3, no translation), the second floor (default: on)")
    parser.add_argument("--plot", type=Path, metavar="PATH",
                        help="where to write the PNG (default: beside --json; --quick makes none unless given)")
    parser.add_argument("--scale", action="store_true",
                        help="the scale run: two instances (R2 on moto, Redis) behind a round-robin proxy, one "
                             "stopped mid-run; alone, or after the scenarios named with --scenarios")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record a py-spy profile of the gateway (and peer) per scenario into DIR")
    args = parser.parse_args(argv)
    if args.ttft_ms is None:
        args.ttft_ms = QUICK_TTFT_MS if args.quick else 200.0
    if args.token_delay_ms is None:
        args.token_delay_ms = QUICK_TOKEN_DELAY_MS if args.quick else 20.0
    for item in args.gateway_env:
        if "=" not in item:
            parser.error(f"--gateway-env wants KEY=VALUE, got {item!r}")
    return args


def list_scenarios() -> None:
    for s in SCENARIOS:
        kind = "stream" if s.stream else "json"
        print(f"{s.name:<22} {s.family:<13} {kind:<6} c={s.concurrency:<5} <= {s.max_requests} req / "
              f"{s.max_seconds:g} s  tokens={s.tokens} ttft x{s.ttft_factor:g} delay x{s.delay_factor:g}"
              + (f"  ({s.note})" if s.note else "") + ("" if s.default else "  [opt-in]"))


def _stop_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the runner's ExitStack, which stops every process it started


def main(argv: Sequence[str] | None = None) -> int:
    # Started in the background, a shell ignores SIGINT for us; SIGTERM would skip all clean-up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    args = parse_args(argv)
    if args.list:
        list_scenarios()
        return 0
    config = WorkerConfig(worker_class=args.worker_class, workers=args.workers, threads=args.threads,
                          worker_connections=args.worker_connections, pool_size=args.pool_size)
    scenarios = [] if args.scale and not args.scenarios else select(args.scenarios)
    opts = runner.RunOptions(
        scenarios=scenarios, config=config, ttft_ms=args.ttft_ms, token_delay_ms=args.token_delay_ms,
        quick=args.quick, peer=args.peer, peer_workers=args.peer_workers, log_dir=args.log_dir.resolve(),
        gateway_env=dict(item.split("=", 1) for item in args.gateway_env),
        profile_dir=args.profile.resolve() if args.profile else None, floor=args.floor, relay=args.relay,
    )
    try:
        record, failures = runner.run(opts) if scenarios else (runner.empty_record(opts), [])
        if args.scale:
            print("running the scale run ...", flush=True)
            record["scale"] = scale.run_scale(scale.ScaleOptions(opts.log_dir, opts.ttft_ms, quick=args.quick))
            failures += scale.failures(record["scale"])
    except (StartError, RuntimeError) as exc:  # nothing measured: a process did not start or warm up
        print(f"bench: could not start: {exc}", file=sys.stderr)
        return 1
    print()
    print(report.render(record))
    report.write_json(record, args.json)
    print(f"\nresults written to {args.json}")
    plot_path = args.plot or (None if args.quick else args.json.with_suffix(".png"))
    if plot_path is not None and record["scenarios"]:
        from bench.plot import write_plot

        if write_plot(record, plot_path) is not None:
            print(f"plot written to {plot_path}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
