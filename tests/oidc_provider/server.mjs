// A real OpenID Connect provider for Wayline's tests (panva's oidc-provider under Node 22).
// TEST ONLY: its keys, passwords, one-time code and cookie keys are public, in this folder.
//
// Usage: node server.mjs --port PORT [options]
//   --port PORT                        loopback port to listen on (required); the issuer is
//                                      http://127.0.0.1:PORT
//   --keys A | B | B,A                 which test keys (keys/*.json) the JWKS publishes; the first
//                                      signs (default A)
//   --redirect-uri URL                 a redirect URI of both clients (repeatable)
//   --post-logout-redirect-uri URL     a post-logout redirect URI of both clients (repeatable)
//   --customer-secret S, --staff-secret S
//                                      the clients' secrets (defaults below)
//   --test-hooks                       enables POST /test/mischief (see mischief.mjs)
//
// Clients: `wayline-customers` and `wayline-staff`, confidential (client_secret_basic),
// authorization code with PKCE S256 required. Accounts and credentials: accounts.mjs. The ID
// token always carries acr, amr and auth_time, name and email, and `roles` when the account has
// any. Logs go to stderr, one line a request, with paths only (never query strings or bodies).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

import { ACR_VALUES, findAccount } from './accounts.mjs';
import { interactionRoutes, loadExistingGrant, policy } from './interactions.mjs';
import { mischief } from './mischief.mjs';
import { errorPage, logoutPage, signedOutPage } from './views.mjs';

const DEFAULT_SECRETS = {
  customers: 'wayline-customers-test-secret',
  staff: 'wayline-staff-test-secret',
};
// Signs the provider's cookies; public, like everything here.
const COOKIE_KEYS = ['wayline-test-provider-cookie-key-not-secret'];

function log(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(2);
}

function options() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      keys: { type: 'string', default: 'A' },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
      'customer-secret': { type: 'string', default: DEFAULT_SECRETS.customers },
      'staff-secret': { type: 'string', default: DEFAULT_SECRETS.staff },
      'test-hooks': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--port must be a port number');
  const names = values.keys.split(',').map((k) => k.trim());
  if (!names.every((k) => k === 'A' || k === 'B')) fail('--keys must name A and/or B');
  if (!values['redirect-uri'].length) fail('give at least one --redirect-uri');
  return { ...values, port, keyNames: names };
}

function loadKey(name) {
  return JSON.parse(readFileSync(new URL(`./keys/${name}.json`, import.meta.url), 'utf8'));
}

function client(clientId, secret, opts) {
  return {
    client_id: clientId,
    client_secret: secret,
    client_name: clientId,
    token_endpoint_auth_method: 'client_secret_basic',
    response_types: ['code'],
    grant_types: ['authorization_code'],
    redirect_uris: opts['redirect-uri'],
    post_logout_redirect_uris: opts['post-logout-redirect-uri'],
  };
}

function configuration(opts, keys) {
  return {
    clients: [
      client('wayline-customers', opts['customer-secret'], opts),
      client('wayline-staff', opts['staff-secret'], opts),
    ],
    jwks: { keys },
    findAccount,
    loadExistingGrant,
    acrValues: ACR_VALUES,
    // The openid scope carries the sign-in's strength and the account's roles, so every ID
    // token has them; profile and email add name and email, in the ID token too.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'roles'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      sid: null,
      iss: null,
    },
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'email'],
    pkce: { required: () => true },
    // Lifetimes in seconds, given so that oidc-provider does not warn about its defaults.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
    },
    cookies: { keys: COOKIE_KEYS },
    interactions: { policy: policy(), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => { ctx.type = 'html'; ctx.body = logoutPage(form); },
        postLogoutSuccessSource: async (ctx) => { ctx.type = 'html'; ctx.body = signedOutPage(); },
      },
    },
    renderError: async (ctx, out) => { ctx.type = 'html'; ctx.body = errorPage(out); },
  };
}

function requestLog() {
  return async (ctx, next) => {
    const started = Date.now();
    try {
      await next();
    } finally {
      log(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
    }
  };
}

function reportErrors(provider) {
  provider.on('server_error', (_ctx, error) => log(`server error: ${error.message}`));
  for (const event of ['authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(event, (_ctx, error) => log(`${event}: ${error.error ?? error.name} ${error.error_description ?? ''}`));
  }
}

function main() {
  const opts = options();
  const keys = opts.keyNames.map(loadKey);
  const issuer = `http://127.0.0.1:${opts.port}`;
  const provider = new Provider(issuer, configuration(opts, keys));
  provider.use(requestLog());
  if (opts['test-hooks']) provider.use(mischief(keys[0], log));
  provider.use(interactionRoutes(provider));
  reportErrors(provider);
  const server = provider.listen(opts.port, '127.0.0.1', () => {
    log(`listening at ${issuer} (keys ${opts.keyNames.join(',')}${opts['test-hooks'] ? ', test hooks on' : ''})`);
  });
  server.on('error', (error) => fail(`cannot listen on ${issuer}: ${error.code ?? error.message}`));
  for (const signal of ['SIGTERM', 'SIGINT']) {
    // Idle keep-alive connections from test clients would hold close() open: drop them.
    process.on(signal, () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
  }
}

main();
