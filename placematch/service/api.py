"""The HTTP API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

Every endpoint but ``POST /tokens`` needs a bearer token (or the page's session cookie, with
``X-CSRF-Token`` on changes). Roles: ``placement_officer`` (children of their authorities,
the vacancy pool, rank, why-not, match, decisions, providers' responses), ``commissioner``
(aggregates and forecasts, never a child's record), ``admin`` (users, the audit log). Errors
are RFC 9457 problem details naming the field.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from matcher.contract import CHILDREN_FILE, POLICY_FILE, VACANCIES_FILE
from matcher.rank import EMERGENCY_WITHIN_DAYS
from matcher.vocabulary import Urgency
from placematch.service import access, actions, audit, auth, db, pool
from placematch.service import schemas as S
from placematch.service.answers import answers_of
from placematch.service.deps import DB, User, current_user
from placematch.service.errors import ProblemError
from placematch.service.models import ROLES
from placematch.service.schemas import answers

router = APIRouter(prefix="/api/v1")

Reason = Annotated[
    str,
    Header(
        alias="X-Placematch-Reason",
        max_length=500,
        description="why the record is read (written to the audit log)",
    ),
]

#: Largest upload accepted, per file.
MAX_UPLOAD = 20 * 1024 * 1024

_ID = r"^[A-Za-z0-9_.\-/:]{1,64}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenIn(_In):
    """Username and password, for a bearer token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class ChildIn(_In):
    """A child's case-folder cells (see docs/case-folder.md); lists as JSON arrays."""

    child_id: str = Field(pattern=_ID)
    age: int = Field(ge=0, le=17)
    sex: str = Field(max_length=1)
    home_postcode: str = Field(default="", max_length=10)
    la: str = Field(min_length=1, max_length=60)
    school_urn: int | None = Field(default=None, ge=100000, le=999999)
    sibling_group: str = Field(default="", max_length=64)
    needs: list[str] = Field(default_factory=list, max_length=20)
    placement_types: list[str] = Field(default_factory=list, max_length=10)
    ethnicity: str = Field(default="", max_length=4)
    religion: str = Field(default="", max_length=60)
    language: str = Field(default="", max_length=60)
    avoid_areas: list[str] = Field(default_factory=list, max_length=20)
    needed_by: str = Field(default="", max_length=10)  # YYYY-MM-DD, checked by the loader
    urgency: str = Field(default="", max_length=20)
    risk_flags: list[str] = Field(default_factory=list, max_length=20)
    home_postcode_unknown: bool = False

    def row(self) -> dict[str, str]:
        """The CSV cells."""
        out: dict[str, str] = {}
        for k, v in self.model_dump().items():
            if isinstance(v, list):
                out[k] = ";".join(str(x) for x in v)
            elif isinstance(v, bool):
                out[k] = "true" if v else ""
            else:
                out[k] = "" if v is None else str(v)
        return out


class VacancyIn(_In):
    """A vacancy's case-folder cells (see docs/case-folder.md); lists as JSON arrays."""

    vacancy_id: str = Field(pattern=_ID)
    provider_id: str = Field(pattern=_ID)
    placement_type: str = Field(max_length=40)
    postcode: str = Field(max_length=10)
    beds: int = Field(ge=1, le=100)
    age_min: int = Field(ge=0, le=25)
    age_max: int = Field(ge=0, le=25)
    sex: str = Field(default="any", max_length=3)
    # needs and risk flags it can manage (two vocabularies in one cell)
    capabilities: list[str] = Field(default_factory=list, max_length=40)
    ofsted: str = Field(max_length=30)
    weekly_cost: int = Field(ge=0, le=100_000)
    connected_to: list[str] = Field(default_factory=list, max_length=20)
    fostered_now: int = Field(default=0, ge=0, le=20)
    ethnicity: list[str] = Field(default_factory=list, max_length=10)
    religion: str = Field(default="", max_length=60)
    languages: list[str] = Field(default_factory=list, max_length=10)
    available_from: str = Field(default="", max_length=10)  # YYYY-MM-DD, checked by the loader
    available_until: str = Field(default="", max_length=10)
    # A pooled folder's: the owning or commissioning authority, and true/false (blank: offered)
    owner_la: str = Field(default="", max_length=60)
    offered_to_pool: str = Field(default="", max_length=5)
    # the provider's or carer's name, for officers (never used in matching)
    name: str = Field(default="", max_length=120)

    def row(self) -> dict[str, str]:
        """The CSV cells."""
        return ChildIn.row(self)  # type: ignore[arg-type]


