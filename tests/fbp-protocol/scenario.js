// A Flowhub-like session with fbp-client (npm), which validates every message the
// runtime sends against the fbp-protocol 0.9.8 schemas and its capability rules.
// Starts `imgflo serve` (HTTP server + live runtime) on free ports with a fresh
// graphs dir, then: connect, list components, build a gradient-map graph, start it,
// receive the preview URL, fetch the PNG, change color1, receive a new preview
// whose pixels differ, let the runtime save the graph, and fetch the same graph
// through the HTTP server's URL API. Exits non-zero on any failure or any
// schema-invalid message.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('assert');
const fbpClient = require('fbp-client');

const root = path.resolve(__dirname, '../..');
const bin = process.env.IMGFLO_BIN || path.join(root, 'target/debug/imgflo');
const example = path.join(root, 'ui/files/example.jpg');
const GRAPH = 'scenario';

let passed = 0;
let failed = 0;
const step = async (name, fn) => {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
    throw e;
  }
};

const withTimeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
]);

function startService(dir) {
  const graphs = path.join(dir, 'graphs');
  fs.mkdirSync(graphs, { recursive: true });
  fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
  fs.copyFileSync(example, path.join(dir, 'files', 'example.jpg'));
  const child = spawn(bin, [
    'serve', '--host', '127.0.0.1', '--port', '0', '--runtime-port', '0',
    '--data-dir', path.join(dir, 'var'), '--graphs-dir', graphs, '--files-dir', path.join(dir, 'files'),
    '--ui-dir', path.join(root, 'ui'), '--graph-poll-ms', '50',
  ], { env: { ...process.env, IMGFLO_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const addresses = {};
    child.on('exit', (code) => reject(new Error(`imgflo serve exited with ${code}: ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const http = /server listening on http:\/\/([^\s]+)/.exec(out);
      const ws = /runtime listening on (ws:\/\/[^\s]+)/.exec(out);
      if (http && ws && !addresses.http) {
        addresses.http = `http://${http[1]}`;
        addresses.ws = ws[1];
        resolve({ child, ...addresses, graphs });
      }
    });
  });
}

function waitForSignal(client, predicate, failOn, ms, what) {
  return withTimeout(new Promise((resolve, reject) => {
    const onSignal = (s) => {
      if (failOn(s)) {
        client.removeListener('signal', onSignal);
        reject(new Error(`${s.protocol}:${s.command} ${JSON.stringify(s.payload)}`));
      } else if (predicate(s)) {
        client.removeListener('signal', onSignal);
        resolve(s);
      }
    };
    client.on('signal', onSignal);
  }), ms, what);
}

async function fetchPng(url) {
  const res = await fetch(url);
  assert.strictEqual(res.status, 200, `GET ${url}`);
  assert.strictEqual(res.headers.get('content-type'), 'image/png');
  const body = Buffer.from(await res.arrayBuffer());
  assert.ok(body.subarray(1, 4).toString() === 'PNG', 'a PNG body');
  return body;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgflo-scenario-'));
  const service = await withTimeout(startService(dir), 30000, 'imgflo serve to start');
  const protocolErrors = [];
  let client;
  try {
    client = await fbpClient({ address: service.ws, protocol: 'websocket' });
    client.on('protocolError', (e) => protocolErrors.push(e));
    const failOn = (s) => (s.command === 'error' || s.command === 'processerror') && s.payload.graph === GRAPH;

    await step('connects and validates runtime:runtime', async () => {
      await client.connect();
      assert.strictEqual(client.definition.type, 'imgflo');
    });

    await step('lists components with image metadata', async () => {
      const components = await client.protocol.component.list();
      assert.ok(components.length > 50, `${components.length} components`);
      const map = components.find((c) => c.name === 'gegl/gradient-map');
      assert.ok(map, 'gegl/gradient-map is listed');
      const color1 = map.inPorts.find((p) => p.id === 'color1');
      assert.strictEqual(color1.type, 'color');
      assert.strictEqual(map.outPorts[0].type, 'buffer');
    });

    await step('builds the gradient-map graph', async () => {
      const g = { graph: GRAPH };
      await client.protocol.graph.clear({ id: GRAPH, name: GRAPH, library: 'imgflo', main: false });
      await client.protocol.graph.addnode({ id: 'in', component: 'gegl/nop', metadata: { x: 10, y: 10 }, ...g });
      await client.protocol.graph.addnode({ id: 'grey', component: 'gegl/grey', metadata: {}, ...g });
      await client.protocol.graph.addnode({ id: 'map', component: 'gegl/gradient-map', metadata: {}, ...g });
      await client.protocol.graph.addnode({ id: 'out', component: 'gegl/nop', metadata: {}, ...g });
      for (const [a, b] of [['in', 'grey'], ['grey', 'map'], ['map', 'out']]) {
        await client.protocol.graph.addedge({ src: { node: a, port: 'output' }, tgt: { node: b, port: 'input' }, ...g });
      }
      await client.protocol.graph.addinitial({ src: { data: '#0000ff' }, tgt: { node: 'map', port: 'color1' }, ...g });
      await client.protocol.graph.addinport({ public: 'input', node: 'in', port: 'input', ...g });
      await client.protocol.graph.addinport({ public: 'color1', node: 'map', port: 'color1', ...g });
      await client.protocol.graph.addoutport({ public: 'output', node: 'out', port: 'output', ...g });
      const source = await client.protocol.component.getsource({ name: GRAPH });
      assert.strictEqual(source.language, 'json');
      assert.strictEqual(Object.keys(JSON.parse(source.code).processes).length, 4);
    });

    let first;
    await step('starts and announces a preview of the output', async () => {
      await client.protocol.network.start({ graph: GRAPH });
      const output = waitForSignal(
        client, (s) => s.protocol === 'network' && s.command === 'output' && s.payload.type === 'previewurl',
        failOn, 15000, 'network:output previewurl',
      );
      const edges = waitForSignal(
        client, (s) => s.protocol === 'network' && s.command === 'data' && s.payload.data && s.payload.data.type === 'previewurl',
        failOn, 15000, 'network:data previewurl',
      );
      await client.protocol.runtime.packet({ graph: GRAPH, port: 'input', event: 'data', payload: example });
      first = (await output).payload.url;
      await edges;
      assert.ok(first.includes('/process?'), first);
    });

    let firstPng;
    await step('serves the preview PNG', async () => {
      firstPng = await fetchPng(first);
    });

    await step('a color1 change gives a new preview whose pixels differ', async () => {
      const output = waitForSignal(
        client, (s) => s.protocol === 'network' && s.command === 'output' && s.payload.url !== first,
        failOn, 15000, 'a new network:output',
      );
      await client.protocol.runtime.packet({ graph: GRAPH, port: 'color1', event: 'data', payload: '#ff0000' });
      const second = (await output).payload.url;
      const secondPng = await fetchPng(second);
      assert.ok(!secondPng.equals(firstPng), 'the preview changed');
      const status = await client.protocol.network.getstatus({ graph: GRAPH });
      assert.strictEqual(status.started, true);
    });

    await step('errors are answered and schema-valid', async () => {
      await assert.rejects(
        client.protocol.graph.addedge({ src: { node: 'nope', port: 'output' }, tgt: { node: 'out', port: 'input' }, graph: GRAPH }),
        /nope/,
      );
      await client.protocol.network.stop({ graph: GRAPH });
    });

    await step('the saved graph is served by the HTTP URL API', async () => {
      const file = path.join(service.graphs, `${GRAPH}.json`);
      const deadline = Date.now() + 15000;
      let res;
      for (;;) {
        if (fs.existsSync(file)) {
          res = await fetch(`${service.http}/graph/${GRAPH}.png?input=files/example.jpg&color1=%23ff0000`);
          if (res.status === 200) break;
        }
        if (Date.now() > deadline) throw new Error(`graph not served: ${res ? res.status : 'no file'}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.strictEqual(res.headers.get('content-type'), 'image/png');
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.strictEqual(saved.properties.environment.type, 'imgflo');
      const runtime = await (await fetch(`${service.http}/runtime`)).json();
      assert.strictEqual(runtime.running, true);
      assert.strictEqual(runtime.address, service.ws);
    });

    await step('every message from the runtime was schema-valid', async () => {
      assert.deepStrictEqual(protocolErrors.map(String), []);
    });
  } catch (e) {
    if (protocolErrors.length) console.log(`schema or permission errors:\n  ${protocolErrors.join('\n  ')}`);
    throw e;
  } finally {
    if (client) await client.disconnect().catch(() => {});
    service.child.removeAllListeners('exit');
    service.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => { console.log(`${passed} passed, ${failed} failed`); process.exit(0); },
  () => { console.log(`${passed} passed, ${Math.max(failed, 1)} failed`); process.exit(1); },
);
