"""Stacks deployed by earlier releases preview, update, refresh and destroy with this code.

Each fixture in ``tests/data/legacy_state/`` is the dev stack's state as one release left it (made
by that release's code through Pulumi's real dynamic-provider host; see the README there): every
resource's outputs in that release's props shape, and its ``__provider`` pickled by that code, by
reference to the module path the provider class had then:

* ``dev-stack.json`` (commit b113a31): every class in ``components.pachyderm_auth.provider``;
* ``main-9ca8b16.json`` (commit 9ca8b16): one module per pachd object, e.g.
  ``components.pachyderm_auth.idp_connector.ConnectorProvider``.

A fake pachd is put in the state that ``up`` left pachd in; the old pachd's address is gone with
it, so the stored addresses are pointed at the new fake, as if pachd had kept its address. Then the
new code runs ``preview`` (Check + Diff) and ``destroy`` (Delete with the OLD pickles, as the engine
hands them) through the real host.
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pytest

from testkit.dynamic_host import PROVIDER_KEY, DiffKind
from testkit.fake_pachd import FakePachd
from testkit.offline_up import HostPool, OfflineEngine, Stack, plan_program

LEGACY_DIR = Path(__file__).parent / "data" / "legacy_state"
# Each release's fixture, the module paths its pickles name, and the pachd objects the current
# program changes on that stack: the connector document gained keys since both releases
# (basicAuthUnsupported and no openid since b113a31; getUserInfo since both).
RELEASES = {
    "dev-stack.json": {
        "modules": {"components.pachyderm_auth.provider"},
        "changed": ["auth-connector"],
    },
    "main-9ca8b16.json": {
        "modules": {
            f"components.pachyderm_auth.{module}"
            for module in (
                "activation",
                "oidc_client",
                "role_binding",
                "identity_config",
                "auth_config",
                "idp_connector",
            )
        },
        "changed": ["auth-connector"],
    },
}


@pytest.fixture(params=sorted(RELEASES), scope="module")
def release(request: pytest.FixtureRequest) -> str:
    """The fixture file of one earlier release."""
    name: str = request.param
    return name


def _legacy(release: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((LEGACY_DIR / release).read_text())
    return document


@pytest.fixture
def pachd(release: str) -> Iterator[FakePachd]:
    """A fake pachd in the state the old code's ``up`` left pachd in."""
    with FakePachd() as fake:
        for name, value in _legacy(release)["pachd_state"].items():
            if name == "cluster_role_bindings":
                value = {principal: set(roles) for principal, roles in value.items()}
            setattr(fake.state, name, value)
        yield fake


def _stack(release: str, pachd: FakePachd) -> Stack:
    document = _legacy(release)
    config = {
        key: pachd.address if value == document["pachd_address"] else value
        for key, value in document["stack"]["config"].items()
    }
    return config, document["stack"]["secret_keys"]


def _adopt_legacy_state(release: str, engine: OfflineEngine, pachd: FakePachd) -> None:
    document = _legacy(release)
    for resource in document["resources"]:
        outputs = dict(resource["outputs"])
        assert outputs["pachd_address"] == document["pachd_address"]
        outputs["pachd_address"] = pachd.address
        engine.state[resource["urn"]] = outputs
        engine.ids[resource["urn"]] = resource["id"]
        engine.order.append(resource["urn"])


def test_every_old_pickle_names_a_module_path_the_current_code_still_has(release: str) -> None:
    named: set[str] = set()
    for resource in _legacy(release)["resources"]:
        raw = base64.b64decode(resource["outputs"][PROVIDER_KEY])
        provider = dill.loads(raw)  # noqa: S301 - test data made by this repository
        module = next(m for m in RELEASES[release]["modules"] if m.encode() in raw)
        named.add(module)
        assert type(provider) is getattr(importlib.import_module(module), type(provider).__name__)
    assert named == RELEASES[release]["modules"]


def test_unchanged_inputs_diff_as_no_change_against_legacy_outputs(
    release: str, hosts: HostPool, pachd: FakePachd
) -> None:
    # The old program's inputs, as the new code pickles its providers: an unchanged stack.
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(release, engine, pachd)
    plan = plan_program(_stack(release, pachd))
    new_pickles = {r.urn: OfflineEngine.inputs(r)[PROVIDER_KEY] for r in plan.dynamic}
    engine.stack = _stack(release, pachd)
    host = engine.host
    pachd.reset_calls()

    for resource in _legacy(release)["resources"]:
        urn = resource["urn"]
        news = {**resource["inputs"], "pachd_address": pachd.address}
        news[PROVIDER_KEY] = new_pickles[urn]
        checked, failures = host.check(urn, engine.state[urn], news)
        assert failures == []
        diff = host.diff(urn, resource["id"], engine.state[urn], checked)
        assert diff.kind is DiffKind.NONE, urn
    assert pachd.calls == []


def test_the_current_program_on_a_legacy_stack_changes_only_what_the_program_changed(
    release: str, hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(release, engine, pachd)
    plan = plan_program(_stack(release, pachd))
    assert {r.urn for r in plan.dynamic} == set(engine.state)
    pachd.reset_calls()

    kinds = engine.preview(plan)
    result = engine.up(plan)

    changed = [urn.split("::")[-1] for urn, kind in kinds.items() if kind is not DiffKind.NONE]
    assert changed == RELEASES[release]["changed"]
    assert [step.urn.split("::")[-1] for step in result.steps if step.action != "same"] == changed
    expected_calls = ["identity.GetIDPConnector", "identity.UpdateIDPConnector"] if changed else []
    assert pachd.calls == expected_calls


def test_a_legacy_stack_refreshes_and_destroys_with_its_old_pickles(
    release: str, hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    _adopt_legacy_state(release, engine, pachd)
    engine.stack = _stack(release, pachd)

    live = engine.refresh()
    assert all(outputs is not None for outputs in live.values())
    deleted = engine.destroy()

    assert len(deleted) == len(_legacy(release)["resources"])
    state = pachd.state
    assert state.connectors == {}
    assert state.oidc_clients == {}
    assert set(state.cluster_role_bindings) == {"pach:root", "internal:auth-server"}
    # The old stack did not ask for deactivation: auth stays on with its root token.
    assert state.auth_active
    assert state.tokens == _legacy(release)["pachd_state"]["tokens"]
