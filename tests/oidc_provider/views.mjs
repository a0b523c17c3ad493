// The test provider's pages, as plain template strings. Every value put into a page is escaped.
// Inputs have labels and ids (#username, #password, #otp, #logout) for the browser tests.

export function escape(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Wayline test identity provider</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{display:block;width:100%;padding:.4rem}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}</style>
</head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>`;
}

/**
 * The sign-in form. `otpRequired` marks the one-time code as needed (a step-up); otherwise it is
 * optional, and giving it still signs in at the stronger level.
 */
export function loginPage({ uid, clientId, username = '', otpRequired, error }) {
  const alert = error ? `<p class="error" role="alert" id="error">${escape(error)}</p>` : '';
  const otpHint = otpRequired
    ? 'This needs a stronger sign-in: enter the one-time code as well.'
    : 'Optional: a one-time code gives a stronger sign-in.';
  return page('Sign in', `${alert}
<p>Signing in to <strong>${escape(clientId)}</strong>.</p>
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" value="${escape(username)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<label for="otp">One-time code</label>
<input id="otp" name="otp" inputmode="numeric" aria-describedby="otp-hint"${otpRequired ? ' required' : ''}>
<p id="otp-hint">${escape(otpHint)}</p>
<button type="submit" id="sign-in">Sign in</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort">
<button type="submit" id="cancel">Cancel</button>
</form>`);
}

/** A page for a request the provider cannot go on with (an expired interaction, a bad form). */
export function problemPage(title, message) {
  return page(title, `<p id="problem">${escape(message)}</p>`);
}

/** The RP-initiated logout confirmation; `form` is oidc-provider's hidden form (with its xsrf). */
export function logoutPage(form) {
  return page('Sign out', `<p>Sign out of the identity provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout">Sign out</button>
<button type="submit" form="op.logoutForm" id="stay">Stay signed in</button>`);
}

export function signedOutPage() {
  return page('Signed out', '<p id="signed-out">You are signed out of the identity provider.</p>');
}

export function errorPage(out) {
  const lines = Object.entries(out)
    .map(([key, value]) => `<dt>${escape(key)}</dt><dd>${escape(value)}</dd>`).join('');
  return page('Something went wrong', `<dl id="oidc-error">${lines}</dl>`);
}
