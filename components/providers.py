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
    """The Okta provider for the configured org, authenticated exactly one way."""
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
        backoff=True,
        max_retries=org.max_retries if org.max_retries is not None else 5,
    )


def kubernetes_provider(name: str, cluster: KubernetesConfig) -> kubernetes.Provider:
    """The Kubernetes provider for the configured context or kubeconfig."""
    return kubernetes.Provider(
        name,
        context=cluster.context,
        kubeconfig=cluster.kubeconfig,
        # Pulumi still sees a missing cluster as an error instead of silently skipping resources.
        suppress_deprecation_warnings=True,
        opts=pulumi.ResourceOptions(),
    )
