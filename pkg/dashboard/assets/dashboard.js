// The dashboard: sign in with a key pair, then list, create, roll and
// delete the merchant's keys and read its audit trail, all through the
// public API (api.js). Every value from the API is rendered as text.

import * as api from './api.js';
import { $, el, clear, show, when, showError, hideError } from './dom.js';

const WRITE = 'api-keys:write';

const state = {
  auditKey: null, // the key whose trail is shown; null: the whole merchant's
  createIdempotencyKey: '',
};

// --- messages ----------------------------------------------------------------

const pageError = $('error');
const notice = $('notice');

function say(text) {
  notice.textContent = text;
  show(notice, Boolean(text));
}

function quiet() {
  say('');
  hideError(pageError);
}

// fail shows an error in box, or on the page when box is gone with the
// session (a dialog closed by signing out).
function fail(err, box = pageError) {
  showError(api.current() ? box : pageError, err);
}

async function busy(button, f) {
  button.disabled = true;
  try {
    return await f();
  } finally {
    button.disabled = false;
  }
}

const quoted = (name) => '“' + name + '”';

// --- session -----------------------------------------------------------------

$('sign-in').addEventListener('submit', async (e) => {
  e.preventDefault();
  quiet();
  const appKey = $('app-key');
  const appSecret = $('app-secret');
  await busy($('sign-in-button'), async () => {
    const pair = [appKey.value.trim(), appSecret.value.trim()];
    appSecret.value = ''; // the secret stays in the page no longer than the exchange
    try {
      const s = await api.signIn(...pair);
      appKey.value = '';
      enter(s);
    } catch (err) {
      fail(err);
    }
  });
});

$('sign-out').addEventListener('click', () => leave('You signed out.'));
// A session that ends on its own keeps what the page last said (such as a
// key just deleted) and adds why it ended.
api.onSessionEnd((reason) => leave(notice.hidden ? reason : notice.textContent + ' ' + reason));

function enter(s) {
  $('session-mid').textContent = s.mid;
  $('session-until').textContent = 'until ' + new Date(s.expires).toLocaleTimeString();
  const canWrite = s.scopes.includes(WRITE);
  $('new-key').disabled = !canWrite;
  $('new-key').title = canWrite ? '' : 'This session does not hold ' + WRITE;
  show($('session'));
  show($('sign-in-screen'), false);
  show($('keys-screen'));
  show($('audit-screen'));
  state.auditKey = null;
  refresh();
}

// leave forgets the session and everything it showed.
function leave(reason) {
  api.signOut();
  for (const d of document.querySelectorAll('dialog')) if (d.open) d.close();
  $('secret-value').value = '';
  for (const id of ['session-mid', 'session-until', 'secret-title', 'secret-note', 'secret-copied', 'confirm-title', 'confirm-text', 'confirm-self', 'audit-title']) {
    $(id).textContent = '';
  }
  createForm.reset();
  clear($('create-scope-list'));
  for (const box of document.querySelectorAll('dialog .error')) hideError(box);
  keys.forget();
  events.forget();
  clear($('keys').tBodies[0]);
  clear($('audit').tBodies[0]);
  for (const id of ['keys-more', 'audit-more', 'keys-empty', 'audit-empty', 'session', 'keys-screen', 'audit-screen']) {
    show($(id), false);
  }
  show($('sign-in-screen'));
  quiet();
  say(reason);
  $('app-key').focus();
}

// --- keys ----------------------------------------------------------------------

// pager holds a listing that the API gives a page at a time: fetch(cursor)
// gets a page, entries(page) its items; load() starts over, more() adds
// the next page; render shows them.
function pager({ fetch, entries, render }) {
  const p = { items: [], cursor: null };
  const load = async (cursor) => {
    try {
      const page = await fetch(cursor);
      p.items = cursor ? p.items.concat(entries(page)) : entries(page);
      p.cursor = page.next_cursor;
      render();
    } catch (err) {
      fail(err);
    }
  };
  p.load = () => load(null);
  p.more = () => load(p.cursor);
  p.forget = () => {
    p.items = [];
    p.cursor = null;
  };
  return p;
}

