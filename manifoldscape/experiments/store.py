"""The SQLite store of a sweep: one file, one sweep definition, one row per finished trial.

A phase-transition study (seed 000, "m = O(n) equations are sufficient" and "random
initialization works"; seed 003 §2.2) is tens of thousands of solves; the store keeps every
finished trial and nothing else, so an interrupted sweep resumes without losing or repeating one.

* stdlib ``sqlite3`` in WAL mode with ``synchronous=NORMAL``: each trial is one committed
  transaction, durable once ``add`` returns even if the process is killed (SIGKILL) right after;
* every write is an explicit ``BEGIN IMMEDIATE`` transaction: creating the schema, migrating it,
  binding the definition and adding a trial each take the file's write lock first and look at
  what is stored *inside* that lock, so two processes racing on one fresh file create one
  schema and store one definition — the other gets a ``StoreError`` naming the stored sweep;
* a ``schema_version`` table: a file written by newer code (a higher version) is refused, an
  older one is migrated in one transaction (version 1 → 2 adds ``morse_nondegenerate``, NULL for
  the trials stored before); a reader (``readonly=True``) reads any version without changing it;
* a file that is not a manifoldscape store — not SQLite at all, a damaged database, another
  program's tables, contents edited by hand (a definition of the wrong shape, a trial column
  holding text) — is refused with a ``StoreError`` before anything is written to it, so its
  bytes stay as they were;
* storage failures are ``StoreError``s too: a read-only file or directory is refused before the
  first trial runs (``readonly=True`` reads it, falling back to SQLite's ``immutable`` mode when
  not even the ``-shm`` file can be made), a full disk stops the sweep with every trial committed
  before it kept, and a file whose creation failed half-way is removed;
* one sweep definition per file: ``bind`` records it (a hash of its canonical JSON) on first
  use and refuses a different one, naming what differs;
* trials are keyed by (definition hash, grid point, trial index): ``INSERT OR IGNORE`` keeps the
  first copy of a trial if one is ever delivered twice; ``add(..., replace_error=True)`` replaces
  a stored error (``sweep --retry-errors``).

Export with ``to_dataframe`` (pandas) or ``to_csv`` (stdlib ``csv``).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS",
    "DETERMINISTIC_COLUMNS",
    "SCHEMA_VERSION",
    "StoreError",
    "SweepStore",
    "canonical_json",
    "check_definition",
    "definition_hash",
    "open_store",
]

SCHEMA_VERSION = 2
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_S = 30.0

#: the columns of a trial, in order, with their SQL types
COLUMNS: dict[str, str] = {
    "sweep": "TEXT NOT NULL",
    "point": "TEXT NOT NULL",  # canonical JSON of the grid values of this grid point
    "trial": "INTEGER NOT NULL",
    "point_index": "INTEGER NOT NULL",
    "problem_seed": "INTEGER",
    "solver_seed": "INTEGER",
    "success": "INTEGER",
    "distance": "REAL",
    "verdict": "TEXT",
    "hessian_index": "INTEGER",
    "index_exact": "INTEGER",
    "min_eigenvalue": "REAL",
    "symmetry_dimension": "INTEGER",
    "null_dimension": "INTEGER",
    "morse_nondegenerate": "INTEGER",  # schema version 2; NULL in trials stored before
    "cost": "REAL",
    "start_cost": "REAL",
    "truth_cost": "REAL",
    "gradient_norm": "REAL",
    "iterations": "INTEGER",
    "cost_evaluations": "INTEGER",
    "gradient_evaluations": "INTEGER",
    "hessian_evaluations": "INTEGER",
    "stop_reason": "TEXT",
    "error": "TEXT",
    "traceback": "TEXT",
    "build_time": "REAL",
    "solve_time": "REAL",
    "certify_time": "REAL",
    "trial_time": "REAL",
    "worker": "TEXT",
}
#: the columns that a trial's key and seed determine: equal, bit for bit, whichever executor,
#: worker count or interruption produced them (the rest are times and the worker's name)
DETERMINISTIC_COLUMNS: tuple[str, ...] = tuple(
    name
    for name in COLUMNS
    if name not in ("build_time", "solve_time", "certify_time", "trial_time", "worker")
)
#: the columns each schema version has
_VERSION_COLUMNS = {1: tuple(c for c in COLUMNS if c != "morse_nondegenerate"), 2: tuple(COLUMNS)}

_TRIALS_SQL = (
    "CREATE TABLE trials ("
    + ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
    + ", PRIMARY KEY (sweep, point, trial))"
)
_SCHEMA_SQL = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE sweeps (hash TEXT PRIMARY KEY, definition TEXT NOT NULL, "
    "created TEXT NOT NULL DEFAULT (datetime('now')), library_version TEXT)",
    _TRIALS_SQL,
]
# version → statements taking a file from that version to the next
_MIGRATIONS: dict[int, list[str]] = {
    1: ["ALTER TABLE trials ADD COLUMN morse_nondegenerate INTEGER"],
}
# the SQLite storage classes each column may hold
_STORAGE = {
    "TEXT NOT NULL": ("text",),
    "INTEGER NOT NULL": ("integer",),
    "INTEGER": ("integer", "null"),
    "REAL": ("real", "integer", "null"),
    "TEXT": ("text", "null"),
}
#: the keys of a sweep definition and the JSON types of their values
_DEFINITION_KEYS: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "problem": (str,),
    "grid": (list,),
    "problem_options": (dict,),
    "solver": (str,),
    "solver_options": (dict,),
    "start": (str,),
    "seed": (int,),
}


class StoreError(ValueError):
    """A store file that cannot be used (corrupt, not ours, too new, read-only, full, ...)."""


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same text for the same data, the basis of the hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def definition_hash(definition: Mapping[str, Any]) -> str:
    """The first 16 hex digits of the SHA-256 of the definition's canonical JSON."""
    return hashlib.sha256(canonical_json(definition).encode()).hexdigest()[:16]


