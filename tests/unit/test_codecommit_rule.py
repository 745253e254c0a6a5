"""Who may use CodeCommit (whose SSH keys are worth reading): the rule over a user's identity policies."""

from __future__ import annotations

import json

import pytest
from scripts.codecommit_policies import snapshot

from iam_inventory.collect.codecommit import may_use_codecommit, pattern_matches_codecommit
from iam_inventory.models import AttachedPolicy, InlinePolicy
from iam_inventory.models.policies import GroupPolicies, UserPolicies


def _inline(action: str | list[str], key: str = "Action") -> InlinePolicy:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", key: action, "Resource": "*"}]}
    return InlinePolicy("p", json.dumps(document))


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        (UserPolicies(inline=(_inline("codecommit:GitPush"),)), True),  # an inline policy
        (
            UserPolicies(
                groups=(GroupPolicies("devs", inline=(_inline(["s3:GetObject", "codecommit:Git*"]),)),)
            ),
            True,
        ),
        (UserPolicies(inline=(_inline("codecommit:*"),)), True),
        (UserPolicies(inline=(_inline("*"),)), True),
        (UserPolicies(inline=(_inline("CODE*:*"),)), True),
        (UserPolicies(inline=(_inline("s3:*", key="NotAction"),)), True),
        (UserPolicies(inline=(_inline("codecommit:*", key="NotAction"),)), False),
        (UserPolicies(inline=(_inline(["s3:*", "ec2:Describe*"]),)), False),
        (UserPolicies(), False),  # a user with none
        (
            UserPolicies(
                attached=(AttachedPolicy("ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),)
            ),
            True,
        ),
        (
            UserPolicies(
                attached=(
                    AttachedPolicy(
                        "AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
                    ),
                )
            ),
            False,
        ),
        # An AWS managed policy published after the snapshot: assumed to allow, never skipped.
        (
            UserPolicies(
                attached=(AttachedPolicy("BrandNew", "arn:aws:iam::aws:policy/BrandNewPolicy2030"),)
            ),
            True,
        ),
    ],
)
def test_the_codecommit_rule(policies, expected):
    # Given a user's policies, When the rule is asked, Then it says whether CodeCommit may be used
    assert may_use_codecommit(policies, {}) is expected


def test_patterns_match_case_insensitively_and_only_codecommit():
    assert pattern_matches_codecommit("CodeCommit:GitPull")
    assert pattern_matches_codecommit("*:GitPush")
    assert not pattern_matches_codecommit("codebuild:*")
    assert not pattern_matches_codecommit("codecommit")


def test_the_committed_aws_managed_snapshot_is_the_generated_one():
    from importlib.resources import files

    committed = json.loads(files("iam_inventory.collect").joinpath("aws_managed_codecommit.json").read_text())
    assert committed == snapshot()