class DecisionIn(_In):
    """The chosen vacancy and the officer's reason."""

    vacancy_id: str = Field(pattern=_ID)
    reason: str = Field(min_length=1, max_length=2000)


class WithdrawIn(_In):
    """Why the recorded decision is withdrawn."""

    reason: str = Field(min_length=1, max_length=2000)


class AcceptIn(_In):
    """One child of a batch match's proposals, and the officer's reason for accepting it."""

    child_id: str = Field(pattern=_ID)
    reason: str = Field(min_length=1, max_length=2000)


class ResponseIn(_In):
    """A provider's answer to the child's referral for a vacancy (as in responses.csv)."""

    vacancy_id: str = Field(pattern=_ID)
    response: str = Field(
        max_length=16, json_schema_extra={"enum": ["offer", "consider", "decline"]}
    )
    reason: str | None = Field(
        default=None,
        max_length=32,
        description="a reason code (docs/case-folder.md); required for a decline",
    )


class MatchIn(_In):
    """Children to match together; default: every waiting child of your authorities."""

    child_ids: list[str] | None = Field(default=None, max_length=5000)


class ForecastIn(_In):
    """A forecast configuration (docs/forecast.md) and, for stochastic mode, its 903 files."""

    config_toml: str = Field(min_length=1, max_length=200_000)
    data_files: dict[str, str] = Field(default_factory=dict, max_length=10)


class UserIn(_In):
    """A new user."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: str = Field(max_length=32, json_schema_extra={"enum": list(ROLES)})
    authorities: list[str] = Field(default_factory=list, max_length=20)
    region: str | None = Field(
        default=None,
        max_length=60,
        description="an English region's name: adds its authorities (a regional commissioner)",
    )


class ClaimIn(_In):
    """Hold or request another authority's pooled vacancy (for one of your children)."""

    state: str = Field(
        max_length=16,
        json_schema_extra={"enum": ["held", "requested"]},
        description="held: a provisional hold; requested: an ask to the owning authority",
    )
    reason: str = Field(min_length=1, max_length=2000)
    child_id: str | None = Field(
        default=None, pattern=_ID, description="the child the bed is for (your authority's)"
    )


class ClaimMove(_In):
    """Move a hold or request: requested (from held), accepted (the owner), released."""

    state: str = Field(
        max_length=16, json_schema_extra={"enum": ["requested", "accepted", "released"]}
    )
    reason: str = Field(default="", max_length=2000)


# --------------------------------------------------------------------------- tokens, me


@router.post("/tokens", status_code=201, tags=["auth"], **answers(S.TokenOut, 201))
def create_token(body: TokenIn, request: Request, session: DB) -> dict[str, Any]:
    """Exchange a username and password for a bearer token (30 days).

    After 10 failures in 15 minutes for a name from one client: 429.
    """
    try:
        user = auth.sign_in(session, body.username, body.password, audit.client_of(request))
    except auth.TooManyFailures as exc:
        audit.record_sign_in_failure(session, request, body.username, "throttled")
        raise ProblemError(429, str(exc)) from None
    if user is None:
        audit.record_sign_in_failure(session, request, body.username, "failed")
        raise ProblemError(401, "the username or password is wrong")
    token, expires = auth.issue_token(session, user, "api")
    session.commit()
    return {"token": token, "token_type": "bearer", "expires_at": expires.isoformat()}


@router.delete("/tokens/current", status_code=204, tags=["auth"])
def revoke_token(request: Request, who: User, session: DB) -> Response:
    """Revoke the token this request is signed with."""
    from placematch.service.deps import token_of

    auth.revoke_token(session, token_of(request)[0])
    session.commit()
    return Response(status_code=204)


@router.get("/me", tags=["auth"], **answers(S.Me))
def me(who: User) -> dict[str, Any]:
    """The signed-in user."""
    return {"username": who.username, "role": who.role, "authorities": list(who.authorities)}


# --------------------------------------------------------------------------- children


