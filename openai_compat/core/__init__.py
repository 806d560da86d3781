"""Framework-free pieces every layer may use: the JSON codec, log lines, model names, the catalogue,
metering, concurrency and SSE framing. Nothing here imports Flask or a family."""
