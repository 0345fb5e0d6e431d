"""Every bad input file makes ``send`` exit 2 with one line naming the file and the problem."""

from __future__ import annotations

import codecs
import io
import json
import os
from pathlib import Path

import pytest

from emulator.cli import run

GOOD = {"type": "delete", "userId": "ghost"}


def send(*names: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["send", *names], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_exit_2(names: list[str], culprit: str, problem: str) -> None:
    code, out, err = send(*names)
    assert code == 2
    assert out == "", "nothing runs when an input is bad"
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert culprit in err
    assert problem in err


CONTENTS: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty"),
    ("blank", b" \n\t\n", "empty"),
    ("binary", b"\x00\x01\x02PK\x03\x04", "binary file"),
    ("latin-1", '{"name": "Jos\xe9"}'.encode("latin-1"), "not UTF-8 text (byte 13)"),
    ("utf-16", codecs.BOM_UTF16_LE + '{"a": 1}'.encode("utf-16-le"), "not UTF-8 text but UTF-16"),
    ("truncated", b'{"type": "identify", "userId":', "not valid JSON"),
    ("json-lines", b'{"type": "delete", "userId": "a"}\n{oops}\n', "line 2 is not valid JSON"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    ("a-number", b"42", "payload[0] is not a JSON object"),
    ("empty-list", b"[]", "must be a non-empty array"),
    ("bad-batch", b'{"batch": {"type": "identify"}}', "batch must be a non-empty array"),
    ("bad-entry", b'{"events": [{"type": "delete"}], "entry": "ftp"}', "entry 'ftp'"),
    ("bad-expect", b'{"events": [{"type": "delete"}], "expect": {"outcomes": []}}', "one outcome"),
]


@pytest.mark.parametrize(("label", "content", "problem"), CONTENTS, ids=[c[0] for c in CONTENTS])
def test_bad_contents(tmp_path: Path, label: str, content: bytes, problem: str) -> None:
    path = tmp_path / f"{label}.json"
    path.write_bytes(content)
    assert_one_line_exit_2([str(path)], path.name, problem)


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    assert_one_line_exit_2([str(path)], "nowhere.json", "cannot read (No such file or directory)")


def test_a_directory(tmp_path: Path) -> None:
    assert_one_line_exit_2([str(tmp_path)], str(tmp_path), "is a directory")


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root reads a chmod 000 file anyway (CI runs as root)"
)
def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text(json.dumps(GOOD))
    path.chmod(0)
    try:
        assert_one_line_exit_2([str(path)], "locked.json", "cannot read (Permission denied)")
    finally:
        path.chmod(0o600)


def test_an_enormous_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(51 * 2**20)  # sparse: no disk used, no time spent
    assert_one_line_exit_2([str(path)], "huge.json", "larger than 50 MB")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_read_only_up_to_the_limit() -> None:
    assert_one_line_exit_2(["/dev/zero"], "/dev/zero", "larger than 50 MB")


def test_one_bad_file_among_good_ones_stops_before_anything_runs(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert_one_line_exit_2([str(good), str(bad)], "bad.json", "not valid JSON")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + json.dumps(GOOD).encode())
    code, out, err = send(str(path))
    assert (code, err) == (0, "")
    assert "not_found" in out
