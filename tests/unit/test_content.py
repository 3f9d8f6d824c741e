"""The shipped roadmap content and the loader that validates it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.content import (
    ContentError,
    RoadmapCatalog,
    check_content,
    default_content_dir,
    load_catalog,
    load_roadmap_file,
)
from bot.kernel.roadmap import CheckpointKind, Roadmap, SkillPriority

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTENT_DIR = REPO_ROOT / "data" / "roadmaps"
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"

EXPECTED_KEYS = {"python-europe", "junior-to-senior", "ninety-day-plan", "nodejs-path", "job-skills"}


@pytest.fixture(scope="module")
def catalog() -> RoadmapCatalog:
    return load_catalog(CONTENT_DIR)


def _words(text: str) -> list[str]:
    """Lower-case word tokens with hyphens and slashes folded away, so 'E-commerce' == 'ecommerce'."""
    return re.findall(r"[a-z0-9]+", re.sub(r"[-/]", "", text.lower()))


def _mentions(text: str, words: list[str]) -> bool:
    """Every word occurs in the text, also inside compounds ('blockchain' in 'Blockchain-based')."""
    folded = " ".join(_words(text))
    return all(word in folded for word in words)


# --- the shipped content ------------------------------------------------------------------------


def test_shipped_content_loads_as_exactly_the_five_roadmaps(catalog: RoadmapCatalog) -> None:
    assert check_content(CONTENT_DIR) == []
    assert len(catalog) == 5
    assert set(catalog.keys()) == EXPECTED_KEYS
    # Ordered by file name, and each roadmap lives in the file named after its key.
    assert catalog.keys() == sorted(catalog.keys())
    for roadmap in catalog:
        assert (CONTENT_DIR / f"{roadmap.key}.yaml").is_file()


def test_default_content_dir_is_the_repository_folder_whatever_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_content_dir() == CONTENT_DIR
    assert len(load_catalog(default_content_dir())) == 5


MONTH = 30

PHASE_LAYOUT = {
    "python-europe": [(0, 90), (90, 90), (180, 180)],
    "junior-to-senior": [(0, 180), (60, 210), (180, 180), (270, 270), (450, 270)],
    "ninety-day-plan": [(day, 10) for day in range(0, 90, 10)],
}


@pytest.mark.parametrize(("key", "layout"), PHASE_LAYOUT.items())
def test_seed_phases_keep_their_durations(
    catalog: RoadmapCatalog, key: str, layout: list[tuple[int, int]]
) -> None:
    roadmap = catalog.get(key)
    assert roadmap is not None
    assert [(phase.start_day, phase.duration_days) for phase in roadmap.phases] == layout


def test_junior_to_senior_has_the_four_six_monthly_milestones(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("junior-to-senior")
    assert roadmap is not None
    milestones = [
        roadmap.phase_number(phase)
        for phase, checkpoint in roadmap.checkpoints()
        if checkpoint.kind is CheckpointKind.MILESTONE
    ]
    due_days = sorted(
        phase.due_day_of(checkpoint)
        for phase, checkpoint in roadmap.checkpoints()
        if checkpoint.kind is CheckpointKind.MILESTONE
    )
    assert due_days == [6 * MONTH - 1, 12 * MONTH - 1, 18 * MONTH - 1, 24 * MONTH - 1]
    assert milestones == [1, 3, 4, 5]
    assert roadmap.duration_days == 24 * MONTH


def test_nodejs_path_covers_core_steps_and_later_material(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("nodejs-path")
    assert roadmap is not None
    assert all(14 <= phase.duration_days <= 28 for phase in roadmap.phases)
    # Phases follow one another without gaps or overlaps.
    for earlier, later in zip(roadmap.phases, roadmap.phases[1:], strict=False):
        assert later.start_day == earlier.end_day
    all_topics = " ".join(" ".join(phase.topics) for phase in roadmap.phases).lower()
    core_steps = ["javascript", "express", "sql", "mongodb", "git"]
    later_material = ["graphql", "microservices", "serverless", "ec2", "s3", "lambda", "merge vs rebase"]
    shipping = ["containers", "orchestration", "deployment", "ci/cd"]
    for subject in core_steps + later_material + shipping:
        assert subject in all_topics, subject


# Each project idea as the words its checkpoint title must contain, and (where the seed dates it)
# the phase it belongs in.
SEED_PROJECTS: dict[str, list[tuple[str, str | None]]] = {
    "junior-to-senior": [
        ("REST API authentication", "foundation-strengthening"),
        ("e-commerce backend", "foundation-strengthening"),
        ("blog platform API", "foundation-strengthening"),
        ("microservices chat", "devops-infrastructure"),
        ("CI/CD pipeline", "devops-infrastructure"),
        ("dockerized", "devops-infrastructure"),
        ("event-driven e-commerce", "advanced-architecture"),
        ("monitoring observability", "advanced-architecture"),
        ("performance optimization", "advanced-architecture"),
        ("architecture design document", "leadership-senior-skills"),
        ("mentoring program", "leadership-senior-skills"),
        ("technical leadership", "leadership-senior-skills"),
    ],
    "ninety-day-plan": [
        ("transactional", None),
        ("data-heavy", None),
        ("integration", None),
        ("messaging", None),
    ],
    "nodejs-path": [
        ("task manager", None),
        ("blog", None),
        ("to-do", None),
        ("e-commerce", None),
        ("real-time chat", None),
        ("ticket resale", None),
        ("social media", None),
        ("blockchain", None),
    ],
}


@pytest.mark.parametrize(
    ("key", "idea", "phase_key"),
    [(key, idea, phase_key) for key, ideas in SEED_PROJECTS.items() for idea, phase_key in ideas],
)
def test_every_seed_project_idea_has_a_project_checkpoint(
    catalog: RoadmapCatalog, key: str, idea: str, phase_key: str | None
) -> None:
    roadmap = catalog.get(key)
    assert roadmap is not None
    wanted = _words(idea)
    matches = [
        phase
        for phase, checkpoint in roadmap.checkpoints()
        if checkpoint.kind is CheckpointKind.PROJECT and _mentions(checkpoint.title, wanted)
    ]
    assert len(matches) == 1, f"{idea!r}: expected one project checkpoint, found {len(matches)}"
    if phase_key is not None:
        assert matches[0].key == phase_key
    idea_texts = [item for notes in roadmap.project_ideas for item in notes.items]
    assert any(_mentions(text, wanted) for text in idea_texts), f"{idea!r} missing from project_ideas"


def test_project_idea_counts_match_the_seeds(catalog: RoadmapCatalog) -> None:
    for key, ideas in SEED_PROJECTS.items():
        roadmap = catalog.get(key)
        assert roadmap is not None
        projects = [
            checkpoint for _, checkpoint in roadmap.checkpoints() if checkpoint.kind is CheckpointKind.PROJECT
        ]
        assert len(projects) == len(ideas), key
        assert sum(len(notes.items) for notes in roadmap.project_ideas) == len(ideas), key
    junior = catalog.get("junior-to-senior")
    assert junior is not None
    assert [notes.level.split()[0] for notes in junior.project_ideas] == [
        "beginner",
        "intermediate",
        "advanced",
        "senior-level",
    ]


def test_python_europe_skills_and_responsibilities(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("python-europe")
    assert roadmap is not None
    assert {skill.priority for skill in roadmap.skills} == {SkillPriority.MUST, SkillPriority.NICE}
    areas = {skill.area.lower() for skill in roadmap.skills}
    assert areas == {
        "programming & frameworks",
        "databases",
        "apis",
        "devops & cloud",
        "testing",
        "practices",
        "bonus",
    }
    nice = {skill.title for skill in roadmap.skills if skill.priority is SkillPriority.NICE}
    assert "GraphQL" in nice
    assert any("Kubernetes" in title for title in nice)
    levels = [notes.level.lower() for notes in roadmap.responsibilities]
    for level in ("junior", "mid-level"):
        assert any(text.startswith(level) and "core tasks" in text for text in levels)
        assert any(text.startswith(level) and "soft skills" in text for text in levels)
    assert roadmap.project_ideas


def test_job_skills_is_a_checklist_with_one_checkpoint_per_skill(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("job-skills")
    assert roadmap is not None
    assert all(phase.duration_days == 14 for phase in roadmap.phases)
    assert {skill.priority for skill in roadmap.skills} == {SkillPriority.COMMON, SkillPriority.NICHE}
    checkpoint_titles = [checkpoint.title for _, checkpoint in roadmap.checkpoints()]
    assert sorted(checkpoint_titles) == sorted(skill.title for skill in roadmap.skills)
    # Niche skills live in the niche phases and nowhere else.
    niche_titles = {skill.title for skill in roadmap.skills if skill.priority is SkillPriority.NICHE}
    for phase, checkpoint in roadmap.checkpoints():
        assert (checkpoint.title in niche_titles) == phase.key.startswith("niche"), checkpoint.key
    for expected in ("Kafka", "Terraform", "German", "GraphQL", "PostgreSQL", "pytest"):
        assert any(expected in skill.title for skill in roadmap.skills), expected
    assert [notes.level for notes in roadmap.responsibilities] == ["common", "uncommon"]


def test_checkpoint_keys_are_unique_within_each_roadmap(catalog: RoadmapCatalog) -> None:
    for roadmap in catalog:
        keys = [checkpoint.key for _, checkpoint in roadmap.checkpoints()]
        assert len(keys) == len(set(keys)), roadmap.key


def test_every_phase_has_three_to_five_prompts_and_real_content(catalog: RoadmapCatalog) -> None:
    for roadmap in catalog:
        for phase in roadmap.phases:
            where = f"{roadmap.key}/{phase.key}"
            assert 3 <= len(phase.prompts) <= 5, where
            assert len(set(phase.prompts)) == len(phase.prompts), where
            assert all(prompt.endswith(("?", ".", "!")) for prompt in phase.prompts), where
            for checkpoint in phase.checkpoints:
                assert len(checkpoint.description) < 300
                assert len(checkpoint.title) < 100


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


RUN_LENGTH = 8


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN_LENGTH]) for i in range(len(words) - RUN_LENGTH + 1)}


def copied_runs(seeds_dir: Path, content_dir: Path) -> list[str]:
    """Every text in the content that shares a run of RUN_LENGTH words with a seed document."""
    seed_runs: set[tuple[str, ...]] = set()
    for seed in seeds_dir.glob("*.txt"):
        seed_runs |= _runs(_words(seed.read_text(encoding="utf-8", errors="replace")))
    assert seed_runs, "no seed text found"
    copied = []
    for path in sorted(content_dir.glob("*.yaml")):
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            shared = _runs(_words(text)) & seed_runs
            if shared:
                copied.append(f"{path.name}: {' '.join(min(shared))!r}")
    return copied


def test_content_is_written_in_own_words_not_copied_from_the_seeds() -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed documents not available at {SEEDS_DIR}")
    assert copied_runs(SEEDS_DIR, CONTENT_DIR) == []


def test_the_copy_guard_would_catch_a_copied_sentence(tmp_path: Path) -> None:
    seeds, content = tmp_path / "seeds", tmp_path / "content"
    seeds.mkdir()
    content.mkdir()
    planted = "Pick one small service each month and rebuild it until the tests run green every time."
    (seeds / "planted.txt").write_text(f"Some preface.\n{planted}\nSome closing words.\n")
    (content / "copied.yaml").write_text(f"key: copied\nsummary: {planted}\n")
    (content / "reworded.yaml").write_text(
        "key: reworded\nsummary: Every month, rebuild a small service until its tests pass each run.\n"
    )
    found = copied_runs(seeds, content)
    assert len(found) == 1 and found[0].startswith("copied.yaml: ")


# --- the catalog ------------------------------------------------------------------------------


def test_catalog_lookup_and_iteration(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("python-europe")
    assert roadmap is not None
    assert roadmap.title == "Python Backend Developer (Europe)"
    assert catalog.get("nope") is None
    assert "nodejs-path" in catalog
    assert [item.key for item in catalog] == catalog.keys()


def test_catalog_rejects_duplicate_keys(catalog: RoadmapCatalog) -> None:
    roadmap = catalog.get("job-skills")
    assert roadmap is not None
    with pytest.raises(ValueError, match="job-skills"):
        RoadmapCatalog([roadmap, roadmap])


def test_catalog_cannot_be_changed(catalog: RoadmapCatalog) -> None:
    with pytest.raises(AttributeError):
        catalog.extra = 1  # type: ignore[attr-defined]
    keys = catalog.keys()
    keys.clear()
    assert len(catalog.keys()) == 5


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("pyhton-europe", "python-europe"),
        ("PYTHON-EUROPE", "python-europe"),
        ("junior", "junior-to-senior"),
        ("nodejs", "nodejs-path"),
        ("ninety-day", "ninety-day-plan"),
        ("job-skill", "job-skills"),
        ("jb-skils", "job-skills"),
        ("90-day backend job preparation", "ninety-day-plan"),
        ("kubernetes-operators", None),
        ("", None),
    ],
)
def test_closest_suggests_a_key(catalog: RoadmapCatalog, typed: str, suggested: str | None) -> None:
    assert catalog.closest(typed) == suggested


def test_search_matches_key_or_title_ignoring_case(catalog: RoadmapCatalog) -> None:
    assert [roadmap.key for roadmap in catalog.search("PYTHON")] == ["python-europe"]
    assert [roadmap.key for roadmap in catalog.search("senior")] == ["junior-to-senior"]
    # "90-day" only appears in a title; "node" only in a key prefix and a title.
    assert [roadmap.key for roadmap in catalog.search("90-day")] == ["ninety-day-plan"]
    assert [roadmap.key for roadmap in catalog.search("node")] == ["nodejs-path"]
    backend = [roadmap.key for roadmap in catalog.search("backend")]
    assert set(backend) == {
        "job-skills",
        "nodejs-path",
        "junior-to-senior",
        "ninety-day-plan",
        "python-europe",
    }
    # Titles that start with the text come before titles that merely contain it.
    assert backend[:2] == ["job-skills", "nodejs-path"]
    assert len(catalog.search("")) == 5
    assert len(catalog.search("", limit=2)) == 2
    assert catalog.search("cobol") == []


# --- broken content -----------------------------------------------------------------------------

VALID_ROADMAP = """\
key: {key}
title: A small path
summary: Two short phases for tests.
phases:
  - key: first
    title: First
    summary: The first phase.
    start_day: 0
    duration_days: 7
    topics: [basics]
    checkpoints:
      - key: hello
        title: Hello
        description: Say hello.
    prompts: ["Say hello to the group and share one goal for this week."]
  - key: second
    title: Second
    summary: The second phase.
    start_day: 7
    duration_days: 7
    topics: [more]
    checkpoints:
      - key: world
        title: World
        description: Say hello to the world.
      - key: {checkpoint_key}
        title: Again
        description: Once more.
    prompts: ["Say hello to the world and tell us how it went for you."]
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_small_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "small.yaml", VALID_ROADMAP.format(key="small", checkpoint_key="again"))
    roadmap = load_roadmap_file(path)
    assert isinstance(roadmap, Roadmap)
    assert roadmap.checkpoint_count == 3
    assert roadmap.duration_days == 14


