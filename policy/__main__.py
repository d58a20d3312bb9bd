"""Entry point the Pulumi CLI runs for ``--policy-pack policy``: serves the pack over gRPC.

Kept thin on purpose: the policies live in ``policy/policies.py``, importable without starting
a server (``PolicyPack(...)`` listens and blocks forever).
"""

import sys
from pathlib import Path

# The CLI runs this pack with runpy.run_path(<pack dir>) (pulumi/policy/__main__.py), which puts
# only the pack directory on sys.path. The policies import `policy.policies` and reuse
# `components.urls` from the program, so the repository root must be importable too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.policies import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
