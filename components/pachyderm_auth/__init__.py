"""Pachyderm auth through pachd's API: the component, its dynamic resources and providers."""

from components.pachyderm_auth.component import OktaConnectorArgs, PachydermAuth, PachydermAuthArgs

__all__ = ["OktaConnectorArgs", "PachydermAuth", "PachydermAuthArgs"]
