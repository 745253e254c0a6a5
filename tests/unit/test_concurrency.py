"""The default account pool: sized to the estate and to the CPU that Lambda memory buys."""

from __future__ import annotations

import pytest

from iam_inventory.config.concurrency import account_pool_size
from iam_inventory.config.settings import Settings


@pytest.mark.parametrize(
    ("accounts", "memory_mb", "cpus", "expected"),
    [
        pytest.param(1000, 512, 1, 10, id="512 MB: 0.29 vCPU"),
        pytest.param(1000, 1769, 1, 32, id="1769 MB: one vCPU"),
        pytest.param(1000, 3538, 1, 64, id="two vCPUs: the cap"),
        pytest.param(1000, 10240, 1, 64, id="never above 64"),
        pytest.param(1000, 128, 1, 4, id="the smallest Lambda still runs 4"),
        pytest.param(3, 1769, 1, 3, id="never more than the estate"),
        pytest.param(0, 1769, 1, 1, id="an empty estate still gets a pool"),
        pytest.param(200, None, 2, 64, id="outside Lambda: the machine's CPUs"),
        pytest.param(200, None, 1, 32, id="outside Lambda, one CPU"),
    ],
)
def test_pool_follows_cpu_and_estate(accounts: int, memory_mb: int | None, cpus: int, expected: int):
    # Given an estate and the CPU available / Then the pool is sized to both
    assert account_pool_size(accounts, memory_mb, cpus) == expected


def test_more_memory_never_means_fewer_accounts_in_flight():
    # Given every Lambda memory size / Then the pool never shrinks as memory grows
    sizes = [account_pool_size(1000, memory, 1) for memory in range(128, 10241, 64)]
    assert sizes == sorted(sizes)


def test_workers_set_explicitly_wins_but_not_beyond_the_estate():
    # Given WORKERS=8 in a 512 MB Lambda
    settings = Settings.from_env({"WORKERS": "8", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"})
    # Then 8 accounts run at once, and 2 for an estate of 2
    assert settings.account_pool(1000, cpus=2) == 8
    assert settings.account_pool(2, cpus=2) == 2
    # And unset, the pool is sized from the memory Lambda reports
    sized = Settings.from_env({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"})
    assert sized.account_pool(1000, cpus=8) == 32


def test_workers_for_an_estate_of_one_or_none_is_one():
    # Given WORKERS=8 and a single account (or none in scope)
    settings = Settings.from_env({"WORKERS": "8"})
    # Then one account runs at a time: no idle slots sized for accounts that do not exist
    assert (settings.account_pool(1, cpus=2), settings.account_pool(0, cpus=2)) == (1, 1)


def test_outside_lambda_the_pool_follows_the_machines_cpus():
    # Given no WORKERS and no Lambda memory (the CLI on a laptop)
    settings = Settings.from_env({})
    # Then the pool is sized from the CPUs the caller counted
    assert (settings.account_pool(200, cpus=1), settings.account_pool(200, cpus=2)) == (32, 64)
