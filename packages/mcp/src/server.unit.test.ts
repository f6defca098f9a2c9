import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, ToolListChangedNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { ErrandError, isTerminalState, type SubmitBody, type TaskView } from '@errand/contracts';
import type { ErrandBackend, TaskTypeEntry } from './backend.ts';
import { createErrandMcpServer } from './server.ts';

/**
 * An in-memory Errand for one tenant: the test moves its tasks along with
 * `set`. It stands in for the backend interface only (the real backends are
 * tested end to end against the real system).
 */
class FakeErrand implements ErrandBackend {
  readonly views = new Map<string, TaskView>();
  readonly submitted: SubmitBody[] = [];
  types: TaskTypeEntry[] = [{ name: 'demo.sleep', paramsSchema: { type: 'object', properties: { durationMs: { type: 'integer' } } } }];
  private readonly watchers = new Set<() => void>();
  private readonly typeListeners = new Set<() => void>();

  set(id: string, over: Partial<TaskView>): void {
    this.views.set(id, { ...this.views.get(id)!, ...over });
    for (const w of [...this.watchers]) w();
  }
  setTypes(types: TaskTypeEntry[]): void {
    this.types = types;
    for (const l of this.typeListeners) l();
  }

  async submit(body: SubmitBody) {
    if (body.type === 'demo.sleep' && (body.params as { durationMs?: unknown }).durationMs === -1) throw new ErrandError('invalid', 'durationMs must be >= 0');
    const id = `T${this.views.size + 1}`;
    this.submitted.push(body);
    const at = new Date().toISOString();
    this.views.set(id, {
      id, type: body.type, tenant: 'acme', user: body.user ?? 'default', priority: 5, state: 'queued', attempt: 1,
      progress: { percent: 0, message: null, etaMs: null }, createdAt: at, queuedAt: at, startedAt: null, finishedAt: null,
      waitMs: null, runMs: null, deliveries: [],
    });
    return { id, state: 'queued' as const };
  }
  async get(id: string) {
    const v = this.views.get(id);
    if (!v) throw new ErrandError('not_found', `no task ${id}`);
    return { ...v };
  }
  async *follow(id: string, signal: AbortSignal) {
    let v = await this.get(id);
    yield v;
    while (!isTerminalState(v.state) && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.watchers.delete(wake);
          resolve();
        };
        this.watchers.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
      if (signal.aborted) return;
      v = await this.get(id);
      yield v;
    }
  }
  async cancel(id: string) {
    this.set(id, { state: 'cancelled', finishedAt: new Date().toISOString() });
    return { id, state: 'cancelled' as const };
  }
  async retry(id: string) {
    return { id, state: 'retrying' as const };
  }
  async list() {
    return { items: [...this.views.values()], nextCursor: null };
  }
  async taskTypes() {
    return this.types;
  }
  onTypesChange(listener: () => void) {
    this.typeListeners.add(listener);
    return () => this.typeListeners.delete(listener);
  }
}

async function connected(errand: FakeErrand, budgetMs = 5_000): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await createErrandMcpServer(errand, { budgetMs, historyDays: 30 }).connect(a);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(b);
  return client;
}

const running = (percent: number, attempt = 1): Partial<TaskView> => ({
  state: 'running', attempt, startedAt: new Date().toISOString(), progress: { percent, message: null, etaMs: 60_000 },
});