def check_definition(definition: Any, where: str) -> dict[str, Any]:
    """``definition`` if it has the shape of a sweep definition, else ``StoreError``."""
    if not isinstance(definition, dict):
        raise StoreError(f"{where}: the sweep definition is not a JSON object")
    missing = sorted(set(_DEFINITION_KEYS) - set(definition))
    if missing:
        raise StoreError(f"{where}: the sweep definition lacks {', '.join(missing)}")
    for key, kinds in _DEFINITION_KEYS.items():
        value = definition[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise StoreError(
                f"{where}: the sweep definition's {key} is {type(value).__name__}, expected "
                f"{' or '.join(k.__name__ for k in kinds)}"
            )
    if definition.get("instance", "per-trial") not in ("per-trial", "per-point"):
        raise StoreError(
            f"{where}: the sweep definition's instance is {definition['instance']!r}, expected "
            "per-trial or per-point"
        )
    for axis in definition["grid"]:
        if (
            not isinstance(axis, list)
            or len(axis) != 2
            or not isinstance(axis[0], str)
            or not isinstance(axis[1], list)
            or not axis[1]
        ):
            raise StoreError(
                f"{where}: the sweep definition's grid must be [key, [values…]] pairs, got "
                f"{canonical_json(axis)[:60]}"
            )
    return definition


def _describe_definition(definition: Mapping[str, Any]) -> str:
    grid = ", ".join(
        f"{key}=[{','.join(str(v) for v in values)}]" for key, values in definition.get("grid", [])
    )
    return (
        f"problem {definition.get('problem')!r}, grid {grid or '(none)'}, "
        f"solver {definition.get('solver')!r}, seed {definition.get('seed')}"
    )


def _storage_error(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """A ``StoreError`` that says what went wrong with the storage, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    lowered = text.lower()
    if "full" in lowered or "disk i/o" in lowered or "too big" in lowered:
        reason = (
            f"a write failed while {doing} (SQLite: {text}: the disk is full, the file too large "
            "or the device failing); the trials committed before are kept: free space and run "
            "the same command again to resume"
        )
    elif "readonly" in lowered or "read-only" in lowered:
        reason = f"it is read-only (SQLite: {text}); cannot write while {doing}"
    elif "locked" in lowered or "busy" in lowered:
        reason = f"another process held it locked for more than {_BUSY_TIMEOUT_S:g} s while {doing}"
    elif "unable to open" in lowered:
        reason = (
            f"cannot open it for writing while {doing} (SQLite: {text}; is its directory "
            "read-only?)"
        )
    else:
        reason = f"SQLite failed while {doing}: {text}"
    return StoreError(f"{path}: {reason}")


def _contended(exc: BaseException) -> bool:
    """Whether an SQLite error is lock contention (another process is using the file)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _write_ahead_log(connection: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, waiting out other processes for up to the busy timeout.

    Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked"
    at once, without its busy handler, while another connection holds any lock (two sweeps
    creating one fresh store at the same moment): so retry with short sleeps until the same
    deadline the other statements wait for.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    pause = 0.002
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _contended(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.1)


@contextlib.contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: ``BEGIN IMMEDIATE`` (the write lock first), COMMIT or ROLLBACK."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise


class SweepStore:
    """An open store file; use ``open_store(path)`` (or the class as a context manager)."""

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        readonly: bool,
        version: int = SCHEMA_VERSION,
    ):
        self.path = path
        self._connection = connection
        self.readonly = readonly
        self.version = version
        self._present = _VERSION_COLUMNS.get(version, tuple(COLUMNS))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (committed trials are already on disk)."""
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _read(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, "reading") from None

    # ------------------------------------------------------------------ definition
    def definition(self) -> tuple[str, dict[str, Any]] | None:
        """(hash, definition) of the sweep this file holds, or None for a new file."""
        return self._stored_definition(self._read("SELECT hash, definition FROM sweeps"))

    def _stored_definition(self, rows: list[tuple]) -> tuple[str, dict[str, Any]] | None:
        if not rows:
            return None
        if len(rows) > 1:
            raise StoreError(f"{self.path} holds {len(rows)} sweep definitions; expected one")
        key, text = rows[0]
        if not isinstance(key, str) or not isinstance(text, str):
            raise StoreError(f"{self.path}: the stored sweep definition is not text")
        try:
            definition = json.loads(text)
        except (ValueError, RecursionError):
            raise StoreError(
                f"{self.path}: the stored sweep definition is not valid JSON"
            ) from None
        return key, check_definition(definition, str(self.path))

    def bind(self, definition: Mapping[str, Any], library_version: str = "") -> str:
        """Record ``definition`` in a new file, or check it is the one stored; return its hash.

        One ``BEGIN IMMEDIATE`` transaction: of two processes binding a fresh file at once, one
        stores its definition and the other compares against it.  A different definition is
        refused with a ``StoreError`` naming the fields that differ.
        """
        check_definition(dict(definition), "the definition to store")
        key = definition_hash(definition)
        if self.readonly:
            stored = self.definition()
            if stored is None:
                raise StoreError(f"{self.path} holds no sweep")
            return self._compare(stored, definition, key)
        try:
            with _immediate(self._connection):
                rows = self._connection.execute("SELECT hash, definition FROM sweeps").fetchall()
                stored = self._stored_definition(rows)
                if stored is None:
                    self._connection.execute(
                        "INSERT INTO sweeps (hash, definition, library_version) VALUES (?, ?, ?)",
                        (key, canonical_json(definition), library_version),
                    )
                    return key
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, "storing the sweep definition") from None
        return self._compare(stored, definition, key)

    def _compare(
        self, stored: tuple[str, dict[str, Any]], definition: Mapping[str, Any], key: str
    ) -> str:
        stored_key, stored_definition = stored
        if stored_key != key:
            differing = sorted(
                name
                for name in set(stored_definition) | set(definition)
                if canonical_json(stored_definition.get(name))
                != canonical_json(definition.get(name))
            )
            raise StoreError(
                f"{self.path} holds another sweep ({stored_key}: "
                f"{_describe_definition(stored_definition)}); this one ({key}) differs in "
                f"{', '.join(differing) or 'its hash'}. Use another database file, or run the "
                "stored sweep again to resume it"
            )
        return key

    # ------------------------------------------------------------------ trials
    def done(self, sweep: str, *, include_errors: bool = True) -> set[tuple[str, int]]:
        """The (point, trial) keys stored for ``sweep`` (without errors: the finished ones)."""
        sql = "SELECT point, trial FROM trials WHERE sweep = ?"
        if not include_errors:
            sql += " AND error IS NULL"
        return {(point, int(trial)) for point, trial in self._read(sql, (sweep,))}

    def error_count(self) -> int:
        """Number of stored trials that recorded an error."""
        return int(self._read("SELECT COUNT(*) FROM trials WHERE error IS NOT NULL")[0][0])

    def add(self, record: Mapping[str, Any], *, replace_error: bool = False) -> bool:
        """Commit one finished trial; False if its key was already stored (the first copy stays).

        With ``replace_error`` a stored copy that recorded an error is replaced.  Unknown keys
        are refused; missing columns are stored as NULL.  A full disk is a ``StoreError`` (the
        trials committed before stay).
        """
        unknown = set(record) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown trial field(s): {', '.join(sorted(unknown))}")
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        names = list(COLUMNS)
        values = [_sql_value(record.get(name)) for name in names]
        try:
            with _immediate(self._connection):
                if replace_error:
                    self._connection.execute(
                        "DELETE FROM trials WHERE sweep = ? AND point = ? AND trial = ? "
                        "AND error IS NOT NULL",
                        (record.get("sweep"), record.get("point"), record.get("trial")),
                    )
                cursor = self._connection.execute(
                    f"INSERT OR IGNORE INTO trials ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' * len(names))})",
                    values,
                )
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, "storing a trial") from None
        return cursor.rowcount == 1

    def count(self) -> int:
        """Number of stored trials."""
        return int(self._read("SELECT COUNT(*) FROM trials")[0][0])

    def records(self) -> list[dict[str, Any]]:
        """Every stored trial as a dict of ``COLUMNS``, ordered by grid point and trial index."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """The stored trials one by one (see ``records``); absent columns (older files) None."""
        names = list(COLUMNS)
        selected = ", ".join(name if name in self._present else f"NULL AS {name}" for name in names)
        try:
            cursor = self._connection.execute(
                f"SELECT {selected} FROM trials ORDER BY point_index, trial, point"
            )
            for row in cursor:
                yield dict(zip(names, row, strict=True))
        except UnicodeDecodeError:
            raise _not_utf8(self.path) from None
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, "reading the trials") from None

    # ------------------------------------------------------------------ export
    def to_dataframe(self) -> Any:
        """The trials as a ``pandas.DataFrame`` with one column per grid parameter added."""
        import pandas as pd

        records = self.records()
        frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
        for name in _grid_keys(self.definition()):
            frame[name] = [json.loads(r["point"]).get(name) for r in records]
        return frame

    def to_csv(self, path: str | Path) -> Path:
        """Write the trials (with the grid parameters as columns) to ``path``; return it."""
        path = Path(path)
        keys = _grid_keys(self.definition())
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*keys, *COLUMNS])
            for record in self.iter_records():
                point = json.loads(record["point"])
                writer.writerow([point.get(k) for k in keys] + [record[c] for c in COLUMNS])
        return path


def _grid_keys(stored: tuple[str, dict[str, Any]] | None) -> list[str]:
    if stored is None:
        return []
    return [key for key, _ in stored[1].get("grid", [])]


def _sql_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
    value = float(value)
    return None if math.isnan(value) else value


def _tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def _check_existing(connection: sqlite3.Connection, path: Path) -> int | None:
    """Validate an existing file with reads only; return its schema version (None if empty)."""
    try:
        tables = _tables(connection)
        if not tables:
            return None
        expected = {"schema_version", "sweeps", "trials"}
        if not expected <= tables:
            raise StoreError(
                f"{path} is an SQLite database but not a manifoldscape sweep store "
                f"(its tables: {', '.join(sorted(tables))}); refusing to write to it"
            )
        versions = [v for (v,) in connection.execute("SELECT version FROM schema_version")]
        if len(versions) != 1 or not isinstance(versions[0], int) or versions[0] < 1:
            raise StoreError(f"{path}: the schema_version table is damaged ({versions!r})")
        version = versions[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} was written by a newer manifoldscape (store schema version {version}; "
                f"this version reads up to {SCHEMA_VERSION}); upgrade manifoldscape to use it"
            )
        present = {row[1] for row in connection.execute("PRAGMA table_info(trials)")}
        if present != set(_VERSION_COLUMNS[version]):
            missing = sorted(set(_VERSION_COLUMNS[version]) - present)
            raise StoreError(
                f"{path}: its trials table does not match schema version {version} "
                f"(missing {', '.join(missing) or '-'}; written by a development version?)"
            )
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            problems = "; ".join(str(row[0]) for row in check[:3])
            raise StoreError(f"{path} is damaged (SQLite quick_check: {problems})")
        return version
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable sweep store: {exc}") from None


def _not_utf8(path: Path) -> StoreError:
    return StoreError(f"{path} holds text that is not valid UTF-8 (damaged or edited by hand)")


def _check_contents(connection: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse trials whose columns hold values of the wrong type (edited by hand)."""
    names = _VERSION_COLUMNS[version]
    conditions = [
        (name, f"typeof({name}) NOT IN ({', '.join(repr(s) for s in _STORAGE[COLUMNS[name]])})")
        for name in names
    ]
    conditions.append(("point", "json_valid(point) = 0 OR json_type(point) != 'object'"))
    case = " ".join(f"WHEN {condition} THEN '{name}'" for name, condition in conditions)
    where = " OR ".join(f"({condition})" for _, condition in conditions)
    sql = f"SELECT CASE {case} END, quote(point), quote(trial) FROM trials WHERE {where} LIMIT 1"
    try:
        try:
            row = connection.execute(sql).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such function" not in str(exc):
                raise StoreError(f"{path} is not a readable sweep store: {exc}") from None
            row = connection.execute(sql.replace(conditions[-1][1], "0")).fetchone()
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable sweep store: {exc}") from None
    if row is not None:
        column, point, trial = row
        raise StoreError(
            f"{path}: the stored trial (point {point[:60]}, trial {trial[:20]}) holds a value of "
            f"the wrong type in column {column!r} (edited by hand?); refusing to use the file"
        )


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; SQLite's ``immutable`` mode where not even ``-shm`` can be made."""
    uri = path.resolve().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT_S)
    try:
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError:
        connection.close()
        if Path(f"{path}-wal").exists():
            raise
    # no write-ahead log to read and nowhere to put the shared-memory file: a read-only
    # directory, which no writer can be using either
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)


