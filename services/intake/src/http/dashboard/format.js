// Small pure helpers: readable durations, DOM building, state colours.

/** 1234 -> "1.2 s", 95000 -> "1 min 35 s", 7200000 -> "2 h 0 min". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const sec = Math.round(s - m * 60);
  if (m < 60) return sec ? `${m} min ${sec} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m - h * 60 ? `${h} h ${m - h * 60} min` : `${h} h`;
}

/** "12 s ago", "3 min ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  return ms < 1500 ? 'just now' : `${duration(ms).replace(/\.\d/, '')} ago`;
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed-out', 'rejected']);
export const STATES = ['submitted', 'queued', 'dispatched', 'running', 'retrying', 'completed', 'failed', 'cancelled', 'timed-out', 'rejected'];

/** Create an element: h('a.link', {href}, child, ...). Strings become text (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function statePill(state) {
  return h(`span.pill.s-${state}`, {}, state);
}

/** A progress bar with its percent, and the ETA while the task runs. */
export function progressBar(view, { big = false } = {}) {
  const pct = Math.max(0, Math.min(100, Math.round(view.progress?.percent ?? 0)));
  const running = view.state === 'running';
  const fill = h(`div.fill.s-${view.state}`, { style: `width:${pct}%` });
  const eta = running && view.progress?.etaMs != null ? `${duration(view.progress.etaMs)} left` : '';
  return h(`div.progress${big ? '.big' : ''}`, { role: 'progressbar', 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 },
    h('div.track', {}, fill),
    h('span.pct', {}, `${pct}%`),
    eta ? h('span.eta', {}, eta) : null,
  );
}

export function shortId(id) {
  return id.length > 12 ? `${id.slice(0, 12)}…` : id;
}
