// One task's page: state, live progress, why it waits, its timeline, events, deliveries, result; cancel and retry.
import { api, stream } from './api.js';
import { duration, h, progressBar, statePill, TERMINAL } from './format.js';
import { timeline } from './timeline.js';

const RETRYABLE = new Set(['failed', 'timed-out', 'cancelled']);

export async function taskView({ main, signal }, id) {
  let view = await api(`/v1/tasks/${id}`, { signal });
  const events = [];
  const parts = {
    head: h('div'), progress: h('div'), waiting: h('div'), timeline: h('div'),
    result: h('div'), deliveries: h('div'), events: h('div'),
  };
  main.append(
    h('p.crumbs', {}, h('a', { href: '#/' }, '← Tasks')),
    parts.head,
    h('div.grid', {},
      h('div.col', {}, parts.progress, parts.waiting, parts.timeline, parts.result),
      h('div.col', {}, parts.deliveries, parts.events),
    ),
  );

  const render = () => {
    parts.head.replaceChildren(header(view, { cancel, retry }));
    parts.progress.replaceChildren(progressCard(view));
    parts.waiting.replaceChildren(waitingCard(view));
    parts.timeline.replaceChildren(timelineCard(events, view));
    parts.result.replaceChildren(resultCard(view));
    parts.deliveries.replaceChildren(deliveriesCard(view));
    parts.events.replaceChildren(eventsCard(events));
    // the newest event is the one to see
    const ol = parts.events.querySelector('ol.events');
    if (ol) ol.scrollTop = ol.scrollHeight;
  };
  let pending;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      view = await api(`/v1/tasks/${id}`, { signal }).catch(() => view);
      render();
    }, 150);
  };
  async function cancel() {
    await api(`/v1/tasks/${id}/cancel`, { method: 'POST', body: {} }).catch((e) => alert(e.message));
    refresh();
  }
  async function retry() {
    await api(`/v1/tasks/${id}/retry`, { method: 'POST', body: {} }).catch((e) => alert(e.message));
    // the event stream ended with the task: open the page again to follow the new attempt
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }

  render();
  const tick = setInterval(() => { if (!TERMINAL.has(view.state)) parts.timeline.replaceChildren(timelineCard(events, view)); }, 1000);
  signal.addEventListener('abort', () => { clearInterval(tick); clearTimeout(pending); });
  void stream(`/v1/tasks/${id}/events`, {
    signal,
    reconnect: !TERMINAL.has(view.state),
    onEvent: ({ data: e }) => {
      events.push(e);
      if (e.type === 'progress' && !TERMINAL.has(view.state) && e.attempt >= view.attempt) {
        view = { ...view, state: 'running', progress: { percent: e.percent, message: e.message ?? null, etaMs: e.etaMs ?? null } };
        render();
      } else {
        render();
        refresh();
      }
    },
    onEnd: refresh,
  });
}

function header(v, { cancel, retry }) {
  return h('div.task-head', {},
    h('div', {},
      h('h1', {}, v.type, ' ', statePill(v.state)),
      h('p.meta', {},
        h('span.mono', {}, v.id), ` · user ${v.user} · priority ${v.priority} · attempt ${v.attempt}`,
        ` · submitted ${new Date(v.createdAt).toLocaleString()}`),
    ),
    h('div.actions', {},
      !TERMINAL.has(v.state) ? h('button.danger', { onclick: cancel, 'data-action': 'cancel' }, 'Cancel') : null,
      RETRYABLE.has(v.state) ? h('button.primary', { onclick: retry, 'data-action': 'retry' }, 'Retry') : null,
    ),
  );
}

function progressCard(v) {
  const msg = v.progress?.message;
  return h('section.card', {}, h('h2', {}, 'Progress'), progressBar(v, { big: true }),
    msg ? h('p.progress-msg', {}, msg) : null,
    v.error ? h('p.error', {}, `${v.error.code}: ${v.error.message}`) : null);
}

