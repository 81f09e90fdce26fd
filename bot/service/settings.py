"""The service's settings: environment variables, or the same keys in a YAML file.

A missing webhook secret, app id or private key stops start-up with a message naming what is
missing: the bot never serves unauthenticated. Environment variables win over the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from bot.dashboard.sql import is_postgres_url
from bot.service.leases import DEFAULT_LEASE
from checks.registry import SelectionError, select

ENV_PREFIX = "TAXONOMIST_"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_MAX_RATE_LIMIT_WAIT = 120.0  # seconds; a module constant, since a slotted class attribute is a descriptor


MIN_DASHBOARD_PASSWORD = 16


class SettingsError(Exception):
    """The service cannot start; the message says which setting and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    app_id: str
    private_key: Path
    webhook_secret: str = ""  # needed where webhooks are received (serve), not by the API-only commands
    github_api_url: str = DEFAULT_API_URL
    data_dir: Path = Path(".taxonomist")
    queue_url: str = ""  # empty: SQLite in data_dir; redis://... for scale-out (also the per-user command limits)
    database_url: str = ""  # empty: the store is SQLite in data_dir; postgresql://... shared by several machines
    workers: int = 1  # worker threads for triage and review (the triage queue)
    model_workers: int = 1  # worker threads for model work (precheck, `/generate`); 0 in `serve`: run elsewhere
    job_retries: int = 5
    retry_delay: float = 2.0  # seconds before the first retry; doubled each time
    skip_checks: tuple[str, ...] = ()
    write_interval: float = 0.0  # seconds between API writes (GitHub asks apps to space them out)
    request_timeout: float = 15.0
    api_retries: int = 6  # per API call, on 5xx, rate limits and timeouts, before the job itself retries
    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT  # give the job back to the queue rather than sleep longer
    queue_retention_days: float = 4.0  # delivery ids and done marks are kept this long (redeliveries: 3 days)
    annotations_per_file: int = 200  # check-run annotations per file; the summary counts the rest
    annotations_per_run: int = 1000  # check-run annotations per run
    job_lease: float = DEFAULT_LEASE  # seconds a running job's lease lasts unrenewed (a killed worker's job waits)
    dashboard: bool = True  # serve the read-only dashboard at `/` beside the webhook
    dashboard_private: bool = False  # also show private repositories' PRs (then only behind dashboard_password)
    dashboard_password: str = ""  # HTTP Basic password for every dashboard page (needed with dashboard_private)
    dashboard_port: int = 0  # 0: the dashboard shares the webhook's port; N: its own process on port N
    build_config: str = ""  # the weekly build's --config file, for `/generate` previews (empty: defaults)
    reconcile_minutes: float = 10.0  # `serve` walks open PRs and the delivery log at start-up and this often; 0: never
    precheck_model: str = "auto"  # auto: newest build in $TAXONOMIST_BUILDS, else embedded; none: off; folder|URL
    precheck_judge_url: str = ""  # an OpenAI-compatible judge for answers without facts; empty: similarity
    precheck_judge_model: str = ""  # the model name sent to it (empty: the server's first)

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    def private_key_pem(self) -> str:
        try:
            return self.private_key.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"TAXONOMIST_PRIVATE_KEY: cannot read {self.private_key}: {exc.strerror}") from None


_REQUIRED = ("app_id", "private_key")
_KNOWN = {f.name for f in fields(Settings)}


_BOOLS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return _BOOLS[str(raw).strip().lower()]  # KeyError: named as a bad value by _convert


_CONVERTERS = {"int": int, "float": float, "Path": Path, "str": str, "bool": _bool}
_TYPES = {f.name: str(f.type) for f in fields(Settings)}


def _convert(name: str, raw: Any) -> Any:
    """A setting's value from text (environment) or YAML, by the field's declared type."""
    try:
        if name == "skip_checks":
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
        return _CONVERTERS[_TYPES[name]](raw)
    except (TypeError, ValueError, KeyError):
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {raw!r} is not a valid value") from None


def load_settings(environ: Mapping[str, str] | None = None, config_file: Path | None = None,
                  webhooks: bool = True) -> Settings:
    """Settings from `config_file` (YAML mapping of the lower-case names), then the environment.

    `webhooks=False` is for commands that only call the API (announcing a build): they need the
    app's identity, not the secret that signs deliveries."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{config_file}: cannot read the settings: {exc}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{config_file}: expected a mapping of settings")
        unknown = sorted(set(data) - _KNOWN)
        if unknown:
            raise SettingsError(f"{config_file}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
        values.update(data)
    for name in _KNOWN:
        if env.get(ENV_PREFIX + name.upper()):
            values[name] = env[ENV_PREFIX + name.upper()]
    required = (*_REQUIRED, "webhook_secret") if webhooks else _REQUIRED
    missing = [ENV_PREFIX + n.upper() for n in required if not values.get(n)]
    if missing:
        raise SettingsError(f"missing {', '.join(missing)}: the bot never runs unauthenticated "
                            "(set them in the environment or in --config)")
    settings = Settings(**{k: _convert(k, v) for k, v in values.items()})
    if not settings.app_id.isascii() or not settings.app_id.isdigit():
        raise SettingsError(f"TAXONOMIST_APP_ID: {settings.app_id!r} is not a GitHub App id (the number on the app's "
                            "settings page, not its client id)")
    if not settings.private_key.is_file():
        raise SettingsError(f"TAXONOMIST_PRIVATE_KEY: {settings.private_key} is not a file")
    if settings.dashboard_private and len(settings.dashboard_password) < MIN_DASHBOARD_PASSWORD:
        raise SettingsError(f"TAXONOMIST_DASHBOARD_PRIVATE: private repositories are shown only behind a password: "
                            f"set TAXONOMIST_DASHBOARD_PASSWORD (at least {MIN_DASHBOARD_PASSWORD} characters)")
    try:
        select(skip=settings.skip_checks)
    except SelectionError as exc:
        raise SettingsError(f"TAXONOMIST_SKIP_CHECKS: {exc}") from None
    if settings.queue_retention_days <= 0:
        raise SettingsError(f"TAXONOMIST_QUEUE_RETENTION_DAYS: {settings.queue_retention_days} is not a positive "
                            "number of days")
    for name in ("annotations_per_file", "annotations_per_run"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {getattr(settings, name)} is not a count")
    if settings.workers < 1 or settings.model_workers < 0:
        raise SettingsError(f"TAXONOMIST_WORKERS / TAXONOMIST_MODEL_WORKERS: {settings.workers} / "
                            f"{settings.model_workers} (triage needs at least one thread; model work none or more)")
    if settings.reconcile_minutes < 0:
        raise SettingsError(f"TAXONOMIST_RECONCILE_MINUTES: {settings.reconcile_minutes} is not a number of minutes "
                            "(0 turns reconciliation off)")
    if settings.precheck_judge_url and not settings.precheck_judge_url.startswith(("http://", "https://")):
        raise SettingsError(f"TAXONOMIST_PRECHECK_JUDGE_URL: {settings.precheck_judge_url!r} is not an http(s) URL "
                            "(leave it empty for no judge)")
    if settings.job_lease <= 0:
        raise SettingsError(f"TAXONOMIST_JOB_LEASE: {settings.job_lease} is not a positive number of seconds")
    if settings.queue_url and not settings.queue_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"TAXONOMIST_QUEUE_URL: {settings.queue_url!r} is not a redis:// URL")
    if settings.database_url and not is_postgres_url(settings.database_url):
        raise SettingsError("TAXONOMIST_DATABASE_URL: not a postgresql:// URL (empty: SQLite in the data directory)")
    return settings
