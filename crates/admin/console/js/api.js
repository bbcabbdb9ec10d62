// The console's HTTP client: log in with Basic credentials at /management/login (MI's login
// resource), keep the JWT in sessionStorage (never a cookie, so no request is sent with ambient
// credentials and cross-site requests cannot ride on it) and send it as a Bearer token on every
// call. A 401 ends the session: the app shows the login form again.

const TOKEN = 'conflux.console.token';
const USER = 'conflux.console.user';

/** A failed call: the HTTP status and the server's `{"Error": ...}` text when it sent one. */
export class ApiError extends Error {
  constructor(status, text) {
    super(text || (status ? `HTTP ${status}` : 'network error'));
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function user() {
  return sessionStorage.getItem(USER) || '';
}

function forget() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
}

/** Basic credentials, UTF-8 encoded (btoa alone rejects characters beyond Latin-1). */
function basic(name, password) {
  const bytes = new TextEncoder().encode(`${name}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** Logs in; resolves when the token is stored, rejects with an ApiError otherwise. The request
 *  omits credentials, so a 401 with `WWW-Authenticate: Basic` (MI's answer to a wrong password)
 *  does not make the browser open its own login dialog (Fetch standard, HTTP-network-or-cache
 *  fetch: the prompt needs includeCredentials). */
export async function login(name, password) {
  let response;
  try {
    response = await fetch('/management/login', {
      headers: { Authorization: basic(name, password) },
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server: ${err.message}`);
  }
  if (response.status === 401) throw new ApiError(401, 'Wrong user name or password.');
  const body = await readJson(response);
  if (!response.ok || !body || typeof body.AccessToken !== 'string') {
    throw new ApiError(response.status, (body && body.Error) || `Login failed (HTTP ${response.status}).`);
  }
  sessionStorage.setItem(TOKEN, body.AccessToken);
  sessionStorage.setItem(USER, name);
}

/** Logs out on the server (best effort) and forgets the token. */
export async function logout() {
  const t = token();
  forget();
  if (!t) return;
  try {
    await fetch('/management/logout', { headers: { Authorization: `Bearer ${t}` }, credentials: 'omit' });
  } catch {
    // The token is forgotten either way; it expires on the server.
  }
}

/** One call to `path` (`/management/...` or `/console/api/...`). Resolves with the JSON answer
 *  (null for an empty body); rejects with an ApiError. A 401 forgets the token and tells the app. */
export async function call(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${token() || ''}`, Accept: 'application/json' };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server: ${err.message}`);
  }
  if (response.status === 401) {
    forget();
    window.dispatchEvent(new CustomEvent('conflux:signed-out', { detail: 'Your session ended; sign in again.' }));
    throw new ApiError(401, 'Not signed in.');
  }
  const json = await readJson(response);
  if (!response.ok) {
    const text = json && (json.Error || json.message);
    const fallback = response.status === 403 ? 'This needs an administrator.'
      : response.status === 404 ? 'Not found.' : `HTTP ${response.status}`;
    throw new ApiError(response.status, text || fallback);
  }
  return json;
}

async function readJson(response) {
  const text = await response.text();
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Query string from an object, skipping null values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
