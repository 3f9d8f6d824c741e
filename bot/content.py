"""Roadmap content: ``data/roadmaps/*.yaml`` files turned into validated ``Roadmap`` models.

Content is edited by hand, so every problem is reported with enough context to fix it without a
debugger: the file, the roadmap key, the phase (position and key) and the field path. The loader
collects all problems in one pass instead of stopping at the first, so a content author sees the
whole list at once (``check_content`` is meant for CI and a pre-start check).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.kernel.roadmap import Roadmap

ROADMAP_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 256 * 1024
_MAX_SHOWN_INPUT = 60


class ContentError(Exception):
    """One or more problems in roadmap content; ``problems`` holds one precise line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses repeated mapping keys and every anchor or alias.

    PyYAML would silently keep the last of two equal keys. Aliases are refused while the event
    stream is read, before any node is built from them, so a file of nested aliases (an "alias
    bomb") fails at its first anchor instead of expanding.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


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

_LIBYAML: Any = getattr(yaml, "CSafeLoader", None)


if _LIBYAML is not None:

    class _FastUniqueKeyLoader(_LIBYAML):  # type: ignore[misc]
        """The same rules over libyaml: ten times faster on a large file (the upload limit)."""

    _FastUniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
    )


def _refuse_aliases(text: str) -> None:
    """Read the event stream (libyaml) and stop at the first anchor or alias, before any node exists."""
    for event in yaml.parse(text, Loader=_LIBYAML):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark: Any = event.start_mark  # libyaml's own Mark type: same line and column
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", mark
            )


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its plain data, refusing aliases first."""
    if _LIBYAML is not None:
        _refuse_aliases(text)
        loader: Any = _FastUniqueKeyLoader(text)
    else:  # pragma: no cover - PyYAML built without libyaml: the pure loader refuses aliases itself
        loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


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


@dataclass(frozen=True, slots=True)
class ServerRoadmap:
    """The current version of one server's own roadmap, as every command sees it."""

    guild_id: int
    roadmap: Roadmap
    version: int


class RoadmapCatalog:
    """The shipped roadmaps (read-only, in file-name order) and each server's own, by key.

    A server's roadmaps resolve only for that server: every look-up that may concern one takes
    the guild id. The shipped part never changes; the per-server part holds each key's current
    version and is changed only by ``bot.roadmaps`` after the database has committed.
    """

    __slots__ = ("_by_key", "_servers")

    def __init__(self, roadmaps: Iterable[Roadmap]) -> None:
        by_key: dict[str, Roadmap] = {}
        for roadmap in roadmaps:
            if roadmap.key in by_key:
                raise ValueError(f"roadmap key {roadmap.key!r} appears twice in the catalog")
            by_key[roadmap.key] = roadmap
        self._by_key: Mapping[str, Roadmap] = MappingProxyType(by_key)
        self._servers: dict[int, dict[str, ServerRoadmap]] = {}

    def get(self, key: str, guild_id: int | None = None) -> Roadmap | None:
        """A shipped roadmap, else (with ``guild_id``) that server's own current version."""
        shipped = self._by_key.get(key)
        if shipped is not None or guild_id is None:
            return shipped
        own = self._servers.get(guild_id, {}).get(key)
        return own.roadmap if own is not None else None

    def keys(self) -> list[str]:
        return list(self._by_key)

    def with_own_servers(self) -> RoadmapCatalog:
        """The same shipped roadmaps (shared: they never change) with no server's roadmaps yet.

        Each bot's services take one, so the servers' part is never shared between bots.
        """
        copy = RoadmapCatalog(())
        copy._by_key = self._by_key
        return copy

    def is_shipped(self, key: str) -> bool:
        return key in self._by_key

    def server_roadmap(self, guild_id: int, key: str) -> ServerRoadmap | None:
        return self._servers.get(guild_id, {}).get(key)

    def server_roadmaps(self, guild_id: int) -> list[ServerRoadmap]:
        """One server's own roadmaps, by key."""
        return sorted(self._servers.get(guild_id, {}).values(), key=lambda own: own.roadmap.key)

    def put_server_roadmap(self, own: ServerRoadmap) -> None:
        if own.roadmap.key in self._by_key:
            raise ValueError(f"{own.roadmap.key!r} is a shipped roadmap")
        self._servers.setdefault(own.guild_id, {})[own.roadmap.key] = own

    def drop_server_roadmap(self, guild_id: int, key: str) -> None:
        self._servers.get(guild_id, {}).pop(key, None)

    def available(self, guild_id: int | None = None) -> list[Roadmap]:
        """What a server can follow: the shipped roadmaps, then its own."""
        own = [] if guild_id is None else [entry.roadmap for entry in self.server_roadmaps(guild_id)]
        return [*self._by_key.values(), *own]

    def __iter__(self) -> Iterator[Roadmap]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __repr__(self) -> str:
        return f"RoadmapCatalog({self.keys()!r})"

    def closest(self, key: str, guild_id: int | None = None) -> str | None:
        """The key a user most likely meant, for a "did you mean ...?" hint; None if nothing is close.

        Tries, in order: the exact key, keys containing what was typed, then fuzzy matches on keys
        and on titles, so both "junior" and "pyhton-europe" find something.
        """
        wanted = key.strip().lower()
        if not wanted:
            return None
        roadmaps = self.available(guild_id)
        keys = [roadmap.key for roadmap in roadmaps]
        if wanted in keys:
            return wanted
        containing = [candidate for candidate in keys if wanted in candidate]
        if containing:
            return max(containing, key=lambda candidate: _similarity(wanted, candidate))
        by_key = difflib.get_close_matches(wanted, keys, n=1, cutoff=0.6)
        if by_key:
            return by_key[0]
        key_by_title = {roadmap.title.lower(): roadmap.key for roadmap in roadmaps}
        by_title = difflib.get_close_matches(wanted, list(key_by_title), n=1, cutoff=0.6)
        return key_by_title[by_title[0]] if by_title else None

    def search(self, text: str, limit: int = 25, guild_id: int | None = None) -> list[Roadmap]:
        """Roadmaps whose key or title contains ``text`` (any case), prefix matches first.

        Empty text lists everything, which is what an autocomplete shows before anyone types.
        With ``guild_id``, that server's own roadmaps are searched too.
        """
        wanted = text.strip().lower()
        prefix_hits: list[Roadmap] = []
        other_hits: list[Roadmap] = []
        for roadmap in self.available(guild_id):
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
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [f"{path.name}: cannot read file: {error}"]
    return parse_roadmap(data, path.name, expected_key=path.stem)


