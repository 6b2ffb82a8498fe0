"""Property tests of the candidate model on random small folders (hypothesis).

* hard rules always hold, and nothing eligible is dropped (an independent oracle agrees);
* factors add up to the score, and the per-option path agrees with the batch path;
* input order does not change the result;
* kin always first, whatever the weights;
* one child's ranking agrees with the whole folder's candidates;
* the folded objective orders assignments lexicographically (brute force on tiny folders).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rules_builders import POSTCODES, authority, oracle_eligible, place

from geography.schools import school
from matcher.candidates import CandidateSet, build_candidates
from matcher.domain import CaseFolder, Child, ReferralResponse, Resident, Vacancy
from matcher.placement_types import PlacementType as PT
from matcher.policy import Policy, Weights
from matcher.rank import rank_child
from matcher.vocabulary import (
    SCCIF_GRADES,
    SUPPORTED_ACCOMMODATION_OUTCOMES,
    Need,
    Ofsted,
    Response,
    ResponseReason,
    RiskFlag,
    Sex,
    VacancySex,
)

NEEDS = [
    Need.DISABILITY,
    Need.WHEELCHAIR,
    Need.DOLS,
    Need.SOLO_ONLY,
    Need.PARENT_AND_CHILD,
    Need.NO_YOUNGER_CHILDREN,
    Need.STAFFING_2TO1,
    Need.SECURE,
]
CAPS = [*NEEDS, Need.UASC, Need.SIBLING_GROUP]
FOSTER = [PT.CONNECTED_PERSON_FOSTER, PT.INHOUSE_FOSTER, PT.AGENCY_FOSTER]
RISKS = [RiskFlag.CSE, RiskFlag.MISSING, RiskFlag.AGGRESSION]
RESIDENT_NEEDS = [Need.DISABILITY, Need.UASC, Need.NO_YOUNGER_CHILDREN, Need.WHEELCHAIR]


@st.composite
def children_st(draw: st.DrawFn, n: int) -> list[Child]:
    kids = []
    for i in range(n):
        age = draw(st.integers(0, 17))
        group = draw(st.sampled_from([None, None, "G1", "G2"]))
        uasc = draw(st.booleans()) if age >= 14 else False
        needs: set[Need] = set()
        if draw(st.integers(0, 3)) == 0:
            needs = set(draw(st.sets(st.sampled_from(NEEDS), max_size=2)))
        if uasc:
            needs.add(Need.UASC)
        home = None if uasc and draw(st.booleans()) else place(draw(st.sampled_from(POSTCODES)))
        la = "Essex" if group else draw(st.sampled_from(["Essex", "Thurrock"]))
        requested = None
        if draw(st.integers(0, 3)) == 0:
            types = draw(st.sets(st.sampled_from(list(PT)), min_size=1, max_size=4))
            if age < 16:
                types.discard(PT.SUPPORTED_ACCOMMODATION)
            requested = frozenset(types) or None
        kids.append(
            Child(
                child_id=f"C{i}",
                age=age,
                sex=draw(st.sampled_from(list(Sex))),
                authority=authority(la),
                home=home,
                school=draw(st.sampled_from([None, school(114805), school(136195)])),
                sibling_group=group,
                needs=frozenset(needs),
                requested_placement_types=requested,
                ethnicity=draw(st.sampled_from([None, "WBRI", "AOTH"])),
                religion=draw(st.sampled_from([None, "islam", "christian"])),
                language=draw(st.sampled_from([None, "english", "pashto"])),
                avoid_authorities=draw(
                    st.sampled_from(
                        [frozenset(), frozenset(), frozenset({authority("Southend-on-Sea")})]
                    )
                ),
                avoid_outcodes=draw(
                    st.sampled_from([frozenset(), frozenset(), frozenset({"CM2"})])
                ),
                risk_flags=frozenset(
                    draw(st.sets(st.sampled_from(RISKS), max_size=2))
                    if draw(st.integers(0, 3)) == 0
                    else ()
                ),
            )
        )
    return kids


@st.composite
def vacancies_st(draw: st.DrawFn, n: int, child_ids: list[str]) -> list[Vacancy]:
    out: list[Vacancy] = []
    for j in range(n):
        ptype = draw(st.sampled_from([*FOSTER, *FOSTER, *list(PT)]))
        age_min = draw(st.integers(0, 10))
        if ptype is PT.SUPPORTED_ACCOMMODATION:
            age_min = 16
        age_max = draw(st.integers(max(age_min, 12), 25))
        share = bool(out) and draw(st.integers(0, 3)) == 0
        first = out[0] if share else None
        connected: frozenset[str] = frozenset()
        if ptype is PT.CONNECTED_PERSON_FOSTER:
            connected = frozenset(draw(st.sets(st.sampled_from(child_ids), min_size=1, max_size=2)))
        out.append(
            Vacancy(
                vacancy_id=f"V{j}",
                provider_id=first.provider_id if first else f"P{j}",
                placement_type=ptype,
                location=first.location if first else place(draw(st.sampled_from(POSTCODES))),
                beds=draw(st.integers(1, 4)),
                age_min=age_min,
                age_max=age_max,
                sex=draw(st.sampled_from([VacancySex.ANY, VacancySex.ANY, *VacancySex])),
                ofsted=draw(
                    st.sampled_from(
                        SUPPORTED_ACCOMMODATION_OUTCOMES
                        if ptype is PT.SUPPORTED_ACCOMMODATION
                        else SCCIF_GRADES
                    )
                ),
                weekly_cost=draw(st.integers(0, 12_000)),
                capabilities=frozenset(draw(st.sets(st.sampled_from(CAPS), max_size=4))),
                connected_to=connected,
                fostered_now=first.fostered_now
                if first
                else draw(st.sampled_from([0, 0, 0, 1, 2, 3])),
                ethnicity=draw(st.sampled_from([frozenset(), frozenset({"WBRI"})])),
                religion=draw(st.sampled_from([None, "islam"])),
                languages=draw(st.sampled_from([frozenset(), frozenset({"english", "pashto"})])),
                manages=frozenset(draw(st.sets(st.sampled_from(RISKS), max_size=3))),
            )
        )
    return out


@st.composite
def residents_st(draw: st.DrawFn, vacancies: list[Vacancy]) -> list[Resident]:
    """Residents for some of the providers (none at all half the time: no residents.csv)."""
    if draw(st.booleans()):
        return []
    out: list[Resident] = []
    for pid in sorted({v.provider_id for v in vacancies}):
        for k in range(draw(st.integers(0, 2))):
            out.append(
                Resident(
                    provider_id=pid,
                    resident_ref=f"R{k}",
                    age=draw(st.integers(0, 19)),
                    sex=draw(st.sampled_from(list(Sex))),
                    needs=frozenset(draw(st.sets(st.sampled_from(RESIDENT_NEEDS), max_size=2))),
                    risk_flags=frozenset(draw(st.sets(st.sampled_from(RISKS), max_size=1))),
                )
            )
    return out


@st.composite
def policy_st(draw: st.DrawFn) -> Policy:
    statutory = {
        k: draw(st.integers(1, 300))
        for k in ("near_home", "education", "siblings", "disability", "in_area")
    }
    weights = Weights(
        connected_person=draw(st.integers(0, 2000)),
        ofsted=draw(st.integers(0, 100)),
        cost=draw(st.integers(0, min(statutory.values()))),
        culture_language=draw(st.integers(0, 100)),
        age_gap=draw(st.integers(0, 100)),
        shared_needs=draw(st.integers(0, 100)),
        **statutory,
    )
    return Policy(
        weights=weights,
        connected_person_tier=draw(st.booleans()),
        in_area_tier=draw(st.booleans()),
        allow_sibling_split=draw(st.booleans()),
        key_stage_4_multiplier=draw(st.sampled_from([1.0, 1.5, 2.0, 3.0])),
        resident_age_gap_years=draw(st.integers(0, 6)),
    )


@st.composite
def folders(
    draw: st.DrawFn, max_children: int = 6, max_vacancies: int = 6, policy: bool = True
) -> CaseFolder:
    n = draw(st.integers(1, max_children))
    kids = draw(children_st(n))
    m = draw(st.integers(1, max_vacancies))
    vacs = draw(vacancies_st(m, [c.child_id for c in kids]))
    pol = draw(policy_st()) if policy and draw(st.booleans()) else Policy()
    residents = draw(residents_st(vacs))
    return CaseFolder(
        tuple(kids),
        tuple(vacs),
        pol,
        responses=draw(responses_st(kids, vacs)),
        residents=tuple(residents),
    )


@st.composite
def responses_st(
    draw: st.DrawFn, kids: list[Child], vacs: list[Vacancy]
) -> tuple[ReferralResponse, ...]:
    """Providers' answers for some pairs (none half the time): offers, considers, declines."""
    if draw(st.booleans()):
        return ()
    pairs = [(c.child_id, v.vacancy_id) for c in kids for v in vacs]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=min(6, len(pairs))))
    out = []
    for child_id, vacancy_id in chosen:
        kind = draw(st.sampled_from(list(Response)))
        reason = draw(st.sampled_from([None, *ResponseReason]))
        if kind is Response.DECLINE and reason is None:
            reason = ResponseReason.NO_CAPACITY
        out.append(ReferralResponse(vacancy_id, child_id, kind, reason))
    return tuple(out)


