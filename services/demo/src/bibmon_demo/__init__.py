"""Development-only demo data of the platform (not a dependency of any service).

`bibmon-demo seed` fills empty development databases through each service's own use
cases and outbox, so the events flow as in production: see README.md and
docs/operations.md.
"""
