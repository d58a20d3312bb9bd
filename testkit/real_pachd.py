"""The real pachd 2.12 on loopback: PostgreSQL and etcd from Debian, the chart's environment.

:class:`RealPachd` runs the pachd that ``make test`` built from its Go module
(``scripts/build_pachd.py`` into :data:`BUILD_DIR`) the way the chart runs it, with only what a
cluster would add pointed at loopback:

- **PostgreSQL** (Debian's ``postgresql``): a throw-away cluster on a free port, with the
  ``pachyderm`` and ``dex`` databases pachd opens. PostgreSQL refuses to run as root, so as root
  its programs run as the ``postgres`` user (``runuser``), in a folder that user owns.
- **etcd** (Debian's ``etcd-server``) on free loopback ports.
- **The Kubernetes API**: the stand-in of ``testkit/kube_api.py`` over HTTPS. pachd falls back
  from in-cluster config to ``https://$KUBERNETES_PORT_443_TCP_ADDR:$KUBERNETES_PORT`` without
  verifying the certificate (pachyderm ``src/internal/serviceenv/service_env.go``,
  ``initKubeClient``), and at start-up reads, or creates, the Secret
  ``pachyderm-pjs-worker-authentication`` and exits when it cannot (``src/internal/pachd/
  builder.go``, ``ensurePJSWorkerSecret``).
- **pachd's environment** is the pachd container's ``env`` from the chart rendered with the
  program's own Release values (:func:`chart_environment`): ``secretKeyRef`` values come from the
  Secrets the program registers, ``fieldRef`` from the pod, and Kubernetes' service-link
  variables (``ETCD_SERVICE_HOST``, ``PG_BOUNCER_HOST``, ...) point at the loopback servers.
  ``METRICS=false``: pachd reports usage to an outside service by default, and no test may send
  traffic off this machine. Storage is LOCAL in a temporary folder; every pachd port is a free
  one, except Dex's web server, which pachd binds at ``:1658`` whatever its config
  (``src/server/identity/server/api_server.go``): one real pachd per machine at a time, taken in
  turns through a lock file (:data:`TURN_LOCK`).

Every wait has a deadline, every process is stopped (also when start-up fails), and the logs are
kept: :meth:`RealPachd.logs` is what a failing test prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.helm import chart_for, checked_helm, containers, pod_specs, render
from testkit.kube_api import TOKEN, KubeApiStandIn
from testkit.mocks import Registration
from testkit.serving import Serving
from testkit.stacks import ROOT
from testkit.tls import TestCa

PACHYDERM_VERSION = "2.12.2"
BUILD_DIR = ROOT / ".cache" / f"pachd-v{PACHYDERM_VERSION}"
PACHD = BUILD_DIR / "pachd"
PACHCTL = BUILD_DIR / "pachctl"
# Opting out is explicit: without this variable a missing build fails the tier (CI must not pass
# by skipping it), as for the Helm tier.
SKIP_VARIABLE = "PACHYDERM_OKTA_SKIP_REAL_PACHD"
DEX_PORT = 1658
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
SECRET_TYPE = "kubernetes:core/v1:Secret"
POD_NAME = "pachd-0"
START_DEADLINE_SECONDS = 120.0
# Another test run's pachd holds Dex's port until it stops: wait that long for the machine's turn.
TURN_DEADLINE_SECONDS = 600.0
TURN_LOCK = Path(tempfile.gettempdir()) / "pachyderm-okta-real-pachd.lock"
STOP_DEADLINE_SECONDS = 15.0
# Debian's PostgreSQL 15 programs (postgresql-15); initdb and pg_ctl are not on PATH there.
POSTGRES_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))


class RealPachdMissingError(RuntimeError):
    """The build, or a program the tier runs, is not there."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(what: str, ready: Any, deadline_seconds: float, logs: Any = lambda: "") -> None:
    """Poll ``ready()`` until it is true; fail naming ``what`` (with logs) at the deadline."""
    deadline = time.monotonic() + deadline_seconds
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready within {deadline_seconds:g} s\n{logs()}")
        time.sleep(0.1)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def write_pachctl_config(path: Path) -> None:
    """A fresh pachctl config that reports nothing off the machine.

    pachctl sends usage events to an outside analytics service while its config says
    ``metrics: true``, the default of a config it creates, and waits up to 5 s for each
    (pachyderm ``src/internal/metrics/metrics.go``, ``reportAndFlushUserAction``).
    """
    config = {"v2": {"active_context": "default", "contexts": {"default": {}}, "metrics": False}}
    path.write_text(json.dumps(config))


