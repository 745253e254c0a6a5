"""The plan's steps for the credentials beside access keys: deactivate, wait, delete, per kind.

A service-specific credential, an SSH key or a signing certificate has no last-use record in IAM, so the
script's guard before each change is its state: it must still exist with the status the plan expects
(Active before deactivating; Inactive, or Expired for an API key, before deleting). Only ids are named:
the report holds no secret, and neither does the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iam_inventory.evaluate.credential_remedies import CREDENTIAL_COMMANDS
from iam_inventory.models import Finding
from iam_inventory.models.credentials import CredentialType

# IAM's ids for these credentials: pattern [\w]+, 20-128 characters (ServiceSpecificCredentialId,
# SSHPublicKeyId) and 24-128 (CertificateId), in the IAM API reference's data types; ASCII only here, and
# never a quote, so an id is safe inside the script's JMESPath literal.
CREDENTIAL_ID = re.compile(r"^[A-Za-z0-9_]{16,128}$")
# JMESPath over each List call's answer: the credential's status, found by its id.
_STATUS_QUERY = {
    CredentialType.SERVICE_CREDENTIAL: ("ServiceSpecificCredentials", "ServiceSpecificCredentialId"),
    CredentialType.SSH_KEY: ("SSHPublicKeys", "SSHPublicKeyId"),
    CredentialType.SIGNING_CERTIFICATE: ("Certificates", "CertificateId"),
}
_INVENTORY_LISTS = {
    CredentialType.SERVICE_CREDENTIAL: ("service_credentials", "credential_id"),
    CredentialType.SSH_KEY: ("ssh_public_keys", "ssh_public_key_id"),
    CredentialType.SIGNING_CERTIFICATE: ("signing_certificates", "certificate_id"),
}
PRELUDE = r"""
# The status of one credential (service-specific, SSH key, certificate) as its List call answers it.
credential_status() {
  local verb=$1 items=$2 field=$3 user=$4 id=$5
  shift 5
  aws iam "$verb" --user-name "$user" --query "$items[?$field=='$id'].Status" --output text "$@"
}

expect_status() {
  local wanted=$1 verb=$2 items=$3 field=$4 user=$5 id=$6 status
  shift 6
  status=$(credential_status "$verb" "$items" "$field" "$user" "$id" "$@") ||
    fail "cannot list the credentials of $user"
  [[ " $wanted " == *" $status "* ]] || fail "$id is '$status', not $wanted: stopping"
}
"""


@dataclass(frozen=True, slots=True)
class CredentialAction:
    """One credential (not an access key) to deactivate when active, and later delete."""

    account_id: str
    user_name: str
    credential_type: CredentialType
    credential_id: str
    active: bool
    owner: str
    rule_ids: tuple[str, ...]
    finding_ids: tuple[str, ...]
    profile: str | None = None

    def deactivate_command(self) -> str:
        """The kind's own Update call, to Inactive."""
        commands = CREDENTIAL_COMMANDS[self.credential_type]
        return commands.deactivate_command(self.user_name, self.credential_id, self.profile)

    def delete_command(self) -> str:
        """The kind's own Delete call."""
        commands = CREDENTIAL_COMMANDS[self.credential_type]
        return commands.delete_command(self.user_name, self.credential_id, self.profile)

    @property
    def deletable(self) -> str:
        """The statuses stage 2 deletes from: Inactive, or Expired too for a service-specific credential."""
        return "Inactive Expired" if self.credential_type is CredentialType.SERVICE_CREDENTIAL else "Inactive"

    def guard(self, wanted: str) -> list[str]:
        """The words of an `expect_status` line: the status wanted, the List call, the id."""
        items, field = _STATUS_QUERY[self.credential_type]
        verb = CREDENTIAL_COMMANDS[self.credential_type].list_verb
        return [wanted, verb, items, field, self.user_name, self.credential_id]


def plannable(finding: Finding, kind: CredentialType | None) -> bool:
    """True when the finding names a credential of another kind by a real IAM id (not a stand-in)."""
    return (
        kind in CREDENTIAL_COMMANDS
        and finding.user_name is not None
        and finding.credential_id is not None
        and CREDENTIAL_ID.match(finding.credential_id) is not None
    )


def credential_action(
    finding: Finding,
    kind: CredentialType,
    where: tuple[str, str, str],
    known: Mapping[tuple[str, str, str], Mapping[str, Any]],
    previous: CredentialAction | None,
    owner: str,
    profile: str | None,
) -> CredentialAction:
    """The action on the credential `where` (account, user, id), merged with an earlier finding on it."""
    entry = known.get(where)
    # A credential missing from the inventory is taken as active: the guard re-reads it first anyway.
    status = entry.get("status", "Active") if entry else "Active"
    account_id, user_name, credential_id = where
    return CredentialAction(
        account_id,
        user_name,
        kind,
        credential_id,
        active=status == "Active",
        owner=owner,
        rule_ids=(*(previous.rule_ids if previous else ()), finding.rule_id),
        finding_ids=(*(previous.finding_ids if previous else ()), finding.finding_id),
        profile=profile,
    )


def known_credentials(report: Mapping[str, Any]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """(account, user, credential id) -> its inventory entry, over every kind (reports before 1.6: none)."""
    known: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for account in report["inventory"]:
        for user in account.get("users", []):
            for items, field in _INVENTORY_LISTS.values():
                for item in user.get(items) or []:
                    known[(account["account_id"], user["user_name"], item[field])] = item
    return known


def credential_document(action: CredentialAction) -> dict[str, Any]:
    """One credential's entry in plan.json, with its steps."""
    steps = [{"stage": "deactivate", "command": action.deactivate_command()}] if action.active else []
    return {
        "account_id": action.account_id,
        "user_name": action.user_name,
        "credential_type": action.credential_type.value,
        "credential_id": action.credential_id,
        "active": action.active,
        "owner": action.owner,
        "rule_ids": list(action.rule_ids),
        "finding_ids": list(action.finding_ids),
        "steps": [*steps, {"stage": "delete", "command": action.delete_command()}],
    }
