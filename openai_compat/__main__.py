"""Operator commands: `python -m openai_compat new-key NAME` makes a client key for a named entry.

It prints the secret once (hand it to the key's user) and the `settings.toml` table that declares
the key by the SHA-256 of that secret, so the secret itself is never written into the file.
"""

from __future__ import annotations

import json
import re
import sys

from openai_compat.core.keys import new_secret, secret_hash

USAGE = "usage: python -m openai_compat new-key NAME"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "new-key" or not re.match(r"^[A-Za-z0-9._-]{1,64}$", argv[1]):
        print(USAGE + "   (NAME: 1-64 letters, digits, '.', '_' or '-')", file=sys.stderr)
        return 2
    name, secret = argv[1], new_secret()
    digest = secret_hash(secret)
    print(f"Secret for `{name}` (shown once; give it to the key's user):\n\n  {secret}\n")
    print("In settings.toml (add models, requests_per_minute, tokens_per_minute, budget_usd_per_day, "
          "budget_usd_per_month as needed):\n")
    print(f'  [named_api_keys."{name}"]\n  secret_sha256 = "{digest}"\n')
    print("Or in the environment (a PaaS), merged with the file's keys:\n")
    print(f"  NAMED_API_KEYS='{json.dumps({name: {'secret_sha256': digest}})}'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
