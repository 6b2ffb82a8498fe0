"""Helpers and fixtures for the service tests (conftest.py imports the fixtures): real stores
(SQLite always, PostgreSQL when given), users.

PostgreSQL runs when ``PLACEMATCH_TEST_POSTGRES_URL`` names a server (``.ci/postgres.sh``
starts one); each store is a fresh database, dropped afterwards. With ``CI=true`` and no URL
the PostgreSQL tests FAIL instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"
ESSEX = "E10000012"
THURROCK = "E06000034"
PASSWORD = "correct horse battery"
#: Users made in every store: name -> (role, authorities).
USERS: dict[str, tuple[str, list[str]]] = {
    "officer": ("placement_officer", [ESSEX]),
    "officer_thurrock": ("placement_officer", [THURROCK]),
    "commissioner": ("commissioner", [ESSEX]),
    "commissioner_thurrock": ("commissioner", [THURROCK]),
    "admin": ("admin", []),
}
#: Personal data of the demo children that must never appear in an error or a log.
PERSONAL = ("CM2 0HU", "CO4 3SQ", "SS14 1DL", "RM17 6SL", "CM20 1WG", "Pashto", "pashto", "Islam")

BACKENDS = ["sqlite", "postgresql"]


def in_ci() -> bool:
    """Whether this run is CI (``CI=true``): missing services then fail, not skip."""
    return os.environ.get("CI", "").lower() == "true"


def need(what: str, hint: str) -> None:
    """Fail in CI, skip with the reason elsewhere."""
    if in_ci():
        pytest.fail(f"CI=true but {what} is missing: {hint}")
    pytest.skip(f"{what} is missing ({hint}); CI fails here instead of skipping")


@contextmanager
def store_url(backend: str, tmp: Path, template: str | None = None) -> Iterator[str]:
    """A fresh store of the backend: empty, or a copy of ``template`` (a store URL)."""
    if backend == "sqlite":
        path = tmp / f"store-{uuid.uuid4().hex[:8]}.sqlite3"
        if template is not None:
            shutil.copyfile(template.removeprefix("sqlite:///"), path)
        yield f"sqlite:///{path}"
        return
    base = os.environ.get("PLACEMATCH_TEST_POSTGRES_URL")
    if not base:
        need("PostgreSQL", 'set PLACEMATCH_TEST_POSTGRES_URL, e.g. eval "$(bash .ci/postgres.sh)"')
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from placematch.service.db import normalise_url

    admin_url = normalise_url(base)
    name = f"pm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copy = "" if template is None else f' TEMPLATE "{make_url(template).database}"'
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def add_users(url: str) -> None:
    """Create :data:`USERS` in the store."""
    from placematch.service import auth, db

    engine = db.connect(url)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        for name, (role, authorities) in USERS.items():
            auth.add_user(session, name, PASSWORD, role, authorities)
        session.commit()
    engine.dispose()


def load_demo(url: str) -> None:
    """Load examples/demo into the store."""
    from placematch.service import db, store

    engine = db.connect(url)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        store.load_path(session, DEMO)
        session.commit()
    engine.dispose()


@dataclass
class Service:
    """A running app (TestClient) on a real store, with a bearer token per user."""

    url: str
    app: Any
    client: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def h(self, user: str) -> dict[str, str]:
        """The Authorization header of a user."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@contextmanager
def running(url: str, setup: Callable[[Any], object] | None = None) -> Iterator[Service]:
    """The app on the store, users signed in; ``setup(app)`` first, if given (a middleware
    must be added before the app serves)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from placematch.service import auth
    from placematch.service.app import create_app
    from placematch.service.models import User

    app = create_app(url)
    if setup is not None:
        setup(app)
    with TestClient(app) as client:
        service = Service(url, app, client)
        # Tokens straight from the store: argon2 is slow on purpose, and the password path
        # has its own tests.
        with app.state.sessions() as session:
            for name in USERS:
                user = session.scalar(select(User).where(User.username == name))
                service.tokens[name] = auth.issue_token(session, user, "api")[0]
            session.commit()
        yield service
    app.state.jobs.shutdown(wait=True, cancel_futures=True)
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Per backend, a store with the users and the demo folder: built once, then copied."""
    with contextlib.ExitStack() as stack:
        built: dict[str, str] = {}

        def template(backend: str) -> str:
            if backend not in built:
                url = stack.enter_context(store_url(backend, tmp_path_factory.mktemp("tmpl")))
                add_users(url)
                load_demo(url)
                built[backend] = url
            return built[backend]

        yield _Lazy(template)


class _Lazy(dict[str, str]):
    """A dict that builds a missing value on first use."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: str) -> str:
        value: str = self.make(key)
        self[key] = value
        return value


@pytest.fixture(scope="module", params=BACKENDS)
def service(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    demo_templates: dict[str, str],
) -> Iterator[Service]:
    """One demo store per module and backend."""
    backend = request.param
    tmp = tmp_path_factory.mktemp("store")
    with store_url(backend, tmp, demo_templates[backend]) as url, running(url) as s:
        yield s


@pytest.fixture(params=BACKENDS)
def fresh(
    request: pytest.FixtureRequest, tmp_path: Path, demo_templates: dict[str, str]
) -> Iterator[Service]:
    """A demo store of its own, for tests that change a lot."""
    backend = request.param
    with store_url(backend, tmp_path, demo_templates[backend]) as url, running(url) as s:
        yield s


@pytest.fixture
def fresh_sqlite(tmp_path: Path, demo_templates: dict[str, str]) -> Iterator[Service]:
    """A demo store of its own on SQLite only (the fuzz and the browser: the storage and API
    tests cover PostgreSQL)."""
    with store_url("sqlite", tmp_path, demo_templates["sqlite"]) as url, running(url) as s:
        yield s


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL of each backend."""
    with store_url(request.param, tmp_path) as url:
        yield url


@contextmanager
def live(app: object) -> Iterator[str]:
    """Serve the app with uvicorn on a free local port; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", workers=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
