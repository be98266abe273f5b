#include "assets.hpp"

namespace pipeline::admin {

const std::string_view console_page_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pipeline console</title>
<link rel="stylesheet" href="console.css">
</head>
<body>
<header>
  <h1>pipeline console</h1>
  <label>Store <select id="store"></select></label>
  <label>Token <input id="token" type="password" autocomplete="off" placeholder="bearer token"></label>
  <output id="status" role="status"></output>
</header>
<main>
<section>
  <h2>Runs</h2>
  <table id="runs">
    <thead><tr><th>Job</th><th>Run</th><th>State</th><th>Done / total</th><th>Rate</th><th>ETA</th><th>Written</th><th>Dead</th><th>Owner</th><th>Updated</th><th>Message</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<section>
  <h2>Queues</h2>
  <table id="queues">
    <thead><tr><th>Stream</th><th>Length</th><th>Group</th><th>Pending</th><th>Lag</th><th>Consumers (idle)</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<section>
  <h2>Checkpoint</h2>
  <form id="checkpoint-form">
    <label>Key <input id="checkpoint-key" size="30" placeholder="listings/p0" list="checkpoint-keys"></label>
    <datalist id="checkpoint-keys"></datalist>
    <button type="submit">Show</button>
    <button id="checkpoint-reset" type="button" class="danger">Reset to the beginning</button>
    <output id="checkpoint"></output>
  </form>
</section>
<section>
  <h2>Dead letters</h2>
  <form id="filters">
    <label>Kind <select id="f-kind"><option value="">any</option><option>transient</option><option>permanent</option><option>invalid_input</option><option>conflict</option><option>not_found</option><option>internal</option></select></label>
    <label>Job <input id="f-job" size="14"></label>
    <label>Partition <input id="f-partition" size="4"></label>
    <label>Since <input id="f-since" size="20" placeholder="2026-05-01"></label>
    <label>Until <input id="f-until" size="20"></label>
    <label>Text <input id="f-text" size="14"></label>
    <button id="apply" type="submit">Show</button>
  </form>
  <h3>By reason</h3>
  <table id="reasons">
    <thead><tr><th>Kind</th><th>Reason</th><th>Letters</th></tr></thead>
    <tbody></tbody>
  </table>
  <p class="actions">
    <label>Replay onto <select id="queue"></select></label>
    <button id="replay-matching" type="button">Replay all matching</button>
    <button id="purge-matching" type="button" class="danger">Purge all matching</button>
  </p>
  <table id="letters">
    <thead><tr><th>ID</th><th>Job</th><th>Kind</th><th>Reason</th><th>Attempts</th><th>Partition</th><th>Time</th><th>Payload</th><th></th></tr></thead>
    <tbody></tbody>
  </table>
  <h3 id="payload-title" hidden>Whole payload</h3>
  <pre id="payload"></pre>
</section>
</main>
<script src="console.js"></script>
</body>
</html>
)html";