def pachctl_environment(config: Path, pachd_address: str) -> dict[str, str]:
    """The environment of a ``pachctl`` with its own config file, pointed at ``pachd_address``.

    ``PACHD_ADDRESS`` wins over the config's context, so a config made for a cluster (a robot's
    Secret) reaches the pachd on loopback.
    """
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(config.parent),
        "PACH_CONFIG": str(config),
        "PACHD_ADDRESS": pachd_address,
    }


def run_pachctl(
    config: Path,
    pachd_address: str,
    *args: str,
    stdin: str | None = None,
    timeout: float = 30.0,
) -> subprocess.CompletedProcess[str]:
    """The real ``pachctl`` with the config file ``config``; its exit code and output."""
    return subprocess.run(
        [str(PACHCTL), *args],
        env=pachctl_environment(config, pachd_address),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def missing_programs() -> list[str]:
    """What the tier needs and this machine lacks, each saying how to get it."""
    missing = []
    if not PACHD.is_file() or not PACHCTL.is_file():
        missing.append(f"no pachd/pachctl build in {BUILD_DIR}: `make test` builds it")
    if _postgres_bin() is None:
        missing.append("no PostgreSQL server: apt-get install postgresql")
    if shutil.which("etcd") is None:
        missing.append("no etcd: apt-get install etcd-server")
    return missing


def _postgres_bin() -> Path | None:
    for directory in POSTGRES_BIN_DIRS:
        if (directory / "initdb").is_file():
            return directory
    return None


# --- the chart's environment -----------------------------------------------------------------


@dataclass(frozen=True)
class Loopback:
    """Where the servers a cluster would provide answer on this machine."""

    postgres_port: int
    etcd_port: int
    kube_api_port: int
    kube_token_file: Path
    storage: Path
    unused_port: int
    """A loopback port nothing listens on (for the Services not run here)."""


def chart_environment(registrations: list[Registration], loopback: Loopback) -> dict[str, str]:
    """The pachd container's environment, from the chart rendered with the program's values.

    ``registrations`` is one run of the program (``Plan.registrations``): its Helm Release is
    rendered with real Helm, and its Kubernetes Secrets answer the ``secretKeyRef`` variables.
    """
    (release,) = [r.plain_inputs for r in registrations if r.type == RELEASE_TYPE]
    rendered = render(
        checked_helm(),
        chart_for(release["version"]),
        name=release["name"],
        namespace=release["namespace"],
        values=release["values"],
        upgrade=False,
    )
    if rendered.returncode != 0:
        raise RuntimeError(f"helm template failed:\n{rendered.stderr}")
    (pod_spec,) = [
        spec for name, spec in pod_specs(rendered.documents) if name == "Deployment/pachd"
    ]
    (pachd,) = [c for c in containers(pod_spec) if c["name"] == "pachd"]
    secrets = _secret_data(registrations)
    pod = {"metadata.namespace": release["namespace"], "metadata.name": POD_NAME}
    # The kubelet puts the service-link variables first and expands $(NAME) in each value from
    # those and the entries before it; a name it does not know stays as written.
    service_links = _service_links(loopback)
    environment: dict[str, str] = {}
    for variable in pachd.get("env") or []:
        value = _resolve(variable, secrets, pod)
        if value is not None:
            environment[variable["name"]] = _expand(value, service_links | environment)
    return service_links | environment | _loopback_environment(loopback)


# A reference to another variable in an env value (Kubernetes' "dependent environment variables").
_DEPENDENT_VARIABLE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _expand(value: str, known: Mapping[str, str]) -> str:
    return _DEPENDENT_VARIABLE.sub(lambda match: known.get(match.group(1), match.group(0)), value)


def _service_links(loopback: Loopback) -> dict[str, str]:
    """What Kubernetes injects for the release's Services that pachd's env refers to.

    The chart's Loki is not run here: its address is a loopback port nothing listens on, so a log
    query fails at once on this machine instead of looking up a name.
    """
    return {
        "PACHYDERM_LOKI_SERVICE_HOST": "127.0.0.1",
        "PACHYDERM_LOKI_SERVICE_PORT": str(loopback.unused_port),
    }


def _secret_data(registrations: list[Registration]) -> dict[tuple[str, str], str]:
    """``(secret name, key)`` to value, for every Secret the program registers."""
    data = {}
    for secret in (r.plain_inputs for r in registrations if r.type == SECRET_TYPE):
        name = secret["metadata"]["name"]
        for key, value in (secret.get("stringData") or {}).items():
            data[(name, key)] = str(value)
    return data


def _resolve(
    variable: Mapping[str, Any], secrets: Mapping[tuple[str, str], str], pod: Mapping[str, str]
) -> str | None:
    """One env entry's value as the kubelet gives it; ``None`` when the kubelet would set none."""
    source = variable.get("valueFrom")
    if source is None:
        return str(variable.get("value", ""))
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        found = secrets.get((ref["name"], ref["key"]))
        if found is None and not ref.get("optional"):
            raise KeyError(f"the program registers no Secret {ref['name']} with key {ref['key']}")
        return found
    if "fieldRef" in source:
        return pod[source["fieldRef"]["fieldPath"]]
    # resourceFieldRef (memory request and limit): the chart sets none, so pachd reads 0.
    return None


def _loopback_environment(loopback: Loopback) -> dict[str, str]:
    return {
        # Service-link variables and DNS names the cluster would provide (src/internal/pachconfig).
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(loopback.postgres_port),
        "PG_BOUNCER_HOST": "127.0.0.1",
        "PG_BOUNCER_PORT": str(loopback.postgres_port),
        "ETCD_SERVICE_HOST": "127.0.0.1",
        "ETCD_SERVICE_PORT": str(loopback.etcd_port),
        "KUBERNETES_PORT_443_TCP_ADDR": "127.0.0.1",
        "KUBERNETES_PORT": str(loopback.kube_api_port),
        "KUBERNETES_BEARER_TOKEN_FILE": str(loopback.kube_token_file),
        # The pod's volumes: LOCAL storage's hostPath and the pachd root.
        "STORAGE_HOST_PATH": str(loopback.storage / "hostpath"),
        "PACH_ROOT": str(loopback.storage / "pach"),
        "METRICS": "false",
        # Every listener on a free port (the chart's pod uses the defaults in its own network).
        "PORT": str(_free_port()),
        "PEER_PORT": str(_free_port()),
        "PROMETHEUS_PORT": str(_free_port()),
        "OIDC_PORT": str(_free_port()),
        "S3GATEWAY_PORT": str(_free_port()),
        "DOWNLOAD_PORT": str(_free_port()),
    }


# --- the servers -------------------------------------------------------------------------------


class _Postgres:
    """A throw-away PostgreSQL cluster on loopback, trusting local connections."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self._bin = _postgres_bin()

    def _as_owner(self, *command: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return list(command)

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            self._as_owner(*command), capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        assert self._bin is not None, "no PostgreSQL server (apt-get install postgresql)"
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        self._run(
            str(self._bin / "initdb"), "-D", str(data), "-U", "pachyderm", "--auth=trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        for database in ("pachyderm", "dex"):
            self._run(
                "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "pachyderm", "-d",
                "postgres", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {database}",
            )  # fmt: skip

    def stop(self) -> None:
        assert self._bin is not None
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                      "immediate", "-w", "-t", "30", "stop")  # fmt: skip

    def logs(self) -> str:
        log = self.folder / "postgres.log"
        return log.read_text(errors="replace") if log.exists() else ""


class _Process:
    """A child process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent
            )

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_DEADLINE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_DEADLINE_SECONDS)

    def logs(self, tail: int = 60) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- {self.name} ({self.log}), last {tail} lines:\n" + "\n".join(lines[-tail:])