const keys = pager({
  fetch: (cursor) => api.listKeys({ status: $('status-filter').value, cursor }),
  entries: (page) => page.keys,
  render: renderKeys,
});

$('status-filter').addEventListener('change', () => keys.load());
$('keys-refresh').addEventListener('click', (e) => busy(e.currentTarget, keys.load));
$('keys-more').addEventListener('click', (e) => busy(e.currentTarget, keys.more));

function renderKeys() {
  const body = $('keys').tBodies[0];
  clear(body);
  const s = api.current();
  for (const k of keys.items) body.append(keyRow(k, s));
  show($('keys-empty'), keys.items.length === 0);
  show($('keys-more'), Boolean(keys.cursor));
}

function keyRow(k, s) {
  const active = k.status === 'active';
  const canWrite = s && s.scopes.includes(WRITE);
  const mine = s && s.keyId === k.id;
  const status = [el('span', { class: 'badge ' + k.status }, k.status)];
  if (k.revoked_reason) status.push(el('div', { class: 'muted' }, k.revoked_reason), when(k.revoked_at));
  if (k.rolled_at) status.push(el('div', { class: 'muted' }, 'rolled'), when(k.rolled_at));
  const scopes = k.scopes.length ? k.scopes.map((sc) => el('code', { class: 'scope' }, sc)) : [el('span', { class: 'muted' }, 'none')];
  const action = (label, f, enabled) =>
    el('button', { type: 'button', 'aria-label': label + ' ' + k.name, disabled: !enabled, onclick: () => f(k) }, label);
  return el(
    'tr',
    { 'data-key-id': k.id },
    el('td', { class: 'key' }, el('div', { class: 'name' }, k.name), el('div', { class: 'muted id' }, k.id), mine ? el('div', { class: 'badge self' }, 'this session') : null),
    el('td', {}, k.type),
    el('td', {}, ...status),
    el('td', { class: 'key-scopes' }, ...scopes),
    el('td', {}, when(k.created_at)),
    el('td', {}, k.expires_at ? when(k.expires_at) : el('span', { class: 'muted' }, 'never')),
    el('td', {}, k.last_used ? when(k.last_used) : el('span', { class: 'muted' }, 'never')),
    el('td', {}, el('code', {}, '…' + k.last_four)),
    el(
      'td',
      { class: 'row-actions' },
      action('Audit', showAuditOf, true),
      action('Roll', confirmRoll, active && canWrite),
      action('Delete', confirmDelete, active && canWrite),
    ),
  );
}

// --- create --------------------------------------------------------------------

const createDialog = $('create-dialog');
const createForm = $('create-form');
const createError = createForm.querySelector('.error');

$('new-key').addEventListener('click', () => {
  createForm.reset();
  hideError(createError);
  state.createIdempotencyKey = newIdempotencyKey();
  renderScopeChoices();
  createDialog.showModal();
  $('create-name').focus();
});

for (const radio of createForm.elements.type) radio.addEventListener('change', renderScopeChoices);

const newIdempotencyKey = () => 'dashboard-' + crypto.randomUUID();
const chosenType = () => createForm.elements.type.value;

// renderScopeChoices offers the scopes a key of the chosen type may hold
// that this session holds: a caller can grant no scope it lacks.
function renderScopeChoices() {
  const list = $('create-scope-list');
  const hint = $('create-scopes-hint');
  clear(list);
  const type = chosenType();
  if (type === 'public') {
    hint.textContent = 'Public keys hold no scopes: a token gets its power from the secret key it is paired with.';
    return;
  }
  if (type === 'tokenization') {
    hint.textContent = 'Tokenization keys hold tokenize only.';
    list.append(scopeChoice('tokenize', true, true));
    return;
  }
  const held = api.current().scopes;
  hint.textContent = 'Only the scopes this session holds can be granted.';
  for (const sc of held) list.append(scopeChoice(sc, false, false));
}

