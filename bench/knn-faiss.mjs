// Exact all-vs-all k-NN: akin's tiled knn against faiss IndexFlatIP batch search, same data, interleaved.
//
//   npm run build && node bench/knn-faiss.mjs [--n 100000] [--dim 128] [--k 10] [--rounds 2]
//     [--query-tile N] [--reference-tile N] [--engines akin,faiss]   (tiles: akin's defaults unless given)
//
// Each engine runs in its own process so that peak RSS (process.resourceUsage().maxRSS / getrusage)
// is its own. Rows are uniform in [-1, 1) from a fixed seed. Prints one JSON line per run, then the
// time ratio akin / faiss per round and the overlap of the two neighbour lists.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const n = Number(opt('n', 100000));
const dim = Number(opt('dim', 128));
const k = Number(opt('k', 10));
const here = dirname(fileURLToPath(import.meta.url));

if (opt('child') === 'akin') {
  const akin = await import(join(here, '..', 'dist', 'index.js'));
  await akin.backend.init({ backend: opt('backend', 'wasm') });
  const buf = readFileSync(opt('file'));
  const data = new Float32Array(buf.buffer, buf.byteOffset, n * dim);
  const t0 = performance.now();
  const res = await akin.eval.knn({
    query: data, reference: data, dim, k, metric: 'ip', excludeSelf: false,
    // Tile sizes only when given: the library's defaults otherwise.
    ...(opt('query-tile') ? { queryTileSize: Number(opt('query-tile')) } : {}),
    ...(opt('reference-tile') ? { referenceTileSize: Number(opt('reference-tile')) } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(opt('out'), new Uint8Array(res.indices.buffer));
  console.log(JSON.stringify({ engine: 'akin', seconds, maxRSS: process.resourceUsage().maxRSS, backend: akin.backend.info() }));
  process.exit(0);
}

// Driver: write the data once, then alternate engines.
const dir = mkdtempSync(join(tmpdir(), 'akin-knn-'));
const file = join(dir, 'data.f32');
let s = 12345 >>> 0;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const data = new Float32Array(n * dim);
for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
writeFileSync(file, new Uint8Array(data.buffer));
const engines = opt('engines', 'akin,faiss').split(',');
const rounds = Number(opt('rounds', 2));
const results = [];
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? engines : [...engines].reverse();
    const round = {};
    for (const engine of order) {
      const out = join(dir, `${engine}.i32`);
      const cmd = engine === 'faiss'
        ? ['/usr/bin/python3', [join(here, 'knn-faiss.py'), file, String(n), String(dim), String(k), out]]
        : [process.execPath, [fileURLToPath(import.meta.url), '--child', 'akin', '--file', file, '--out', out, '--n', String(n), '--dim', String(dim), '--k', String(k),
            ...['query-tile', 'reference-tile'].flatMap((o) => (opt(o) ? [`--${o}`, opt(o)] : [])), '--backend', opt('backend', 'wasm')]];
      const p = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (p.status !== 0) throw new Error(`${engine} failed: ${p.stderr}`);
      const line = JSON.parse(p.stdout.trim().split('\n').pop());
      line.maxRSSMiB = Math.round(line.maxRSS / 1024);
      console.log(JSON.stringify({ round: r, n, dim, k, ...line }));
      round[engine] = line;
    }
    results.push(round);
    if (round.akin && round.faiss) {
      const a = new Int32Array(readFileSync(join(dir, 'akin.i32')).buffer.slice(0));
      const f = new Int32Array(readFileSync(join(dir, 'faiss.i32')).buffer.slice(0));
      let same = 0;
      for (let q = 0; q < n; q++) {
        const set = new Set(f.subarray(q * k, (q + 1) * k));
        for (let j = 0; j < k; j++) if (set.has(a[q * k + j])) same++;
      }
      console.log(`round ${r}: akin/faiss time ratio ${(round.akin.seconds / round.faiss.seconds).toFixed(2)}; neighbour overlap ${(same / (n * k)).toFixed(5)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
