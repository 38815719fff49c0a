// Browser tests of the testing and debug page (ui/index.html), served by the real
// server binary and driven in headless Chromium (Debian's /usr/bin/chromium).
// Run: bash tests/ui/run.sh (or `node --test` in tests/ui once the binary is built).
// Each test saves a screenshot under target/ui-screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = path.resolve(here, process.env.IMGFLO_BIN || '../../target/debug/imgflo');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(root, 'target', 'ui-screenshots');
const RUN_TIMEOUT = 90_000;
const TEST = { timeout: 240_000 }; // a hung browser or server fails the test instead of CI

// The spawned binary must not pick up a developer's own configuration.
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(IMGFLO_|DATABASE_URL$|PORT$)/.test(k)),
);

const md5 = s => createHash('md5').update(s, 'utf8').digest('hex');
const tempDirs = [];
function tempDir(prefix) {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/**
 * Starts `imgflo server` (or `imgflo serve`, with the live runtime beside it, when
 * `live`) on free ports; resolves once it prints its address.
 */
function startServer(dataDir, live = false) {
  const args = [live ? 'serve' : 'server', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir,
    '--graphs-dir', 'graphs', '--files-dir', 'ui/files', '--ui-dir', 'ui'];
  if (live) args.push('--runtime-port', '0', '--read-only');
  const proc = spawn(bin, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', d => { log = (log + d).slice(-20000); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start:\n' + log)), 60_000);
    let out = '';
    proc.stdout.on('data', d => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1].replace(/\/$/, ''), proc, log: () => log });
      }
    });
    proc.on('error', e => { clearTimeout(timer); reject(e); });
    proc.on('exit', code => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
  });
}

function stopServer(s) {
  if (s && s.proc.exitCode === null) s.proc.kill('SIGTERM');
}

let open, secured, app, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  open = await startServer(tempDir('imgflo-ui-open-'));
  // Adding an app turns authentication on for that data directory: a second server.
  const securedDir = tempDir('imgflo-ui-auth-');
  app = JSON.parse(execFileSync(bin, ['app', 'add', 'ui-test@example.com', 'browser tests', '--data-dir', securedDir],
    { cwd: root, env: childEnv, encoding: 'utf8' }));
  assert.match(app.key, /\S/);
  secured = await startServer(securedDir);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Playwright gives every launch a fresh temporary profile (--user-data-dir) itself.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 120_000 });

