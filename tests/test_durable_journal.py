"""The durable journal: what was acknowledged survives a restart or a SIGKILL and is delivered."""

from __future__ import annotations

import asyncio
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from emulator.clock import ManualClock
from emulator.journal.reconcile import OUTCOME_BUCKETS
from emulator.journal.store import JournalStoreError
from emulator.server.emulator import Emulator
from tests.support import ROOT, cli, fast_config, until

DELIVERED = {outcome for outcome, bucket in OUTCOME_BUCKETS.items() if bucket == "delivered"}


def identify(user_id: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user_id,
        "messageId": f"m-{user_id}",
        "traits": {"name": "Peter Gibbons", "email": f"{user_id}@example.com"},
    }


async def send(http: aiohttp.ClientSession, url: str, batch: list[dict[str, Any]]) -> int:
    async with http.post(f"{url}/v1/batch", json={"writeKey": "wk", "batch": batch}) as resp:
        return resp.status


async def flush(http: aiohttp.ClientSession, url: str, timeout: float = 30.0) -> None:
    async with http.post(f"{url}/_emulator/flush", params={"timeout": str(timeout)}) as resp:
        assert (await resp.json())["idle"] is True


async def test_journal_affiliates_and_dedupe_survive_a_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = str(tmp_path / "journal.db")
    async with Emulator(fast_config(journal_path=path)) as first:
        batch = [identify("a"), identify("b"), {"type": "track", "userId": "c", "event": "x"}]
        assert await send(http, first.url, batch) == 200
        await flush(http, first.url)
        before = {t.id: t.to_dict() for t in first.runtime.journal}
        affiliates = [a.to_public_dict() for a in first.runtime.store.all()]

    async with Emulator(fast_config(journal_path=path)) as second:
        journal = second.runtime.journal
        assert {t.id: t.to_dict() for t in journal} == before
        assert [a.to_public_dict() for a in second.runtime.store.all()] == affiliates
        assert await send(http, second.url, [identify("a"), identify("d")]) == 200
        await flush(http, second.url)
        newest = journal.query(limit=2)
        report = second.report()
    # A messageId acknowledged before the restart is still a duplicate after it.
    assert [(t.user_id, t.outcome) for t in newest] == [("d", "created"), ("a", "duplicate")]
    assert min(t.id for t in newest) > max(before)
    assert report.equation() == (
        "5 accepted = 3 delivered + 2 filtered + 0 discarded + 0 expired + 0 pending"
    )


async def test_an_acknowledged_request_is_already_on_disk(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = str(tmp_path / "journal.db")
    async with Emulator(fast_config(journal_path=path)) as emu:
        batch = [identify(f"u{n}") for n in range(50)]
        assert await send(http, emu.url, batch) == 200
        # Read by another connection, as a restarted process would, before anything else runs.
        with sqlite3.connect(path) as other:
            stored = {row[0] for row in other.execute("SELECT message_id FROM traces")}
        assert {m["messageId"] for m in batch} <= stored
        await flush(http, emu.url)


async def test_events_that_cannot_be_stored_are_not_acknowledged(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Emulator(fast_config(journal_path=str(tmp_path / "journal.db"))) as emu:
        assert emu.runtime.durable is not None
        store = emu.runtime.durable.store

        def disk_full(*_args: Any, **_kwargs: Any) -> None:
            raise JournalStoreError("journal file journal.db: cannot write (disk is full)")

        monkeypatch.setattr(store, "save", disk_full)
        async with http.post(
            f"{emu.url}/v1/batch", json={"writeKey": "wk", "batch": [identify("x")]}
        ) as resp:
            assert resp.status == 503  # Segment clients retry a 5xx
            body = await resp.json()
        assert body["code"] == "journal_unavailable"
        assert "disk is full" in body["message"]
        monkeypatch.undo()
        # The writer keeps trying; once the disk recovers the event is stored after all.
        await until(lambda: store.count() == 1)
        await flush(http, emu.url)


async def test_a_pending_retry_resumes_on_schedule_after_a_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = str(tmp_path / "journal.db")
    start = 1_800_000_000.0
    config = fast_config(
        journal_path=path, retry_initial_backoff=30.0, retry_max_backoff=60.0, retry_budget=3600.0
    )
    clock = ManualClock(start=start)
    async with Emulator(config, clock=clock) as first:
        first.add_fault("destination=503")
        assert await send(http, first.url, [identify("late")]) == 200
        await until(lambda: clock.sleeping == 1)
        [waiting] = list(first.runtime.journal)
        due = waiting.next_attempt_at
    assert waiting.outcome == "retrying"
    assert due is not None

    clock = ManualClock(start=start)
    async with Emulator(config, clock=clock) as second:
        [trace] = list(second.runtime.journal)
        assert (trace.outcome, trace.attempts, trace.next_attempt_at) == ("retrying", 1, due)
        await until(lambda: clock.sleeping == 1)
        assert clock.next_wakeup == pytest.approx(due)
        clock.advance_to_next()
        await until(lambda: trace.final)
    assert trace.outcome == "created"
    assert [h.name for h in trace.hops if h.name in ("delivery", "resume")] == [
        "delivery",
        "resume",
        "delivery",
    ]


async def test_reset_empties_the_file_too(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    path = str(tmp_path / "journal.db")
    async with Emulator(fast_config(journal_path=path)) as first:
        assert await send(http, first.url, [identify("gone")]) == 200
        await flush(http, first.url)
        async with http.post(f"{first.url}/_emulator/reset") as resp:
            assert resp.status == 200
    async with Emulator(fast_config(journal_path=path)) as second:
        assert len(second.runtime.journal) == 0
        assert second.runtime.store.count() == 0
    assert "gone@example.com" not in Path(path).read_bytes().decode("latin-1")


def test_a_file_that_is_not_a_journal_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes\n" * 100)
    with pytest.raises(JournalStoreError, match=r"notes\.txt: cannot open it"):
        Emulator(fast_config(journal_path=str(path)))
    code, _, err = cli("serve", "--port", "0", "--journal", str(path))
    assert code == 2
    assert err.startswith("error: journal file ")
    assert err.count("\n") == 1


class Server:
    """``python -m emulator serve --journal FILE --port 0`` in a subprocess."""

    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process = process
        self.url = url

    @classmethod
    async def start(cls, journal: str, *extra: str) -> Server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--journal",
            journal,
            "--port",
            "0",
            *extra,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), 60)
        found = re.match(rb"refersion-emulator listening on (http://\S+)", banner)
        assert found is not None, banner
        return cls(process, found[1].decode())

    async def stop(self, signum: int) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)
        await asyncio.wait_for(self.process.wait(), 30)


