"""Robot accounts: scoped, expiring tokens minted by the stack, delivered in Kubernetes Secrets.

Guards what CI jobs, notebooks and S3 clients rely on: a stack file that asks for a token without
a lifetime, with one over a year, or binds a robot it does not declare fails by key before
anything is created; each robot gets one Kubernetes Secret holding what pachctl, pachyderm_sdk
and S3 clients read; the token is minted by pachd with its lifetime, rotated when asked or when
old enough while the token it replaces keeps working until the rotation after, found gone by
refresh when revoked (and minted again by ``up``), and destroy revokes exactly the tokens the
stack minted. The same life cycle runs against the real pachd in tests/test_real_pachd.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from pachyderm_sdk.config import ConfigFile

from components.robot_secrets import robot_secret_data
from testkit.dynamic_host import DynamicProviderHost
from testkit.fake_pachd import FakePachd
from testkit.mocks import is_secret, unwrap
from testkit.offline_up import OfflineEngine, dev_stack, plan_program
from testkit.stacks import config_problems, config_source, dev_auth

ROBOT_TYPE = "pulumi-python:dynamic/pachyderm:RobotToken"
SECRET_TYPE = "kubernetes:core/v1:Secret"
CI = {"ttl": "720h", "secret": {"namespace": "ci", "name": "pachyderm-robot-ci"}}
DAY = 24 * 3600


def _auth(**robots: dict[str, Any]) -> str:
    return dev_auth(
        robots=robots,
        clusterAdmins=["group:pachyderm-admins"],
        roleBindings={"allClusterUsers": ["projectViewer"], "robot:ci": ["repoReader"]},
    )


# --- the stack file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "key", "message"),
    [
        (
            {"roleBindings": {"robot:ci": ["repoReader"]}},
            'pachyderm-okta:auth.roleBindings["robot:ci"]',
            "robot 'ci' is not declared: add it to pachyderm-okta:auth.robots (the stack mints its "
            "token), or to pachyderm-okta:auth.externalRobots if its tokens are made elsewhere",
        ),
        (
            {"repos": {"team-a/raw": {"roleBindings": {"robot:ci": ["repoWriter"]}}}},
            'pachyderm-okta:auth.repos["team-a/raw"].roleBindings["robot:ci"]',
            "robot 'ci' is not declared: add it to pachyderm-okta:auth.robots (the stack mints its "
            "token), or to pachyderm-okta:auth.externalRobots if its tokens are made elsewhere",
        ),
        (
            {"robots": {"ci": {"secret": CI["secret"]}}},
            "pachyderm-okta:auth.robots.ci.ttl",
            "is required",
        ),
        (
            {"robots": {"ci": CI | {"ttl": "9000h"}}},
            "pachyderm-okta:auth.robots.ci.ttl",
            "9000h is outside 1h to 8760h: a robot token must expire, within a year",
        ),
        (
            {"robots": {"ci": CI | {"rotateAfter": "720h"}}},
            "pachyderm-okta:auth.robots.ci.rotateAfter",
            "720h must be at least 1m and shorter than ttl 720h: the new token has to arrive "
            "before the old one expires",
        ),
        (
            {"robots": {"c:i": CI}},
            'pachyderm-okta:auth.robots["c:i"]',
            "'c:i': pachd refuses a colon in a robot name; use the bare name",
        ),
        (
            {"robots": {"ci": CI}, "externalRobots": ["ci"]},
            "pachyderm-okta:auth.externalRobots",
            "robot 'ci' is also in pachyderm-okta:auth.robots: a robot is minted by this stack or "
            "made elsewhere, not both",
        ),
    ],
    ids=[
        "undeclared",
        "undeclared-on-a-repo",
        "no-ttl",
        "ttl-over-a-year",
        "rotate-too-late",
        "colon",
        "both",
    ],
)
def test_a_robot_without_bounds_or_declaration_is_refused_by_key(
    auth: dict[str, Any], key: str, message: str
) -> None:
    assert config_problems(config_source(**{"pachyderm-okta:auth": auth})) == [(key, message)]


def test_a_robot_made_elsewhere_may_be_bound() -> None:
    from components.settings import load_settings

    auth = {"externalRobots": ["etl"], "roleBindings": {"robot:etl": ["repoWriter"]}}
    settings = load_settings(lambda: config_source(**{"pachyderm-okta:auth": auth}))
    assert settings.project.auth.external_robots == ("etl",)
    assert settings.project.auth.robots == {}


# --- what the Secret holds ---------------------------------------------------------------------


def test_the_secret_holds_what_each_kind_of_client_reads(tmp_path: Path) -> None:
    data = robot_secret_data("robot-token-0001", "pachyderm")

    assert set(data) == {
        "config.json",
        "PACHD_ADDRESS",
        "PACH_PYTHON_AUTH_TOKEN",
        "S3_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    address = "grpc://pachd.pachyderm.svc.cluster.local:30650"
    assert data["PACHD_ADDRESS"] == address
    assert data["PACH_PYTHON_AUTH_TOKEN"] == "robot-token-0001"
    # The S3 gateway takes the token as both keys.
    assert data["AWS_ACCESS_KEY_ID"] == data["AWS_SECRET_ACCESS_KEY"] == "robot-token-0001"
    assert data["S3_ENDPOINT"] == "http://pachd.pachyderm.svc.cluster.local:30600"
    # pachctl and pachyderm_sdk's Client.from_config read the same file (PACH_CONFIG).
    config_file = tmp_path / "config.json"
    config_file.write_text(data["config.json"])
    context = ConfigFile.from_path(config_file).active_context
    assert context.session_token == "robot-token-0001"
    assert context.active_pachd_address == address
    assert json.loads(data["config.json"])["v2"]["metrics"] is False


def test_each_robot_gets_its_secret_and_its_token_stays_secret() -> None:
    plan = plan_program(
        dev_stack(
            "grpc://127.0.0.1:30650",
            pachyderm_okta__auth=_auth(
                ci=CI, etl=CI | {"secret": {"namespace": "etl", "name": "robot-etl"}}
            ),
        )
    )

    tokens = {r.name: r for r in plan.registrations if r.type == ROBOT_TYPE}
    assert sorted(tokens) == ["auth-robot-ci", "auth-robot-etl"]
    token = tokens["auth-robot-ci"]
    assert {k: token.plain_inputs[k] for k in ("robot", "ttl_seconds", "rotate_after_seconds",
            "rotation")} == {"robot": "ci", "ttl_seconds": 30 * DAY,
                             "rotate_after_seconds": 15 * DAY, "rotation": 0}  # fmt: skip
    assert {"token", "previous_token", "root_token"} <= set(token.additional_secret_outputs)
    activation = next(r for r in plan.registrations if r.name == "auth-activation")
    assert activation.urn in token.dependencies
    secrets = {r.name: r for r in plan.registrations if r.type == SECRET_TYPE}
    secret = secrets["robots-ci"]
    assert secret.plain_inputs["metadata"]["namespace"] == "ci"
    assert secret.plain_inputs["metadata"]["name"] == "pachyderm-robot-ci"
    assert secret.plain_inputs["type"] == "Opaque"
    assert is_secret(secret.inputs["stringData"])
    assert "$pulumi:providers:kubernetes::kubernetes::" in secret.provider
    assert secret.parent.endswith("::robots")
    assert secrets["robots-etl"].plain_inputs["metadata"]["namespace"] == "etl"
    assert unwrap(plan.exports["robots"])["ci"]["secret"] == "ci/pachyderm-robot-ci"


def test_a_stack_without_robots_has_no_robots_output() -> None:
    plan = plan_program(dev_stack("grpc://127.0.0.1:30650"))
    assert "robots" not in plan.exports
    assert not [r for r in plan.registrations if r.type == ROBOT_TYPE]


# --- the token's life cycle, through the real dynamic provider host ------------------------------


@pytest.fixture
def engine(host: DynamicProviderHost) -> OfflineEngine:
    return OfflineEngine(host)


def _up(engine: OfflineEngine, pachd: FakePachd, **ci: Any) -> str:
    """An ``up`` with robot ``ci``; returns its token's URN."""
    engine.up(plan_program(dev_stack(pachd.address, pachyderm_okta__auth=_auth(ci=CI | ci))))
    return next(urn for urn in engine.state if urn.endswith("::auth-robot-ci"))


