"""A light AWS responder for the benchmark: STS and IAM over HTTP on loopback, with latency and throttling.

moto is faithful but costs milliseconds of CPU per request and would need hours to seed 100,000 users,
so the large sizes use this instead: one asyncio process answering the dozen IAM/STS operations both
implementations call, in AWS's wire format, from a generated estate. Every request waits `latency`
seconds; IAM requests above `rate` per second per account get AWS's `Throttling` / "Rate exceeded".

Run: python -m bench.responder --size 200 [--latency 0.05] [--rate 20]; it prints its port, then serves.
GET /__stats returns request counts (by operation and account), throttled requests, and the most calls of
each per-user operation on any one user; POST /__reset clears them and the generated reports.
POST /__reset?reports=keep keeps the reports (the next run gets COMPLETE: a cached report, as within 4 hours
of another run); POST /__reset?rotate=N rotates one key of a user in each of the first N accounts with
keys (a steady-state run's "few changed users") and answers {"rotated": {account: user}}.
Reports are snapshots taken at GenerateCredentialReport, as IAM's are.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import csv
import io
import json
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from bench.estate import BenchAccount, BenchKey, BenchUser, Size, build_estate
from bench.responder_credentials import (
    certificate_columns,
    list_service_specific_credentials,
    list_signing_certificates,
    list_ssh_public_keys,
    user_policy_list,
)
from iam_inventory_sim.credential_report import COLUMNS

HUB_ACCOUNT = "999999999999"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/")
_ROLE_ACCOUNT = re.compile(r"^arn:aws:iam::(\d{12}):role/")


def iso(value: datetime) -> str:
    """AWS's XML timestamp format."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_date(value: datetime | None) -> str:
    """The credential report's timestamp format."""
    return "N/A" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class ApiError(Exception):
    """An error answer: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class TokenBucket:
    """`rate` requests per second with a burst of `rate`, like IAM's per-account limit."""

    rate: float
    tokens: float = 0.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.rate

    def take(self) -> bool:
        """Spend a token, or False when the account is over its rate."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _report_csv(account: BenchAccount) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)

    def key_columns(keys: tuple[BenchKey, ...], slot: int) -> list[str]:
        if len(keys) < slot:
            return ["false", "N/A", "N/A", "N/A", "N/A"]
        key = keys[slot - 1]
        used = key.last_used_at is not None
        return [
            "true" if key.active else "false",
            report_date(key.created_at),
            report_date(key.last_used_at),
            "us-east-1" if used else "N/A",
            "s3" if used else "N/A",
        ]

    root_keys = (
        (BenchKey("AKIAROOT", True, datetime(2021, 1, 1, tzinfo=UTC), None),) if account.root_key else ()
    )
    root = ["<root_account>", f"arn:aws:iam::{account.account_id}:root", "2020-01-01T00:00:00+00:00"]
    root += ["not_supported", "no_information", "not_supported", "not_supported", "true"]
    writer.writerow(root + key_columns(root_keys, 1) + key_columns((), 2) + ["false", "N/A", "false", "N/A"])
    for user in account.users:
        row = [user.name, f"arn:aws:iam::{account.account_id}:user/{user.name}", report_date(user.created_at)]
        row += ["true" if user.console else "false", "N/A", "N/A", "N/A", "true" if user.mfa else "false"]
        certificates = certificate_columns(user, report_date)
        writer.writerow(row + key_columns(user.keys, 1) + key_columns(user.keys, 2) + certificates)
    return buffer.getvalue()


class Responder:
    """Answers STS and IAM query-protocol requests from the estate."""

    def __init__(self, estate: dict[str, BenchAccount], latency: float, rate: float) -> None:
        self.estate = estate
        self.latency = latency
        self.rate = rate
        self.users = {
            account_id: {user.name: user for user in account.users} for account_id, account in estate.items()
        }
        self.keys = {
            key.access_key_id: key
            for account in estate.values()
            for user in account.users
            for key in user.keys
        }
        self.buckets: dict[str, TokenBucket] = {}
        # account -> (GeneratedTime, the report's CSV as of then)
        self.reports: dict[str, tuple[datetime, bytes]] = {}
        self.rotations = 0
        self.reset()

    def reset(self, keep_reports: bool = False) -> None:
        """Clear counters, throttling state and (unless kept) generated reports."""
        self.by_operation: Counter[str] = Counter()
        self.by_account: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.throttled: Counter[str] = Counter()
        self.per_user: Counter[tuple[str, str, str]] = Counter()
        self.buckets.clear()
        if not keep_reports:
            self.reports.clear()

    def rotate(self, accounts: int) -> dict[str, str]:
        """Rotate the newest key of the first user with keys in each of the first `accounts` accounts."""
        self.rotations += 1
        rotated: dict[str, str] = {}
        for account_id, account in self.estate.items():
            if len(rotated) >= accounts:
                break
            user = next((user for user in account.users if user.keys), None)
            if user is None:
                continue
            old = user.keys[-1]
            new = BenchKey(
                # Original ids end in the slot (0 or 1); a rotation's end in 2..9, then wrap.
                f"{old.access_key_id[:-1]}{2 + self.rotations % 8}",
                True,
                datetime.now(UTC).replace(microsecond=0),
                None,
            )
            changed = replace(user, keys=(*user.keys[:-1], new))
            users = tuple(changed if other.name == user.name else other for other in account.users)
            self.estate[account_id] = replace(account, users=users)
            self.users[account_id][user.name] = changed
            self.keys.pop(old.access_key_id, None)
            self.keys[new.access_key_id] = new
            rotated[account_id] = user.name
        return rotated

    def stats(self) -> dict:
        """Counts so far."""
        most: dict[str, int] = {}
        for (operation, _account, _user), count in self.per_user.items():
            most[operation] = max(most.get(operation, 0), count)
        return {
            "by_operation": dict(self.by_operation),
            "by_account": {account: dict(ops) for account, ops in self.by_account.items()},
            "throttled": dict(self.throttled),
            "most_per_user": most,
        }

    def handle(self, authorization: str, body: bytes) -> tuple[int, str]:
        """One API request: (HTTP status, XML body)."""
        match = _CREDENTIAL.search(authorization)
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        action = form.get("Action", "")
        if match is None:
            return self._error("sts", ApiError("MissingAuthenticationToken", "missing credentials", 403))
        access_key, service = match.groups()
        try:
            if service == "sts" and action == "AssumeRole":
                account = self._role_account(form.get("RoleArn", ""))
                self._count(account, "sts:AssumeRole")
                return 200, self._assume_role(account)
            account = access_key[4:16] if access_key.startswith("ASIA") else HUB_ACCOUNT
            self._count(account, f"{service}:{action}")
            if service != "iam" or account not in self.estate:
                raise ApiError("AccessDenied", f"not authorized to perform {service}:{action}", 403)
            bucket = self.buckets.setdefault(account, TokenBucket(self.rate))
            if not bucket.take():
                self.throttled[account] += 1
                raise ApiError("Throttling", "Rate exceeded")
            return 200, self._iam(account, action, form)
        except ApiError as error:
            return self._error(service, error)

    def _count(self, account: str, operation: str) -> None:
        self.by_operation[operation] += 1
        self.by_account[account][operation] += 1

    def _role_account(self, role_arn: str) -> str:
        match = _ROLE_ACCOUNT.match(role_arn)
        if match is None or match.group(1) not in self.estate:
            raise ApiError("AccessDenied", f"not authorized to perform: sts:AssumeRole on {role_arn}", 403)
        return match.group(1)

    def _assume_role(self, account: str) -> str:
        expires = iso(datetime.fromtimestamp(time.time() + 900, UTC))
        result = (
            f"<Credentials><AccessKeyId>ASIA{account}BNCH</AccessKeyId><SecretAccessKey>bench-secret"
            f"</SecretAccessKey><SessionToken>bench-token-{uuid.uuid4().hex}</SessionToken>"
            f"<Expiration>{expires}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROABENCH:s"
            f"</AssumedRoleId><Arn>arn:aws:sts::{account}:assumed-role/IAMListRole/s</Arn></AssumedRoleUser>"
        )
        return _wrap("AssumeRole", result, STS_NS)

    def _user(self, account: str, name: str, action: str) -> BenchUser:
        self.per_user[(action, account, name)] += 1
        user = self.users[account].get(name)
        if user is None:
            raise ApiError("NoSuchEntity", f"The user with name {name} cannot be found.", 404)
        return user

    def _iam(self, account: str, action: str, form: dict[str, str]) -> str:
        estate = self.estate[account]
        if action in ("ListUsers", "GetAccountAuthorizationDetails"):
            # GetAccountAuthorizationDetails (Filter=User) pages users like ListUsers, in UserDetailList.
            start = int(form.get("Marker", "0"))
            size = int(form.get("MaxItems", "100"))
            page = estate.users[start : start + size]
            members = "".join(
                f"<member><Path>/</Path><UserName>{u.name}</UserName><UserId>{u.user_id}</UserId>"
                f"<Arn>arn:aws:iam::{account}:user/{u.name}</Arn><CreateDate>{iso(u.created_at)}</CreateDate>"
                f"{user_policy_list(u) if action != 'ListUsers' else ''}</member>"
                for u in page
            )
            more = start + size < len(estate.users)
            marker = f"<Marker>{start + size}</Marker>" if more else ""
            truncated = "true" if more else "false"
            listing = "Users" if action == "ListUsers" else "UserDetailList"
            return _wrap(
                action, f"<{listing}>{members}</{listing}><IsTruncated>{truncated}</IsTruncated>{marker}"
            )
        if action == "GetUser":
            user = self._user(account, form.get("UserName", ""), action)
            detail = (
                f"<User><Path>/</Path><UserName>{user.name}</UserName><UserId>{user.user_id}</UserId>"
                f"<Arn>arn:aws:iam::{account}:user/{user.name}</Arn>"
                f"<CreateDate>{iso(user.created_at)}</CreateDate></User>"
            )
            return _wrap("GetUser", detail)
        if action == "ListAccessKeys":
            user = self._user(account, form.get("UserName", ""), action)
            members = "".join(
                f"<member><UserName>{user.name}</UserName><AccessKeyId>{k.access_key_id}</AccessKeyId>"
                f"<Status>{'Active' if k.active else 'Inactive'}</Status>"
                f"<CreateDate>{iso(k.created_at)}</CreateDate></member>"
                for k in user.keys
            )
            result = f"<AccessKeyMetadata>{members}</AccessKeyMetadata><IsTruncated>false</IsTruncated>"
            return _wrap("ListAccessKeys", result)
        if action == "GetAccessKeyLastUsed":
            key = self.keys.get(form.get("AccessKeyId", ""))
            if key is None:
                raise ApiError("AccessDenied", "key not in this account", 403)
            if key.last_used_at is None:
                used = "<Region>N/A</Region><ServiceName>N/A</ServiceName>"
            else:
                used = (
                    f"<LastUsedDate>{iso(key.last_used_at)}</LastUsedDate><Region>us-east-1</Region>"
                    "<ServiceName>s3</ServiceName>"
                )
            return _wrap(
                "GetAccessKeyLastUsed", f"<UserName>x</UserName><AccessKeyLastUsed>{used}</AccessKeyLastUsed>"
            )
        if action == "GetLoginProfile":
            user = self._user(account, form.get("UserName", ""), action)
            if not user.console:
                raise ApiError("NoSuchEntity", f"Login Profile for User {user.name} cannot be found.", 404)
            profile = (
                f"<LoginProfile><UserName>{user.name}</UserName>"
                f"<CreateDate>{iso(user.created_at)}</CreateDate></LoginProfile>"
            )
            return _wrap("GetLoginProfile", profile)
        if action == "ListMFADevices":
            user = self._user(account, form.get("UserName", ""), action)
            device = (
                f"<member><UserName>{user.name}</UserName><SerialNumber>arn:aws:iam::{account}:mfa/{user.name}"
                f"</SerialNumber><EnableDate>{iso(user.created_at)}</EnableDate></member>"
                if user.mfa
                else ""
            )
            return _wrap(
                "ListMFADevices", f"<MFADevices>{device}</MFADevices><IsTruncated>false</IsTruncated>"
            )
        if action == "GetAccountSummary":
            entries = {
                "AccountAccessKeysPresent": int(estate.root_key),
                "AccountMFAEnabled": 1,
                "Users": len(estate.users),
            }
            members = "".join(f"<entry><key>{k}</key><value>{v}</value></entry>" for k, v in entries.items())
            return _wrap("GetAccountSummary", f"<SummaryMap>{members}</SummaryMap>")
        if action == "ListServiceSpecificCredentials":
            return _wrap(action, list_service_specific_credentials(estate, form))
        if action == "ListSSHPublicKeys":
            return _wrap(action, list_ssh_public_keys(self._user(account, form.get("UserName", ""), action)))
        if action == "ListSigningCertificates":
            return _wrap(
                action, list_signing_certificates(self._user(account, form.get("UserName", ""), action))
            )
        if action == "GenerateCredentialReport":
            if account in self.reports:
                return _wrap("GenerateCredentialReport", "<State>COMPLETE</State>")
            self.reports[account] = (datetime.now(UTC), _report_csv(estate).encode())
            return _wrap("GenerateCredentialReport", "<State>STARTED</State>")
        if action == "GetCredentialReport":
            if account not in self.reports:
                raise ApiError("ReportNotPresent", "Credential report not present", 410)
            generated, csv_bytes = self.reports[account]
            content = base64.b64encode(csv_bytes).decode()
            result = (
                f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
                f"<GeneratedTime>{iso(generated)}</GeneratedTime>"
            )
            return _wrap("GetCredentialReport", result)
        raise ApiError("InvalidAction", f"{action} is not simulated", 400)

    @staticmethod
    def _error(service: str, error: ApiError) -> tuple[int, str]:
        namespace = STS_NS if service == "sts" else IAM_NS
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>Sender</Type><Code>{error.code}</Code>'
            f"<Message>{escape(error.message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>"
        )
        return error.status, body


def _wrap(action: str, result: str, namespace: str = IAM_NS) -> str:
    return (
        f'<{action}Response xmlns="{namespace}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
    )


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 410: "Gone"}


async def _serve_connection(
    responder: Responder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            _method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if path.startswith("/__stats"):
                status, payload, kind = 200, json.dumps(responder.stats()), "application/json"
            elif path.startswith("/__reset"):
                query = {name: values[0] for name, values in parse_qs(urlsplit(path).query).items()}
                responder.reset(keep_reports=query.get("reports") == "keep")
                rotated = responder.rotate(int(query["rotate"])) if "rotate" in query else {}
                status, payload, kind = 200, json.dumps({"rotated": rotated}), "application/json"
            else:
                await asyncio.sleep(responder.latency)
                status, payload, kind = *responder.handle(headers.get("authorization", ""), body), "text/xml"
            data = payload.encode()
            writer.write(
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(data)}\r\nx-amzn-RequestId: {uuid.uuid4()}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(size: Size, latency: float, rate: float, port: int) -> None:
    """Serve the estate of `size` until killed; print the port first."""
    responder = Responder(build_estate(size), latency, rate)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(responder, r, w), "127.0.0.1", port, backlog=4096, limit=1 << 20
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.responder")
    parser.add_argument("--size", type=Size.parse, required=True)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.size, args.latency, args.rate, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
