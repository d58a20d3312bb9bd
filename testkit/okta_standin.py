"""A stand-in Okta org on loopback, configured from what the program registers in Okta.

``testkit/okta_standin/server.mjs`` serves Okta's OpenID Connect endpoints with panva's
oidc-provider (installed by ``make test`` from ``testkit/okta_standin/package-lock.json``); this
module starts it and hands it the org: the users and their groups (test data) and, read from a
run of the program (:class:`~testkit.offline_up.Plan`), the app - its client id and secret, redirect
URIs, grant types, token endpoint auth method and groups claim filter -, the groups and users
assigned to it, and for a custom authorization server its scopes and groups claim. So pachd's
Dex signs in against the app this program would have created, exactly as configured.

The issuer must exist before the program runs (the program reads it from Okta), so the server
listens first (:attr:`StandInOkta.url`) and is configured afterwards
(:meth:`StandInOkta.configure`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from testkit.mocks import OktaGroups
from testkit.offline_up import OKTA_APP, Plan
from testkit.serving import Serving
from testkit.stacks import ROOT

SERVER_DIR = ROOT / "testkit" / "okta_standin"
SERVER = SERVER_DIR / "server.mjs"
NODE_MODULES = SERVER_DIR / "node_modules"
START_DEADLINE_SECONDS = 30.0
GROUP_ASSIGNMENT = "okta:app/groupAssignment:GroupAssignment"
USER_ASSIGNMENT = "okta:app/user:User"
SERVER_SCOPE = "okta:auth/serverScope:ServerScope"
SERVER_CLAIM = "okta:auth/serverClaim:ServerClaim"
# Scopes every Okta authorization server has (Okta's OpenID Connect API reference, "Scopes").
OKTA_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access")
# The org server also serves `groups`, filtered by the app's groups claim.
ORG_SERVER_SCOPES = (*OKTA_SCOPES, "groups")


class OktaStandInMissingError(RuntimeError):
    """Node.js or the stand-in's packages are not installed."""


@dataclass(frozen=True)
class OktaUser:
    """A person in the org: sign-in name (also the email), password, groups."""

    login: str
    password: str = "correct horse battery staple"
    groups: tuple[str, ...] = ()
    email_verified: bool = True

    @property
    def id(self) -> str:
        """The user's Okta id (the ``sub`` of their tokens)."""
        return f"00u-{self.login}"

    def as_config(self) -> dict[str, Any]:
        """As ``server.mjs`` reads it."""
        return {
            "id": self.id,
            "login": self.login,
            "name": self.login.split("@", 1)[0].title(),
            "password": self.password,
            "groups": list(self.groups),
            "email_verified": self.email_verified,
        }


def _groups_claim(claim: Mapping[str, Any] | None) -> dict[str, str] | None:
    """An app's ``groupsClaim`` (filter type and value), or None when it has none."""
    if not claim:
        return None
    return {"filter_type": claim["filterType"], "value": claim["value"]}


@dataclass(frozen=True)
class OktaOrg:
    """The org as ``server.mjs`` serves it."""

    users: tuple[OktaUser, ...]
    client: dict[str, Any]
    servers: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan, client_secret: str, users: Iterable[OktaUser]) -> OktaOrg:
        """The org the program's run ``plan`` configures, with ``users`` in it.

        ``client_secret`` is the secret Okta gave the app (the mocks' ``World``).
        """
        registered = plan.registrations
        (app,) = [r.plain_inputs for r in registered if r.type == OKTA_APP]
        group_prefix = OktaGroups.group_id("")
        assigned_groups = [
            r.plain_inputs["groupId"].removeprefix(group_prefix)
            for r in registered
            if r.type == GROUP_ASSIGNMENT
        ]
        assigned_users = [
            r.plain_inputs["userId"].removeprefix("00u-")
            for r in registered
            if r.type == USER_ASSIGNMENT
        ]
        client = {
            "client_id": plan.exports["oktaClientId"],
            "client_secret": client_secret,
            "redirect_uris": app["redirectUris"],
            "grant_types": app["grantTypes"],
            "token_endpoint_auth_method": app["tokenEndpointAuthMethod"],
            "groups_claim": _groups_claim(app.get("groupsClaim")),
            "assigned_groups": assigned_groups,
            "assigned_users": assigned_users,
        }
        servers: list[dict[str, Any]] = [{"id": "org", "path": "", "endpoints": "/oauth2/v1",
                    "scopes": list(ORG_SERVER_SCOPES), "groups_claim": None}]  # fmt: skip
        server_ids = {r.plain_inputs["authServerId"] for r in registered if r.type == SERVER_SCOPE}
        for server_id in sorted(server_ids):
            scopes = [
                r.plain_inputs["name"]
                for r in registered
                if r.type == SERVER_SCOPE and r.plain_inputs["authServerId"] == server_id
            ]
            claims = [
                r.plain_inputs
                for r in registered
                if r.type == SERVER_CLAIM and r.plain_inputs["authServerId"] == server_id
            ]
            groups_claim = next(
                (
                    {"filter_type": c["groupFilterType"], "value": c["value"]}
                    for c in claims
                    if c["valueType"] == "GROUPS"
                ),
                None,
            )
            servers.append(
                {
                    "id": server_id,
                    "path": f"/oauth2/{server_id}",
                    "endpoints": "/v1",
                    "scopes": [*OKTA_SCOPES, *scopes],
                    "groups_claim": groups_claim,
                }
            )
        return cls(tuple(users), client, servers)

    def as_config(self) -> dict[str, Any]:
        """As ``server.mjs`` reads it (one JSON document)."""
        return {
            "users": [user.as_config() for user in self.users],
            "clients": [self.client],
            "servers": self.servers,
            "cookie_key": secrets.token_hex(16),
        }


class StandInOkta(Serving):
    """``with StandInOkta() as okta:`` - listening at ``okta.url``; then :meth:`configure`."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (NODE_MODULES / "oidc-provider").is_dir():
            raise OktaStandInMissingError(
                "the stand-in Okta needs Node.js and its packages: `make test` installs them "
                f"(npm ci in {SERVER_DIR.relative_to(ROOT)})"
            )
        self._command = [node, str(SERVER)]
        self._process: subprocess.Popen[str] | None = None
        self._log: list[str] = []
        self.port = 0

    @property
    def url(self) -> str:
        """The org URL: the org server's issuer."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> list[dict[str, Any]]:
        """What the server logged: one entry per request and per refusal."""
        return [json.loads(line) for line in list(self._log) if line.startswith("{")]

    def start(self) -> StandInOkta:
        """Start the server and wait for its port."""
        self._process = subprocess.Popen(
            self._command,
            cwd=SERVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._collect, args=(self._process.stderr,), daemon=True).start()
        self.port = int(self._answer()["port"])
        return self

    def configure(self, org: OktaOrg) -> None:
        """Serve ``org`` from now on."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(org.as_config()) + "\n")
        self._process.stdin.flush()
        assert self._answer() == {"ready": True}

    def _answer(self) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self._process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(START_DEADLINE_SECONDS)
        if not result or not result[0]:
            self.stop()
            raise RuntimeError(f"the stand-in Okta did not answer:\n{''.join(self._log)}")
        answer: dict[str, Any] = json.loads(result[0])
        return answer

    def _collect(self, stream: IO[str]) -> None:
        for line in stream:
            self._log.append(line)

    def stop(self) -> None:
        """Stop the server."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
