"""Settings from the environment (ARREARS_*), with safe defaults for the demo."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEMO_SECRET_KEY = "demo-secret-key-change-me"


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


@dataclass
class Settings:
    """Everything the app reads from its environment, in one place."""

    env: str = "development"
    secret_key: str = DEMO_SECRET_KEY
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    session_cookie_secure: bool = False
    login_max_failures: int = 5
    login_window_minutes: int = 15
    scheduler_enabled: bool = True
    # Outgoing e-mail (SMTP). With no host, e-mail messages fail over to the next channel.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "arrears@localhost"
    # SMS HTTP gateway. With no URL, SMS messages fail over to the next channel.
    sms_url: str | None = None
    sms_key: str | None = None
    sms_sign: str = ""
    sms_template: str = ""
    dispatch_chunk: int = 50
    # Base URL of the public notice-verification page (the QR code on a public notice, L16).
    public_base_url: str = "http://127.0.0.1:5000"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        get = env.get
        settings = cls(
            env=get("ARREARS_ENV", "development"),
            secret_key=get("ARREARS_SECRET_KEY", DEMO_SECRET_KEY),
            database_url=get("ARREARS_DATABASE_URL") or None,
            timezone=get("ARREARS_TIMEZONE", "Asia/Shanghai"),
            default_locale=get("ARREARS_DEFAULT_LOCALE", "zh_CN"),
            session_cookie_secure=_flag(get("ARREARS_SESSION_COOKIE_SECURE"), default=False),
            login_max_failures=int(get("ARREARS_LOGIN_MAX_FAILURES", "5")),
            login_window_minutes=int(get("ARREARS_LOGIN_WINDOW_MINUTES", "15")),
            scheduler_enabled=_flag(get("ARREARS_SCHEDULER"), default=True),
            smtp_host=get("ARREARS_SMTP_HOST") or None,
            smtp_port=int(get("ARREARS_SMTP_PORT", "25")),
            smtp_user=get("ARREARS_SMTP_USER") or None,
            smtp_password=get("ARREARS_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(get("ARREARS_SMTP_STARTTLS"), default=False),
            mail_from=get("ARREARS_MAIL_FROM", "arrears@localhost"),
            sms_url=get("ARREARS_SMS_URL") or None,
            sms_key=get("ARREARS_SMS_KEY") or None,
            sms_sign=get("ARREARS_SMS_SIGN", ""),
            sms_template=get("ARREARS_SMS_TEMPLATE", ""),
            dispatch_chunk=int(get("ARREARS_DISPATCH_CHUNK", "50")),
            public_base_url=get("ARREARS_PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        )
        settings.check()
        return settings

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        """A production deployment must never run with the published demo key."""
        if self.is_production:
            if self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32:
                raise ConfigError(
                    "ARREARS_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (ARREARS_ENV=production)."
                )
            if not self.database_url:
                raise ConfigError("ARREARS_DATABASE_URL must be set in production.")

    def resolved_database_url(self, instance_path: str | Path) -> str:
        if self.database_url:
            return self.database_url
        path = Path(instance_path) / "arrears.sqlite3"
        return f"sqlite:///{path}"


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}