def _remove_new_file(path: Path) -> None:
    """Remove a store file this call created and could not finish (and its WAL companions)."""
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(OSError):
            companion.unlink()


def open_store(path: str | Path, *, readonly: bool = False) -> SweepStore:
    """Open (or, unless ``readonly``, create) the sweep store at ``path``.

    Raises ``StoreError`` for a file that is not an SQLite database, a damaged one, another
    program's database, one written by a newer schema or with contents edited into the wrong
    shape — in every case before writing a byte to it — and for storage that cannot be written
    (read-only, a full disk; the half-made file of a failed creation is removed).
    ``readonly`` opens with ``mode=ro`` (``manifoldscape sweep show``) and changes nothing,
    not even an old schema version; a missing file is then an error too.
    """
    path = Path(path)
    exists = path.exists()
    if exists and not path.is_file():
        raise StoreError(f"{path} is not a file")
    if readonly and not exists:
        raise StoreError(f"no such sweep store: {path}")
    if not exists and not path.parent.is_dir():
        raise StoreError(f"cannot create {path}: directory {path.parent} does not exist")
    if exists and path.stat().st_size > 0:
        try:
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from None
        if header != _SQLITE_MAGIC:
            raise StoreError(f"{path} is not an SQLite database (refusing to overwrite it)")
    if readonly:
        try:
            connection = _connect_readonly(path)
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path} for reading: {exc}") from None
        try:
            version = _check_existing(connection, path)
            if version is None:
                raise StoreError(f"{path} holds no sweep")
            _check_contents(connection, path, version)
        except BaseException:
            connection.close()
            raise
        return SweepStore(path, connection, readonly=True, version=version)
    try:
        connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    created = contended = False
    try:
        version = _check_existing(connection, path)  # reads only: refusals leave the bytes
        try:
            if version is not None:
                _check_contents(connection, path, version)
            _check_writable(connection, version)  # refused before any trial runs
            _write_ahead_log(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            with _immediate(connection):
                version = _check_existing(connection, path)  # again, inside the write lock
                if version is None:
                    created = not exists or path.stat().st_size == 0
                    for statement in _SCHEMA_SQL:
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                    )
                elif version < SCHEMA_VERSION:
                    _migrate(connection, path, version)
        except sqlite3.Error as exc:
            contended = _contended(exc)
            raise _storage_error(exc, path, "opening the store") from None
    except BaseException:
        connection.close()
        # a file another process is still using is never removed, however empty it looks
        if (not exists or created) and not contended:
            with contextlib.suppress(sqlite3.Error, OSError):
                _remove_if_empty(path)
        raise
    return SweepStore(path, connection, readonly=False)


