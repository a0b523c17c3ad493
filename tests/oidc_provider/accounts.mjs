// The test provider's accounts: customers matching the sandbox's systems of record
// (src/wayline/sandbox/dataset.py) and one staff member per Wayline role, plus `nobody`, a staff
// account Wayline gives no role. Test-only credentials: the same password and one-time code for
// everyone, so that tests and people trying Wayline can sign in as anyone.

import { timingSafeEqual } from 'node:crypto';

export const PASSWORD = 'correct horse';
export const ONE_TIME_CODE = '123456';

// The assurance levels this provider can reach, weakest first (advertised in discovery).
export const LOA_1 = 'urn:wayline:loa:1';
export const LOA_2 = 'urn:wayline:loa:2';
export const ACR_VALUES = [LOA_1, LOA_2];

const ACCOUNTS = {
  alex: { name: 'Alex Morgan', email: 'alex@example.com', roles: [] },
  sam: { name: 'Sam Patel', email: 'sam@example.com', roles: [] },
  jordan: { name: 'Jordan Lee', email: 'jordan@example.com', roles: [] },
  casey: { name: 'Casey Quinn', email: 'casey@staff.example.com', roles: ['handler'] },
  morgan: { name: 'Morgan Blake', email: 'morgan@staff.example.com', roles: ['senior_handler'] },
  riley: { name: 'Riley Shaw', email: 'riley@staff.example.com', roles: ['fraud_investigator'] },
  avery: { name: 'Avery Stone', email: 'avery@staff.example.com', roles: ['analyst'] },
  harper: { name: 'Harper Reid', email: 'harper@staff.example.com', roles: ['auditor'] },
  sasha: { name: 'Sasha Novak', email: 'sasha@staff.example.com', roles: ['admin'] },
  nobody: { name: 'Nico Body', email: 'nobody@staff.example.com', roles: [] },
};

/** The level (1, 2) an `acr` value stands for; 0 for a value this provider does not know. */
export function levelOf(acr) {
  const index = ACR_VALUES.indexOf(acr);
  return index === -1 ? 0 : index + 1;
}

function same(given, expected) {
  const a = Buffer.from(String(given ?? ''));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a sign-in. Returns `{ accountId, acr, amr }` when the username and password are right
 * and the one-time code, if given, is right too; `null` otherwise (the caller says only that
 * the details were wrong, never which). A code lifts the sign-in to level 2.
 */
export function authenticate(username, password, otp) {
  const accountId = String(username ?? '').trim().toLowerCase();
  if (!Object.hasOwn(ACCOUNTS, accountId) || !same(password, PASSWORD)) return null;
  if (!otp) return { accountId, acr: LOA_1, amr: ['pwd'] };
  if (!same(String(otp).replace(/\s+/g, ''), ONE_TIME_CODE)) return null;
  return { accountId, acr: LOA_2, amr: ['pwd', 'otp'] };
}

/** oidc-provider's `findAccount`: the account's claims, `roles` only when it has any. */
export async function findAccount(_ctx, sub) {
  if (!Object.hasOwn(ACCOUNTS, sub)) return undefined;
  const { name, email, roles } = ACCOUNTS[sub];
  return {
    accountId: sub,
    async claims() {
      return {
        sub, name, email, email_verified: true, ...(roles.length ? { roles: [...roles] } : {}),
      };
    },
  };
}