const std::string_view console_page_css = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2329; background: #f6f7f9; }
header { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1d2329; color: #fff; }
header h1 { font-size: 1.1em; margin: 0 1em 0 0; }
main { padding: .5em 1.2em 2em; }
h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
h3 { font-size: .95em; margin: .8em 0 .3em; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { border: 1px solid #d6dade; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #eceff2; font-weight: 600; }
td.payload { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; max-width: 40em; }
pre { background: #fff; border: 1px solid #d6dade; padding: .5em; white-space: pre-wrap; word-break: break-all; }
pre:empty { display: none; }
.state-running { color: #0b6bcb; font-weight: 600; }
.state-crashed, .state-failed { color: #b3261e; font-weight: 600; }
.state-completed { color: #1e7d32; }
progress { width: 8em; vertical-align: middle; }
#status.error { color: #ffb4ab; font-weight: 600; }
#status.ok { color: #a5d6a7; }
td.note { color: #5f6b76; font-style: italic; }
button { cursor: pointer; }
button.danger { color: #b3261e; }
form label, .actions label { margin-right: .6em; }
)css";

const std::string_view console_page_js = R"js('use strict';
// Fills the page from the JSON API (docs/console.md). Every text goes in through
// textContent: payloads and reasons are data, never markup.
const $ = (id) => document.getElementById(id);
let stores = [];

$('token').value = sessionStorage.getItem('pipeline-console-token') || '';
$('token').addEventListener('change', () => sessionStorage.setItem('pipeline-console-token', $('token').value));

function show(message, failed) {
  $('status').textContent = message;
  $('status').className = failed ? 'error' : 'ok';
}

async function api(method, path, params) {
  const token = $('token').value;
  const response = await fetch(path + '?' + new URLSearchParams(params), {
    method, headers: token ? { Authorization: 'Bearer ' + token } : {} });
  const json = (response.headers.get('content-type') || '').startsWith('application/json');
  const body = json ? await response.json() : await response.text();
  if (!response.ok) throw new Error(response.status + ' ' + (json ? body.error : body));
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (className) td.className = className;
  return td;
}

function fill(table, items, render) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  for (const item of items) render(body.insertRow(), item);
}

function duration(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
  return (h ? h + 'h' : '') + (h || m ? m + 'm' : '') + s + 's';
}

function currentStore() { return stores.find((s) => s.name === $('store').value) || stores[0]; }

function filters() {
  const params = { store: currentStore().name };
  for (const name of ['kind', 'job', 'partition', 'since', 'until', 'text']) {
    const value = $('f-' + name).value.trim();
    if (value) params[name] = value;
  }
  return params;
}

async function loadRuns() {
  const runs = await api('GET', 'api/runs', { store: currentStore().name });
  fill('runs', runs, (row, run) => {
    const p = run.progress;
    cell(row, run.job);
    cell(row, run.id);
    cell(row, run.state, 'state-' + run.state);
    const done = cell(row, p ? (p.total !== null ? p.done + ' / ' + p.total : p.done) : run.read);
    if (p && p.total) {
      const bar = document.createElement('progress');
      bar.max = p.total;
      bar.value = Math.min(p.done, p.total);
      done.append(' ', bar);
    }
    cell(row, p ? p.rate_per_second.toFixed(1) + '/s' : '');
    cell(row, p && p.eta_seconds !== null ? duration(p.eta_seconds) : '');
    cell(row, run.written);
    cell(row, run.dead_lettered);
    cell(row, run.owner);
    cell(row, run.updated);
    cell(row, run.message);
  });
}

async function loadQueues() {
  const rows = [];
  for (const stream of currentStore().queues) {
    const q = await api('GET', 'api/queue', { store: currentStore().name, stream });
    if (q.groups.length === 0) rows.push({ stream, length: q.length });
    for (const g of q.groups) rows.push({ stream, length: q.length, group: g });
  }
  fill('queues', rows, (row, r) => {
    cell(row, r.stream);
    cell(row, r.length);
    cell(row, r.group ? r.group.name : '');
    cell(row, r.group ? r.group.pending : '');
    cell(row, r.group ? (r.group.lag === null ? '?' : r.group.lag) : '');
    cell(row, r.group ? r.group.consumers.map((c) => c.name + ' (' + (c.idle_ms / 1000).toFixed(1) + 's)').join(', ') : '');
  });
}

async function showPayload(id) {
  const payload = await api('GET', 'api/letter/payload', { store: currentStore().name, id });
  $('payload-title').hidden = false;
  $('payload').textContent = payload;
}

async function act(what, params) {
  try {
    const answer = await api('POST', 'api/' + what, params);
    show(what + ': ' + JSON.stringify(answer), false);
    await loadLetters();
  } catch (e) {
    show(what + ' refused: ' + e.message, true);
  }
}

let lettersShown = 0;  // how many times the letters were filled: tests wait for the next one

async function loadLetters() {
  const params = filters();
  const [reasons, page] = await Promise.all([api('GET', 'api/reasons', params), api('GET', 'api/letters', params)]);
  fill('reasons', reasons.reasons, (row, r) => {
    cell(row, r.kind);
    cell(row, r.message);
    cell(row, r.count + (reasons.complete ? '' : '+'));
  });
  fill('letters', page.letters, (row, l) => {
    row.dataset.id = l.id;
    cell(row, l.id);
    cell(row, l.job);
    cell(row, l.kind);
    cell(row, l.message, 'reason');
    cell(row, l.attempts);
    cell(row, l.partition);
    cell(row, l.time);
    const payload = cell(row, l.payload + (l.truncated ? '…' : ''), 'payload');
    if (l.truncated) {
      const whole = document.createElement('a');
      whole.href = 'api/letter/payload?' + new URLSearchParams({ store: currentStore().name, id: l.id });
      whole.textContent = ' whole (' + l.payload_bytes + ' bytes)';
      whole.className = 'whole';
      whole.addEventListener('click', (event) => { event.preventDefault(); showPayload(l.id).catch((e) => show(e.message, true)); });
      payload.append(whole);
    }
    const buttons = row.insertCell();
    const replay = document.createElement('button');
    replay.type = 'button';
    replay.className = 'replay';
    replay.textContent = 'Replay';
    replay.disabled = currentStore().queues.length === 0;  // only onto a queue of this store
    replay.addEventListener('click', () => act('replay', { store: currentStore().name, queue: $('queue').value, id: l.id }));
    buttons.append(replay);
  });
  $('letters').dataset.shown = String(++lettersShown);
}

// A view the store cannot fill (no job log in it, say) says why in its table.
function note(table, error) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  const td = body.insertRow().insertCell();
  td.colSpan = $(table).tHead.rows[0].cells.length;
  td.className = 'note';
  td.textContent = error.message;
}

function showCheckpoint(cp) {
  $('checkpoint').textContent = 'position ' + (cp.position === '' ? '(the beginning)' : cp.position) + ', version ' + cp.version;
}

$('checkpoint-form').addEventListener('submit', (event) => {
  event.preventDefault();
  api('GET', 'api/checkpoint', { store: currentStore().name, key: $('checkpoint-key').value })
    .then(showCheckpoint, (e) => { $('checkpoint').textContent = e.message; });
});
$('checkpoint-reset').addEventListener('click', () => {
  const key = $('checkpoint-key').value;
  if (!confirm('Reset checkpoint ' + key + '? Its job starts over at its next run.')) return;
  api('POST', 'api/checkpoint/reset', { store: currentStore().name, key })
    .then((cp) => { showCheckpoint(cp); show('checkpoint reset: ' + key, false); },
          (e) => show('checkpoint reset refused: ' + e.message, true));
});

// The store's checkpoint keys, offered as the key field's choices.
async function loadCheckpointKeys() {
  const keys = await api('GET', 'api/checkpoints', { store: currentStore().name });
  $('checkpoint-keys').replaceChildren(...keys.map((k) => new Option(k, k)));
}

function refresh() {
  loadRuns().catch((e) => note('runs', e));
  loadQueues().catch((e) => note('queues', e));
}

function chooseStore() {
  $('queue').replaceChildren(...currentStore().queues.map((q) => new Option(q, q)));
  $('replay-matching').disabled = currentStore().queues.length === 0;
  refresh();
  loadLetters().catch((e) => show(e.message, true));
  loadCheckpointKeys().catch((e) => { $('checkpoint').textContent = e.message; });
}

$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  loadLetters().catch((e) => show(e.message, true));
});
$('replay-matching').addEventListener('click', () => act('replay', { ...filters(), queue: $('queue').value }));
$('purge-matching').addEventListener('click', () => {
  if (confirm('Purge every dead letter that matches the filter?')) act('purge', filters());
});
$('store').addEventListener('change', chooseStore);

async function start() {
  try {
    stores = (await api('GET', 'api/stores', {})).stores;
  } catch (e) {
    show(e.message + ' (enter the token)', true);
    return;
  }
  $('store').replaceChildren(...stores.map((s) => new Option(s.name, s.name)));
  chooseStore();
  setInterval(refresh, 2000);
}
$('token').addEventListener('change', () => (stores.length === 0 ? start() : chooseStore()));
start();
)js";

}  // namespace pipeline::admin
