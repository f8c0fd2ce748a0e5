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

/** Formats a metrics table as fixed-width text, one row per model, seen and unseen splits side by side. */
export function formatMetricsTable(table: MetricsTable, labels: { seen: string; unseen: string }): string {
  const rowW = 19;
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
    lines.push(pad(ROW_NAMES[key], rowW) + cells(row.seen) + '  ' + cells(row.unseen));
  }
  return lines.join('\n');
}
