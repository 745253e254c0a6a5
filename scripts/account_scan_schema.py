"""Print the JSON Schema of a stored AccountScan, generated from the models (`make docs` writes it)."""

from __future__ import annotations

import json

from iam_inventory.models.codec import json_schema
from iam_inventory.models.scan import AccountScan

if __name__ == "__main__":
    print(json.dumps(json_schema(AccountScan), indent=2))
