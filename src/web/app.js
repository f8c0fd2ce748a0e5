// akin projector: the indexed items laid out in 2-D (UMAP), coloured by label. Hover shows an item,
// click searches its nearest neighbours (POST /search by id) and shows them as a grid.
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const color = (label) => PALETTE[((label % 10) + 10) % 10];
const params = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
const token = params.get('token');
const headers = token ? { authorization: `Bearer ${token}` } : {};

const canvas = document.getElementById('plot');
const ctx2d = canvas.getContext('2d');
const statusEl = document.getElementById('status');
const tip = document.getElementById('tip');
let points = [];
let classNames = null;
let hasThumbs = false;
const thumbCache = new Map();

async function api(path, body) {
  const res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

/** A URL for an item's thumbnail (fetched with the token when one is needed). */
async function thumb(id) {
  if (!hasThumbs) return null;
  if (!token) return `api/thumb/${encodeURIComponent(id)}`;
  if (!thumbCache.has(id)) {
    const res = await fetch(`api/thumb/${encodeURIComponent(id)}`, { headers });
    thumbCache.set(id, res.ok ? URL.createObjectURL(await res.blob()) : null);
  }
  return thumbCache.get(id);
}

const name = (label) => (classNames && classNames[label] !== undefined ? classNames[label] : String(label));

function toCanvas(p) {
  return [p.px * (canvas.width - 20) + 10, p.py * (canvas.height - 20) + 10];
}

function draw(highlight = new Set()) {
  ctx2d.clearRect(0, 0, canvas.width, canvas.height);
  for (const p of points) {
    const [x, y] = toCanvas(p);
    ctx2d.fillStyle = color(p.label);
    ctx2d.globalAlpha = highlight.size && !highlight.has(p.id) ? 0.25 : 0.85;
    ctx2d.beginPath();
    ctx2d.arc(x, y, highlight.has(p.id) ? 5 : 2.5, 0, Math.PI * 2);
    ctx2d.fill();
  }
  ctx2d.globalAlpha = 1;
}

function nearestPoint(ev) {
  const rect = canvas.getBoundingClientRect();
  const mx = ((ev.clientX - rect.left) * canvas.width) / rect.width;
  const my = ((ev.clientY - rect.top) * canvas.height) / rect.height;
  let best = null;
  let bestD = 8 * 8;
  for (const p of points) {
    const [x, y] = toCanvas(p);
    const d = (x - mx) ** 2 + (y - my) ** 2;
    if (d < bestD) { bestD = d; best = p; }
  }
  return best;
}

async function cell(id, label, caption, cls) {
  const div = document.createElement('div');
  div.className = `cell ${cls}`;
  div.dataset.id = String(id);
  const src = await thumb(id);
  if (src) {
    const img = document.createElement('img');
    img.src = src;
    img.alt = name(label);
    div.append(img);
  }
  const text = document.createElement('div');
  text.textContent = caption;
  div.append(text);
  return div;
}

async function searchFrom(p) {
  const title = document.getElementById('results-title');
  const out = document.getElementById('results');
  title.textContent = `Neighbours of #${p.id} (${name(p.label)})`;
  try {
    const { results } = await api('search', { id: p.id, k: 12 });
    const cells = [await cell(p.id, p.label, `query #${p.id}`, 'query')];
    for (const h of results) {
      const label = h.metadata?.label;
      cells.push(await cell(h.id, label, `#${h.id} ${name(label)} ${h.score.toFixed(3)}`, label === p.label ? 'same' : 'diff'));
    }
    out.replaceChildren(...cells);
    draw(new Set([p.id, ...results.map((h) => h.id)]));
    statusEl.textContent = `${results.length} neighbours of #${p.id}`;
  } catch (e) {
    statusEl.textContent = `search failed: ${e.message}`;
  }
}

canvas.addEventListener('mousemove', async (ev) => {
  const p = nearestPoint(ev);
  if (!p) { tip.hidden = true; return; }
  tip.style.left = `${ev.clientX + 14}px`;
  tip.style.top = `${ev.clientY + 14}px`;
  document.getElementById('tip-text').textContent = `#${p.id} ${name(p.label)}`;
  const img = document.getElementById('tip-img');
  const src = await thumb(p.id);
  img.hidden = !src;
  if (src) img.src = src;
  tip.hidden = false;
});
canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
canvas.addEventListener('click', (ev) => {
  const p = nearestPoint(ev);
  if (p) searchFrom(p);
});

async function start() {
  try {
    const info = await api('info');
    const layout = await api('api/points');
    classNames = layout.classNames ?? info.classNames ?? null;
    hasThumbs = layout.thumbnails;
    const xs = layout.points.map((p) => p.x);
    const ys = layout.points.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const span = Math.max(x1 - x0, y1 - y0) || 1;
    points = layout.points.map((p) => ({ ...p, px: (p.x - x0) / span, py: (p.y - y0) / span }));
    draw();
    const labels = [...new Set(points.map((p) => p.label))].sort((a, b) => a - b);
    document.getElementById('legend').replaceChildren(...labels.map((l) => {
      const s = document.createElement('span');
      s.style.setProperty('--c', color(l));
      s.textContent = name(l);
      return s;
    }));
    statusEl.textContent = `${points.length} of ${info.index.size} items (${info.index.kind} index, dim ${info.index.dim})`;
    document.body.dataset.ready = 'true';
  } catch (e) {
    statusEl.textContent = `failed to load: ${e.message}`;
  }
}

start();
