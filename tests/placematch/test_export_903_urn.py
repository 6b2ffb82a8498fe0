"""The 903 export of a synthetic cohort carries an Ofsted URN wherever DfE rule 218 needs one.

Rule 218 of the DfE validator (csc-validator-be-903 0.1.17, ruleset lac2025_26): "Ofsted
Unique reference number (URN) is required." for every episode whose ``PLACE`` is not in its
list of placements Ofsted does not register. :func:`rule_218_flags` checks the stricter
condition (any such episode, open or closed, with a blank URN), so an export it passes, the
rule passes. ``.ci/check_903_export.sh`` runs the real validator on a whole Essex cohort.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from matcher.casefolder import load_case_folder
from matcher.vocabulary import OFSTED_URN_PATTERN
from placematch.cli import main
from placematch.export_903 import EpisodeDefaults, export_903

#: The placements rule 218 does not ask a URN of (the rule's ``pl_list``, lac2025_26), and
#: the fostering placements whose URN the 903 guide lets be XXXXXXX.
NO_URN_NEEDED = frozenset(
    {"P1", "P3", "R1", "R2", "R5", "T0", "T1", "T2", "T3", "T4", "Z11", "Z12", "Z13", "Z14"}
)


def rule_218_flags(episodes: list[dict[str, str]]) -> list[str]:
    """Children whose episode needs an Ofsted URN (rule 218) and has none."""
    return [
        e["CHILD"]
        for e in episodes
        if e["PLACE"] not in NO_URN_NEEDED and not (e.get("URN") or "").strip()
    ]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def essex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "essex"
    assert main(["synth", "--la", "Essex", "--seed", "1", "--out", str(out)]) == 0
    return out


def _export_every_registered_setting(folder_path: Path, out: Path) -> list[dict[str, str]]:
    """Place one child in each vacancy (eligibility aside) and export: every setting is seen."""
    folder = load_case_folder(folder_path)
    assignments = {
        c.child_id: v.vacancy_id for c, v in zip(folder.children, folder.vacancies, strict=False)
    }
    assert len(assignments) == len(folder.vacancies)  # more children than vacancies
    export_903(
        folder,
        assignments,
        out,
        defaults=EpisodeDefaults(decom=dt.date(2025, 1, 15)),
        folder_path=folder_path,
    )
    return _rows(out / "episodes.csv")


def test_synthetic_cohort_export_passes_rule_218(essex: Path, tmp_path: Path) -> None:
    episodes = _export_every_registered_setting(essex, tmp_path / "903")
    needing = [e for e in episodes if e["PLACE"] not in NO_URN_NEEDED]
    places = {e["PLACE"] for e in needing}
    assert {"K2", "K3", "R3"} <= places  # children's homes, supported accommodation, P&C
    assert rule_218_flags(episodes) == []
    for e in needing:
        if e["PLACE"].startswith("U"):
            assert e["URN"] == "XXXXXXX"
        else:
            assert OFSTED_URN_PATTERN.fullmatch(e["URN"]), e["CHILD"]


def test_the_rule_218_check_fails_without_urns(essex: Path, tmp_path: Path) -> None:
    stripped = tmp_path / "no-urns"
    stripped.mkdir()
    for name in ("children.csv", "policy.toml"):
        if (essex / name).is_file():
            (stripped / name).write_bytes((essex / name).read_bytes())
    rows = _rows(essex / "vacancies.csv")
    with (stripped / "vacancies.csv").open("w", encoding="utf-8", newline="") as fh:
        fields = [f for f in rows[0] if f != "urn"]
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    episodes = _export_every_registered_setting(stripped, tmp_path / "903")
    registered = sum(1 for r in rows if r["urn"])
    assert len(rule_218_flags(episodes)) == registered > 0


def test_matched_referral_list_exports_with_urns_and_no_218_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "essex"
    assert (
        main(["synth", "--la", "Essex", "--seed", "3", "--referrals", "80", "--out", str(folder)])
        == 0
    )
    result = tmp_path / "match.json"
    assert main(["match", str(folder), "--time-limit", "20", "--out", str(result)]) == 0
    capsys.readouterr()
    args = ["export-903", str(folder), "--assignment", str(result), "--out", str(tmp_path / "903")]
    assert main([*args, "--start", "2025-01-15", "--la", "E10000012"]) == 0
    assert "rule 218" not in capsys.readouterr().err
    assert rule_218_flags(_rows(tmp_path / "903" / "episodes.csv")) == []
