// The metrics summary (GET /v1/metrics/summary) as figures and charts (chart.js, served by the intake).
import { api, stream } from './api.js';
import { duration, h } from './format.js';

const COLORS = { p50: '#4f7cff', p95: '#b4c6ff', avg: '#4f7cff', fail: '#e5484d' };

export async function metricsView({ main, signal }) {
  const body = h('div');
  main.append(h('div.toolbar', {}, h('h1', {}, 'Metrics'), h('span.meta', {}, 'completion time, queue wait and failure rate by task type (the last 1,000 tasks of each)')), body);
  const charts = [];
  const render = async () => {
    const { byType } = await api('/v1/metrics/summary', { signal });
    for (const c of charts.splice(0)) c.destroy();
    const types = Object.keys(byType);
    if (!types.length) return body.replaceChildren(h('p.empty', {}, 'No task has ended yet.'));
    const canvases = { run: h('canvas'), wait: h('canvas'), fail: h('canvas') };
    body.replaceChildren(
      h('div.cards', {},
        h('section.card.chart', {}, h('h2', {}, 'Completion time'), canvases.run),
        h('section.card.chart', {}, h('h2', {}, 'Queue wait'), canvases.wait),
        h('section.card.chart', {}, h('h2', {}, 'Failure rate'), canvases.fail),
      ),
      h('section.card.table-card', {}, h('table.tasks', {},
        h('thead', {}, h('tr', {}, ['Type', 'Ended', 'Completion avg', 'p50', 'p95', 'Wait avg', 'Wait p95', 'Failure rate'].map((c) => h('th', {}, c)))),
        h('tbody', {}, types.map((t) => {
          const m = byType[t];
          return h('tr', { dataset: { type: t } }, h('td.mono', {}, t), h('td', {}, m.terminal),
            h('td', {}, duration(m.completionMs.avg)), h('td', {}, duration(m.completionMs.p50)), h('td', {}, duration(m.completionMs.p95)),
            h('td', {}, duration(m.queueWaitMs.avg)), h('td', {}, duration(m.queueWaitMs.p95)),
            h('td', {}, m.failureRate === null ? '—' : `${(m.failureRate * 100).toFixed(1)}%`));
        })))),
    );
    if (!window.Chart) return; // chart.js failed to load: the table still says it all
    const secs = (v) => (v === null ? null : v / 1000);
    charts.push(bar(canvases.run, types, [
      { label: 'p50 (s)', data: types.map((t) => secs(byType[t].completionMs.p50)), backgroundColor: COLORS.p50 },
      { label: 'p95 (s)', data: types.map((t) => secs(byType[t].completionMs.p95)), backgroundColor: COLORS.p95 },
    ]));
    charts.push(bar(canvases.wait, types, [
      { label: 'avg (s)', data: types.map((t) => secs(byType[t].queueWaitMs.avg)), backgroundColor: COLORS.avg },
      { label: 'p95 (s)', data: types.map((t) => secs(byType[t].queueWaitMs.p95)), backgroundColor: COLORS.p95 },
    ]));
    charts.push(bar(canvases.fail, types, [
      { label: 'failure rate (%)', data: types.map((t) => (byType[t].failureRate ?? 0) * 100), backgroundColor: COLORS.fail },
    ], 100));
  };
  await render();
  signal.addEventListener('abort', () => { for (const c of charts) c.destroy(); });
  // a task that ends changes the figures: reload them (at most once a second)
  let timer;
  void stream('/v1/tasks', {
    signal,
    onEvent: (ev) => {
      if (ev.event !== 'task' || !['completed', 'failed', 'cancelled', 'timed-out', 'rejected'].includes(ev.data.state)) return;
      if (!timer) timer = setTimeout(() => { timer = undefined; void render().catch(() => undefined); }, 1000);
    },
  }).catch(() => undefined);
}

function bar(canvas, labels, datasets, max) {
  return new window.Chart(canvas, {
    type: 'bar',
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { position: 'bottom' } },
      scales: { y: { beginAtZero: true, ...(max ? { max } : {}) } },
    },
  });
}
