"""Owner resolution: user tag, then account tag, then the OU map, else unowned."""

from __future__ import annotations

import pytest

from iam_inventory.evaluate.owners import (
    UNOWNED,
    OwnerConfig,
    OwnerSource,
    ou_owner,
    owner_file_stem,
    resolve_owner,
)

CONFIG = OwnerConfig(
    tag_keys=("owner", "team"),
    ou_owners={
        "Root/Workloads": "team-platform",
        "Root/Workloads/Payments": "team-payments",
        "/Root/": "secops",
    },
)


@pytest.mark.parametrize(
    ("user_tags", "account_tags", "ou_path", "expected"),
    [
        (
            {"owner": "alice@example.com"},
            {"owner": "acct-team"},
            "Root/Workloads",
            ("alice@example.com", OwnerSource.USER_TAG),
        ),
        ({"team": "payments"}, {"owner": "acct-team"}, "", ("payments", OwnerSource.USER_TAG)),  # second key
        ({"Owner": "bob"}, None, "", ("bob", OwnerSource.USER_TAG)),  # a differently cased key still counts
        (
            {"owner": "  "},
            {"owner": "acct-team"},
            "",
            ("acct-team", OwnerSource.ACCOUNT_TAG),
        ),  # blank is no owner
        ({}, {"owner": "acct-team"}, "Root/Workloads", ("acct-team", OwnerSource.ACCOUNT_TAG)),
        (
            {},
            {},
            "Root/Workloads/Payments/Prod",
            ("team-payments", OwnerSource.OU_MAP),
        ),  # longest prefix wins
        ({}, {}, "Root/Workloads/Data", ("team-platform", OwnerSource.OU_MAP)),
        ({}, {}, "Root/Sandbox", ("secops", OwnerSource.OU_MAP)),
        (None, None, "", (UNOWNED, OwnerSource.NONE)),
    ],
)
def test_resolve_owner(user_tags, account_tags, ou_path, expected):
    assert resolve_owner(user_tags, account_tags, ou_path, CONFIG) == expected


def test_exact_tag_key_wins_over_a_case_variant():
    assert resolve_owner({"Owner": "b", "owner": "a"}, None, "", OwnerConfig()) == ("a", OwnerSource.USER_TAG)


def test_ou_prefixes_match_whole_segments_only():
    assert ou_owner("Root/WorkloadsX", {"Root/Workloads": "x"}) is None
    assert ou_owner("", {"Root": "x"}) is None


def test_no_owner_sources_configured_means_unowned():
    assert resolve_owner({"owner": "alice"}, None, "Root", OwnerConfig(tag_keys=())) == (
        UNOWNED,
        OwnerSource.NONE,
    )


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("team-payments", "team-payments"),
        ("alice@example.com", "alice@example.com"),
        ("../../etc/passwd", "_.._etc_passwd-"),
        ("team x", "team_x-"),
        (".hidden", "hidden-"),
        ("", "_-"),
    ],
)
def test_owner_file_stem_is_a_plain_file_name(owner, expected):
    stem = owner_file_stem(owner)
    assert stem.startswith(expected)
    assert "/" not in stem
    assert not stem.startswith(".")
    assert len(stem) == len(expected) + (8 if expected.endswith("-") else 0)


def test_owners_that_clean_to_the_same_name_get_different_files():
    assert owner_file_stem("team/a") != owner_file_stem("team:a")
    assert owner_file_stem("team/a").startswith("team_a-")
