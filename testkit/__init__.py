"""Support code shared by ``tests/`` and ``bench/``: a fake pachd and an offline ``pulumi up``.

Nothing here is a test. Both the test suite and the benchmark import it; neither imports the
other:

* :mod:`testkit.fake_pachd` - a real gRPC server with pachd's auth, identity and license
  behaviour, counting every call it receives;
* :mod:`testkit.dynamic_host` - Pulumi's own Python dynamic-provider host
  (``python -m pulumi.dynamic``, from the ``pulumi`` pip package) as a subprocess, driven over
  gRPC the way the engine drives it during ``pulumi up``/``preview``/``refresh``/``destroy``;
* :mod:`testkit.mocks` and :mod:`testkit.runtime` - Pulumi's mocks, recording every
  registration, and the process hygiene they need;
* :mod:`testkit.offline_up` - the program under those mocks, its dynamic resources through the
  real host against pachd: ``pulumi up`` without the CLI;
* :mod:`testkit.stacks` - stack config as the engine hands it to the program;
* :mod:`testkit.call_counts` and :mod:`testkit.change_costs` - pachd calls per ``up`` phase
  (against the manual procedure) and per kind of change: the benchmark prints them, the tests
  assert them;
* :mod:`testkit.auth_props` - the props of every auth provider, for the direct and host tests;
* :mod:`testkit.standins` - stand-in ``pulumi``, ``curl`` and ``python3`` executables for
  ``make up`` and the README's commands;
* :mod:`testkit.dex_identity` - the pinned Dex fork's claim selection and pachd's principals:
  who a user is in pachd after an Okta sign-in;
* :mod:`testkit.tls` - a private CA and server certificates, made with the ``openssl`` command;
* :mod:`testkit.toy_provider` - a tiny importable provider that proves the host harness.
"""
