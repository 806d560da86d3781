"""`/v1/models`: the configured aliases plus the account's Workers AI catalogue."""
