"""template.yaml grants for the security team's outputs: only what is switched on, only where needed."""

from __future__ import annotations

from tests.outputs_support import template


def statements() -> list:
    role = template()["Resources"]["InventoryRole"]["Properties"]
    return role["Policies"][0]["PolicyDocument"]["Statement"]


def conditional(sid: str) -> tuple[str, dict]:
    """(condition, statement) of a statement wrapped in !If [condition, statement, AWS::NoValue]."""
    for item in statements():
        if isinstance(item, list) and isinstance(item[1], dict) and item[1].get("Sid") == sid:
            assert item[2] == "AWS::NoValue"
            return item[0], item[1]
    raise AssertionError(f"no conditional statement {sid}")


def test_sns_publish_only_when_a_topic_is_given_and_only_on_that_topic():
    condition, statement = conditional("NotifyNewFindings")
    assert condition == "HasNotificationTopic"
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == "NotificationTopicArn"


def test_security_hub_export_assumes_only_the_import_role_and_only_when_enabled():
    # The hub imports nothing itself: Security Hub takes a finding only from the account it names.
    condition, statement = conditional("AssumeFindingsImportRole")
    assert condition == "ExportToSecurityHub"
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"].endswith(":iam::*:role${SpokeRolePath}${FindingsImportRoleName}")
    assert template()["Parameters"]["SecurityHubExport"]["Default"] == "DISABLED"
    granted = [item[1] if isinstance(item, list) else item for item in statements()]
    assert not any("securityhub:" in str(grant.get("Action")) for grant in granted if isinstance(grant, dict))


def test_athena_tables_use_partition_projection_on_dt_under_the_commit_prefix():
    resources = template()["Resources"]
    tables = (("FindingsTable", "findings"), ("InventoryTable", "inventory"), ("RunsTable", "runs"))
    for logical_id, table in tables:
        table_input = resources[logical_id]["Properties"]["TableInput"]
        assert table_input["Name"] == table
        assert table_input["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        parameters = table_input["Parameters"]
        assert parameters["projection.enabled"] == "true"
        assert parameters["projection.dt.format"] == "yyyy-MM-dd"
        assert (
            parameters["storage.location.template"][0]
            == f"s3://${{Bucket}}/${{ReportPrefix}}/athena/{table}/dt=${{!dt}}/"
        )
        # findings and inventory read the symlink manifests a run's commit writes, never run folders
        symlink = table_input["StorageDescriptor"]["InputFormat"].endswith("SymlinkTextInputFormat")
        assert symlink is (table != "runs"), table
    assert not any(resource["Type"] == "AWS::Glue::Crawler" for resource in resources.values())
