// The dashboard's shell: the API key (when the intake asks for one), the hash routes, one view at a time.
import { api, auth, ApiError } from './api.js';
import { h } from './format.js';
import { listView } from './list.js';
import { taskView } from './task.js';
import { typesView } from './types.js';
import { metricsView } from './metrics.js';

const main = document.getElementById('main');
let current; // AbortController of the view on screen: leaving it closes its streams

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const task = /^\/tasks\/([A-Za-z0-9_-]{1,64})$/.exec(hash);
  if (task) return { nav: 'tasks', render: (ctx) => taskView(ctx, task[1]) };
  if (hash === '/types') return { nav: 'types', render: typesView };
  if (hash === '/metrics') return { nav: 'metrics', render: metricsView };
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  return { nav: 'tasks', render: (ctx) => listView(ctx, q) };
}

async function show() {
  current?.abort();
  current = new AbortController();
  const { nav, render } = route();
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
  main.replaceChildren();
  try {
    await render({ main, signal: current.signal, unauthorized: askForKey });
  } catch (err) {
    if (current.signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) return askForKey();
    main.replaceChildren(h('div.card.error-card', {}, h('h2', {}, 'Something went wrong'), h('p', {}, err.message ?? String(err))));
  }
}

function showWho(devMode) {
  const who = document.getElementById('who');
  if (devMode) return who.replaceChildren(h('span.badge', {}, 'development mode'));
  const key = auth.key ?? '';
  who.replaceChildren(
    h('span.badge', { title: 'the API key in use' }, `key …${key.slice(-4)}`),
    h('button.link', { onclick: () => { auth.key = null; askForKey(); } }, 'change key'),
  );
}

function askForKey(message) {
  current?.abort();
  const dialog = document.getElementById('key-dialog');
  document.getElementById('key-error').textContent = message ?? '';
  if (!dialog.open) dialog.showModal();
}

document.getElementById('key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = document.getElementById('key-input');
  auth.key = input.value.trim();
  try {
    await api('/v1/task-types');
  } catch (err) {
    auth.key = null;
    document.getElementById('key-error').textContent = err.status === 401 ? 'That key is not known here.' : err.message;
    return;
  }
  input.value = '';
  document.getElementById('key-dialog').close();
  showWho(false);
  void show();
});

async function boot() {
  window.addEventListener('hashchange', () => void show());
  // development mode answers without a key; otherwise a stored key must still be valid
  const saved = auth.key;
  auth.key = null;
  try {
    await api('/v1/task-types');
    showWho(true);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    auth.key = saved;
    if (!saved) return askForKey();
    try {
      await api('/v1/task-types');
    } catch {
      auth.key = null;
      return askForKey('The saved key is no longer valid.');
    }
    showWho(false);
  }
  void show();
}

void boot();
