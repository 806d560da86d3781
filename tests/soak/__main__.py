"""`python -m tests.soak --seconds 300`: see tests/soak/soak.py."""

from tests.soak.soak import main

main()
