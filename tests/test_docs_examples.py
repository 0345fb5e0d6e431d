"""Every example in the README and the docs pages runs, in the order written, and prints what
the page shows: a page is followed top to bottom as a new user would, in an empty directory
holding a copy of ``fixtures/``, against one ``refersion-emulator serve`` started for it.

How a page's fenced blocks are read (write new examples to fit):

- ``sh``: each command (lines up to the next ``# `` line) runs in bash and must exit 0; the
  ``# `` lines after it are its output. ``serve`` commands are started on a free port and
  stopped once listening; ``127.0.0.1:8765`` means the page's server.
- a bare block whose first line starts with ``$ ``: a terminal session; each ``$`` command
  runs, and the lines up to the next ``$`` are its output.
- ``python``: a script, run; ``# test_*.py`` on its first line makes it a pytest file, run
  with pytest. A bare block right after a script is the script's output.
- ``<!-- doc-test: file PATH -->`` before a block writes it to ``PATH`` instead of running it;
  ``<!-- doc-test: skip REASON -->`` leaves it out, saying why. Any other block fails the test.

Outputs match with ``…`` standing for any text, whitespace runs counting as one space, and any
``127.0.0.1:<port>`` as the same address.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.journal.reconcile import OUTCOME_BUCKETS
from tests.support import FIXTURES, ROOT

PAGES = [
    "README.md",
    "docs/local-testing.md",
    "docs/python-api.md",
    "docs/ci-contract-checks.md",
    "docs/customer-payloads.md",
    "docs/faults-and-retries.md",
    "docs/engage-and-regulations.md",
    "docs/security.md",
    "docs/reference.md",
    "BENCHMARKS.md",
]
# Pages other branches add; the README links to them before they land here.
PAGES_ELSEWHERE = {
    "docs/web-frontend.md",
    "docs/reliability.md",
    "docs/assumptions.md",
    "docs/sources.md",
    "docs/reason-codes.md",
}
FENCE = re.compile(
    r"(?:^<!-- doc-test: (?P<note>[^>]*?) -->\n)?^```(?P<info>[a-z]*)\n(?P<body>.*?)^```$",
    re.DOTALL | re.MULTILINE,
)
BIN = Path(sys.executable).parent
ADDRESS = re.compile(r"127\.0\.0\.1:\d+")
SERVE = re.compile(r"(\S+/)?refersion-emulator serve\b")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    info: str
    body: str
    note: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, m.start("body")), m["info"], m["body"], m["note"])
        for m in FENCE.finditer(text)
    ]


def normalized(text: str) -> str:
    return " ".join(ADDRESS.sub("127.0.0.1:PORT", text).split())


def matches(shown: str, actual: str) -> bool:
    """``actual`` is ``shown`` with each ``…`` standing for any text (possibly none)."""
    pieces = [piece.strip() for piece in normalized(shown).split("…")]
    got = normalized(actual)
    if not got.startswith(pieces[0]):
        return False
    position = len(pieces[0])
    for piece in pieces[1:-1]:
        found = got.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    if len(pieces) == 1:
        return got == pieces[0]
    last = pieces[-1]
    return got.endswith(last) and len(got) - len(last) >= position


class Page:
    """One page followed in order: its directory, its server, its previous script's output."""

    def __init__(self, page: str, workdir: Path) -> None:
        self.page = page
        self.workdir = workdir
        self.server: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.last_script_output: str | None = None
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "XDG_CACHE_HOME": str(workdir / ".cache"),
        }

    def close(self) -> None:
        if self.server is not None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.communicate(timeout=15)
            finally:
                if self.server.poll() is None:
                    self.server.kill()
                    self.server.communicate()

    def address(self) -> str:
        """The page's server (started on first use), standing for 127.0.0.1:8765."""
        if self.server is None:
            self.server, url = start_serve(["serve", "--port", "0"], self.workdir, self.env)
            self.port = int(url.rsplit(":", 1)[1])
        return f"127.0.0.1:{self.port}"

    def localised(self, text: str) -> str:
        return text.replace("127.0.0.1:8765", self.address()) if "127.0.0.1:8765" in text else text

    def shell(self, command: str) -> subprocess.CompletedProcess[str]:
        return self.execute(["bash", "-c", f"set -eo pipefail\n{self.localised(command)}"])

    def execute(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """``argv`` run in the page's directory, as the reader's terminal would."""
        return subprocess.run(
            argv,
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    def run(self, block: Block) -> None:
        note = block.note or ""
        if note.startswith("skip "):
            return
        if note.startswith("file "):
            path = self.workdir / note.removeprefix("file ").strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
            return
        assert not note, f"{block.where}: unknown doc-test note {note!r}"
        if block.info == "sh":
            self.run_sh(block)
        elif block.info == "python":
            self.run_python(block)
        elif block.info == "" and block.body.startswith("$ "):
            self.run_session(block)
        elif block.info == "" and self.last_script_output is not None:
            assert matches(block.body, self.last_script_output), (
                f"{block.where}: the script above printed\n{self.last_script_output}"
            )
        else:
            pytest.fail(f"{block.where}: a ```{block.info} block that is neither run nor noted")
        if block.info != "python":
            self.last_script_output = None

    def run_sh(self, block: Block) -> None:
        for command, shown in commands(block.body):
            lines = command.splitlines()
            if all(SERVE.match(line) for line in lines):
                for line in lines:  # started on a free port, and stopped once listening
                    argv = shlex.split(line, comments=True)[1:]
                    server, _ = start_serve([*argv, "--port", "0"], self.workdir, self.env)
                    server.send_signal(signal.SIGINT)
                    _, err = server.communicate(timeout=15)
                    assert server.returncode == 0, f"{block.where}: {line}\n{err}"
                continue
            done = self.shell(command)
            assert done.returncode == 0, (
                f"{block.where}: {command!r} exited {done.returncode}\n{done.stderr}"
            )
            if shown is not None:
                assert matches(shown, done.stdout), (
                    f"{block.where}: {command!r} printed\n{done.stdout}\nnot\n{shown}"
                )

    def run_session(self, block: Block) -> None:
        for command, shown in session(block.body):
            done = self.shell(command)
            assert done.returncode in (0, 1), f"{block.where}: {command!r}\n{done.stderr}"
            assert matches(shown, done.stdout), (
                f"{block.where}: {command!r} printed\n{done.stdout}\nnot\n{shown}"
            )

    def run_python(self, block: Block) -> None:
        source = self.localised(block.body)
        first = source.splitlines()[0]
        name = re.match(r"# (test_\w+\.py)", first)
        if name is not None:
            (self.workdir / name[1]).write_text(source, encoding="utf-8")
            argv = ["-m", "pytest", name[1], "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
        else:
            script = self.workdir / f"example_{block.line}.py"
            script.write_text(source, encoding="utf-8")
            argv = [script.name]
        done = self.execute([sys.executable, *argv])
        assert done.returncode == 0, (
            f"{block.where}: the example failed\n{done.stdout}{done.stderr}"
        )
        assert "Traceback" not in done.stderr, f"{block.where}:\n{done.stderr}"
        self.last_script_output = done.stdout


def commands(body: str) -> Iterator[tuple[str, str | None]]:
    """A ``sh`` block's commands, each with the ``# `` output lines after it (or ``None``)."""
    command: list[str] = []
    shown: list[str] = []
    for line in [*body.splitlines(), ""]:
        if line.startswith("#") and command:
            shown.append(line[2:])
            continue
        if (shown or not line.strip()) and command:
            yield "\n".join(command), "\n".join(shown) if shown else None
            command, shown = [], []
        if line.strip() and not line.startswith("#"):
            command.append(line)


def session(body: str) -> Iterator[tuple[str, str]]:
    """A terminal session's ``$`` commands, each with the lines it printed."""
    parts = re.split(r"^\$ (.*)\n", body, flags=re.MULTILINE)
    yield from zip(parts[1::2], parts[2::2], strict=True)


def start_serve(
    argv: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [str(BIN / "refersion-emulator"), *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    if not first.startswith("refersion-emulator listening on "):
        server.kill()
        _, err = server.communicate()
        pytest.fail(f"refersion-emulator {' '.join(argv)} did not start: {first}{err}")
    return server, first.split()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_example_runs_and_prints_what_the_page_shows(page: str, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    (tmp_path / ".venv").symlink_to(BIN.parent)  # what `make run` leaves in a clone
    follower = Page(page, tmp_path)
    try:
        for block in blocks(page):
            follower.run(block)
    finally:
        follower.close()


@pytest.mark.parametrize("page", PAGES)
def test_links_point_at_files_in_the_repository(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path = ((ROOT / page).parent / target).resolve().relative_to(ROOT).as_posix()
        assert (ROOT / path).exists() or path in PAGES_ELSEWHERE, f"{page}: broken link {target}"


@pytest.mark.parametrize("page", PAGES)
def test_pages_cite_only_what_is_in_the_repository(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    outside = re.findall(r"reference/[\w-]+\.md|\bSPEC\b(?!`)|\bissue \d+", text)
    assert outside == [], f"{page} cites sources outside the repository: {outside}"


def test_every_skipped_block_says_why() -> None:
    for page in PAGES:
        for block in blocks(page):
            if block.note and block.note.startswith("skip"):
                assert len(block.note.split()) > 2, f"{block.where}: a skip needs a reason"


def test_matching_treats_the_ellipsis_as_any_text() -> None:
    assert matches('{"a": 1, …}', json.dumps({"a": 1, "b": 2}))
    assert matches('… "outcome": "deleted" …', '{"x": 1, "outcome": "deleted", "y": 2}')
    assert not matches('… "outcome": "deleted" …', '{"outcome": "not_found"}')
    assert not matches('{"a": 1}', '{"a": 1, "b": 2}')
    assert matches("PASS x\n  …\nend", "PASS x\n  one\n  two\nend")
    assert not matches("first … last", "first middle")


def test_the_reconciliation_table_puts_every_outcome_in_its_bucket() -> None:
    text = (ROOT / "docs/faults-and-retries.md").read_text(encoding="utf-8")
    table = text[text.index("| Bucket | Outcomes |") :].split("\n\n", 1)[0]
    shown = {
        outcome: row.split("|")[1].strip()
        for row in table.splitlines()[2:]
        for outcome in re.findall(r"`(\w+)`", row.split("|")[2])
    }
    assert shown == dict(OUTCOME_BUCKETS)


def test_the_readme_stays_a_first_page() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
