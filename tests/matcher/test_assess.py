"""One assessment path (matcher.assess): what the candidates keep is what each answer would
compute again on its own -- the options of chosen pairs, and each child's exclusions per rule."""

from __future__ import annotations

from hypothesis import given, settings
from test_candidates_properties import folders

from matcher.assess import exclusion_counts
from matcher.candidates import build_candidates, explain_pairs
from matcher.domain import CaseFolder
from matcher.explain import Option
from matcher.rank import rank_child


def _everything(option: Option) -> dict[str, object]:
    return {
        **option.to_dict(),
        "reasons": [f.reason for f in option.factors],
        "references": [f.reference for f in option.factors],
    }


@settings(max_examples=60)
@given(folders())
def test_the_candidates_options_are_each_pairs_own(folder: CaseFolder) -> None:
    cands = build_candidates(folder)
    assert cands.assessment is not None
    rows = list(range(cands.n_pairs))[::-1]  # any order, and a few rows as well as all
    for asked in (rows, rows[:2]):
        kept = cands.options(asked)
        alone = explain_pairs(
            folder,
            [
                (
                    folder.children[int(cands.child_index[k])],
                    folder.vacancies[int(cands.vacancy_index[k])],
                )
                for k in asked
            ],
        )
        assert all(isinstance(o, Option) for o in alone)
        assert [_everything(o) for o in kept] == [_everything(o) for o in alone]  # type: ignore[arg-type]


@settings(max_examples=60)
@given(folders())
def test_each_childs_exclusions_are_kept_once_and_are_its_rankings(folder: CaseFolder) -> None:
    cands = build_candidates(folder)
    assert cands.assessment is not None
    ids = [c.child_id for c in folder.children]
    batch = exclusion_counts(folder, ids)
    for i, cid in enumerate(ids):
        ranked = rank_child(folder, cid, top=1).excluded
        assert batch[cid] == ranked
        kept = cands.assessment.excluded_for(i)
        if cands.cut:
            assert kept is None
        else:
            assert kept == ranked
    # a few children at once give each child's own counts
    assert exclusion_counts(folder, ids[-1:]) == {ids[-1]: batch[ids[-1]]}
