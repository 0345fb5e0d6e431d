"""The command line: send's exit codes and output, serve's start and clean stop."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from emulator.cli import build_parser
from tests.support import DOC, ROOT, cli, write


def test_send_a_fixture_prints_every_hop_and_passes() -> None:
    code, out, err = cli("send", str(DOC))
    assert (code, err) == (0, "")
    for hop in ("ingest", "routing", "delivery", "receive", "mapping", "refersion", "answer"):
        assert f" {hop} " in out
    assert "outcome: created" in out
    assert "traits.address.postalCode  → zip" in out
    assert "PASS" in out
    assert "\x1b[" not in out  # no colour when not a terminal


def test_send_json_output_is_machine_readable() -> None:
    code, out, _ = cli("send", "--json", str(DOC))
    assert code == 0
    report = json.loads(out)
    assert report["passed"] is True
    [case] = report["cases"]
    assert case["events"][0]["outcome"] == "created"
    assert case["affiliates"][0]["zip"] == "94103"


def test_send_exits_1_when_an_event_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "one-word.json",
        {"type": "identify", "userId": "u", "traits": {"name": "Cher", "email": "c@example.com"}},
    )
    code, out, _ = cli("send", path)
    assert code == 1
    assert "name_incomplete" in out
    assert "FAIL" in out


def test_send_exits_1_when_an_expectation_is_not_met(tmp_path: Path) -> None:
    fixture = json.loads(DOC.read_text())
    fixture["expect"]["outcomes"] = ["already_exists"]
    code, out, _ = cli("send", write(tmp_path, "f.json", fixture))
    assert code == 1
    assert "expected already_exists" in out


def test_send_reads_stdin() -> None:
    payload = json.dumps({"type": "delete", "userId": "ghost"}).encode()
    code, out, _ = cli("send", "-", stdin=payload)
    assert code == 0
    assert "not_found" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("", "empty"),
        ("{broken", "not valid JSON"),
        ("\x00binary", "binary"),
    ],
)
def test_send_input_errors_exit_2_with_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = (
        str(tmp_path / "missing.json") if content is None else write(tmp_path, "bad.json", content)
    )
    code, out, err = cli("send", path)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert Path(path).name in err


def test_send_a_directory_is_an_input_error(tmp_path: Path) -> None:
    code, _, err = cli("send", str(tmp_path))
    assert code == 2
    assert "directory" in err


def test_usage_errors_exit_2() -> None:
    code, _, err = cli("send")
    assert code == 2
    assert "required" in err
    code, _, err = cli("serve", "--status", "MAYBE")
    assert code == 2
    code, _, err = cli("serve", "--host", "0.0.0.0")  # noqa: S104 - checks that it is refused
    assert code == 2
    assert "--allow-remote" in err


def test_serve_starts_prints_the_urls_and_stops_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("refersion-emulator listening on http://127.0.0.1:")
        url = first.split()[-1]
        banner = ""
        while "Ctrl-C" not in banner:
            line = proc.stdout.readline()
            assert line, "serve stopped before printing its banner"
            banner += line
        assert "analytics.host" in banner
        assert "curl" in banner
        assert "sec_emulator0000000000" not in banner  # the secret key is never printed whole
        deadline = time.monotonic() + 10
        while True:
            try:
                health = f"{url}/_emulator/health"
                with urllib.request.urlopen(health, timeout=2) as resp:  # noqa: S310 - http URL we built
                    assert json.load(resp)["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_help_presents_status_welcome_and_offer_as_the_emulators_choices() -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit), contextlib.redirect_stdout(out):
        build_parser().parse_args(["serve", "--help"])
    text = " ".join(out.getvalue().split())
    assert "the destination's one Segment setting: its API key" in text
    assert "choices about new affiliates:" in text
    assert "Assumptions, not Segment settings" in text
    for flag in ("--status", "--send-welcome", "--offer"):
        assert text.index(flag, text.index("choices about new affiliates:")) > 0
