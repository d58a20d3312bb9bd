"""A gRPC pass-through in front of the real pachd that counts the calls, as the fake counts them.

The cost table (``testkit/change_costs.py``) and the call counts (``testkit/call_counts.py``)
read a pachd's call log: the fake keeps one, the real pachd does not. :class:`CountingProxy`
forwards every unary call byte for byte - request, the caller's ``authn-token``, the answer or
the refusal's code and details - to the real pachd and logs its short name, so the same
measurements run against the real pachd. It answers nothing itself; the providers make unary
calls only, so only those are forwarded.

:meth:`CountingProxy.wipe` gives the real pachd back as a fresh install would be for the auth
resources (the fake's ``wipe``): auth deactivated with whichever known root token holds, and
every Dex connector and client gone (what ``pachctl auth deactivate`` does).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable
from concurrent import futures
from typing import Any

import grpc

from components.pachyderm_auth.pachd import grpc_status, not_activated
from testkit.fake_pachd import is_read, short_name
from testkit.serving import Serving

CALL_TIMEOUT_SECONDS = 30.0


class _Forward(grpc.GenericRpcHandler):
    def __init__(self, proxy: CountingProxy) -> None:
        self._proxy = proxy

    def service(self, handler_call_details: Any) -> Any:
        method: str = handler_call_details.method
        forward = self._proxy.channel.unary_unary(method)

        def behaviour(request: bytes, context: Any) -> bytes:
            self._proxy.record(method)
            metadata = [(k, v) for k, v in context.invocation_metadata() if k == "authn-token"]
            try:
                response: bytes = forward(request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")
                raise AssertionError("unreachable: context.abort raises") from None
            return response

        return grpc.unary_unary_rpc_method_handler(behaviour)


class CountingProxy(Serving):
    """``with CountingProxy(target, client_factory) as proxy:`` forwards to ``target``.

    ``client`` makes a ``pachyderm_sdk`` client of the real pachd for a token (for ``wipe``);
    ``root_tokens`` are the tokens ``wipe`` tries as pach:root.
    """

    def __init__(self, target: str, client: Any, root_tokens: Iterable[str] = ()) -> None:
        self.target = target
        self._client = client
        self.root_tokens = list(root_tokens)
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self.channel = grpc.insecure_channel(target)
        self._server: Any = None
        self.port = 0

    @property
    def address(self) -> str:
        """What a stack's ``pachdAddress`` names to reach pachd through the proxy."""
        return f"grpc://127.0.0.1:{self.port}"

    def record(self, method: str) -> None:
        """Log one call (its short name, e.g. ``auth.Activate``)."""
        with self._lock:
            self.calls.append(short_name(method))

    def reads(self) -> list[str]:
        """Get*/List*/Inspect*/WhoAmI calls so far, as the fake classifies them."""
        return [call for call in self.calls if is_read(call)]

    def writes(self) -> list[str]:
        """Every other call so far."""
        return [call for call in self.calls if not is_read(call)]

    def call_counts(self) -> collections.Counter[str]:
        """Calls so far, by name."""
        return collections.Counter(self.calls)

    def reset_calls(self) -> None:
        """Forget the calls so far."""
        with self._lock:
            self.calls.clear()

    def wipe(self) -> None:
        """Auth off and Dex's connectors and clients gone, as before a first ``up``."""
        # With auth off pachd's identity API answers nothing; every run here deletes Dex's
        # objects before it deactivates, as `pachctl auth deactivate` does.
        if self._auth_active():
            for token in self.root_tokens:
                client = self._client(token)
                try:
                    if client.auth.who_am_i().username != "pach:root":
                        continue
                except (grpc.RpcError, ConnectionError):
                    continue
                client.identity.delete_all()
                client.auth.deactivate()
                break
            else:
                raise RuntimeError("auth is active under a root token this test run does not know")
        self.reset_calls()

    def _auth_active(self) -> bool:
        try:
            self._client(None).auth.who_am_i()
        except (grpc.RpcError, ConnectionError) as error:
            if not_activated(error):
                return False
            if grpc_status(error)[0] == grpc.StatusCode.UNAUTHENTICATED:
                return True
            raise
        return True

    def start(self) -> CountingProxy:
        """Serve on a free loopback port; returns self."""
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        server.add_generic_rpc_handlers((_Forward(self),))
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving and close the channel to pachd."""
        server, self._server = self._server, None
        if server is not None:
            server.stop(grace=None).wait()
        self.channel.close()
