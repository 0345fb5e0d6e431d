"""docs/assumptions.md, rendered from the registry so the page and the code cannot drift.

Regenerate with ``python -m emulator.assumptions.document > docs/assumptions.md``;
tests/test_assumptions_docs.py fails while the page differs from this rendering.
"""

from __future__ import annotations

from emulator.assumptions.registry import ASSUMPTIONS, Assumption

__all__ = ["render_markdown"]

_SIDES = {
    "mapping": "the destination's mapping of a message to a Refersion request (in the "
    "emulator: the built-in mapping)",
    "destination": "the destination's answer to Segment (in the emulator: its receiver)",
    "refersion": "Refersion (in the emulator: the fake Refersion API)",
    "segment": "Segment's Tracking API, delivery and regulations (in the emulator: its Segment "
    "side)",
}

_INTRO = """\
# Assumptions

<!-- Generated from emulator/assumptions/registry.py by
     `python -m emulator.assumptions.document > docs/assumptions.md`; do not edit by hand. -->

Segment's Refersion destination is closed source, and Refersion does not publish how Segment
traits become affiliate fields. Where no public source says what happens, the emulator makes a
choice. Each such choice is listed here as an *assumption*: what it is about, the variant the
emulator uses by default, the plausible alternatives and what each does, why the default was
chosen and what evidence would settle it. What public sources do state is cited in
[sources.md](sources.md) instead.

Every assumption is:

- **visible**: each trace lists the assumptions it relied on, with the variant used and, where
  it is cheap to say, what another variant would have done (`send`, `replay`, `GET
  /_emulator/events/{id}`, the inspector's trace view);
- **switchable**: `--assume ID=VARIANT` (repeatable) on `serve`, `send`, `replay`, `check` and
  `engage`; `PUT /_emulator/assumptions` at run time; `EmulatorConfig(assumptions=
  AssumptionChoices.of({...}))` in Python; `@pytest.mark.refersion_emulator(assume={...})` in
  tests; an `"assumptions"` object in a fixture pins the variants that fixture was written for;
  `refersion-emulator assumptions [--json]` lists them;
- **checked**: `refersion-emulator check --across-assumptions` runs the property suite once
  per variant and reports which variants the destination under test survives (variants no
  property can observe are listed as not checked, never as survived).

Three older flags are the same switch as an assumption: `--status` (pytest marker `status=`,
a fixture's `settings.status`, `DestinationSettings.status`) chooses `affiliate-status`,
`--send-welcome` (`send_welcome=`) chooses `send-welcome`, and `--offer ID` (`offer=`)
chooses `new-affiliate-offer=given` with that offer id. Precedence, everywhere: an explicit
choice of the assumption (`--assume`, the marker's `assume=`, a fixture's `"assumptions"`,
`PUT /_emulator/assumptions`) wins over the flag, and the flag wins over the default.
`serve --cors-allow-header NAME` adds header names under `cors-headers=libraries` (under
`any` every header is allowed already).
"""

_CI = """\
## Checking a destination across every variant (CI)

`check` states what a Segment user relies on (an identify creates the affiliate with these
fields, a delete removes it, a repeated event changes nothing, bad input is turned away). With
`--across-assumptions` it runs those properties once with the variants in force (the
baseline), then once for every other variant of every assumption, that one variant switched,
all with the same seed. `--assume-all ID` (repeatable) does the same for the named assumptions
only. The report gives a verdict per variant and the first failure of each failing one; the
exit code is 1 when any run fails, so CI fails as soon as the code under test depends on an
open point being decided one particular way.

```sh
# the built-in mapping, every variant, few examples (what this repository's CI runs)
refersion-emulator check --across-assumptions --examples 5 --seed 1

# your own mapping, only the points it must survive
refersion-emulator check --mapping team.mapping:map_message \\
    --assume-all delete-lookup --assume-all text-limit --examples 50 --seed 1 --json > variants.json

# your own receiver behind a URL (it calls the emulator's fake Refersion on --port)
refersion-emulator check --destination-url http://127.0.0.1:9000/segment --port 8765 \\
    --across-assumptions --examples 20
```

How a team uses it: run the baseline `check` on every commit, and the across-variants run
nightly or before a release. A variant that fails is a decision to make: either the code
should not depend on that point (make it survive: e.g. send `firstName`/`lastName`, so
`name-split` cannot matter, or two-letter country codes, so `country-spelling` cannot), or the
team accepts the risk and pins the default with `--assume ID=VARIANT` so the choice is written
down. Variants of mapping-side assumptions change the built-in mapping only; a plugged-in
mapping receives the choices in `settings.assumptions` and may follow them or not. With a
receiver behind `--destination-url`, only the `refersion` and `segment` side assumptions
change anything.
"""


def _section(entry: Assumption) -> list[str]:
    lines = [f"### `{entry.id}`", "", entry.statement, ""]
    lines.append(f"Decided by {_SIDES[entry.side]}.")
    lines.append("")
    lines.append("| variant | what it does |")
    lines.append("| --- | --- |")
    for variant in entry.variants:
        name = (
            f"**`{variant.name}`** (default)"
            if variant.name == entry.default
            else f"`{variant.name}`"
        )
        lines.append(f"| {name} | {variant.does} |")
    lines.append("")
    lines.append(f"**Why the default:** {entry.why}")
    lines.append("")
    lines.append(f"**What would settle it:** {entry.settle}")
    lines.append("")
    return lines


def render_markdown() -> str:
    """The whole page: the introduction, an index, one section per assumption, the CI guide."""
    lines = [_INTRO, "## Index", "", "| id | default | other variants |", "| --- | --- | --- |"]
    for entry in ASSUMPTIONS.values():
        others = ", ".join(f"`{name}`" for name in entry.variant_names if name != entry.default)
        lines.append(f"| [`{entry.id}`](#{entry.id}) | `{entry.default}` | {others} |")
    lines.extend(["", "## The assumptions", ""])
    for entry in ASSUMPTIONS.values():
        lines.extend(_section(entry))
    lines.append(_CI)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_markdown())
