"""The long-lived credentials an IAM user holds beside access keys and a password (ids, never secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The services whose service-specific credential is an API key, the only kind that may carry an
# ExpirationDate (IAM API reference, CreateServiceSpecificCredential: CredentialAgeDays).
API_KEY_SERVICES = frozenset({"bedrock.amazonaws.com", "logs.amazonaws.com"})


class CredentialType(StrEnum):
    """The five kinds of long-lived credential an IAM user can hold."""

    ACCESS_KEY = "access_key"
    PASSWORD = "password"
    SERVICE_CREDENTIAL = "service_credential"
    SSH_KEY = "ssh_key"
    SIGNING_CERTIFICATE = "signing_certificate"


@dataclass(frozen=True, slots=True)
class ServiceCredential:
    """A service-specific credential: a CodeCommit/Keyspaces login or a Bedrock/CloudWatch Logs API key."""

    credential_id: str  # ServiceSpecificCredentialId
    service_name: str  # e.g. "codecommit.amazonaws.com", "bedrock.amazonaws.com"
    # The CodeCommit/Keyspaces user name or the API key's alias ("" when none); never a password or secret.
    service_user_name: str
    status: str  # "Active" | "Inactive" | "Expired", as IAM spells it
    created_at: datetime
    # Only API keys (Bedrock, CloudWatch Logs) may have one; None means the credential never expires.
    expires_at: datetime | None = None

    @property
    def is_api_key(self) -> bool:
        """True for a Bedrock or CloudWatch Logs API key."""
        return self.service_name in API_KEY_SERVICES

    @property
    def active(self) -> bool:
        """True for an Active credential."""
        return self.status == "Active"


@dataclass(frozen=True, slots=True)
class SshPublicKey:
    """An SSH public key uploaded for CodeCommit (the id, never the key body)."""

    ssh_public_key_id: str
    status: str  # "Active" | "Inactive"
    uploaded_at: datetime

    @property
    def active(self) -> bool:
        """True for an Active key."""
        return self.status == "Active"


@dataclass(frozen=True, slots=True)
class SigningCertificate:
    """An X.509 signing certificate (the id, never the certificate body)."""

    certificate_id: str  # "" when only the credential report's cert_N columns are known
    status: str  # "Active" | "Inactive"
    uploaded_at: datetime  # the report's cert_N_last_rotated, or UploadDate when read live
    from_report: bool = False

    @property
    def active(self) -> bool:
        """True for an Active certificate."""
        return self.status == "Active"