def _check_writable(connection: sqlite3.Connection, version: int | None) -> None:
    """A real write to the file, rolled back: raises ``sqlite3.Error`` if it cannot be written."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if version is None:
            connection.execute("CREATE TABLE manifoldscape_write_probe (x)")
        else:
            connection.execute("UPDATE schema_version SET version = version")
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")


def _remove_if_empty(path: Path) -> None:
    """Remove ``path`` if it holds no table (a creation that failed), else leave it."""
    if not path.exists():
        _remove_new_file(path)
        return
    if path.stat().st_size == 0:
        _remove_new_file(path)
        return
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        empty = not _tables(connection)
    finally:
        connection.close()
    if empty:
        _remove_new_file(path)


def _migrate(connection: sqlite3.Connection, path: Path, version: int) -> None:
    """Take the file from ``version`` to ``SCHEMA_VERSION`` (inside the caller's transaction)."""
    while version < SCHEMA_VERSION:
        if version not in _MIGRATIONS:
            raise StoreError(f"{path}: no migration from store schema version {version}")
        for statement in _MIGRATIONS[version]:
            connection.execute(statement)
        version += 1
    connection.execute("UPDATE schema_version SET version = ?", (version,))


def columns_of(records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[tuple]:
    """The given columns of each record, as tuples (for comparisons of stored results)."""
    return [tuple(record[name] for name in names) for record in records]
