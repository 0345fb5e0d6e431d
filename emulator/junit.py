"""JUnit XML reports, the format CI systems read: one suite of named cases, some failed.

The one JUnit writer, shared by the commands that report to CI (``replay``, ``check``), so a
shared leaf rather than part of either. Writes only (no XML is parsed here), with the
standard library. Pure: returns text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["JUnitCase", "junit_xml"]


@dataclass(frozen=True, slots=True)
class JUnitCase:
    """One test case: ``failure`` is ``None`` when it passed, else the full failure text.

    ``message`` is the ``message`` attribute CI systems show in lists; without it, the
    failure's first line. ``kind`` becomes the failure's ``type``; ``output`` its
    ``system-out``.
    """

    name: str
    seconds: float = 0.0
    failure: str | None = None
    classname: str = ""
    message: str | None = None
    kind: str | None = None
    output: str | None = None


def junit_xml(
    suite: str,
    cases: Sequence[JUnitCase],
    *,
    properties: Sequence[tuple[str, str]] = (),
    seconds: float | None = None,
) -> str:
    """The report as an XML document string, ``<testsuites>`` with one ``<testsuite>``.

    ``properties`` become the suite's ``<properties>``; ``seconds`` is the suite's time when
    it is more than the sum of its cases' (setup, a server started once).
    """
    failures = sum(1 for case in cases if case.failure is not None)
    total = sum(case.seconds for case in cases) if seconds is None else seconds
    root = ET.Element("testsuites", _counts(len(cases), failures, total))
    node = ET.SubElement(root, "testsuite", {"name": suite, **_counts(len(cases), failures, total)})
    if properties:
        listed = ET.SubElement(node, "properties")
        for name, value in properties:
            ET.SubElement(listed, "property", {"name": name, "value": value})
    for case in cases:
        _add_case(node, suite, case)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _add_case(node: ET.Element, suite: str, case: JUnitCase) -> None:
    attributes = {"name": case.name, "classname": case.classname or suite}
    element = ET.SubElement(node, "testcase", {**attributes, "time": f"{case.seconds:.3f}"})
    if case.failure is not None:
        message = case.message
        if message is None:
            message = case.failure.splitlines()[0] if case.failure else "failed"
        failure_attributes = {"message": message}
        if case.kind is not None:
            failure_attributes["type"] = case.kind
        failure = ET.SubElement(element, "failure", failure_attributes)
        failure.text = case.failure
    if case.output is not None:
        ET.SubElement(element, "system-out").text = case.output


def _counts(tests: int, failures: int, seconds: float) -> dict[str, str]:
    return {
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "time": f"{seconds:.3f}",
    }
