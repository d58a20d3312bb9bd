"""The chart values, exactly, and checked against the chart's own values files.

Guards three regressions: the chart taking auth or identity back (pachd then refuses the auth
provider's API writes), a credential left for the chart to randomise on each render (rotated root
or client secrets, an empty PFS after an upgrade), and a misspelt key path, which the chart's
type-only schema accepts and the templates silently ignore. The chart files under
tests/data/pachyderm-chart/ are unchanged copies (see its SOURCE.txt).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components import urls
from components.helm_owned_values import OWNED_HELM_VALUES, key_paths
from components.helm_values import (
    POSTGRES_PASSWORD_PLACEHOLDER,
    ChartSecretNames,
    deep_merge,
    pachyderm_values,
)
from components.settings import PachydermSettings

CHART_DATA = Path(__file__).resolve().parent / "data" / "pachyderm-chart"
DEPLOYMENT_ID = "0123456789abcdef0123456789abcdef"
SECRETS = ChartSecretNames(postgres="pg-creds", console_client="console-oauth")

# Keys the builder sets that the parent chart's values.yaml does not list, each with where the
# chart documents it.
DOCUMENTED_ELSEWHERE = {
    # charts/postgresql (Bitnami 10.8.0, vendored) values.yaml:
    # "@param global.postgresql.existingSecret Name of existing secret to use for PostgreSQL
    # passwords (overrides `existingSecret`)".
    "global.postgresql.existingSecret",
}
# Keys the builder sets that OWNED_HELM_VALUES does not yet refuse as user overrides.
# Each must move into OWNED_HELM_VALUES (a user value would otherwise fight the builder's); this
# set may only shrink.
NOT_YET_OWNED: set[str] = set()


def _settings(**fields: Any) -> PachydermSettings:
    return PachydermSettings.model_validate(fields)


def _values(settings: PachydermSettings, public_url: str) -> dict[str, Any]:
    return pachyderm_values(
        settings,
        public_url=urls.parse_public_url(public_url),
        secret_names=SECRETS,
        cluster_deployment_id=DEPLOYMENT_ID,
    )


def _chart_dir(settings: PachydermSettings) -> Path:
    return CHART_DATA / "v2.11.x" if settings.chart_minor < (2, 12) else CHART_DATA


@cache
def _load(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def _unknown_key_paths(values: Mapping[str, Any], chart: Mapping[str, Any]) -> list[str]:
    """Paths in ``values`` that the chart's values.yaml does not have.

    Below a key whose chart default is an empty map (annotations, labels, nodeSelector, ...) the
    chart documents a free-form map, so nothing there is checked.
    """
    unknown = []
    for key, value in values.items():
        if key not in chart:
            unknown.append(key)
            continue
        default = chart[key]
        if isinstance(value, Mapping) and isinstance(default, Mapping) and default:
            unknown.extend(f"{key}.{sub}" for sub in _unknown_key_paths(value, default))
    return unknown


MINIKUBE = "http://192.168.49.2:30080"

# The whole document for the dev stack shape: every owned key, exactly.
DEV_VALUES: dict[str, Any] = {
    "deployTarget": "LOCAL",
    "global": {
        "postgresql": {
            "postgresqlPassword": POSTGRES_PASSWORD_PLACEHOLDER,
            "postgresqlPostgresPassword": "",
            "postgresqlExistingSecretName": "pg-creds",
            "postgresqlExistingSecretKey": "postgresql-password",
            "existingSecret": "pg-creds",
        }
    },
    "pachd": {
        "activateAuth": False,
        "clusterDeploymentID": DEPLOYMENT_ID,
        "oauthRedirectURI": "http://192.168.49.2:30080/authorization-code/callback",
        "storage": {"local": {"hostPath": "/var/pachyderm/"}},
    },
    "oidc": {
        "mockIDP": False,
        "upstreamIDPs": [],
        "issuerURI": "http://192.168.49.2:30080/dex",
        "userAccessibleOauthIssuerHost": "http://192.168.49.2:30080",
    },
    "console": {
        "config": {
            "oauthClientID": "console",
            "oauthClientSecretSecretName": "console-oauth",
            "oauthRedirectURI": "http://192.168.49.2:30080/oauth/callback/?inline=true",
            "reactAppRuntimeIssuerURI": "http://192.168.49.2:30080",
        }
    },
    "proxy": {
        "enabled": True,
        "host": "192.168.49.2:30080",
        "service": {"type": "NodePort", "httpNodePort": 30080},
    },
}

PROXY_TLS = {"proxy": {"tls": {"enabled": True, "secretName": "pachyderm-tls"}}}

# (settings, publicUrl) -> the subtrees that vary with them. Absent top-level keys must be absent.
CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "nodeport-http-custom-port",
        {"serviceType": "NodePort"},
        "http://10.1.2.3:31080",
        {
            "proxy": {
                "enabled": True,
                "host": "10.1.2.3:31080",
                "service": {"type": "NodePort", "httpNodePort": 31080},
            },
            "ingress": None,
        },
    ),
    (
        "nodeport-https-tls-at-proxy",
        {"serviceType": "NodePort", "values": PROXY_TLS},
        "https://pachyderm.internal:30443",
        {
            "proxy": {
                "enabled": True,
                "host": "pachyderm.internal:30443",
                "service": {"type": "NodePort", "httpsNodePort": 30443},
                "tls": {"enabled": True, "secretName": "pachyderm-tls"},
            },
            "ingress": {"uriHttpsProtoOverride": True},
        },
    ),
    (
        "loadbalancer-https-tls-in-load-balancer",
        {"serviceType": "LoadBalancer", "deployTarget": "GOOGLE"},
        "https://pachyderm.example.com",
        {
            "deployTarget": "GOOGLE",
            "proxy": {
                "enabled": True,
                "host": "pachyderm.example.com",
                "service": {"type": "LoadBalancer", "httpPort": 443},
            },
            "ingress": {"uriHttpsProtoOverride": True},
            "pachd": {
                "activateAuth": False,
                "clusterDeploymentID": DEPLOYMENT_ID,
                "oauthRedirectURI": "https://pachyderm.example.com/authorization-code/callback",
            },
            "oidc": {
                "mockIDP": False,
                "upstreamIDPs": [],
                "issuerURI": "https://pachyderm.example.com/dex",
                "userAccessibleOauthIssuerHost": "https://pachyderm.example.com",
            },
        },
    ),
    (
        "loadbalancer-https-tls-at-proxy",
        {"serviceType": "LoadBalancer", "deployTarget": "AMAZON", "values": PROXY_TLS},
        "https://pachyderm.example.com:8443",
        {
            "proxy": {
                "enabled": True,
                "host": "pachyderm.example.com:8443",
                "service": {"type": "LoadBalancer", "httpsPort": 8443},
                "tls": {"enabled": True, "secretName": "pachyderm-tls"},
            },
        },
    ),
    (
        "loadbalancer-http-private",
        {"serviceType": "LoadBalancer", "deployTarget": "MICROSOFT"},
        "http://10.0.0.5:8080",
        {
            "proxy": {
                "enabled": True,
                "host": "10.0.0.5:8080",
                "service": {"type": "LoadBalancer", "httpPort": 8080},
            },
            "ingress": None,
            "console": {
                "config": {
                    "oauthClientID": "console",
                    "oauthClientSecretSecretName": "console-oauth",
                    "oauthRedirectURI": "http://10.0.0.5:8080/oauth/callback/?inline=true",
                    "reactAppRuntimeIssuerURI": "http://10.0.0.5:8080",
                }
            },
        },
    ),
    (
        "clusterip-https-behind-ingress",
        {"serviceType": "ClusterIP", "deployTarget": "AMAZON"},
        "https://pachyderm.example.com",
        {
            "proxy": {
                "enabled": True,
                "host": "pachyderm.example.com",
                "service": {"type": "ClusterIP"},
            },
            "ingress": {"uriHttpsProtoOverride": True},
        },
    ),
    (
        "clusterip-http-port-forward",
        {"serviceType": "ClusterIP"},
        "http://localhost:8080",
        {
            "proxy": {
                "enabled": True,
                "host": "localhost:8080",
                "service": {"type": "ClusterIP"},
            },
            "ingress": None,
            "oidc": {
                "mockIDP": False,
                "upstreamIDPs": [],
                "issuerURI": "http://localhost:8080/dex",
                "userAccessibleOauthIssuerHost": "http://localhost:8080",
            },
        },
    ),
]

ALL_DOCUMENTS = [
    pytest.param({}, MINIKUBE, id="dev"),
    pytest.param({"chartVersion": "2.11.6"}, MINIKUBE, id="dev-2.11"),
    *(pytest.param(fields, url, id=case) for case, fields, url, _ in CASES),
    *(
        pytest.param({**fields, "chartVersion": "2.11.6"}, url, id=f"{case}-2.11")
        for case, fields, url, _ in CASES
    ),
]


def test_dev_stack_values_are_exactly_the_owned_keys() -> None:
    assert _values(_settings(), MINIKUBE) == DEV_VALUES


def test_chart_2_11_gets_the_same_document() -> None:
    # Both lines have every key set here; with activateAuth false, 2.11 renders no license or
    # auth env either, so the provider activates the license and auth through the API.
    assert _values(_settings(chartVersion="2.11.6"), MINIKUBE) == DEV_VALUES


@pytest.mark.parametrize(
    ("fields", "public_url", "expected"),
    [pytest.param(fields, url, expected, id=case) for case, fields, url, expected in CASES],
)
def test_values_follow_service_type_and_scheme(
    fields: dict[str, Any], public_url: str, expected: dict[str, Any]
) -> None:
    values = _values(_settings(**fields), public_url)
    for key, subtree in expected.items():
        if subtree is None:
            assert key not in values
        else:
            assert values[key] == subtree


@pytest.mark.parametrize(
    ("fields", "public_url"),
    [
        ({"deployTarget": "GOOGLE", "serviceType": "ClusterIP"}, "https://pachyderm.example.com"),
        ({"deployTarget": "AMAZON", "serviceType": "LoadBalancer"}, "http://10.0.0.5"),
    ],
)
def test_local_host_path_only_for_local(fields: dict[str, Any], public_url: str) -> None:
    values = _values(_settings(**fields), public_url)
    assert "storage" not in values["pachd"]


@pytest.mark.parametrize(
    ("fields", "public_url", "message"),
    [
        pytest.param(
            {"serviceType": "NodePort"},
            "http://192.168.49.2",
            "has no port, but with serviceType NodePort its port is the proxy's node port, "
            "which must be between 30000 and 32767",
            id="nodeport-without-port",
        ),
        pytest.param(
            {"serviceType": "NodePort"},
            "http://192.168.49.2:8080",
            "has port 8080, but with serviceType NodePort",
            id="nodeport-port-below-range",
        ),
        pytest.param(
            {"serviceType": "NodePort", "values": PROXY_TLS},
            "https://pachyderm.internal:32768",
            "has port 32768, but with serviceType NodePort",
            id="nodeport-port-above-range",
        ),
        pytest.param(
            {"serviceType": "NodePort"},
            "https://pachyderm.internal:30443",
            "is https with serviceType NodePort, but nothing would terminate TLS",
            id="nodeport-https-without-proxy-tls",
        ),
        pytest.param(
            {"serviceType": "NodePort", "values": PROXY_TLS},
            "https://pachyderm.internal:30080",
            "uses port 30080, the chart's cleartext httpNodePort",
            id="nodeport-https-on-the-http-node-port",
        ),
        pytest.param(
            {"serviceType": "ClusterIP", "values": PROXY_TLS},
            "http://localhost:8080",
            "is http, but pachyderm.values sets proxy.tls.enabled",
            id="http-with-proxy-tls",
        ),
    ],
)
def test_unservable_public_url_is_refused(
    fields: dict[str, Any], public_url: str, message: str
) -> None:
    with pytest.raises(ValueError, match="publicUrl ") as error:
        _values(_settings(**fields), public_url)
    assert message in str(error.value)


def test_extra_values_are_deep_merged_last() -> None:
    extra = {
        "proxy": {"replicas": 2, "service": {"annotations": {"team": "ml"}}},
        "pachd": {"storage": {"local": {"requireRoot": False}}, "replicas": 2},
        "etcd": {"storageSize": "1Gi"},
        "console": {"enabled": True},
    }
    values = _values(_settings(values=extra), MINIKUBE)
    assert values["proxy"] == {
        "enabled": True,
        "host": "192.168.49.2:30080",
        "replicas": 2,
        "service": {"type": "NodePort", "httpNodePort": 30080, "annotations": {"team": "ml"}},
    }
    assert values["pachd"]["storage"] == {
        "local": {"hostPath": "/var/pachyderm/", "requireRoot": False}
    }
    assert values["pachd"]["replicas"] == 2
    assert values["pachd"]["activateAuth"] is False
    assert values["etcd"] == {"storageSize": "1Gi"}
    assert values["console"]["enabled"] is True
    assert values["console"]["config"] == DEV_VALUES["console"]["config"]


def test_deep_merge_replaces_non_mappings_and_copies() -> None:
    base: dict[str, Any] = {"a": {"b": 1, "c": [1]}, "d": {"e": 1}}
    override: dict[str, Any] = {"a": {"c": [2], "f": {"g": 1}}, "d": 5}
    merged = deep_merge(base, override)
    assert merged == {"a": {"b": 1, "c": [2], "f": {"g": 1}}, "d": 5}
    assert base == {"a": {"b": 1, "c": [1]}, "d": {"e": 1}}
    override["a"]["f"]["g"] = 2
    assert merged["a"]["f"] == {"g": 1}


@pytest.mark.parametrize(("fields", "public_url"), ALL_DOCUMENTS)
def test_every_document_validates_against_the_chart_schema(
    fields: dict[str, Any], public_url: str
) -> None:
    settings = _settings(**fields)
    schema = _load(_chart_dir(settings) / "values.schema.json")
    # The file's "$schema" is the draft-less "http://json-schema.org/schema#"; Helm validates
    # with gojsonschema (draft 7 at most), so name the draft instead of letting jsonschema guess.
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_values(settings, public_url))


@pytest.mark.parametrize(("fields", "public_url"), ALL_DOCUMENTS)
def test_every_key_path_exists_in_the_chart_values(fields: dict[str, Any], public_url: str) -> None:
    settings = _settings(**fields)
    chart = _load(_chart_dir(settings) / "values.yaml")
    unknown = _unknown_key_paths(_values(settings, public_url), chart)
    assert sorted(set(unknown) - DOCUMENTED_ELSEWHERE) == []


def test_the_key_path_check_catches_a_typo() -> None:
    chart = _load(CHART_DATA / "values.yaml")
    values = deep_merge(DEV_VALUES, {"proxy": {"serivce": {"type": "NodePort"}}})
    assert _unknown_key_paths(values, chart) == [
        "global.postgresql.existingSecret",
        "proxy.serivce",
    ]


@pytest.mark.parametrize(("fields", "public_url"), ALL_DOCUMENTS)
def test_every_key_the_builder_sets_is_refused_as_a_user_override(
    fields: dict[str, Any], public_url: str
) -> None:
    values = _values(_settings(**fields), public_url)
    user_paths = set(key_paths(fields.get("values", {})))
    leaves = {
        path
        for path in key_paths(values)
        if path not in user_paths and not isinstance(_at(values, path), Mapping)
    }
    uncovered = {
        path
        for path in leaves
        if not any(path == owned or path.startswith(owned + ".") for owned in OWNED_HELM_VALUES)
    }
    assert uncovered <= NOT_YET_OWNED


def _at(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for key in path.split("."):
        node = node[key]
    return node
