"""End to end against a real cluster and Okta org (opt-in): one `up` works, a second is a no-op.

Needs the Pulumi CLI, a kube context with room for Pachyderm, and an Okta org with an API token,
so it only runs with PACHYDERM_OKTA_INTEGRATION=1 (docs/testing.md, "Running the integration test").
Everything else in the suite proves the same behaviour offline.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from components import program
from testkit.stacks import ROOT

REQUIRED_ENV = ("OKTA_ORG_NAME", "OKTA_API_TOKEN", "PACHYDERM_PUBLIC_URL", "KUBE_CONTEXT")


def _skip_reason() -> str | None:
    if os.environ.get("PACHYDERM_OKTA_INTEGRATION") != "1":
        return "opt-in: set PACHYDERM_OKTA_INTEGRATION=1 (needs a cluster and an Okta org)"
    if shutil.which("pulumi") is None:
        return "the Pulumi CLI is not on PATH"
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        return f"missing environment: {', '.join(missing)}"
    return None


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from pulumi import automation as auto

    state = Path(tmp_path_factory.mktemp("state"))
    env = {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "integration"),
    }
    created = auto.create_or_select_stack(
        stack_name="integration",
        work_dir=str(ROOT),
        opts=auto.LocalWorkspaceOptions(env_vars=env),
    )
    created.set_all_config(
        {
            "okta:orgName": auto.ConfigValue(os.environ["OKTA_ORG_NAME"]),
            "okta:baseUrl": auto.ConfigValue(os.environ.get("OKTA_BASE_URL", "okta.com")),
            "okta:apiToken": auto.ConfigValue(os.environ["OKTA_API_TOKEN"], secret=True),
            "kubernetes:context": auto.ConfigValue(os.environ["KUBE_CONTEXT"]),
            "pachyderm-okta:publicUrl": auto.ConfigValue(os.environ["PACHYDERM_PUBLIC_URL"]),
            "pachyderm-okta:auth": auto.ConfigValue('{"deactivateOnDelete": true}'),
            # The first up reaches pachd through the Kubernetes API, as a new stack's does.
            "pachyderm-okta:pachdAccess": auto.ConfigValue("portForward"),
        }
    )
    try:
        yield created
    finally:
        created.destroy(on_output=print)
        created.workspace.remove_stack("integration")


def test_up_then_a_second_up_changes_nothing(stack: object) -> None:
    from pulumi import automation as auto

    assert isinstance(stack, auto.Stack)
    result = stack.up(on_output=print)
    outputs = result.outputs
    assert outputs[program.OUTPUT_ROOT_TOKEN].secret
    assert outputs[program.OUTPUT_OKTA_REDIRECT_URI].value.endswith("/dex/callback")
    stack.preview(expect_no_changes=True, on_output=print)


def test_switching_to_direct_access_changes_nothing(stack: object) -> None:
    """Both access modes reach the same pachd: switching previews, refreshes and ups clean."""
    from pulumi import automation as auto

    assert isinstance(stack, auto.Stack)
    stack.up(on_output=print)
    stack.set_config("pachyderm-okta:pachdAccess", auto.ConfigValue("direct"))
    try:
        stack.preview(expect_no_changes=True, on_output=print)
        stack.up(on_output=print)
        stack.refresh(expect_no_changes=True, on_output=print)
    finally:
        stack.set_config("pachyderm-okta:pachdAccess", auto.ConfigValue("portForward"))
