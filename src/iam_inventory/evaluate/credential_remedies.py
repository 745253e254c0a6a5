"""Remediation of the user credentials beside access keys: the CLI commands per kind, and the builders.

One table per kind, so remediation text and the plan's script build the same command lines. Each API is
as the IAM API reference spells it (UpdateServiceSpecificCredential, UpdateSSHPublicKey,
UpdateSigningCertificate and their Delete/List twins), every value quoted with shlex.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateServiceSpecificCredential.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateSSHPublicKey.html
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateSigningCertificate.html
"""

from __future__ import annotations

from dataclasses import dataclass

from iam_inventory.evaluate.remediation import Remediation, RemedyBuilder, RemedyOptions, aws_command, review
from iam_inventory.models import Finding
from iam_inventory.models.credentials import CredentialType


@dataclass(frozen=True, slots=True)
class CredentialCommands:
    """The CLI verbs and id option of one credential kind."""

    noun: str  # what the text calls one of them
    list_verb: str
    update_verb: str
    delete_verb: str
    id_option: str

    def list_command(self, user: str, profile: str | None = None) -> str:
        """List the user's credentials of this kind (ids and status, never a secret)."""
        return aws_command("iam", self.list_verb, "--user-name", user, profile=profile)

    def deactivate_command(self, user: str, credential_id: str, profile: str | None = None) -> str:
        """Set the credential to Inactive (reversible)."""
        return aws_command(
            "iam",
            self.update_verb,
            "--user-name",
            user,
            self.id_option,
            credential_id,
            "--status",
            "Inactive",
            profile=profile,
        )

    def delete_command(self, user: str, credential_id: str, profile: str | None = None) -> str:
        """Delete the credential (irreversible)."""
        return aws_command(
            "iam", self.delete_verb, "--user-name", user, self.id_option, credential_id, profile=profile
        )


CREDENTIAL_COMMANDS: dict[CredentialType, CredentialCommands] = {
    CredentialType.SERVICE_CREDENTIAL: CredentialCommands(
        "service-specific credential",
        "list-service-specific-credentials",
        "update-service-specific-credential",
        "delete-service-specific-credential",
        "--service-specific-credential-id",
    ),
    CredentialType.SSH_KEY: CredentialCommands(
        "SSH public key",
        "list-ssh-public-keys",
        "update-ssh-public-key",
        "delete-ssh-public-key",
        "--ssh-public-key-id",
    ),
    CredentialType.SIGNING_CERTIFICATE: CredentialCommands(
        "signing certificate",
        "list-signing-certificates",
        "update-signing-certificate",
        "delete-signing-certificate",
        "--certificate-id",
    ),
}
# The prefix of a credential id the job made up for a certificate known only from the credential report
# (its cert_N columns carry no id): no command can name it, the person lists the user's certificates.
REPORT_ONLY_PREFIX = "report-"
# No IAM API says when a service-specific credential, an SSH key or a signing certificate was last used.
_NO_LAST_USE = (
    "IAM records no last use for it: check CloudTrail for recent calls by the user (a Bedrock or "
    "CloudWatch Logs API key's calls are logged as the user's) before deleting it"
)


def retire_credential(kind: CredentialType, why: str) -> RemedyBuilder:
    """Deactivate one credential of `kind`, then delete it after the wait; `why` ends the first sentence."""
    commands = CREDENTIAL_COMMANDS[kind]

    def build(finding: Finding, options: RemedyOptions) -> Remediation:
        user, credential = finding.user_name, finding.credential_id
        if user is None or credential is None:
            return review(finding)
        profile = options.profile
        if credential.startswith(REPORT_ONLY_PREFIX):
            return Remediation(
                f"In account {finding.account_id}, user {user} holds an active {commands.noun} known only "
                f"from the credential report, because {why}: list the user's certificates for its id, "
                f"deactivate it, and delete it after {options.wait_days} days. {_NO_LAST_USE}.",
                (commands.list_command(user, profile),),
            )
        return Remediation(
            f"In account {finding.account_id}, deactivate {commands.noun} {credential} of user {user} "
            f"because {why}. {_NO_LAST_USE}; delete it after {options.wait_days} days if nothing broke.",
            (
                commands.list_command(user, profile),
                commands.deactivate_command(user, credential, profile),
                commands.list_command(user, profile),
                commands.delete_command(user, credential, profile),
            ),
        )

    return build


def delete_inactive_credential(kind: CredentialType) -> RemedyBuilder:
    """An inactive (or expired) credential of `kind`: delete it."""
    commands = CREDENTIAL_COMMANDS[kind]

    def build(finding: Finding, options: RemedyOptions) -> Remediation:
        user, credential = finding.user_name, finding.credential_id
        if user is None or credential is None:
            return review(finding)
        if credential.startswith(REPORT_ONLY_PREFIX):
            return Remediation(
                f"In account {finding.account_id}, user {user} holds an inactive {commands.noun} known only "
                "from the credential report: list the user's certificates for its id and delete it.",
                (commands.list_command(user, options.profile),),
            )
        return Remediation(
            f"In account {finding.account_id}, delete the inactive {commands.noun} {credential} of user "
            f"{user}: it can no longer be used, and deleting it leaves nothing to reactivate.",
            (
                commands.list_command(user, options.profile),
                commands.delete_command(user, credential, options.profile),
            ),
        )

    return build
