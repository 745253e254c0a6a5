"""Where moto's IAM differs from IAM in ways this job would notice, patched to behave like IAM.

Idempotent: the simulator may be created more than once per process.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from iam_inventory_sim.iam_paging import page_like_iam


@cache
def _aws_managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed: dict[str, Any] = json.loads(aws_managed_policies_data)
    return parsed


def _ensure_aws_managed_policy(backend: Any, policy_arn: str) -> None:
    """Make the AWS managed policy `policy_arn` exist in `backend`, as every one exists in every account."""
    if policy_arn in backend.managed_policies or ":iam::aws:policy/" not in policy_arn:
        return
    from moto.iam.models import AWSManagedPolicy

    name = policy_arn.rsplit("/", 1)[-1]
    data = _aws_managed_policy_data().get(name)
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    if policy.arn == policy_arn:  # same partition and path, or it is not that policy
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy


def make_moto_behave_like_iam() -> None:
    """Patch moto 5.2's IAM where it is kinder or slower than IAM.

    - ListUsers and GetAccountAuthorizationDetails return everything in one page; IAM pages them
      (default 100, MaxItems up to 1000, Marker/IsTruncated), so a collector ignoring Marker would
      pass against moto and lose users against AWS.
      https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
    - IAM returns CreateDate in whole seconds (ListAccessKeys, ListUsers); moto keeps microseconds,
      which would make any creation-time matching look more exact than it can be against AWS.
    - GetLoginProfile's CreateDate is the login profile's creation, not the user's; a reset
      (UpdateLoginProfile) leaves it and moves only the report's password_last_changed, which the
      simulator keeps apart as `password_changed` (moto keeps neither).
    - GetAccessKeyLastUsed scans every key of every account per call (minutes on a 5,000-user account).
    - GetAccountSummary's SummaryMap holds AccountPasswordPresent (whether root has a password); moto's
      has no such key. Here it is the backend's `account_summary._account_password_present` (default 1:
      root can sign in; 0 once root credentials are deleted, e.g. centrally through AWS Organizations).
      https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
    - AWS managed policies (AdministratorAccess, AWSCompromisedKeyQuarantineV3, ...) exist in every IAM
      account; moto loads none unless told to, and then builds all ~1,500 in every account (64 ms each,
      a minute on a 1,000-account bench). Here one is built in an account when it is first attached or read.
    """
    from moto import backends
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.iam.models import AccountSummary, IAMBackend
    from moto.iam.responses import IamResponse

    from iam_inventory_sim.moto_ssh_certs import patch_ssh_keys_and_certificates

    if getattr(IamResponse.list_users, "_pages_like_iam", False):
        return
    # moto's dispatcher lists and stat()s its own package directory on every request (~3 ms each);
    # the list cannot change while the process runs.
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    scan_every_account = IAMBackend.get_access_key_last_used
    create_user = IAMBackend.create_user
    create_access_key = IAMBackend.create_access_key
    create_login_profile = IAMBackend.create_login_profile
    update_login_profile = IAMBackend.update_login_profile
    for name in ("attach_user_policy", "attach_group_policy", "attach_role_policy", "get_policy"):
        setattr(IAMBackend, name, _with_aws_managed_policy(getattr(IAMBackend, name)))

    def list_users(self: Any) -> ActionResult:
        users = list(self.backend.list_users(self._get_param("PathPrefix"), None, None))
        page, more = page_like_iam(self, users)
        return ActionResult({"Users": page, **more})

    def get_account_authorization_details(self: Any) -> ActionResult:
        details = self.backend.get_account_authorization_details(self._get_param("Filter", []))
        kinds = (
            ("UserDetailList", "users"),
            ("GroupDetailList", "groups"),
            ("RoleDetailList", "roles"),
            ("Policies", "managed_policies"),
        )
        entities = [(name, item) for name, key in kinds for item in details[key]]
        page, more = page_like_iam(self, entities)
        result: dict[str, Any] = {name: [item for kind, item in page if kind == name] for name, _ in kinds}
        return ActionResult(result | more)

    def get_login_profile(self: Any) -> ActionResult:
        user = self.backend.get_login_profile(self._get_param("UserName"))
        profile = {
            "UserName": user.name,
            "CreateDate": getattr(user, "login_profile_created", None) or user.create_date,
            "PasswordResetRequired": user.password_reset_required,
        }
        return ActionResult({"LoginProfile": profile})

    def whole_seconds_user(self: Any, *args: Any, **kwargs: Any) -> Any:
        user = create_user(self, *args, **kwargs)
        user.create_date = user.create_date.replace(microsecond=0)
        return user

    def whole_seconds_key(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = create_access_key(self, *args, **kwargs)
        key.create_date = key.create_date.replace(microsecond=0)
        return key

    def dated_login_profile(self: Any, user_name: str, password: str) -> Any:
        user = create_login_profile(self, user_name, password)
        user.login_profile_created = user.password_changed = utcnow().replace(microsecond=0)
        return user

    def reset_login_profile(self: Any, user_name: str, password: str, password_reset_required: bool) -> Any:
        user = update_login_profile(self, user_name, password, password_reset_required)
        if password:  # UpdateLoginProfile may change only PasswordResetRequired
            user.password_changed = utcnow().replace(microsecond=0)
        return user

    def get_access_key_last_used(self: Any, access_key_id: str) -> dict[str, Any]:
        key = self.access_keys.get(access_key_id)
        if key is None:
            return scan_every_account(self, access_key_id)
        return {"user_name": key.user_name, "last_used": key.last_used}

    moto_summary_map = AccountSummary.summary_map

    def summary_map(self: Any) -> dict[str, Any]:
        summary: dict[str, Any] = moto_summary_map.fget(self)  # type: ignore[attr-defined]
        return {**summary, "AccountPasswordPresent": getattr(self, "_account_password_present", 1)}

    AccountSummary.summary_map = property(summary_map)  # type: ignore[assignment,method-assign]
    patch_ssh_keys_and_certificates()
    list_users._pages_like_iam = True  # type: ignore[attr-defined]
    IamResponse.list_users = list_users
    IamResponse.get_account_authorization_details = get_account_authorization_details
    IamResponse.get_login_profile = get_login_profile
    IAMBackend.create_user = whole_seconds_user
    IAMBackend.create_access_key = whole_seconds_key
    IAMBackend.create_login_profile = dated_login_profile
    IAMBackend.update_login_profile = reset_login_profile
    IAMBackend.get_access_key_last_used = get_access_key_last_used


def _with_aws_managed_policy(method: Any) -> Any:
    def patched(self: Any, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        _ensure_aws_managed_policy(self, policy_arn)
        return method(self, policy_arn, *args, **kwargs)

    return patched
