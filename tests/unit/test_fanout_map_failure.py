"""A failed Distributed Map (the state machine's Catch hands finalize `map_error`) fails the run."""

from __future__ import annotations

from iam_inventory.config.fanout_events import MapError
from iam_inventory.models.scan import AccountScan
from iam_inventory.pipeline.fanout import map_failure
from iam_inventory.pipeline.finalize import Outputs, finalize_run
from tests.builders import make_key, make_user
from tests.publish_support import context, finalize, local_runtime, read_json, scanned

PROD = "111111111111"


def test_map_failure_names_the_error_and_never_quotes_the_cause():
    # Given the Catch's ResultPath value, whose Cause may quote a worker's error payload
    error = MapError.model_validate(
        {"Error": "States.ExceedToleratedFailureThreshold", "Cause": '{"errorMessage": "token=abc"}'}
    )
    # Then the reason names the error only; a succeeded Map (null) is no failure
    assert map_failure(error) == "the Distributed Map failed: States.ExceedToleratedFailureThreshold"
    assert map_failure(None) is None


def test_a_run_whose_map_failed_is_published_as_failed_and_never_becomes_the_baseline(tmp_path):
    # Given a baseline run
    scan = scanned(PROD, make_user("deployer", keys=(make_key(age=200),)))
    assert finalize(tmp_path, context("good"), [scan]).baseline
    latest = read_json(tmp_path, "latest.json")

    # When the next scheduled run's accounts all scanned but its Map failed
    reason = map_failure(MapError.model_validate({"Error": "States.ExceedToleratedFailureThreshold"}))
    run = context("bad", day=1)
    own = AccountScan(run.run_id, scan.result, scan.findings)
    outputs = Outputs(failed_because=reason)
    outcome = finalize_run(run, lambda: iter([own]), local_runtime(tmp_path), outputs, lambda: run.started_at)

    # Then it is failed, says why, and latest.json still names the good run
    assert (outcome.status.value, outcome.status_reason, outcome.baseline) == ("failed", reason, False)
    assert read_json(tmp_path, "latest.json") == latest
