"""Start, watch and stop the processes the tests and the benchmark run against: the Workers AI
emulator, the gateway under gunicorn exactly as the Procfile starts it, and the backing servers.

One copy for both: `tests/support` adds test conveniences on top, `bench/` adds its load settings.
"""
