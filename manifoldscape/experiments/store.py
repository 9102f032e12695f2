"""The SQLite store of a sweep: one file, one sweep definition, one row per finished trial.

A phase-transition study (seed 000, "m = O(n) equations are sufficient" and "random
initialization works"; seed 003 §2.2) is tens of thousands of solves; the store keeps every
finished trial and nothing else, so an interrupted sweep resumes without losing or repeating one.

* stdlib ``sqlite3`` in WAL mode with ``synchronous=NORMAL``: each trial is one committed
  transaction, durable once ``add`` returns even if the process is killed (SIGKILL) right after;
* a ``schema_version`` table: a file written by newer code (a higher version) is refused, an
  older one is migrated in one transaction (there is one version so far);
* a file that is not a manifoldscape store — not SQLite at all, a damaged database, another
  program's tables — is refused with a ``StoreError`` before anything is written to it, so its
  bytes stay as they were;
* one sweep definition per file: ``bind`` records it (a hash of its canonical JSON) on first
  use and refuses a different one, naming what differs;
* trials are keyed by (definition hash, grid point, trial index): ``INSERT OR IGNORE`` keeps the
  first copy of a trial if one is ever delivered twice.

Export with ``to_dataframe`` (pandas) or ``to_csv`` (stdlib ``csv``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sqlite3
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
    "definition_hash",
    "open_store",
]

SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"

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
# version → statements taking a file from that version to the next (none yet)
_MIGRATIONS: dict[int, list[str]] = {}


class StoreError(ValueError):
    """A store file that cannot be used: corrupt, not ours, too new, or another sweep's."""


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the same text for the same data, the basis of the hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def definition_hash(definition: Mapping[str, Any]) -> str:
    """The first 16 hex digits of the SHA-256 of the definition's canonical JSON."""
    return hashlib.sha256(canonical_json(definition).encode()).hexdigest()[:16]


def _describe_definition(definition: Mapping[str, Any]) -> str:
    grid = ", ".join(
        f"{key}=[{','.join(str(v) for v in values)}]" for key, values in definition.get("grid", [])
    )
    return (
        f"problem {definition.get('problem')!r}, grid {grid or '(none)'}, "
        f"solver {definition.get('solver')!r}, seed {definition.get('seed')}"
    )


class SweepStore:
    """An open store file; use ``open_store(path)`` (or the class as a context manager)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, readonly: bool):
        self.path = path
        self._connection = connection
        self.readonly = readonly

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the connection (committed trials are already on disk)."""
        self._connection.close()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ definition
    def definition(self) -> tuple[str, dict[str, Any]] | None:
        """(hash, definition) of the sweep this file holds, or None for a new file."""
        rows = self._connection.execute("SELECT hash, definition FROM sweeps").fetchall()
        if not rows:
            return None
        if len(rows) > 1:
            raise StoreError(f"{self.path} holds {len(rows)} sweep definitions; expected one")
        return rows[0][0], json.loads(rows[0][1])

    def bind(self, definition: Mapping[str, Any], library_version: str = "") -> str:
        """Record ``definition`` in a new file, or check it is the one stored; return its hash.

        A different definition is refused with a ``StoreError`` naming the fields that differ.
        """
        key = definition_hash(definition)
        stored = self.definition()
        if stored is None:
            if self.readonly:
                raise StoreError(f"{self.path} holds no sweep")
            with self._connection:
                self._connection.execute(
                    "INSERT INTO sweeps (hash, definition, library_version) VALUES (?, ?, ?)",
                    (key, canonical_json(definition), library_version),
                )
            return key
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
                f"{', '.join(differing)}. Use another database file, or run the stored sweep "
                "again to resume it"
            )
        return key

    # ------------------------------------------------------------------ trials
    def done(self, sweep: str) -> set[tuple[str, int]]:
        """The (point, trial) keys already stored for ``sweep``."""
        rows = self._connection.execute("SELECT point, trial FROM trials WHERE sweep = ?", (sweep,))
        return {(point, int(trial)) for point, trial in rows}

    def add(self, record: Mapping[str, Any]) -> bool:
        """Commit one finished trial; False if its key was already stored (the first copy stays).

        Unknown keys are refused; missing columns are stored as NULL.
        """
        unknown = set(record) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown trial field(s): {', '.join(sorted(unknown))}")
        names = list(COLUMNS)
        values = [_sql_value(record.get(name)) for name in names]
        with self._connection:
            cursor = self._connection.execute(
                f"INSERT OR IGNORE INTO trials ({', '.join(names)}) "
                f"VALUES ({', '.join('?' * len(names))})",
                values,
            )
        return cursor.rowcount == 1

    def count(self) -> int:
        """Number of stored trials."""
        return int(self._connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0])

    def records(self) -> list[dict[str, Any]]:
        """Every stored trial as a dict of ``COLUMNS``, ordered by grid point and trial index."""
        return list(self.iter_records())

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """The stored trials one by one (see ``records``)."""
        names = list(COLUMNS)
        cursor = self._connection.execute(
            f"SELECT {', '.join(names)} FROM trials ORDER BY point_index, trial, point"
        )
        for row in cursor:
            yield dict(zip(names, row, strict=True))

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
        if len(versions) != 1 or not isinstance(versions[0], int):
            raise StoreError(f"{path}: the schema_version table is damaged ({versions!r})")
        version = versions[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} was written by a newer manifoldscape (store schema version {version}; "
                f"this version reads up to {SCHEMA_VERSION}); upgrade manifoldscape to use it"
            )
        present = {row[1] for row in connection.execute("PRAGMA table_info(trials)")}
        if present != set(COLUMNS):
            missing = sorted(set(COLUMNS) - present)
            raise StoreError(
                f"{path}: its trials table does not match schema version {version} "
                f"(missing {', '.join(missing) or '-'}; written by a development version?)"
            )
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            problems = "; ".join(str(row[0]) for row in check[:3])
            raise StoreError(f"{path} is damaged (SQLite quick_check: {problems})")
        return version
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable sweep store: {exc}") from exc


def open_store(path: str | Path, *, readonly: bool = False) -> SweepStore:
    """Open (or, unless ``readonly``, create) the sweep store at ``path``.

    Raises ``StoreError`` for a file that is not an SQLite database, a damaged one, another
    program's database, or one written by a newer schema — in every case before writing a byte
    to it.  ``readonly`` opens with ``mode=ro`` (``manifoldscape sweep show``); a missing file is
    then an error too.
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
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
        if header != _SQLITE_MAGIC:
            raise StoreError(f"{path} is not an SQLite database (refusing to overwrite it)")
    try:
        if readonly:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        else:
            connection = sqlite3.connect(path, timeout=30.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        version = _check_existing(connection, path)
        if readonly:
            if version is None:
                raise StoreError(f"{path} holds no sweep")
            return SweepStore(path, connection, readonly=True)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        if version is None:
            with connection:
                for statement in _SCHEMA_SQL:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
        elif version < SCHEMA_VERSION:
            _migrate(connection, path, version)
    except BaseException:
        connection.close()
        raise
    return SweepStore(path, connection, readonly=False)


def _migrate(connection: sqlite3.Connection, path: Path, version: int) -> None:
    with connection:
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
