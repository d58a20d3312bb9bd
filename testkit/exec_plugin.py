"""A stand-in exec credential plugin (``aws eks get-token``'s part in a kubeconfig), counting runs.

Run as ``python exec_plugin.py <runs file> <token> [fail]``: appends one line to the runs file,
then prints a ``client.authentication.k8s.io/v1beta1`` ExecCredential holding ``token`` that
expires in an hour, as the Kubernetes documentation ("client-go credential plugins") specifies.
With ``fail``, it writes the kind of message ``aws eks get-token`` does to stderr and exits 255.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

FAILURE = "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation"


def main(runs: str, token: str, *mode: str) -> int:
    """Log the run; print the credential, or fail with ``fail``."""
    with Path(runs).open("a") as log:
        log.write("run\n")
    if mode == ("fail",):
        print(FAILURE, file=sys.stderr)
        return 255
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    print(json.dumps(credential))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
