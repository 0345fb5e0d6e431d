"""Tests of the fake Refersion account's SQLite affiliate store."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.errors import EmulatorError
from emulator.fake_refersion.store import (
    FIRST_AFFILIATE_ID,
    Affiliate,
    AffiliateStore,
    EmailTaken,
    StoreError,
)

__all__: list[str] = []

PASSWORD = "Secure!Pass1"


def values(email: str = "bill@example.com", **extra: str | None) -> dict[str, str | None]:
    return {
        "first_name": "Bill",
        "last_name": "Smith",
        "email": email,
        "password": PASSWORD,
        "status": "ACTIVE",
        "offer_id": "1",
        **extra,
    }


@pytest.fixture
def store() -> Iterator[AffiliateStore]:
    opened = AffiliateStore(seed=7)
    yield opened
    opened.close()


def dump(store: AffiliateStore) -> str:
    return "\n".join(store.iterdump())


def test_ids_start_at_refersions_example_id_and_increase(store: AffiliateStore) -> None:
    first = store.create(values("a@example.com"))
    second = store.create(values("b@example.com"))
    assert first.id == FIRST_AFFILIATE_ID == 37569297
    assert second.id == FIRST_AFFILIATE_ID + 1


def test_ids_of_deleted_affiliates_are_never_reused(store: AffiliateStore) -> None:
    first = store.create(values("a@example.com"))
    second = store.create(values("b@example.com"))
    store.delete([second.id])
    assert store.create(values("c@example.com")).id == second.id + 1
    assert store.get(first.id) == first


def test_codes_are_short_lowercase_alphanumeric_with_a_letter(store: AffiliateStore) -> None:
    codes = [store.create(values(f"u{i}@example.com")).code for i in range(200)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]{4,5}", code), code
        assert not code.isdigit()


def test_same_seed_gives_same_codes_and_other_seed_differs() -> None:
    stores = [AffiliateStore(seed=42), AffiliateStore(seed=42), AffiliateStore(seed=43)]
    codes = [[s.create(values(f"u{i}@example.com")).code for i in range(10)] for s in stores]
    assert codes[0] == codes[1]
    assert codes[0] != codes[2]


def test_code_collision_is_retried(store: AffiliateStore) -> None:
    first = store.create(values("a@example.com"))
    store.reseed(7)  # the generator would hand out ``first.code`` again
    second = store.create(values("b@example.com"))
    assert second.code != first.code
    assert store.get_by_code(first.code) == first


def test_clear_restarts_ids_and_seeded_codes(store: AffiliateStore) -> None:
    before = [store.create(values(f"u{i}@example.com")) for i in range(3)]
    store.clear()
    assert store.count() == 0
    after = [store.create(values(f"u{i}@example.com")) for i in range(3)]
    assert [(a.id, a.code) for a in after] == [(b.id, b.code) for b in before]


def test_create_stores_every_field_and_only_a_password_hash(store: AffiliateStore) -> None:
    created = store.create(
        values(
            company="Company",
            paypal_email="pay@example.com",
            address1="123 Street Road",
            address2="Apt 4",
            city="Paradise",
            state="NY",
            zip="12000",
            country="US",
            phone="555-555-5555",
            unique_merchant_id="user-1",
            conversion_trigger_coupon="BILL10",
        )
    )
    assert store.get(created.id) == created
    assert created.password_hash == hashlib.sha256(PASSWORD.encode()).hexdigest()
    public = created.to_public_dict()
    assert "password_hash" not in public
    assert public["city"] == "Paradise"
    assert public["conversion_trigger_coupon"] == "BILL10"
    assert created.password_hash not in repr(created)
    assert PASSWORD not in dump(store)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"password": None}, "missing affiliate field(s): password"),
        ({"offer_id": None}, "missing affiliate field(s): offer_id"),
        ({"nickname": "x"}, "unknown affiliate field(s): nickname"),
    ],
)
def test_create_refuses_incomplete_or_unknown_fields(
    store: AffiliateStore, bad: dict[str, str | None], message: str
) -> None:
    with pytest.raises(StoreError, match=re.escape(message)):
        store.create({**values(), **bad})


@pytest.mark.parametrize(
    "duplicate", ["bill@example.com", "BILL@Example.com", " bill@example.com "]
)
def test_duplicate_email_is_refused_ignoring_case_and_spaces(
    store: AffiliateStore, duplicate: str
) -> None:
    store.create(values("bill@example.com"))
    with pytest.raises(EmailTaken) as raised:
        store.create(values(duplicate))
    assert isinstance(raised.value, EmulatorError)
    assert store.count() == 1


def test_case_sensitive_store_accepts_case_variants_but_not_exact_duplicates() -> None:
    store = AffiliateStore(email_case_insensitive=False)
    store.create(values("bill@example.com"))
    store.create(values("Bill@example.com"))
    with pytest.raises(EmailTaken):
        store.create(values("bill@example.com"))
    assert store.count() == 2


def test_unique_email_holds_across_connections_and_threads(tmp_path: Path) -> None:
    path = str(tmp_path / "refersion.db")
    stores = [AffiliateStore(path), AffiliateStore(path)]
    outcomes: list[str] = []

    def create(store: AffiliateStore) -> None:
        try:
            store.create(values("race@example.com"))
            outcomes.append("created")
        except EmailTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=create, args=(s,)) for s in stores * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["taken"] * 7
    assert stores[0].count() == 1
    for store in stores:
        store.close()


def test_lookups(store: AffiliateStore) -> None:
    bill = store.create(values("bill@example.com", unique_merchant_id="user-1"))
    jane = store.create(values("jane@example.com", unique_merchant_id="user-1"))
    store.create(values("other@example.com", unique_merchant_id="user-2"))
    assert store.get(bill.id) == bill
    assert store.get_by_code(jane.code) == jane
    assert store.find_by_email("JANE@example.com") == jane
    assert store.find_by_unique_merchant_id("user-1") == [bill, jane]
    assert store.find_by_unique_merchant_id("nobody") == []
    assert store.get(1) is None
    assert store.get(2**80) is None  # beyond SQLite integers: not found, no OverflowError
    assert store.get_by_code("zzzzzz") is None
    assert store.all() == [bill, jane, *store.find_by_unique_merchant_id("user-2")]


def test_list_pages_by_id_and_counts_everything(store: AffiliateStore) -> None:
    created = [store.create(values(f"u{i}@example.com")) for i in range(7)]
    pages = [store.list(page, 3) for page in (1, 2, 3, 4)]
    assert [total for total, _ in pages] == [7, 7, 7, 7]
    assert [items for _, items in pages] == [created[0:3], created[3:6], created[6:7], []]
    assert store.list(10**30, 100) == (7, [])


@pytest.mark.parametrize(("page", "limit"), [(0, 10), (1, 0), (-1, 5)])
def test_list_refuses_non_positive_paging(store: AffiliateStore, page: int, limit: int) -> None:
    with pytest.raises(StoreError):
        store.list(page, limit)


def test_search_matches_code_id_and_partial_email(store: AffiliateStore) -> None:
    bill = store.create(values("Bill.Smith@Example.com", first_name="Bill", last_name="Smith"))
    jane = store.create(values("jane@example.org", first_name="Jane", last_name="Smith"))
    assert store.search(bill.code) == (1, [bill])
    prefix = bill.code[:-1]  # a partial code matches only through an email containing it
    assert (bill in store.search(prefix)[1]) == (prefix in bill.email.casefold())
    assert store.search(str(jane.id)) == (1, [jane])
    assert store.search("smith@EXAMPLE") == (1, [bill])
    assert store.search("example") == (2, [bill, jane])
    assert store.search("example", first_name="jane") == (1, [jane])
    assert store.search("example", last_name="SMITH", page=2, limit=1) == (2, [jane])
    assert store.search("   ") == (0, [])
    assert store.search("%") == (0, [])  # not a LIKE wildcard
    assert store.search("9" * 30) == (0, [])


def test_update_reports_real_changes_only(store: AffiliateStore) -> None:
    bill = store.create(values("bill@example.com"))
    assert store.update(bill.id, {"city": "Paradise", "offer_id": "7"}) is True
    assert store.update(bill.id, {"city": "Paradise"}) is False
    assert store.update(FIRST_AFFILIATE_ID + 99, {"city": "Paradise"}) is False
    updated = store.get(bill.id)
    assert updated is not None
    assert (updated.city, updated.offer_id) == ("Paradise", "7")
    assert store.update(bill.id, {"city": None, "offer_id": "1"}) is True
    assert store.get(bill.id) == bill


def test_update_of_email_moves_the_uniqueness_key(store: AffiliateStore) -> None:
    bill = store.create(values("bill@example.com"))
    jane = store.create(values("jane@example.com"))
    assert store.update(bill.id, {"email": "William@example.com"})
    assert store.find_by_email("william@example.com") is not None
    assert store.find_by_email("bill@example.com") is None
    with pytest.raises(EmailTaken):
        store.update(jane.id, {"email": "WILLIAM@example.com"})
    store.create(values("bill@example.com"))  # the old address is free again


@pytest.mark.parametrize(
    "bad", [{"password": "x"}, {"code": "abcd"}, {"first_name": None}, {"email": None}]
)
def test_update_refuses_fixed_unknown_or_emptied_required_fields(
    store: AffiliateStore, bad: dict[str, str | None]
) -> None:
    bill = store.create(values())
    with pytest.raises(StoreError):
        store.update(bill.id, bad)
    assert store.get(bill.id) == bill


def test_set_status_splits_changed_and_not_changed(store: AffiliateStore) -> None:
    bill = store.create(values("bill@example.com"))
    jane = store.create(values("jane@example.com", status="PENDING"))
    changed, not_changed = store.set_status([bill.id, jane.id, jane.id, 5, -3], "ACTIVE")
    assert changed == [jane.id]
    assert not_changed == [bill.id, 5, -3]
    assert all(a.status == "ACTIVE" for a in store.all())


def test_delete_removes_rows_and_every_trace_of_them(store: AffiliateStore) -> None:
    bill = store.create(values("bill.secret@example.com", unique_merchant_id="user-secret"))
    jane = store.create(values("jane@example.com"))
    assert store.delete([bill.id, bill.id, 12345, 2**70]) == [bill.id]
    assert store.get(bill.id) is None
    assert store.count() == 1
    text = dump(store)
    assert "bill.secret@example.com" not in text
    assert "user-secret" not in text
    assert jane.email in text


def test_deleted_affiliate_leaves_no_bytes_in_the_database_files(tmp_path: Path) -> None:
    path = tmp_path / "refersion.db"
    store = AffiliateStore(str(path))
    created = [
        store.create(values(f"gdpr.subject{i}@example.com", unique_merchant_id=f"subject-{i}"))
        for i in range(30)
    ]
    store.delete(a.id for a in created)
    files = list(tmp_path.iterdir())
    assert any(f.name.endswith("-wal") for f in files)  # the database runs in WAL mode
    for file in files:
        data = file.read_bytes()
        assert b"gdpr.subject" not in data, file.name
        assert b"subject-" not in data, file.name
    store.close()


def test_a_file_store_keeps_affiliates_across_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "refersion.db")
    store = AffiliateStore(path)
    bill = store.create(values())
    store.close()
    reopened = AffiliateStore(path)
    assert reopened.all() == [bill]
    assert reopened.create(values("jane@example.com")).id == bill.id + 1
    reopened.close()


def test_affiliate_records_are_immutable(store: AffiliateStore) -> None:
    bill = store.create(values())
    assert isinstance(bill, Affiliate)
    with pytest.raises(AttributeError):
        bill.status = "DENIED"  # type: ignore[misc]
