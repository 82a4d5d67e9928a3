"""One settings object, validated once at start from the environment (and `.env`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.eventloop import EventLoopChoice
from channels.whatsapp_templates import required_sid_keys, sandbox_content_sids


class ConfigurationError(RuntimeError):
    """A channel or provider is enabled without the variables it needs."""


class Settings(BaseSettings):
    """Every knob Facto reads from its environment.

    In the sandbox (`FACTO_SANDBOX=1`) provider credentials get local defaults and the
    provider SDKs are pointed at the emulators under `/sandbox/` on this same server.
    Outside the sandbox every credential must be set explicitly.
    """

    # hide_input_in_errors: a refused STRIPE_WEBHOOK_SECRET ("whsec_…, ") must not be printed.
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    public_base_url: str = Field(default="http://127.0.0.1:8080", alias="PUBLIC_BASE_URL")
    port: int = Field(default=8080, alias="PORT", ge=1, le=65535)
    host: str = Field(default="127.0.0.1", alias="HOST")
    sandbox: bool = Field(default=False, alias="FACTO_SANDBOX")
    # uvloop spends less CPU per callback and socket call than asyncio's loop (docs/decisions.md);
    # `asyncio` is the way back should a platform or a library misbehave under it.
    event_loop: EventLoopChoice = Field(default="uvloop", alias="FACTO_EVENT_LOOP")
    # Outgoing webhooks to 127.0.0.1/localhost (bot.engine.egress): the demo and tests only.
    webhooks_allow_loopback: bool = Field(default=False, alias="FACTO_WEBHOOKS_ALLOW_LOOPBACK")
    data_dir: str = Field(default="var", alias="FACTO_DATA_DIR")

    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    twilio_sms_from: str | None = Field(default=None, alias="TWILIO_SMS_FROM")
    # WhatsApp is on when its sender is set: the number Twilio/Meta approved (E.164, without
    # the "whatsapp:" prefix), and the ContentSid of every approved template (issue 7).
    twilio_whatsapp_from: str | None = Field(default=None, alias="TWILIO_WHATSAPP_FROM")
    whatsapp_content_sids_json: str | None = Field(default=None, alias="WHATSAPP_CONTENT_SIDS")
    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    # The bot's @username, for deep links (t.me/<username>?start=<token>).
    telegram_bot_username: str = Field(
        default="facto_sandbox_bot", alias="TELEGRAM_BOT_USERNAME", pattern=r"^\w{5,32}$"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, alias="TELEGRAM_WEBHOOK_SECRET"
    )
    stripe_api_key: SecretStr | None = Field(default=None, alias="STRIPE_API_KEY")
    # Seals merchants' own bot tokens and webhook secrets at rest (a Fernet key: 32 bytes,
    # url-safe base64). Needed only once a merchant registers its own Telegram bot.
    secrets_key: SecretStr | None = Field(default=None, alias="FACTO_SECRETS_KEY")
    stripe_webhook_secret: SecretStr | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET")

    invoice_number_prefix: str = Field(
        default="F", alias="INVOICE_NUMBER_PREFIX", pattern=r"^[A-Z0-9][A-Z0-9-]{0,9}$"
    )
    default_locale: str = Field(default="fr", alias="FACTO_DEFAULT_LOCALE")
    default_timezone: str = Field(default="Europe/Paris", alias="FACTO_DEFAULT_TIMEZONE")
    max_body_bytes: int = Field(default=64 * 1024, alias="FACTO_MAX_BODY_BYTES", ge=1024)
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    # Redis client resilience (bot/services.py `redis_client`): a blip is retried, a frozen
    # server is noticed within a timeout instead of hanging a request or a worker forever.
    redis_socket_timeout: float = Field(default=2.0, alias="REDIS_SOCKET_TIMEOUT", gt=0, le=30)
    redis_connect_timeout: float = Field(default=2.0, alias="REDIS_CONNECT_TIMEOUT", gt=0)
    redis_retries: int = Field(default=3, alias="REDIS_RETRIES", ge=0, le=20)
    redis_health_check_interval: int = Field(default=15, alias="REDIS_HEALTH_CHECK_INTERVAL", ge=0)
    # Dispatch: a conversation's lock lives this long unless renewed (after each event); a
    # killed worker's conversations are taken over about this long after the crash.
    dispatch_lock_ms: int = Field(default=5000, alias="FACTO_DISPATCH_LOCK_MS", ge=200)
    # Conversations one worker dispatches at once (each one still one event at a time, under
    # its lock). Most of a dispatch is waiting for Redis, so a few per core keep it busy. The
    # two fault tests that once failed with 8 were test artefacts (docs/decisions.md).
    dispatch_concurrency: int = Field(default=8, alias="FACTO_DISPATCH_CONCURRENCY", ge=1, le=256)

    # Where inbound SMS wait, on local disk, while Redis is unreachable (default DATA_DIR/spool).
    spool_dir: str | None = Field(default=None, alias="FACTO_SPOOL_DIR")

    # --- Retention (issue 15; docs/decisions.md "Retention") ---
    outbox_retention_days: int = Field(default=30, alias="FACTO_OUTBOX_RETENTION_DAYS", ge=1)
    # GDPR: conversation data is kept 3 years after the customer's last contact (LEGAL_FR §3).
    transcript_retention_days: int = Field(
        default=3 * 365, alias="FACTO_TRANSCRIPT_RETENTION_DAYS", ge=1
    )
    checkout_stale_days: int = Field(default=20, alias="FACTO_CHECKOUT_STALE_DAYS", ge=1)
    # Flash sales: per-recipient records this long after the sale ended (decisions.md).
    campaign_retention_days: int = Field(default=90, alias="FACTO_CAMPAIGN_RETENTION_DAYS", ge=31)

    # Outbox (ISSUE 15): how long a message is retried before it fails over to the customer's
    # other channel, how far apart the tries may get, how many conversations a worker sends
    # at once.
    outbox_retry_horizon_hours: float = Field(
        default=24.0, alias="FACTO_OUTBOX_RETRY_HORIZON_HOURS", gt=0, le=24 * 7
    )
    outbox_max_backoff_seconds: float = Field(
        default=300.0, alias="FACTO_OUTBOX_MAX_BACKOFF_SECONDS", ge=1, le=3600
    )
    # Sends in flight per channel in one worker (each conversation's messages still leave one
    # by one, in order), all still behind the per-sender pacer: a slow provider holds its own
    # channel's slots, never another channel's.
    send_concurrency_sms: int = Field(default=8, alias="FACTO_SEND_CONCURRENCY_SMS", ge=1, le=256)
    send_concurrency_whatsapp: int = Field(
        default=8, alias="FACTO_SEND_CONCURRENCY_WHATSAPP", ge=1, le=256
    )
    send_concurrency_telegram: int = Field(
        default=8, alias="FACTO_SEND_CONCURRENCY_TELEGRAM", ge=1, le=256
    )

    # Support agents (issue 8): an agent who does nothing on a conversation for this long gives
    # it back to the queue; a conversation no person acts on for this long returns to the bot.
    agent_idle_release_minutes: float = Field(
        default=30, alias="FACTO_AGENT_IDLE_RELEASE_MINUTES", gt=0, le=24 * 60
    )
    agent_return_hours: float = Field(default=24, alias="FACTO_AGENT_RETURN_HOURS", gt=0, le=720)
    # Pacing (bot.engine.pacing): provider limits per sender, shared by every worker.
    pacing_enabled: bool = Field(default=True, alias="FACTO_PACING")
    pacing_telegram_per_second: float = Field(
        default=30.0, alias="FACTO_PACING_TELEGRAM_PER_SECOND", ge=0
    )
    pacing_telegram_per_chat_per_second: float = Field(
        default=1.0, alias="FACTO_PACING_TELEGRAM_PER_CHAT_PER_SECOND", ge=0
    )
    pacing_sms_mps: float = Field(default=1.0, alias="FACTO_PACING_SMS_MPS", ge=0)
    pacing_whatsapp_per_second: float = Field(
        default=80.0, alias="FACTO_PACING_WHATSAPP_PER_SECOND", ge=0
    )
    # Per-sender limits over the channel defaults above: {"sms:+33757000123": 3,
    # "sms:MG...": 30, "whatsapp:+33757000124": 50, "telegram:123456": 30}.
    pacing_per_sender_json: str | None = Field(default=None, alias="FACTO_PACING_PER_SENDER")

    @field_validator("secrets_key")
    @classmethod
    def _secrets_key_is_fernet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
        except (ValueError, binascii.Error) as e:
            raise ValueError("FACTO_SECRETS_KEY must be url-safe base64") from e
        if len(raw) != 32:
            raise ValueError(
                "FACTO_SECRETS_KEY must be 32 bytes in url-safe base64 (Fernet.generate_key())"
            )
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _webhook_secrets_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked at boot: a blank secret would otherwise surface as a 500 on the first
        # Stripe delivery (TESTCASES 5). Several secrets, comma-separated, cover a rotation.
        if value is not None and any(
            not part.strip() for part in value.get_secret_value().split(",")
        ):
            msg = (
                "STRIPE_WEBHOOK_SECRET must be one or more non-empty signing secrets "
                "(whsec_...), separated by commas; got an empty or blank secret"
            )
            raise ValueError(msg)
        return value

    @field_validator("public_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _sandbox_defaults(self) -> Settings:
        if self.sandbox:
            self.twilio_account_sid = self.twilio_account_sid or "AC" + "0" * 32
            self.twilio_auth_token = self.twilio_auth_token or SecretStr("sandbox-twilio-token")
            self.twilio_sms_from = self.twilio_sms_from or "+33700000000"
            self.twilio_whatsapp_from = self.twilio_whatsapp_from or "+33700000001"
            if self.whatsapp_content_sids_json is None:
                self.whatsapp_content_sids_json = json.dumps(sandbox_content_sids())
            self.telegram_bot_token = self.telegram_bot_token or SecretStr(
                "123456:sandbox-telegram-token"
            )
            self.telegram_webhook_secret = self.telegram_webhook_secret or SecretStr(
                "sandbox-telegram-secret"
            )
            self.stripe_api_key = self.stripe_api_key or SecretStr("sk_test_sandbox")
            self.stripe_webhook_secret = self.stripe_webhook_secret or SecretStr("whsec_sandbox")
        return self

    def require_credentials(self) -> None:
        """Refuse to start when a provider is missing a variable (TESTCASES 5, 32)."""
        required = {
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TWILIO_SMS_FROM": self.twilio_sms_from,
            "TELEGRAM_BOT_TOKEN": self.telegram_bot_token,
            "TELEGRAM_WEBHOOK_SECRET": self.telegram_webhook_secret,
            "STRIPE_API_KEY": self.stripe_api_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
        }
        missing = [name for name, value in required.items() if not _is_set(value)]
        if self.whatsapp_enabled:
            absent = [k for k in required_sid_keys() if k not in self.whatsapp_content_sids]
            if absent:
                missing.append("WHATSAPP_CONTENT_SIDS (" + ", ".join(absent) + ")")
        if missing:
            msg = "missing configuration: " + ", ".join(missing)
            raise ConfigurationError(msg)

    @field_validator("whatsapp_content_sids_json")
    @classmethod
    def _content_sids_are_a_json_object(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            data = json.loads(value)
        except ValueError as e:
            msg = 'WHATSAPP_CONTENT_SIDS must be a JSON object {"facto_invoice:fr": "HX…", …}'
            raise ValueError(msg) from e
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.startswith("HX")
            for k, v in data.items()
        ):
            msg = 'WHATSAPP_CONTENT_SIDS must map "<template>:<locale>" to a ContentSid (HX…)'
            raise ValueError(msg)
        return value

    @field_validator("pacing_per_sender_json")
    @classmethod
    def _per_sender_limits(cls, value: str | None) -> str | None:
        if not value:
            return None
        msg = (
            'FACTO_PACING_PER_SENDER must be a JSON object {"sms:+33757000123": 3, ...}: '
            "<channel>:<number, MG... SID or bot id> to a rate per second (>= 0)"
        )
        try:
            data = json.loads(value)
        except ValueError as e:
            raise ValueError(msg) from e
        channels = ("sms:", "whatsapp:", "telegram:")
        if not isinstance(data, dict) or not all(
            isinstance(k, str)
            and k.startswith(channels)
            and isinstance(v, int | float)
            and not isinstance(v, bool)
            and v >= 0
            for k, v in data.items()
        ):
            raise ValueError(msg)
        return value

    @property
    def pacing_per_sender(self) -> dict[str, float]:
        if not self.pacing_per_sender_json:
            return {}
        return {str(k): float(v) for k, v in json.loads(self.pacing_per_sender_json).items()}

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.twilio_whatsapp_from)

    @property
    def whatsapp_content_sids(self) -> dict[str, str]:
        if not self.whatsapp_content_sids_json:
            return {}
        sids: dict[str, str] = json.loads(self.whatsapp_content_sids_json)
        return sids

    @property
    def inbound_spool_dir(self) -> str:
        return self.spool_dir or f"{self.data_dir}/spool"

    @property
    def stripe_webhook_secrets(self) -> list[str]:
        """Every signing secret in force: during a rotation, the old one and the new one."""
        return [part.strip() for part in secret(self.stripe_webhook_secret).split(",")]

    # Where each SDK sends its requests: the emulators in the sandbox, the providers otherwise.
    @property
    def stripe_api_base(self) -> str:
        if self.sandbox:
            return f"{self.public_base_url}/sandbox/stripe"
        return "https://api.stripe.com"

    @property
    def twilio_api_base(self) -> str | None:
        return f"{self.public_base_url}/sandbox/twilio" if self.sandbox else None

    @property
    def telegram_api_base(self) -> str:
        if self.sandbox:
            return f"{self.public_base_url}/sandbox/telegram/bot"
        return "https://api.telegram.org/bot"


class SecretsKeyError(ValueError):
    """FACTO_SECRETS_KEY is missing, or does not open what was sealed with another key."""


class SecretBox:
    """Seals the secrets of merchants' senders (bot tokens, webhook secrets) at rest."""

    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    @classmethod
    def for_sandbox(cls, seed: str) -> SecretBox:
        # The sandbox has no real secrets: a key derived from a fixed seed keeps demo data
        # readable across restarts.
        digest = hashlib.sha256(seed.encode()).digest()
        return cls(base64.urlsafe_b64encode(digest).decode())

    def seal(self, value: str) -> str:
        if self._fernet is None:
            raise SecretsKeyError("FACTO_SECRETS_KEY is not set: a bot token cannot be stored")
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        if self._fernet is None:
            raise SecretsKeyError("FACTO_SECRETS_KEY is not set: a bot token cannot be read")
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as e:
            raise SecretsKeyError("a sender's secret does not open with FACTO_SECRETS_KEY") from e


def secret_box(settings: Settings) -> SecretBox:
    """What seals merchants' bot tokens: FACTO_SECRETS_KEY; in the sandbox, a fixed one."""
    if settings.secrets_key is not None:
        return SecretBox(settings.secrets_key.get_secret_value())
    if settings.sandbox:
        return SecretBox.for_sandbox("facto-sandbox-senders")
    return SecretBox(None)  # registering a bot then says FACTO_SECRETS_KEY is missing


def _is_set(value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)


def secret(value: SecretStr | None) -> str:
    """The plain value of a secret that `require_credentials` has checked."""
    if value is None:
        msg = "secret used before the settings were checked"
        raise ConfigurationError(msg)
    return value.get_secret_value()
