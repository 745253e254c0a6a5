"""The comparison state document and the comparison over it, pinned without a whole run (fast).

test_changes.py runs whole finalizes; these pin the codec line by line, which baseline a run compares
with, and how new / resolved / carried-over are told apart, so a mutant dies in milliseconds.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from iam_inventory.compare.comparison import Comparison
from iam_inventory.compare.state import (
    IncompatibleState,
    PreviousState,
    StateHeader,
    decode_entry,
    decode_header,
    encode_entry,
    encode_header,
    load_previous,
    open_state,
    read_latest,
)
from iam_inventory.evaluate.changes import StateEntry, StateStatus, carry_forward, first_seen
from iam_inventory.models import Finding, Severity
from tests.builders import NOW

PROD, DEV = "111111111111", "222222222222"
SEEN = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def finding(finding_id: str, account_id: str = PROD, user: str | None = "zoë") -> Finding:
    return Finding(
        finding_id=finding_id,
        rule_id="access_key_too_old",
        severity=Severity.MEDIUM,
        cis_control="1.14",
        account_id=account_id,
        user_name=user,
        access_key_id="AKIA1",
        measured_value=120,
        threshold=90,
        unit="days",
        message="Access key is 120 days old (maximum 90)",
        tags={"owner": "team-a"},
        verified_live=False,
    )


def entry(finding_id: str, account_id: str = PROD, missed: int = 0) -> StateEntry:
    return StateEntry(finding(finding_id, account_id), SEEN, missed)


HEADER = StateHeader(
    run_id="run-2",
    folder="runs/2026/11/24/run-2",
    started_at="2026-11-24T06:00:00Z",
    previous_run_id="run-1",
    previous_folder="runs/2026/11/23/run-1",
    history=({"run_id": "run-1", "findings": 3},),
)


def test_the_header_line_is_compact_utf8_json_with_kind_and_version():
    # Given a header; When encoded; Then one compact JSON line, every field named
    assert encode_header(HEADER) == (
        '{"kind":"iam-inventory/comparison-state","schema_version":"1.0","run_id":"run-2",'
        '"folder":"runs/2026/11/24/run-2","started_at":"2026-11-24T06:00:00Z","previous_run_id":"run-1",'
        '"previous_folder":"runs/2026/11/23/run-1","history":[{"run_id":"run-1","findings":3}]}\n'
    )
    assert decode_header(encode_header(HEADER).encode()) == HEADER


def test_a_first_runs_header_reads_back_without_previous_run_or_history():
    first = StateHeader("run-1", "runs/run-1", "2026-11-23T06:00:00Z")
    assert decode_header(encode_header(first).encode()) == first
    # an older writer that left the optional fields out altogether
    line = (
        b'{"kind":"iam-inventory/comparison-state","schema_version":"1.3",'
        b'"run_id":1,"folder":"f","started_at":"s"}'
    )
    assert decode_header(line) == StateHeader("1", "f", "s", None, None, ())


def test_an_entry_line_keeps_the_finding_its_first_sighting_and_missed_runs():
    # Given a carried finding of a user with a non-ASCII name
    carried = entry("f1", missed=2)
    # When encoded and read back
    line = encode_entry(carried)
    # Then it is one compact UTF-8 JSON line (the name is not escaped): the finding as the report writes
    # it (never "new" in the state), then when it was first seen and how many runs missed its account
    assert line == (
        '{"finding":{"finding_id":"f1","rule_id":"access_key_too_old","severity":"medium",'
        '"cis_control":"1.14","account_id":"111111111111","user_name":"zoë","access_key_id":"AKIA1",'
        '"credential_type":"access_key","credential_id":"AKIA1","measured_value":120,"threshold":90,"unit":"days",'
        '"message":"Access key is 120 days old (maximum 90)","tags":{"owner":"team-a"},'
        '"first_seen_at":"2026-11-01T06:00:00Z","is_new":false,"verified_live":false},'
        '"first_seen_at":"2026-11-01T06:00:00Z","missed_runs":2}\n'
    )
    # And nothing is lost on the way back
    assert decode_entry(line.encode()) == carried


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"kind":"something-else","schema_version":"1.0"}', "not an iam-inventory comparison state"),
        (b'["iam-inventory/comparison-state"]', "not an iam-inventory comparison state"),
        (
            b'{"kind":"iam-inventory/comparison-state","schema_version":"2.0"}',
            "state schema '2.0', this version reads 1.0",
        ),
        (b'{"kind":"iam-inventory/comparison-state"}', "state schema '', this version reads 1.0"),
        (
            b'{"kind":"iam-inventory/comparison-state","schema_version":"11.0"}',
            "state schema '11.0', this version reads 1.0",
        ),
    ],
)
def test_another_kind_or_major_version_is_incompatible(line, message):
    with pytest.raises(IncompatibleState) as caught:
        decode_header(line)
    assert str(caught.value) == message


def gzipped(*lines: str) -> bytes:
    return gzip.compress("".join(lines).encode())


def test_open_state_reads_the_header_then_streams_entries_skipping_blank_lines():
    body = gzipped(encode_header(HEADER), encode_entry(entry("f1")), "\n", "   \n", encode_entry(entry("f2")))
    header, entries = open_state(io.BytesIO(body))
    assert header == HEADER
    assert [item.finding.finding_id for item in entries] == ["f1", "f2"]


class Store:
    """A RunStore over a dict of keys; records what was opened, and whether each stream was closed."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.opened: list[str] = []
        self.streams: list[io.BytesIO] = []

    def open(self, key: str) -> io.BytesIO | None:
        self.opened.append(key)
        if key not in self.objects:
            return None
        stream = io.BytesIO(self.objects[key])
        self.streams.append(stream)
        return stream


