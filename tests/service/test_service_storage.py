"""The store: migrations (upgrade on start, idempotent, never lose data, schema = models),
the append-only audit log, loading case folders (nothing stored from a rejected one).
On SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from servicekit import DEMO
from sqlalchemy import func, inspect, select, text

from matcher.casefolder import load_case_folder
from matcher.problems import CaseFolderError
from placematch.service import auth, db, store
from placematch.service.models import AuditEntry, Base, ChildRecord, VacancyRecord


def test_migrate_creates_every_table_and_matches_the_models(empty_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = db.connect(empty_url)
    assert db.migrate(engine) == db.head_revision() == "0005"
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Indexes and types may be spelt differently; no table or column may be missing.
    assert not [d for d in diff if d[0] in ("add_table", "add_column", "remove_column")], diff
    engine.dispose()


def test_migrating_again_keeps_the_data(empty_url: str) -> None:
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        store.load_path(s, DEMO)
        auth.add_user(s, "keeper", "password123", "admin", [])
        s.commit()
    engine.dispose()
    again = db.connect(empty_url)
    assert db.migrate(again) == db.head_revision()
    with db.session_factory(again)() as s:
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        assert s.scalar(select(func.count()).select_from(VacancyRecord)) == 16
        assert auth.authenticate(s, "keeper", "password123") is not None
        assert auth.authenticate(s, "keeper", "wrong-password") is None
    again.dispose()


def test_downgrade_is_refused(empty_url: str) -> None:
    from alembic import command

    engine = db.connect(empty_url)
    db.migrate(engine)
    config = db._alembic_config()
    with engine.begin() as connection, pytest.raises(NotImplementedError, match="lose data"):
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()


def test_audit_log_is_append_only_in_the_database(empty_url: str) -> None:
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        s.add(
            AuditEntry(
                username="u",
                role="admin",
                action="read",
                resource="child",
                resource_id="C01",
                client="here",
                reason="",
                outcome="ok",
            )
        )
        s.commit()
    for statement in ("UPDATE audit_log SET reason = 'changed'", "DELETE FROM audit_log"):
        with db.session_factory(engine)() as s:
            with pytest.raises(Exception, match="append-only"):
                s.execute(text(statement))
                s.commit()
            s.rollback()
    with db.session_factory(engine)() as s:
        assert [e.reason for e in s.scalars(select(AuditEntry))] == [""]
    engine.dispose()


def test_load_round_trips_the_case_folder(empty_url: str) -> None:
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        report = store.load_path(s, DEMO)
        s.commit()
        assert (report.children_added, report.vacancies_added) == (12, 16)
        assert store.stored_folder(s) == load_case_folder(DEMO)
        # Loading again replaces by id: nothing added, nothing lost.
        again = store.load_path(s, DEMO)
        s.commit()
        assert (again.children_added, again.children_updated) == (0, 12)
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 12
        codes = dict(s.execute(select(ChildRecord.child_id, ChildRecord.authority_code)).all())
        assert codes["C10"] == "E06000034" and codes["C12"] == "E06000033"
        assert codes["C01"] == "E10000012"
    engine.dispose()


def test_rejected_folder_stores_nothing(empty_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DEMO, bad)
    lines = (bad / "children.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",9,M,", ",99,M,")  # C02's age
    lines[5] = lines[5].replace(",13,F,", ",13,Z,")  # C05's sex
    (bad / "children.csv").write_text("\n".join(lines) + "\n")
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        with pytest.raises(CaseFolderError) as info:
            store.load_path(s, bad)
        s.rollback()
        where = [(p.line, p.field) for p in info.value.problems]
        assert where == [(3, "age"), (6, "sex")]
        assert s.scalar(select(func.count()).select_from(ChildRecord)) == 0
        assert s.scalar(select(func.count()).select_from(VacancyRecord)) == 0
    engine.dispose()


def test_normalise_url() -> None:
    assert db.normalise_url("postgresql://u@h/d").startswith("postgresql+psycopg://")
    assert db.normalise_url("sqlite:////tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"
    with pytest.raises(ValueError, match="not supported"):
        db.normalise_url("mysql://u@h/d")
    with pytest.raises(ValueError, match="not a database URL"):
        db.normalise_url("::::")


def test_default_store_is_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLACEMATCH_DATA", str(tmp_path / "data"))
    assert db.default_url() == f"sqlite:///{tmp_path / 'data' / 'placematch.sqlite3'}"
    engine = db.connect(None)
    db.migrate(engine)
    assert (tmp_path / "data" / "placematch.sqlite3").exists()
    engine.dispose()
    monkeypatch.delenv("PLACEMATCH_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert db.data_folder() == tmp_path / "xdg" / "placematch"


def test_passwords_are_argon2_and_users_checked(empty_url: str) -> None:
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        user = auth.add_user(s, "ann", "a good password", "commissioner", ["881"])
        assert user.password_hash.startswith("$argon2id$")
        assert "a good password" not in user.password_hash
        assert auth.principal_for(s, user).authorities == ("E10000012",)
        for args, field in [
            (("bad name", "a good password", "admin", []), "username"),
            (("bob", "short", "admin", []), "password"),
            (("bob", "a good password", "king", []), "role"),
            (("bob", "a good password", "commissioner", []), "authority"),
            (("bob", "a good password", "commissioner", ["Atlantis"]), "authority"),
            (("ann", "a good password", "admin", []), "username"),
        ]:
            with pytest.raises(auth.UserError, match=f"^{field}:"):
                auth.add_user(s, *args)
    engine.dispose()


def test_record_decision_is_atomic_between_two_sessions(empty_url: str) -> None:
    """Straight at the store (no eligibility check first): many pairs of threads race for
    one-bed vacancies; the conditional update lets exactly one of each pair through."""
    import threading

    engine = db.connect(empty_url)
    db.migrate(engine)
    factory = db.session_factory(engine)
    with factory() as s:
        store.load_path(s, DEMO)
        user = auth.add_user(s, "o", "password123", "placement_officer", ["Essex"])
        s.commit()
        uid = user.id
        codes = dict(s.execute(select(ChildRecord.child_id, ChildRecord.authority_code)).all())
    # V03, V04, V07, V10 and V16 have one bed each; C-children race in pairs for them.
    races = [("V03", "C01", "C11"), ("V07", "C07", "C12"), ("V16", "C06", "C03")]
    for vacancy, a, b in races:
        barrier = threading.Barrier(2)
        outcome: dict[str, str] = {}

        def go(
            child: str,
            vacancy: str = vacancy,
            barrier: threading.Barrier = barrier,
            outcome: dict[str, str] = outcome,
        ) -> None:
            with factory() as s:
                barrier.wait()
                try:
                    store.record_decision(s, codes[child], child, vacancy, uid, "race")
                    outcome[child] = "ok"
                except store.ConflictError as exc:
                    outcome[child] = str(exc)

        threads = [threading.Thread(target=go, args=(c,)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(v == "ok" for v in outcome.values()) == [False, True], outcome
        loser = next(v for v in outcome.values() if v != "ok")
        assert loser == f"vacancy {vacancy} has no free bed left: another decision has taken it"
    with factory() as s:
        for vacancy, _, _ in races:
            v = store.vacancy_record(s, vacancy)
            assert v is not None and v.beds_taken == 1
        from placematch.service.models import Decision

        assert s.scalar(select(func.count()).select_from(Decision)) == len(races)
        placed = s.scalar(
            select(func.count()).select_from(ChildRecord).where(ChildRecord.status == "placed")
        )
        assert placed == len(races)
    engine.dispose()


def test_residents_are_checked_and_reported_as_not_stored(empty_url: str) -> None:
    # The service does not keep residents.csv yet: loading a folder with one stores the
    # children (with their risk flags) and vacancies (with the risks they manage) and says,
    # as a warning, that the residents were not stored.
    residents = Path(__file__).resolve().parents[1] / "data" / "casefolders" / "residents"
    engine = db.connect(empty_url)
    db.migrate(engine)
    with db.session_factory(engine)() as s:
        report = store.load_path(s, residents)
        s.commit()
        notes = [w for w in report.warnings if w.file == "residents.csv"]
        assert len(notes) == 1 and "5 resident(s) checked but not stored" in notes[0].message
        stored = store.stored_folder(s)
        loaded = load_case_folder(residents)
        assert stored.residents == ()
        assert stored.child("C07").risk_flags == loaded.child("C07").risk_flags
        assert stored.vacancy("V11").manages == loaded.vacancy("V11").manages
        assert "warnings" in report.to_dict()
    engine.dispose()


def test_uploads_and_edits_are_checked_in_memory(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows and uploaded files are checked as a case folder without being written to a
    # temporary folder first; the problems are those of the files (file, line, field).
    import tempfile

    engine = db.connect(empty_url)
    db.migrate(engine)

    def no_temporary_folder(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary folder was made")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_temporary_folder)
    monkeypatch.setattr(tempfile, "mkdtemp", no_temporary_folder)
    with db.session_factory(engine)() as s:
        store.load_path(s, DEMO)
        s.commit()
        child = dict(store.stored_rows(s)[0][0])
        header = ",".join(child) + "\n"
        new = {**child, "child_id": "N1"}
        upload = (header + ",".join(new.values()) + "\n").encode("utf-8")
        report = store.load_files(s, {"children.csv": upload}, owner=child["la"])
        assert report.children_added == 1
        bad = (header + ",".join({**new, "age": "99"}.values()) + "\n").encode("utf-8")
        with pytest.raises(CaseFolderError) as info:
            store.load_files(s, {"children.csv": bad}, owner=child["la"])
        assert [(p.file, p.line, p.field) for p in info.value.problems] == [
            ("children.csv", 2, "age")
        ]
        s.rollback()
        created = store.put_record(
            s, "child", {**child, "child_id": "N2"}, owner=child["la"], allowed=[child["la"]]
        )
        assert created
        s.commit()
    engine.dispose()
