/** Small SVG charts written as strings: no scripts, no external resources. */

/** Ten distinguishable colours, one per class label (cycled beyond ten). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Colour of a label. */
export function labelColor(label: number): string {
  return PALETTE[((label % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** Escapes text for HTML/SVG content and attributes. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/** One named line of a {@link lineChart}. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** A line chart of one or more series with axes, ticks and a legend. */
export function lineChart(series: Series[], { title, xLabel = 'epoch', width = 480, height = 260 }: { title: string; xLabel?: string; width?: number; height?: number }): string {
  const pad = { l: 52, r: 12, t: 28, b: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<svg width="${width}" height="${height}" role="img"><text x="10" y="20">${esc(title)}: no data</text></svg>`;
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number): number => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  const parts: string[] = [`<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  parts.push(`<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#444"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#444"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<text x="${pad.l - 4}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`);
    const x = x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${sx(x)}" y="${height - pad.b + 14}" text-anchor="middle">${fmt(x)}</text>`);
  }
  parts.push(`<text x="${(pad.l + width - pad.r) / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(s.name)} ${fmt(x)}: ${y}</title></circle>`);
    parts.push(`<rect x="${pad.l + 8}" y="${pad.t + 4 + i * 14}" width="10" height="3" fill="${color}"/><text x="${pad.l + 22}" y="${pad.t + 9 + i * 14}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A scatter plot of 2-D points coloured by label, with a legend of label names. */
export function scatterPlot(xy: ArrayLike<number>, labels: ArrayLike<number>, names: (label: number) => string, { title = '', size = 520 } = {}): string {
  const n = labels.length;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, xy[2 * i]); x1 = Math.max(x1, xy[2 * i]);
    y0 = Math.min(y0, xy[2 * i + 1]); y1 = Math.max(y1, xy[2 * i + 1]);
  }
  const span = Math.max(x1 - x0, y1 - y0, 1e-9);
  const pad = 12;
  const s = (v: number, lo: number): number => pad + ((v - lo) / span) * (size - 2 * pad);
  const parts = [`<svg width="${size + 150}" height="${size}" viewBox="0 0 ${size + 150} ${size}" role="img" aria-label="${esc(title)}" font-family="sans-serif" font-size="11">`];
  for (let i = 0; i < n; i++) {
    parts.push(`<circle cx="${s(xy[2 * i], x0).toFixed(1)}" cy="${s(xy[2 * i + 1], y0).toFixed(1)}" r="2.2" fill="${labelColor(labels[i])}" fill-opacity="0.75"/>`);
  }
  const distinct = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  distinct.forEach((l, i) => {
    parts.push(`<circle cx="${size + 12}" cy="${16 + i * 16}" r="5" fill="${labelColor(l)}"/><text x="${size + 22}" y="${20 + i * 16}">${esc(names(l))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