def state_of(run_id: str, folder: str, previous: str | None, *entries: StateEntry) -> bytes:
    header = StateHeader(run_id, folder, "2026-11-24T06:00:00Z", previous and "earlier", previous)
    return gzipped(encode_header(header), *(encode_entry(item) for item in entries))


def test_read_latest_is_none_before_the_first_baseline_and_refuses_a_pointer_without_folder():
    assert read_latest(Store({})) is None
    assert read_latest(Store({"latest.json": b'{"folder":"runs/r1","run_id":"r1"}'})) == {
        "folder": "runs/r1",
        "run_id": "r1",
    }
    for body in (b'{"run_id":"r1"}', b'{"folder":7}', b'["runs/r1"]'):
        with pytest.raises(ValueError) as caught:
            read_latest(Store({"latest.json": body}))
        assert str(caught.value) == "latest.json has no folder"


def test_the_first_run_compares_with_nothing_and_says_why():
    previous = load_previous(Store({}), "run-1")
    assert (previous.status, previous.detail, previous.header) == (
        StateStatus.NONE,
        "first run: no baseline to compare with",
        None,
    )
    assert previous.comparable
    assert list(previous.entries) == []


def test_the_baseline_is_the_run_latest_json_points_at():
    store = Store(
        {
            "latest.json": b'{"folder":"runs/r1"}',
            "runs/r1/state.jsonl.gz": state_of("run-1", "runs/r1", None, entry("f1")),
        }
    )
    previous = load_previous(store, "run-2")
    assert (previous.status, previous.detail, previous.header.run_id) == (StateStatus.OK, "", "run-1")
    assert [item.finding.finding_id for item in previous.entries] == ["f1"]
    assert store.opened == ["latest.json", "runs/r1/state.jsonl.gz"]


def test_a_retried_run_compares_with_its_first_attempts_baseline_and_closes_its_own_state():
    # Given latest.json pointing at run-2's own folder (its first attempt became the baseline)
    store = Store(
        {
            "latest.json": b'{"folder":"runs/r2"}',
            "runs/r2/state.jsonl.gz": state_of("run-2", "runs/r2", "runs/r1", entry("f2")),
            "runs/r1/state.jsonl.gz": state_of("run-1", "runs/r1", None, entry("f1")),
        }
    )
    # When run-2 runs again
    previous = load_previous(store, "run-2")
    # Then it compares with run-1, as its first attempt did, and its own state was closed unread
    assert (previous.status, previous.header.run_id) == (StateStatus.OK, "run-1")
    assert [item.finding.finding_id for item in previous.entries] == ["f1"]
    assert store.opened == ["latest.json", "runs/r2/state.jsonl.gz", "runs/r1/state.jsonl.gz"]
    assert store.streams[0].closed


def test_a_retried_first_run_has_no_baseline():
    store = Store(
        {"latest.json": b'{"folder":"runs/r1"}', "runs/r1/state.jsonl.gz": state_of("run-1", "runs/r1", None)}
    )
    previous = load_previous(store, "run-1")
    assert (previous.status, previous.detail) == (StateStatus.NONE, "first run: no baseline to compare with")
    assert store.opened == ["latest.json", "runs/r1/state.jsonl.gz"]


