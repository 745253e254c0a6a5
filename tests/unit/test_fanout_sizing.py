"""The fan-out sizing arithmetic behind docs/fanout.md (scripts/fanout_sizing.py)."""

from __future__ import annotations

import dataclasses

import pytest
from scripts import fanout_sizing as sizing

MEASURED = sizing.Measured(
    users_per_account=100,
    calls_per_account=90.0,
    seconds_per_account_alone=4.0,
    scan_cpu_per_account=0.3,
    finalize_cpu_per_account=0.1,
    fixed_cpu=1.5,
    s3_gets_per_account=3,
    s3_puts_per_account=1,
    s3_fixed_gets=6,
    s3_fixed_puts=14,
    s3_fixed_lists=1,
    source="test",
)
TEMPLATE = sizing.Template(
    single_memory_mb=512,
    worker_memory_mb=256,
    discover_memory_mb=512,
    finalize_memory_mb=1024,
    max_concurrency=100,
    publish_reserve_seconds=30.0,
)


def test_cpu_is_lambdas_share_of_a_vcpu_and_never_more_than_one_core():
    assert sizing.vcpus(1769) == 1.0
    assert sizing.vcpus(10240) == 1.0
    assert sizing.vcpus(512) == pytest.approx(512 / 1769)


def test_transitions_are_the_three_states_and_two_per_account_and_one_per_retry():
    assert sizing.transitions(0) == 3
    assert sizing.transitions(1000) == 2003
    assert sizing.transitions(1000, retries_per_account=0.5) == 2503


def test_a_cpu_bound_single_function_scans_what_its_cpu_share_allows():
    # Given 0.4 s of CPU per account and 1.5 s of start-up, at one full vCPU
    accounts, bound = sizing.largest_single_estate(MEASURED, 1769, 30.0)
    # Then (900 - 1.5) / 0.4 accounts fit, and CPU is the bound
    assert (accounts, bound) == (2246, "CPU")


def test_when_cpu_is_cheap_the_accounts_in_flight_and_iam_rates_bound_a_single_function():
    # Given accounts that cost almost no CPU but take 4 s each at their IAM rate
    cheap = dataclasses.replace(MEASURED, scan_cpu_per_account=0.001, finalize_cpu_per_account=0.001)
    # When the function has 512 MB (a pool of 10 accounts at once)
    accounts, bound = sizing.largest_single_estate(cheap, 512, 30.0)
    # Then 870 s x 10 / 4 s accounts fit, bound by IAM rates
    assert (accounts, bound) == (2175, "IAM rates, 10 accounts at once")


def test_a_fanout_run_costs_its_transitions_invocations_gb_seconds_and_s3_requests():
    cost = sizing.fanout_cost(MEASURED, TEMPLATE, 1000)
    assert (cost.transitions, cost.lambda_requests) == (2003, 1002)
    assert (cost.s3_gets, cost.s3_puts) == (3006, 1015)
    worker_vcpu = 256 / 1769
    workers = (1000 * 4.0 + 100 * 1.5 / worker_vcpu) * 256
    finalize = (1.5 + 1000 * 0.1) / (1024 / 1769) * 1024
    discover = 1.5 / (512 / 1769) * 512
    assert cost.gb_seconds == pytest.approx((workers + finalize + discover) / 1024)
    assert cost.dollars == pytest.approx(
        2003 * 0.025 / 1000
        + 1002 * 0.20 / 1e6
        + cost.gb_seconds * 0.0000133334
        + 3006 * 0.0004 / 1000
        + 1015 * 0.005 / 1000
    )


def test_fanout_run_time_is_waves_of_workers_then_finalize():
    finalize = (1.5 + 1000 * 0.1) / (1024 / 1769)
    assert sizing.fanout_run_seconds(MEASURED, TEMPLATE, 1000, 100) == pytest.approx(10 * 4.0 + finalize)
    assert sizing.fanout_run_seconds(MEASURED, TEMPLATE, 1000, 40) == pytest.approx(25 * 4.0 + finalize)
