// Our own sign-in interaction (oidc-provider's devInteractions are off): the login form at
// /interaction/:uid, its POST, and a cancel. Consent is never asked of the user: both clients
// are first-party, so grants are made as needed (`loadExistingGrant`, and `autoConsent` for an
// explicit prompt=consent). A request that asks for a stronger `acr` than the provider session
// has signs the person in again, and then the form requires the one-time code.

import { interactionPolicy } from 'oidc-provider';

import { authenticate, levelOf } from './accounts.mjs';
import { loginPage, problemPage } from './views.mjs';

const { Check } = interactionPolicy;
const MAX_FORM_BYTES = 8 * 1024;

/**
 * The weakest level an authorization request accepts, from `acr_values` and from the `acr`
 * asked for through the `claims` parameter; 0 when it asks for none this provider knows.
 */
export function requiredLevel(params) {
  const values = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  if (typeof params.claims === 'string') {
    try {
      const acr = JSON.parse(params.claims)?.id_token?.acr;
      if (typeof acr?.value === 'string') values.push(acr.value);
      if (Array.isArray(acr?.values)) values.push(...acr.values);
    } catch {
      // oidc-provider itself rejects a malformed claims parameter before any interaction.
    }
  }
  const levels = values.map(levelOf).filter((level) => level > 0);
  return levels.length ? Math.min(...levels) : 0;
}

/** The default interaction policy, whose login prompt also fires when the session is too weak. */
export function policy() {
  const prompts = interactionPolicy.base();
  prompts.get('login').checks.add(new Check(
    'acr_too_weak',
    'a stronger sign-in is required',
    (ctx) => {
      if (ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      const weak = requiredLevel(ctx.oidc.params) > levelOf(ctx.oidc.acr);
      return weak ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    },
  ));
  return prompts;
}

/** Adds what a request asks for (OIDC scopes, claims) to a grant that lacks it. */
function widen(grant, scopes, claims) {
  const missingScopes = [...scopes].filter((s) => !grant.getOIDCScope().split(' ').includes(s));
  if (missingScopes.length) grant.addOIDCScope(missingScopes.join(' '));
  const missingClaims = [...claims].filter((c) => !grant.getOIDCClaims().includes(c));
  if (missingClaims.length) grant.addOIDCClaims(missingClaims);
}

/** oidc-provider's `loadExistingGrant`: the session's grant for the client, made or widened. */
export async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  grant ??= new oidc.provider.Grant({ accountId: oidc.session.accountId, clientId: oidc.client.clientId });
  widen(grant, oidc.requestParamOIDCScopes, oidc.requestParamClaims);
  await grant.save();
  return grant;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function show(ctx, status, html) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

async function finish(ctx, provider, result) {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

async function autoConsent(ctx, provider, details) {
  const { params, session, grantId } = details;
  let grant = grantId ? await provider.Grant.find(grantId) : undefined;
  grant ??= new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = details.prompt.details;
  widen(grant, missing.missingOIDCScope ?? [], missing.missingOIDCClaims ?? []);
  await finish(ctx, provider, { consent: { grantId: await grant.save() } });
}

function loginForm(details, extra = {}) {
  return loginPage({
    uid: details.uid,
    clientId: details.params.client_id,
    username: details.session?.accountId ?? details.params.login_hint ?? '',
    otpRequired: requiredLevel(details.params) >= 2,
    ...extra,
  });
}

async function onShow(ctx, provider, details) {
  if (details.prompt.name === 'login') return show(ctx, 200, loginForm(details));
  return autoConsent(ctx, provider, details);
}

async function onLogin(ctx, provider, details) {
  const form = await readForm(ctx.req);
  if (form === null) return show(ctx, 413, problemPage('Too large', 'The form sent was too large.'));
  if (details.prompt.name !== 'login') return onShow(ctx, provider, details);
  const otp = form.get('otp')?.trim() ?? '';
  const username = form.get('username') ?? '';
  const signIn = authenticate(username, form.get('password'), otp);
  if (signIn === null) {
    const error = 'The username, password or one-time code is not right.';
    return show(ctx, 400, loginForm(details, { username, error }));
  }
  if (levelOf(signIn.acr) < requiredLevel(details.params)) {
    const error = 'This needs a stronger sign-in: enter the one-time code as well.';
    return show(ctx, 400, loginForm(details, { username, error }));
  }
  return finish(ctx, provider, { login: { ...signIn, remember: true } });
}

async function onAbort(ctx, provider) {
  await finish(ctx, provider, {
    error: 'access_denied', error_description: 'The person cancelled the sign-in.',
  });
}

const ROUTES = [
  { method: 'GET', pattern: /^\/interaction\/([\w-]+)$/, handle: onShow },
  { method: 'POST', pattern: /^\/interaction\/([\w-]+)\/login$/, handle: onLogin },
  { method: 'POST', pattern: /^\/interaction\/([\w-]+)\/abort$/, handle: onAbort },
];

/**
 * Koa middleware serving the interaction pages. An interaction that has expired or belongs to
 * another browser gets a 400 page saying to start again, never a stack trace.
 */
export function interactionRoutes(provider) {
  return async (ctx, next) => {
    const route = ROUTES.find((r) => r.pattern.test(ctx.path));
    if (!route) return next();
    if (ctx.method !== route.method) {
      ctx.set('Allow', route.method);
      return show(ctx, 405, problemPage('Not allowed', `Use ${route.method} here.`));
    }
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      return show(ctx, 400, problemPage('Sign-in expired', 'This sign-in has expired or was already used: go back to the service and start again.'));
    }
    if (details.uid !== route.pattern.exec(ctx.path)[1]) {
      return show(ctx, 400, problemPage('Sign-in mismatch', 'This page belongs to another sign-in: go back to the service and start again.'));
    }
    return route.handle(ctx, provider, details);
  };
}