def test_a_bad_checkpoint_key_names_file_roadmap_phase_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.yaml", VALID_ROADMAP.format(key="broken", checkpoint_key="Not A Key"))
    with pytest.raises(ContentError) as caught:
        load_roadmap_file(path)
    assert caught.value.problems == (
        "broken.yaml: line 26, roadmap 'broken', phase 2 'second', checkpoint 2 'Not A Key', key: "
        "String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$' (got 'Not A Key')",
    )
    assert str(caught.value) == caught.value.problems[0]


def test_missing_extra_and_wrongly_typed_fields_are_all_reported(tmp_path: Path) -> None:
    text = VALID_ROADMAP.format(key="broken", checkpoint_key="again")
    text = text.replace("    title: First\n", "    titel: First\n")
    text = text.replace("duration_days: 7\n    topics: [more]", "duration_days: soon\n    topics: [more]")
    text = text.replace(
        "        description: Once more.\n", "        description: Once more.\n        kind: chore\n"
    )
    path = _write(tmp_path, "broken.yaml", text)
    with pytest.raises(ContentError) as caught:
        load_roadmap_file(path)
    problems = caught.value.problems
    # Four real problems, without pydantic's follow-on "phases should have at least 1 item".
    assert len(problems) == 4
    assert not any("at least 1 item" in problem for problem in problems)
    assert "broken.yaml: line 5, roadmap 'broken', phase 1 'first': title is missing" in problems
    assert (
        "broken.yaml: line 6, roadmap 'broken', phase 1 'first', titel: Extra inputs are not permitted"
        " (got 'First')" in problems
    )
    assert any(
        problem.startswith("broken.yaml: line 20, roadmap 'broken', phase 2 'second', duration_days: ")
        for problem in problems
    )
    assert any(
        problem.startswith(
            "broken.yaml: line 29, roadmap 'broken', phase 2 'second', checkpoint 2 'again', kind:"
            " Input should be"
        )
        for problem in problems
    )