@router.get("/children", tags=["children"], **answers(list[S.ChildListItem]))
def list_children(
    request: Request,
    who: User,
    session: DB,
    status: Annotated[str | None, Query(pattern="^(waiting|placed)$")] = None,
) -> list[dict[str, Any]]:
    """Children of your authorities (id, authority, status, age)."""
    rows = actions.list_children(session, who, request, status)
    return [
        {
            "child_id": r.child_id,
            "authority": r.authority_code,
            "status": r.status,
            "age": int(r.data["age"]),
        }
        for r in rows
    ]


@router.post("/children", status_code=201, tags=["children"], **answers(S.ChildOut, 201))
def create_child(body: ChildIn, request: Request, who: User, session: DB) -> dict[str, Any]:
    """Add a child (validated with everything stored; all problems listed)."""
    return actions.child_dict(actions.create_child(session, who, request, body.row()))


@router.get("/children/{child_id}", tags=["children"], **answers(S.ChildOut))
def get_child(
    child_id: str, request: Request, who: User, session: DB, reason: Reason = ""
) -> dict[str, Any]:
    """A child's record and decision (audited; send X-Placematch-Reason)."""
    record, decision = actions.read_child(session, who, request, child_id, reason)
    return actions.child_dict(record, decision)


@router.get("/children/{child_id}/history", tags=["children"], **answers(list[S.HistoryItem]))
def child_history(
    child_id: str, request: Request, who: User, session: DB, reason: Reason = ""
) -> list[dict[str, Any]]:
    """The child's decisions and their withdrawals, oldest first: `event` (`decision` or
    `withdrawal`), `vacancy_id`, `by` (the officer), `at` and `reason`, read back from the
    audit log (the store keeps only the current decision). Audited as a read."""
    record, _ = actions.read_child(session, who, request, child_id, reason or "history")
    return actions.placement_history(session, record)


