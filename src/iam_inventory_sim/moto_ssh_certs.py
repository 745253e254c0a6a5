"""Where moto's SSH public keys and signing certificates differ from the IAM API reference, patched.

Checked against the reference (moto 5.2.5's iam/models.py and responses.py):
- Quotas: 5 SSH public keys and 2 signing certificates per user ("IAM object quotas"); moto enforces
  the certificate quota but lets a user upload any number of SSH keys.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
- UploadSSHPublicKey fails DuplicateSSHPublicKey when "the SSH public key is already associated with
  the specified IAM user"; UploadSigningCertificate fails DuplicateCertificate (409) when "the same
  certificate is associated with an IAM user in the account". moto accepts both duplicates.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_UploadSSHPublicKey.html
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_UploadSigningCertificate.html
- ListSSHPublicKeys and ListSigningCertificates page with Marker/MaxItems/IsTruncated ("you can still
  paginate the results"); moto returns everything and never says IsTruncated.
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListSSHPublicKeys.html
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListSigningCertificates.html
- IAM dates uploads to the second (as it does keys and users); moto keeps microseconds.
What moto gets right and is kept: NoSuchEntity for an unknown user, new uploads Active, and list
answers that carry metadata only (no SSHPublicKeyBody; a certificate body is the public certificate).
"""

from __future__ import annotations

from typing import Any

SSH_KEYS_PER_USER = 5


def patch_ssh_keys_and_certificates() -> None:
    """Apply the differences above to moto's IAM (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.iam.exceptions import IAMException, LimitExceededException
    from moto.iam.models import IAMBackend, User
    from moto.iam.responses import IamResponse

    from iam_inventory_sim.iam_paging import page_like_iam

    if getattr(User.upload_ssh_public_key, "_like_iam", False):
        return

    class DuplicateSSHPublicKey(IAMException):
        code = "DuplicateSSHPublicKey"

    class DuplicateCertificate(IAMException):
        code = "DuplicateCertificate"  # moto takes the HTTP status (409) from the botocore model

    upload_key = User.upload_ssh_public_key
    upload_certificate = IAMBackend.upload_signing_certificate

    def upload_ssh_public_key(self: Any, body: str) -> Any:
        if len(self.ssh_public_keys) >= SSH_KEYS_PER_USER:
            raise LimitExceededException(f"Cannot exceed quota for SSHPublicKeysPerUser: {SSH_KEYS_PER_USER}")
        if any(key.ssh_public_key_body.strip() == body.strip() for key in self.ssh_public_keys):
            raise DuplicateSSHPublicKey("The SSH public key is already associated with the user.")
        key = upload_key(self, body)
        key.upload_date = key.upload_date.replace(microsecond=0)
        return key

    def upload_signing_certificate(self: Any, user_name: str, body: str) -> Any:
        for user in self.users.values():
            if any(cert.body.strip() == body.strip() for cert in user.signing_certificates.values()):
                raise DuplicateCertificate(
                    "The same certificate is associated with an IAM user in the account."
                )
        cert = upload_certificate(self, user_name, body)
        cert.upload_date = cert.upload_date.replace(microsecond=0)
        return cert

    def list_ssh_public_keys(self: Any) -> ActionResult:
        keys = list(self.backend.get_all_ssh_public_keys(self._get_param("UserName")))
        page, more = page_like_iam(self, keys)
        return ActionResult({"SSHPublicKeys": page, **more})

    def list_signing_certificates(self: Any) -> ActionResult:
        certificates = self.backend.list_signing_certificates(self._get_param("UserName"))
        page, more = page_like_iam(self, certificates)
        return ActionResult({"Certificates": page, **more})

    upload_ssh_public_key._like_iam = True  # type: ignore[attr-defined]
    User.upload_ssh_public_key = upload_ssh_public_key
    IAMBackend.upload_signing_certificate = upload_signing_certificate
    IamResponse.list_ssh_public_keys = list_ssh_public_keys
    IamResponse.list_signing_certificates = list_signing_certificates
