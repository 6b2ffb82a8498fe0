"""Where the store lives, connecting to it, and migrating it (Alembic, upgrade on start).

With no URL the store is an SQLite file ``placematch.sqlite3`` in the data folder:
``$PLACEMATCH_DATA`` if set, else ``$XDG_DATA_HOME/placematch``, else
``~/.local/share/placematch``. A ``postgresql://`` URL uses PostgreSQL through psycopg 3.
Migrations only ever add: there is no downgrade, and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: Name of the SQLite file in the data folder.
SQLITE_FILE = "placematch.sqlite3"


def data_folder() -> Path:
    """The folder of the default SQLite store (not created here)."""
    if os.environ.get("PLACEMATCH_DATA"):
        return Path(os.environ["PLACEMATCH_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "placematch"


def default_url() -> str:
    """The SQLite URL of the default store."""
    return f"sqlite:///{data_folder() / SQLITE_FILE}"


def normalise_url(url: str | None) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3; ``None`` is the default store.

    Raises
    ------
    ValueError
        For a URL of any other database.
    """
    if url is None:
        return default_url()
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError; the URL may hold a password
        raise ValueError(
            "--db: not a database URL; expected sqlite:///PATH or postgresql://…"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise ValueError(f"--db: {backend} is not supported; expected sqlite:///PATH or postgresql://…")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while a decision is written; the busy timeout makes a second
    # writer wait for the first instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL syncs the log at each checkpoint, not at each commit: a commit then
    # costs no fsync (FULL's took 5-8 ms, the largest part of a kept ranking's answer, whose
    # audit entry is a commit). The store stays consistent whatever happens, and a crash of
    # the server loses nothing; a power cut or a crash of the machine may undo the last
    # commits since the last checkpoint (SQLite's documented trade-off). Use PostgreSQL
    # where that is not acceptable.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _no_checkpoint_in_commits(dbapi_connection: Any, _record: Any) -> None:
    # The server's commits no longer checkpoint at SQLite's 1,000 pages: its checkpointing
    # thread does (Checkpointer). Only past this many does a commit still do it itself,
    # should that thread ever fall behind.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    # The log file is cut back to nothing when it starts again after a checkpoint (rather
    # than reused at its largest size), so that its size says how much it holds.
    cursor.execute("PRAGMA journal_size_limit=0")
    cursor.close()


def connect(url: str | None = None) -> Engine:
    """An engine for the store (creating the SQLite file's folder if needed)."""
    full = normalise_url(url)
    parsed = make_url(full)
    if parsed.get_backend_name() == "sqlite":
        pool: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # A connection per request thread kept open (the thread pool has 40): past the
            # default pool of 5, each request opened a new connection and ran the pragmas.
            pool = {"pool_size": 40, "max_overflow": 10}
        engine = create_engine(
            full, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(full, pool_pre_ping=True)


#: Pages of write-ahead log after which the checkpointing thread of a server
#: (:class:`Checkpointer`) copies it into the database: SQLite's own default for a commit,
#: so that the log is synced to disk as often as before.
CHECKPOINT_PAGES = 1000
#: Pages after which a commit checkpoints all the same (SQLite's ``wal_autocheckpoint``)
#: where a checkpointing thread runs: only if that thread fell this far behind.
BACKSTOP_PAGES = 10 * CHECKPOINT_PAGES
#: Seconds between two looks at the log's size.
CHECKPOINT_EVERY = 0.1


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file of the store, or ``None`` (PostgreSQL, or SQLite in memory)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


class _Pending:
    """One row to insert, and, once the writer is done with it, its error (if any)."""

    __slots__ = ("done", "error", "statement", "values")

    def __init__(self, statement: Any, values: dict[str, Any]) -> None:
        self.statement, self.values = statement, values
        self.done = threading.Event()
        self.error: BaseException | None = None


class _Writer(threading.Thread):
    """The thread that commits the rows of :func:`insert_committed` on one SQLite file, many
    in one transaction, one process of a server at a time (``flock`` on a file beside the
    store, ``…-writer.lock``; never the store's own file, since closing a descriptor of it
    would drop the locks SQLite holds on it in this process)."""

    def __init__(self, engine: Engine, store: Path) -> None:
        super().__init__(daemon=True, name="placematch-writer")
        self.engine = engine
        self.rows: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        # Read-only is enough to lock it; OSError if it can be neither made nor read.
        path = store.with_name(store.name + "-writer.lock")
        self.handle = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)

    def run(self) -> None:
        handle = self.handle
        try:
            while True:
                try:
                    first = self.rows.get(timeout=WRITER_IDLE)
                except queue.Empty:
                    with _writers_guard:  # no row can come in between: it is put under it
                        if self.rows.empty():
                            del _writers[self.engine]
                            return
                    continue
                batch = [first]
                while True:
                    try:
                        batch.append(self.rows.get_nowait())
                    except queue.Empty:
                        break
                try:
                    self._write(handle, batch)
                except BaseException as exc:  # never leave a request waiting
                    self._abandon(batch, exc)
                    raise
        finally:
            os.close(handle)

    def _abandon(self, batch: list[_Pending], exc: BaseException) -> None:
        """On the way out of a writer that cannot go on: no later row is queued to it (the
        next starts another writer), and every row it holds fails with ``exc``."""
        with _writers_guard:
            if _writers.get(self.engine) is self:
                del _writers[self.engine]
            while True:
                try:
                    batch.append(self.rows.get_nowait())
                except queue.Empty:
                    break
        for pending in batch:
            if not pending.done.is_set():
                pending.error = exc
                pending.done.set()

    def _write(self, handle: int, batch: list[_Pending]) -> None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                with self.engine.begin() as connection:
                    for statement in dict.fromkeys(p.statement for p in batch):
                        rows = [p.values for p in batch if p.statement is statement]
                        connection.execute(statement, rows)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        except Exception as exc:
            if len(batch) > 1:  # each row again on its own: one bad row fails only itself
                for pending in batch:
                    self._write(handle, [pending])
                return
            batch[0].error = exc
        for pending in batch:
            pending.done.set()


#: Seconds a writer thread waits for a row before it ends (the next row starts another).
WRITER_IDLE = 5.0
_writers: dict[Engine, _Writer] = {}
_writers_guard = threading.Lock()


def _forget_writers() -> None:
    """In a child made by ``fork``: the parent's writer threads are not there."""
    global _writers_guard
    _writers.clear()
    _writers_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_writers)