def _holder(pachd: FakePachd, token: str) -> str:
    try:
        return str(pachd.client(token).auth.who_am_i().username)
    except grpc.RpcError as error:
        return error.code().name


def _robot_tokens(pachd: FakePachd) -> set[str]:
    return {token for token, subject in pachd.state.tokens.items() if subject == "robot:ci"}


@pytest.fixture
def minted(engine: OfflineEngine, pachd: FakePachd) -> tuple[str, dict[str, Any]]:
    urn = _up(engine, pachd)
    return urn, dict(engine.state[urn])


def test_first_up_mints_a_token_with_the_lifetime_asked(
    minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    _urn, state = minted

    assert _holder(pachd, state["token"]) == "robot:ci"
    expiry = pachd.state.token_expiry[state["token"]].timestamp()
    assert state["expires_at"] == pytest.approx(expiry)
    assert expiry - time.time() == pytest.approx(30 * DAY, abs=60)
    assert state["previous_token"] == ""


def test_a_second_up_calls_pachd_for_nothing(
    engine: OfflineEngine, minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    pachd.reset_calls()
    assert _up(engine, pachd) == minted[0]
    assert pachd.calls == []


def test_a_rotation_asked_for_keeps_the_old_token_until_the_next(
    engine: OfflineEngine, minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    urn, first = minted
    pachd.reset_calls()

    _up(engine, pachd, rotation=1)

    second = engine.state[urn]
    assert pachd.calls == ["auth.GetRobotToken", "auth.WhoAmI"]
    assert second["previous_token"] == first["token"]
    assert _holder(pachd, second["token"]) == _holder(pachd, first["token"]) == "robot:ci"
    pachd.reset_calls()

    _up(engine, pachd, rotation=2)

    assert pachd.calls == ["auth.RevokeAuthToken", "auth.GetRobotToken", "auth.WhoAmI"]
    assert _holder(pachd, first["token"]) == "UNAUTHENTICATED"
    assert _holder(pachd, engine.state[urn]["previous_token"]) == "robot:ci"


def test_a_token_old_enough_is_rotated_by_the_next_up(
    engine: OfflineEngine, minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    urn, first = minted
    # Sixteen days old: past rotateAfter (half the 30-day ttl).
    engine.state[urn] = first | {"issued_at": time.time() - 16 * DAY}
    pachd.reset_calls()

    _up(engine, pachd)

    assert pachd.calls == ["auth.GetRobotToken", "auth.WhoAmI"]
    assert engine.state[urn]["token"] != first["token"]
    assert engine.state[urn]["previous_token"] == first["token"]


def test_refresh_finds_a_revoked_token_gone_and_up_mints_a_new_one(
    engine: OfflineEngine, minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    urn, first = minted
    pachd.client(pachd.state.root_token).auth.revoke_auth_token(token=first["token"])

    live = engine.refresh()

    assert live[urn] is None
    del engine.state[urn], engine.ids[urn]
    engine.order.remove(urn)
    _up(engine, pachd)
    assert _holder(pachd, engine.state[urn]["token"]) == "robot:ci"


def test_destroy_revokes_exactly_the_tokens_the_stack_minted(
    engine: OfflineEngine, minted: tuple[str, dict[str, Any]], pachd: FakePachd
) -> None:
    _up(engine, pachd, rotation=1)
    by_hand = pachd.client(pachd.state.root_token).auth.get_robot_token(robot="ci", ttl=3600)
    assert len(_robot_tokens(pachd)) == 3

    engine.destroy()

    assert _robot_tokens(pachd) == {by_hand.token}


def test_the_robots_output_gives_each_expiry_as_a_utc_time() -> None:
    from components import program

    assert program._utc_time(1_799_265_652.6) == "2027-01-06T20:00:52+00:00"
    assert program._utc_time(None) is None
