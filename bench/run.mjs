#!/usr/bin/env node
// The standard benchmark set, akin (wasm backend) side by side with the plain-PyTorch reference script
// at equal thread counts. Every measurement is its own process; akin and PyTorch runs alternate (and
// swap order every round) so that machine noise hits both alike. The ratio of each round's pair is
// taken, and the median over rounds is reported. Writes bench/RESULTS.md (and prints JSON lines).
//
//   TORCH_REFERENCE=path/to/torch_reference.py [PYTHON=python3] npm run bench [-- --rounds 3 --threads 1,2 --only knn]
//
// With --clock cpu both sides are timed by their own process's CPU time instead of the wall clock (akin's
// cpu_* fields; PyTorch through bench/torch-cpu-clock.py), 1 thread only: on a machine shared with other
// jobs this measures the work each side does rather than its share of the cores. That table is printed
// (and written to --out when given), not to RESULTS.md.
//
// Training workloads time steady-state steps: both sides run the same command, 3 untimed warm-up steps
// (fixed in the reference) and then enough timed steps (100 for the seed MLP, 20 for the conv net) that
// each side runs for seconds, since real training runs thousands of steps. --train-steps N replaces the
// timed step count of the training workloads on both sides (e.g. --train-steps 10 for the older, shorter
// window, whose timed steps include akin's JIT warm-up).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(flag('rounds', '3'));
const threadCounts = flag('threads', '1,2').split(',').map(Number);
const only = flag('only', '');
const reference = flag('reference', process.env.TORCH_REFERENCE ?? '');
const python = flag('python', process.env.PYTHON ?? 'python3');
const clock = flag('clock', 'wall');
const trainSteps = flag('train-steps', '');
const out = flag('out', clock === 'cpu' ? '' : join(here, 'RESULTS.md'));
if (clock !== 'wall' && clock !== 'cpu') {
  console.error(`bench: option '--clock' must be wall or cpu (got ${clock})`);
  process.exit(2);
}
if (clock === 'cpu' && threadCounts.some((t) => t !== 1)) {
  if (args.includes('--threads')) {
    console.error("bench: '--clock cpu' compares 1-thread runs only (CPU time of several threads is their sum)");
    process.exit(2);
  }
  threadCounts.splice(0, threadCounts.length, 1);
}
if (!reference || !existsSync(reference)) {
  console.error("bench: set TORCH_REFERENCE (or pass --reference) to the PyTorch reference script torch_reference.py");
  process.exit(2);
}
if (trainSteps && !(Number.isInteger(Number(trainSteps)) && Number(trainSteps) >= 1)) {
  console.error(`bench: option '--train-steps' must be an integer >= 1 (got ${trainSteps})`);
  process.exit(2);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`bench: option '--rounds' must be an integer >= 1 (got ${flag('rounds')})`);
  process.exit(2);
}

// metric: the JSON field compared; higher: whether larger is better. The ratio is always reported as
// akin speed / PyTorch speed (> 1: akin is faster).
const WORKLOADS = [
  { name: 'mlp-multisimilarity-256', goal: 'seed MLP + multi-similarity (miner + loss), batch 256: train samples/s', metric: 'samples_per_s', higher: true,
    cmd: ['train', '--model', 'mlp', '--loss', 'multisimilarity', '--batch', '256', '--steps', '100'] },
  { name: 'cnn-multisimilarity-128', goal: 'conv net + multi-similarity, batch 128: train samples/s', metric: 'samples_per_s', higher: true,
    cmd: ['train', '--model', 'cnn', '--loss', 'multisimilarity', '--batch', '128', '--steps', '20'] },
  { name: 'triplet-semihard-1024', goal: 'semihard triplet miner + loss, batch 1024, dim 128: ms per forward+backward', metric: 'ms_per_call', higher: false,
    cmd: ['loss', '--loss', 'triplet-semihard', '--batch', '1024', '--dim', '128', '--steps', '5'] },
  { name: 'ntxent-1024', goal: 'NT-Xent (supervised, SupCon form), batch 1024, dim 128: ms per forward+backward', metric: 'ms_per_call', higher: false,
    cmd: ['loss', '--loss', 'ntxent', '--batch', '1024', '--dim', '128', '--steps', '5'] },
  { name: 'knn-10k', goal: 'exact k-NN 10k queries x 10k database x 128, top-10: seconds per search', metric: 'seconds', higher: false,
    cmd: ['knn', '--queries', '10000', '--database', '10000', '--dim', '128', '--k', '10', '--reps', '1'] },
]
  .filter((w) => !only || only.split(',').some((o) => w.name.startsWith(o)))
  .map((w) => (trainSteps && w.cmd[0] === 'train'
    ? { ...w, cmd: w.cmd.map((a, i) => (w.cmd[i - 1] === '--steps' ? trainSteps : a)) }
    : w));

