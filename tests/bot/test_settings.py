"""Start-up settings: required values, precedence, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.service.settings import SettingsError, load_settings


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "app.pem"
    path.write_text("-----BEGIN RSA PRIVATE KEY-----\n", encoding="utf-8")
    return path


def env_for(key: Path, **extra: str) -> dict[str, str]:
    return {"TAXONOMIST_APP_ID": "42", "TAXONOMIST_PRIVATE_KEY": str(key), "TAXONOMIST_WEBHOOK_SECRET": "s", **extra}


def test_missing_secret_or_key_is_a_start_up_error(key: Path) -> None:
    with pytest.raises(SettingsError, match=r"missing TAXONOMIST_WEBHOOK_SECRET.*never runs unauthenticated"):
        load_settings({"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(key)})
    with pytest.raises(SettingsError, match="TAXONOMIST_PRIVATE_KEY"):
        load_settings({"TAXONOMIST_APP_ID": "1", "TAXONOMIST_WEBHOOK_SECRET": "s"})
    with pytest.raises(SettingsError, match="is not a file"):
        load_settings(env_for(key, TAXONOMIST_PRIVATE_KEY=str(key.parent / "nope.pem")))


def test_commands_that_only_call_the_api_need_no_webhook_secret(key: Path) -> None:
    s = load_settings({"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(key)}, webhooks=False)
    assert (s.app_id, s.webhook_secret) == ("1", "")
    with pytest.raises(SettingsError, match="TAXONOMIST_PRIVATE_KEY"):
        load_settings({"TAXONOMIST_APP_ID": "1"}, webhooks=False)


def test_environment_defaults_and_conversions(key: Path, tmp_path: Path) -> None:
    s = load_settings(env_for(key, TAXONOMIST_DATA_DIR=str(tmp_path), TAXONOMIST_SKIP_CHECKS="pii, duplicate",
                              TAXONOMIST_WORKERS="3"))
    assert s.github_api_url == "https://api.github.com" and s.queue_url == ""
    assert s.queue_path == tmp_path / "queue.sqlite3"
    assert s.skip_checks == ("pii", "duplicate") and s.workers == 3


def test_file_then_environment_wins(key: Path, tmp_path: Path) -> None:
    config = tmp_path / "bot.yml"
    config.write_text(f"app_id: 7\nprivate_key: {key}\nwebhook_secret: from-file\n"
                      "github_api_url: http://127.0.0.1:9/api/v3\n", encoding="utf-8")
    s = load_settings({"TAXONOMIST_WEBHOOK_SECRET": "from-env"}, config)
    assert (s.app_id, s.webhook_secret, s.github_api_url) == ("7", "from-env", "http://127.0.0.1:9/api/v3")


def test_bad_values_are_named(key: Path, tmp_path: Path) -> None:
    config = tmp_path / "bot.yml"
    config.write_text("webhook_secrets: x\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'webhook_secrets'"):
        load_settings(env_for(key), config)
    with pytest.raises(SettingsError, match="TAXONOMIST_WORKERS: 'many'"):
        load_settings(env_for(key, TAXONOMIST_WORKERS="many"))
    with pytest.raises(SettingsError, match="TAXONOMIST_SKIP_CHECKS: unknown check or group 'pi'"):
        load_settings(env_for(key, TAXONOMIST_SKIP_CHECKS="pi"))
    with pytest.raises(SettingsError, match="not a redis:// URL"):
        load_settings(env_for(key, TAXONOMIST_QUEUE_URL="amqp://x"))
    with pytest.raises(SettingsError, match="TAXONOMIST_DATABASE_URL: not a postgresql:// URL") as refused:
        load_settings(env_for(key, TAXONOMIST_DATABASE_URL="mysql://u:hunter2@db/x"))
    assert "hunter2" not in str(refused.value)
    assert load_settings(env_for(key, TAXONOMIST_DATABASE_URL="postgresql://u@db/x")).database_url == "postgresql://u@db/x"
    with pytest.raises(SettingsError, match=r"TAXONOMIST_JOB_LEASE: 0\.0 is not a positive number of seconds"):
        load_settings(env_for(key, TAXONOMIST_JOB_LEASE="0"))


def test_an_app_id_that_is_not_a_number_is_a_start_up_error(key: Path) -> None:
    """The router filters other apps' check runs by this number: a client id (Iv1...) would crash later."""
    for wrong in ("Iv1.abc123", "42x", "٤٢"):
        with pytest.raises(SettingsError, match=r"TAXONOMIST_APP_ID: .* is not a GitHub App id"):
            load_settings(env_for(key, TAXONOMIST_APP_ID=wrong))
    assert load_settings(env_for(key, TAXONOMIST_APP_ID="123456")).app_id == "123456"
