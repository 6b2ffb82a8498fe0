"""``placematch referral`` end to end: one referral per shortlisted provider, only eligible
vacancies, no name, postcode or school in any file written, and a record of what was sent."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from geography.schools import school
from matcher.casefolder import load_case_folder
from matcher.rank import rank_child
from placematch.cli import main
from placematch.commands import _dates

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"
SENT = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dates, "clock", lambda: SENT)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _index(out: Path) -> list[dict[str, str]]:
    with (out / "referrals.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _case(tmp_path: Path, extra_vacancy: str = "", responses: str = "") -> Path:
    case = tmp_path / "case"
    shutil.copytree(DEMO, case)
    if extra_vacancy:
        with (case / "vacancies.csv").open("a", encoding="utf-8") as fh:
            fh.write(extra_vacancy + "\n")
    if responses:
        (case / "responses.csv").write_text(
            "vacancy_id,child_id,response,reason\n" + responses, encoding="utf-8"
        )
    return case


def test_one_referral_per_provider_of_the_shortlist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A second vacancy at C05's best provider (P04): both go in one referral.
    case = _case(
        tmp_path,
        "V17,P04,inhouse_foster,CM9 5DL,1,5,17,any,disability;wheelchair,good,530,,0,WBRI,,,,,",
    )
    out = tmp_path / "referrals"
    status, text, err = run(
        ["referral", str(case), "--child", "C05", "--top", "3", "--out", str(out)], capsys
    )
    assert status == 0 and err == ""
    ranking = rank_child(load_case_folder(case), "C05", 3)
    best = [o.vacancy_id for o in ranking.options]
    assert best == ["V05", "V17", "V11"]
    rows = _index(out)
    assert [(r["vacancy_id"], r["provider_id"], r["rank"]) for r in rows] == [
        ("V05", "P04", "1"),
        ("V17", "P04", "2"),
        ("V11", "P10", "3"),
    ]
    assert {r["child_id"] for r in rows} == {"C05"} and {r["sent"] for r in rows} == {"2026-03-02"}
    assert sorted(p.name for p in out.iterdir()) == [
        "referral_C05_P04.json",
        "referral_C05_P04.md",
        "referral_C05_P10.json",
        "referral_C05_P10.md",
        "referrals.csv",
        "shortlist_C05.md",
    ]
    assert "Wrote 2 referrals for child C05 (3 vacancies of the best 3 eligible)" in text
    data = json.loads((out / "referral_C05_P04.json").read_text(encoding="utf-8"))
    assert [v["vacancy_id"] for v in data["vacancies"]] == ["V05", "V17"]
    assert data["child"] == {"age": 13, "sex": "F", "needs": ["disability", "wheelchair"]}
    assert data["required_capabilities"] == ["wheelchair"]
    assert data["placing_authority"] == {"name": "Essex", "ons_code": "E10000012"}
    assert data["home_area"] == "Colchester" and data["sibling_group_size"] == 1
    assert data["sent"] == "2026-03-02" and data["needed_from"] == "2026-03-02"
    assert "points" not in json.dumps(data) and "miles" not in json.dumps(data)
    md = (out / "referral_C05_P04.md").read_text(encoding="utf-8")
    assert "| V05 | inhouse_foster | 2 | 5-17 | any | now | - |" in md
    assert "V17,C05,offer|consider|decline,REASON" in md
    shortlist = (out / "shortlist_C05.md").read_text(encoding="utf-8")
    assert "## 1. V05: " in shortlist and "near_home" in shortlist


def test_no_name_postcode_or_school_in_any_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = load_case_folder(DEMO)
    out = tmp_path / "out"
    for c in folder.children:
        status, _, err = run(
            ["referral", str(DEMO), "--child", c.child_id, "--top", "10", "--out", str(out)],
            capsys,
        )
        assert status == 0, err
    written = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert len(written) > 10
    secrets: set[str] = set()
    for c in folder.children:
        if c.home_postcode:
            secrets |= {c.home_postcode, c.home_postcode.replace(" ", "")}
        if c.school_urn is not None:
            secrets.add(str(c.school_urn))
            s = school(c.school_urn)
            secrets.add(s.name)
            if s.postcode:
                secrets.add(s.postcode)
        for text in (c.religion, c.language):
            if text:
                secrets.add(text)
    # nor the providers' own addresses: a referral carries no postcode at all
    secrets |= {v.postcode for v in folder.vacancies}
    for name, text in written.items():
        lowered = text.lower()
        for secret in secrets:
            assert secret.lower() not in lowered, (name, secret)
    # every child's referrals are in the one index, each to an eligible vacancy
    rows = _index(out)
    assert {r["child_id"] for r in rows} == {c.child_id for c in folder.children}
    for r in rows:
        eligible = {o.vacancy_id for o in rank_child(folder, r["child_id"]).options}
        assert r["vacancy_id"] in eligible


def test_never_to_a_provider_that_declined_nor_an_ineligible_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case(tmp_path, responses="V05,C05,decline,impact_on_residents\n")
    out = tmp_path / "out"
    status, _, _ = run(
        ["referral", str(case), "--child", "C05", "--top", "10", "--out", str(out)], capsys
    )
    assert status == 0
    sent = {r["vacancy_id"] for r in _index(out)}
    assert sent == {"V11"}  # C05's only other eligible vacancy; never "send to all"
    assert not (out / "referral_C05_P04.md").exists()


def test_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    status, _, err = run(["referral", str(DEMO), "--child", "C99", "--out", str(out)], capsys)
    assert status == 2
    assert err.strip() == (
        f"placematch: error: child_id 'C99' is not in case folder {DEMO} (children.csv)"
    )
    assert not out.exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    status, _, err = run(["referral", str(DEMO), "--child", "C05", "--out", str(a_file)], capsys)
    assert status == 2 and "is a file; expected a folder" in err and len(err.splitlines()) == 1
    # written once; a second run for the same child never overwrites
    assert run(["referral", str(DEMO), "--child", "C05", "--out", str(out)], capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    status, _, err = run(["referral", str(DEMO), "--child", "C05", "--out", str(out)], capsys)
    assert status == 2 and "already holds referral_C05_P04.md" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # a foreign referrals.csv is named, not overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "referrals.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    status, _, err = run(["referral", str(DEMO), "--child", "C05", "--out", str(other)], capsys)
    assert status == 2 and "referrals.csv:1: header is not" in err
    assert (other / "referrals.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_a_child_without_eligible_vacancy_gets_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Decline every vacancy eligible for C09: nothing is left to refer.
    folder = load_case_folder(DEMO)
    eligible = [o.vacancy_id for o in rank_child(folder, "C09").options]
    assert eligible
    case = _case(tmp_path, responses="".join(f"{v},C09,decline,no_capacity\n" for v in eligible))
    out = tmp_path / "out"
    status, text, _ = run(["referral", str(case), "--child", "C09", "--out", str(out)], capsys)
    assert status == 0
    assert text.startswith("No referral written for child C09: no eligible vacancy")
    assert not out.exists()


def test_sent_is_the_on_date_when_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    on = SENT + dt.timedelta(days=9)
    out = tmp_path / "out"
    argv = ["referral", str(DEMO), "--child", "C05", "--top", "2", "--out", str(out)]
    status, _, err = run([*argv, "--on", on.isoformat()], capsys)
    assert status == 0 and err == ""
    rows = _index(out)
    assert rows and {r["sent"] for r in rows} == {on.isoformat()}
    for name in {r["file"] for r in rows}:
        data = json.loads((out / name).with_suffix(".json").read_text(encoding="utf-8"))
        assert data["sent"] == on.isoformat()
    assert f"Referred {on.isoformat()}" in (out / "shortlist_C05.md").read_text(encoding="utf-8")
    # without --on: today (the clock)
    again = tmp_path / "again"
    assert run([*argv[:-1], str(again)], capsys)[0] == 0
    assert {r["sent"] for r in _index(again)} == {SENT.isoformat()}


def test_ids_are_safe_file_names() -> None:
    from placematch.commands.referral import file_stem

    assert file_stem("C/1", "P:2") == "referral_C%2F1_P%3A2"
    assert file_stem("C_2F1", "P") != file_stem("C/1", "P")


def test_validate_counts_the_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = run(["validate", str(DEMO), "--json"], capsys)[1]
    assert "responses" not in json.loads(plain)
    case = _case(tmp_path, responses="V05,C05,decline,no_capacity\nV11,C05,offer,\n")
    status, out, _ = run(["validate", str(case)], capsys)
    assert status == 0
    assert "Providers' answers to referrals (responses.csv): 1 offer, 0 consider, 1 decline" in out
    data = json.loads(run(["validate", str(case), "--json"], capsys)[1])
    assert data["responses"] == {"offer": 1, "consider": 0, "decline": 1}


def test_rank_and_why_not_show_the_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = run(["rank", str(DEMO), "--child", "C07"], capsys)[1]
    assert "response" not in plain.splitlines()[1] and "Declined by the provider" not in plain
    case = _case(tmp_path, responses="V05,C07,decline,impact_on_residents\nV09,C07,offer,cost\n")
    status, out, _ = run(["rank", str(case), "--child", "C07", "--top", "3"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[1].split()[-1] == "response"
    assert [ln.split()[1] for ln in lines[2:5]] == ["V02", "V09", "V07"]
    assert lines[3].endswith("offer (cost)") and lines[2].endswith("-")
    assert "by declined_by_provider (Care Planning, Placement and Case Review" in out
    declined = lines[lines.index("Declined by the provider:") + 1]
    assert declined.split()[0] == "V05" and "impact_on_residents" in declined
    data = json.loads(run(["rank", str(case), "--child", "C07", "--json"], capsys)[1])
    assert data["declined"] == [
        {"vacancy_id": "V05", "provider_id": "P04", "reason": "impact_on_residents"}
    ]
    by_id = {o["vacancy_id"]: o for o in data["options"]}
    assert by_id["V09"]["response"] == "offer" and by_id["V09"]["response_reason"] == "cost"
    assert by_id["V02"]["response"] is None and "V05" not in by_id
    why = json.loads(
        run(["why-not", str(case), "--child", "C07", "--vacancy", "V05", "--json"], capsys)[1]
    )
    assert why["rule"] == "declined_by_provider" and why["response"] == "decline"
    assert why["response_reason"] == "impact_on_residents"
    status, out, _ = run(["match", str(case)], capsys)
    assert status == 0 and "Declined by the provider (never offered)" in out
    assert "C07        -> V05        provider P04: impact_on_residents" in out


def test_a_pooled_childs_shortlist_is_its_ranking_under_its_authoritys_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # greater_essex: Thurrock's table puts its own carers first; R02C0001 is Thurrock's.
    # The referral used to rank under the pool's policy, shortlisting another authority's
    # vacancy first where placematch rank (and the match) put a Thurrock carer.
    pooled = str(DEMO.parents[1] / "examples" / "east_of_england" / "greater_essex")
    argv = ["referral", pooled, "--child", "R02C0001", "--top", "3", "--out", str(tmp_path)]
    status, _, _ = run(argv, capsys)
    assert status == 0
    _, out, _ = run(["rank", pooled, "--child", "R02C0001", "--top", "3", "--json"], capsys)
    ranked = [o["vacancy_id"] for o in json.loads(out)["options"]]
    assert json.loads(out)["options"][0]["factors"]["own_carers"] > 0
    sent = sorted((int(r["rank"]), r["vacancy_id"]) for r in _index(tmp_path))
    assert sent == list(enumerate(ranked, start=1))
