"""``ranking_data`` (what the service sends for a ranking) is ``rank_child(...).to_dict()``
exactly: the same keys in the same order, the same numbers and the same sentences, for every
child of random folders (with providers' answers and residents), of the demo and of a
synthetic county cohort, whole and cut to ``top``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_candidates_properties import folders

from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.factors.base import FolderArrays, Pairs
from matcher.factors.culture_language import CultureLanguage
from matcher.rank import UnknownIdError, rank_child, ranking_data

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def _same(folder: CaseFolder, child_id: str, top: int | None) -> None:
    fast = ranking_data(folder, child_id, top)
    slow = rank_child(folder, child_id, top).to_dict()
    # as JSON text: key order and number types count too
    assert json.dumps(fast) == json.dumps(slow)


@given(folders(), st.sampled_from([None, 0, 1, 3]))
def test_random_folders(folder: CaseFolder, top: int | None) -> None:
    for c in folder.children:
        _same(folder, c.child_id, top)


def test_the_demo() -> None:
    folder = load_case_folder(DEMO)
    for c in folder.children:
        for top in (None, 2):
            _same(folder, c.child_id, top)


def test_a_synthetic_cohort(tmp_path: Path) -> None:
    from scenarios.cohorts import generate, write_case_folder

    case = generate("Essex", 1, children=150)
    out = tmp_path / "cohort"
    write_case_folder(case, out)
    folder = load_case_folder(out)
    options = 0
    for c in folder.children:
        _same(folder, c.child_id, None)
        options += len(ranking_data(folder, c.child_id)["options"])
    assert options > len(folder.children)  # the cohort has real options to compare


def test_errors_as_rank_child() -> None:
    folder = load_case_folder(DEMO)
    with pytest.raises(UnknownIdError, match="'C99'"):
        ranking_data(folder, "C99")
    with pytest.raises(ValueError, match="top"):
        ranking_data(folder, "C01", -1)


@given(folders(policy=True))
def test_culture_language_names_the_parts_its_points_come_from(folder: CaseFolder) -> None:
    """Its sentence, worked out for one pair, names exactly the parts that give points in
    the vectorised assessment of every pair (``_components``)."""
    arrays = FolderArrays.build(folder)
    n_c, n_v = arrays.n_children, arrays.n_vacancies
    pairs = Pairs(arrays, np.repeat(np.arange(n_c), n_v), np.tile(np.arange(n_v), n_c))
    factor = CultureLanguage()
    points = factor.assess(pairs)
    parts = factor._components(pairs)
    for k in range(len(pairs)):
        matched = [name for name, part in parts if part[k] > 0]
        sentence = factor.reason(pairs, k, int(points[k]))
        if matched:
            assert sentence.startswith(f"Shared {', '.join(matched)}: {int(points[k])} points")
        else:
            assert sentence.startswith("No shared ethnicity, religion or language recorded")


@given(folders(policy=True))
def test_a_rule_whose_sentence_names_only_the_vacancy_says_the_same_to_every_child(
    folder: CaseFolder,
) -> None:
    """The rules marked ``reason_of_vacancy`` (their sentences are made once per folder and
    vacancy by ``ranking_data``) give the same sentence for a vacancy whichever child is
    excluded from it."""
    from matcher.rules import DEFAULT_RULES

    marked = [r for r in DEFAULT_RULES if getattr(r, "reason_of_vacancy", False)]
    assert marked  # the rules that make most of a county's exclusions
    arrays = FolderArrays.build(folder)
    n_c, n_v = arrays.n_children, arrays.n_vacancies
    pairs = Pairs(arrays, np.repeat(np.arange(n_c), n_v), np.tile(np.arange(n_v), n_c))
    for rule in marked:
        excluded = np.asarray(rule.excludes(pairs), dtype=bool)
        said: dict[int, str] = {}
        for k in np.flatnonzero(excluded).tolist():
            sentence = rule.reason(pairs, k)
            assert said.setdefault(int(pairs.vi[k]), sentence) == sentence, rule.name
