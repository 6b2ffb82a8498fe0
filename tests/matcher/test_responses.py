"""Providers' responses to referrals (issue 14 part 4): ``responses.csv`` is read and checked,
a decline excludes the vacancy by ``declined_by_provider`` in rank, why-not and match (and the
validator checks it), an offer comes first among equals, and nothing moves without one."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from test_rules_builders import child, folder, place, vacancy

from matcher.candidates import build_candidates
from matcher.casefolder import load_case_folder, write_case_folder
from matcher.domain import CaseFolder, ReferralResponse
from matcher.match import match
from matcher.optimiser import SolverParameters
from matcher.problems import CaseFolderError
from matcher.rank import rank_child, why_not
from matcher.validate_result import validate_result
from matcher.vocabulary import Response, ResponseReason

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
FAST = SolverParameters(time_limit_s=10.0, num_workers=1, seed=0)
HEADER = "vacancy_id,child_id,response,reason\n"


def _with_responses(tmp_path: Path, text: str) -> Path:
    out = tmp_path / "case"
    shutil.copytree(DEMO, out)
    (out / "responses.csv").write_text(text, encoding="utf-8")
    return out


def _problems(path: Path) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(CaseFolderError) as caught:
        load_case_folder(path)
    return [(p.file, p.line, p.field, p.message) for p in caught.value.problems]


# ----------------------------------------------------------------------------- loading


def test_responses_load_sorted_with_their_codes(tmp_path: Path) -> None:
    path = _with_responses(
        tmp_path, HEADER + "V11,C05,Offer,\nV05,C05,DECLINE,impact_on_residents\n"
    )
    f = load_case_folder(path)
    assert f.responses == (
        ReferralResponse("V05", "C05", Response.DECLINE, ResponseReason.IMPACT_ON_RESIDENTS),
        ReferralResponse("V11", "C05", Response.OFFER, None),
    )
    assert f.response("C05", "V11") == f.responses[1]
    assert f.response("C05", "V02") is None
    # written and read back equal
    again = load_case_folder(write_case_folder(f, tmp_path / "again"))
    assert again.responses == f.responses


def test_a_header_without_rows_is_no_answers_yet(tmp_path: Path) -> None:
    assert load_case_folder(_with_responses(tmp_path, HEADER)).responses == ()


def test_every_bad_row_is_named_by_line_and_field(tmp_path: Path) -> None:
    path = _with_responses(
        tmp_path,
        HEADER
        + "V99,C05,offer,\n"  # 2: unknown vacancy
        + "V02,C99,offer,\n"  # 3: unknown child
        + "V03,C05,decline,\n"  # 4: a decline without a reason
        + "V04,C05,maybe,\n"  # 5: not a response
        + "V06,C05,decline,too_far\n"  # 6: not a reason code
        + "V07,C05,offer,\n"  # 7: fine
        + "V07,C05,decline,cost\n"  # 8: the same pair again
        + "V08,C05\n",  # 9: a short row
    )
    found = _problems(path)
    where = [(file, line, field) for file, line, field, _ in found]
    assert where == [
        ("responses.csv", 2, "vacancy_id"),
        ("responses.csv", 3, "child_id"),
        ("responses.csv", 4, "reason"),
        ("responses.csv", 5, "response"),
        ("responses.csv", 6, "reason"),
        ("responses.csv", 8, "vacancy_id"),
        ("responses.csv", 9, None),
    ]
    messages = {line: message for _, line, _, message in found}
    assert "'V99' is not a vacancy_id of vacancies.csv" in messages[2]
    assert "'C99' is not a child_id of children.csv" in messages[3]
    assert "required for a decline" in messages[4] and "no_capacity" in messages[4]
    assert "expected one of: offer, consider, decline" in messages[5]
    assert "too_far" not in messages[6] and "impact_on_residents" in messages[6]
    assert "repeat line 7" in messages[8]
    assert "2 cells; expected 4" in messages[9]


def test_missing_columns_and_unknown_ones(tmp_path: Path) -> None:
    missing = _problems(_with_responses(tmp_path, "vacancy_id,child_id\nV02,C01\n"))
    assert ("responses.csv", 1, "response", "required column is missing") in missing
    assert ("responses.csv", 1, "reason", "required column is missing") in missing
    shutil.rmtree(tmp_path / "case")
    ok = load_case_folder(
        _with_responses(tmp_path, "vacancy_id,child_id,response,reason,note\nV02,C01,offer,,x\n")
    )
    assert [(w.file, w.field) for w in ok.warnings] == [("responses.csv", "note")]


def test_the_folder_itself_refuses_bad_responses() -> None:
    kids, vacs = [child("C1")], [vacancy("V1")]
    with pytest.raises(ValueError, match="vacancy V9, not in this folder"):
        folder(kids, vacs, responses=[ReferralResponse("V9", "C1", Response.OFFER)])
    twice = [ReferralResponse("V1", "C1", Response.OFFER)] * 2
    with pytest.raises(ValueError, match="more than one response"):
        folder(kids, vacs, responses=twice)
    with pytest.raises(ValueError, match="required for a decline"):
        ReferralResponse("V1", "C1", Response.DECLINE)


# ----------------------------------------------------------------------------- the rule


def test_a_decline_excludes_the_vacancy_in_rank_and_why_not(tmp_path: Path) -> None:
    before = load_case_folder(DEMO)
    best = rank_child(before, "C05").options[0].vacancy_id
    assert best == "V05"
    after = load_case_folder(_with_responses(tmp_path, HEADER + "V05,C05,decline,no_capacity\n"))
    ranking = rank_child(after, "C05")
    assert "V05" not in [o.vacancy_id for o in ranking.options]
    assert ranking.excluded["declined_by_provider"] == 1
    assert ranking.n_eligible == rank_child(before, "C05").n_eligible - 1
    [declined] = [e for e in ranking.exclusions if e.vacancy_id == "V05"]
    assert declined.rule == "declined_by_provider" and "no_capacity" in declined.reason
    answer = why_not(after, "C05", "V05")
    assert answer.exclusion is not None
    assert answer.exclusion.rule == "declined_by_provider"
    assert "no_capacity" in answer.exclusion.reason
    assert "Regulations 2010" in answer.exclusion.source
    # the decline is for C05 only: another child keeps the vacancy
    assert why_not(after, "C07", "V05").exclusion is None


def test_a_decline_for_one_sibling_excludes_the_group() -> None:
    kids = [child("C1", sibling_group="G"), child("C2", age=12, sibling_group="G")]
    vacs = [vacancy("V1", beds=2), vacancy("V2", beds=2)]
    f = folder(
        kids, vacs, responses=[ReferralResponse("V1", "C2", Response.DECLINE, ResponseReason.RISK)]
    )
    assert why_not(f, "C2", "V1").exclusion.rule == "declined_by_provider"  # type: ignore[union-attr]
    sibling = why_not(f, "C1", "V1").exclusion
    assert sibling is not None and sibling.rule == "sibling_group_together"
    assert "declined_by_provider" in sibling.reason and "C2" in sibling.reason
    assert [o.vacancy_id for o in rank_child(f, "C1").options] == ["V2"]


def test_the_match_never_assigns_a_declined_pair_and_reports_it(tmp_path: Path) -> None:
    path = _with_responses(tmp_path, HEADER + "V05,C05,decline,cannot_meet_needs\n")
    f = load_case_folder(path)
    result = match(f, FAST)
    assert result.vacancy_of["C05"] != "V05"
    assert [(d.child_id, d.vacancy_id, d.provider_id, d.reason) for d in result.declined] == [
        ("C05", "V05", f.vacancy("V05").provider_id, "cannot_meet_needs")
    ]
    assert "Declined by the provider" in result.text()
    assert "cannot_meet_needs" in result.text()
    assert result.to_dict()["declined"][0]["reason"] == "cannot_meet_needs"
    assert type(result).from_dict(result.to_dict()).declined == result.declined


def test_the_validator_refuses_a_declined_assignment(tmp_path: Path) -> None:
    plain = load_case_folder(DEMO)
    result = match(plain, FAST)
    assert result.vacancy_of["C05"] == "V05"
    declined = replace(
        plain,
        responses=(ReferralResponse("V05", "C05", Response.DECLINE, ResponseReason.LOCATION),),
    )
    errors = validate_result(declined, build_candidates(declined), result)
    assert any("the provider declined this child (reason location)" in e for e in errors)
    assert any("declined referrals reported 0 differ" in e for e in errors)
    # and a decline of a sibling placed with the group
    group = replace(
        plain,
        responses=(ReferralResponse("V02", "C03", Response.DECLINE, ResponseReason.OTHER),),
    )
    errors = validate_result(group, build_candidates(group), result)
    assert any("C01 -> V02: the provider declined the sibling C03" in e for e in errors)


def test_validator_passes_the_match_with_declines(tmp_path: Path) -> None:
    f = load_case_folder(
        _with_responses(tmp_path, HEADER + "V02,C01,decline,no_capacity\nV05,C07,offer,\n")
    )
    result = match(f, FAST)
    assert validate_result(f, build_candidates(f), result) == []
    assert "V02" not in {result.vacancy_of.get(c) for c in ("C01", "C02", "C03")}


# ----------------------------------------------------------------------------- ordering


def _tied() -> tuple[CaseFolder, list[str]]:
    """Three vacancies with equal points for one child (same kind, place and cost)."""
    kids = [child("C1")]
    vacs = [vacancy(v, location=place("CM2 0HU")) for v in ("V1", "V2", "V3")]
    return folder(kids, vacs), ["V1", "V2", "V3"]


def test_an_offer_comes_first_among_equals_then_consider() -> None:
    plain, ids = _tied()
    ranking = rank_child(plain, "C1")
    assert [o.vacancy_id for o in ranking.options] == ids
    assert len({o.score for o in ranking.options}) == 1
    assert all(o.response is None for o in ranking.options)
    answered = replace(
        plain,
        responses=(
            ReferralResponse("V2", "C1", Response.CONSIDER),
            ReferralResponse("V3", "C1", Response.OFFER, ResponseReason.COST),
        ),
    )
    ranked = rank_child(answered, "C1").options
    assert [o.vacancy_id for o in ranked] == ["V3", "V2", "V1"]
    assert [o.response for o in ranked] == ["offer", "consider", None]
    assert ranked[0].to_dict()["response"] == "offer"
    assert ranked[0].to_dict()["response_reason"] == "cost"
    assert [o.score for o in ranked] == [o.score for o in ranking.options]


def test_an_offer_never_beats_more_points() -> None:
    kids = [child("C1")]
    near = vacancy("V1", location=place("CM1 1QH"))
    far = vacancy("V2", location=place("IP1 2BX"))
    f = folder(kids, [near, far], responses=[ReferralResponse("V2", "C1", Response.OFFER)])
    ranked = rank_child(f, "C1").options
    assert ranked[0].score > ranked[1].score
    assert [o.vacancy_id for o in ranked] == ["V1", "V2"]


def test_without_declines_nothing_moves(tmp_path: Path) -> None:
    plain = load_case_folder(DEMO)
    answered = load_case_folder(
        _with_responses(tmp_path, HEADER + "V05,C05,consider,\nV12,C08,offer,\n")
    )
    for c in plain.children:
        a, b = rank_child(plain, c.child_id), rank_child(answered, c.child_id)
        assert a.excluded == b.excluded
        assert sorted((o.vacancy_id, o.score) for o in a.options) == sorted(
            (o.vacancy_id, o.score) for o in b.options
        )
    one, two = match(plain, FAST), match(answered, FAST)
    assert (one.objective, one.vacancy_of) == (two.objective, two.vacancy_of)
    assert two.declined == ()


def test_the_contract_pins_the_columns_and_codes() -> None:
    from matcher.contract import column_names, contract

    assert column_names("responses.csv") == ("vacancy_id", "child_id", "response", "reason")
    c = contract()
    assert [col["name"] for col in c["files"]["responses.csv"]] == list(
        column_names("responses.csv")
    )
    assert list(c["vocabularies"]["response"]) == ["offer", "consider", "decline"]
    assert set(c["vocabularies"]["response_reason"]) == {
        "no_capacity",
        "cannot_meet_needs",
        "impact_on_residents",
        "risk",
        "location",
        "outside_approval",
        "cost",
        "other",
    }
