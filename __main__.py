"""pachyderm-okta: Pachyderm on Kubernetes with Okta single sign-on, in one `pulumi up`."""

import pulumi

from components.program import build
from components.settings import load_settings

for key, value in build(load_settings()).items():
    pulumi.export(key, value)
