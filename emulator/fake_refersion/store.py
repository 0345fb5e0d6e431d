"""The fake Refersion account's affiliates, kept in SQLite so every endpoint sees one state."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import string
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from emulator.errors import StorageError
from emulator.fake_refersion.fields import STORED_OPTIONAL, STORED_REQUIRED

__all__ = [
    "CREATE_FIELDS",
    "FIRST_AFFILIATE_ID",
    "UPDATE_FIELDS",
    "Affiliate",
    "AffiliateStore",
    "EmailTaken",
    "StoreError",
]

# The numeric id in Refersion's own "new affiliate" example message; later ids count up from it.
FIRST_AFFILIATE_ID = 37569297
# SQLite integers are signed 64-bit; larger ids cannot exist and cannot even be bound.
_MAX_ID = 2**63 - 1
_CODE_ALPHABET = string.ascii_lowercase + string.digits
_CODE_ATTEMPTS = 100


class StoreError(StorageError):
    """Raised when the store is asked for something it cannot hold."""


class EmailTaken(StoreError):
    """Raised when another affiliate already has the same email (per the store's email rule)."""

    def __init__(self) -> None:
        super().__init__("another affiliate already has this email")


@dataclass(frozen=True, slots=True)
class Affiliate:
    """One stored affiliate. ``id`` is Refersion's numeric id, ``code`` its short link code."""

    id: int
    code: str
    status: str
    first_name: str
    last_name: str
    email: str
    password_hash: str = field(repr=False)
    offer_id: str
    company: str | None
    paypal_email: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None
    phone: str | None
    unique_merchant_id: str | None
    conversion_trigger_coupon: str | None
    created_at: str

    def to_public_dict(self) -> dict[str, Any]:
        """Every field except the password hash, for inspection APIs and the UI."""
        public = asdict(self)
        del public["password_hash"]
        return public


_COLUMNS = tuple(f.name for f in fields(Affiliate))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM affiliates"  # noqa: S608 (constant column names)
# What ``create`` takes: the plaintext password is hashed on the way in and never stored.
CREATE_FIELDS: frozenset[str] = frozenset((*STORED_REQUIRED, "password", *STORED_OPTIONAL))
# What ``update`` may change: code, id, password and creation time are fixed for life.
UPDATE_FIELDS: frozenset[str] = frozenset((*STORED_REQUIRED, *STORED_OPTIONAL))

_INSERTED = ("code", *STORED_REQUIRED, *STORED_OPTIONAL, "email_key", "password_hash", "created_at")
_INSERT = (
    f"INSERT INTO affiliates ({', '.join(_INSERTED)})"  # noqa: S608 (constant column names)
    f" VALUES ({', '.join(f':{name}' for name in _INSERTED)})"
)

_TABLE = """
CREATE TABLE IF NOT EXISTS affiliates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    offer_id TEXT NOT NULL,
    company TEXT,
    paypal_email TEXT,
    address1 TEXT,
    address2 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    country TEXT,
    phone TEXT,
    unique_merchant_id TEXT,
    conversion_trigger_coupon TEXT,
    created_at TEXT NOT NULL
)
"""
_TABLE_COLUMNS = ("id", *_INSERTED)
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS affiliates_email_key ON affiliates (email_key);
CREATE INDEX IF NOT EXISTS affiliates_unique_merchant_id ON affiliates (unique_merchant_id);
"""


# ``AffiliateStore.list`` shadows the builtin inside the class body.
_Affiliates = list[Affiliate]
_Ids = list[int]


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def _storable_id(value: int) -> bool:
    return 0 < value <= _MAX_ID


class AffiliateStore:
    """Affiliates in one SQLite database (``":memory:"`` or a file, which is opened in WAL mode).

    Email uniqueness is enforced by a UNIQUE index on a derived key (stripped, and lowercased
    unless ``email_case_insensitive`` is false), so duplicates cannot slip in between a check
    and an insert. Codes come from ``random.Random(seed)``: two stores with the same seed hand
    out the same codes. Deleted rows are overwritten on disk (``secure_delete``) and, for a
    file, checkpointed out of the WAL, so a deleted affiliate leaves no personal data behind.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        seed: int | None = None,
        email_case_insensitive: bool = True,
    ) -> None:
        self._path = path
        self._is_file = path != ":memory:" and not path.startswith("file::memory:")
        self._seed = seed
        self._rng = random.Random(seed)
        self.email_case_insensitive = email_case_insensitive
        # One connection guarded by a lock: callers may come from an executor thread.
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._open()
        except (sqlite3.Error, StoreError) as exc:
            self._conn.close()
            problem = exc if isinstance(exc, StoreError) else f"cannot use it ({exc})"
            raise StoreError(f"affiliate store {path}: {problem}") from None

    def _open(self) -> None:
        self._conn.create_function("casefold", 1, _casefold, deterministic=True)
        self._conn.execute("PRAGMA secure_delete = ON")
        if self._is_file:
            self._conn.execute("PRAGMA journal_mode = WAL")
            # A commit survives the process being killed; only a power cut can undo the last
            # few. An fsync per affiliate would stall the event loop the fake runs on.
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(_TABLE)
        # A file made by something else may hold an affiliates table of its own.
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(affiliates)")}
        missing = [name for name in _TABLE_COLUMNS if name not in columns]
        if missing:
            raise StoreError(
                f"its affiliates table is not the fake Refersion's (no column "
                f"{', '.join(missing[:3])}{'…' if len(missing) > 3 else ''}); use another "
                "file, or drop that table"
            )
        self._conn.executescript(_INDEXES)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'affiliates', ? WHERE NOT EXISTS"
                " (SELECT 1 FROM sqlite_sequence WHERE name = 'affiliates')",
                (FIRST_AFFILIATE_ID - 1,),
            )

    @property
    def path(self) -> str:
        return self._path

    def email_key(self, email: str) -> str:
        """The value two affiliates may not share: the email stripped (and lowercased)."""
        key = email.strip()
        return key.lower() if self.email_case_insensitive else key

    def reseed(self, seed: int | None) -> None:
        """Restart the code generator from ``seed`` (also what :meth:`clear` returns to)."""
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)
            # A file from an earlier run holds the codes this seed drew first: go on from
            # where that run stopped rather than draw them again, one collision each (past
            # a hundred affiliates, every new one failed).
            (sequence,) = self._conn.execute(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'affiliates'"
            ).fetchone()
            for _ in range(max(0, int(sequence) - (FIRST_AFFILIATE_ID - 1))):
                self._new_code()

    # -- reads ---------------------------------------------------------------------------

    def get(self, affiliate_id: int) -> Affiliate | None:
        if not _storable_id(affiliate_id):
            return None
        return self._one(f"{_SELECT} WHERE id = ?", (affiliate_id,))

    def get_by_code(self, code: str) -> Affiliate | None:
        return self._one(f"{_SELECT} WHERE code = ?", (code,))

    def find_by_email(self, email: str) -> Affiliate | None:
        """The affiliate whose email has the same key as ``email`` (see :meth:`email_key`)."""
        return self._one(f"{_SELECT} WHERE email_key = ?", (self.email_key(email),))

    def has_email(self, email: str) -> bool:
        """Whether an affiliate's email has the same key as ``email``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM affiliates WHERE email_key = ?", (self.email_key(email),)
            ).fetchone()
        return row is not None

    def has_offer(self, offer_id: str) -> bool:
        """Whether some affiliate is in offer ``offer_id``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM affiliates WHERE offer_id = ? LIMIT 1", (offer_id,)
            ).fetchone()
        return row is not None

    def find_by_unique_merchant_id(self, unique_merchant_id: str) -> _Affiliates:
        return self._many(
            f"{_SELECT} WHERE unique_merchant_id = ? ORDER BY id", (unique_merchant_id,)
        )

    def count(self) -> int:
        with self._lock:
            (total,) = self._conn.execute("SELECT count(*) FROM affiliates").fetchone()
        return int(total)

    def all(self) -> _Affiliates:
        return self._many(f"{_SELECT} ORDER BY id", ())

    def list(self, page: int = 1, limit: int = 10) -> tuple[int, _Affiliates]:
        """``(total, items)``: the count of every affiliate and one page of them, by id."""
        return self._page("", {}, page, limit)

    def search(
        self,
        keyword: str,
        first_name: str | None = None,
        last_name: str | None = None,
        page: int = 1,
        limit: int = 10,
    ) -> tuple[int, _Affiliates]:
        """``(total, items)`` of affiliates matching ``keyword``, by id.

        The keyword matches a code or a numeric id exactly, or any part of an email ignoring
        case; ``first_name``/``last_name`` narrow the result to names equal ignoring case.
        A blank keyword matches nothing.
        """
        keyword = keyword.strip()
        if not keyword:
            return 0, []
        numeric = int(keyword) if keyword.isascii() and keyword.isdigit() else None
        params: dict[str, Any] = {
            "keyword": keyword,
            "folded": keyword.casefold(),
            "id": numeric if numeric is not None and _storable_id(numeric) else None,
            "first_name": _casefold(first_name),
            "last_name": _casefold(last_name),
        }
        where = (
            "WHERE (code = :keyword OR id = :id OR instr(casefold(email), :folded) > 0)"
            " AND (:first_name IS NULL OR casefold(first_name) = :first_name)"
            " AND (:last_name IS NULL OR casefold(last_name) = :last_name)"
        )
        return self._page(where, params, page, limit)

    # -- writes --------------------------------------------------------------------------

    def create(self, values: Mapping[str, str | None]) -> Affiliate:
        """Store a new affiliate; ``values`` holds :data:`CREATE_FIELDS` (``password`` in clear).

        Raises :class:`EmailTaken` when the email key is already used.
        """
        _check_names(values, CREATE_FIELDS)
        missing = [name for name in (*STORED_REQUIRED, "password") if values.get(name) is None]
        if missing:
            raise StoreError(f"missing affiliate field(s): {', '.join(missing)}")
        stored = (*STORED_REQUIRED, *STORED_OPTIONAL)
        row: dict[str, Any] = {name: values.get(name) for name in stored}
        row["email_key"] = self.email_key(str(values["email"]))
        row["password_hash"] = hashlib.sha256(str(values["password"]).encode()).hexdigest()
        row["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        # One statement is its own transaction; a drawn code already taken is drawn again.
        with self._lock:
            affiliate_id = self._insert_with_new_code(self._conn, _INSERT, row)
        # Exactly what was inserted: no column has a default or a trigger to read back.
        return Affiliate(**{name: row[name] for name in _COLUMNS if name != "id"}, id=affiliate_id)

    def update(self, affiliate_id: int, values: Mapping[str, str | None]) -> bool:
        """Change :data:`UPDATE_FIELDS` of one affiliate; True when a stored value differs.

        False when the id is unknown or every value is already stored. Raises
        :class:`EmailTaken` when the new email belongs to another affiliate.
        """
        _check_names(values, UPDATE_FIELDS)
        cleared = [name for name in STORED_REQUIRED if name in values and values[name] is None]
        if cleared:
            raise StoreError(f"affiliate field(s) cannot be empty: {', '.join(cleared)}")
        with self._write() as conn:
            current = self.get(affiliate_id)
            if current is None:
                return False
            changes = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changes:
                return False
            if "email" in changes:
                changes["email_key"] = self.email_key(str(changes["email"]))
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            try:
                conn.execute(
                    f"UPDATE affiliates SET {assignments} WHERE id = :id",  # noqa: S608
                    {**changes, "id": affiliate_id},
                )
            except sqlite3.IntegrityError as error:
                raise EmailTaken from error
        return True

    def set_status(self, ids: Iterable[int], status: str) -> tuple[_Ids, _Ids]:
        """Set ``status`` on each id; ``(changed, not_changed)``, duplicates counted once.

        An unknown id, or one that already has ``status``, is not changed.
        """
        changed: _Ids = []
        not_changed: _Ids = []
        with self._write() as conn:
            for affiliate_id in dict.fromkeys(ids):
                current = self.get(affiliate_id)
                if current is None or current.status == status:
                    not_changed.append(affiliate_id)
                    continue
                conn.execute(
                    "UPDATE affiliates SET status = ? WHERE id = ?", (status, affiliate_id)
                )
                changed.append(affiliate_id)
        return changed, not_changed

    def delete(self, ids: Iterable[int]) -> _Ids:
        """Remove the rows for ``ids`` entirely; returns the ids that existed."""
        deleted: _Ids = []
        with self._write() as conn:
            for affiliate_id in dict.fromkeys(ids):
                if _storable_id(affiliate_id):
                    cursor = conn.execute("DELETE FROM affiliates WHERE id = ?", (affiliate_id,))
                    if cursor.rowcount:
                        deleted.append(affiliate_id)
        if deleted:
            self._checkpoint()
        return deleted

    def clear(self) -> None:
        """Remove every affiliate and restart ids and codes as in a fresh store."""
        with self._write() as conn:
            conn.execute("DELETE FROM affiliates")
            conn.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'affiliates'",
                (FIRST_AFFILIATE_ID - 1,),
            )
            self._rng = random.Random(self._seed)
        self._checkpoint()

    def iterdump(self) -> Iterator[str]:
        """The whole database as SQL statements, e.g. to check deleted data is really gone."""
        with self._lock:
            return iter(list(self._conn.iterdump()))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- internals -----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _insert_with_new_code(
        self, conn: sqlite3.Connection, insert: str, row: dict[str, Any]
    ) -> int:
        """Insert ``row`` with a fresh code (set in ``row``); the new affiliate's id."""
        for _ in range(_CODE_ATTEMPTS):
            row["code"] = self._new_code()
            try:
                cursor = conn.execute(insert, row)
            except sqlite3.IntegrityError as error:
                if "affiliates.code" in str(error):
                    continue  # drawn before: draw again
                raise EmailTaken from error
            assert cursor.lastrowid is not None  # set by every successful INSERT
            return cursor.lastrowid
        raise StoreError(f"no free affiliate code after {_CODE_ATTEMPTS} attempts")

    def _checkpoint(self) -> None:
        # Old page images of deleted rows would otherwise survive in the WAL file.
        if self._is_file:
            with self._lock:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _new_code(self) -> str:
        # Always at least one letter, as in every code Refersion shows ("a3y7", "694c"), so
        # a code never looks like a numeric id.
        while True:
            length = self._rng.choice((4, 5))
            code = "".join(self._rng.choice(_CODE_ALPHABET) for _ in range(length))
            if not code.isdigit():
                return code

    def _page(
        self, where: str, params: dict[str, Any], page: int, limit: int
    ) -> tuple[int, _Affiliates]:
        if page < 1 or limit < 1:
            raise StoreError(f"page and limit must be at least 1, got page={page} limit={limit}")
        with self._lock:
            (total,) = self._conn.execute(
                f"SELECT count(*) FROM affiliates {where}",  # noqa: S608
                params,
            ).fetchone()
            offset = (page - 1) * limit
            if offset >= total:
                return int(total), []
            items = self._many(
                f"{_SELECT} {where} ORDER BY id LIMIT :limit OFFSET :offset",
                # min(): a caller's huge limit must not overflow SQLite's 64-bit integers.
                {**params, "limit": min(limit, total), "offset": offset},
            )
        return int(total), items

    def _one(self, query: str, params: tuple[Any, ...]) -> Affiliate | None:
        with self._lock:
            row = self._conn.execute(query, params).fetchone()
        return None if row is None else Affiliate(*row)

    def _many(self, query: str, params: tuple[Any, ...] | dict[str, Any]) -> _Affiliates:
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [Affiliate(*row) for row in rows]


def _check_names(values: Mapping[str, object], allowed: frozenset[str]) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise StoreError(f"unknown affiliate field(s): {', '.join(unknown)}")
