"""Pachyderm auth through pachd's API: the component, its dynamic resources and providers."""

from components.pachyderm_auth.component import OktaClient, PachydermAuth, PachydermAuthArgs

__all__ = ["OktaClient", "PachydermAuth", "PachydermAuthArgs"]