def _pairs(c: CandidateSet) -> set[tuple[str, str]]:
    f = c.folder
    return {
        (f.children[i].child_id, f.vacancies[j].vacancy_id)
        for i, j in zip(c.child_index.tolist(), c.vacancy_index.tolist(), strict=True)
    }


@given(folders())
def test_hard_rules_hold_and_nothing_eligible_is_dropped(folder: CaseFolder) -> None:
    cands = build_candidates(folder)
    expected = {
        (c.child_id, v.vacancy_id)
        for c in folder.children
        for v in folder.vacancies
        if oracle_eligible(folder, c, v)
    }
    assert _pairs(cands) == expected
    total = len(folder.children) * len(folder.vacancies)
    assert cands.n_pairs + sum(cands.exclusion_counts.values()) == total


@given(folders())
def test_factors_sum_and_single_pair_path_agrees(folder: CaseFolder) -> None:
    cands = build_candidates(folder)
    assert (cands.factor_points.sum(axis=1) == cands.score).all()
    assert (cands.objective_points > 0).all()
    for k in range(cands.n_pairs):
        o = cands.option(k)
        assert [f.points for f in o.factors] == cands.factor_points[k].tolist()
        assert sum(f.points for f in o.factors) == o.score == int(cands.score[k])
        assert o.objective_points == int(cands.objective_points[k])
        assert o.tier == int(cands.tier[k])
        d = cands.distance_miles[k]
        assert (o.distance_miles is None) == bool(np.isnan(d))


