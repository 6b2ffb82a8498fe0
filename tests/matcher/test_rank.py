"""rank_child and why_not on the demo folder and hand-made folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_rules_builders import child, folder, place, vacancy

from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.placement_types import PlacementType as PT
from matcher.rank import UnknownIdError, rank_child, why_not

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture(scope="module")
def demo() -> CaseFolder:
    return load_case_folder(DEMO)


def test_rank_best_first_with_kin_on_top(demo: CaseFolder) -> None:
    r = rank_child(demo, "C06")
    assert [o.vacancy_id for o in r.options][:2] == ["V01", "V02"]
    assert r.options[0].connected_person and r.options[0].tier == 1
    assert r.options[0].score < r.options[1].score + 100  # kin first despite fewer points
    scores = [o.score for o in r.options[1:]]
    assert scores == sorted(scores, reverse=True)
    assert r.n_eligible + sum(r.excluded.values()) == len(demo.vacancies)
    assert len(r.exclusions) == sum(r.excluded.values())
    for name in r.excluded:
        assert r.sources[name]


def test_rank_top_cuts_options_not_counts(demo: CaseFolder) -> None:
    full = rank_child(demo, "C07")
    top = rank_child(demo, "C07", top=2)
    assert [o.vacancy_id for o in top.options] == [o.vacancy_id for o in full.options[:2]]
    assert top.n_eligible == full.n_eligible and top.excluded == full.excluded


def test_rank_json_shape(demo: CaseFolder) -> None:
    d = rank_child(demo, "C07").to_dict()
    assert set(d) >= {"child_id", "options", "excluded"}
    o = d["options"][0]
    for key in (
        "vacancy_id",
        "placement_type",
        "points",
        "factors",
        "reasons",
        "distance_miles",
        "school_distance_miles",
        "in_area",
        "signoffs",
    ):
        assert key in o
    assert sum(o["factors"].values()) == o["points"]
    assert set(o["reasons"]) == set(o["factors"])


def test_sibling_group_ranks_only_vacancies_for_the_whole_group(demo: CaseFolder) -> None:
    for cid in ("C01", "C02", "C03"):
        r = rank_child(demo, cid)
        assert [o.vacancy_id for o in r.options] == ["V02"]


def test_why_not_excluded_names_rule_and_others(demo: CaseFolder) -> None:
    w = why_not(demo, "C07", "V01")
    assert not w.eligible
    assert w.exclusion is not None
    assert w.exclusion.rule == "connected_person_only_for_connected"
    assert "avoid_areas" in w.also_broken
    d = w.to_dict()
    assert d["eligible"] is False and d["rule"] == w.exclusion.rule and d["source"]


def test_why_not_eligible_gains_and_losses_add_up(demo: CaseFolder) -> None:
    w = why_not(demo, "C07", "V10")
    assert w.eligible and w.option is not None and w.best is not None
    assert w.best.vacancy_id == rank_child(demo, "C07").options[0].vacancy_id
    diff = sum(w.gains.values()) + sum(w.losses.values())
    assert diff == w.option.score - w.best.score
    assert all(v > 0 for v in w.gains.values()) and all(v < 0 for v in w.losses.values())
    d = w.to_dict()
    assert d["best"]["vacancy_id"] == w.best.vacancy_id and d["points"] == w.option.score


def test_why_not_the_best_has_no_differences(demo: CaseFolder) -> None:
    w = why_not(demo, "C06", "V01")
    assert w.eligible and w.gains == {} and w.losses == {}


def test_unknown_ids_are_lookup_errors_naming_the_id(demo: CaseFolder) -> None:
    with pytest.raises(LookupError, match="C99"):
        rank_child(demo, "C99")
    with pytest.raises(UnknownIdError, match="V99"):
        why_not(demo, "C01", "V99")
    with pytest.raises(ValueError, match="top"):
        rank_child(demo, "C01", top=-1)


def test_child_with_nothing_eligible() -> None:
    f = folder([child("C1", age=3)], [vacancy("V1", placement_type=PT.CHILDRENS_HOME)])
    r = rank_child(f, "C1")
    assert r.options == () and r.excluded == {"placement_type_suits_child": 1}
    w = why_not(f, "C1", "V1")
    assert not w.eligible and w.best is None


def test_rank_does_not_depend_on_other_children() -> None:
    base = [child("C1"), child("C2", home=place("SS2 6ER"))]
    vacs = [vacancy("V1"), vacancy("V2", location=place("RM17 6SL"))]
    alone = rank_child(folder(base[:1], vacs), "C1")
    together = rank_child(folder(base, vacs), "C1")
    assert [(o.vacancy_id, o.score) for o in alone.options] == [
        (o.vacancy_id, o.score) for o in together.options
    ]


def test_ranking_summary(demo: CaseFolder) -> None:
    s = rank_child(demo, "C06").summary()
    assert s["best_vacancy_id"] == "V01" and s["eligible"] == 6
    assert s["best_signoffs"] == ["connected_person_temporary_approval"]
    assert sum(s["excluded"].values()) == len(demo.vacancies) - 6


def test_why_not_names_the_sibling_and_its_rule(demo: CaseFolder) -> None:
    # V11 (a children's home) suits C03 but not its sibling C01, whose plan does not accept
    # a children's home: the group is placed as a unit, so V11 is out for C03 too.
    w = why_not(demo, "C03", "V11")
    assert w.exclusion is not None and w.exclusion.rule == "sibling_group_together"
    assert w.exclusion.reason == (
        "Excluded for the sibling C01 by placement_type_suits_child (Placement type "
        "childrens_home is not one the child's plan accepts); the group is placed as a unit."
    )
    # The sibling's own answer names its own rule.
    own = why_not(demo, "C01", "V11").exclusion
    assert own is not None and own.rule == "placement_type_suits_child"
