// Sessions: the bearer token lives in sessionStorage only (gone when the tab closes).
// Local demo: POST /auth/local-login. AWS: Cognito Hosted UI, authorization code + PKCE (S256).

import { api } from "./api.js";

const KEY = {
  token: "cockpit.token",
  expiresAt: "cockpit.expiresAt",
  verifier: "cockpit.pkce.verifier",
  state: "cockpit.pkce.state",
  returnHash: "cockpit.returnHash",
};

export function getToken() {
  const token = sessionStorage.getItem(KEY.token);
  if (!token) return null;
  const expiresAt = Date.parse(sessionStorage.getItem(KEY.expiresAt) || "");
  if (Number.isFinite(expiresAt) && expiresAt <= Date.now()) {
    clearSession();
    return null;
  }
  return token;
}

function saveSession(token, expiresAt) {
  sessionStorage.setItem(KEY.token, token);
  if (expiresAt) sessionStorage.setItem(KEY.expiresAt, expiresAt);
  else sessionStorage.removeItem(KEY.expiresAt);
}

export function clearSession() {
  sessionStorage.removeItem(KEY.token);
  sessionStorage.removeItem(KEY.expiresAt);
}

/** Forget the token; with Cognito also end the Hosted UI session (redirects to its /logout). */
export function logout(config) {
  clearSession();
  const auth = config.auth || {};
  if (auth.mode !== "cognito") return;
  const params = new URLSearchParams({
    client_id: auth.clientId,
    logout_uri: auth.logoutUri || auth.redirectUri,
  });
  window.location.assign(`${cognitoBase(auth)}/logout?${params}`);
}

// ---- local demo -----------------------------------------------------------------------------

export async function localLogin(username) {
  const { token, expires_at: expiresAt } = await api.localLogin(username);
  saveSession(token, expiresAt);
}

// ---- Cognito Hosted UI (authorization code + PKCE) ---------------------------------------------

function cognitoBase(auth) {
  const domain = String(auth.domain || "")
    .replace(/^https?:\/\//, "")
    .replace(/\/+$/, "");
  return `https://${domain}`;
}

function base64url(bytes) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteLength) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(digest);
}

/** Redirect to the Hosted UI; the current hash route is restored after the callback. */
export async function startCognitoLogin(auth) {
  const verifier = randomString(64); // 86 chars, within RFC 7636's 43..128
  const state = randomString(32);
  sessionStorage.setItem(KEY.verifier, verifier);
  sessionStorage.setItem(KEY.state, state);
  sessionStorage.setItem(KEY.returnHash, window.location.hash);
  const params = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: auth.scope || "openid email profile",
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  });
  window.location.assign(`${cognitoBase(auth)}/oauth2/authorize?${params}`);
}

/**
 * If the page was opened by the Hosted UI redirect (?code=&state= or ?error=), finish the login.
 * Returns true when a callback was handled. Throws an Error with a readable message on failure.
 */
export async function handleCognitoCallback(auth) {
  const query = new URLSearchParams(window.location.search);
  if (!query.has("code") && !query.has("error")) return false;
  const expectedState = sessionStorage.getItem(KEY.state);
  const verifier = sessionStorage.getItem(KEY.verifier);
  const returnHash = sessionStorage.getItem(KEY.returnHash) || "";
  sessionStorage.removeItem(KEY.state);
  sessionStorage.removeItem(KEY.verifier);
  sessionStorage.removeItem(KEY.returnHash);
  // Drop code/state from the address bar whatever happens, so a reload cannot replay them.
  window.history.replaceState(null, "", window.location.pathname + returnHash);

  if (query.has("error")) {
    throw new Error(`Sign-in failed: ${query.get("error_description") || query.get("error")}`);
  }
  if (!expectedState || query.get("state") !== expectedState || !verifier) {
    throw new Error(
      "Sign-in failed: the login response did not match this browser session (state mismatch).",
    );
  }
  const response = await fetch(`${cognitoBase(auth)}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.clientId,
      code: query.get("code"),
      redirect_uri: auth.redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.id_token) {
    throw new Error(`Sign-in failed: ${tokens.error_description || tokens.error || response.statusText}`);
  }
  const expiresAt = tokens.expires_in
    ? new Date(Date.now() + tokens.expires_in * 1000).toISOString()
    : jwtExpiry(tokens.id_token);
  saveSession(tokens.id_token, expiresAt);
  return true;
}

function jwtExpiry(jwt) {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp ? new Date(payload.exp * 1000).toISOString() : null;
  } catch {
    return null;
  }
}
