"""After the root token rotates, refresh, update and destroy still reach pachd.

Rotation revokes the old token in pachd. A resource whose pachd state did not change diffs as "no
change", and the engine then keeps its OLD outputs - the only props ``read`` and ``delete`` get
(``SameStep.Apply``, pulumi/pulumi pkg/resource/deploy/step.go). So this is where a stale
credential would surface. Everything runs through Pulumi's real dynamic-provider host, configured
with each run's stack config as the engine configures it, against a fake pachd that enforces the
revocation.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from testkit.dynamic_host import HostError
from testkit.fake_pachd import FakePachd
from testkit.offline_up import HostPool, OfflineEngine, Stack, World, dev_stack, plan_program
from testkit.stacks import TEST_SECRETS, dev_auth

API_TOKEN = {"okta:apiToken": TEST_SECRETS["okta:apiToken"]}
FIRST = "test-root-token-rotation-first-0001"
SECOND = "test-root-token-rotation-second-0002"
NEVER_APPLIED = "test-root-token-rotation-never-applied-0003"
REMINTED = "test-root-token-rotation-reminted-0004"


@pytest.fixture(scope="module")
def hosts() -> Iterator[HostPool]:
    with HostPool() as pool:
        yield pool
        for secret in (FIRST, SECOND, NEVER_APPLIED, REMINTED):
            assert secret not in pool.stderr_text()


def adopted(pachd: FakePachd, token: str, **overrides: str) -> Stack:
    secrets = {**API_TOKEN, "pachyderm-okta:rootToken": token}
    return dev_stack(pachd.address, secrets=secrets, **overrides)


def stored_tokens(engine: OfflineEngine) -> dict[str, str]:
    return {urn.split("::")[-1]: outputs["root_token"] for urn, outputs in engine.state.items()}


def assert_destroyed(pachd: FakePachd) -> None:
    state = pachd.state
    assert state.connectors == {}
    assert state.oidc_clients == {}
    # As activation left them: allClusterUsers gets back the projectCreator it held.
    assert state.cluster_role_bindings == {
        "pach:root": {"clusterAdmin"},
        "internal:auth-server": {"clusterAdmin"},
        "allClusterUsers": {"projectCreator"},
    }


@pytest.mark.parametrize(
    "first_token",
    # A stack that adopted FIRST; and `make rotate-root-token` on a stack that never set
    # rootToken, whose minted token gives way to one in the stack config.
    [FIRST, None],
    ids=["configured-token", "minted-token"],
)
def test_rotation_in_config_then_refresh_update_and_destroy(
    hosts: HostPool, pachd: FakePachd, first_token: str | None
) -> None:
    engine = OfflineEngine(hosts)
    first = dev_stack(pachd.address) if first_token is None else adopted(pachd, first_token)
    engine.up(plan_program(first))
    previous = stored_tokens(engine)["auth-activation"]
    pachd.reset_calls()

    rotated = engine.up(plan_program(adopted(pachd, SECOND)))

    assert [step.urn.split("::")[-1] for step in rotated.steps if step.action != "same"] == [
        "auth-activation"
    ]
    assert pachd.calls == ["version.GetVersion", "auth.RotateRootToken"]
    assert pachd.state.tokens == {SECOND: "pach:root"}
    # The engine kept the other resources' outputs: they name the revoked token.
    tokens = stored_tokens(engine)
    assert tokens.pop("auth-activation") == SECOND
    assert set(tokens.values()) == {previous}

    pachd.reset_calls()
    live = engine.refresh()
    assert all(outputs is not None for outputs in live.values())
    assert {outputs["root_token"] for outputs in live.values() if outputs} == {SECOND}

    auth = dev_auth(connectorName="Okta SSO")
    renamed = engine.up(plan_program(adopted(pachd, SECOND, pachyderm_okta__auth=auth)))
    assert renamed.action("::auth-connector") == "update"
    assert pachd.state.connectors["okta"]["name"] == "Okta SSO"

    engine.destroy()
    assert_destroyed(pachd)


def test_reminted_token_is_stored_by_every_resource_without_pachd_calls(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(plan_program(dev_stack(pachd.address)))
    pachd.reset_calls()

    reminted = World(passwords={"auth-root-token": REMINTED})
    result = engine.up(plan_program(dev_stack(pachd.address), world=reminted))

    assert {step.action for step in result.steps} == {"update"}
    assert pachd.calls == ["version.GetVersion", "auth.RotateRootToken"]
    assert set(stored_tokens(engine).values()) == {REMINTED}

    engine.destroy()
    assert_destroyed(pachd)


def test_a_configured_token_pachd_never_got_falls_back_to_the_stored_one(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(plan_program(adopted(pachd, FIRST)))
    # The next up names a new token but fails before pachd rotates to it: the stack config (and
    # so the provider's) names a token pachd never accepted.
    pachd.inject("auth.RotateRootToken", grpc.StatusCode.INTERNAL, "pachd restarted")
    with pytest.raises(HostError):
        engine.up(plan_program(adopted(pachd, NEVER_APPLIED)))
    assert pachd.state.tokens == {FIRST: "pach:root"}
    pachd.reset_calls()

    engine.destroy()

    assert_destroyed(pachd)
    # Each delete tried the configured token first, then the stored one.
    assert pachd.calls.count("identity.DeleteIDPConnector") == 2


def test_a_configured_address_that_does_not_answer_falls_back_to_the_stored_one(
    hosts: HostPool, pachd: FakePachd
) -> None:
    engine = OfflineEngine(hosts)
    engine.up(plan_program(dev_stack(pachd.address)))
    with FakePachd() as gone:
        dead_address = gone.address
    moved = engine.up(plan_program(dev_stack(dead_address)))
    # The address is how pachd is reached, not pachd state: nothing to do.
    assert moved.changed == []

    engine.destroy()

    assert_destroyed(pachd)
