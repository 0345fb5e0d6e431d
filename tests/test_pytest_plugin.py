"""The pytest plugin, run as users run it: in a pytest session of their own (``pytester``)."""

from __future__ import annotations

import pytest

# What every generated test file starts with: a way to send an identify over real HTTP.
PREAMBLE = """
import json
import urllib.request

import pytest


def identify(emu, email, name="Peter Gibbons", **traits):
    body = {"writeKey": "k", "userId": email.split("@")[0],
            "traits": {"name": name, "email": email, **traits}}
    request = urllib.request.Request(
        emu.segment_host + "/v1/identify", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200
"""


@pytest.fixture
def users_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    return pytester


def test_the_fixture_gives_one_server_with_fresh_state_for_each_test(
    users_project: pytest.Pytester,
) -> None:
    users_project.makepyfile(
        PREAMBLE
        + """
URLS = set()


def test_first(refersion_emulator):
    URLS.add(refersion_emulator.url)
    assert refersion_emulator.url.startswith("http://127.0.0.1:")
    assert refersion_emulator.refersion_url == refersion_emulator.url + "/refersion/v2"
    assert refersion_emulator.api_key == "pub_emulator0000000000.sec_emulator0000000000"
    identify(refersion_emulator, "peter@example.com")
    affiliate = refersion_emulator.wait_for_affiliate("peter@example.com")
    assert affiliate["first_name"] == "Peter"
    refersion_emulator.assert_no_unexpected_calls()


def test_second_sees_nothing_of_the_first(refersion_emulator):
    URLS.add(refersion_emulator.url)
    assert refersion_emulator.affiliates() == []
    assert refersion_emulator.events() == []


async def test_async_tests_get_it_too(refersion_emulator):
    URLS.add(refersion_emulator.url)
    identify(refersion_emulator, "mary@example.com", name="Mary Jane Watson")
    affiliate = await refersion_emulator.wait_for_affiliate_async("mary@example.com")
    assert affiliate["last_name"] == "Jane Watson"


def test_last_one_server_for_the_session():
    assert len(URLS) == 1
"""
    )
    users_project.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_the_marker_picks_assumption_variants_for_one_test(users_project: pytest.Pytester) -> None:
    users_project.makepyfile(
        PREAMBLE
        + """
@pytest.mark.refersion_emulator(assume={"name-split": "last-whitespace"})
def test_marked(refersion_emulator):
    identify(refersion_emulator, "mary@example.com", name="Mary Jane Watson")
    affiliate = refersion_emulator.wait_for_affiliate("mary@example.com")
    assert (affiliate["first_name"], affiliate["last_name"]) == ("Mary Jane", "Watson")
    [event] = refersion_emulator.events()
    used = {(note["id"], note["variant"]) for note in event["assumptions"]}
    assert ("name-split", "last-whitespace") in used


def test_unmarked_gets_the_default_again(refersion_emulator):
    identify(refersion_emulator, "mary@example.com", name="Mary Jane Watson")
    affiliate = refersion_emulator.wait_for_affiliate("mary@example.com")
    assert (affiliate["first_name"], affiliate["last_name"]) == ("Mary", "Jane Watson")
"""
    )
    users_project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_marker_sets_destination_settings_for_one_test(users_project: pytest.Pytester) -> None:
    users_project.makepyfile(
        PREAMBLE
        + """
@pytest.mark.refersion_emulator(status="ACTIVE", offer="12", send_welcome="TRUE")
def test_marked(refersion_emulator):
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_affiliate("peter@example.com", status="ACTIVE", offer_id="12")
    [event] = refersion_emulator.events()
    [mapping] = [hop for hop in event["hops"] if hop["name"] == "mapping"]
    assert mapping["detail"]["body"]["send_welcome"] == "TRUE"


@pytest.mark.refersion_emulator(status="ACTIVE")
class TestClassLevel:
    @pytest.mark.refersion_emulator(offer="7")
    def test_closest_marker_wins_and_both_apply(self, refersion_emulator):
        identify(refersion_emulator, "paul@example.com")
        refersion_emulator.assert_affiliate("paul@example.com", status="ACTIVE", offer_id="7")


@pytest.mark.refersion_emulator(api_key="pub_x.sec_y")
def test_api_key(refersion_emulator):
    assert refersion_emulator.api_key == "pub_x.sec_y"
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_rejected("refersion_401", email="peter@example.com")


def test_unmarked_after_marked_gets_the_defaults_back(refersion_emulator):
    assert refersion_emulator.api_key == "pub_emulator0000000000.sec_emulator0000000000"
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_affiliate("peter@example.com", status="PENDING", offer_id="1")
"""
    )
    users_project.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_helper_failures_read_well_in_pytest_output(users_project: pytest.Pytester) -> None:
    users_project.makepyfile(
        PREAMBLE
        + """
def test_wrong_field(refersion_emulator):
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_affiliate("peter@example.com", first_name="Pete")


def test_never_created(refersion_emulator):
    identify(refersion_emulator, "peter@example.com", name="Peter")
    refersion_emulator.wait_for_affiliate("peter@example.com", timeout=0.2)


def test_not_rejected(refersion_emulator):
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_rejected("missing_email", timeout=0.2)
"""
    )
    result = users_project.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            ">*refersion_emulator.assert_affiliate(*",
            "E*AssertionError: affiliate 'peter@example.com' is not as expected:",
            "E*  first_name: stored 'Peter', expected 'Pete'",
            "test_*.py:*: AssertionError",
            ">*refersion_emulator.wait_for_affiliate(*",
            "E*AssertionError: no affiliate with email 'peter@example.com' within 0.2s.",
            "E*The fake Refersion account has no affiliates.",
            "E*The journal has 1 event:",
            "E*  t* identify userId=peter email=peter@example.com → rejected (name_incomplete):*",
            "test_*.py:*: AssertionError",
            ">*refersion_emulator.assert_rejected(*",
            "E*AssertionError: no event was rejected with reason 'missing_email' within 0.2s.",
            "E*  t* identify userId=peter email=peter@example.com → created",
            "test_*.py:*: AssertionError",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('colour="red"', "unknown setting(s) colour; known: api_key, assume, mapping, offer, *"),
        (
            'assume={"text-limit": "9"}',
            "assumption 'text-limit' has no variant '9'; variants: 255, none",
        ),
        ('assume={"nope": "x"}', "unknown assumption 'nope'; known: country-spelling, *"),
        ('status="MAYBE"', "status must be PENDING or ACTIVE, got 'MAYBE'"),
        ('mapping="nomodule_here:fn"', "mapping 'nomodule_here:fn': cannot import*"),
        ('"ACTIVE"', "takes keyword arguments only, got ('ACTIVE',)"),
    ],
)
def test_a_bad_marker_is_an_error_naming_the_problem(
    users_project: pytest.Pytester, marker: str, expected: str
) -> None:
    users_project.makepyfile(
        f"""
import pytest

@pytest.mark.refersion_emulator({marker})
def test_marked(refersion_emulator):
    pass
"""
    )
    result = users_project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.refersion_emulator: {expected}"])


