"""The docs fit a screen, never drift from the code, and quote only output that a test produces."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from scripts import fanout_sizing as sizing

from tests.cfn_template import load_hub_template

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md")])
# The tests whose expected messages the docs may quote.
CLI_TESTS = sorted((ROOT / "tests" / "integration").glob("test_cli*.py"))


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_fits_in_15_kb():
    assert len((ROOT / "README.md").read_bytes()) < 15_000


def test_configuration_doc_is_generated_from_the_settings_model():
    # Given the table generated from Settings and template.yaml
    expected = load_script("configuration_doc").render_configuration()
    # Then the committed file is exactly that (run `make docs` after changing a setting)
    assert (ROOT / "docs" / "configuration.md").read_text() == expected


def test_configuration_doc_lists_every_setting_with_a_description():
    from iam_inventory.config.settings import Settings

    text = (ROOT / "docs" / "configuration.md").read_text()
    for field in Settings.model_fields.values():
        assert field.description, f"{field.alias}: add a docstring under the field in settings.py"
        assert f"| `{field.alias}` |" in text


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_relative_links_point_at_files_that_exist(document):
    text = document.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    missing = []
    for target in targets:
        if re.match(r"^[a-z]+:", target):
            continue
        resolved = (document.parent / target).resolve()
        if not resolved.exists():
            missing.append(target)
    assert missing == []


def quoted_cli_messages() -> list[str]:
    found: list[str] = []
    for document in DOCUMENTS:
        found += re.findall(r"`(iam-inventory: [^`]+)`", document.read_text())
    return sorted(set(found))


def test_the_docs_quote_cli_messages():
    assert len(quoted_cli_messages()) >= 6


@pytest.mark.parametrize("message", quoted_cli_messages())
def test_every_quoted_cli_message_is_what_a_test_makes_the_cli_print(message):
    # A quoted message must be (part of) a message a CLI test asserts, so it cannot go stale.
    sources = "".join(path.read_text() for path in CLI_TESTS)
    assert message in sources


def test_samconfig_deploys_no_placeholder_accounts_and_the_template_names_the_missing_parameter():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment in config.values():
        if isinstance(environment, dict) and "deploy" in environment:
            overrides = environment["deploy"]["parameters"].get("parameter_overrides", "")
            assert not re.search(r"\b\d{12}\b", overrides)
            assert "AccountIds=" not in overrides
    rule = load_hub_template()["Rules"]["ScheduledStaticRunNeedsAccounts"]
    description = rule["Assertions"][0]["AssertDescription"]
    assert "AccountIds or AccountIdsParameter" in description
    assert description in (ROOT / "docs" / "deploy.md").read_text().replace("\n", " ").replace("*", "")


def test_the_deploy_guide_lists_exactly_the_spoke_roles_actions():
    # Given the actions spoke/template.yaml grants, and those docs/deploy.md's permission table names
    from tests.cfn_template import granted_actions, load_spoke_template

    granted = granted_actions(load_spoke_template())
    text = (ROOT / "docs" / "deploy.md").read_text()
    table = text[text.index("| action | resource | used for |") :].split("\n\n", 1)[0]
    documented = set(re.findall(r"`(iam:[A-Za-z]+)`", table))
    # Then they are the same set: the guide never drifts from what the role can do
    assert documented == granted


def test_fanout_sizing_section_is_generated_from_the_measured_figures_and_the_template():
    # Given the section computed from docs/fanout-sizing.json and template.yaml's defaults
    expected = sizing.render(sizing.Measured.load(), sizing.Template.load())
    # Then docs/fanout.md holds exactly that (run `make docs` after a new measurement or template change)
    text = (ROOT / "docs" / "fanout.md").read_text()
    assert text[text.index(sizing.BEGIN) : text.index(sizing.END) + len(sizing.END)] == expected


def test_the_older_spoke_warning_quoted_in_collection_md_is_the_one_the_job_writes():
    # Given the warning docs/collection.md quotes for an older spoke stack (wrapped across lines there)
    from iam_inventory.collect.credentials import unreadable_warning
    from iam_inventory.models import CredentialType

    text = " ".join((ROOT / "docs" / "collection.md").read_text().split())
    # Then it is, word for word, what the collector writes for a denied ListSSHPublicKeys
    assert f"`{unreadable_warning(CredentialType.SSH_KEY)}`" in text
