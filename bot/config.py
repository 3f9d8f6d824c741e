"""Runtime settings, read once from the environment and ``.env`` and passed down explicitly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = PROJECT_ROOT / "state"
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "data" / "roadmaps"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEFAULT_STATE_DIR / 'waypoint.sqlite3'}"


class Settings(BaseSettings):
    """Everything an operator can set. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        # The project's .env, then one in the working directory (which wins where both set a value).
        env_file=(PROJECT_ROOT / ".env", ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    discord_token: SecretStr | None = Field(default=None, description="Bot token from the Developer Portal")
    database_url: str = Field(default_factory=default_database_url)
    dev_guild_id: int | None = Field(default=None, description="Sync commands to this guild only (instant)")
    log_level: str = "INFO"
    default_timezone: str = "UTC"
    content_dir: Path = DEFAULT_CONTENT_DIR
    prompt_grace_hours: float = Field(default=12.0, ge=0, description="Catch-up window for missed posts")
    sync_commands: bool = Field(default=True, description="Sync the command tree in setup_hook")

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA timezone {value!r}") from error
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @property
    def prompt_grace(self) -> timedelta:
        return timedelta(hours=self.prompt_grace_hours)

    def token(self) -> str | None:
        """The token, or None when it is missing or only blanks."""
        value = self.discord_token.get_secret_value().strip() if self.discord_token else ""
        return value or None