def insert_committed(session: Session, statement: Any, values: dict[str, Any]) -> bool:
    """Insert one row and commit it, on an SQLite file, with the rows other requests insert
    at the same time; whether it was done here (``False``: the caller inserts it itself).

    SQLite lets one connection write at a time, and one that finds another writing sleeps
    and tries again 1, 2, 5, 10 … 100 ms later (its busy handler): with 20 clients a
    server's audit entries, one per read, waited up to a second for each other, although
    each takes a fraction of a millisecond. Here a thread per store and process writes the
    rows that have come in, many in one transaction, while each request waits until its own
    row is committed: the answer is still sent only once its audit entry is in the store.

    Done only when the session has nothing of its own to commit (it is not writing and holds
    no changed objects), so that the row is committed alone as it would have been; on
    PostgreSQL (which queues its writers itself) and an in-memory SQLite store never.

    Raises
    ------
    Exception
        The error of the row's insert or commit, as the caller's own would have raised it.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    store = sqlite_file(engine)
    if store is None or session.new or session.dirty or session.deleted:
        return False
    dbapi = session.connection().connection.dbapi_connection
    if dbapi is None or dbapi.in_transaction:
        return False
    pending = _Pending(statement, values)
    with _writers_guard:
        writer = _writers.get(engine)
        if writer is None:
            try:
                writer = _Writer(engine, store)
            except OSError:  # no lock file beside the store: the caller writes it itself
                return False
            _writers[engine] = writer
            writer.start()
        writer.rows.put(pending)
    pending.done.wait()
    if pending.error is not None:
        raise pending.error
    return True


class LoopWriter:
    """Commits the rows of the requests answered on an event loop, in that loop's own thread.

    :func:`insert_committed` hands a row to a writer thread and waits: three hand-overs of
    Python's interpreter lock between threads per entry, and with a dozen request threads
    busy in a process each hand-over could wait up to the interpreter's switch interval (5
    ms) for its turn. That was most of a kept ranking's time in the server with 20 clients
    (the entry's wait 5 ms at the median, up to 50 ms; the request's own work 0.5 ms of CPU).
    A kept ranking is now answered on the event loop itself (``api.rank``), and its entry is
    committed here, on the loop, with the entries of every other request that reached its
    audit in the same turn of the loop: one transaction, then each request's answer.

    The processes of a server take turns through the lock file of :class:`_Writer` (which a
    request thread's entries still use): tried without waiting, and tried again
    :data:`RETRY` seconds later while another holds it, so that the loop never sleeps on it.
    """

    #: Seconds before trying the lock file again while another writer holds it (uvloop's
    #: timers count whole milliseconds: a shorter wait is none, and the loop tried the lock
    #: on every turn, ten thousand times in a phase of the benchmark, taking a core's time).
    RETRY = 0.001

    def __init__(self, engine: Engine, store: Path) -> None:
        self.engine = engine
        path = store.with_name(store.name + "-writer.lock")
        self.handle = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)  # OSError if not
        weakref.finalize(self, os.close, self.handle)
        # per event loop (one in a server process; tests may run several in turn)
        self.rows: dict[asyncio.AbstractEventLoop, list[_Row]] = {}

    def insert(self, statement: Any, values: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a row on the running loop; the future is done once the row is committed
        (or holds the error of its insert or commit)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        rows = self.rows.setdefault(loop, [])
        if not rows:  # the first of this turn: the write is scheduled
            loop.call_soon(self._write_due, loop)
        rows.append((statement, values, done))
        return done

    def _write_due(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process (or thread) is writing
            loop.call_later(self.RETRY, self._write_due, loop)
            return
        except OSError as exc:  # never leave a request waiting
            failed = self.rows.pop(loop, [])
            self._settle(failed, [exc] * len(failed))
            return
        batch = self.rows.pop(loop, [])
        try:
            errors = self._write(batch)
        except BaseException as exc:  # never leave a request waiting
            self._settle(batch, [exc] * len(batch))
            raise
        finally:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
        self._settle(batch, errors)

    @staticmethod
    def _settle(batch: list[_Row], errors: list[BaseException | None]) -> None:
        for (_, _, done), error in zip(batch, errors, strict=True):
            if done.done():  # its request was cancelled; the row is committed all the same
                continue
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    def _write(self, batch: list[_Row]) -> list[BaseException | None]:
        """Commit the rows in one transaction; each row's error (``None``: committed)."""
        try:
            with self.engine.begin() as connection:
                for statement in dict.fromkeys(row[0] for row in batch):
                    connection.execute(statement, [v for s, v, _ in batch if s is statement])
        except Exception as exc:
            if len(batch) == 1:
                return [exc]
            # each row again on its own: one bad row fails only itself
            return [self._write([row])[0] for row in batch]
        return [None] * len(batch)


#: A row for :class:`LoopWriter`: its statement, its values, and the future of its request.
_Row = tuple[Any, dict[str, Any], "asyncio.Future[None]"]
# Per engine (weakly: a closed store's writer goes with it, and its lock file is closed).
_loop_writers: weakref.WeakKeyDictionary[Engine, LoopWriter | None] = weakref.WeakKeyDictionary()


def loop_writer(engine: Engine) -> LoopWriter | None:
    """The :class:`LoopWriter` of the store; ``None`` where rows are not committed that way
    (PostgreSQL, which queues its writers itself; SQLite in memory; a store beside which no
    lock file can be made). Called on the event loop's thread only."""
    if engine not in _loop_writers:
        store = sqlite_file(engine)
        writer = None
        if store is not None:
            try:
                writer = LoopWriter(engine, store)
            except OSError:
                writer = None
        _loop_writers[engine] = writer
    return _loop_writers[engine]


class Checkpointer(threading.Thread):
    """Copies a server's SQLite write-ahead log into the database outside any request.

    SQLite checkpoints in the commit that takes the log past 1,000 pages: with every read
    audited, about every 1,000th answer waited for it (the copy and two syncs to disk).
    Here a thread of the server does it, at the same size (:data:`CHECKPOINT_PAGES`), so the
    log reaches the disk as often as before, and commits only do it past
    :data:`BACKSTOP_PAGES`. A checkpoint copies rows already committed to the log into the
    database file; it never holds up a reader or a writer and never drops a row.
    """

    def __init__(self, engine: Engine, every: float = CHECKPOINT_EVERY) -> None:
        super().__init__(daemon=True, name="placematch-checkpoint")
        store = sqlite_file(engine)
        if store is None:
            raise ValueError("only an SQLite file has a write-ahead log to checkpoint")
        self.engine = engine
        self.wal = store.with_name(store.name + "-wal")
        self.every = every
        self.stopping = threading.Event()
        self.checkpoints = 0  # checkpoints run by this thread
        event.listen(engine, "connect", _no_checkpoint_in_commits)
        # the connections opened before (the start's) checkpoint in their commits no more
        engine.dispose()
        with engine.connect() as connection:
            self.page_size = int(connection.exec_driver_sql("PRAGMA page_size").scalar_one())

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            try:
                self.checkpoint_if_due()
            except Exception as exc:  # the next look all the same; commits are the backstop
                # the service's log (errors.log), by name: this module imports no other
                logging.getLogger("placematch.service").error(
                    "checkpointing the store failed: %s", type(exc).__name__
                )

    def stop(self) -> None:
        self.stopping.set()

    def checkpoint_if_due(self) -> bool:
        """Checkpoint if the log holds :data:`CHECKPOINT_PAGES` pages or more; whether it did."""
        try:
            size = self.wal.stat().st_size
        except FileNotFoundError:
            return False
        if size < CHECKPOINT_PAGES * self.page_size:
            return False
        with self.engine.connect() as connection:
            # PASSIVE: as far as no reader still needs, never waiting (as a commit's own).
            connection.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).all()
        self.checkpoints += 1
        return True


def migrations_folder() -> Path:
    """The Alembic scripts shipped inside the package."""
    return Path(__file__).parent / "migrations"


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    return config


class StoreUnavailableError(OSError):
    """The store cannot be opened or migrated: said in one line, without a password."""


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"the SQLite file {url.database}"
    return f"PostgreSQL at {url.host or 'the local socket'}:{url.port or 5432}/{url.database}"


def migrate(engine: Engine) -> str:
    """Upgrade the store to the newest schema (idempotent); return the revision it is at.

    Raises
    ------
    StoreUnavailableError
        When the database does not answer, is not a database, or holds a schema newer than
        this placematch knows (it is never downgraded).
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        # The driver's first line says why (refused, no such database, not a database);
        # the URL's password is never in it.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        raise StoreUnavailableError(
            f"cannot open the store, {_where(engine)}: {reason or type(exc).__name__}"
        ) from None
    except CommandError:
        raise StoreUnavailableError(
            f"the store, {_where(engine)}, has a schema this placematch does not know "
            f"(newest known: {head_revision()}); upgrade placematch: a schema is never "
            "downgraded"
        ) from None
    return str(revision)


def head_revision() -> str:
    """The newest migration shipped."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return str(head)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the engine (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
