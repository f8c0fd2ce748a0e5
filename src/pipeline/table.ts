import type { SplitMetrics } from './evaluate.js';

/** Rows (raw pixels / untrained / trained) × splits (seen / unseen) of metrics. */
export type MetricsTable = Partial<Record<'raw' | 'untrained' | 'trained', Partial<Record<'seen' | 'unseen', SplitMetrics>>>>;

const ROW_NAMES: Record<string, string> = { raw: 'raw pixels', untrained: 'untrained network', trained: 'trained network' };
const COLS: [keyof SplitMetrics, string][] = [
  ['precisionAt1', 'P@1'],
  ['rPrecision', 'R-Prec'],
  ['mapAtR', 'MAP@R'],
  ['nmi', 'NMI'],
];

/** Formats a metrics table as fixed-width text, one row per model, seen and unseen splits side by side; `rowNames` renames rows (e.g. the baseline). */
export function formatMetricsTable(table: MetricsTable, labels: { seen: string; unseen: string }, rowNames: Partial<Record<'raw' | 'untrained' | 'trained', string>> = {}): string {
  const name = (key: string): string => rowNames[key as keyof typeof rowNames] ?? ROW_NAMES[key];
  const rowW = Math.max(19, ...Object.keys(ROW_NAMES).map((k) => name(k).length + 2));
  const colW = 8;
  const splitW = COLS.length * colW;
  const pad = (s: string, w: number): string => s.padEnd(w);
  const lines: string[] = [];
  lines.push(pad('', rowW) + pad(labels.seen, splitW) + '  ' + labels.unseen);
  lines.push(pad('', rowW) + COLS.map(([, h]) => pad(h, colW)).join('') + '  ' + COLS.map(([, h]) => pad(h, colW)).join(''));
  for (const key of ['raw', 'untrained', 'trained'] as const) {
    const row = table[key];
    if (!row) continue;
    const cells = (m?: SplitMetrics): string => COLS.map(([k]) => pad(m ? m[k].toFixed(3) : '-', colW)).join('');
    lines.push(pad(name(key), rowW) + cells(row.seen) + '  ' + cells(row.unseen));
  }
  return lines.join('\n');
}