class RealPachd(Serving):
    """``with RealPachd(plan.registrations) as pachd:`` - pachd 2.12 serving on loopback.

    ``registrations`` is a run of the program (its Helm Release and Secrets give pachd's
    environment, :func:`chart_environment`). ``address`` is what a stack's ``pachdAddress`` takes.
    """

    def __init__(self, registrations: list[Registration]) -> None:
        missing = missing_programs()
        if missing:
            raise RealPachdMissingError("; ".join(missing))
        self.registrations = registrations
        self.folder = Path(tempfile.mkdtemp(prefix="real-pachd-"))
        # PostgreSQL's user must reach its folder: not under pytest's private tmp_path.
        self.folder.chmod(0o755)
        self.kube_api = KubeApiStandIn(certificate=TestCa(self.folder / "ca").server())
        self._postgres = _Postgres(self.folder / "postgres")
        self._processes: list[_Process] = []
        self._turn: Any = None
        self.environment: dict[str, str] = {}
        self.port = 0

    @property
    def address(self) -> str:
        """pachd's gRPC address, as a stack's ``pachdAddress``."""
        return f"grpc://127.0.0.1:{self.port}"

    @property
    def namespace(self) -> str:
        """The namespace the chart's pod runs in."""
        return self.environment["PACH_NAMESPACE"]

    def start(self) -> RealPachd:
        """Start PostgreSQL, etcd, the stand-in API server and pachd; wait until pachd answers."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _take_turn(self) -> None:
        """Hold the machine's one real-pachd turn (Dex's fixed port), waiting for it if need be."""
        self._turn = TURN_LOCK.open("a")
        deadline = time.monotonic() + TURN_DEADLINE_SECONDS
        while True:
            try:
                fcntl.flock(self._turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another real pachd held {TURN_LOCK} for {TURN_DEADLINE_SECONDS:g} s"
                    ) from None
                time.sleep(0.5)

    def _start(self) -> None:
        self._take_turn()
        if _listening(DEX_PORT):
            raise RuntimeError(
                f"port {DEX_PORT} is taken: pachd's Dex always binds it, so only one real pachd "
                "runs on a machine at a time (is another test run's pachd still up?)"
            )
        (self.folder / "postgres").mkdir()
        self._postgres.start()
        etcd_port, etcd_peer_port = _free_port(), _free_port()
        etcd = _Process(
            "etcd",
            [
                "etcd", "--data-dir", str(self.folder / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer_port}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer_port}",
                "--initial-cluster", f"default=http://127.0.0.1:{etcd_peer_port}",
                "--unsafe-no-fsync",
            ],
            {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            self.folder / "etcd.log",
        )  # fmt: skip
        self._processes.append(etcd)
        self.kube_api.start()
        token_file = self.folder / "kube-token"
        token_file.write_text(TOKEN)
        loopback = Loopback(
            self._postgres.port,
            etcd_port,
            self.kube_api.port,
            token_file,
            self.folder / "storage",
            _free_port(),
        )
        _wait("etcd", lambda: _listening(etcd_port), 30, etcd.logs)
        self.environment = chart_environment(self.registrations, loopback)
        self.port = int(self.environment["PORT"])
        pachd = _Process(
            "pachd",
            [str(PACHD)],
            {**self.environment, "PATH": "/usr/bin:/bin", "HOME": str(self.folder)},
            self.folder / "pachd.log",
        )
        self._processes.append(pachd)

        def answers() -> bool:
            if not pachd.running():
                raise RuntimeError(f"pachd exited with {pachd.process.returncode}\n{self.logs()}")
            return self.pachctl("version", check=False).returncode == 0

        _wait("pachd", answers, START_DEADLINE_SECONDS, self.logs)

    def stop(self) -> None:
        """Stop pachd, etcd, the API server and PostgreSQL, and remove their files."""
        for process in reversed(self._processes):
            process.stop()
        self.kube_api.stop()
        self._postgres.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._turn is not None:
            self._turn.close()  # releases the lock
            self._turn = None

    def log_text(self) -> str:
        """Everything pachd has logged so far."""
        log = self.folder / "pachd.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def logs(self) -> str:
        """The tail of every process's log, for a failing test's report."""
        parts = [process.logs() for process in self._processes]
        parts.append(f"--- postgres:\n{self._postgres.logs()[-4000:]}")
        return "\n".join(parts)

    # --- clients ---------------------------------------------------------------------------------

    def client(self, auth_token: str | None = None) -> Any:
        """A real ``pachyderm_sdk.Client`` for pachd (with ``auth_token``, or none at all)."""
        from pachyderm_sdk import Client

        client = Client(host="127.0.0.1", port=self.port, auth_token=auth_token)
        if auth_token is None:
            # The SDK would otherwise read PACH_PYTHON_AUTH_TOKEN or a pachctl config.
            client.auth_token = None
        return client

    def pachctl(
        self, *args: str, token: str | None = None, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``pachctl`` against this pachd, as ``token``'s holder (or as nobody).

        pachctl reads its token from the config file ``PACH_CONFIG`` names, never from the
        environment, so the token is stored there first with ``pachctl auth use-auth-token``.
        """
        config = self.folder / "pachctl-config.json"
        write_pachctl_config(config)
        if token is not None:
            stored = run_pachctl(config, self.address, "auth", "use-auth-token", stdin=f"{token}\n")
            if stored.returncode != 0:
                raise RuntimeError(f"pachctl auth use-auth-token failed:\n{stored.stderr}")
        result = run_pachctl(config, self.address, *args, stdin=stdin)
        if check and result.returncode != 0:
            raise RuntimeError(f"pachctl {' '.join(args)} failed:\n{result.stderr}")
        return result
