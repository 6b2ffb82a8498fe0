"""``placematch synth --region`` and ``--la A --la B``: pooled folders end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from geography.authorities import regions, resolve_authority
from matcher.casefolder import load_case_folder
from placematch.cli import main
from scenarios.cohorts import generate, generate_pooled

# Two small authorities (the national default profile): a pool that is quick to write.
PAIR = ("Rutland", "Hartlepool")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pool")
    assert main(["synth", "--la", PAIR[0], "--la", PAIR[1], "--seed", "4", "--out", str(out)]) == 0
    return out


def test_each_authority_is_its_own_synth_run_with_prefixed_ids(pooled: Path) -> None:
    children, vacancies = _csv(pooled / "children.csv"), _csv(pooled / "vacancies.csv")
    for i, la in enumerate(PAIR):
        alone = generate(la, 4 + i)
        pre = f"R{i:02d}"
        mine = [c for c in children if c["child_id"].startswith(pre)]
        assert [c["child_id"] for c in mine] == [pre + c for c in alone.children["child_id"]]
        assert [c["age"] for c in mine] == list(alone.children["age"])
        theirs = [v for v in vacancies if v["vacancy_id"].startswith(pre)]
        assert len(theirs) == len(alone.vacancies)
        ons = resolve_authority(la).ons_code
        assert {v["owner_la"] for v in theirs} == {ons}
        for v in theirs:
            assert v["provider_id"].startswith(pre)
            ids = [x for x in v["connected_to"].split(";") if x]
            assert all(x.startswith(pre) for x in ids)
            kinship = v["placement_type"] == "connected_person_foster"
            assert v["offered_to_pool"] == ("false" if kinship else "true")
        groups = {c["sibling_group"] for c in mine if c["sibling_group"]}
        assert groups and all(g.startswith(pre) for g in groups)


def test_the_pooled_folder_validates_clean(
    pooled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["validate", str(pooled)]) == 0
    assert "warning" not in capsys.readouterr().err
    folder = load_case_folder(pooled)
    assert {v.owner.name for v in folder.vacancies if v.owner} == set(PAIR)
    assert len({c.child_id for c in folder.children}) == len(folder.children)
    meta = json.loads((pooled / "profile.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and meta["shape"] == "pooled"
    assert [p["prefix"] for p in meta["authorities"]] == ["R00", "R01"]
    assert [p["seed"] for p in meta["authorities"]] == [4, 5]


def test_same_seed_same_bytes(pooled: Path, tmp_path: Path) -> None:
    args = ["synth", "--la", PAIR[0], "--la", PAIR[1], "--seed", "4", "--out", str(tmp_path)]
    assert main(args) == 0
    for name in ("children.csv", "vacancies.csv", "profile.json", "README.md"):
        assert (tmp_path / name).read_bytes() == (pooled / name).read_bytes(), name


def test_a_region_is_its_authorities_in_order_of_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["synth", "--region", "north east", "--seed", "1", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    names = [a["name"] for a in summary["authorities"]]
    assert summary["region"] == "North East" and len(names) == 12
    assert names == sorted(names)
    assert [a["prefix"] for a in summary["authorities"]] == [f"R{i:02d}" for i in range(12)]
    assert summary["children"] == sum(a["children"] for a in summary["authorities"])
    assert main(["validate", str(tmp_path)]) == 0


def test_an_unknown_region_lists_the_nine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", "--region", "Wessex", "--seed", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unknown region" in err
    assert len(regions()) == 9 and all(r in err for r in regions())
    assert not (tmp_path / "children.csv").exists()


@pytest.mark.parametrize("extra", [["--children", "50"], ["--referrals", "10"], ["--residents"]])
def test_single_authority_options_are_refused_for_a_pool(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["synth", "--la", PAIR[0], "--la", PAIR[1], "--seed", "1", "--out", str(tmp_path)]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert extra[0] in err and "pooled folder" in err


def test_region_and_la_together_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            ["synth", "--la", "Essex", "--region", "London", "--seed", "1", "--out", str(tmp_path)]
        )
    assert exc.value.code == 2


def test_an_authority_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        generate_pooled(["Rutland", "E06000017"], 1)


def test_validate_summarises_the_pool_by_owner(
    pooled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["validate", str(pooled), "--json"]) == 0
    pool = json.loads(capsys.readouterr().out)["pool"]
    vacancies = _csv(pooled / "vacancies.csv")
    for la in PAIR:
        ons = resolve_authority(la).ons_code
        mine = [v for v in vacancies if v["owner_la"] == ons]
        offered = sum(int(v["beds"]) for v in mine if v["offered_to_pool"] == "true")
        assert pool[la] == {
            "vacancies": len(mine),
            "beds": sum(int(v["beds"]) for v in mine),
            "beds_offered_to_pool": offered,
        }
    assert main(["validate", str(pooled)]) == 0
    assert "Pooled supply by owner_la" in capsys.readouterr().out


def test_a_single_authority_summary_has_no_pool(capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    assert main(["validate", str(demo), "--json"]) == 0
    assert "pool" not in json.loads(capsys.readouterr().out)