@given(folders(), st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_result(folder: CaseFolder, rnd: Any) -> None:
    kids, vacs = list(folder.children), list(folder.vacancies)
    rnd.shuffle(kids)
    rnd.shuffle(vacs)
    a = build_candidates(folder)
    people = list(folder.residents)
    rnd.shuffle(people)
    b = build_candidates(
        CaseFolder(
            tuple(kids),
            tuple(vacs),
            folder.policy,
            residents=tuple(people),
            responses=folder.responses,
        )
    )
    for name in ("child_index", "vacancy_index", "objective_points", "factor_points", "tier"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.exclusion_counts == b.exclusion_counts


@given(folders(), policy_st())
def test_kin_always_first(folder: CaseFolder, policy: Policy) -> None:
    folder = CaseFolder(
        folder.children,
        folder.vacancies,
        dataclasses.replace(policy, connected_person_tier=True),
        residents=folder.residents,
        responses=folder.responses,
    )
    cands = build_candidates(folder)
    for i, c in enumerate(folder.children):
        rows = np.flatnonzero(cands.child_index == i)
        kin = rows[cands.connected_person[rows]]
        other = rows[~cands.connected_person[rows]]
        if len(kin) and len(other):
            assert cands.objective_points[kin].min() > cands.objective_points[other].max()
        ranking = rank_child(folder, c.child_id)
        if len(kin):
            assert ranking.options[0].connected_person


@given(folders())
def test_ranking_agrees_with_candidates(folder: CaseFolder) -> None:
    cands = build_candidates(folder)
    for i, c in enumerate(folder.children):
        rows = np.flatnonzero(cands.child_index == i)
        expected = {
            folder.vacancies[int(cands.vacancy_index[k])].vacancy_id: (
                int(cands.score[k]),
                int(cands.objective_points[k]),
            )
            for k in rows
        }
        ranking = rank_child(folder, c.child_id)
        got = {o.vacancy_id: (o.score, o.objective_points) for o in ranking.options}
        assert got == expected
        assert ranking.n_eligible + sum(ranking.excluded.values()) == len(folder.vacancies)
        # an offer, then a consider, then no answer, among equal tier and points
        answer = {"offer": 0, "consider": 1, None: 2}
        keys = [(-o.tier, -o.score, answer[o.response], o.vacancy_id) for o in ranking.options]
        assert keys == sorted(keys)
        for o in ranking.options:
            recorded = folder.response(c.child_id, o.vacancy_id)
            assert o.response == (None if recorded is None else recorded.response.value)
            assert recorded is None or not recorded.declined


def _brute_force(cands: CandidateSet) -> tuple[int, tuple[int, ...]]:
    """Max sum of objective points, and the lexicographic key of the best assignment."""
    f = cands.folder
    n, m = len(f.children), len(f.vacancies)
    options: list[dict[int, int]] = [{} for _ in range(n)]
    for k in range(cands.n_pairs):
        options[int(cands.child_index[k])][int(cands.vacancy_index[k])] = k
    beds = [v.beds for v in f.vacancies]
    groups = [c.sibling_group for c in f.children]
    tier_ia = f.policy.in_area_tier
    best_sum, best_key_of_sum = -1, ()
    best_key: tuple[int, ...] = ()
    for choice in itertools.product(*[[None, *sorted(o)] for o in options]):
        used = [0] * m
        ok = True
        for v in choice:
            if v is not None:
                used[v] += 1
        if any(u > b for u, b in zip(used, beds, strict=True)):
            continue
        for g in {x for x in groups if x is not None}:
            members = {choice[i] for i in range(n) if groups[i] == g}
            if len(members) > 1:
                ok = False
        if not ok:
            continue
        ks = [options[i][v] for i, v in enumerate(choice) if v is not None]
        total = sum(int(cands.objective_points[k]) for k in ks)
        cp = (
            sum(int(cands.connected_person[k]) for k in ks) if f.policy.connected_person_tier else 0
        )
        ia = sum(int(cands.in_area[k]) for k in ks) if tier_ia else 0
        key = (len(ks), cp, ia, sum(int(cands.score[k]) for k in ks))
        best_key = max(best_key, key)
        if total > best_sum:
            best_sum, best_key_of_sum = total, key
    assert best_key_of_sum == best_key
    return best_sum, best_key


@st.composite
def contested_folders(draw: st.DrawFn) -> CaseFolder:
    """Tiny folders where most pairs are eligible and children compete for beds."""
    n = draw(st.integers(2, 4))
    kids = [
        Child(
            child_id=f"C{i}",
            age=draw(st.integers(5, 15)),
            sex=Sex.F,
            authority=authority("Essex"),
            home=place(draw(st.sampled_from(POSTCODES))),
            sibling_group=draw(st.sampled_from([None, None, "G1"])),
        )
        for i in range(n)
    ]
    vacs = []
    for j in range(draw(st.integers(1, 3))):
        kin = draw(st.integers(0, 2)) == 0
        vacs.append(
            Vacancy(
                vacancy_id=f"V{j}",
                provider_id=f"P{j}",
                placement_type=PT.CONNECTED_PERSON_FOSTER if kin else PT.INHOUSE_FOSTER,
                location=place(draw(st.sampled_from(POSTCODES))),
                beds=draw(st.integers(1, 2)),
                age_min=0,
                age_max=17,
                sex=VacancySex.ANY,
                ofsted=draw(st.sampled_from(SCCIF_GRADES)),
                weekly_cost=draw(st.integers(0, 12_000)),
                connected_to=frozenset({f"C{draw(st.integers(0, n - 1))}"}) if kin else frozenset(),
            )
        )
    return CaseFolder(tuple(kids), tuple(vacs), Policy())


@settings(max_examples=80)
@given(contested_folders(), policy_st())
def test_folded_objective_is_lexicographic(folder: CaseFolder, policy: Policy) -> None:
    policy = dataclasses.replace(policy, allow_sibling_split=False)
    folder = CaseFolder(folder.children, folder.vacancies, policy)
    _brute_force(build_candidates(folder))


@st.composite
def household_folders(draw: st.DrawFn) -> CaseFolder:
    """A sibling group (1 to 5) and a few households: beds, children there now, solo and
    no-younger needs and capabilities -- the household rules at their edges."""
    k = draw(st.sampled_from([1, 2, 3, 4, 4, 5]))
    needs = draw(
        st.sampled_from(
            [frozenset(), frozenset({Need.SOLO_ONLY}), frozenset({Need.NO_YOUNGER_CHILDREN})]
        )
    )
    kids = [
        Child(
            child_id=f"C{i}",
            age=draw(st.integers(10, 15)),
            sex=Sex.M,
            authority=authority("Essex"),
            home=place("CM1 1QH"),
            sibling_group="G" if k > 1 else None,
            needs=needs if i == 0 else frozenset(),
        )
        for i in range(k)
    ]
    vacs = []
    for j in range(draw(st.integers(1, 4))):
        share = j > 0 and draw(st.booleans())
        first = vacs[0] if share else None
        vacs.append(
            Vacancy(
                vacancy_id=f"V{j}",
                provider_id=first.provider_id if first else f"P{j}",
                placement_type=PT.INHOUSE_FOSTER
                if j == 0
                else draw(st.sampled_from([PT.INHOUSE_FOSTER, PT.CHILDRENS_HOME])),
                location=first.location if first else place("CM2 0HU"),
                beds=draw(st.integers(1, 6)),
                age_min=0 if j == 0 else draw(st.sampled_from([0, 10, 12, 14])),
                age_max=17,
                sex=VacancySex.ANY,
                ofsted=Ofsted.GOOD,
                weekly_cost=1000,
                capabilities=frozenset(
                    draw(st.sets(st.sampled_from([Need.SOLO_ONLY, Need.NO_YOUNGER_CHILDREN])))
                ),
                fostered_now=first.fostered_now if first else draw(st.sampled_from([0, 0, 1, 3])),
            )
        )
    split = draw(st.integers(0, 3)) == 0
    # Children living there now: younger or older, some who must not live with younger ones.
    living = [
        Resident(
            provider_id=draw(st.sampled_from([v.provider_id for v in vacs])),
            resident_ref=f"R{r}",
            age=draw(st.integers(8, 17)),
            sex=Sex.F,
            needs=draw(st.sampled_from([frozenset(), frozenset({Need.NO_YOUNGER_CHILDREN})])),
        )
        for r in range(draw(st.integers(0, 3)))
    ]
    return CaseFolder(
        tuple(kids), tuple(vacs), Policy(allow_sibling_split=split), residents=tuple(living)
    )


@given(household_folders())
def test_household_rules_hold(folder: CaseFolder) -> None:
    test_hard_rules_hold_and_nothing_eligible_is_dropped.hypothesis.inner_test(folder)  # type: ignore[attr-defined]
    cands = build_candidates(folder)
    for k in range(cands.n_pairs):
        o = cands.option(k)
        v = folder.vacancies[int(cands.vacancy_index[k])]
        c = folder.children[int(cands.child_index[k])]
        size = 1 if c.sibling_group is None else folder.sibling_group(c.sibling_group).size
        joining = 1 if folder.policy.allow_sibling_split else size
        over = v.is_fostering and v.fostered_now + joining > 3
        assert ("fostering_limit_exemption" in [s.code for s in o.signoffs]) == over


@given(folders(max_vacancies=4), st.data())
def test_adding_a_vacancy_changes_no_other_pair(folder: CaseFolder, data: st.DataObject) -> None:
    extra = data.draw(vacancies_st(1, [c.child_id for c in folder.children]))[0]
    extra = dataclasses.replace(extra, vacancy_id="VX", provider_id="PX")
    bigger = CaseFolder(
        folder.children,
        (*folder.vacancies, extra),
        folder.policy,
        residents=folder.residents,
        responses=folder.responses,
    )
    a, b = build_candidates(folder), build_candidates(bigger)

    def by_pair(c: CandidateSet) -> dict[tuple[str, str], tuple[int, ...]]:
        f = c.folder
        return {
            (f.children[int(i)].child_id, f.vacancies[int(j)].vacancy_id): tuple(
                c.factor_points[k].tolist()
            )
            for k, (i, j) in enumerate(zip(c.child_index, c.vacancy_index, strict=True))
        }

    before, after = by_pair(a), by_pair(b)
    assert {p: s for p, s in after.items() if p[1] != "VX"} == before
