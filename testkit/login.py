"""A person signing in: ``pachctl auth login --no-browser``, its URL followed by an HTTP client.

This is what a user does by hand: ``pachctl auth login`` asks pachd for a login URL
(``GetOIDCLogin``), prints it, and waits in ``Authenticate`` until pachd's OIDC callback has
completed (pachyderm ``src/server/auth/cmds/cmds.go``, ``LoginCmd``). Here a ``requests``
session plays the browser: it opens the URL (pachd's Dex at ``publicUrl/dex``, which sends it on
to Okta's sign-in), submits the sign-in form, and follows every redirect back through Dex to
pachd's callback at ``publicUrl/authorization-code/callback``. pachctl then stores the user's
token in its config file, and every later ``pachctl`` with that config acts as the user.

Each person has a pachctl config file of their own, so several people can be signed in at once.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from testkit.okta_standin import OktaUser
from testkit.real_pachd import PACHCTL, pachctl_environment, run_pachctl, write_pachctl_config

LOGIN_DEADLINE_SECONDS = 60.0
CALLBACK_PATH = "/authorization-code/callback"
HTTP_TIMEOUT_SECONDS = 30.0
_URL = re.compile(r"^https?://\S+$")
_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass(frozen=True)
class Browsed:
    """Where the browser ended: the last page's status, URL and text."""

    status: int
    url: str
    text: str

    @property
    def reached_pachd(self) -> bool:
        """Whether the browser ended at pachd's OIDC callback, which answered."""
        return self.status == 200 and urlsplit(self.url).path == CALLBACK_PATH


@dataclass(frozen=True)
class Login:
    """One ``pachctl auth login``: its exit code and output, and what the browser saw."""

    returncode: int
    stdout: str
    stderr: str
    browsed: Browsed


class Person:
    """Someone with a pachctl of their own (a config file) pointed at pachd."""

    def __init__(self, user: OktaUser, pachd_address: str, folder: Path) -> None:
        self.user = user
        self.pachd_address = pachd_address
        self.config = folder / f"pachctl-{user.login}.json"
        write_pachctl_config(self.config)

    def pachctl(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """``pachctl`` as this person (their config, so their token once logged in)."""
        return run_pachctl(self.config, self.pachd_address, *args, timeout=timeout)

    def login(self) -> Login:
        """``pachctl auth login --no-browser``, with the URL it prints signed in through."""
        with subprocess.Popen(
            [str(PACHCTL), "auth", "login", "--no-browser"],
            env=pachctl_environment(self.config, self.pachd_address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            stdout, stderr = process.stdout, process.stderr
            assert stdout is not None
            assert stderr is not None
            printed: list[str] = []
            url_printed = threading.Event()

            def read_stdout() -> None:
                for line in stdout:
                    printed.append(line)
                    if _URL.match(line.strip()):
                        url_printed.set()
                url_printed.set()

            reader = threading.Thread(target=read_stdout, daemon=True)
            reader.start()
            browsed = Browsed(0, "", "pachctl printed no login URL")
            if url_printed.wait(LOGIN_DEADLINE_SECONDS):
                urls = [line.strip() for line in printed if _URL.match(line.strip())]
                if urls:
                    browsed = self.sign_in(urls[0])
            if not browsed.reached_pachd:
                # The sign-in stopped short of pachd's callback: pachctl would wait until its
                # own deadline for a login that cannot complete.
                process.kill()
            try:
                process.wait(LOGIN_DEADLINE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(5)
            return Login(process.returncode, "".join(printed), stderr.read(), browsed)

    def sign_in(self, url: str) -> Browsed:
        """Open ``url`` in a fresh browser and sign in as this person wherever a form asks."""
        with requests.Session() as browser:
            page = browser.get(url, timeout=HTTP_TIMEOUT_SECONDS)
            form = _FORM_ACTION.search(page.text)
            if form is not None:
                action = requests.compat.urljoin(page.url, form.group(1))
                page = browser.post(
                    action,
                    data={"username": self.user.login, "password": self.user.password},
                    timeout=HTTP_TIMEOUT_SECONDS,
                )
            return Browsed(page.status_code, page.url, page.text)
