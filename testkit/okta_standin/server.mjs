// A stand-in Okta org on loopback: Okta's OpenID Connect endpoints, served by oidc-provider.
//
// The protocol (discovery, JWKS, the authorization code flow, client authentication, userinfo,
// refresh tokens) is panva's oidc-provider, an OpenID Certified provider; this file only gives it
// Okta's shape, as Okta's OpenID Connect API reference and the org's configuration describe it:
//
// - The org authorization server's issuer is the org URL and its endpoints are /oauth2/v1/...;
//   a custom server <id> has the issuer <org>/oauth2/<id> and the endpoints /oauth2/<id>/v1/....
// - The ID token of the code flow is thin: it carries no profile, email or groups claims, which
//   come from /userinfo (oidc-provider's conformIdTokenClaims, its default).
// - `groups` holds the user's groups that the app's groups claim filter (org server) or the
//   server's groups claim (custom server) selects; `email_verified` is the user's flag.
// - The app's token endpoint auth method is enforced (client_secret_post or _basic), a scope the
//   server does not know is refused with invalid_scope, and a user assigned to the app neither
//   directly nor through a group is refused with access_denied, in Okta's words.
// - Signing in is a plain form (username, password) instead of Okta's widget; consent is not
//   asked (the program's app is TRUSTED).
//
// Usage: node server.mjs. It listens on 127.0.0.1 (a free port), prints {"port": N}, reads the
// org's configuration as one JSON line on stdin (see testkit/okta_standin.py), and prints
// {"ready": true}. It logs one JSON line per request and per refusal to stderr.

import http from 'node:http';
import readline from 'node:readline';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

const INVALID_SCOPE = 'One or more scopes are not configured for the authorization server resource.';
const NOT_ASSIGNED = 'User is not assigned to the client application.';
const AUTHENTICATION_FAILED = 'Authentication failed';
const CLIENT_AUTHENTICATION_FAILED = 'Client authentication failed. Either the client or the client credentials are invalid.';

function log(event) {
  process.stderr.write(`${JSON.stringify(event)}\n`);
}

