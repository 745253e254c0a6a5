"""Print the AWS managed policies that allow any codecommit: action (`make docs` writes the snapshot).

The source is moto's bundled copy of AWS's published managed policies (a dev dependency, never shipped):
the collector reads the committed JSON, and a unit test fails when it differs from what this prints.
"""

from __future__ import annotations

import json
from importlib.metadata import version

from iam_inventory.collect.codecommit import document_allows_codecommit


def snapshot() -> dict[str, object]:
    """The committed snapshot: which AWS managed policies allow codecommit, and every other name."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies = json.loads(aws_managed_policies_data)
    allowing = sorted(name for name, data in policies.items() if document_allows_codecommit(data["Document"]))
    return {
        "source": f"moto {version('moto')} moto/iam/aws_managed_policies.py (AWS managed policies)",
        "allow_codecommit": allowing,
        "other_policies": sorted(set(policies) - set(allowing)),
    }


if __name__ == "__main__":
    print(json.dumps(snapshot(), indent=1))