def test_a_users_mapping_runs_under_the_contracts(users_project: pytest.Pytester) -> None:
    users_project.makepyfile(
        team_mapping="""
import dataclasses

from emulator import Operation, map_message


def shouting(message, *, settings):
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and "last_name" in result.body:
        return dataclasses.replace(result, body={**result.body, "last_name": "GIBBONS"})
    return result


def usa(message, *, settings):
    result = map_message(message, settings=settings)
    if isinstance(result, Operation) and result.endpoint == "affiliate/new":
        return dataclasses.replace(result, body={**result.body, "country": "USA"})
    return result
"""
    )
    users_project.makepyfile(
        PREAMBLE
        + """
def test_session_mapping(refersion_emulator):
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_affiliate("peter@example.com", last_name="GIBBONS")


@pytest.mark.refersion_emulator(mapping="team_mapping:usa")
def test_marker_mapping_breaks_a_contract(refersion_emulator):
    identify(refersion_emulator, "peter@example.com")
    refersion_emulator.assert_rejected("refersion_422", email="peter@example.com")
    refersion_emulator.assert_no_unexpected_calls()
"""
    )
    result = users_project.runpytest(
        "-p", "no:randomly", "--refersion-emulator-mapping", "team_mapping:shouting"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["E*- t* identify * broke refersion/affiliate-new.request at /country: *"]
    )


def test_a_bad_mapping_option_stops_the_run_at_once(users_project: pytest.Pytester) -> None:
    users_project.makepyfile("def test_nothing(): pass")
    result = users_project.runpytest("--refersion-emulator-mapping", "no-colon-here")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--refersion-emulator-mapping: mapping 'no-colon-here': expected package.module:*"]
    )


def test_the_session_config_can_be_overridden(users_project: pytest.Pytester) -> None:
    users_project.makeconftest(
        """
import pytest

from emulator import EmulatorConfig, RefersionCredentials


@pytest.fixture(scope="session")
def refersion_emulator_config():
    return EmulatorConfig(port=0, credentials=RefersionCredentials(public_key="p", secret_key="s"))
"""
    )
    users_project.makepyfile(
        """
def test_keys(refersion_emulator):
    assert refersion_emulator.api_key == "p.s"
"""
    )
    users_project.runpytest().assert_outcomes(passed=1)


def test_the_marker_is_registered(users_project: pytest.Pytester) -> None:
    result = users_project.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.refersion_emulator(api_key=, mapping=, status=, send_welcome=, offer=, "
            "assume=)*api_key is the destination's one Segment setting; status, send_welcome and "
            "offer are the emulator's choices about new affiliates (assumptions); "
            "assume={id: variant} picks variants of the emulator's assumptions*"
        ]
    )


def test_the_ini_option_sets_the_sessions_mapping(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "refersion_emulator_mapping = team_mapping:nobody\n"
    )
    pytester.makepyfile(
        team_mapping="""
from emulator import Rejection


def nobody(message, *, settings):
    return Rejection("closed", "We take no affiliates today.", "come back tomorrow", None)
""",
        test_closed="""
def test_closed(refersion_emulator):
    refersion_emulator.control("POST", "/_emulator/deliver", {
        "type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}})
    event = refersion_emulator.assert_rejected("closed")
    assert event["outcome"] == "rejected"
""",
    )
    pytester.runpytest().assert_outcomes(passed=1)
