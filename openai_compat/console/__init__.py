"""The console: pages for the people who run the gateway (a playground and a usage view).

Not an endpoint family: it serves HTML shells and their static files, and its scripts use the
gateway's own endpoints like any other client. It imports no family.
"""