def test_short_prompts_and_duplicate_checkpoints_are_explained(tmp_path: Path) -> None:
    text = VALID_ROADMAP.format(key="broken", checkpoint_key="hello")
    short_prompt = _write(
        tmp_path,
        "short.yaml",
        text.replace("key: broken", "key: short").replace(
            '["Say hello to the group and share one goal for this week."]', '["Hi"]'
        ),
    )
    duplicate = _write(tmp_path, "broken.yaml", text)
    with pytest.raises(
        ContentError, match=r"short\.yaml: line \d+, roadmap 'short', phase 1 'first', prompts: .*20 and 1000"
    ):
        load_roadmap_file(short_prompt)
    with pytest.raises(
        ContentError, match=r"broken\.yaml: line 1, roadmap 'broken': checkpoint key 'hello' is used twice"
    ):
        load_roadmap_file(duplicate)


def test_a_roadmap_key_must_match_its_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "python.yaml", VALID_ROADMAP.format(key="python-europe", checkpoint_key="again"))
    with pytest.raises(ContentError) as caught:
        load_roadmap_file(path)
    assert caught.value.problems == (
        "python.yaml: line 1, roadmap 'python-europe', key: must equal the file name 'python',"
        " got 'python-europe'",
    )


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = VALID_ROADMAP.format(key="broken", checkpoint_key="again")
    lines = text.splitlines()
    lines[5] = "    title: First: [unclosed"
    path = _write(tmp_path, "broken.yaml", "\n".join(lines))
    with pytest.raises(ContentError, match=r"^broken\.yaml: YAML syntax error at line 6, column \d+: "):
        load_roadmap_file(path)


