"""The batch explanation is the one-pair explanation, pair by pair, and rows_of finds pairs."""

from __future__ import annotations

import numpy as np

from matcher.candidates import build_candidates, explain_pair, explain_pairs
from matcher.casefolder import load_case_folder
from tests.matcher.test_rank_cache import DEMO


def test_explain_pairs_equals_explain_pair_on_every_pair() -> None:
    folder = load_case_folder(DEMO)
    asked = [(c, v) for c in folder.children for v in folder.vacancies]
    batch = explain_pairs(folder, asked)
    alone = [explain_pair(load_case_folder(DEMO), c, v) for c, v in asked]
    assert len(batch) == len(asked)
    assert [repr(b) for b in batch] == [repr(a) for a in alone]
    assert [str(getattr(b, "reason", "")) for b in batch] == [
        str(getattr(a, "reason", "")) for a in alone
    ]


def test_rows_of_finds_each_pair_and_only_eligible_ones() -> None:
    cands = build_candidates(load_case_folder(DEMO))
    n_c, n_v = len(cands.folder.children), len(cands.folder.vacancies)
    ci, vi = np.divmod(np.arange(n_c * n_v), n_v)
    rows = cands.rows_of(ci, vi)
    eligible = {
        (int(c), int(v)): k
        for k, (c, v) in enumerate(zip(cands.child_index, cands.vacancy_index, strict=True))
    }
    for c, v, r in zip(ci.tolist(), vi.tolist(), rows.tolist(), strict=True):
        assert r == eligible.get((c, v), -1)
