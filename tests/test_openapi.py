"""The OpenAPI document: valid 3.1, served, reusing the contracts, and true to the app's routes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from openapi_spec_validator import validate

from emulator import __version__
from emulator.contract_checks.contract_set import CONTRACT_BASE_URI, contracts_directory
from emulator.contract_checks.openapi import bundled_document, operations, source_document
from emulator.errors import ConfigError
from emulator.fake_refersion import FakeRefersion
from emulator.journal.traces import OUTCOMES
from emulator.segment.ingest import BATCH_ENDPOINTS, SHORT_PATHS, TRACKING_TYPES
from emulator.server.app import create_app
from emulator.server.emulator import Emulator
from emulator.server.ui import STATIC_DIR
from tests.support import fast_config

SOURCE = source_document()
BUNDLED = bundled_document()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def ops(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): document["paths"][path][method.lower()]
        for method, path in operations(document)
    }


# -- the document ----------------------------------------------------------------------------


def test_the_repository_document_is_valid_openapi_3_1() -> None:
    path = contracts_directory() / "openapi.json"
    validate(SOURCE, base_uri=path.resolve().as_uri())
    assert SOURCE["openapi"].startswith("3.1")


def test_the_bundled_document_is_valid_and_self_contained() -> None:
    validate(BUNDLED)
    assert all(ref.startswith("#/") for ref in refs(BUNDLED))


def test_bodies_are_the_contracts_not_copies_of_them() -> None:
    files = {ref for ref in refs(SOURCE) if not ref.startswith("#")}
    assert files, "the document references no contract"
    for file in files:
        assert (contracts_directory() / file).is_file(), file
    schemas = BUNDLED["components"]["schemas"]
    embedded = {s["x-contract"] for s in schemas.values() if "x-contract" in s}
    assert {f.removesuffix(".json") for f in files} <= embedded
    for schema in schemas.values():
        assert "$id" not in schema
        assert "$schema" not in schema
    text = json.dumps(BUNDLED)
    assert CONTRACT_BASE_URI not in text


def test_operation_ids_are_unique_and_every_operation_is_described() -> None:
    seen = [op["operationId"] for op in ops(SOURCE).values()]
    assert len(seen) == len(set(seen))
    for (method, path), op in ops(SOURCE).items():
        assert op["summary"], f"{method} {path}"
        assert op["description"], f"{method} {path}"
        # A redirect is the answer of a path that only points elsewhere (GET / → the inspector).
        assert any(code[0] in "23" for code in op["responses"]), f"{method} {path}"
        assert "4XX" in op["responses"], f"{method} {path} documents no error shape"


def test_the_delete_extension_is_marked_and_says_so() -> None:
    marked = {path for (_, path), op in ops(SOURCE).items() if op.get("x-emulator-extension")}
    assert marked == {"/refersion/v2/affiliate/delete"}
    description = SOURCE["paths"]["/refersion/v2/affiliate/delete"]["post"]["description"]
    assert description.startswith("Emulator extension: Refersion has no public delete endpoint")


def test_outcomes_are_the_journals() -> None:
    assert SOURCE["components"]["schemas"]["Outcome"]["enum"] == list(OUTCOMES)


def test_the_control_api_documents_its_token() -> None:
    schemes = SOURCE["components"]["securitySchemes"]
    assert schemes["controlToken"] == {
        **schemes["controlToken"],
        "type": "http",
        "scheme": "bearer",
    }
    assert schemes["controlTokenHeader"]["name"] == "X-Emulator-Token"
    for (_, path), op in ops(SOURCE).items():
        if path.startswith("/_emulator/"):
            assert {"controlToken": []} in op["security"], path


def test_a_broken_contract_reference_names_the_file(tmp_path: Path) -> None:
    copy = tmp_path / "contracts"
    shutil.copytree(contracts_directory(), copy)
    (copy / "segment" / "message.json").unlink()
    with pytest.raises(ConfigError, match=r"segment/message\.json"):
        bundled_document(directory=copy)


# -- served ----------------------------------------------------------------------------------


async def test_it_is_served_pointing_at_this_emulator(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emulator.url}/_emulator/openapi.json") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        served = await resp.json()
    assert served["servers"] == [{"url": emulator.url, "description": "this emulator"}]
    assert served["info"]["version"] == __version__
    assert served == bundled_document(server_url=emulator.url, version=__version__)


# -- true to the routes ----------------------------------------------------------------------


def route_label(route: web.AbstractRoute) -> str:
    resource = route.resource
    assert resource is not None
    canonical = resource.canonical
    if isinstance(resource, web.StaticResource):
        canonical += "/{filename}"
    return f"{route.method} {canonical}"


def template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


async def served_by(app: web.Application, method: str, path: str) -> web.AbstractRoute | None:
    """The route that answers ``method path``, or None (404, 405 or a catch-all '*' route)."""
    if "{" in path:
        for route in app.router.routes():
            label = route_label(route)
            if route.method == method and template(label.split(" ", 1)[1]) == template(path):
                return route
        return None
    match = await app.router.resolve(make_mocked_request(method, path, app=app))
    if match.http_exception is not None or match.route.method == "*":
        return None
    return match.route


async def test_every_route_is_documented_and_every_documented_operation_is_served() -> None:
    app = create_app(fast_config())
    documented = sorted(operations(SOURCE))
    matched: set[str] = set()
    unserved = []
    for method, path in documented:
        route = await served_by(app, method, path)
        if route is None:
            unserved.append(f"{method} {path}")
        else:
            matched.add(route_label(route))
    # HEAD comes with every GET; a "*" route only answers wrong methods with a JSON 405.
    routes = {
        route_label(route) for route in app.router.routes() if route.method not in ("HEAD", "*")
    }
    undocumented = sorted(routes - matched)
    assert undocumented == [], f"routes missing from contracts/openapi.json: {undocumented}"
    assert unserved == [], f"documented but not served: {unserved}"


def test_dynamic_routes_are_documented_value_by_value() -> None:
    paths = {path for _, path in operations(SOURCE)}
    tracking = {p for p in paths if p.startswith("/v1/")}
    assert tracking == {
        *(f"/v1/{kind}" for kind in (*TRACKING_TYPES, *BATCH_ENDPOINTS, *SHORT_PATHS)),
        "/v1/m",
        "/v1/projects/{writeKey}/settings",
        "/v1/{path}",
    }
    refersion = {p for p in paths if p.startswith("/refersion/v2/")}
    assert refersion == {f"/refersion/v2/{name}" for name in FakeRefersion.ENDPOINTS}


def test_every_inspector_file_is_documented_by_name() -> None:
    """The asset enum is what positive fuzzing fetches; a new file must be added to it."""
    (parameter,) = SOURCE["paths"]["/_emulator/ui/{asset}"]["get"]["parameters"]
    files = sorted(path.name for path in STATIC_DIR.iterdir() if path.name != "index.html")
    assert parameter["schema"]["enum"] == files