@router.put("/children/{child_id}", tags=["children"], **answers(S.ChildOut))
def update_child(
    child_id: str, body: ChildIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Replace a child's record (validated; all problems listed)."""
    return actions.child_dict(actions.update_child(session, who, request, child_id, body.row()))


@router.get("/children/{child_id}/rank", tags=["matching"], **answers(S.RankingOut))
async def rank(
    child_id: str,
    request: Request,
    top: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    on: Annotated[
        str | None,
        Query(
            max_length=10,
            description="the date asked about, YYYY-MM-DD (default today), as `placematch "
            "rank --on`: only vacancies free on the child's date are offered; the child's "
            "date (`date` in the answer) is its needed_by, else today for an emergency, else "
            "this date",
        ),
    ] = None,
    urgency: Annotated[
        str | None,
        Query(
            max_length=20,
            description="rank the child as this urgency (default: the child's own): an "
            "emergency's date is today and its answer lists what frees within 7 days",
            json_schema_extra={"enum": [u.value for u in Urgency]},
        ),
    ] = None,
    within_days: Annotated[
        int | None,
        Query(
            ge=0,
            le=actions.MAX_WITHIN_DAYS,
            description=f"list in `free_within_days` the vacancies excluded only because "
            f"they free up within this many days of the child's date (default "
            f"{EMERGENCY_WITHIN_DAYS} for an emergency, else 0), as `placematch rank "
            "--within-days`: a bridging placement now and a planned move then",
        ),
    ] = None,
    reason: Reason = "",
) -> Response:
    """Every eligible vacancy with free beds, best first: points per factor, exclusions,
    the referrals providers declined, the child's `date` and `urgency`, and
    `free_within_days` (vacancies that free up within `within_days` days), and `decision`
    (the child's recorded placement, or null while it waits: a placed child is ranked too,
    for a planned move)."""
    question = actions.RankQuestion(
        top, actions.parse_on(on), actions.parse_urgency(urgency), within_days
    )
    # On an SQLite file the sign-in and access checks run on the event loop (_rank_checked),
    # and so do a kept answer's read and every answer's audit entry. An answer to build is
    # ranked in a worker thread with what the loop found (the checks are not made twice).
    # Anything else (a refusal, PostgreSQL) in one worker thread: the session, the sign-in
    # check, the ranking and the audit entry (as plain dependencies each was its own
    # hand-over between the event loop and the thread pool).
    checked = await _rank_checked(request, child_id, question)
    if checked is None:
        body, hit = await run_in_threadpool(_rank, request, child_id, question, reason)
    else:
        if checked.body is not None:
            body, hit = checked.body, checked.hit
        else:
            body, hit = await run_in_threadpool(
                _rank_checked_answer, request, checked, child_id, question
            )
        # committed before the answer is sent, with the other entries of this turn of the loop
        await audit.record_on_loop(
            checked.writer,
            checked.who,
            request,
            "rank",
            "child",
            child_id,
            authority=checked.authority,
            reason=reason,
        )
    # Written out once as JSON bytes and kept until the store changes (actions.rank_body);
    # X-Placematch-Cache says whether this answer was kept (hit) or built (miss).
    return Response(
        body,
        media_type="application/json",
        headers={"X-Placematch-Cache": "hit" if hit else "miss"},
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Checked:
    """A ranking request checked on the event loop: the user, the child's authority, the
    store's revision read with it, the kept body if there is one, and the store's writer."""

    who: auth.Principal
    authority: str
    revision: int
    body: bytes | None
    writer: db.LoopWriter
    hit: bool = True  # the body was kept (else spliced on the loop)


async def _rank_checked(
    request: Request, child_id: str, question: actions.RankQuestion
) -> _Checked | None:
    """The sign-in and access checks of a ranking, on the event loop, and its kept body if
    there is one; ``None`` when the request is to be answered in a worker thread (not an
    SQLite file, or a refusal: the thread answers and audits it).

    The checks and the kept body are a few tenths of a millisecond of work. In a worker
    thread, with 20 clients, they waited for the interpreter lock among a dozen request
    threads (5 ms at the median to start, as much again for the audit entry's writer thread
    and back): most of a kept answer's time in the server. The caller commits the audit
    entry on this loop too (:class:`placematch.service.db.LoopWriter`), with the entries of
    the other requests of the same turn of the loop, before the answer is sent.
    """
    state = request.app.state
    writer = db.loop_writer(state.engine)
    if writer is None:  # not an SQLite file: PostgreSQL queues its writers itself
        return None
    kept = answers_of(state.engine)
    with kept.asked(), state.sessions() as session:  # the warming waits while it is asked
        try:
            who = current_user(request, session)
            authority, revision = access.child_authority_if_visible(session, who, child_id)
        except ProblemError:
            return None  # not signed in, or a role without children: answered in the thread
        if authority is None:
            return None  # not the user's to see: refused (and audited) in the thread
        body = actions.kept_rank(
            kept, child_id, authority, revision, actions.clock(), question, count_miss=False
        )
        hit = body is not None
        if body is None and question.plain and question.within_days is None:
            # the child's list kept before a change, spliced if all it takes is at hand
            body = actions.spliced_now(
                session, kept, child_id, authority, revision, actions.clock(), question.top
            )
    return _Checked(who, authority, revision, body, writer, hit)


def _rank_checked_answer(
    request: Request, checked: _Checked, child_id: str, question: actions.RankQuestion
) -> tuple[bytes, bool]:
    """The ranking of a request checked on the loop, built (or kept meanwhile); the caller
    audits it."""
    state = request.app.state
    with answers_of(state.engine).asked(), state.sessions() as session:
        return actions.rank_answer(
            session, child_id, checked.authority, checked.revision, actions.clock(), question
        )


def _rank(
    request: Request, child_id: str, question: actions.RankQuestion, reason: str
) -> tuple[bytes, bool]:
    with request.app.state.sessions() as session:
        who = current_user(request, session)
        return actions.rank_body(session, who, request, child_id, question, reason)


@router.get("/children/{child_id}/why-not/{vacancy_id}", tags=["matching"], **answers(S.WhyNotOut))
def why_not(
    child_id: str, vacancy_id: str, request: Request, who: User, session: DB, reason: Reason = ""
) -> dict[str, Any]:
    """The rule that excludes the vacancy, or its gains and losses against the best."""
    return actions.explain_why_not(session, who, request, child_id, vacancy_id, reason).to_dict()


@router.get(
    "/children/{child_id}/map.svg",
    tags=["matching"],
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def child_map(child_id: str, request: Request, who: User, session: DB) -> Response:
    """An offline SVG map of the child's home, school and best options."""
    svg = actions.child_map(session, who, request, child_id)
    return Response(svg, media_type="image/svg+xml")


@router.post(
    "/children/{child_id}/decision",
    status_code=201,
    tags=["matching"],
    **answers(S.DecisionOut, 201),
)
def decide(
    child_id: str, body: DecisionIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Record the chosen vacancy and the reason; takes the bed, or 409 if it is gone."""
    decision = actions.decide(session, who, request, child_id, body.vacancy_id, body.reason)
    return actions.decision_dict(decision)


@router.post("/children/{child_id}/decision/withdraw", tags=["matching"], **answers(S.WithdrawnOut))
def withdraw(
    child_id: str, body: WithdrawIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Withdraw the child's decision: frees the bed, the child waits again; the reason and
    who withdrew it go to the audit log (409 if no decision is recorded)."""
    decision = actions.withdraw(session, who, request, child_id, body.reason)
    return {
        "withdrawn": actions.decision_dict(decision),
        "withdrawn_by": who.user_id,
        "reason": body.reason,
    }


@router.post(
    "/children/{child_id}/responses",
    status_code=201,
    tags=["matching"],
    **answers(S.ResponseOut, 201),
)
def record_response(
    child_id: str, body: ResponseIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Record a provider's answer to the child's referral (offer, consider or decline with a
    reason code; audited). A decline excludes the vacancy from the child's ranking
    (declined_by_provider); an offer comes first among equal options."""
    row = actions.record_response(
        session, who, request, child_id, body.vacancy_id, body.response, body.reason
    )
    return actions.response_dict(row)


@router.get("/children/{child_id}/responses", tags=["matching"], **answers(list[S.ResponseOut]))
def list_responses(child_id: str, request: Request, who: User, session: DB) -> list[dict[str, Any]]:
    """The providers' answers recorded for the child's referrals, by vacancy (audited)."""
    return [
        actions.response_dict(r) for r in actions.list_responses(session, who, request, child_id)
    ]


async def _read(upload: UploadFile | None) -> bytes | None:
    if upload is None:
        return None
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ProblemError(413, f"{upload.filename or 'file'}: larger than {MAX_UPLOAD} bytes")
    return content


async def _upload(
    request: Request, who: User, session: DB, files: dict[str, UploadFile | None]
) -> dict[str, Any]:
    access.require(who, access.OFFICER)  # before the files are read
    contents = {name: await _read(f) for name, f in files.items()}
    given = {k: v for k, v in contents.items() if v is not None}
    return actions.upload(session, who, request, given).to_dict()


@router.post(
    "/children/upload",
    status_code=201,
    tags=["children"],
    **answers(S.LoadReportOut, 201),
)
async def upload_children(
    request: Request, who: User, session: DB, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    """Bulk upload a children.csv (all problems listed; nothing stored if any)."""
    return await _upload(request, who, session, {CHILDREN_FILE: file})


@router.post("/upload", status_code=201, tags=["children"], **answers(S.LoadReportOut, 201))
async def upload_folder(
    request: Request,
    who: User,
    session: DB,
    children: Annotated[UploadFile | None, File()] = None,
    vacancies: Annotated[UploadFile | None, File()] = None,
    policy: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    """Upload a case folder's files (any of children.csv, vacancies.csv, policy.toml)."""
    return await _upload(
        request,
        who,
        session,
        {CHILDREN_FILE: children, VACANCIES_FILE: vacancies, POLICY_FILE: policy},
    )


# --------------------------------------------------------------------------- vacancies


@router.get("/vacancies", tags=["vacancies"], **answers(list[S.VacancyOut]))
def list_vacancies(who: User, session: DB) -> list[dict[str, Any]]:
    """The vacancies you may see, with free beds: your authorities' own and those other
    authorities offer to the pool (``pooled``: true); never one kept back by another."""
    return actions.list_vacancies(session, who)


@router.post("/vacancies", status_code=201, tags=["vacancies"], **answers(S.VacancyOut, 201))
def create_vacancy(body: VacancyIn, request: Request, who: User, session: DB) -> dict[str, Any]:
    """Add a vacancy (validated with everything stored)."""
    return actions.create_vacancy(session, who, request, body.row())


@router.get("/vacancies/{vacancy_id}", tags=["vacancies"], **answers(S.VacancyOut))
def get_vacancy(vacancy_id: str, who: User, session: DB) -> dict[str, Any]:
    """One vacancy."""
    return actions.read_vacancy(session, who, vacancy_id)


@router.post(
    "/vacancies/{vacancy_id}/requests",
    status_code=201,
    tags=["pool"],
    **answers(S.ClaimOut, 201),
)
def claim_vacancy(
    vacancy_id: str, body: ClaimIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Hold or request another authority's pooled vacancy (officers; audited under both
    authorities). 409 if it is held or requested already; 404 for one kept back."""
    claim = pool.claim_vacancy(
        session, who, request, vacancy_id, body.state, body.reason, body.child_id
    )
    return pool.request_dict(claim, who)


@router.get("/pool", tags=["pool"], **answers(list[S.PooledVacancyOut]))
def pooled_vacancies(who: User, session: DB) -> list[dict[str, Any]]:
    """Other authorities' vacancies offered to the pool, each with its open hold or request
    (``claim``): an officer's view; a regional commissioner's, every pooled vacancy of the
    region."""
    return pool.pooled_vacancies(session, who)


@router.get("/pool/requests", tags=["pool"], **answers(list[S.ClaimOut]))
def pool_requests(who: User, session: DB) -> list[dict[str, Any]]:
    """Holds and requests your authorities made or received, newest first (the child id
    only to the requesting authority)."""
    return pool.list_requests(session, who)


@router.patch("/pool/requests/{request_id}", tags=["pool"], **answers(S.ClaimOut))
def move_pool_request(
    request_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: ClaimMove,
    request: Request,
    who: User,
    session: DB,
) -> dict[str, Any]:
    """Move a hold or request: ``requested`` (the requester, from held), ``accepted`` (the
    owner, from requested), ``released`` (either); audited under both authorities."""
    claim = pool.move_claim(session, who, request, request_id, body.state, body.reason)
    return pool.request_dict(claim, who)


@router.get("/region", tags=["aggregates"], **answers(S.RegionOut))
def region(who: User, session: DB) -> dict[str, Any]:
    """The region's aggregates (regional commissioners): per authority and for the region,
    children waiting and placed and the placements' outcomes; vacancies by type and owner;
    pooled vacancies; holds and requests by state. No child's record."""
    return pool.region_summary(session, who)


@router.put("/vacancies/{vacancy_id}", tags=["vacancies"], **answers(S.VacancyOut))
def update_vacancy(
    vacancy_id: str, body: VacancyIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Replace a vacancy of your authorities (validated)."""
    return actions.update_vacancy(session, who, request, vacancy_id, body.row())


@router.post(
    "/vacancies/upload",
    status_code=201,
    tags=["vacancies"],
    **answers(S.LoadReportOut, 201),
)
async def upload_vacancies(
    request: Request, who: User, session: DB, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    """Bulk upload a vacancies.csv (all problems listed; nothing stored if any)."""
    return await _upload(request, who, session, {VACANCIES_FILE: file})


# --------------------------------------------------------------------------- match jobs


@router.post("/match", status_code=202, tags=["matching"], **answers(S.JobOut, 202))
def start_match(body: MatchIn, request: Request, who: User, session: DB) -> JSONResponse:
    """Start a batch match (a background job); poll the job, then fetch its result."""
    job = actions.start_match(session, who, request, body.child_ids)
    request.app.state.jobs.submit(actions.run_match_job, request.app.state.sessions, job.id)
    return JSONResponse(
        actions.job_dict(job), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"}
    )


@router.get("/jobs/{job_id}", tags=["matching"], **answers(S.JobOut))
def get_job(job_id: str, request: Request, who: User, session: DB) -> dict[str, Any]:
    """A job's status and progress (0 to 1); another user's job is a 404 (audited)."""
    return actions.job_dict(access.visible_job(session, who, job_id, request=request))


@router.get("/jobs/{job_id}/result", tags=["matching"], **answers(S.MatchResultOut))
def job_result(job_id: str, request: Request, who: User, session: DB) -> dict[str, Any]:
    """A finished match: assignments with points per factor, unplaced children and why."""
    return actions.match_result(session, who, request, job_id)


@router.post(
    "/jobs/{job_id}/accept",
    status_code=201,
    tags=["matching"],
    **answers(S.DecisionOut, 201),
)
def accept_proposal(
    job_id: str, body: AcceptIn, request: Request, who: User, session: DB
) -> dict[str, Any]:
    """Accept one proposal of a finished match: records the decision for that child on the
    vacancy the match proposed (201), with the same checks as any decision (409 if the bed
    or the child has been taken since)."""
    decision = actions.accept_proposal(session, who, request, job_id, body.child_id, body.reason)
    return actions.decision_dict(decision)


# --------------------------------------------------------------------------- aggregates


@router.get("/summary", tags=["aggregates"], **answers(S.SummaryOut))
def summary(who: User, session: DB) -> dict[str, Any]:
    """Counts for your authorities (no child's record)."""
    return actions.summary(session, who)


@router.post("/forecasts", status_code=201, tags=["forecasts"], **answers(S.ForecastOut, 201))
def create_forecast(body: ForecastIn, request: Request, who: User, session: DB) -> dict[str, Any]:
    """Run a forecast (statement or stochastic; docs/forecast.md) and keep it."""
    f = actions.run_forecast(session, who, request, body.config_toml, body.data_files)
    return actions.forecast_dict(f)


@router.get("/forecasts", tags=["forecasts"], **answers(list[S.ForecastItem]))
def list_forecasts(who: User, session: DB) -> list[dict[str, Any]]:
    """Forecasts of your authorities, newest first."""
    return [actions.forecast_dict(f, full=False) for f in actions.list_forecasts(session, who)]


@router.get("/forecasts/{forecast_id}", tags=["forecasts"], **answers(S.ForecastOut))
def get_forecast(
    forecast_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: User, session: DB
) -> dict[str, Any]:
    """One forecast with its result."""
    return actions.forecast_dict(access.visible_forecast(session, who, forecast_id))


# --------------------------------------------------------------------------- admin


@router.get("/audit", tags=["audit"], **answers(list[S.AuditEntryOut]))
def audit_log(
    who: User,
    session: DB,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Audit entries, newest first: all for an admin, your authorities' for an officer."""
    return [audit.entry_dict(e) for e in actions.audit_entries(session, who, limit, offset)]


@router.get(
    "/audit/export.csv",
    tags=["audit"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def audit_export(who: User, session: DB) -> Response:
    """The whole audit log as CSV (admins only)."""
    return Response(
        actions.audit_export(session, who),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="placematch-audit.csv"'},
    )


@router.get("/users", tags=["admin"], **answers(list[S.UserOut]))
def list_users(who: User, session: DB) -> list[dict[str, Any]]:
    """Every user (admins only)."""
    return actions.list_users(session, who)


@router.post("/users", status_code=201, tags=["admin"], **answers(S.UserCreatedOut, 201))
def create_user(body: UserIn, request: Request, who: User, session: DB) -> dict[str, Any]:
    """Create a user (admins only)."""
    try:
        return actions.create_user(
            session,
            who,
            request,
            body.username,
            body.password,
            body.role,
            body.authorities,
            region=body.region,
        )
    except auth.UserError as exc:
        field, _, message = str(exc).partition(": ")
        # The command line's option is --authority; the body's field is "authorities".
        field = {"authority": "authorities"}.get(field, field)
        raise ProblemError(422, str(exc), [{"field": field, "message": message}]) from None


class UserPatch(_In):
    """Enable or disable a user."""

    active: bool


@router.patch("/users/{username}", tags=["admin"], **answers(S.UserActiveOut))
def patch_user(
    username: Annotated[str, Path(max_length=64)],
    body: UserPatch,
    request: Request,
    who: User,
    session: DB,
) -> dict[str, Any]:
    """Enable or disable a user (admins only); disabling revokes their tokens at once."""
    access.require(who, access.ADMIN)
    if username == who.username and not body.active:
        raise ProblemError(
            422, "you cannot disable yourself", [{"field": "active", "message": "your own user"}]
        )
    try:
        return actions.set_user_active(session, who, request, username, body.active)
    except auth.UserError:
        raise ProblemError(404, f"user {username!r} is not in this store") from None
