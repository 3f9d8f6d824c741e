"""Pure rules for a server's own roadmaps: what the upload may be, how it is shown, how it is written.

- ``check_upload``: the bytes of an attachment through THE validator (``bot.content.parse_roadmap``,
  the same one ``waypoint content check`` and start-up use), plus what only a server's roadmap
  must respect: a shipped key is refused (export it, import under your own key).
- ``shown_copy``: the roadmap as members see it, with masked links and mentions made inert, so
  a server's text can never become a link or a ping in the bot's voice.
- ``roadmap_yaml``: a roadmap as a YAML file that imports back to an equal roadmap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from bot.content import parse_roadmap
from bot.kernel.roadmap import Roadmap

MAX_SHOWN_PROBLEMS = 10
_MASKED_LINK = re.compile(r"\]\(")
_MENTION = re.compile(r"<(@[!&]?|#)")
_MASS_MENTION = re.compile(r"@(everyone|here)")


@dataclass(frozen=True, slots=True)
class UploadCheck:
    """The roadmap in an uploaded file, or None and every problem found (the file is refused)."""

    roadmap: Roadmap | None
    problems: tuple[str, ...]


def check_upload(data: bytes, filename: str, shipped_keys: frozenset[str]) -> UploadCheck:
    roadmap, problems = parse_roadmap(data, source_name(filename))
    if roadmap is None:
        return UploadCheck(None, tuple(problems))
    if roadmap.key in shipped_keys:
        return UploadCheck(
            None,
            (
                f"{source_name(filename)}: roadmap {roadmap.key!r}, key: {roadmap.key!r} is one of the"
                " roadmaps Waypoint ships; export it with `/roadmap export` and import it under your own key",
            ),
        )
    return UploadCheck(roadmap, ())


def source_name(filename: str) -> str:
    """The attachment's name as problems quote it: its last path part, visible characters only."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in "`*_~|<>@[]()")[:60]
    return cleaned or "the file"


def _inert(text: str) -> str:
    text = _MASKED_LINK.sub("]\\\\(", text)
    text = _MENTION.sub(lambda match: "<\\" + match.group(1), text)
    return _MASS_MENTION.sub("@\u200b\\1", text)


def shown_copy(model: Any) -> Any:
    """A copy of a roadmap (or a part of one) whose texts cannot link or ping; keys are kept."""
    if isinstance(model, str):
        return _inert(model)
    if isinstance(model, tuple):
        return tuple(shown_copy(item) for item in model)
    if isinstance(model, BaseModel):
        changes = {
            name: shown_copy(getattr(model, name))
            for name in type(model).model_fields
            if name not in {"key", "renamed_from"}
        }
        return model.model_copy(update=changes)
    return model


def roadmap_yaml(roadmap: Roadmap) -> str:
    """The roadmap as a YAML file in the schema of ``data/roadmaps``, defaults left out."""
    data = roadmap.model_dump(mode="json", exclude_defaults=True)
    header = (
        f"# {roadmap.title}: exported from Waypoint. Edit it and import it with /roadmap import,\n"
        "# under a new key, or under this key as a new version of a server's own roadmap.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
