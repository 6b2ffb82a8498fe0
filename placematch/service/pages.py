"""The server-rendered page (Jinja2; no build step, no CDN, no script needed).

Officers: the children waiting (searched and filtered), a child's ranked options (the
provider's name, district and authority, distances, in or out of area, Ofsted, weekly cost,
sign-offs, the provider's answer; the points per factor and the explanation of each behind a
disclosure), why-not, an offline SVG map of the child's locality, a form to record a
provider's answer to a referral and one to record a decision, which is confirmed on its own
page before the bed is taken. A placed child's page shows the placement and a form to
withdraw it; a batch match's proposals are accepted one child at a time. Commissioners:
aggregates and forecasts with their charts. Officers and admins: the audit log. Forms carry a
CSRF token; the cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from matcher.contract import CHILDREN_FILE, POLICY_FILE, VACANCIES_FILE
from matcher.factors import DEFAULT_FACTORS, FACTOR_LABELS, RESIDENT_FACTORS
from matcher.problems import CaseFolderError
from matcher.vocabulary import RESPONSE_REASON_MEANING, ResponseReason
from matcher.vocabulary import Response as Answer
from placematch.service import access, actions, audit, auth, flash, places, pool, store
from placematch.service.access import ADMIN, COMMISSIONER, OFFICER, REGIONAL
from placematch.service.auth import Principal
from placematch.service.deps import COOKIE, DB
from placematch.service.errors import ProblemError, SignIn
from placematch.service.models import ROLES

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

EXAMPLE_FORECAST = Path(__file__).parent / "data" / "essex_2026.toml"


def _page_user(request: Request, session: DB) -> tuple[Principal, str]:
    token = request.cookies.get(COOKIE, "")
    who = auth.principal_of(session, token) if token else None
    if who is None:
        raise SignIn(request.url.path)
    return who, auth.csrf_token(auth.server_secret(session), token)


def _check_csrf(request: Request, sent: str) -> None:
    token = request.cookies.get(COOKIE, "")
    with request.app.state.sessions() as session:
        secret = auth.server_secret(session)
    if not auth.check_csrf(secret, token, sent):
        raise ProblemError(403, "the form has expired: reload the page and try again")


def render(
    request: Request,
    name: str,
    who: Principal | None,
    csrf: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a template with the user, the CSRF token and the navigation."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "csrf": csrf,
            "roles": {
                "officer": OFFICER,
                "commissioner": COMMISSIONER,
                "regional": REGIONAL,
                "admin": ADMIN,
            },
            **context,
        },
        status_code=status_code,
    )


def error_page(request: Request, status: int, detail: str) -> Response:
    """An error as a page (401 goes to the login form)."""
    if status == 401:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"who": None, "status": status, "detail": detail},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html", None, next=_safe_next(next), error="")


def _safe_next(url: str) -> str:
    return url if url.startswith("/") and not url.startswith("//") else "/"


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: DB,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=200)] = "/",
) -> Response:
    """Check the password and set the session cookie."""
    try:
        user = auth.sign_in(session, username, password, audit.client_of(request))
    except auth.TooManyFailures as exc:
        audit.record_sign_in_failure(session, request, username, "throttled")
        return render(
            request,
            "login.html",
            None,
            status_code=429,
            next=_safe_next(next),
            error=str(exc).capitalize() + ".",
        )
    if user is None:
        audit.record_sign_in_failure(session, request, username, "failed")
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=_safe_next(next),
            error="The username or password is wrong.",
        )
    token, _ = auth.issue_token(session, user, "session")
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=auth.SESSION_HOURS * 3600,
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DB, csrf: Annotated[str, Form()] = "") -> Response:
    """Sign out."""
    _check_csrf(request, csrf)
    auth.revoke_token(session, request.cookies.get(COOKIE, ""))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(request: Request, session: DB) -> Response:
    """Where each role starts."""
    who, _ = _page_user(request, session)
    target = {
        OFFICER: "/children",
        COMMISSIONER: "/forecasts",
        REGIONAL: "/region",
        ADMIN: "/audit",
    }[who.role]
    return RedirectResponse(target, status_code=303)


#: The age bands of the children list's filter (as the summary counts them).
AGE_BANDS = {"0-9": (0, 9), "10-15": (10, 15), "16-17": (16, 17)}


@router.get("/children", response_class=HTMLResponse)
def children_page(
    request: Request,
    session: DB,
    status: str = "waiting",
    q: Annotated[str, Query(max_length=64)] = "",
    age: str = "",
    urgency: str = "",
) -> HTMLResponse:
    """The children of the officer's authorities, searched and filtered.

    ``q``: part of a child's id or sibling group (case-insensitive); ``age``: an age band of
    :data:`AGE_BANDS`; ``urgency``: ``emergency``, ``urgent`` or ``planned`` as recorded. The
    search runs on the server, so it works without a script and the list read is audited
    as before.
    """
    who, csrf = _page_user(request, session)
    wanted = status if status in ("waiting", "placed") else None
    rows = actions.list_children(session, who, request, wanted)
    shown = rows
    needle = q.strip().lower()
    if needle:
        shown = [
            c
            for c in shown
            if needle in c.child_id.lower()
            or needle in str(c.data.get("sibling_group", "")).lower()
        ]
    if age in AGE_BANDS:
        low, high = AGE_BANDS[age]
        shown = [c for c in shown if low <= int(c.data["age"]) <= high]
    if urgency:
        shown = [c for c in shown if str(c.data.get("urgency") or "") == urgency]
    return render(
        request,
        "children.html",
        who,
        csrf,
        children=shown,
        total=len(rows),
        status=status,
        q=q,
        age=age,
        urgency=urgency,
        age_bands=list(AGE_BANDS),
        places=places,
    )


@router.get("/children/{child_id}", response_class=HTMLResponse)
def child_page(request: Request, session: DB, child_id: str, why_not: str = "") -> HTMLResponse:
    """A waiting child's ranked options, why-not, map and the decision form; a placed
    child's placement and the form to withdraw it."""
    who, csrf = _page_user(request, session)
    shown = actions.child_page(session, who, request, child_id, why_not)
    message = flash.take(request, auth.server_secret(session))
    common: dict[str, Any] = {
        "record": shown.record,
        "decision": shown.decision,
        "message": message,
        "answers": shown.answers,
        "siblings": shown.siblings,
        "places": places,
        "history": shown.history,
    }
    if shown.options is None:
        # A placed child: the placement, not a ranking of beds it no longer needs.
        placed = render(
            request,
            "child.html",
            who,
            csrf,
            **common,
            placement=shown.placement,
            decided_by=shown.decided_by,
        )
        return flash.shown(placed) if message else placed
    # One case folder, ranked once, for the options, the emergency's look-ahead and the
    # why-not asked about (a vacancy with no free bed or not in the store is answered
    # beside the question, not instead of the child's page). Only the vacancies the
    # child's authority may see are named: its own and those offered to the pool.
    options, vacancies = shown.options, shown.vacancies
    all_ids = sorted(vacancies)
    page = render(
        request,
        "child.html",
        who,
        csrf,
        **common,
        ranking=options.ranking,
        within_days=options.within_days,
        child_date=options.date,
        soon=options.soon,
        answer=options.why_not,
        # The service does not store residents.csv yet, so the factors about residents are
        # always 0 here: no column for them.
        factors=[f.name for f in DEFAULT_FACTORS if f.name not in RESIDENT_FACTORS]
        + (["own_carers"] if options.own_carers else []),
        labels=FACTOR_LABELS,
        vacancies=vacancies,
        vacancy_ids=all_ids,
        why_not=why_not,
        why_not_problem=options.why_not_problem,
        response_values=[r.value for r in Answer],
        reason_meanings={r.value: RESPONSE_REASON_MEANING[r] for r in ResponseReason},
    )
    return flash.shown(page) if message else page


