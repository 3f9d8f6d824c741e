"""Runtime settings, read once from the environment and ``.env`` and passed down explicitly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = PROJECT_ROOT / "state"
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "data" / "roadmaps"


# Discord's global limit is about 50 requests per second for the whole bot token; posts keep a margin.
GLOBAL_POST_RATE = 35.0


def parse_shard_ids(value: object) -> object:
    """``"0-3"`` -> (0, 1, 2, 3); ``"0,2,5"`` -> (0, 2, 5); ranges and ids mix (``"0-1,4"``)."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    ids: list[int] = []
    for part in value.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError as error:
            raise ValueError(f"SHARD_IDS must look like 0-3 or 0,2,5, not {value!r}") from error
        if high < low:
            raise ValueError(f"SHARD_IDS range {part.strip()!r} runs backwards")
        ids += range(low, high + 1)
    return tuple(ids)


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
    shard_count: int | None = Field(default=None, ge=1, description="Shards across all processes")
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None, description="This process's shards, e.g. 0-3 or 0,2,5 (default: all of them)"
    )
    global_post_rate: float = Field(
        default=GLOBAL_POST_RATE, gt=0, description="Posts per second for the whole bot token"
    )
    job_concurrency: int = Field(
        default=8, ge=1, description="Job bodies running at once; keep it below the database pool"
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA timezone {value!r}") from error
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> object:
        return parse_shard_ids(value)

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT (the number of shards across all processes)")
        if not self.shard_ids or len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("SHARD_IDS must name each shard once")
        if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
            raise ValueError(f"SHARD_IDS must lie between 0 and {self.shard_count - 1}")
        return self

    @property
    def sharded(self) -> bool:
        return self.shard_count is not None

    @property
    def post_rate(self) -> float:
        """This process's share of the token's rate: its shards out of all shards."""
        if self.shard_count is None:
            return self.global_post_rate
        mine = len(self.shard_ids) if self.shard_ids is not None else self.shard_count
        return self.global_post_rate * mine / self.shard_count

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