@pytest.fixture
async def servers() -> AsyncIterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        await server.stop(signal.SIGKILL)


@pytest.mark.slow
async def test_sigkill_mid_load_loses_no_acknowledged_event(
    tmp_path: Path, http: aiohttp.ClientSession, servers: list[Server]
) -> None:
    journal = str(tmp_path / "crash.db")
    # Slow Refersion calls keep a backlog of undelivered events at the moment of the kill.
    first = await Server.start(journal, "--fault", "refersion:affiliate/new=latency:0.05")
    servers.append(first)
    acked: list[str] = []
    killed = asyncio.Event()

    async def sender(worker: int) -> None:
        for round_ in range(1000):
            batch = [identify(f"w{worker}-{round_}-{i}") for i in range(10)]
            try:
                if await send(http, first.url, batch) == 200:
                    acked.extend(m["userId"] for m in batch)
            except (aiohttp.ClientError, OSError):
                assert killed.is_set(), "the server failed before it was killed"
                return

    senders = [asyncio.create_task(sender(n)) for n in range(4)]
    await until(lambda: len(acked) >= 300, timeout=60)
    first.process.kill()
    killed.set()
    await first.process.wait()
    await asyncio.gather(*senders)

    second = await Server.start(journal)
    servers.append(second)
    await flush(http, second.url, timeout=120)
    async with http.get(f"{second.url}/_emulator/events", params={"limit": "10000"}) as resp:
        events = {e["userId"]: e for e in (await resp.json())["events"]}
    async with http.get(f"{second.url}/_emulator/affiliates") as resp:
        emails = {a["email"] for a in (await resp.json())["affiliates"]}
    async with http.get(f"{second.url}/_emulator/report") as resp:
        report = await resp.json()
    async with http.get(
        f"{second.url}/_emulator/events", params={"full": "1", "limit": "10000"}
    ) as resp:
        resumed = [
            e
            for e in (await resp.json())["events"]
            if any(h["name"] == "resume" for h in e["hops"])
        ]
    await second.stop(signal.SIGTERM)

    missing = [user for user in acked if user not in events]
    assert missing == [], f"{len(missing)} acknowledged events are not in the journal"
    undelivered = [u for u in acked if events[u]["outcome"] not in DELIVERED]
    assert undelivered == []
    assert {f"{user}@example.com" for user in acked} <= emails
    assert resumed, "no delivery was pending at the kill; the test proved nothing about resuming"
    assert (report["pending"], report["remainder"]) == (0, 0)
    assert second.process.returncode == 0