def parse_roadmap(
    data: bytes, source: str, *, expected_key: str | None = None
) -> tuple[Roadmap | None, list[str]]:
    """THE validator: bytes of one roadmap file -> the roadmap, or None and every problem in it.

    The shipped files (start-up, ``waypoint content check``) and a server's uploads
    (``/roadmap import``) both come through here. Each problem reads "source: line N, roadmap
    'key', phase i 'key', checkpoint j 'key', field: message". The file is at most
    ``MAX_FILE_BYTES``, UTF-8 and YAML without anchors or aliases; ``expected_key`` is the file
    name a shipped file's key must equal.
    """
    if len(data) > MAX_FILE_BYTES:
        return None, [too_large_problem(source, len(data))]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [f"{source}: this is not a text file in UTF-8; save the roadmap as UTF-8 YAML"]
    try:
        root, tree = _compose_and_construct(text)  # safe loaders: no arbitrary objects, no aliases
    except yaml.YAMLError as error:
        return None, [f"{source}: {_describe_yaml_error(error)}"]
    if tree is None:
        return None, [f"{source}: file is empty"]
    if not isinstance(tree, dict):
        found = type(tree).__name__
        return None, [f"{source}: the top level must be a mapping of roadmap fields, not a {found}"]
    return _validated(tree, root, source, expected_key)


def too_large_problem(source: str, size: int) -> str:
    """The one sentence for a file over ``MAX_FILE_BYTES`` (also said before downloading one)."""
    limit = MAX_FILE_BYTES // 1024
    return f"{source}: the file is {size / 1024:.0f} KiB; a roadmap file can be at most {limit} KiB"


def _validated(
    data: dict[str, Any], root: yaml.Node | None, source: str, expected_key: str | None
) -> tuple[Roadmap | None, list[str]]:
    raw_key = data.get("key")
    roadmap_key = raw_key if isinstance(raw_key, str) and raw_key else (expected_key or "?")
    roadmap_label = f"roadmap {roadmap_key!r}"
    problems: list[str] = []
    if expected_key is not None and isinstance(raw_key, str) and raw_key.strip() != expected_key:
        line = _line_of(root, ("key",))
        problems.append(
            f"{source}: line {line}, {roadmap_label}, key: must equal the file name {expected_key!r},"
            f" got {raw_key.strip()!r}"
        )
    try:
        roadmap = Roadmap.model_validate(data)
    except ValidationError as error:
        details = _without_echoes(error.errors())
        for detail in details:
            where, message = _describe_validation_error(detail, data)
            line = _line_of(root, tuple(detail["loc"]))
            prefix = f"{source}: line {line}, {roadmap_label}"
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
    if detail["type"] == "missing" and field_path:
        return ", ".join(where), f"{field_path} is missing"  # "checkpoint 3 'rest-api': title is missing"
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
