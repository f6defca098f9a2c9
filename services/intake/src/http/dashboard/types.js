// Task types: what they take, their defaults and observed durations, and (when the intake knows) live workers and free slots.
import { api, stream } from './api.js';
import { ago, duration, h } from './format.js';

export async function typesView({ main, signal }) {
  const grid = h('div.cards');
  main.append(h('div.toolbar', {}, h('h1', {}, 'Task types')), grid);
  const render = async () => {
    const { items } = await api('/v1/task-types', { signal });
    grid.replaceChildren(...items.map(card));
  };
  await render();
  // observed durations change as tasks end: follow the task changes, reload at most every 2 s
  let timer;
  void stream('/v1/tasks', {
    signal,
    onEvent: () => {
      if (!timer) timer = setTimeout(() => { timer = undefined; void render().catch(() => undefined); }, 2000);
    },
  }).catch(() => undefined);
}

function card(t) {
  const live = t.live === undefined ? null : t.live;
  const props = Object.keys(t.paramsSchema?.properties ?? {});
  const d = t.observedDurationMs ?? {};
  return h('section.card.type', { dataset: { type: t.name } },
    h('h2', {}, h('span.mono', {}, t.name), ' ',
      live === null ? null : h(`span.pill.${live ? 's-completed' : 's-failed'}`, {}, live ? 'live' : 'offline')),
    t.description ? h('p', {}, t.description) : null,
    h('dl.facts', {},
      fact('pool', t.pool),
      t.workers !== undefined ? fact('workers', String(t.workers)) : null,
      t.freeSlots !== undefined ? fact('free slots', String(t.freeSlots)) : null,
      t.lastSeenAt ? fact('last seen', ago(t.lastSeenAt)) : null,
      fact('params', props.length ? props.join(', ') : 'none'),
      fact('timeout', duration(t.defaults?.timeoutMs)),
      fact('priority', String(t.defaults?.priority ?? '—')),
      fact('attempts', String(t.defaults?.maxAttempts ?? '—')),
      fact('typical run', d.count ? `p50 ${duration(d.p50)} · p95 ${duration(d.p95)} (${d.count} ${d.count === 1 ? 'run' : 'runs'})` : 'no runs yet'),
    ),
  );
}

function fact(k, v) {
  return [h('dt', {}, k), h('dd', {}, v)];
}
