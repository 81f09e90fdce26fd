"""The service: webhook intake (app), the durable queue and its jobs, the router handlers register on,
settings, signatures, leases, metrics, logs and rate limits.
"""
