"""A pooled store for the regional tests: three authorities of the East of England, their
children and vacancies (some offered to the pool, one kept back), Thurrock's own policy
(own carers first), and a regional commissioner of the region.

The folder is ``tests/data/casefolders/pooled`` with a policy.toml and one more vacancy,
Thurrock's TV2, that Thurrock keeps for its own children.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servicekit import Service, add_users, running, store_url

POOLED = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "pooled"
ESSEX, THURROCK, SOUTHEND = "E10000012", "E06000034", "E06000033"
REGION = "East of England"
#: Thurrock's children score its own in-house carers first; Essex's do not.
POLICY = """\
[authority."Thurrock"]
own_carers_first = true
"""
#: Thurrock's vacancy kept for its own children (offered_to_pool = false).
KEPT = "TV2,TP2,inhouse_foster,RM17 6SL,1,0,17,any,,good,500,Thurrock,false\n"
#: The regional commissioner's user name (made in every pooled store).
RC = "regional"


def pooled_folder(tmp: Path) -> Path:
    """A copy of the pooled test folder with :data:`POLICY` and :data:`KEPT`."""
    folder = tmp / "pooled"
    shutil.copytree(POOLED, folder)
    with (folder / "vacancies.csv").open("a", encoding="utf-8") as fh:
        fh.write(KEPT)
    (folder / "policy.toml").write_text(POLICY, encoding="utf-8")
    return folder


@contextmanager
def pooled_service(backend: str, tmp: Path) -> Iterator[Service]:
    """A running service on a fresh pooled store, with the users of ``servicekit`` and the
    regional commissioner :data:`RC` signed in."""
    from sqlalchemy import select

    from placematch.service import auth, db, store
    from placematch.service.models import User

    with store_url(backend, tmp) as url:
        add_users(url)
        engine = db.connect(url)
        with db.session_factory(engine)() as session:
            store.load_path(session, pooled_folder(tmp))
            auth.add_user(
                session, RC, "correct horse battery", "regional_commissioner", [], region=REGION
            )
            session.commit()
        engine.dispose()
        with running(url) as service:
            with service.app.state.sessions() as session:
                user = session.scalar(select(User).where(User.username == RC))
                service.tokens[RC] = auth.issue_token(session, user, "api")[0]
                session.commit()
            yield service