def test_a_state_that_compares_a_run_with_itself_is_unreadable_not_a_loop():
    # Given run-2's state naming its own folder as the previous one
    store = Store(
        {
            "latest.json": b'{"folder":"runs/r2"}',
            "runs/r2/state.jsonl.gz": state_of("run-2", "runs/r2", "runs/r2"),
        }
    )
    previous = load_previous(store, "run-2")
    assert (previous.status, previous.detail) == (
        StateStatus.UNREADABLE,
        "ValueError: the state in runs/r2 compares the run with itself",
    )
    assert store.opened == ["latest.json", "runs/r2/state.jsonl.gz", "runs/r2/state.jsonl.gz"]


def test_a_baseline_without_a_state_file_is_incompatible():
    previous = load_previous(Store({"latest.json": b'{"folder":"runs/r1"}'}), "run-2")
    assert (previous.status, previous.detail) == (
        StateStatus.INCOMPATIBLE,
        "runs/r1 has no state.jsonl.gz (written by an older version?)",
    )
    assert not previous.comparable


def test_damage_is_reported_with_its_kind_and_at_most_300_characters():
    class Failing(Store):
        def open(self, key: str) -> io.BytesIO | None:
            raise OSError("connection reset " + "x" * 400)

    previous = load_previous(Failing({}), "run-2")
    assert previous.status is StateStatus.UNREADABLE
    assert previous.detail == ("OSError: connection reset " + "x" * 400)[:300]
    assert not previous.comparable


def test_a_state_that_is_not_json_is_unreadable():
    store = Store({"latest.json": b'{"folder":"runs/r1"}', "runs/r1/state.jsonl.gz": gzipped("not json\n")})
    previous = load_previous(store, "run-2")
    assert (previous.status, previous.detail) == (
        StateStatus.UNREADABLE,
        "JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
    )


def comparison(*entries: StateEntry, status: StateStatus = StateStatus.OK) -> Comparison:
    return Comparison(PreviousState(status, entries=iter(entries)))


def test_new_resolved_and_unscanned_are_set_differences_per_scanned_account():
    # Given a previous state with two prod findings and one dev finding
    compare = comparison(entry("p-stays"), entry("p-gone"), entry("d-1", DEV))
    assert compare.previous_count == 3
    # When this run scans prod only, and finds p-stays again and p-new for the first time
    compare.scanned(PROD)
    compare.scanned(PROD)  # an account is recorded once, however often it is named
    assert compare.known("p-stays") == entry("p-stays")
    assert compare.known("p-new") is None
    compare.see("p-stays")
    compare.see("p-new")
    compare.see("p-new")
    # Then the prod finding no longer found is resolved, dev's is unscanned (neither new nor resolved)
    assert [item.finding.finding_id for item in compare.resolved()] == ["p-gone"]
    assert [item.finding.finding_id for item in compare.unscanned()] == ["d-1"]
    compare.close()


def test_a_finding_seen_again_in_an_unscanned_account_is_not_carried():
    compare = comparison(entry("d-1", DEV), entry("d-2", DEV))
    compare.see("d-1")
    assert [item.finding.finding_id for item in compare.unscanned()] == ["d-2"]
    assert list(compare.resolved()) == []
    compare.close()


def test_resolved_and_unscanned_come_in_finding_id_order():
    compare = comparison(entry("c"), entry("a"), entry("b"), entry("z", DEV), entry("y", DEV))
    compare.scanned(PROD)
    assert [item.finding.finding_id for item in compare.resolved()] == ["a", "b", "c"]
    assert [item.finding.finding_id for item in compare.unscanned()] == ["y", "z"]
    compare.close()


def test_resolved_in_names_one_scanned_accounts_resolved_findings_in_order():
    # Given prod findings c, a, b (b found again), dev findings d-2, d-1, and a third account's finding
    third = "333333333333"
    compare = comparison(
        entry("c"), entry("a"), entry("b"), entry("d-2", DEV), entry("d-1", DEV), entry("t", third)
    )
    compare.scanned(PROD)
    compare.scanned(DEV)
    compare.see("b")
    # When Security Hub asks account by account, then each gets only its own, in finding id order
    assert [item.finding.finding_id for item in compare.resolved_in(PROD)] == ["a", "c"]
    assert [item.finding.finding_id for item in compare.resolved_in(DEV)] == ["d-1", "d-2"]
    # and an account this run did not scan resolves nothing, though the state has its finding
    assert list(compare.resolved_in(third)) == []
    compare.close()