@router.get("/children/{child_id}/map.svg")
def child_map(request: Request, session: DB, child_id: str) -> Response:
    """The child's map (an image for the page)."""
    who, _ = _page_user(request, session)
    return Response(actions.child_map(session, who, request, child_id), media_type="image/svg+xml")


def _back(request: Request, child_id: str, job: str, text: str, anchor: str = "") -> Response:
    """Back to the child's page, or to the batch match the decision came from, with ``text``
    as a signed one-off message (:mod:`placematch.service.flash`)."""
    where = f"/jobs/{quote(job)}" if job else f"/children/{quote(child_id)}"
    return flash.redirect(request, where + anchor, text)


@router.post("/children/{child_id}/decision", response_model=None)
def decision_form(
    request: Request,
    session: DB,
    child_id: str,
    vacancy_id: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
    job: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """First the confirmation page (what taking the bed means); then, with ``confirm=yes``,
    record the decision and go back to the child's page (or the batch match's) with the
    outcome. ``job``: the decision accepts that batch match's proposal for the child."""
    who, token = _page_user(request, session)
    _check_csrf(request, csrf)
    try:
        if job:
            proposed = actions.proposal_of(session, who, request, job, child_id)
            if proposed != vacancy_id:
                raise ProblemError(
                    422, f"the batch match proposed vacancy {proposed}, not {vacancy_id}"
                )
        if confirm != "yes":
            record, option, vacancy = actions.decision_preview(
                session, who, request, child_id, vacancy_id, reason
            )
            return render(
                request,
                "confirm.html",
                who,
                token,
                record=record,
                option=option,
                vacancy=None if vacancy is None else vacancy.data,
                beds_free=0 if vacancy is None else vacancy.beds - vacancy.beds_taken,
                reason=reason,
                job=job,
            )
        if job:
            actions.accept_proposal(session, who, request, job, child_id, reason)
        else:
            actions.decide(session, who, request, child_id, vacancy_id, reason)
    except ProblemError as exc:
        if exc.status in (409, 422) or _vacancy_missing(exc):
            return _back(request, child_id, job, "Not recorded: " + exc.detail)
        raise
    return _back(
        request,
        child_id,
        job,
        f"Decision recorded: child {child_id}, vacancy {vacancy_id}. The bed is now taken.",
    )


@router.post("/children/{child_id}/withdraw", response_model=None)
def withdraw_form(
    request: Request,
    session: DB,
    child_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Withdraw the child's decision (the bed is freed); back to the child's page."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    try:
        withdrawn = actions.withdraw(session, who, request, child_id, reason)
    except ProblemError as exc:
        if exc.status in (409, 422):
            return _back(request, child_id, "", "Not withdrawn: " + exc.detail)
        raise
    return _back(
        request,
        child_id,
        "",
        f"Decision withdrawn: vacancy {withdrawn.vacancy_id} has its bed free again; "
        f"child {child_id} is waiting.",
    )


@router.post("/children/{child_id}/responses", response_model=None)
def response_form(
    request: Request,
    session: DB,
    child_id: str,
    vacancy_id: Annotated[str, Form(max_length=64)],
    response: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Record a provider's answer; back to the child's page with the outcome."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    try:
        row = actions.record_response(
            session, who, request, child_id, vacancy_id, response, reason or None
        )
    except ProblemError as exc:
        if exc.status in (409, 422) or _vacancy_missing(exc):
            return flash.redirect(
                request, f"/children/{quote(child_id)}", "Not recorded: " + exc.detail
            )
        raise
    code = f" ({row.reason})" if row.reason else ""
    return flash.redirect(
        request,
        f"/children/{quote(child_id)}#responses-h",
        f"Response recorded: vacancy {row.vacancy_id}, {row.response}{code}.",
    )


def _refused(
    request: Request,
    session: DB,
    who: Principal,
    action: str,
    resource: str,
    resource_id: str,
    exc: Exception,
) -> None:
    """Audit a form's write that failed and is answered on the page (not as an error)."""
    if isinstance(exc, CaseFolderError):
        n = len(exc.problems)
        why = f"{n} problem{'s' if n != 1 else ''}: nothing was stored"
    else:
        why = exc.detail if isinstance(exc, ProblemError) else str(exc)
    actions.record_failed(session, who, request, action, resource, resource_id, f"422: {why}")


def _vacancy_missing(exc: ProblemError) -> bool:
    """A 404 about the vacancy (shown on the page), not about the child (an error page)."""
    return exc.status == 404 and exc.detail.startswith("vacancy ")


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, session: DB) -> HTMLResponse:
    """Upload a case folder's files."""
    who, csrf = _page_user(request, session)
    access.require(who, OFFICER)
    return render(request, "upload.html", who, csrf, problems=None, report=None)


@router.post("/upload", response_class=HTMLResponse)
async def upload(
    request: Request,
    session: DB,
    children: Annotated[UploadFile | None, File()] = None,
    vacancies: Annotated[UploadFile | None, File()] = None,
    policy: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Validate and store the files, or list every problem (nothing stored)."""
    who, token = _page_user(request, session)
    _check_csrf(request, csrf)
    access.require(who, OFFICER)  # before the files are read
    files = {}
    for name, f in ((CHILDREN_FILE, children), (VACANCIES_FILE, vacancies), (POLICY_FILE, policy)):
        if f is not None and f.filename:
            files[name] = await f.read()
    if not files:  # said in the form's words; actions.upload would refuse it too
        return render(
            request,
            "upload.html",
            who,
            token,
            status_code=422,
            report=None,
            problems=[
                {"file": "", "line": None, "field": "files", "message": "choose at least one file"}
            ],
        )
    try:
        report = actions.upload(session, who, request, files)
    except CaseFolderError as exc:
        session.rollback()
        _refused(request, session, who, "upload", "case_folder", ",".join(sorted(files)), exc)
        return render(
            request,
            "upload.html",
            who,
            token,
            status_code=422,
            report=None,
            problems=[store.problem_dict(p) for p in exc.problems],
        )
    return render(request, "upload.html", who, token, problems=None, report=report.to_dict())


@router.post("/match")
def match_form(request: Request, session: DB, csrf: Annotated[str, Form()] = "") -> Response:
    """Start a batch match of every waiting child; go to the job's page."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    job = actions.start_match(session, who, request, None)
    request.app.state.jobs.submit(actions.run_match_job, request.app.state.sessions, job.id)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, session: DB, job_id: str) -> HTMLResponse:
    """A match job: progress while it runs (the page refreshes itself), then the proposals,
    each with its own form to accept it (through the confirmation page)."""
    who, csrf = _page_user(request, session)
    job, decided, vacancies = actions.match_page(session, who, request, job_id)
    message = flash.take(request, auth.server_secret(session))
    page = render(
        request,
        "job.html",
        who,
        csrf,
        job=job,
        result=job.result,
        decided=decided,
        message=message,
        vacancies=vacancies,
        places=places,
    )
    return flash.shown(page) if message else page


@router.get("/pool", response_class=HTMLResponse)
def pool_page(request: Request, session: DB) -> HTMLResponse:
    """An officer's view of the regional pool: other authorities' vacancies offered to it,
    with a form to hold or request each free one, and the holds and requests their
    authorities made or received, with the moves each side may make."""
    who, csrf = _page_user(request, session)
    access.require(who, OFFICER)
    message = flash.take(request, auth.server_secret(session))
    page = render(
        request,
        "pool.html",
        who,
        csrf,
        vacancies=pool.pooled_vacancies(session, who),
        requests=pool.list_requests(session, who),
        names=pool.name_of,
        message=message,
        places=places,
    )
    return flash.shown(page) if message else page


T = TypeVar("T")


def _pool_write(
    request: Request,
    session: DB,
    who: Principal,
    audited: tuple[str, str, str],
    write: Callable[[], T],
) -> T | Response:
    """A pool form's write: its result, or, when it is refused (409 or 422), the refusal
    audited (``audited`` = action, resource, id) and the pool page with the reason."""
    try:
        return write()
    except ProblemError as exc:
        if exc.status in (409, 422):
            _refused(request, session, who, *audited, exc)
            return flash.redirect(request, "/pool", "Not recorded: " + exc.detail)
        raise


@router.post("/pool/{vacancy_id}/claim", response_model=None)
def claim_form(
    request: Request,
    session: DB,
    vacancy_id: str,
    state: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    child_id: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Hold or request a pooled vacancy; back to the pool with the outcome."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    claim = _pool_write(
        request,
        session,
        who,
        ("pool_claim", "vacancy", vacancy_id),
        lambda: pool.claim_vacancy(
            session, who, request, vacancy_id, state, reason, child_id.strip() or None
        ),
    )
    if isinstance(claim, Response):
        return claim
    verb = "Held" if claim.state == "held" else "Requested"
    return flash.redirect(
        request,
        "/pool",
        f"{verb}: vacancy {vacancy_id} from {pool.name_of(claim.owner_code)} (request {claim.id}).",
    )


@router.post("/pool/requests/{request_id}", response_model=None)
def move_claim_form(
    request: Request,
    session: DB,
    request_id: int,
    state: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Request a held vacancy, accept a request or release one; back to the pool."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    claim = _pool_write(
        request,
        session,
        who,
        ("pool_move", "request", str(request_id)),
        lambda: pool.move_claim(session, who, request, request_id, state, reason),
    )
    if isinstance(claim, Response):
        return claim
    return flash.redirect(
        request, "/pool", f"Request {claim.id} (vacancy {claim.vacancy_id}) is now {claim.state}."
    )


@router.get("/region", response_class=HTMLResponse)
def region_page(request: Request, session: DB) -> HTMLResponse:
    """A regional commissioner's view: the region's aggregates and its pooled vacancies."""
    who, csrf = _page_user(request, session)
    access.require(who, REGIONAL)
    return render(
        request,
        "region.html",
        who,
        csrf,
        summary=pool.region_summary(session, who),
        vacancies=pool.pooled_vacancies(session, who),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: DB) -> HTMLResponse:
    """The newest audit entries (an officer sees their authorities'; an admin all)."""
    who, csrf = _page_user(request, session)
    entries = actions.audit_entries(session, who, 200)
    return render(request, "audit.html", who, csrf, entries=entries)


@router.get("/forecasts", response_class=HTMLResponse)
def forecasts_page(request: Request, session: DB) -> HTMLResponse:
    """Run a forecast; the forecasts run before; the authority's counts."""
    who, csrf = _page_user(request, session)
    past = actions.list_forecasts(session, who, limit=20)
    return render(
        request,
        "forecasts.html",
        who,
        csrf,
        past=past,
        summary=actions.summary(session, who),
        example=EXAMPLE_FORECAST.read_text(encoding="utf-8"),
        error=None,
    )


@router.post("/forecasts", response_model=None)
async def forecast_form(
    request: Request,
    session: DB,
    config_toml: Annotated[str, Form(max_length=200_000)],
    data_files: Annotated[list[UploadFile] | None, File()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Run the forecast (with the 903 files a stochastic one reads) and show it."""
    who, token = _page_user(request, session)
    _check_csrf(request, csrf)
    files = {
        Path(f.filename).name: (await f.read()).decode("utf-8-sig")
        for f in data_files or []
        if f.filename
    }
    try:
        f = actions.run_forecast(session, who, request, config_toml, files)
    except ProblemError as exc:
        if exc.status != 422:
            raise
        session.rollback()
        _refused(request, session, who, "forecast", "forecast", "", exc)
        return render(
            request,
            "forecasts.html",
            who,
            token,
            status_code=422,
            past=[],
            summary=actions.summary(session, who),
            example=config_toml,
            error=exc.detail,
        )
    return RedirectResponse(f"/forecasts/{f.id}", status_code=303)


@router.get("/forecasts/{forecast_id}", response_class=HTMLResponse)
def forecast_page(request: Request, session: DB, forecast_id: int) -> HTMLResponse:
    """A forecast's table and charts."""
    who, csrf = _page_user(request, session)
    f = access.visible_forecast(session, who, forecast_id)
    return render(
        request,
        "forecast.html",
        who,
        csrf,
        forecast=f,
        result=f.result,
        charts=Markup(f.charts_svg),
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, session: DB) -> HTMLResponse:
    """Users: create, enable, disable (admins)."""
    who, csrf = _page_user(request, session)
    users = [
        {**u, "authorities": ", ".join(u["authorities"]) or "-"}
        for u in actions.list_users(session, who)
    ]
    message = flash.take(request, auth.server_secret(session))
    page = render(request, "users.html", who, csrf, users=users, roles_list=ROLES, message=message)
    return flash.shown(page) if message else page


@router.post("/users")
def users_form(
    request: Request,
    session: DB,
    username: Annotated[str, Form(max_length=64)],
    action: Annotated[str, Form(max_length=16)] = "create",
    password: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    authorities: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Create, enable or disable a user; back to the list with the outcome."""
    who, _ = _page_user(request, session)
    _check_csrf(request, csrf)
    access.require(who, ADMIN)
    try:
        if action == "create":
            names = [a.strip() for a in authorities.split(",") if a.strip()]
            user = actions.create_user(session, who, request, username, password, role, names)
            message = f"Added {user['username']}."
        elif action in ("enable", "disable"):
            if username == who.username:
                raise auth.UserError("username: you cannot change your own user here")
            user = actions.set_user_active(session, who, request, username, action == "enable")
            message = f"{user['username']} is now {'enabled' if user['active'] else 'disabled'}."
        else:
            raise auth.UserError("action: expected create, enable or disable")
    except auth.UserError as exc:
        session.rollback()
        _refused(request, session, who, action[:32], "user", username, exc)
        message = f"Not done: {exc}"
    return flash.redirect(request, "/users", message)
