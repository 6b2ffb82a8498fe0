"""The API's answers as pydantic models: what the OpenAPI document says each operation sends.

One model per kind of answer, named as the API names it; every key the API sends is a field
(``extra="forbid"``: a key sent and not described here fails the OpenAPI test, which
validates real answers against the document). The routes still build their answers as plain
data (:mod:`placematch.service.actions`) and send them as they are, byte for byte: these
models describe the answers (:func:`answers`), they are not run on each request. A route
names its model with :func:`answers`.

>>> answers(Me)["responses"][200]["model"] is Me
True
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def answers(model: Any, status: int = 200) -> dict[str, Any]:
    """The route's keywords that describe its ``status`` answer as ``model`` in the OpenAPI
    document, the answer itself sent as the route builds it (``response_model=None``)."""
    return {"response_model": None, "responses": {status: {"model": model}}}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: A time as ISO 8601 with its UTC offset (``2026-12-07T15:55:53.371258+00:00``).
When = Annotated[str, Field(description="ISO 8601 date and time, UTC")]

# --------------------------------------------------------------------------- sign-in


class TokenOut(_Out):
    """A bearer token: send it as ``Authorization: Bearer TOKEN``."""

    token: str
    token_type: Literal["bearer"]
    expires_at: When


class Me(_Out):
    """The signed-in user."""

    username: str
    role: str
    authorities: list[str] = Field(description="ONS codes")


# --------------------------------------------------------------------------- children


class ChildListItem(_Out):
    """A child of the user's authorities, in the children list."""

    child_id: str
    authority: str = Field(description="the child's authority (ONS code)")
    status: Literal["waiting", "placed"]
    age: int


class DecisionOut(_Out):
    """A recorded decision: the child placed in the vacancy, by whom, why, when."""

    id: int
    child_id: str
    vacancy_id: str
    user_id: int | None
    reason: str
    at: When


class ChildOut(_Out):
    """A child's record (its case-folder cells, as text) and, when placed, its decision."""

    child_id: str
    authority: str
    status: Literal["waiting", "placed"]
    record: dict[str, str] = Field(description="the children.csv cells (docs/case-folder.md)")
    decision: DecisionOut | None = Field(default=None, description="present when placed")


class HistoryItem(_Out):
    """A decision or its withdrawal, from the audit log."""

    event: Literal["decision", "withdrawal"]
    vacancy_id: str
    by: str | None = Field(description="the officer's user name")
    at: When
    reason: str


class WithdrawnOut(_Out):
    """A withdrawn decision: the bed is free and the child waits again."""

    withdrawn: DecisionOut
    withdrawn_by: int
    reason: str


class ResponseOut(_Out):
    """A provider's answer to the child's referral for a vacancy."""

    child_id: str
    vacancy_id: str
    response: Literal["offer", "consider", "decline"]
    reason: str | None = Field(description="the reason code (required for a decline)")
    user_id: int | None = Field(description="who recorded it (null: loaded from a folder)")
    at: When


# --------------------------------------------------------------------------- matching


class OptionOut(_Out):
    """One eligible vacancy for the child, explained: points per factor (adding up exactly to
    ``points``), each factor's reason and statutory reference, and the sign-offs needed."""

    vacancy_id: str
    placement_type: str
    points: int
    tier: int
    connected_person: bool
    objective_points: int
    factors: dict[str, int]
    reasons: dict[str, str]
    references: dict[str, str]
    distance_miles: float | None
    school_distance_miles: float | None
    in_area: bool
    adjoining: bool
    signoffs: list[str]
    response: str | None = Field(description="the provider's answer to the referral, if any")
    response_reason: str | None


class ExclusionOut(_Out):
    """A vacancy excluded for the child, with the first hard rule it breaks."""

    vacancy_id: str
    rule: str
    reason: str


class DeclinedOut(_Out):
    """A referral of the child that the provider declined."""

    vacancy_id: str
    provider_id: str
    reason: str | None


class SoonFreeOut(_Out):
    """A vacancy excluded only because it frees up within the days asked about."""

    vacancy_id: str
    placement_type: str
    available_from: str
    available_until: str | None


