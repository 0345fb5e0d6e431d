"""What a new user meets first on the command line: help, version, keys, pipes, generated events."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import emulator
from emulator.cli import build_parser
from emulator.commands.options import config_from_args, in_process_config
from emulator.commands.serve import key_mismatch
from tests.support import DOC, FIXTURES, ROOT, cli

COMMAND_NAMES = ("serve", "send", "replay", "check", "generate", "engage")


def parsed(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


def help_text(*argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        cli(*argv, "--help")
    assert stopped.value.code == 0
    return ""  # argparse prints to sys.stdout; the callers read it with capsys


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli("--version")
    assert stopped.value.code == 0
    version = importlib.metadata.version("segment-refersion-emulator")
    assert capsys.readouterr().out == f"refersion-emulator {version}\n"
    assert emulator.__version__ == version  # one source: the package, read by the build


@pytest.mark.parametrize("command", ["", *COMMAND_NAMES])
def test_help_reads_as_plain_text(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    help_text(*([command] if command else []))
    out = capsys.readouterr().out
    assert "``" not in out  # no reStructuredText quoting leaks into --help
    assert out.count("\n\n") >= 2, "a description paragraph, not only the usage"


def test_serve_help_describes_the_server_and_its_default_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    help_text("serve")
    out = " ".join(capsys.readouterr().out.split())
    assert "Start the emulator on http://127.0.0.1:8765" in out
    assert "(default 8765; 0 picks a free one)" in out


def test_status_and_send_welcome_say_they_are_the_emulators_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    help_text("send")
    out = " ".join(capsys.readouterr().out.split())
    group = out[out.index("choices about new affiliates:") :]
    assert group.startswith("choices about new affiliates: Assumptions, not Segment settings")
    for option in ("--status {PENDING,ACTIVE}", "--send-welcome {TRUE,FALSE}"):
        assert option in group


def test_retry_budget_help_states_the_defaults_each_command_really_uses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    help_text("send")
    out = " ".join(capsys.readouterr().out.split())
    assert "default: 4 hours for serve and check; 5 seconds for send, replay and engage" in out
    assert config_from_args(parsed("serve")).retry_budget == 4 * 3600  # type: ignore[arg-type]
    assert config_from_args(parsed("check")).retry_budget == 4 * 3600  # type: ignore[arg-type]
    assert in_process_config(parsed("send", "x.json")).retry_budget == 5  # type: ignore[arg-type]


def test_an_api_key_alone_becomes_the_fake_accounts_keys() -> None:
    config = config_from_args(parsed("serve", "--api-key", "pub_x.sec_y"))  # type: ignore[arg-type]
    assert config.credentials.api_key == "pub_x.sec_y"
    assert key_mismatch(config) is None


def test_send_with_only_an_api_key_creates_the_affiliate() -> None:
    code, out, _ = cli("send", str(DOC), "--api-key", "pub_mine.sec_mine0000000000", "--json")
    assert code == 0
    [case] = json.loads(out)["cases"]
    assert [event["outcome"] for event in case["events"]] == ["created"]


def test_explicit_account_keys_that_differ_are_kept_and_named_at_start() -> None:
    args = parsed(
        "serve", "--api-key", "pub_x.sec_y12345", "--public-key", "pub_a", "--secret-key", "sec_b0"
    )
    config = config_from_args(args)  # type: ignore[arg-type]
    assert config.credentials.api_key == "pub_a.sec_b0"
    warning = key_mismatch(config)
    assert warning is not None
    assert "pub_x.sec_…(10 chars)" in warning
    assert "pub_a.…(6 chars)" in warning
    assert "sec_y12345" not in warning
    assert "sec_b0" not in warning
    assert "401" in warning
    assert "--api-key" in warning


def test_a_default_key_with_account_keys_given_warns_too() -> None:
    config = config_from_args(parsed("serve", "--public-key", "pub_a"))  # type: ignore[arg-type]
    # The destination's key defaults to the account's own keys: nothing to warn about.
    assert key_mismatch(config) is None
    config = config_from_args(parsed("serve", "--api-key", "nodot"))  # type: ignore[arg-type]
    assert key_mismatch(config) is not None


def test_serve_prints_the_key_mismatch_warning_on_stderr_at_start() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            "0",
            "--api-key",
            "pub_x.sec_y",
            "--public-key",
            "pub_a",
            "--secret-key",
            "sec_b",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        warning = proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert warning.startswith("warning: the destination's API key pub_x.")
    assert "'unauthorized'" in warning


def test_output_piped_into_head_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "generate", "--count", "2000", "--seed", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert json.loads(first)["type"] == "identify"
    assert (proc.returncode, err) == (0, "")


@pytest.mark.parametrize("option", ["--destination-url", "--refersion-url"])
def test_a_url_that_is_not_one_names_what_was_expected(option: str) -> None:
    code, out, err = cli("check", option, "not-a-url", "--examples", "1")
    assert (code, out) == (2, "")
    example = "destination" if option == "--destination-url" else "refersion/v2"
    assert err == (
        f"error: {option} 'not-a-url' is not a URL; expected an absolute http:// or https:// "
        f"URL such as http://127.0.0.1:9000/{example}\n"
    )


@pytest.mark.parametrize("kind", ["identify", "delete", "engage"])
def test_generate_prints_as_many_distinct_message_ids_as_events(kind: str) -> None:
    code, out, _ = cli("generate", "--kind", kind, "--count", "50", "--seed", "3")
    assert code == 0
    ids = [json.loads(line)["messageId"] for line in out.splitlines()]
    assert len(ids) == 50
    assert len(set(ids)) == 50


def test_generated_events_sent_end_without_duplicates(tmp_path: Path) -> None:
    _, out, _ = cli("generate", "--count", "50", "--seed", "3")
    events = tmp_path / "events.jsonl"
    events.write_text(out)
    _, out, _ = cli("send", str(events), "--json")
    outcomes = [event["outcome"] for event in json.loads(out)["cases"][0]["events"]]
    assert "duplicate" not in outcomes


def test_replay_prints_the_same_assumptions_line_whatever_the_hash_seed(tmp_path: Path) -> None:
    fixture = FIXTURES / "segment-docs" / "refersion-destination-identify.json"
    lines = set()
    for seed in ("1", "2", "3", "4"):
        done = subprocess.run(
            [sys.executable, "-m", "emulator", "replay", str(fixture)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        [assumed] = [line for line in done.stdout.splitlines() if line.startswith("assumed")]
        lines.add(assumed)
    assert len(lines) == 1, lines