def test_a_repeated_yaml_key_is_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    text = VALID_ROADMAP.format(key="broken", checkpoint_key="again")
    text = text.replace("title: A small path\n", "title: A small path\ntitle: Another title\n")
    path = _write(tmp_path, "broken.yaml", text)
    with pytest.raises(
        ContentError, match=r"broken\.yaml: YAML syntax error at line 3, .*duplicate key 'title'"
    ):
        load_roadmap_file(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty.yaml: file is empty"),
        ("- just\n- a list\n", "empty.yaml: the top level must be a mapping of roadmap fields, not a list"),
    ],
)
def test_files_that_are_not_roadmaps(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, "empty.yaml", text)
    with pytest.raises(ContentError) as caught:
        load_roadmap_file(path)
    assert caught.value.problems == (problem,)


def test_check_content_reports_every_problem_in_every_file(tmp_path: Path) -> None:
    _write(tmp_path, "fine.yaml", VALID_ROADMAP.format(key="fine", checkpoint_key="again"))
    _write(tmp_path, "bad-key.yaml", VALID_ROADMAP.format(key="bad-key", checkpoint_key="Bad_Key"))
    _write(tmp_path, "mismatch.yaml", VALID_ROADMAP.format(key="other", checkpoint_key="again"))
    _write(tmp_path, "syntax.yaml", "key: syntax\ntitle: [oops\n")
    _write(tmp_path, "notes.txt", "not a roadmap, ignored")
    problems = check_content(tmp_path)
    assert len(problems) == 3
    assert problems[0].startswith(
        "bad-key.yaml: line 26, roadmap 'bad-key', phase 2 'second', checkpoint 2 'Bad_Key', key: "
    )
    assert problems[1].startswith(
        "mismatch.yaml: line 1, roadmap 'other', key: must equal the file name 'mismatch'"
    )
    assert problems[2].startswith("syntax.yaml: YAML syntax error at line ")
    with pytest.raises(ContentError) as caught:
        load_catalog(tmp_path)
    assert list(caught.value.problems) == problems


def test_the_same_key_in_two_files_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "twin.yaml", VALID_ROADMAP.format(key="twin", checkpoint_key="again"))
    _write(tmp_path, "twin.yml", VALID_ROADMAP.format(key="twin", checkpoint_key="again"))
    assert check_content(tmp_path) == ["twin.yml: roadmap 'twin', key: already defined in twin.yaml"]


def test_an_empty_or_missing_folder_is_a_problem(tmp_path: Path) -> None:
    assert check_content(tmp_path) == [f"{tmp_path}: no roadmap files (*.yaml) found"]
    with pytest.raises(ContentError, match="no such file or folder"):
        load_catalog(tmp_path / "missing")
    (tmp_path / "a-file.txt").write_text("not a folder")
    with pytest.raises(ContentError, match="is a file, not a roadmap folder"):
        load_catalog(tmp_path / "a-file.txt")


def test_a_copy_of_the_shipped_content_loads_from_elsewhere(tmp_path: Path) -> None:
    for path in CONTENT_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    copied = load_catalog(tmp_path)
    assert copied.keys() == load_catalog(CONTENT_DIR).keys()
