"""Prove ``testkit.dynamic_host`` against Pulumi's real dynamic-provider host.

Regressions guarded: the harness must keep speaking the engine's wire protocol to
``python -m pulumi.dynamic`` (port on stdout, Configure before CRUD, Struct marshalling), and
the host behaviours our providers are designed around must stay as ``pulumi/dynamic/__main__.py``
(pulumi 3.272) implements them:
ints arrive as floats, ``None`` keys vanish, secrets arrive unwrapped, unknowns reach
check/diff as ``pulumi.output.Unknown`` but are *dropped* from create, ``stables`` are never
forwarded, the host ignores ``preview`` on Create, provider exceptions become
``StatusCode.UNKNOWN`` with the traceback, an empty read id means "gone", a provider module that
is not importable from the host's cwd fails, and the host process never outlives its test.
If a pulumi upgrade changes any of this, these tests fail before a real ``pulumi up`` does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from testkit.dynamic_host import (
    PROVIDER_KEY,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN_SENTINEL,
    DiffKind,
    DynamicProviderHost,
    HostError,
    HostStartError,
    is_unknown,
    marshal_properties,
    provider_props,
    serialize_provider,
    strip_secrets,
    unknown,
    unmarshal_properties,
    urn,
)
from testkit.stacks import ROOT
from testkit.toy_provider import ToyProvider, read_journal

TOY_TYPE = "pulumi-python:dynamic/toy:Toy"
TOY_URN = urn(TOY_TYPE, "toy")
SECRET_VALUE = "s3cr3t-token-value-0123456789"


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


@pytest.fixture(scope="module")
def host() -> Iterator[DynamicProviderHost]:
    with DynamicProviderHost(cwd=ROOT, timeout=10.0) as running:
        running.configure({"greeting": "hello"}, secret_keys=["greeting"])
        yield running


@pytest.fixture
def counter_file(tmp_path: Path) -> str:
    return str(tmp_path / "counter.json")


def _props(counter_file: str, **extra: Any) -> dict[str, Any]:
    # The engine sends `__provider` as a (stripped) secret, as `pulumi.dynamic.Resource` marks it.
    props = provider_props(ToyProvider(), {"counter_file": counter_file, **extra})
    props[PROVIDER_KEY] = _secret(props[PROVIDER_KEY])
    return props


def _types(counter_file: str, op: str) -> Any:
    calls = [call for call in read_journal(counter_file)["calls"] if call["op"] == op]
    return calls[-1]["types"]


def test_configure_answers_like_the_engine_expects(host: DynamicProviderHost) -> None:
    assert host.accept_secrets is False
    assert host.supports_preview is False
    assert host.plugin_info() == "0.1.0"
    assert host.port is not None
    assert host.stdout_text().splitlines()[0] == str(host.port)


def test_configure_reaches_provider_unwrapped(host: DynamicProviderHost, counter_file: str) -> None:
    result = host.create(TOY_URN, _props(counter_file))
    assert result.outputs["greeting"] == "hello"


def test_check_returns_inputs_and_failures(host: DynamicProviderHost, counter_file: str) -> None:
    inputs, failures = host.check(TOY_URN, {}, _props(counter_file, value=2))
    assert failures == []
    assert inputs["checked"] is True
    assert inputs["value"] == 2.0
    assert isinstance(inputs[PROVIDER_KEY], str)

    _, failures = host.check(TOY_URN, {}, _props(counter_file, value=-1))
    assert failures == [("value", "value must be >= 0")]


def test_create_read_update_delete_round_trip(host: DynamicProviderHost, counter_file: str) -> None:
    inputs, _ = host.check(TOY_URN, {}, _props(counter_file, name="a", value=1))
    created = host.create(TOY_URN, inputs)
    journal = read_journal(counter_file)
    assert created.id == f"toy-{journal['counter']}"
    assert created.outputs["counter"] == journal["counter"]
    assert created.outputs[PROVIDER_KEY] == inputs[PROVIDER_KEY]

    refreshed = host.read(TOY_URN, created.id, created.outputs, inputs)
    assert refreshed is not None
    assert refreshed.id == created.id
    assert refreshed.outputs["refreshed"] is True
    assert refreshed.inputs is None

    new_inputs, _ = host.check(TOY_URN, inputs, _props(counter_file, name="a", value=5))
    updated = host.update(TOY_URN, created.id, created.outputs, new_inputs, old_inputs=inputs)
    assert updated.id == created.id
    assert updated.outputs["value"] == 5.0
    assert updated.outputs["previous_value"] == 1.0
    assert updated.outputs["name"] == "a"
    assert PROVIDER_KEY in updated.outputs

    host.delete(TOY_URN, created.id, updated.outputs, old_inputs=new_inputs)
    journal = read_journal(counter_file)
    assert journal["deleted"] == [created.id]
    ops = [call["op"] for call in journal["calls"]]
    assert ops == ["check", "create", "read", "check", "update", "delete"]


def test_read_gone_returns_none(host: DynamicProviderHost, counter_file: str) -> None:
    created = host.create(TOY_URN, _props(counter_file))
    host.delete(TOY_URN, created.id, created.outputs)
    assert host.read(TOY_URN, created.id, created.outputs) is None


def test_read_can_return_new_inputs(host: DynamicProviderHost, counter_file: str) -> None:
    created = host.create(TOY_URN, _props(counter_file, value=3, read_inputs=True))
    refreshed = host.read(TOY_URN, created.id, created.outputs)
    assert refreshed is not None
    assert refreshed.inputs is not None
    assert refreshed.inputs["value"] == 3.0
    assert PROVIDER_KEY in refreshed.inputs


def test_diff_none_some_replace_unknown(host: DynamicProviderHost, counter_file: str) -> None:
    inputs, _ = host.check(TOY_URN, {}, _props(counter_file, name="a", value=1))
    created = host.create(TOY_URN, inputs)

    same = host.diff(TOY_URN, created.id, created.outputs, inputs)
    assert same.kind is DiffKind.NONE
    assert same.replaces == []
    assert same.delete_before_replace is False

    changed = host.diff(TOY_URN, created.id, created.outputs, {**inputs, "value": 2})
    assert changed.kind is DiffKind.SOME
    assert changed.replaces == []

    renamed = host.diff(TOY_URN, created.id, created.outputs, {**inputs, "name": "b"})
    assert renamed.kind is DiffKind.SOME
    assert renamed.replaces == ["name"]
    assert renamed.delete_before_replace is True
    # The toy returns stables=["counter_file"]; the host never forwards stables or diffs.
    assert renamed.stables == []
    assert renamed.diffs == []

    undecided = host.diff(TOY_URN, created.id, created.outputs, {**inputs, "diff_unknown": True})
    assert undecided.kind is DiffKind.UNKNOWN


def test_ints_arrive_as_floats(host: DynamicProviderHost, counter_file: str) -> None:
    props = _props(counter_file, value=3, nested={"port": 30650, "ports": [1, 2]}, flag=True)
    result = host.create(TOY_URN, props)
    assert _types(counter_file, "create") == {
        "counter_file": "str",
        "value": "float",
        "nested": {"port": "float", "ports": ["float", "float"]},
        "flag": "bool",
    }
    assert isinstance(result.outputs["value"], float)
    assert isinstance(result.outputs["counter"], float)


def test_none_keys_vanish(host: DynamicProviderHost, counter_file: str) -> None:
    props = _props(counter_file, maybe=None, nested={"x": None, "y": 1}, items=[None, 1])
    result = host.create(TOY_URN, props)
    assert _types(counter_file, "create") == {
        "counter_file": "str",
        "nested": {"y": "float"},
        "items": ["NoneType", "float"],
    }
    assert "maybe" not in result.outputs
    assert result.outputs["items"] == [None, 1.0]


def test_secrets_arrive_unwrapped(host: DynamicProviderHost, counter_file: str) -> None:
    props = _props(counter_file, credential=_secret(SECRET_VALUE), deep={"pw": _secret("x")})
    result = host.create(TOY_URN, props)
    assert _types(counter_file, "create")["credential"] == "str"
    assert result.outputs["credential"] == SECRET_VALUE
    assert result.outputs["deep"] == {"pw": "x"}


def test_provider_exception_becomes_host_error(
    host: DynamicProviderHost, counter_file: str
) -> None:
    props = _props(counter_file, fail_in="create", fail_message="pachd said no")
    with pytest.raises(HostError) as caught:
        host.create(TOY_URN, props)
    assert caught.value.code is grpc.StatusCode.UNKNOWN
    assert caught.value.method == "Create"
    assert "RuntimeError: pachd said no" in caught.value.details
    assert "Traceback" in caught.value.details
    assert read_journal(counter_file)["counter"] == 0


def test_unknowns_reach_check_and_diff(host: DynamicProviderHost, counter_file: str) -> None:
    inputs, failures = host.check(TOY_URN, {}, _props(counter_file, value=unknown()))
    assert failures == []
    assert is_unknown(inputs["value"])
    assert _types(counter_file, "check")["value"] == "Unknown"

    olds = {**inputs, "value": 1.0}
    diff = host.diff(TOY_URN, "toy-x", olds, _props(counter_file, value=unknown()))
    assert diff.kind is DiffKind.SOME
    assert _types(counter_file, "diff")["value"] == "Unknown"


def test_unknowns_are_dropped_from_create(host: DynamicProviderHost, counter_file: str) -> None:
    # Create/Update deserialize without keep_unknowns and the host is never a dry run, so an
    # unknown input silently becomes a missing key (the engine never sends one outside preview).
    result = host.create(TOY_URN, _props(counter_file, value=unknown(), name="n"))
    assert "value" not in _types(counter_file, "create")
    assert "value" not in result.outputs


def test_host_ignores_preview_flag_on_create(host: DynamicProviderHost, counter_file: str) -> None:
    host.create(TOY_URN, _props(counter_file), preview=True)
    assert [call["op"] for call in read_journal(counter_file)["calls"]] == ["create"]


def test_stderr_is_captured_and_secrets_are_not_logged(
    host: DynamicProviderHost, counter_file: str
) -> None:
    host.create(TOY_URN, _props(counter_file, log="marker-42", token=_secret(SECRET_VALUE)))
    deadline = time.monotonic() + 2
    while "toy create: marker-42" not in host.stderr_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "toy create: marker-42" in host.stderr_text()
    assert SECRET_VALUE not in host.stderr_text()


def test_marshalling_helpers_match_the_wire() -> None:
    struct = marshal_properties(
        {"n": 1, "none": None, "u": unknown(), "s": _secret("v"), "l": [1, None]}
    )
    assert dict(struct.items())["u"] == UNKNOWN_SENTINEL
    back = unmarshal_properties(struct)
    assert back["n"] == 1.0
    assert "none" not in back
    assert back["s"] == "v"
    assert back["l"] == [1.0, None]
    assert is_unknown(back["u"])
    assert strip_secrets([_secret({"a": _secret(1)})]) == [{"a": 1}]
    assert urn("pulumi-python:dynamic:Resource", "r") == (
        "urn:pulumi:dev::pachyderm-okta::pulumi-python:dynamic:Resource::r"
    )
    assert serialize_provider(ToyProvider()) == serialize_provider(ToyProvider())


def test_unimportable_provider_module_fails(tmp_path: Path, counter_file: str) -> None:
    # Pickled by reference: from a cwd where `testkit` is not importable, loading fails.
    with DynamicProviderHost(cwd=tmp_path, env={"PYTHONPATH": ""}, timeout=10.0) as other:
        other.configure()
        with pytest.raises(HostError) as caught:
            other.check(TOY_URN, {}, _props(counter_file))
    assert "ModuleNotFoundError" in caught.value.details
    assert not other.running


def _failing_test_body(started: DynamicProviderHost) -> None:
    with started:
        assert started.running
        raise RuntimeError("test body failed")


def test_host_process_is_stopped_even_when_the_test_fails() -> None:
    started = DynamicProviderHost(cwd=ROOT, timeout=10.0)
    with pytest.raises(RuntimeError, match="test body failed"):
        _failing_test_body(started)
    assert not started.running
    started.stop()  # idempotent


def test_start_failure_raises_and_cleans_up(tmp_path: Path) -> None:
    shadow = tmp_path / "pulumi"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("import sys\nsys.stderr.write('shadowed')\nsys.exit(3)\n")
    broken = DynamicProviderHost(cwd=tmp_path, env={"PYTHONPATH": ""}, timeout=10.0)
    with pytest.raises(HostStartError, match="shadowed"):
        broken.start()
    assert not broken.running
    assert sys.executable == broken.python
