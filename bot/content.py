"""Roadmap content: ``data/roadmaps/*.yaml`` files turned into validated ``Roadmap`` models.

Content is edited by hand, so every problem is reported with enough context to fix it without a
debugger: the file, the roadmap key, the phase (position and key) and the field path. The loader
collects all problems in one pass instead of stopping at the first, so a content author sees the
whole list at once (``check_content`` is meant for CI and a pre-start check).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.kernel.roadmap import Roadmap

ROADMAP_SUFFIXES = (".yaml", ".yml")
_MAX_SHOWN_INPUT = 60


class ContentError(Exception):
    """One or more problems in roadmap content; ``problems`` holds one precise line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


# LibYAML's parser when PyYAML was built with it (the wheels are): about ten times faster, and
# the roadmaps are read at every start. The same safe constructors either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses repeated mapping keys, which PyYAML would silently overwrite."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def default_content_dir() -> Path:
    """``data/roadmaps`` beside the ``bot`` package, so the bot finds it from any working directory."""
    return Path(__file__).resolve().parent.parent / "data" / "roadmaps"


def load_roadmap_file(path: Path) -> Roadmap:
    """Parse and validate one roadmap file; raises ``ContentError`` listing every problem in it."""
    roadmap, problems = _load_file(path)
    if roadmap is None:
        raise ContentError(problems)
    return roadmap


def check_content(directory: Path) -> list[str]:
    """Every problem in every roadmap file of ``directory``; an empty list means the content is fine."""
    _roadmaps, problems = _load_directory(directory)
    return problems


def load_catalog(directory: Path) -> RoadmapCatalog:
    """All roadmaps of ``directory`` in file-name order; raises ``ContentError`` if anything is wrong."""
    roadmaps, problems = _load_directory(directory)
    if problems:
        raise ContentError(problems)
    return RoadmapCatalog(roadmaps)


class RoadmapCatalog:
    """The loaded roadmaps, read-only and in file-name order, looked up by key."""

    __slots__ = ("_by_key",)

    def __init__(self, roadmaps: Iterable[Roadmap]) -> None:
        by_key: dict[str, Roadmap] = {}
        for roadmap in roadmaps:
            if roadmap.key in by_key:
                raise ValueError(f"roadmap key {roadmap.key!r} appears twice in the catalog")
            by_key[roadmap.key] = roadmap
        self._by_key: Mapping[str, Roadmap] = MappingProxyType(by_key)

    def get(self, key: str) -> Roadmap | None:
        return self._by_key.get(key)

    def keys(self) -> list[str]:
        return list(self._by_key)

    def __iter__(self) -> Iterator[Roadmap]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __repr__(self) -> str:
        return f"RoadmapCatalog({self.keys()!r})"

    def closest(self, key: str) -> str | None:
        """The key a user most likely meant, for a "did you mean ...?" hint; None if nothing is close.

        Tries, in order: the exact key, keys containing what was typed, then fuzzy matches on keys
        and on titles, so both "junior" and "pyhton-europe" find something.
        """
        wanted = key.strip().lower()
        if not wanted:
            return None
        if wanted in self._by_key:
            return wanted
        containing = [candidate for candidate in self._by_key if wanted in candidate]
        if containing:
            return max(containing, key=lambda candidate: _similarity(wanted, candidate))
        by_key = difflib.get_close_matches(wanted, list(self._by_key), n=1, cutoff=0.6)
        if by_key:
            return by_key[0]
        key_by_title = {roadmap.title.lower(): roadmap.key for roadmap in self}
        by_title = difflib.get_close_matches(wanted, list(key_by_title), n=1, cutoff=0.6)
        return key_by_title[by_title[0]] if by_title else None

    def search(self, text: str, limit: int = 25) -> list[Roadmap]:
        """Roadmaps whose key or title contains ``text`` (any case), prefix matches first.

        Empty text lists everything, which is what an autocomplete shows before anyone types.
        """
        wanted = text.strip().lower()
        prefix_hits: list[Roadmap] = []
        other_hits: list[Roadmap] = []
        for roadmap in self:
            key, title = roadmap.key, roadmap.title.lower()
            if key.startswith(wanted) or title.startswith(wanted):
                prefix_hits.append(roadmap)
            elif wanted in key or wanted in title:
                other_hits.append(roadmap)
        return (prefix_hits + other_hits)[: max(limit, 0)]


def _similarity(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first, second).ratio()


def _roadmap_files(directory: Path) -> list[Path]:
    return sorted(
        (path for path in directory.iterdir() if path.is_file() and path.suffix in ROADMAP_SUFFIXES),
        key=lambda path: path.name,
    )


