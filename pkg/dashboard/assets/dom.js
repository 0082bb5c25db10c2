// DOM helpers. Text goes in as text only (textContent, text nodes,
// attribute values): nothing here, nor anywhere in the dashboard, parses a
// string as HTML, and the page's Trusted Types policy makes any attempt
// throw.

export const $ = (id) => document.getElementById(id);

// el makes an element: props.class, props.title and other attributes, then
// children, where strings become text nodes and null is skipped.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

// when shows an API timestamp (RFC 3339 UTC, second precision) as text,
// in UTC, in a <time> element: the date, then the time below it; null
// shows a dash.
export function when(ts) {
  if (!ts) return el('span', { class: 'muted' }, '—');
  const [date, time] = String(ts).split('T');
  return el('time', { datetime: ts, title: new Date(ts).toString() }, el('span', {}, date), el('span', { class: 'clock' }, (time || '').replace(/Z$/, ' UTC')));
}

// showError writes an error's messages into box: each message of the API
// on its own line, then the status and request id for support.
export function showError(box, err) {
  clear(box);
  const messages = err && err.messages ? err.messages : [String(err && err.message ? err.message : err)];
  box.append(el('ul', {}, ...messages.map((m) => el('li', {}, m))));
  const meta = [];
  if (err && err.status) meta.push('HTTP ' + err.status);
  if (err && err.requestId) meta.push('request id ' + err.requestId);
  if (meta.length) box.append(el('p', { class: 'meta' }, meta.join(' · ')));
  show(box);
}

export function hideError(box) {
  clear(box);
  show(box, false);
}
