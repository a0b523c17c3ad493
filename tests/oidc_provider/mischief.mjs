// Test hooks (only with --test-hooks): POST /test/mischief {"id_token": KIND} makes the NEXT
// token response carry an ID token spoiled that way, so that tests can prove Wayline refuses it:
//   tamper          the payload's `sub` changed, the signature left as it was
//   expire          re-signed with the same key, `iat` two hours and `exp` one hour ago
//   wrong_audience  re-signed with another `aud`
//   wrong_nonce     re-signed with another `nonce`
//   wrong_issuer    re-signed with another `iss`
//   none            an unsigned token (`alg: none`, empty signature)
// {"id_token": null} clears a pending one. A kind is used once, then forgotten.

import {
  SignJWT, base64url, decodeJwt, decodeProtectedHeader, importJWK,
} from 'jose';

export const KINDS = ['tamper', 'expire', 'wrong_audience', 'wrong_nonce', 'wrong_issuer', 'none'];
const MAX_BODY_BYTES = 1024;

function encodeJson(value) {
  return base64url.encode(JSON.stringify(value));
}

async function resign(jwt, signingJwk, change) {
  const header = decodeProtectedHeader(jwt);
  const key = await importJWK(signingJwk, header.alg);
  return new SignJWT(change(decodeJwt(jwt))).setProtectedHeader(header).sign(key);
}

/** The ID token `jwt` spoiled as `kind` says; `signingJwk` is the key that signed it. */
export async function spoil(kind, jwt, signingJwk) {
  const now = Math.floor(Date.now() / 1000);
  const [header, , signature] = jwt.split('.');
  const payload = decodeJwt(jwt);
  switch (kind) {
    case 'tamper':
      return [header, encodeJson({ ...payload, sub: `${payload.sub}-tampered` }), signature].join('.');
    case 'none':
      return [encodeJson({ alg: 'none', typ: 'JWT' }), encodeJson(payload), ''].join('.');
    case 'expire':
      return resign(jwt, signingJwk, (p) => ({ ...p, iat: now - 7200, exp: now - 3600 }));
    case 'wrong_audience':
      return resign(jwt, signingJwk, (p) => ({ ...p, aud: 'someone-else' }));
    case 'wrong_nonce':
      return resign(jwt, signingJwk, (p) => ({ ...p, nonce: 'not-the-nonce-you-sent' }));
    case 'wrong_issuer':
      return resign(jwt, signingJwk, (p) => ({ ...p, iss: 'http://issuer.invalid' }));
    default:
      throw new Error(`unknown mischief ${kind}`);
  }
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function reply(ctx, status, body) {
  ctx.status = status;
  ctx.body = body;
}

/**
 * Koa middleware: the /test/mischief endpoint, and the wrapper that spoils the next token
 * response's ID token. `signingJwk` is the private JWK of the key that signs (the first one).
 */
export function mischief(signingJwk, log) {
  let pending = null;
  return async (ctx, next) => {
    if (ctx.path === '/test/mischief') {
      if (ctx.method !== 'POST') return reply(ctx, 405, { error: 'use POST' });
      const body = await readJson(ctx.req);
      const kind = body?.id_token;
      if (kind !== null && !KINDS.includes(kind)) {
        return reply(ctx, 400, { error: `id_token must be null or one of ${KINDS.join(', ')}` });
      }
      pending = kind;
      log(`mischief: next ID token ${kind ?? 'untouched'}`);
      return reply(ctx, 200, { id_token: pending });
    }
    await next();
    if (pending && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
      const kind = pending;
      pending = null;
      ctx.body = { ...ctx.body, id_token: await spoil(kind, ctx.body.id_token, signingJwk) };
      log(`mischief: ID token spoiled (${kind})`);
    }
  };
}
