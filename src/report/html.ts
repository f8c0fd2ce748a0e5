import type * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fs.js';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { ExactIndex } from '../search/exact.js';
import { imageDataUri } from './png.js';
import { project2d } from './projection.js';
import { esc, labelColor, lineChart, scatterPlot, type Series } from './svg.js';

/** What {@link writeRunReport} needs. */
export interface RunReportInput {
  /** The run folder: `log.jsonl` is read from it, `report.html` written into it. */
  runDir: string;
  /** The run's config (shown as JSON). */
  config: { name?: string; seed?: number } & Record<string, unknown>;
  /** The metrics table (rows such as raw/untrained/trained, columns per split). */
  metrics: object;
  /** The trained embedding network. */
  model: tf.LayersModel;
  /** Labelled data to project and search (e.g. the unseen-class test set). */
  data: Dataset;
  /** What `data` is, for headings. Default `'test data'`. */
  dataName?: string;
  /** Points in the 2-D projection (evenly spaced subsample). Default 800. */
  maxPoints?: number;
  /** Queries in the nearest-neighbour grids. Default 6. */
  queries?: number;
  /** Neighbours per query. Default 8. */
  neighbours?: number;
  /** Seed of the projection. Default: the config's seed, else 0. */
  seed?: number;
  /** UMAP epochs. Default 200. */
  projectionEpochs?: number;
}

