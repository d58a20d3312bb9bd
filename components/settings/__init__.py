"""The stack contract: every config key, validated once, before any resource is registered.

``load_settings()`` returns a :class:`StackSettings` or raises one :class:`StackConfigError` (a
``pulumi.RunError``) that lists every problem by its full config key
(``pachyderm-okta:okta.groups[1]: ...``). The modules, each importable on its own:

- :mod:`.problems` - :class:`ConfigProblem` and :class:`StackConfigError`;
- :mod:`.fields` - closed sets, checked strings, secrets and chart versions;
- :mod:`.roles` - Pachyderm's role names per minor version;
- :mod:`.frozen` - the model config every settings model shares;
- :mod:`.schema` - the frozen ``extra="forbid"`` models, one per config object;
- :mod:`.provider_config` - the ``okta:*`` and ``kubernetes:*`` models (providers' keys);
- :mod:`.namespaces` - which config namespaces are read, and what any other one is told;
- :mod:`.messages` - pydantic's errors in the words of a YAML stack file;
- :mod:`.rules` - problems that involve more than one setting;
- :mod:`.loader` - reading the engine's config map and putting it all together.
"""

from components.settings.fields import (
    DEFAULT_CHART_VERSION,
    FIRST_LICENSE_FREE_VERSION,
    MINIMUM_CHART_VERSION,
    ChartVersion,
    DeployTarget,
    GoDuration,
    NonBlank,
    Principal,
    PublicUrlText,
    RefreshTokenRotation,
    Role,
    Secret,
    ServiceType,
    UniqueNames,
    chart_version_tuple,
)
from components.settings.loader import (
    SECRET_KEYS,
    STRUCTURED_KEYS,
    ConfigSource,
    load_settings,
    runtime_config_source,
)
from components.settings.messages import problems_from
from components.settings.namespaces import KUBERNETES, NAMESPACES, OKTA, PROJECT, PULUMI
from components.settings.problems import ConfigProblem, StackConfigError
from components.settings.rules import cross_setting_problems
from components.settings.schema import (
    AuthSettings,
    KubernetesConfig,
    OktaAppSettings,
    OktaOrgConfig,
    PachydermSettings,
    ProjectConfig,
    StackSettings,
)

__all__ = [
    "DEFAULT_CHART_VERSION",
    "FIRST_LICENSE_FREE_VERSION",
    "KUBERNETES",
    "MINIMUM_CHART_VERSION",
    "NAMESPACES",
    "OKTA",
    "PROJECT",
    "PULUMI",
    "SECRET_KEYS",
    "STRUCTURED_KEYS",
    "AuthSettings",
    "ChartVersion",
    "ConfigProblem",
    "ConfigSource",
    "DeployTarget",
    "GoDuration",
    "KubernetesConfig",
    "NonBlank",
    "OktaAppSettings",
    "OktaOrgConfig",
    "PachydermSettings",
    "Principal",
    "ProjectConfig",
    "PublicUrlText",
    "RefreshTokenRotation",
    "Role",
    "Secret",
    "ServiceType",
    "StackConfigError",
    "StackSettings",
    "UniqueNames",
    "chart_version_tuple",
    "cross_setting_problems",
    "load_settings",
    "problems_from",
    "runtime_config_source",
]