describe('a plain tool call', () => {
  it('passes params and errand settings to the submit, and answers an ended task inline', async () => {
    const errand = new FakeErrand();
    const client = await connected(errand);
    const call = client.callTool({ name: 'demo_sleep', arguments: { durationMs: 5, errand: { user: 'u1', priority: 'high', budgetMs: 5_000 } } });
    await expectSoon(() => errand.views.size === 1);
    errand.set('T1', { state: 'completed', result: { ok: true } });
    const res = await call;
    expect(errand.submitted[0]).toEqual({ type: 'demo.sleep', params: { durationMs: 5 }, user: 'u1', priority: 'high' });
    expect(res.structuredContent).toEqual({ id: 'T1', state: 'completed', result: { ok: true } });
    expect(res.isError).toBeFalsy();
  });

  it('answers isError for a failed task, and for a refused submit', async () => {
    const errand = new FakeErrand();
    const client = await connected(errand);
    const call = client.callTool({ name: 'demo_sleep', arguments: { durationMs: 5 } });
    await expectSoon(() => errand.views.size === 1);
    errand.set('T1', { state: 'failed', error: { code: 'boom', message: 'the disk is full' } });
    const res = await call;
    expect(res.isError).toBe(true);
    expect((res.content as { text: string }[])[0]!.text).toMatch(/failed: the disk is full/);
    const refused = await client.callTool({ name: 'demo_sleep', arguments: { durationMs: -1 } });
    expect([refused.isError, (refused.structuredContent as { error: { code: string } }).error.code]).toEqual([true, 'invalid']);
    const bad = await client.callTool({ name: 'demo_sleep', arguments: { errand: { budgetMs: 'soon' } } });
    expect(bad.isError).toBe(true);
  });

  it('sends progress that never goes backwards, across a new attempt, and answers at the budget end', async () => {
    const errand = new FakeErrand();
    const client = await connected(errand, 300);
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'demo_sleep', arguments: { durationMs: 5 } }, CallToolResultSchema, { onprogress: (p) => progress.push(p) });
    await expectSoon(() => errand.views.size === 1);
    errand.set('T1', running(30));
    await expectSoon(() => progress.some((p) => p.progress === 30));
    errand.set('T1', running(60));
    await expectSoon(() => progress.some((p) => p.progress === 60));
    errand.set('T1', { ...running(10, 2), state: 'running' }); // a new attempt starts over
    errand.set('T1', running(40, 2));
    errand.set('T1', running(70, 2));
    const res = await call;
    expect(progress.map((p) => p.progress)).toEqual([0, 30, 60, 70]);
    expect(progress.every((p) => p.total === 100 && typeof p.message === 'string')).toBe(true);
    expect(res.structuredContent).toEqual({ id: 'T1', state: 'running', etaMs: 60_000 });
    expect((res.content as { text: string }[])[0]!.text).toMatch(/^Your task is running in the background: about a minute; I will tell you when it is ready\. Task id: T1\./);
  });
});

describe('tools', () => {
  it('follow the live types, announcing changes with tools/list_changed', async () => {
    const errand = new FakeErrand();
    const client = await connected(errand);
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed++;
    });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('demo_sleep');
    errand.setTypes([...errand.types]); // the same types: nothing to announce
    errand.setTypes([{ ...errand.types[0]!, live: false }, { name: 'docs.summarise', paramsSchema: { type: 'object' } }]);
    await expectSoon(() => changed === 1);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('docs_summarise');
    expect(names).not.toContain('demo_sleep');
    const gone = await client.callTool({ name: 'demo_sleep', arguments: {} });
    expect([gone.isError, (gone.structuredContent as { error: { code: string } }).error.code]).toEqual([true, 'unknown_type']);
  });
});

describe('task-augmented calls', () => {
  it('create an MCP task with the Errand id, map its states, cancel it and answer its result', async () => {
    const errand = new FakeErrand();
    const client = await connected(errand);
    const stream = client.experimental.tasks.callToolStream({ name: 'demo_sleep', arguments: { durationMs: 5 } }, CallToolResultSchema, { task: {} });
    const first = await stream.next();
    expect(first.value).toMatchObject({ type: 'taskCreated', task: { taskId: 'T1', status: 'working', ttl: 30 * 86_400_000 } });
    errand.set('T1', running(50));
    const task = await client.experimental.tasks.getTask('T1');
    expect(task).toMatchObject({ status: 'working', statusMessage: expect.stringMatching(/50% complete/) });
    const cancelled = await client.experimental.tasks.cancelTask('T1');
    expect(cancelled.status).toBe('cancelled');
    const result = await client.experimental.tasks.getTaskResult('T1', CallToolResultSchema);
    expect(result).toMatchObject({ isError: true, structuredContent: { id: 'T1', state: 'cancelled' } });
    await expect(client.experimental.tasks.getTask('T404')).rejects.toThrow(/not found/i);
    await stream.return(undefined);
  });
});

async function expectSoon(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
