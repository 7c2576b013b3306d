// A real OpenID provider on loopback for the single sign-on tests (tests/fixtures/oidc.py starts it).
//
//   PORT           the port on 127.0.0.1 (the issuer is http://127.0.0.1:<PORT>)
//   REDIRECT_URIS  the relying party's callback URLs on loopback, separated by spaces (any port matches)
//   ACCOUNTS       JSON {"<e-mail>": {"password": "…", "name": "…", "email_verified": true}}
//
// Three clients share the redirect URIs: "engpass" (the usual one), "misdirected" (whose ID tokens name another
// audience) and "stale" (whose ID tokens expired ten minutes ago). The login form is the provider's own: an
// e-mail unknown here — a person removed at the provider — or a wrong password is refused with access_denied,
// the way a real provider answers the relying party when a sign-in fails for good.
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.REDIRECT_URIS || '').split(' ').filter(Boolean);
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');

// "native" for the loopback rule of RFC 8252: a redirect URI on 127.0.0.1 or localhost matches on any port, so
// a test's live server on a port of its own signs in at the provider the whole run shares.
const client = (clientId) => ({
  client_id: clientId,
  application_type: 'native',
  client_secret: `${clientId}-secret`,
  redirect_uris: redirectUris,
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

const escape = (text) => String(text).replace(/[&<>"']/gu, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: [client('engpass'), client('misdirected'), client('stale')],
  pkce: { required: () => true },
  // The e-mail claims go into the ID token itself, as Entra ID, Google and Keycloak put them there.
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  cookies: { keys: ['engpass-test-provider'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: account.email_verified !== false, name: account.name || sub };
      },
    };
  },
  // A first-party client: no consent page, the grant covers what was asked.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

// The two broken clients: the token endpoint answers as usual, only the ID token is wrong the way a
// misconfigured or malicious provider would make it.
const { IdToken } = provider;
const issue = IdToken.prototype.issue;
IdToken.prototype.issue = function brokenIssue(options = {}) {
  const clientId = this.client?.clientId;
  if (options.use === 'idtoken' && clientId === 'stale') {
    return issue.call(this, { ...options, expiresAt: Math.floor(Date.now() / 1000) - 600 });
  }
  if (options.use === 'idtoken' && clientId === 'misdirected') {
    const { client } = this;
    this.client = new Proxy(client, {
      get: (target, name) => (name === 'clientId' ? 'someone-else' : Reflect.get(target, name)),
    });
    return issue.call(this, options).finally(() => { this.client = client; });
  }
  return issue.call(this, options);
};

function loginPage(uid, message) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider</title>
<meta name="viewport" content="width=device-width"></head><body>
<h1>Test provider sign-in</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>E-mail <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in at the provider</button></form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/u.exec(req.url.split('?')[0]);
  if (!match) {
    callback(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      // Native clients are asked for consent on every sign-in; a first-party client has it at once.
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(details.uid));
      return;
    }
    const form = await readForm(req);
    const email = (form.get('email') || '').trim().toLowerCase();
    const account = accounts[email];
    if (!account || account.password !== form.get('password')) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'The user is unknown or the password is wrong.',
      });
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: email } }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on ${issuer}\n`);
});