/** Reads the per-epoch records of a run's `log.jsonl` (missing file: none). */
export function readEpochLog(runDir: string): Record<string, number>[] {
  const path = join(runDir, 'log.jsonl');
  if (!existsSync(path)) return [];
  const out: Record<string, number>[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.event !== 'epoch') continue;
      const nums: Record<string, number> = {};
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'number') nums[k] = v;
      out.push(nums);
    } catch {
      // a torn last line of a killed run: skip it
    }
  }
  // A resumed run logs epochs again: keep the last record of each epoch.
  const byEpoch = new Map<number, Record<string, number>>();
  for (const r of out) byEpoch.set(r.epoch, r);
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** Evenly spaced indices: at most `m` of `0..n-1`. */
function spaced(n: number, m: number): number[] {
  if (n <= m) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

type Table = Record<string, Record<string, Record<string, unknown> | undefined> | undefined>;

function metricsTable(metrics: object): string {
  const rows = Object.entries(metrics as Table).filter(([, v]) => v && typeof v === 'object');
  if (rows.length === 0) return '<p>No metrics.</p>';
  const splits = [...new Set(rows.flatMap(([, v]) => Object.keys(v!)))];
  const cols = splits.map((s) => [s, [...new Set(rows.flatMap(([, v]) => Object.keys(v![s] ?? {})))]] as const);
  const head1 = cols.map(([s, keys]) => `<th colspan="${keys.length}">${esc(s)}</th>`).join('');
  const head2 = cols.map(([, keys]) => keys.map((k) => `<th>${esc(k)}</th>`).join('')).join('');
  const body = rows.map(([name, v]) => `<tr><th>${esc(name)}</th>${cols.map(([s, keys]) => keys.map((k) => {
    const x = v![s]?.[k];
    return `<td>${typeof x === 'number' ? x.toFixed(4) : '-'}</td>`;
  }).join('')).join('')}</tr>`).join('');
  return `<table><thead><tr><th></th>${head1}</tr><tr><th></th>${head2}</tr></thead><tbody>${body}</tbody></table>`;
}

/**
 * The HTML of a run report: config, loss and validation curves per epoch (from `log.jsonl`), the
 * metrics table, a seeded 2-D UMAP projection of `data`'s embeddings coloured by label, and
 * nearest-neighbour grids (thumbnails inline as data URIs for image data). Self-contained: no
 * scripts or styles from the network; opens from disk.
 */
export async function buildRunReport(input: RunReportInput): Promise<string> {
  const { data } = input;
  const dataName = input.dataName ?? 'test data';
  const epochs = readEpochLog(input.runDir);
  const keys = [...new Set(epochs.flatMap((e) => Object.keys(e)))].filter((k) => k !== 'epoch' && k !== 'seconds');
  const curve = (k: string): [number, number][] => epochs.filter((e) => typeof e[k] === 'number').map((e) => [e.epoch + 1, e[k]]);
  const lossSeries: Series[] = keys.filter((k) => /loss/i.test(k)).map((k) => ({ name: k, points: curve(k) }));
  const valSeries: Series[] = keys.filter((k) => !/loss/i.test(k)).map((k) => ({ name: k, points: curve(k) }));

  const { embeddings, dim } = await embed(input.model, data.features, data.count, data.shape);
  const name = (l: number): string => data.classNames?.[l] ?? String(l);

  const pick = spaced(data.count, input.maxPoints ?? 800);
  const sub = new Float32Array(pick.length * dim);
  pick.forEach((r, i) => sub.set(embeddings.subarray(r * dim, (r + 1) * dim), i * dim));
  const xy = project2d(sub, dim, { seed: input.seed ?? input.config.seed ?? 0, nEpochs: input.projectionEpochs });
  const scatter = scatterPlot(xy, pick.map((r) => data.labels[r]), name, { title: `UMAP of ${dataName}` });

  const index = new ExactIndex({ metric: 'cosine' });
  await index.add(embeddings, dim, Array.from({ length: data.count }, (_, i) => i));
  const size = sampleSize(data);
  const thumb = (r: number): string => {
    const uri = imageDataUri(data.features.subarray(r * size, (r + 1) * size), data.shape);
    return uri ? `<img src="${uri}" width="56" height="56" alt="${esc(name(data.labels[r]))}">` : `<span class="nothumb">#${r}</span>`;
  };
  const k = input.neighbours ?? 8;
  const grids: string[] = [];
  for (const q of spaced(data.count, input.queries ?? 6)) {
    const hits = (await index.search(embeddings.subarray(q * dim, (q + 1) * dim), k + 1)).filter((h) => h.id !== q).slice(0, k);
    const cells = hits.map((h) => {
      const r = h.id as number;
      const same = data.labels[r] === data.labels[q];
      return `<figure class="${same ? 'same' : 'diff'}">${thumb(r)}<figcaption>${esc(name(data.labels[r]))}<br>${h.score.toFixed(3)}</figcaption></figure>`;
    });
    grids.push(`<div class="grid"><figure class="query">${thumb(q)}<figcaption>query #${q}<br>${esc(name(data.labels[q]))}</figcaption></figure>${cells.join('')}</div>`);
  }

  const title = `akin run report: ${input.config.name ?? 'run'}`;
  const curvesJson = JSON.stringify(epochs).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.grid{display:flex;gap:6px;margin:8px 0;align-items:flex-start}
figure{margin:0;text-align:center;font-size:11px;border:3px solid transparent;padding:2px}
figure.query{border-color:#333}figure.same{border-color:#2ca02c}figure.diff{border-color:#d62728}
img{image-rendering:pixelated;display:block}.nothumb{display:inline-block;width:56px;height:56px;background:#eee}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Written ${esc(new Date().toISOString())}. Opens offline: every chart and image is inline.</p>
<h2>Training curves</h2>
<div class="charts">${epochs.length ? lineChart(lossSeries, { title: 'loss per epoch' }) + (valSeries.length ? lineChart(valSeries, { title: 'validation metrics per epoch' }) : '') : '<p>No log.jsonl epochs.</p>'}</div>
<script type="application/json" id="curves">${curvesJson}</script>
<h2>Metrics</h2>
${metricsTable(input.metrics)}
<h2>Embeddings of ${esc(dataName)} (${pick.length} of ${data.count} points, UMAP, seeded)</h2>
${scatter}
<h2>Nearest neighbours in ${esc(dataName)} (cosine; green: same label, red: different)</h2>
${grids.join('\n')}
<h2>Config</h2>
<pre>${esc(JSON.stringify(input.config, null, 2))}</pre>
<p class="legend">${[...new Set(Array.from(data.labels))].sort((a, b) => a - b).map((l) => `<span style="color:${labelColor(l)}">&#9679; ${esc(name(l))}</span>`).join(' ')}</p>
</body></html>
`;
}

/** Builds the run report and writes it atomically to `runDir/report.html`; returns the path. */
export async function writeRunReport(input: RunReportInput): Promise<string> {
  const html = await buildRunReport(input);
  const path = join(input.runDir, 'report.html');
  writeFileAtomic(path, html);
  return path;
}
