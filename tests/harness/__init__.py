"""Test harnesses that run real Pulumi machinery without the Pulumi CLI.

``tests.harness.dynamic_host`` starts Pulumi's own Python dynamic-provider host
(``python -m pulumi.dynamic``, shipped in the ``pulumi`` pip package) as a subprocess and drives
it over gRPC the way the engine does during ``pulumi up``/``preview``/``refresh``/``destroy``.
``tests.harness.toy_provider`` is a tiny importable provider used to prove that harness.
"""
