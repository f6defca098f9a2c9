// The task list: filters, newest first, progress bars with ETA, live through the tenant's SSE of task changes.
import { api, stream } from './api.js';
import { ago, duration, h, progressBar, shortId, statePill, STATES, TERMINAL } from './format.js';

const PAGE = 50;

export async function listView({ main, signal }, query) {
  const filter = { state: query.get('state') ?? '', type: query.get('type') ?? '', user: query.get('user') ?? '' };
  const types = await api('/v1/task-types', { signal }).catch(() => ({ items: [] }));
  const rows = new Map(); // id -> {view, tr}
  const tbody = h('tbody');
  const empty = h('p.empty', {}, 'No tasks yet. Submit one with the CLI: pnpm errand submit demo.sleep --params \'{"durationMs":20000}\'');
  const live = h('span.live', { title: 'changes are pushed to this page' }, 'live');
  let cursor = null;
  const more = h('button', { onclick: () => void load(cursor) }, 'Older tasks');

  main.append(
    h('div.toolbar', {},
      h('h1', {}, 'Tasks'), live,
      filters(filter, types.items.map((t) => t.name)),
    ),
    h('div.card.table-card', {},
      h('table.tasks', {},
        h('thead', {}, h('tr', {}, ['Task', 'Type', 'User', 'State', 'Progress', 'Submitted', 'Took'].map((c) => h('th', {}, c)))),
        tbody,
      ),
      empty,
    ),
    h('div.more', {}, more),
  );

  const params = () => new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
  const matches = (v) => (!filter.state || v.state === filter.state) && (!filter.type || v.type === filter.type) && (!filter.user || v.user === filter.user);

  function upsert(view, { append = false } = {}) {
    const old = rows.get(view.id);
    if (!matches(view)) {
      old?.tr.remove();
      rows.delete(view.id);
    } else {
      const tr = row(view);
      if (old) old.tr.replaceWith(tr);
      else if (append) tbody.append(tr);
      else tbody.prepend(tr);
      rows.set(view.id, { view, tr });
    }
    empty.hidden = rows.size > 0;
  }

  async function load(from) {
    const p = params();
    p.set('limit', String(PAGE));
    if (from) p.set('cursor', from);
    const page = await api(`/v1/tasks?${p}`, { signal });
    for (const v of page.items) if (!rows.has(v.id)) upsert(v, { append: true });
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = rows.size > 0;
  }

  await load(null);
  // ages and running times move on their own
  const tick = setInterval(() => { for (const { view, tr } of rows.values()) refreshTimes(view, tr); }, 1000);
  signal.addEventListener('abort', () => clearInterval(tick));
  const resync = () => {
    rows.clear();
    tbody.replaceChildren();
    void load(null);
  };
  let opened = false;
  void stream(`/v1/tasks?${params()}`, {
    signal,
    onOpen: () => {
      // after a dropped connection, changes may have been missed: load the list again
      if (opened) resync();
      opened = true;
      live.classList.add('on');
    },
    onEvent: (ev) => {
      if (ev.event === 'task') upsert(ev.data);
      else if (ev.event === 'resync') resync();
    },
  }).catch(() => live.classList.remove('on'));
}

function filters(filter, typeNames) {
  const go = () => {
    const p = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
    location.hash = `#/?${p}`;
  };
  const select = (name, options, label) =>
    h('label', {}, label,
      h('select', { name, onchange: (e) => { filter[name] = e.target.value; go(); } },
        h('option', { value: '' }, 'all'),
        options.map((o) => h('option', { value: o, selected: o === filter[name] }, o)),
      ));
  const user = h('input', { name: 'user', value: filter.user, placeholder: 'any user', size: 12 });
  return h('form.filters', { onsubmit: (e) => { e.preventDefault(); filter.user = user.value.trim(); go(); } },
    select('state', STATES, 'State '),
    select('type', typeNames, 'Type '),
    h('label', {}, 'User ', user),
  );
}

function took(v, now = Date.now()) {
  if (!v.startedAt) return TERMINAL.has(v.state) ? '—' : `waiting ${duration(now - Date.parse(v.createdAt))}`;
  const end = v.finishedAt ? Date.parse(v.finishedAt) : now;
  return duration(end - Date.parse(v.startedAt));
}

function row(v) {
  const tr = h('tr', { dataset: { id: v.id, state: v.state } },
    h('td', {}, h('a.mono', { href: `#/tasks/${v.id}`, title: v.id }, shortId(v.id))),
    h('td', {}, v.type),
    h('td', {}, v.user),
    h('td', {}, statePill(v.state), v.attempt > 1 ? h('span.attempt', { title: 'attempt' }, ` #${v.attempt}`) : null),
    h('td.progress-cell', {}, progressBar(v), v.waitingOn && !TERMINAL.has(v.state) ? h('div.why', {}, v.waitingOn.message) : null),
    h('td.when', { title: v.createdAt }, ago(v.createdAt)),
    h('td.took', {}, took(v)),
  );
  return tr;
}

function refreshTimes(v, tr) {
  const when = tr.querySelector('.when');
  if (when) when.textContent = ago(v.createdAt);
  const t = tr.querySelector('.took');
  if (t && !TERMINAL.has(v.state)) t.textContent = took(v);
}
