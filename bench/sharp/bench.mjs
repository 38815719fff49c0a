// The six imgflo benchmark operations done with sharp (libvips), in-process, to set
// beside `cargo bench --bench engine` (see bench/run.sh).
//
//   node bench.mjs [FILTER]          prints {op: median_ms} as JSON on stdout
//
// One libvips thread (sharp.concurrency(1)), no operation cache, inputs read into
// memory first; each op runs IMGFLO_BENCH_WARMUP (default 2) times untimed, then
// IMGFLO_BENCH_ITERS (default 15) times timed, one after another. Details (median,
// p90, output size) go to stderr. Images come from ../../../shared/fixtures/bench
// (relative to this file), or IMGFLO_BENCH_FIXTURES.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

sharp.concurrency(1);
sharp.cache(false);

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = process.env.IMGFLO_BENCH_FIXTURES || resolve(here, "../../../shared/fixtures/bench");
const count = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number.parseInt(v, 10);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${v}: expected a whole number`);
  return n;
};
const iters = Math.max(1, count("IMGFLO_BENCH_ITERS", 15));
const warmup = count("IMGFLO_BENCH_WARMUP", 2);
const filter = process.argv[2];

// The same keys as the engine bench's JSON.
const ops = [
  {
    key: "resize-large-jpg",
    file: "large.jpg",
    run: (b) => sharp(b).resize({ width: 800 }).jpeg({ quality: 80 }).toBuffer(),
    expect: [800, 600],
  },
  {
    key: "resize-medium-jpg",
    file: "medium.jpg",
    run: (b) => sharp(b).resize({ width: 800 }).jpeg({ quality: 80 }).toBuffer(),
    expect: [800, 450],
  },
  {
    key: "blur-medium-png",
    file: "medium.jpg",
    run: (b) => sharp(b).blur(10).png().toBuffer(),
    expect: [1920, 1080],
  },
  {
    key: "crop-large-png",
    file: "large.jpg",
    run: (b) => sharp(b).extract({ left: 100, top: 100, width: 500, height: 500 }).png().toBuffer(),
    expect: [500, 500],
  },
  {
    key: "grey-medium-jpg",
    file: "medium.jpg",
    run: (b) => sharp(b).greyscale().jpeg({ quality: 80 }).toBuffer(),
    expect: [1920, 1080],
  },
  {
    key: "fill300-medium-png",
    file: "medium.png",
    run: (b) => sharp(b).resize(300, 300, { fit: "fill" }).png().toBuffer(),
    expect: [300, 300],
  },
];

const median = (s) => (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
const p90 = (s) => s[Math.min(s.length, Math.max(1, Math.ceil(0.9 * s.length))) - 1];

if (!existsSync(join(fixtures, "large.jpg"))) {
  console.error(`sharp bench: fixtures not found at ${fixtures}; skipped`);
  console.log("{}");
  process.exit(0);
}
console.error(
  `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}: ${warmup} warm-up + ${iters} timed iterations each, ` +
    `concurrency ${sharp.concurrency()}`,
);

const result = {};
for (const op of ops) {
  if (filter && !op.key.includes(filter)) continue;
  const input = readFileSync(join(fixtures, op.file));
  const out = await op.run(input);
  const meta = await sharp(out).metadata();
  if (meta.width !== op.expect[0] || meta.height !== op.expect[1]) {
    throw new Error(`${op.key}: got ${meta.width}x${meta.height}, expected ${op.expect.join("x")}`);
  }
  for (let i = 0; i < warmup; i++) await op.run(input);
  const times = [];
  for (let i = 0; i < iters; i++) {
    const start = process.hrtime.bigint();
    await op.run(input);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const med = median(times);
  result[op.key] = Math.round(med * 1000) / 1000;
  console.error(
    `${op.key.padEnd(22)} median ${med.toFixed(2).padStart(8)} ms   p90 ${p90(times).toFixed(2).padStart(8)} ms` +
      `   min ${times[0].toFixed(2).padStart(8)} ms   (${out.length} bytes out)`,
  );
}
console.log(JSON.stringify(result, null, 2));