function groupFilter(claim) {
  if (!claim) return () => false;
  const { filter_type: type, value } = claim;
  switch (type) {
    case 'REGEX': return (name) => new RegExp(`^(?:${value})$`).test(name);
    case 'STARTS_WITH': return (name) => name.startsWith(value);
    case 'EQUALS': return (name) => name === value;
    case 'CONTAINS': return (name) => name.includes(value);
    default: throw new Error(`unknown group filter type ${type}`);
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signInPage(action, message = '') {
  return `<!DOCTYPE html><html><head><title>Sign In</title></head><body>
<form method="post" action="${escapeHtml(action)}">
${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<input name="username" autocomplete="username"><input name="password" type="password">
<button type="submit">Sign In</button></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return Object.fromEntries(new URLSearchParams(body));
}

async function buildServer(org, base, jwks) {
  const users = new Map(org.users.map((user) => [user.id, user]));
  const byLogin = new Map(org.users.map((user) => [user.login, user]));
  const clients = new Map(org.clients.map((client) => [client.client_id, client]));

  function assigned(user, client) {
    return client.assigned_users.includes(user.login)
      || user.groups.some((group) => client.assigned_groups.includes(group));
  }

  const servers = org.servers.map((server) => {
    const issuer = `${base}${server.path}`;
    const provider = new Provider(issuer, {
      clients: org.clients.map((c) => ({
        client_id: c.client_id,
        client_secret: c.client_secret,
        redirect_uris: c.redirect_uris,
        grant_types: c.grant_types,
        response_types: ['code'],
        token_endpoint_auth_method: c.token_endpoint_auth_method,
      })),
      jwks,
      cookies: { keys: [org.cookie_key] },
      scopes: server.scopes,
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username', 'locale', 'zoneinfo', 'updated_at'],
        email: ['email', 'email_verified'],
        groups: ['groups'],
      },
      features: { devInteractions: { enabled: false } },
      pkce: { required: () => false },
      routes: {
        authorization: `${server.endpoints}/authorize`,
        token: `${server.endpoints}/token`,
        userinfo: `${server.endpoints}/userinfo`,
        jwks: `${server.endpoints}/keys`,
        end_session: `${server.endpoints}/logout`,
        revocation: `${server.endpoints}/revoke`,
        introspection: `${server.endpoints}/introspect`,
      },
      interactions: { url: (_ctx, interaction) => `${server.path}/signin/${interaction.uid}` },
      async findAccount(ctx, id) {
        const user = users.get(id);
        if (!user) return undefined;
        return {
          accountId: id,
          async claims() {
            const client = clients.get(ctx.oidc.client?.clientId);
            const claim = server.groups_claim ?? client?.groups_claim;
            return {
              sub: id,
              name: user.name,
              preferred_username: user.login,
              email: user.login,
              email_verified: user.email_verified,
              groups: user.groups.filter(groupFilter(claim)),
            };
          },
        };
      },
    });
    provider.on('server_error', (_ctx, error) => log({ server: server.id, server_error: String(error) }));
    return { ...server, issuer, provider };
  });

  function redirectWithError(res, redirectUri, params, error, description) {
    const location = new URL(redirectUri);
    location.searchParams.set('error', error);
    location.searchParams.set('error_description', description);
    if (params.get('state')) location.searchParams.set('state', params.get('state'));
    res.writeHead(302, { Location: location.href }).end();
  }

  // Okta refuses a scope its server does not know; oidc-provider would drop it silently.
  function refusedScope(server, url, res) {
    const params = url.searchParams;
    const client = clients.get(params.get('client_id'));
    const redirectUri = params.get('redirect_uri');
    if (!client || !client.redirect_uris.includes(redirectUri)) return false;
    const unknown = (params.get('scope') ?? '').split(' ').filter((s) => s && !server.scopes.includes(s));
    if (unknown.length === 0) return false;
    log({ server: server.id, refused: 'invalid_scope', scopes: unknown });
    redirectWithError(res, redirectUri, params, 'invalid_scope', INVALID_SCOPE);
    return true;
  }

  // Okta takes only the app's registered method; oidc-provider would take Basic and the POST body
  // alike. Basic is told by its header; without one, the secret is in the body.
  function refusedClientAuthentication(server, req, res) {
    const header = req.headers.authorization ?? '';
    const basic = header.toLowerCase().startsWith('basic ');
    let client;
    if (basic) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      client = clients.get(decodeURIComponent(decoded.slice(0, decoded.indexOf(':'))));
    } else if (clients.size === 1) {
      [client] = clients.values();
    }
    const used = basic ? 'client_secret_basic' : 'client_secret_post';
    if (!client || client.token_endpoint_auth_method === used) return false;
    log({ server: server.id, refused: 'invalid_client', used });
    res.writeHead(401, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ error: 'invalid_client', error_description: CLIENT_AUTHENTICATION_FAILED }));
    return true;
  }

  async function signIn(server, req, res) {
    const { provider } = server;
    const details = await provider.interactionDetails(req, res);
    const action = `${server.path}/signin/${details.uid}`;
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(signInPage(action));
      return;
    }
    const form = await readForm(req);
    const user = byLogin.get(form.username);
    if (!user || user.password !== form.password) {
      log({ server: server.id, refused: 'sign-in', username: form.username });
      res.writeHead(401, { 'Content-Type': 'text/html' }).end(signInPage(action, AUTHENTICATION_FAILED));
      return;
    }
    const client = clients.get(details.params.client_id);
    if (!assigned(user, client)) {
      log({ server: server.id, refused: 'access_denied', username: user.login });
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: NOT_ASSIGNED,
      }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = new provider.Grant({ accountId: user.id, clientId: client.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, {
      login: { accountId: user.id }, consent: { grantId },
    }, { mergeWithLastSubmission: false });
  }

  // The most specific server first: /oauth2/<id>/... before the org server's /oauth2/v1/....
  const byPath = [...servers].sort((a, b) => b.path.length - a.path.length);

  return http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    log({ method: req.method, path: url.pathname });
    const server = byPath.find((s) => url.pathname === s.path || url.pathname.startsWith(`${s.path}/`));
    if (!server) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errorCode":"E0000022"}');
      return;
    }
    const local = url.pathname.slice(server.path.length);
    try {
      if (local.startsWith('/signin/')) {
        await signIn(server, req, res);
        return;
      }
      if (local === `${server.endpoints}/authorize` && refusedScope(server, url, res)) return;
      if (local === `${server.endpoints}/token` && refusedClientAuthentication(server, req, res)) return;
      // oidc-provider takes the part of originalUrl before url as its mount path.
      req.originalUrl = req.url;
      req.url = req.url.slice(server.path.length) || '/';
      server.provider.callback()(req, res);
    } catch (error) {
      log({ server: server.id, error: String(error) });
      const status = error instanceof errors.OIDCProviderError ? error.statusCode : 500;
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(String(error.message));
    }
  });
}

async function main() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: 'standin-1', alg: 'RS256', use: 'sig' }] };
  let handler = (_req, res) => res.writeHead(503).end();
  const listener = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve) => { listener.listen(0, '127.0.0.1', resolve); });
  const { port } = listener.address();
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const server = await buildServer(JSON.parse(line), base, jwks);
    handler = (req, res) => server.emit('request', req, res);
    process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  }
  listener.close();
}

main().catch((error) => {
  log({ fatal: String(error?.stack ?? error) });
  process.exit(1);
});