class RankingOut(_Out):
    """Every eligible vacancy with free beds for the child, best first, and why the others
    are excluded (``placematch rank --json``)."""

    child_id: str
    eligible: int = Field(description="eligible vacancies before any `top` cut")
    options: list[OptionOut]
    excluded: dict[str, int] = Field(description="rule -> vacancies it excludes first")
    excluded_sources: dict[str, str] = Field(description="rule -> its statutory source")
    exclusions: list[ExclusionOut]
    declined: list[DeclinedOut]
    date: str | None = Field(description="the date the child's vacancies must be free on")
    urgency: str | None
    within_days: int
    free_within_days: list[SoonFreeOut]
    decision: DecisionOut | None = Field(description="the child's placement, null while waiting")


class BestOut(_Out):
    """The child's best option, which a why-not compares with."""

    vacancy_id: str
    points: int
    tier: int


class WhyNotOut(_Out):
    """Why a vacancy is not the child's best option: the hard rule that excludes it
    (``rule``, ``source``, ``reason``, ``also_broken``), or, when eligible, its points and
    what it gains and loses per factor against the best (``placematch why-not --json``)."""

    child_id: str
    vacancy_id: str
    eligible: bool
    rule: str | None = None
    source: str | None = None
    reason: str | None = None
    also_broken: list[str] | None = None
    points: int | None = None
    tier: int | None = None
    factors: dict[str, int] | None = None
    reasons: dict[str, str] | None = None
    references: dict[str, str] | None = None
    signoffs: list[str] | None = None
    best: BestOut | None = None
    gains: dict[str, int] | None = None
    losses: dict[str, int] | None = None


class JobOut(_Out):
    """A batch match's status and progress."""

    id: str
    kind: Literal["match"]
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    message: str
    children: int
    created_at: When
    updated_at: When
    result: str | None = Field(description="the result's URL once done")


class LevelOut(_Out):
    """One level of the batch optimum (children placed, connected persons, points)."""

    level: str
    achieved: int
    bound: int | None
    shortfall: int | None


class AssignedFactorOut(_Out):
    """A factor's points for an assignment, with its reason and reference."""

    factor: str
    points: int
    reason: str
    reference: str


class AssignedSignoffOut(_Out):
    """A sign-off an assignment needs."""

    code: str
    description: str


class AssignmentOut(_Out):
    """A child placed by the match, explained."""

    child_id: str
    vacancy_id: str
    provider_id: str
    placement_type: str
    points: int
    objective_points: int
    factors: list[AssignedFactorOut]
    connected_person: bool
    distance_miles: float | None
    school_distance_miles: float | None
    in_area: bool
    adjoining: bool
    signoffs: list[AssignedSignoffOut]
    sibling_group: str | None
    weekly_cost: int


class BlockedVacancyOut(_Out):
    """A vacancy that could have taken an unplaced child, and why it did not."""

    vacancy_id: str
    provider_id: str
    why: str
    taken_by: list[str]


class UnplacedReasonOut(_Out):
    """Why a child is unplaced: the rule or the missing capacity."""

    code: str
    message: str
    excluded_by: dict[str, int]
    vacancies: list[BlockedVacancyOut]


class UnplacedOut(_Out):
    """A child the match could not place, and why."""

    child_id: str
    sibling_group: str | None
    reasons: list[UnplacedReasonOut]


class SplitOut(_Out):
    """A sibling group placed apart (only where the policy allows it), at its penalty."""

    sibling_group: str
    placements: dict[str, str | None]
    penalty: int


class DeclinedReferralOut(_Out):
    """A referral declined by the provider, left out of the match."""

    child_id: str
    vacancy_id: str
    provider_id: str
    reason: str | None


class MetricsOut(_Out):
    """The match's outcomes for the children (percentages to 1 dp; null when undefined)."""

    children: int
    placed: int
    unplaced: int
    kin_pct: float | None
    within_20_miles_pct: float | None
    in_area_pct: float | None
    siblings_together_pct: float | None
    school_kept_pct: float | None
    school_kept_miles: float
    weekly_cost: int
    sibling_splits: int


Scalar = int | float | str | bool | None


class MatchResultOut(_Out):
    """A finished batch match: status, objective and bound (``optimal`` means proven), the
    assignments with points per factor, the unplaced children and why."""

    status: str
    objective: int
    bound: int
    gap: float
    levels: list[LevelOut]
    seed: int
    parameters: dict[str, Scalar] = Field(description="the solver's parameters")
    metrics: MetricsOut
    assignments: list[AssignmentOut]
    unplaced: list[UnplacedOut]
    splits: list[SplitOut]
    declined: list[DeclinedReferralOut]
    stats: dict[str, Scalar] = Field(description="sizes and times of the solve")


# --------------------------------------------------------------------------- vacancies, pool


