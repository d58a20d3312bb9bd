"""Cost of evaluating the whole program under mocks vs only importing the packages it uses.

``python -m bench.evaluate program|bare|bare-deep`` is the child: ``bare`` imports pulumi,
pulumi_okta, pulumi_kubernetes, pulumi_random, pachyderm_sdk and pydantic and exits; ``program``
imports the same, then runs ``plan_program(dev_stack(...))`` (``__main__.py`` under the
recording mocks); ``bare-deep`` (informational) is ``bare`` plus the lazily loaded submodules the
program uses. It prints one JSON line with its in-process timings and peak RSS. The parent
(:func:`measure`) starts each child in a fresh interpreter and times it from spawn to exit; the
peak RSS is what the child read from ``/proc/self/status`` (``VmHWM``) just before exiting.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Not testkit.stacks.ROOT: the bare child must import nothing beyond the six packages and stdlib.
ROOT = Path(__file__).resolve().parent.parent

MODES = ("bare", "program", "bare-deep")
# Submodules of the six packages that stay lazy in `bare` but the program loads (for Namespace,
# Secret, helm Release, OAuth app, groups, users, BaseModel). `bare-deep` imports them too, to
# split the program/bare gap into "import cost of what the program uses" and "evaluation".
PROGRAM_SUBMODULES = (
    "pulumi_kubernetes.core.v1",
    "pulumi_kubernetes.helm.v3",
    "pulumi_okta.app",
    "pulumi_okta.group",
    "pulumi_okta.user",
    "pydantic.main",
)
TARGET_RATIO = 1.3
# Any address: evaluating the program never calls pachd.
PLACEHOLDER_PACHD = "grpc://127.0.0.1:30650"


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: ``VmHWM``, which starts afresh at exec.

    Not ``ru_maxrss``: Linux carries the forking parent's peak across exec into it, so every
    child of a large parent would report at least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def child(mode: str) -> dict[str, float | int | str]:
    """Run one evaluation in this process; return its in-process timings."""
    start = time.perf_counter()
    import pachyderm_sdk  # noqa: F401
    import pulumi  # noqa: F401
    import pulumi_kubernetes  # noqa: F401
    import pulumi_okta  # noqa: F401
    import pulumi_random  # noqa: F401
    import pydantic  # noqa: F401

    imported = time.perf_counter()
    registrations = 0
    if mode == "bare-deep":
        import importlib

        for name in PROGRAM_SUBMODULES:
            importlib.import_module(name)
    if mode == "program":
        from testkit.offline_up import dev_stack, plan_program

        registrations = len(plan_program(dev_stack(PLACEHOLDER_PACHD)).registrations)
    done = time.perf_counter()
    return {
        "mode": mode,
        "peak_rss_kib": peak_rss_kib(),
        "imports_s": imported - start,
        "rest_s": done - imported,
        "registrations": registrations,
        "modules": len(sys.modules),
    }


@dataclass(frozen=True)
class ChildRun:
    """One fresh-interpreter evaluation, seen from the parent and from inside."""

    mode: str
    wall: float
    maxrss_kib: int
    imports: float
    rest: float
    modules: int
    registrations: int


def run_child(mode: str) -> ChildRun:
    """Spawn ``python -m bench.evaluate mode`` and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.evaluate", mode],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        proc.wait()
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.evaluate {mode} exited {proc.returncode}:\n{stderr}")
    inner = json.loads(stdout.strip().splitlines()[-1])
    return ChildRun(
        mode=mode,
        wall=wall,
        maxrss_kib=int(inner["peak_rss_kib"]),
        imports=float(inner["imports_s"]),
        rest=float(inner["rest_s"]),
        modules=int(inner["modules"]),
        registrations=int(inner["registrations"]),
    )


@dataclass(frozen=True)
class ModeSummary:
    """Medians over the repetitions of one mode."""

    mode: str
    runs: tuple[ChildRun, ...]

    @property
    def wall(self) -> float:
        """Median wall time, spawn to exit."""
        return statistics.median(run.wall for run in self.runs)

    @property
    def maxrss_mib(self) -> float:
        """Median peak RSS in MiB."""
        return statistics.median(run.maxrss_kib for run in self.runs) / 1024

    @property
    def imports(self) -> float:
        """Median in-process time importing the six packages."""
        return statistics.median(run.imports for run in self.runs)

    @property
    def rest(self) -> float:
        """Median in-process time after those imports (the program's evaluation)."""
        return statistics.median(run.rest for run in self.runs)

    @property
    def modules(self) -> int:
        """Modules loaded at exit (last run)."""
        return self.runs[-1].modules


def measure(repetitions: int) -> dict[str, ModeSummary]:
    """Alternate the modes' children ``repetitions`` times each, after one unmeasured round."""
    for mode in MODES:  # warm the OS page cache and __pycache__ so no mode pays for it alone
        run_child(mode)
    runs: dict[str, list[ChildRun]] = {mode: [] for mode in MODES}
    for _ in range(repetitions):
        for mode in MODES:
            runs[mode].append(run_child(mode))
    return {mode: ModeSummary(mode, tuple(found)) for mode, found in runs.items()}


def main(argv: list[str]) -> int:
    """Entry point of the child process."""
    if len(argv) != 1 or argv[0] not in MODES:
        print(f"usage: python -m bench.evaluate {'|'.join(MODES)}", file=sys.stderr)
        return 2
    print(json.dumps(child(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
