"""The audit log: who exported or erased what. Every feature may write entries; moderators read them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditRecord:
    actor_id: int | None
    action: str
    detail: str
    created_at: datetime


def add_audit_entry(
    session: AsyncSession, guild_id: int, actor_id: int | None, action: str, detail: str, now: datetime
) -> None:
    session.add(
        AuditEntry(guild_id=guild_id, actor_id=actor_id, action=action, detail=detail[:500], created_at=now)
    )


async def recent_audit_entries(session: AsyncSession, guild_id: int, limit: int) -> list[AuditRecord]:
    statement = (
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.detail, AuditEntry.created_at)
        .where(AuditEntry.guild_id == guild_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [AuditRecord(*row) for row in await session.execute(statement)]
