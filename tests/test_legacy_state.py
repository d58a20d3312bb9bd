"""A stack created by the code before the provider split previews and destroys with this code.

``tests/data/legacy_state/dev-stack.json`` is the dev stack's state as commit b113a31 left it
(made by that code through Pulumi's real dynamic-provider host; see its README): every resource's
outputs in the old props shape, and its ``__provider`` pickled by that code, by reference to
``components.pachyderm_auth.provider.<Name>``. A fake pachd is put in the state that ``up`` left
pachd in; the old pachd's address is gone with it, so the stored addresses are pointed at the new
fake, as if pachd had kept its address. Then the new code runs ``preview`` (Check + Diff) and
``destroy`` (Delete with the OLD pickles, as the engine hands them) through the real host.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pytest

from components.pachyderm_auth import provider as old_path
from testkit.dynamic_host import PROVIDER_KEY, DiffKind
from testkit.fake_pachd import FakePachd
from testkit.offline_up import HostPool, OfflineEngine, Stack, plan_program

LEGACY = Path(__file__).parent / "data" / "legacy_state" / "dev-stack.json"
OLD_MODULE = "components.pachyderm_auth.provider"


def _legacy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(LEGACY.read_text())
    return document


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostPool]:
    with HostPool() as pool:
        yield pool


@pytest.fixture
def pachd() -> Iterator[FakePachd]:
    """A fake pachd in the state the old code's ``up`` left pachd in."""
    with FakePachd() as fake:
        for name, value in _legacy()["pachd_state"].items():
            if name == "cluster_role_bindings":
                value = {principal: set(roles) for principal, roles in value.items()}
            setattr(fake.state, name, value)
        yield fake


def _stack(pachd: FakePachd) -> Stack:
    document = _legacy()
    config = {
        key: pachd.address if value == document["pachd_address"] else value
        for key, value in document["stack"]["config"].items()
    }
    return config, document["stack"]["secret_keys"]


def _adopt_legacy_state(engine: OfflineEngine, pachd: FakePachd) -> None:
    document = _legacy()
    for resource in document["resources"]:
        outputs = dict(resource["outputs"])
        assert outputs["pachd_address"] == document["pachd_address"]
        outputs["pachd_address"] = pachd.address
        engine.state[resource["urn"]] = outputs
        engine.ids[resource["urn"]] = resource["id"]
        engine.order.append(resource["urn"])


def test_the_fixture_holds_providers_pickled_by_the_old_module_path() -> None:
    for resource in _legacy()["resources"]:
        raw = base64.b64decode(resource["outputs"][PROVIDER_KEY])
        assert OLD_MODULE.encode() in raw
        provider = dill.loads(raw)  # noqa: S301 - test data made by this repository
        assert type(provider) is getattr(old_path, type(provider).__name__)


def test_unchanged_inputs_diff_as_no_change_against_legacy_outputs(
    hosts: HostPool, pachd: FakePachd
) -> None:
    # The old program's inputs, as the new code pickles its providers: an unchanged stack.
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(engine, pachd)
    plan = plan_program(_stack(pachd))
    new_pickles = {r.urn: OfflineEngine.inputs(r)[PROVIDER_KEY] for r in plan.dynamic}
    engine.stack = _stack(pachd)
    host = engine.host
    pachd.reset_calls()

    for resource in _legacy()["resources"]:
        urn = resource["urn"]
        news = {**resource["inputs"], "pachd_address": pachd.address}
        news[PROVIDER_KEY] = new_pickles[urn]
        checked, failures = host.check(urn, engine.state[urn], news)
        assert failures == []
        diff = host.diff(urn, resource["id"], engine.state[urn], checked)
        assert diff.kind is DiffKind.NONE, urn
    assert pachd.calls == []


def test_the_current_program_on_a_legacy_stack_changes_only_the_connector(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(engine, pachd)
    plan = plan_program(_stack(pachd))
    assert {r.urn for r in plan.dynamic} == set(engine.state)
    pachd.reset_calls()

    kinds = engine.preview(plan)
    result = engine.up(plan)

    # Since b113a31 the program's connector document changed (Okta's client_secret_post:
    # basicAuthUnsupported; Dex adds openid itself; getUserInfo for Okta's thin ID token): that,
    # and only that, is pachd state to change.
    changed = [urn.split("::")[-1] for urn, kind in kinds.items() if kind is not DiffKind.NONE]
    assert changed == ["auth-connector"]
    assert [step.urn.split("::")[-1] for step in result.steps if step.action != "same"] == changed
    assert pachd.calls == ["identity.GetIDPConnector", "identity.UpdateIDPConnector"]


def test_a_legacy_stack_refreshes_and_destroys_with_its_old_pickles(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(engine, pachd)
    engine.stack = _stack(pachd)

    live = engine.refresh()
    assert all(outputs is not None for outputs in live.values())
    deleted = engine.destroy()

    assert len(deleted) == len(_legacy()["resources"])
    state = pachd.state
    assert state.connectors == {}
    assert state.oidc_clients == {}
    assert set(state.cluster_role_bindings) == {"pach:root", "internal:auth-server"}
    # The old stack did not ask for deactivation: auth stays on with its root token.
    assert state.auth_active
    assert state.tokens == _legacy()["pachd_state"]["tokens"]