def _load_directory(directory: Path) -> tuple[list[Roadmap], list[str]]:
    if not directory.exists():
        return [], [f"{directory}: no such file or folder"]
    if not directory.is_dir():
        return [], [f"{directory}: is a file, not a roadmap folder"]
    files = _roadmap_files(directory)
    if not files:
        return [], [f"{directory}: no roadmap files (*.yaml) found"]
    roadmaps: list[Roadmap] = []
    problems: list[str] = []
    file_by_key: dict[str, Path] = {}
    for path in files:
        roadmap, file_problems = _load_file(path)
        problems.extend(file_problems)
        if roadmap is None:
            continue
        if roadmap.key in file_by_key:
            first_file = file_by_key[roadmap.key].name
            problems.append(f"{path.name}: roadmap {roadmap.key!r}, key: already defined in {first_file}")
            continue
        file_by_key[roadmap.key] = path
        roadmaps.append(roadmap)
    return roadmaps, problems


def _load_file(path: Path) -> tuple[Roadmap | None, list[str]]:
    """The roadmap in ``path`` and no problems, or None and every problem found."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [f"{name}: cannot read file: {error}"]
    try:
        loader = _UniqueKeyLoader(text)  # a SafeLoader subclass: no arbitrary objects
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        return None, [f"{name}: {_describe_yaml_error(error)}"]
    if data is None:
        return None, [f"{name}: file is empty"]
    if not isinstance(data, dict):
        found = type(data).__name__
        return None, [f"{name}: the top level must be a mapping of roadmap fields, not a {found}"]

    raw_key = data.get("key")
    roadmap_key = raw_key if isinstance(raw_key, str) and raw_key else path.stem
    roadmap_label = f"roadmap {roadmap_key!r}"
    problems: list[str] = []
    if isinstance(raw_key, str) and raw_key.strip() != path.stem:
        line = _line_of(root, ("key",))
        problems.append(
            f"{name}: line {line}, {roadmap_label}, key: must equal the file name {path.stem!r},"
            f" got {raw_key.strip()!r}"
        )
    try:
        roadmap = Roadmap.model_validate(data)
    except ValidationError as error:
        details = _without_echoes(error.errors())
        for detail in details:
            where, message = _describe_validation_error(detail, data)
            line = _line_of(root, tuple(detail["loc"]))
            prefix = f"{name}: line {line}, {roadmap_label}"
            # A located problem continues the prefix; a roadmap-wide one follows a colon.
            problems.append(f"{prefix}, {where}: {message}" if where else f"{prefix}: {message}")
        return None, problems
    if problems:
        return None, problems
    return roadmap, []


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"YAML syntax error: {problem}"
    return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _without_echoes(details: Sequence[ErrorDetails]) -> list[ErrorDetails]:
    """Drop a list's "too short" error when its items failed: pydantic counts only the valid items."""
    locations = [tuple(detail["loc"]) for detail in details]

    def is_echo(detail: ErrorDetails) -> bool:
        location = tuple(detail["loc"])
        return detail["type"] == "too_short" and any(
            len(other) > len(location) and other[: len(location)] == location for other in locations
        )

    return [detail for detail in details if not is_echo(detail)]


def _describe_validation_error(detail: ErrorDetails, data: Mapping[str, Any]) -> tuple[str, str]:
    """Where one pydantic error sits ("phase 2 'intermediate', checkpoints[1].key") and what it says.

    The place is empty for problems with the roadmap as a whole, such as a repeated checkpoint key.
    """
    location: tuple[int | str, ...] = tuple(detail["loc"])
    message = str(detail["msg"]).removeprefix("Value error, ")
    shown_input = detail.get("input")
    if isinstance(shown_input, str | int | float) and not isinstance(shown_input, bool):
        shown = repr(shown_input)
        if detail["type"] != "missing" and len(shown) <= _MAX_SHOWN_INPUT:
            message = f"{message} (got {shown})"

    where: list[str] = []
    if len(location) >= 2 and location[0] == "phases" and isinstance(location[1], int):
        where.append(_describe_phase(location[1], data))
        phase = _item(data.get("phases"), location[1])
        location = location[2:]
        if len(location) >= 2 and location[0] == "checkpoints" and isinstance(location[1], int):
            where.append(_describe_item("checkpoint", location[1], _item(phase, "checkpoints")))
            location = location[2:]
    field_path = _field_path(location)
    if field_path:
        where.append(field_path)
    return ", ".join(where), message


def _describe_phase(index: int, data: Mapping[str, Any]) -> str:
    return _describe_item("phase", index, data.get("phases"))


def _describe_item(kind: str, index: int, items: Any) -> str:
    """ "phase 2 'backend-core'": numbered from 1, with the key when the item has one."""
    label = f"{kind} {index + 1}"
    item = _item(items, index)
    if isinstance(item, dict) and isinstance(item.get("key"), str):
        label += f" {item['key']!r}"
    return label


def _item(container: Any, step: int | str) -> Any:
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    if isinstance(container, dict) and isinstance(step, str):
        return container.get(step)
    return None


def _line_of(root: yaml.Node | None, location: Sequence[int | str]) -> int:
    """The 1-based line of the deepest YAML node on ``location`` (a missing field: its parent)."""
    node = root
    line = 1 if root is None else root.start_mark.line + 1
    for step in location:
        child = _child(node, step)
        if child is None:
            break
        node = child
        line = child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, step: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child: yaml.Node = node.value[step]
        return child
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == step:
                found: yaml.Node = value_node
                return found
    return None


def _field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
