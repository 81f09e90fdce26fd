"""Prometheus metrics of the webhook intake and the job queue (served at GET /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter("taxonomist_deliveries_received_total", "Webhook deliveries received", ["event"])
REJECTED = Counter("taxonomist_deliveries_rejected_total", "Webhook deliveries rejected", ["reason"])
QUEUED = Counter("taxonomist_jobs_queued_total", "Jobs put on the queue", ["route"])
RUNNING = Gauge("taxonomist_jobs_running", "Jobs running now")
SUCCEEDED = Counter("taxonomist_jobs_succeeded_total", "Jobs finished", ["route"])
FAILED = Counter("taxonomist_jobs_failed_total", "Jobs whose retries were spent", ["route"])
RETRIED = Counter("taxonomist_jobs_retried_total", "Job attempts that failed and were retried", ["route"])
COALESCED = Counter("taxonomist_jobs_coalesced_total", "Jobs dropped because a newer one superseded them",
                    ["route"])
LATENCY = Histogram("taxonomist_job_latency_seconds", "Webhook received to job finished", ["route"],
                    buckets=(0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300))
COMMANDS_LIMITED = Counter("taxonomist_commands_rate_limited_total",
                           "Comments with commands dropped at intake: their writer sent too many")
POISONED = Counter("taxonomist_jobs_poisoned_total",
                   "Jobs marked done unfinished: their failure could not even be reported, or no route runs them",
                   ["route"])
RECONCILED = Counter("taxonomist_reconcile_queued_total",
                     "Jobs queued by reconciliation: `triage` (a head without this app's triage), `review` (activity)",
                     ["kind"])
REDELIVERED = Counter("taxonomist_reconcile_redelivered_total",
                      "Failed deliveries in the app's delivery log that reconciliation asked GitHub to redeliver")