const scopeChoice = (sc, checked, disabled) =>
  el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'scope', value: sc, checked, disabled }), ' ', el('code', {}, sc));

// expiresAt turns the datetime-local value (local time) into the API's
// RFC 3339 UTC with second precision; a value it cannot read goes as it
// is, for the API to name the problem.
function expiresAt(local) {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

createForm.querySelector('.cancel').addEventListener('click', () => createDialog.close());

createForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  hideError(createError);
  const type = chosenType();
  const input = { mid: api.current().mid, name: $('create-name').value, type };
  if (type !== 'public') input.scopes = [...createForm.querySelectorAll('input[name=scope]:checked')].map((c) => c.value);
  if ($('create-expires').value) input.expires_at = expiresAt($('create-expires').value);
  await busy($('create-submit'), async () => {
    try {
      const k = await api.createKey(input, state.createIdempotencyKey);
      createDialog.close();
      reveal('Key ' + quoted(k.name) + ' created', k.value, k.type + ' key ' + k.id + (k.expires_at ? ', expires ' + k.expires_at : ''));
      refresh();
    } catch (err) {
      // Only a request that got no answer may be retried as the same
      // request; after any answer, the next attempt is a new one.
      if (err.status !== 0) state.createIdempotencyKey = newIdempotencyKey();
      fail(err, createError);
    }
  });
});

// --- the value, shown once -------------------------------------------------------

const secretDialog = $('secret-dialog');

function reveal(title, value, note) {
  $('secret-title').textContent = title;
  $('secret-value').value = value;
  $('secret-note').textContent = note;
  $('secret-copied').textContent = '';
  secretDialog.showModal();
  $('secret-value').select();
}

$('secret-copy').addEventListener('click', async () => {
  const value = $('secret-value');
  value.select();
  try {
    await navigator.clipboard.writeText(value.value);
    $('secret-copied').textContent = 'Copied to the clipboard.';
  } catch (err) {
    $('secret-copied').textContent = 'Copying failed (' + err.message + '): the value is selected, copy it with the keyboard.';
  }
});

// However the dialog closes (the button, Escape, signing out), the value
// leaves the page: at once with the button, or when the close event comes.
const forgetSecret = () => {
  $('secret-value').value = '';
};
$('secret-done').addEventListener('click', () => {
  forgetSecret();
  secretDialog.close();
});
secretDialog.addEventListener('close', forgetSecret);

// --- roll and delete -----------------------------------------------------------

const confirmDialog = $('confirm-dialog');
const confirmForm = $('confirm-form');
const confirmError = confirmForm.querySelector('.error');
let confirmAction = null;

function describe(k) {
  return quoted(k.name) + ' (' + k.type + ' key ' + k.id + ', ending in …' + k.last_four + ')';
}

function ask({ title, text, button, grace, self, action }) {
  hideError(confirmError);
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-submit').textContent = button;
  show($('confirm-grace'), grace);
  $('grace-seconds').value = '0';
  graceText();
  $('confirm-self').textContent = self;
  show($('confirm-self'), Boolean(self));
  confirmAction = action;
  confirmDialog.showModal();
  (grace ? $('grace-seconds') : $('confirm-submit')).focus();
}

function confirmRoll(k) {
  ask({
    title: 'Roll ' + quoted(k.name) + '?',
    text: 'The key ' + describe(k) + ' gets a new value, shown once. Its id, name and scopes stay.',
    button: 'Roll key',
    grace: true,
    self: api.current().keyId === k.id ? 'This session was signed in with this key: it ends when the old value stops working.' : '',
    action: async () => {
      const raw = $('grace-seconds').value.trim();
      const grace = raw === '' ? 0 : Number.isNaN(Number(raw)) ? raw : Number(raw);
      const r = await api.rollKey(k.id, grace);
      confirmDialog.close();
      reveal('Key ' + quoted(r.name) + ' rolled', r.value, 'The old value works until ' + r.previous_valid_until + '.');
    },
  });
}