def test_carried_findings_age_by_one_run_and_expire_past_the_limit():
    compare = comparison(
        entry("d-0", DEV, missed=0), entry("d-1", DEV, missed=1), entry("d-2", DEV, missed=2)
    )
    # With CARRY_OVER_RUNS=2: missed 0 -> 1 and 1 -> 2 are carried, 2 -> 3 has expired
    assert list(compare.carried_over(2)) == [entry("d-0", DEV, 1), entry("d-1", DEV, 2), None]
    compare.close()


def test_carry_forward_and_first_seen():
    assert carry_forward(entry("f", missed=0), 0) is None
    assert carry_forward(entry("f", missed=0), 1) == entry("f", missed=1)
    assert first_seen(entry("f"), NOW) == SEEN
    assert first_seen(None, NOW) == NOW


def test_a_large_previous_state_is_loaded_in_full_across_batches():
    # Given more previous findings than one insert batch (1000), and the same id twice
    entries = [entry(f"f{number:04}") for number in range(2345)] + [entry("f0001")]
    compare = comparison(*entries)
    # Then every line counts once loaded, and every distinct finding is there to resolve
    assert compare.previous_count == 2346
    compare.scanned(PROD)
    assert sum(1 for _ in compare.resolved()) == 2345
    compare.close()


def test_deep_damage_is_reported_in_at_most_300_characters():
    def entries():
        yield entry("f1")
        raise OSError("connection reset " + "x" * 400)

    compare = Comparison(PreviousState(StateStatus.OK, entries=entries()))
    assert compare.previous.detail == ("OSError: connection reset " + "x" * 400)[:300]
    compare.close()


def test_a_state_damaged_deep_inside_is_unreadable_and_nothing_of_it_is_used():
    def entries():
        yield entry("f1")
        raise EOFError("Compressed file ended before the end-of-stream marker was reached")

    compare = Comparison(PreviousState(StateStatus.OK, entries=entries()))
    assert (compare.previous.status, compare.previous.detail) == (
        StateStatus.UNREADABLE,
        "EOFError: Compressed file ended before the end-of-stream marker was reached",
    )
    assert compare.previous_count == 0
    assert compare.known("f1") is None
    compare.close()


@pytest.mark.parametrize("status", [StateStatus.UNREADABLE, StateStatus.INCOMPATIBLE])
def test_an_unusable_state_is_not_loaded(status):
    compare = comparison(entry("f1"), status=status)
    assert (compare.previous_count, compare.known("f1")) == (0, None)
    compare.close()


def test_a_first_seen_time_survives_the_round_trip_through_the_scratch_database():
    old = StateEntry(finding("f1"), SEEN - timedelta(days=400), 1)
    compare = comparison(old)
    assert compare.known("f1") == old
    # and first_seen_of gives that time for a known finding, nothing for a new one
    assert compare.first_seen_of(["f1", "f2"]) == {"f1": SEEN - timedelta(days=400)}
    compare.close()


def test_an_entry_with_quotes_newlines_and_non_ascii_text_survives_the_batched_load():
    # Given a previous finding whose user, tags and message hold what JSON must escape
    odd = replace(
        finding("f1"),
        user_name='zoë "the admin"',
        tags={"team": "payments\\europe", "note": "line one\nline two\t😀"},
        message='Access key of "zoë" is 120 days old',
    )
    old = StateEntry(odd, SEEN, 2)
    # When it is loaded (many rows in one bound JSON parameter) and read back
    compare = comparison(old, entry("f2"))
    # Then it is the very same entry
    assert compare.known("f1") == old
    compare.close()


def test_first_sightings_of_an_accounts_findings_come_in_one_answer_without_the_new_ones():
    # Given two known findings first seen at different times
    compare = comparison(StateEntry(finding("f1"), SEEN - timedelta(days=400), 0), entry("f2"))
    # When one account's findings (one of them new, one named twice) are looked up together
    seen = compare.first_seen_of(["f1", "f-new", "f2", "f2"])
    # Then the known ones have their first sighting, and the new one is not there
    assert seen == {"f1": SEEN - timedelta(days=400), "f2": SEEN}
    assert compare.first_seen_of([]) == {}
    compare.close()


def test_findings_seen_in_one_batch_are_not_resolved():
    # Given three previous findings of a scanned account
    compare = comparison(entry("p-1"), entry("p-2"), entry("p-3"))
    compare.scanned(PROD)
    # When this run sees two of them at once (and one twice, and one the state never had)
    compare.see_all(["p-1", "p-3", "p-3", "p-new"])
    compare.see_all([])
    # Then only the third is resolved
    assert [item.finding.finding_id for item in compare.resolved()] == ["p-2"]
    compare.close()
