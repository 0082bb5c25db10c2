// The API client. The access token lives in this module's memory only:
// never in storage, a cookie or a URL, so closing or reloading the tab ends
// the session. Paths are relative to the page, so the dashboard calls the
// API of the origin that served it.

let session = null; // { token, expires, mid, scopes, keyId }
let expiryTimer = 0;
let onEnd = () => {};

// APIError is an answer of the API that is not a success, or no answer.
export class APIError extends Error {
  constructor(status, messages, requestId) {
    super(messages.join(' '));
    this.status = status; // 0: no answer
    this.messages = messages;
    this.requestId = requestId;
  }
}

// onSessionEnd sets what happens when the session ends on its own: the
// token expired, or the API refused it. It gets the reason, in words.
export function onSessionEnd(f) {
  onEnd = f;
}

// signIn exchanges a key pair for an access token (upstream's JSON shape).
// The refresh token of the answer is dropped: the session ends with the
// access token.
export async function signIn(appKey, appSecret) {
  const body = await request('POST', 'v1/oauth2/token', { AppKey: appKey, AppSecret: appSecret }, null);
  const claims = decodeClaims(body.accessToken);
  session = {
    token: body.accessToken,
    expires: body.expires,
    mid: claims.mid,
    keyId: claims.sub,
    scopes: String(claims.scope || '').split(' ').filter(Boolean),
  };
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => end('Your session expired. Sign in again.'), Math.max(0, body.expires - Date.now()));
  return current();
}

// signOut forgets the token.
export function signOut() {
  clearTimeout(expiryTimer);
  session = null;
}

function end(reason) {
  signOut();
  onEnd(reason);
}

// current describes the session without its token (null when signed out).
export function current() {
  if (!session) return null;
  const { mid, keyId, scopes, expires } = session;
  return { mid, keyId, scopes: [...scopes], expires };
}

// decodeClaims reads a JWT's payload. The page only displays what it
// reads: the API verifies the token on every call.
function decodeClaims(jwt) {
  const part = String(jwt).split('.')[1] || '';
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

// PAGE_SIZE is how many keys or events one page asks for.
export const PAGE_SIZE = 25;

export const listKeys = ({ status, cursor }) =>
  authed('GET', 'v1/api-keys' + query({ status, cursor, limit: PAGE_SIZE }));

export const createKey = (input, idempotencyKey) =>
  authed('POST', 'v1/api-keys', input, { 'Idempotency-Key': idempotencyKey });

export const rollKey = (id, graceSeconds) =>
  authed('POST', 'v1/api-keys/' + encodeURIComponent(id) + '/roll', { grace_seconds: graceSeconds });

export const deleteKey = (id) => authed('DELETE', 'v1/api-keys/' + encodeURIComponent(id));

export const auditEvents = ({ keyId, cursor }) =>
  authed('GET', 'v1/audit-events' + query({ key_id: keyId, cursor, limit: PAGE_SIZE }));

// authed calls a protected route. A 401 means the token is no longer good
// (expired, or its key deleted or rolled): the session ends.
async function authed(method, path, body, headers) {
  if (!session) throw new APIError(0, ['You are signed out.'], '');
  try {
    return await request(method, path, body, { ...headers, Authorization: 'Bearer ' + session.token });
  } catch (e) {
    if (e instanceof APIError && e.status === 401) {
      end("The API no longer accepts this session's token (it expired, or its key was deleted or rolled). Sign in again.");
    }
    throw e;
  }
}

// request sends one request and returns the decoded JSON of a success; it
// throws an APIError with the API's own words for anything else.
async function request(method, path, body, headers) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'omit' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, ['The API could not be reached (' + e.message + ').'], '');
  }
  const requestId = res.headers.get('X-Request-Id') || '';
  const text = await res.text();
  let data = null;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON: described below
  }
  if (res.ok && data && typeof data === 'object') return data;
  throw new APIError(res.status, messagesOf(res, data, text), requestId);
}

// messagesOf says what went wrong, in the API's words where it gave any.
function messagesOf(res, data, text) {
  if (data && typeof data === 'object') {
    if (Array.isArray(data.errors) && data.errors.length) return data.errors.map(String);
    if (data.error_description) return [String(data.error_description)];
    if (data.error) return [String(data.error)];
    if (data.message) return [String(data.message)];
  }
  if (res.ok) return ['The API answered ' + res.status + ' with a body that is not a JSON object.'];
  const snippet = text.trim().slice(0, 200);
  return ['The API answered ' + res.status + ' ' + res.statusText + (snippet ? ': ' + snippet : '.')];
}