function waitingCard(v) {
  if (!v.waitingOn || TERMINAL.has(v.state)) return h('span');
  const w = v.waitingOn;
  return h('section.card.waiting', {}, h('h2', {}, 'Why it waits'),
    h('p', {}, w.message),
    h('p.meta', {}, `reason: ${w.reason}`, w.ahead !== undefined ? ` · ${w.ahead} ahead` : '', w.until ? ` · next attempt ${new Date(w.until).toLocaleTimeString()}` : ''));
}

function timelineCard(events, v) {
  const segs = timeline(events);
  const total = segs.reduce((a, s) => a + (s.to - s.from), 0) || 1;
  return h('section.card', {}, h('h2', {}, 'Timeline'),
    h('div.tl-bar', {}, segs.map((s) => h(`div.tl-seg.${s.kind}${s.open ? '.open' : ''}`, { style: `flex:${Math.max(s.to - s.from, total / 200)}`, title: `${s.label}: ${duration(s.to - s.from)}` }))),
    h('ol.tl', {}, segs.map((s) => h(`li.${s.kind}`, {},
      h('span.tl-label', {}, s.label),
      h('span.tl-dur', {}, duration(s.to - s.from), s.open ? ' so far' : ''),
      s.outcome ? h('span.tl-out', {}, s.outcome) : null))),
    h('p.meta', {}, `wait ${duration(v.waitMs)} · run ${duration(v.runMs)}`));
}

function resultCard(v) {
  const has = v.result !== undefined || v.partialResult !== undefined;
  if (!has) return h('span');
  const partial = v.result === undefined;
  return h('section.card', { 'data-result': partial ? 'partial' : 'final' },
    h('h2', {}, partial ? 'Partial result' : 'Result'),
    partial ? h('p.meta', {}, `the last checkpoint before the task ended ${v.state}`) : null,
    h('pre.json', {}, JSON.stringify(partial ? v.partialResult : v.result, null, 2)));
}

function deliveriesCard(v) {
  if (!v.deliveries.length) return h('span');
  return h('section.card', {}, h('h2', {}, 'Deliveries'),
    h('table.small', {}, h('tbody', {}, v.deliveries.map((d) => h('tr', {},
      h('td', {}, d.name ?? d.kind), h('td', {}, h(`span.pill.d-${d.state}`, {}, d.state)),
      h('td', {}, `${d.tries} ${d.tries === 1 ? 'try' : 'tries'}`), h('td.error', {}, d.lastError ?? ''))))));
}

function eventsCard(events) {
  const t0 = events.length ? Date.parse(events[0].at) : 0;
  return h('section.card', {}, h('h2', {}, `Events (${events.length})`),
    h('ol.events', {}, events.slice(-200).map((e) => h('li', {},
      h('span.ev-time', { title: e.at }, `+${duration(Date.parse(e.at) - t0)}`),
      h(`span.ev-type.e-${e.type}`, {}, e.type),
      h('span.ev-text', {}, describe(e))))));
}

function describe(e) {
  switch (e.type) {
    case 'submitted': return `by ${e.user}, priority ${e.priority}`;
    case 'queued': return `position ${e.position}`;
    case 'dispatched': return `attempt ${e.attempt} to pool ${e.pool}`;
    case 'started': return `attempt ${e.attempt} on ${e.workerId}${e.resumedFrom ? ', resumed from a checkpoint' : ''}`;
    case 'progress': return `${Math.round(e.percent)}%${e.message ? ` ${e.message}` : ''}${e.etaMs != null ? `, ${duration(e.etaMs)} left` : ''}`;
    case 'checkpoint': return `${e.bytes} bytes`;
    case 'failed': return `${e.error.code}: ${e.error.message}${e.willRetry ? ' (will retry)' : ''}`;
    case 'retry-scheduled': return `attempt ${e.attempt} at ${new Date(e.notBefore).toLocaleTimeString()}`;
    case 'cancel-requested': return e.reason ?? '';
    case 'timed-out': return `after ${duration(e.timeoutMs)}`;
    case 'rejected': return `${e.code}: ${e.message}`;
    case 'delivered': case 'delivery-failed': return `${e.target.name ?? e.target.kind} (${e.of})${e.error ? `: ${e.error}` : ''}`;
    default: return '';
  }
}
