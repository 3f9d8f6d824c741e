"""``compose.yaml`` parses, migrates once before any shard starts, and covers every shard once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "compose.yaml"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(Path(COMPOSE).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def shard_services(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service for name, service in services.items() if "SHARD_IDS" in service.get("environment", {})
    }


def test_postgres_keeps_its_data_and_reports_health() -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["restart"] == "unless-stopped"


def test_the_migration_runs_once_after_postgres_is_healthy() -> None:
    migrate = compose()["services"]["migrate"]
    assert migrate["command"] == ["waypoint", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_every_shard_id_is_run_by_exactly_one_process() -> None:
    document = compose()
    shards = shard_services(document["services"])
    assert len(shards) >= 2
    counts = {int(service["environment"]["SHARD_COUNT"]) for service in shards.values()}
    assert len(counts) == 1
    (count,) = counts
    covered: list[int] = []
    for name, service in shards.items():
        environment = {key: str(value) for key, value in service["environment"].items()}
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            shard_count=int(environment["SHARD_COUNT"]),
            shard_ids=environment["SHARD_IDS"],  # type: ignore[arg-type]
        )
        assert settings.shard_ids is not None, name
        covered += settings.shard_ids
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["restart"] == "unless-stopped"
        assert service["command"] == ["waypoint", "run"]
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert any(volume.endswith(":/app/state") for volume in service["volumes"])
    assert sorted(covered) == list(range(count))


def test_named_volumes_are_declared() -> None:
    document = compose()
    declared = set(document["volumes"])
    for service in document["services"].values():
        for volume in service.get("volumes", []):
            assert volume.split(":", 1)[0] in declared
