"""The ``okta:*`` and ``kubernetes:*`` keys: what the program builds its explicit providers from.

Each model declares the provider keys the program reads and forwards: which org or cluster, how
the provider authenticates, and an allowlist of tuning keys checked against the pinned SDKs'
``ProviderArgs``. Unset tuning keys stay unset, so the provider's own default applies (ranges
from okta/terraform-provider-okta's provider schema and pulumi-kubernetes' provider docs).
"""

from __future__ import annotations

from pydantic import Field

from components.settings.fields import NonBlank, OktaDomain, OktaOrgName, Secret
from components.settings.frozen import Frozen


class OktaOrgConfig(Frozen):
    """The ``okta:*`` keys: which org, how the Okta provider authenticates, and its tuning."""

    org_name: OktaOrgName = Field(description="Okta org subdomain (`dev-123456`).")
    base_url: OktaDomain = Field(
        description="Okta domain (`okta.com`, `oktapreview.com`, `okta-emea.com`)."
    )
    api_token: Secret | None = Field(
        default=None,
        description="SSWS API token of an admin with application and group admin rights. "
        "Exactly one auth method: this, `okta:accessToken`, or the private-key keys.",
    )
    access_token: Secret | None = Field(default=None, description="OAuth 2.0 bearer token.")
    client_id: str | None = Field(
        default=None, description="Client id of the OAuth 2.0 service app (private-key auth)."
    )
    private_key: Secret | None = Field(
        default=None, description="Private key of the service app (private-key auth)."
    )
    private_key_id: str | None = Field(
        default=None, description="Key id of `okta:privateKey` (private-key auth)."
    )
    scopes: tuple[NonBlank, ...] = Field(
        default=(), description="Scopes granted to the service app (private-key auth)."
    )
    backoff: bool = Field(
        default=True,
        description="Back off exponentially when Okta rate-limits a call.",
    )
    min_wait_seconds: int | None = Field(
        default=None, ge=0, description="Shortest wait after a rate-limited call (provider: 30)."
    )
    max_wait_seconds: int | None = Field(
        default=None, ge=0, description="Longest wait after a rate-limited call (provider: 300)."
    )
    max_retries: int = Field(
        default=5, ge=0, le=100, description="Retries of a rate-limited Okta API call."
    )
    max_api_capacity: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Percentage of the org's rate limit the provider may use (provider: 100); "
        "lower it when other tools share the org's limit.",
    )
    request_timeout: int | None = Field(
        default=None,
        ge=0,
        le=300,
        description="Timeout of one Okta API request, in seconds (provider: 0, no limit).",
    )
    parallelism: int | None = Field(
        default=None,
        ge=1,
        description="Concurrent requests within one resource (provider: 1).",
    )
    http_proxy: str | None = Field(
        default=None,
        description="HTTP proxy for the Okta API, `scheme://host[:port]` (the machine running "
        "`pulumi up`, not the pachd pods).",
    )
    log_level: int | None = Field(
        default=None, ge=1, le=5, description="Provider log level, 1 (TRACE) to 5 (ERROR)."
    )


class KubeClientSettings(Frozen):
    """``kubernetes:kubeClientSettings``: the Kubernetes provider's API client."""

    burst: int | None = Field(default=None, ge=1, description="Burst of API calls (provider: 120).")
    qps: float | None = Field(
        default=None, gt=0, description="API calls per second (provider: 50)."
    )
    timeout: int | None = Field(
        default=None, ge=1, description="Timeout of one API request, in seconds (provider: 32)."
    )


class KubernetesConfig(Frozen):
    """The ``kubernetes:*`` keys: which cluster (default providers are disabled), and tuning."""

    context: str | None = Field(
        default=None, description="kubeconfig context of the target cluster (unset: current)."
    )
    kubeconfig: str | None = Field(
        default=None, description="kubeconfig path or contents (unset: `~/.kube/config`)."
    )
    kube_client_settings: KubeClientSettings | None = Field(
        default=None, description="Tuning of the provider's API client."
    )
    delete_unreachable: bool | None = Field(
        default=None,
        description="Drop resources of an unreachable cluster from the state (e.g. a deleted "
        "cluster) instead of failing.",
    )
    skip_update_unreachable: bool | None = Field(
        default=None,
        description="Skip updates of resources of an unreachable cluster instead of failing.",
    )
