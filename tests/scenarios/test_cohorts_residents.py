"""``placematch synth --residents``: the children living in the synthetic children's homes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.casefolder import load_case_folder
from matcher.contract import column_names
from matcher.vocabulary import RiskFlag
from placematch.cli import main
from scenarios.cohorts import RESIDENT_COLUMNS, SyntheticCase, generate, write_case_folder


@pytest.fixture(scope="module")
def plain() -> SyntheticCase:
    return generate("Essex", 3, referrals=200)


@pytest.fixture(scope="module")
def lived_in() -> SyntheticCase:
    return generate("Essex", 3, referrals=200, residents=True)


def test_asking_for_residents_changes_no_other_draw(
    plain: SyntheticCase, lived_in: SyntheticCase
) -> None:
    assert plain.residents is None
    pd.testing.assert_frame_equal(plain.children, lived_in.children)
    others = [c for c in plain.vacancies.columns if c != "capabilities"]
    pd.testing.assert_frame_equal(plain.vacancies[others], lived_in.vacancies[others])
    # Only children's homes gain capabilities (the risks they manage), and keep their own.
    homes = lived_in.vacancies["placement_type"] == "childrens_home"
    assert (plain.vacancies["capabilities"] == lived_in.vacancies["capabilities"])[~homes].all()
    for before, after in zip(
        plain.vacancies.loc[homes, "capabilities"],
        lived_in.vacancies.loc[homes, "capabilities"],
        strict=True,
    ):
        assert set(filter(None, before.split(";"))) <= set(after.split(";"))


def test_residents_live_in_childrens_homes_within_their_registration(
    lived_in: SyntheticCase,
) -> None:
    r = lived_in.residents
    assert r is not None and len(r) > 0
    assert tuple(r.columns) == RESIDENT_COLUMNS == column_names("residents.csv")
    v = lived_in.vacancies.set_index("provider_id")
    for row in r.itertuples(index=False):
        home = v.loc[row.provider_id]
        assert home["placement_type"] == "childrens_home"
        assert int(home["age_min"]) <= int(row.age) <= int(home["age_max"])
        assert home["sex"] in ("any", row.sex)
        # the home's Statement of Purpose covers the risks of the children living there
        manages = set(home["capabilities"].split(";"))
        assert set(filter(None, row.risk_flags.split(";"))) <= manages
        assert row.resident_ref.startswith("R") and row.resident_ref[1:].isdigit()
    flags = {f for cell in r["risk_flags"] for f in cell.split(";") if f}
    assert flags <= {x.value for x in RiskFlag} and len(flags) >= 3
    assert lived_in.metadata["realised"]["residents"] == len(r)


def test_written_folder_loads_and_is_byte_identical_across_runs(
    lived_in: SyntheticCase, tmp_path: Path
) -> None:
    a = write_case_folder(lived_in, tmp_path / "a")
    b = write_case_folder(generate("Essex", 3, referrals=200, residents=True), tmp_path / "b")
    assert (a / "residents.csv").read_bytes() == (b / "residents.csv").read_bytes()
    folder = load_case_folder(a)
    assert len(folder.residents) == len(lived_in.residents)  # type: ignore[arg-type]
    assert "children living in" in (a / "README.md").read_text()
    other = generate("Essex", 4, referrals=200, residents=True).residents
    assert other is not None and not other.equals(lived_in.residents)


def test_whole_cohort_has_nobody_living_in_the_homes(tmp_path: Path) -> None:
    case = generate("Essex", 1, children=200, residents=True)
    assert case.residents is not None and case.residents.empty
    folder = write_case_folder(case, tmp_path)
    assert load_case_folder(folder).residents == ()


def test_synth_cli_residents_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["synth", "--la", "Essex", "--seed", "3", "--referrals", "60", "--out"]
    assert main([*argv, str(tmp_path / "with"), "--residents"]) == 0
    assert "residents" in capsys.readouterr().out
    assert (tmp_path / "with" / "residents.csv").is_file()
    assert main([*argv, str(tmp_path / "without")]) == 0
    assert not (tmp_path / "without" / "residents.csv").exists()
