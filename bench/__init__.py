"""Benchmark harness for the gateway: ``python -m bench`` (``--quick`` for the CI smoke run).

It starts the Workers AI emulator, the gateway exactly as the Procfile does (gunicorn with
``gunicorn.conf.py``) and, optionally, a LiteLLM proxy as a peer, then drives each scenario twice
with the same load from a separate load-generator process: once straight at the emulator (the
baseline) and once through the gateway. The gateway's figures are reported as differences and
ratios to that baseline, because on a shared 2-core box absolute numbers mean little.
"""
