"""Explicit Okta and Kubernetes providers, built from validated settings.

Why explicit: docs/decisions.md, decision 6.

``Pulumi.yaml`` disables the default providers, so these are the only way the program reaches an
Okta org or a cluster: ambient ``OKTA_*`` variables or the current kube-context are never used.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_okta as okta

from components.settings import KubernetesConfig, OktaOrgConfig


def okta_provider(name: str, org: OktaOrgConfig) -> okta.Provider:
    """The Okta provider for the configured org, authenticated exactly one way.

    The tuning keys the stack leaves unset stay unset, so the provider's own defaults apply.
    """
    return okta.Provider(
        name,
        org_name=org.org_name,
        base_url=org.base_url,
        api_token=org.api_token,
        access_token=org.access_token,
        client_id=org.client_id,
        private_key=org.private_key,
        private_key_id=org.private_key_id,
        scopes=list(org.scopes) or None,
        # Okta rate-limits bursts of assignment calls (okta/terraform-provider-okta#2166).
        backoff=org.backoff,
        max_retries=org.max_retries,
        min_wait_seconds=org.min_wait_seconds,
        max_wait_seconds=org.max_wait_seconds,
        max_api_capacity=org.max_api_capacity,
        request_timeout=org.request_timeout,
        parallelism=org.parallelism,
        http_proxy=org.http_proxy,
        log_level=org.log_level,
    )


def kubernetes_provider(name: str, cluster: KubernetesConfig) -> kubernetes.Provider:
    """The Kubernetes provider for the configured context or kubeconfig, with its tuning."""
    client = cluster.kube_client_settings
    return kubernetes.Provider(
        name,
        context=cluster.context,
        # The contents may hold a token or a client key, and pulumi-kubernetes' SDK registers the
        # value as given (decision 6); a path loses nothing by being a secret too.
        kubeconfig=pulumi.Output.secret(cluster.kubeconfig) if cluster.kubeconfig else None,
        kube_client_settings=(
            kubernetes.KubeClientSettingsArgs(
                burst=client.burst, qps=client.qps, timeout=client.timeout
            )
            if client is not None
            else None
        ),
        delete_unreachable=cluster.delete_unreachable,
        skip_update_unreachable=cluster.skip_update_unreachable,
        # Pulumi still sees a missing cluster as an error instead of silently skipping resources.
        suppress_deprecation_warnings=True,
        opts=pulumi.ResourceOptions(),
    )