const akinCommand = (w, t) => [process.execPath, join(root, 'bin', 'akin.js'), '--backend', 'wasm', '--threads', String(t), 'bench', ...w.cmd, '--json'];
const torchCommand = (w, t) => clock === 'cpu'
  ? [python, join(here, 'torch-cpu-clock.py'), reference, '--threads', String(t), ...w.cmd]
  : [python, reference, '--threads', String(t), ...w.cmd];
/** The akin JSON field compared (its CPU-time twin with --clock cpu). */
const akinMetric = (w) => (clock === 'cpu' ? `cpu_${w.metric}` : w.metric);

function run(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: root, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) throw new Error(`bench: '${argv.join(' ')}' failed (exit ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return JSON.parse(line);
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const started = performance.now();
const load = loadavg()[0];
const results = [];
for (const w of WORKLOADS) {
  for (const t of threadCounts) results.push({ w, t, akin: [], torch: [], ratios: [], versions: {} });
}
for (let round = 0; round < rounds; round++) {
  for (const r of results) {
    const pair = {};
    const order = round % 2 === 0 ? ['akin', 'torch'] : ['torch', 'akin'];
    for (const who of order) pair[who] = run(who === 'akin' ? akinCommand(r.w, r.t) : torchCommand(r.w, r.t));
    const a = pair.akin[akinMetric(r.w)];
    const p = pair.torch[r.w.metric];
    r.akin.push(a);
    r.torch.push(p);
    r.ratios.push(r.w.higher ? a / p : p / a);
    r.versions = { torch: pair.torch.torch, akin: pair.akin.akin };
    console.log(JSON.stringify({ round, workload: r.w.name, threads: r.t, akin: a, torch: p, metric: r.w.metric, ratio: +r.ratios.at(-1).toFixed(3) }));
  }
}
const minutes = (performance.now() - started) / 60000;

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const rows = results.map((r) => {
  const ratio = median(r.ratios);
  return `| ${r.w.goal} | ${r.t} | ${fmt(median(r.akin))} | ${fmt(median(r.torch))} | **${ratio.toFixed(2)}** (${fmt(Math.min(...r.ratios))}–${fmt(Math.max(...r.ratios))}) | ${+ratio.toFixed(2) >= 1 ? 'yes' : 'no'} |`; // as printed
});
const commands = WORKLOADS.map((w) => [
  `# ${w.name}`,
  `node bin/akin.js --backend wasm --threads T bench ${w.cmd.join(' ')} --json`,
  `python3 torch_reference.py --threads T ${w.cmd.join(' ')}`,
].join('\n'));
const versions = results[0]?.versions ?? {};
const md = `# Benchmarks: akin (wasm) vs PyTorch at equal threads

Written by \`npm run bench\` (\`bench/run.mjs\`). Each cell is the median over ${rounds} rounds; in every round
the akin and PyTorch runs of a workload alternate (order swapped each round), each in its own process, and
the ratio of that pair is taken. **Ratio = akin speed / PyTorch speed** (samples/s ratio, or PyTorch time /
akin time): above 1 akin is faster. The range in brackets is the lowest and highest round.

- akin ${versions.akin ?? '?'} on the threaded-SIMD wasm backend, Node ${process.version}; PyTorch ${versions.torch ?? '?'} (CPU)
- ${cpus().length} logical cores; 1-minute load average ${load.toFixed(1)} at the start (shared machine: absolute times
  are noisy, the ratios less so); total run time ${minutes.toFixed(1)} min

| workload (metric) | threads | akin | PyTorch | ratio (min–max) | akin >= PyTorch |
|---|---|---|---|---|---|
${rows.join('\n')}

## Commands

Each pair, run from the repository root with T in {${threadCounts.join(', ')}}:

\`\`\`
${commands.join('\n\n')}
\`\`\`

Reproduce the whole table: \`TORCH_REFERENCE=path/to/torch_reference.py PYTHON=python3 npm run bench -- --rounds ${rounds}\`.
`;
if (clock === 'cpu') {
  // A table of CPU-time ratios, for pasting next to the wall-clock one.
  const table = [
    `1-thread CPU time, median of ${rounds} rounds, load average ${load.toFixed(1)} at the start (${minutes.toFixed(1)} min):`,
    '',
    '| workload (metric) | threads | akin | PyTorch | ratio (min–max) | akin >= PyTorch |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  console.log(table);
  if (out) writeFileSync(out, `${table}\n`);
} else {
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const notes = previous.includes('\n## Notes') ? previous.slice(previous.indexOf('\n## Notes')) : '';
  writeFileSync(out, md + notes);
  console.error(`bench: wrote ${out} (${minutes.toFixed(1)} min)`);
}
