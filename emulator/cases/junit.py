"""JUnit XML reports, the format CI systems read: one suite of named cases, some failed.

Shared by the commands that report to CI (``replay``, ``check``). Writes only (no XML is
parsed here), with the standard library. Pure: returns text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["JUnitCase", "junit_xml"]


@dataclass(frozen=True, slots=True)
class JUnitCase:
    """One test case: ``failure`` is ``None`` when it passed, else the full failure text.

    The failure's first line becomes the ``message`` attribute CI systems show in lists.
    """

    name: str
    seconds: float = 0.0
    failure: str | None = None
    classname: str = ""


def junit_xml(suite: str, cases: Sequence[JUnitCase]) -> str:
    """The report as an XML document string, ``<testsuites>`` with one ``<testsuite>``."""
    failures = sum(1 for case in cases if case.failure is not None)
    total = sum(case.seconds for case in cases)
    root = ET.Element("testsuites", _counts(len(cases), failures, total))
    node = ET.SubElement(root, "testsuite", {"name": suite, **_counts(len(cases), failures, total)})
    for case in cases:
        attributes = {"name": case.name, "classname": case.classname or suite}
        element = ET.SubElement(node, "testcase", {**attributes, "time": f"{case.seconds:.3f}"})
        if case.failure is not None:
            message = case.failure.splitlines()[0] if case.failure else "failed"
            failure = ET.SubElement(element, "failure", {"message": message})
            failure.text = case.failure
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _counts(tests: int, failures: int, seconds: float) -> dict[str, str]:
    return {
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "time": f"{seconds:.3f}",
    }