after(async () => {
  if (browser) await browser.close();
  stopServer(open);
  stopServer(secured);
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh browser context and page. Console errors and page errors are collected;
 * `allow` lists patterns of expected "Failed to load resource" messages (by text and URL).
 * `storage` pre-sets localStorage (the API key and secret fields) before the page runs.
 */
async function openPage({ storage = null, allow = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  if (storage) {
    await context.addInitScript(s => { for (const [k, v] of Object.entries(s)) localStorage.setItem(k, v); }, storage);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(RUN_TIMEOUT);
  const errors = [];
  const expected = m => {
    const where = m.location().url || '';
    // The live-runtime probe: /runtime does not exist yet on this server; the page hides the link.
    if (/status of 404/.test(m.text()) && new URL(where, 'http://x').pathname === '/runtime') return true;
    return allow.some(a => a.test(m.text() + ' ' + where));
  };
  page.on('console', m => { if (m.type() === 'error' && !expected(m)) errors.push(`console: ${m.text()} (${m.location().url})`); });
  page.on('pageerror', e => errors.push('pageerror: ' + e.message));
  return { context, page, errors };
}

async function finish({ context, page, errors }, name) {
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  await context.close();
  assert.deepEqual(errors, [], 'no console errors');
}

async function waitForResult(page) {
  await page.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('result').dataset.state));
  return page.evaluate(() => {
    const img = document.getElementById('output');
    return {
      state: document.getElementById('result').dataset.state,
      width: img.naturalWidth,
      height: img.naturalHeight,
      url: document.getElementById('requestUrl').value,
      status: document.getElementById('sStatus').textContent,
      stats: document.getElementById('stats').innerText,
      error: document.getElementById('error').hidden ? null : document.getElementById('error').innerText,
    };
  });
}

async function graphNames(base) {
  const r = await fetch(base + '/graphs');
  return Object.keys((await r.json()).graphs).sort();
}

test('md5 in the page matches RFC 1321 and node:crypto', TEST, async () => {
  const p = await openPage();
  await p.page.goto(open.url + '/');
  const rfc = {
    '': 'd41d8cd98f00b204e9800998ecf8427e',
    a: '0cc175b9c0f1b6a831c399e269772661',
    abc: '900150983cd24fb0d6963f7d28e17f72',
    'message digest': 'f96b697d7cb7938d525a2f31aaf161d0',
    abcdefghijklmnopqrstuvwxyz: 'c3fcd3d76192e4007dfb496cca67e13b',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789': 'd174ab98d277d9f5a5611c2c9f419d9f',
    '12345678901234567890123456789012345678901234567890123456789012345678901234567890': '57edf4a22be3c955ac49da2e2107b67a',
  };
  const others = ['gradientmap.jpg?input=files%2Fexample.jpg&color1=%23ff0000secret', 'ünïcødé ✓ 画像', 'x'.repeat(55),
    'x'.repeat(56), 'x'.repeat(63), 'x'.repeat(64), 'y'.repeat(1000)];
  const inputs = [...Object.keys(rfc), ...others];
  const got = await p.page.evaluate(list => list.map(s => md5(s)), inputs);
  inputs.forEach((s, i) => assert.equal(got[i], rfc[s] ?? md5(s), `md5(${JSON.stringify(s.slice(0, 40))})`));
  await finish(p, 'md5');
});

test('the page loads without console errors and lists the graphs, thumbnails two at a time', TEST, async () => {
  const p = await openPage();
  const { page } = p;
  let inflight = 0, most = 0;
  const processing = r => new URL(r.url()).pathname.startsWith('/graph/');
  page.on('request', r => { if (processing(r)) most = Math.max(most, ++inflight); });
  const done = r => { if (processing(r)) inflight--; };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  await page.goto(open.url + '/');
  const names = await graphNames(open.url);
  await page.waitForFunction(n => document.querySelectorAll('#graphList button').length === n, names.length);
  const listed = await page.$$eval('#graphList .gname', els => els.map(e => e.textContent));
  assert.deepEqual(listed, names);
  assert.equal(await page.textContent('#gtitle'), 'gradientmap');
  await page.waitForFunction(() => /^v\d/.test(document.getElementById('version').textContent));
  assert.equal(await page.isHidden('#flowhub'), true, 'no runtime: no Flowhub link');
  // Every thumbnail in view loads (at the small width), none fails.
  // Thumbnails load lazily: scroll the list through so each comes into view.
  await page.$$eval('#graphList img.thumb', els => els.forEach(e => e.scrollIntoView({ block: 'nearest' })));
  await page.waitForFunction(() => [...document.querySelectorAll('#graphList img.thumb')]
    .every(i => { if (!i.getAttribute('src')) i.scrollIntoView({ block: 'nearest' }); return i.complete && i.getAttribute('src'); }),
    null, { timeout: 180_000, polling: 250 });
  const thumbs = await page.$$eval('#graphList img.thumb', els => els.map(i => [i.dataset.graph, i.naturalWidth, i.className]));
  for (const [name, w, cls] of thumbs) {
    assert.ok(!cls.includes('failed'), `thumbnail of ${name} loaded`);
    if (name !== 'noop') assert.ok(w > 0 && w <= 128, `thumbnail of ${name} is small (${w})`);
  }
  assert.ok(most <= 2, `at most two processing requests at a time (saw ${most})`);
  await finish(p, 'load');
});

test('with the live runtime running, the page links to it in Flowhub', TEST, async () => {
  const live = await startServer(tempDir('imgflo-ui-live-'), true);
  try {
    const info = await (await fetch(live.url + '/runtime')).json();
    assert.equal(info.running, true);
    const p = await openPage();
    await p.page.goto(live.url + '/');
    await p.page.waitForSelector('#flowhub', { state: 'visible' });
    const href = await p.page.getAttribute('#flowhub', 'href');
    assert.equal(href, info.flowhub);
    assert.ok(href.includes(encodeURIComponent(info.address)) || href.includes(info.address), href);
    await finish(p, 'flowhub-link');
  } finally {
    stopServer(live);
  }
});

test('gradientmap with color1 runs and shows an image of the expected size', TEST, async () => {
  const p = await openPage();
  const { page } = p;
  await page.goto(open.url + '/#crop');
  await page.waitForFunction(() => document.getElementById('gtitle').textContent === 'crop');
  await page.click('#graphList button[data-graph="gradientmap"]');
  assert.equal(await page.textContent('#gtitle'), 'gradientmap');
  // The form follows the metadata: colour pickers with alpha, checkbox, numbers with ranges.
  assert.equal(await page.inputValue('#p-color1'), '#000000ff');
  assert.equal(await page.isChecked('#p-srgb'), false);
  assert.equal(await page.getAttribute('#p-opacity', 'min'), '-10');
  assert.equal(await page.getAttribute('#p-width', 'max'), '2000');
  // The colour picker keeps the alpha of the text field.
  await page.fill('#p-color1', '#10203080');
  await page.locator('#p-color1').locator('xpath=..').locator('input[type=color]').fill('#ff0000');
  assert.equal(await page.inputValue('#p-color1'), '#ff000080');
  await page.fill('#p-color1', '#ff4000');
  await page.check('#p-srgb');
  await page.selectOption('#format', 'png');
  await page.click('#run');
  let r = await waitForResult(page);
  assert.equal(r.state, 'ok', r.error);
  assert.deepEqual([r.width, r.height], [640, 400], 'the example is 640×400');
  assert.ok(r.url.startsWith(open.url + '/graph/gradientmap.png?input=files%2Fexample.jpg&'), r.url);
  assert.match(r.url, /color1=%23ff4000/);
  assert.match(r.url, /srgb=true/);
  assert.doesNotMatch(r.url, /color2=/, 'defaults are not sent');
  assert.match(r.status, /^status 200/);
  assert.match(r.stats, /image\/png/);
  // width resizes the input (keeping the aspect ratio).
  await page.fill('#p-width', '320');
  await page.press('#p-width', 'Enter');
  await page.waitForFunction(() => document.getElementById('sDims').textContent.includes('320'));
  r = await waitForResult(page);
  assert.deepEqual([r.width, r.height], [320, 200]);
  // Run again: the same URL is answered from the cache when the server reports it.
  const first = await page.textContent('#sCache');
  if (/miss/.test(first)) {
    await page.click('#run');
    await page.waitForFunction(() => /hit/.test(document.getElementById('sCache').textContent));
  }
  await finish(p, 'gradientmap');
});

test('a debug=1 URL pre-fills the form and runs it', TEST, async () => {
  const p = await openPage();
  const { page } = p;
  await page.goto(open.url + '/graph/gradientmap.png?input=files%2Fexample.jpg&color1=%23ff0000&srgb=true&width=200&debug=1');
  assert.match(new URL(page.url()).pathname, /^\/debug\/graph\/gradientmap\.png$/);
  const r = await waitForResult(page);
  assert.equal(r.state, 'ok', r.error);
  assert.deepEqual([r.width, r.height], [200, 125]);
  assert.equal(await page.textContent('#gtitle'), 'gradientmap');
  assert.equal(await page.inputValue('#format'), 'png');
  assert.equal(await page.inputValue('#input'), 'files/example.jpg');
  assert.equal(await page.inputValue('#p-color1'), '#ff0000');
  assert.equal(await page.isChecked('#p-srgb'), true);
  assert.equal(await page.inputValue('#p-width'), '200');
  assert.match(await page.textContent('#notice'), /Debugging a request/);
  assert.match(r.url, /\/graph\/gradientmap\.png\?input=files%2Fexample\.jpg&color1=%23ff0000&srgb=true&width=200$/);
  await finish(p, 'debug');

  // Without an extension: the default format, and the crop parameters.
  const q = await openPage();
  await q.page.goto(open.url + '/graph/crop?input=files%2Fexample.jpg&x=5&cropwidth=64&cropheight=32&debug=1');
  const c = await waitForResult(q.page);
  assert.equal(c.state, 'ok', c.error);
  assert.deepEqual([c.width, c.height], [64, 32]);
  assert.equal(await q.page.inputValue('#format'), '');
  assert.equal(await q.page.inputValue('#p-x'), '5');
  await finish(q, 'debug-crop');
});

test('with an app key and secret the signed request loads', TEST, async () => {
  const p = await openPage({ storage: { 'imgflo-server-api-key': app.key, 'imgflo-server-api-secret': app.secret } });
  const { page } = p;
  await page.goto(secured.url + '/#gradientmap');
  await page.waitForFunction(() => document.getElementById('gtitle').textContent === 'gradientmap');
  assert.equal(await page.inputValue('#apiKey'), app.key);
  assert.equal(await page.textContent('#signed'), 'signed');
  await page.fill('#p-color1', '#3366ff');
  await page.fill('#p-width', '160');
  await page.click('#run');
  const r = await waitForResult(page);
  assert.equal(r.state, 'ok', r.error);
  assert.deepEqual([r.width, r.height], [160, 100]);
  const m = /\/graph\/([^/]+)\/([0-9a-f]{32})\/(gradientmap)\?(.*)$/.exec(r.url);
  assert.ok(m, r.url);
  assert.equal(m[1], app.key);
  assert.equal(m[2], md5(m[3] + '?' + m[4] + app.secret), 'token = md5(graphspec + "?" + query + secret)');
  // The thumbnails are signed too.
  await page.waitForFunction(() => {
    const i = document.querySelector('#graphList img.thumb[data-graph="gradientmap"]');
    return i.complete && i.naturalWidth > 0;
  });
  await finish(p, 'signed');

  // A signed debug URL: the page re-signs it with the stored key and secret.
  const q = await openPage({ storage: { 'imgflo-server-api-key': app.key, 'imgflo-server-api-secret': app.secret } });
  const query = 'input=files%2Fexample.jpg&cropwidth=50&cropheight=40';
  await q.page.goto(`${secured.url}/graph/${app.key}/${md5('crop.jpg?' + query + app.secret)}/crop.jpg?${query}&debug=1`);
  assert.match(new URL(q.page.url()).pathname, new RegExp(`^/debug/graph/${app.key}/[0-9a-f]{32}/crop\\.jpg$`));
  const c = await waitForResult(q.page);
  assert.equal(c.state, 'ok', c.error);
  assert.deepEqual([c.width, c.height], [50, 40]);
  assert.match(await q.page.textContent('#notice'), /signed with your key/);
  await finish(q, 'signed-debug');
});

test('a wrong secret shows the 403 error', TEST, async () => {
  const p = await openPage({
    storage: { 'imgflo-server-api-key': app.key, 'imgflo-server-api-secret': 'not-the-secret' },
    // Every request is refused here, thumbnails included: the browser logs those loads.
    allow: [/status of 403/],
  });
  const { page } = p;
  await page.goto(secured.url + '/#gradientmap');
  await page.waitForFunction(() => document.getElementById('gtitle').textContent === 'gradientmap');
  await page.click('#run');
  const r = await waitForResult(page);
  assert.equal(r.state, 'error');
  assert.match(r.status, /403/);
  assert.match(r.error, /forbidden/i);
  assert.match(r.error, /API key and secret/);
  assert.equal(await page.isVisible('#output'), false, 'no image is shown');
  await finish(p, 'wrong-secret');
});
