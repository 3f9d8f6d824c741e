"""A member's data as one JSON document, for ``/privacy my-data``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.kernel.serial import EXPORT_SCHEMA_VERSION, format_timestamp, id_as_text, json_encoder


def _jsonable(value: object, key: str = "") -> object:
    """A copy of nested mappings and sequences with identifiers turned into strings."""
    if isinstance(value, Mapping):
        return {str(inner_key): _jsonable(inner, str(inner_key)) for inner_key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item, key) for item in value]
    return id_as_text(key, value)


def personal_data_document(
    guild_id: int,
    user_id: int,
    generated_at: datetime,
    sections: Mapping[str, Sequence[Mapping[str, object]]],
) -> bytes:
    """Everything stored about one member in one server, as pretty-printed UTF-8 JSON.

    Shape (schema version 1)::

        {"schema_version": 1, "kind": "personal_data", "generated_at": "...Z",
         "guild_id": "...", "user_id": "...",
         "sections": {"memberships": [{...}], "checkpoints": [{...}], ...}}

    ``sections`` keeps the caller's order; each holds a list of records. It is meant for the
    member to read, so it is indented, keeps non-ASCII text as is, and ends with a newline.
    """
    document = {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "kind": "personal_data",
        "generated_at": format_timestamp(generated_at),
        "guild_id": str(guild_id),
        "user_id": str(user_id),
        "sections": {name: _jsonable(list(records)) for name, records in sections.items()},
    }
    return (json_encoder(indent=2).encode(document) + "\n").encode("utf-8")
