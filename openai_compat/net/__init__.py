"""Outbound networking: the address guard, the connection adapters and the one guarded fetcher.

Everything the gateway fetches on a client's behalf (vision `image_url`s, image edits by URL,
Responses `input_image` URLs) goes through `fetcher.GuardedFetcher`; the upstream client shares
only the transport's connection classes.
"""
