"""Benchmarks of pachyderm-okta: pachd RPCs per phase and per change, readiness, evaluation cost.

Run ``python -m bench`` (or ``make bench``) from the repository root. Everything runs offline:
the program under the recording mocks of ``testkit``, the dynamic resources through
Pulumi's real dynamic provider host, pachd played by ``testkit/fake_pachd.py``.

* :mod:`testkit.call_counts` - pachd RPCs of each ``pulumi up`` phase and of the manual
  procedure (also asserted by ``tests/test_pachd_calls_per_phase.py``, so the bench and the test
  count the same).
* :mod:`testkit.change_costs` - pachd calls of a second ``up`` per kind of change, against the
  allowed budget (also asserted by ``tests/test_pachd_call_budget.py``).
* :mod:`testkit.plugin_runs` - exec credential plugin runs of a first ``up`` through the
  port-forward (also asserted by ``tests/test_offline_up_port_forward.py``).
* :mod:`bench.readiness` - time from pachd becoming ready to the activation's Create returning.
* :mod:`bench.evaluate` - wall time and peak RSS of evaluating the program vs bare imports.
"""

REPRODUCE = "make bench   # or, in the venv, from the repository root: python -m bench"