function confirmDelete(k) {
  ask({
    title: 'Delete ' + quoted(k.name) + '?',
    text:
      'The key ' + describe(k) + ' stops working: it can mint no more tokens, its refresh tokens end now and its ' +
      'access tokens within a minute. This cannot be undone.',
    button: 'Delete key',
    grace: false,
    self: api.current().keyId === k.id ? 'This session was signed in with this key: it ends too.' : '',
    action: async () => {
      const r = await api.deleteKey(k.id);
      confirmDialog.close();
      say('Key ' + quoted(k.name) + ' deleted. ' + [r.result].concat(r.warnings || []).join(' '));
    },
  });
}

function graceText() {
  const s = Number($('grace-seconds').value);
  let text = 'The old value stops working at once, and every token minted from it.';
  if (Number.isInteger(s) && s > 0) {
    const until = new Date(Date.now() + s * 1000).toLocaleString();
    text = 'The old value keeps working for ' + s + ' s (until about ' + until + '), then stops, with every token minted from it.';
  }
  $('grace-text').textContent = text;
}

$('grace-seconds').addEventListener('input', graceText);
confirmForm.querySelector('.cancel').addEventListener('click', () => confirmDialog.close());
confirmForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  hideError(confirmError);
  await busy($('confirm-submit'), async () => {
    try {
      await confirmAction();
      refresh();
    } catch (err) {
      fail(err, confirmError);
    }
  });
});

// --- audit trail ---------------------------------------------------------------

const events = pager({
  fetch: (cursor) => {
    const k = state.auditKey;
    $('audit-title').textContent = k ? 'Audit trail of ' + quoted(k.name) : 'Audit trail';
    show($('audit-all'), Boolean(k));
    return api.auditEvents({ keyId: k ? k.id : null, cursor });
  },
  entries: (page) => page.events,
  render: renderAudit,
});

$('audit-refresh').addEventListener('click', (e) => busy(e.currentTarget, events.load));
$('audit-more').addEventListener('click', (e) => busy(e.currentTarget, events.more));
$('audit-all').addEventListener('click', () => {
  state.auditKey = null;
  events.load();
});

function showAuditOf(k) {
  state.auditKey = k;
  events.load();
  $('audit-screen').scrollIntoView();
}

function renderAudit() {
  const body = $('audit').tBodies[0];
  clear(body);
  const names = new Map(keys.items.map((k) => [k.id, k.name]));
  for (const ev of events.items) {
    const key = ev.key_id ? named(names, ev.key_id) : [el('span', { class: 'muted' }, '—')];
    body.append(
      el(
        'tr',
        { 'data-event-id': ev.id },
        el('td', {}, when(ev.occurred_at)),
        el('td', {}, el('code', {}, ev.action)),
        el('td', { class: 'key' }, ...key),
        el('td', { class: 'key' }, ev.actor.type, ...named(names, ev.actor.id)),
        el('td', { title: ev.user_agent || '' }, ev.source_ip || '—', ev.request_id ? el('div', { class: 'muted id' }, ev.request_id) : null),
        el('td', { class: 'details' }, ...details(ev.details)),
      ),
    );
  }
  show($('audit-empty'), events.items.length === 0);
  show($('audit-more'), Boolean(events.cursor));
}

// named shows a key id, under the key's name when the page lists it.
function named(names, id) {
  if (!id) return [];
  return [names.has(id) ? el('div', {}, names.get(id)) : null, el('div', { class: 'muted id' }, id)];
}

function details(d) {
  if (!d || typeof d !== 'object') return [];
  return Object.entries(d).map(([k, v]) =>
    el('div', {}, el('span', { class: 'muted' }, k + ': '), Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)),
  );
}

// refresh reloads the keys, then the trail (which names them), unless
// the session ended meanwhile.
async function refresh() {
  await keys.load();
  if (api.current()) await events.load();
}