class VacancyOut(_Out):
    """A vacancy (its case-folder cells, as text), its owner and its beds."""

    vacancy_id: str
    owner: str = Field(description="the owning or commissioning authority (ONS code)")
    offered_to_pool: bool
    pooled: bool = Field(description="another authority's, seen because offered to the pool")
    beds: int
    beds_taken: int
    beds_free: int
    record: dict[str, str] = Field(description="the vacancies.csv cells (docs/case-folder.md)")


class ClaimOut(_Out):
    """A hold or request of a pooled vacancy."""

    id: int
    vacancy_id: str
    owner: str
    requester: str
    child_id: str | None = Field(description="only for the requesting authority's officers")
    state: Literal["held", "requested", "accepted", "released"]
    reason: str
    created_by: int
    created_at: When
    updated_by: int
    updated_at: When


class PooledVacancyOut(VacancyOut):
    """Another authority's vacancy offered to the pool, with its open claim."""

    owner_name: str
    claim: ClaimOut | None


class LoadProblemOut(_Out):
    """A problem in a case folder's file: where and what."""

    file: str
    line: int | None
    field: str
    message: str


class LoadReportOut(_Out):
    """What an upload stored (nothing is stored from files with a problem)."""

    authority: str
    children_added: int
    children_updated: int
    vacancies_added: int
    vacancies_updated: int
    policy: bool
    responses: int
    warnings: list[LoadProblemOut]


# --------------------------------------------------------------------------- aggregates


class SummaryOut(_Out):
    """Counts for the user's authorities (no child's record)."""

    authorities: list[str]
    children_waiting: int
    children_placed: int
    children_by_age_band: dict[str, int]
    beds_by_type: dict[str, int]
    free_beds_by_type: dict[str, int]


class OutcomesOut(_Out):
    """Children waiting and placed, and the placements' outcomes (percent, 1 dp)."""

    children_waiting: int
    children_placed: int
    placed_within_20_miles: int
    placed_with_home: int
    placed_in_area: int
    placed_in_own_vacancy: int
    placed_in_pooled_vacancy: int
    weekly_cost: int
    pct_within_20_miles: float | None
    pct_in_area: float | None
    pct_in_pooled_vacancy: float | None


class AuthorityOutcomesOut(OutcomesOut):
    """One authority's counts in the region."""

    authority: str
    name: str


class VacanciesByTypeOut(_Out):
    """An owner's vacancies of one placement type."""

    owner: str
    owner_name: str
    placement_type: str
    vacancies: int
    beds: int
    beds_free: int
    offered_to_pool: int


class PooledByOwnerOut(_Out):
    """An owner's vacancies offered to the pool."""

    owner: str
    owner_name: str
    vacancies: int
    beds: int
    beds_free: int


class RegionOut(_Out):
    """The region's aggregates (regional commissioners): counts only, no child's record."""

    authorities: list[AuthorityOutcomesOut]
    region: OutcomesOut
    vacancies_by_type_and_owner: list[VacanciesByTypeOut]
    pooled_by_owner: list[PooledByOwnerOut]
    requests_by_state: dict[str, int]


class ForecastItem(_Out):
    """A forecast kept, in the list."""

    id: int
    name: str
    mode: Literal["statement", "stochastic"]
    authority: str
    created_at: When


class ForecastOut(ForecastItem):
    """A forecast with its result (``placematch scenario forecast --json``; docs/forecast.md)."""

    result: dict[str, Any] = Field(description="the forecast's JSON, as the command writes it")


# --------------------------------------------------------------------------- admin


class AuditEntryOut(_Out):
    """One audit entry: who, when, what, from where, why, and the outcome."""

    id: int
    at: When
    user_id: int | None
    username: str | None
    role: str | None
    action: str
    authority: str | None
    resource: str
    resource_id: str
    client: str
    reason: str
    outcome: str


class UserOut(_Out):
    """A user, in the admin's list."""

    username: str
    role: str
    active: bool
    authorities: list[str]


class UserCreatedOut(_Out):
    """A user created."""

    username: str
    role: str
    authorities: list[str]


class UserActiveOut(_Out):
    """A user enabled or disabled."""

    username: str
    role: str
    active: bool


class HealthOut(_Out):
    """Alive, whether the database answers, and the schema revision."""

    status: Literal["ok", "unavailable"]
    database: str
    schema_: str | None = Field(alias="schema")
    version: str
    warm: bool | None = Field(
        description="whether this process has ranked every waiting child's list for the "
        "store as it is now; null where nothing warms"
    )
