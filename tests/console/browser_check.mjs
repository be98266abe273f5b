// Drives headless Chromium through chromedriver's W3C WebDriver HTTP API (plain fetch, no npm
// package) over a console that pipeline-admin serves, for browser_test.sh:
//
//     node browser_check.mjs DRIVER_URL CONSOLE_URL REDIS_STORE TOKEN USER_DATA_DIR SCREENSHOT
//
// Checks the DOM (runs with live progress, DLQ rows and reasons, the hostile payload shown as
// text), clicks Replay without the token (the 401 must be shown) and with it (the letter must
// go), saves a screenshot of each store's page, and prints "browser: ok". Any failed check throws: exit 1.
import { writeFileSync } from 'node:fs';

const [driver, consoleUrl, redisStore, token, userDataDir, screenshot] = process.argv.slice(2);
const hostilePayload = `{"name":"<script>alert('x')</script>"}`;
const element = 'element-6066-11e4-a52e-4f735466cecf';  // the W3C element reference key

async function call(method, path, body) {
  const response = await fetch(driver + path, {
    method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(answer.value)}`);
  return answer.value;
}

function check(condition, what) {
  if (!condition) throw new Error('check failed: ' + what);
  console.log('browser: ' + what);
}

const session = (await call('POST', '/session', {
  capabilities: { alwaysMatch: { browserName: 'chrome', 'goog:chromeOptions': {
    binary: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--user-data-dir=' + userDataDir, '--window-size=1500,1150'] } } } })).sessionId;
const s = (path) => `/session/${session}${path}`;
const run = (script, ...args) => call('POST', s('/execute/sync'), { script, args });

// Polls `script` until it returns something truthy (up to 10 s), and returns that.
async function until(script, what, ...args) {
  for (let i = 0; i < 100; ++i) {
    const value = await run(script, ...args);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what + '; status: ' + await run("return document.getElementById('status').textContent"));
}

async function click(css) {
  const found = await call('POST', s('/element'), { using: 'css selector', value: css });
  await call('POST', s(`/element/${found[element]}/click`), {});
}

// Runs `change` on the page and waits until the letters table was filled again after it.
async function andLettersShown(change, ...args) {
  const before = Number(await run("return document.getElementById('letters').dataset.shown || 0"));
  await run(change, ...args);
  await until(`return Number(document.getElementById('letters').dataset.shown || 0) > arguments[0]`, 'the letters again', before);
}

async function saveScreenshot(path) {
  writeFileSync(path, Buffer.from(await call('GET', s('/screenshot')), 'base64'));
  check(true, 'screenshot saved to ' + path);
}

try {
  await call('POST', s('/url'), { url: consoleUrl });

  // The SQLite store (the first): runs, the running job's progress, letters and reasons.
  const runs = await until(`
    const rows = [...document.querySelectorAll('#runs tbody tr')].map((r) => [...r.cells].map((c) => c.textContent));
    const ingest = rows.find((r) => r[0] === 'ingest' && r[2] === 'running' && r[4] !== '0.0/s' && r[5] !== '');
    return ingest && rows.length >= 4 ? rows : null`, 'the running job with a rate and an ETA');
  check(runs.some((r) => r[0] === 'listings' && r[2] === 'crashed' && r[8] === 'elsewhere:4242'), 'runs: the crashed run and its owner');
  check(runs.some((r) => r[0] === 'ingest' && / \/ 100000/.test(r[3])), 'runs: done / total of the live job');

  const letters = await until(`
    const rows = [...document.querySelectorAll('#letters tbody tr')].map((r) => [...r.cells].map((c) => c.textContent));
    return rows.length >= 6 ? rows : null`, 'the dead letters');
  check(letters.some((r) => r[3] === 'price is not a number'), 'dlq: a row with its reason');
  check(letters.some((r) => r[7] === hostilePayload), 'dlq: the <script> payload shown as text');
  check(letters.some((r) => r[3] === '<img src=x onerror=alert(1)>'), 'dlq: the HTML reason shown as text');
  check(await run("return document.querySelectorAll('#letters script, #letters img, #reasons img').length === 0"),
        'dlq: no element made of a payload or reason');
  check(letters.some((r) => r[7].startsWith('xxxx') && r[7].includes('whole (10240 bytes)')), 'dlq: the long payload cut, with a link to the whole');
  const reasons = await run("return [...document.querySelectorAll('#reasons tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))");
  check(reasons.some((r) => r[1] === 'duplicate key' && r[2] === '2'), 'reasons: grouped with counts');
  await run(`document.getElementById('checkpoint-key').value = 'listings/p0';
             document.getElementById('checkpoint-form').requestSubmit();`);
  const checkpoint = await until("return document.getElementById('checkpoint').textContent", 'the checkpoint');
  check(checkpoint === 'position 4200, version 1', 'checkpoint: ' + checkpoint);
  const keys = await until("return [...document.getElementById('checkpoint-keys').options].map((o) => o.value).join(' ')",
                          'the checkpoint keys');
  check(keys === 'listings/p0 reports/2026-05', 'checkpoint keys offered: ' + keys);
  await saveScreenshot(screenshot);

  // The Redis store: replay without the token, then with it.
  await andLettersShown(`const select = document.getElementById('store');
                         select.value = arguments[0]; select.dispatchEvent(new Event('change'));`, redisStore);
  // The SQLite page shows the same letter under a row id: wait for the Redis one (a stream id).
  const id = await until(`const row = [...document.querySelectorAll('#letters tbody tr')]
                            .find((r) => r.cells[7].textContent === arguments[0] && r.dataset.id.includes('-'));
                          return document.querySelectorAll('#queues tbody tr').length > 0 && row ? row.dataset.id : null`,
                         'the Redis store\'s letters and queue', hostilePayload);
  await click(`#letters tr[data-id="${id}"] button.replay`);
  const refused = await until(`const t = document.getElementById('status').textContent; return t.includes('refused') ? t : null`,
                              'the refusal');
  check(refused.includes('401'), 'replay without the token: ' + refused);

  await andLettersShown(`const t = document.getElementById('token'); t.value = arguments[0];
                         t.dispatchEvent(new Event('change'));`, token);
  await click(`#letters tr[data-id="${id}"] button.replay`);
  const done = await until(`const t = document.getElementById('status').textContent; return t.includes('requeued') ? t : null`,
                           'the replay');
  check(done.includes('"requeued":1'), 'replay with the token: ' + done);
  await until(`return ![...document.querySelectorAll('#letters tbody tr')].some((r) => r.dataset.id === arguments[0]) &&
                      [...document.querySelectorAll('#queues tbody tr')].some((r) => r.cells[1].textContent === '1')`,
              'the letter gone and the queue one longer', id);
  check(true, 'replay: the letter left the DLQ page and the queue shows it');

  await saveScreenshot(screenshot.replace(/\.png$/, '-replayed.png'));
  console.log('browser: ok');
} finally {
  await call('DELETE', s('')).catch(() => {});
}
