// Records a real log (every event of a short, varied run) as a replay fixture:
// node --conditions=development --import tsx test/record-fixture.ts > packages/contracts/fixtures/log-v1.jsonl
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { waitFor } from '@errand/testing';
import { System, http } from './harness.ts';

const sys = await System.start({ env: { ERRAND_CONCURRENCY: '2', ERRAND_RETRY_BASE_MS: '100', ERRAND_DEMO_REPORT_MS_PER_DAY: '100' } });
const submit = async (body: object) => (await http(sys, 'POST', '/v1/tasks', { user: 'rec', ...body })).body.id as string;
const ids = [
  await submit({ type: 'demo.noop', params: { result: 42 } }),
  await submit({ type: 'demo.sleep', params: { durationMs: 300, steps: 3, failAtStep: 2, failAttempts: 1 }, deliver: [{ kind: 'memory' }] }),
  await submit({ type: 'demo.sleep', params: { durationMs: 3000, steps: 3 }, timeoutMs: 500 }),
  await submit({ type: 'demo.report', params: { days: 3 }, priority: 'high', deliver: [{ kind: 'nats', subject: 'errand.notify.default.rec' }] }),
  await submit({ type: 'demo.sleep', params: { durationMs: 5000, steps: 5 } }),
];
await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${ids[4]}`)).body.state === 'running', { timeoutMs: 20_000 });
await http(sys, 'POST', `/v1/tasks/${ids[4]}/cancel`, { reason: 'recorded' });
for (const id of ids) {
  await waitFor(async () => ['completed', 'failed', 'cancelled', 'timed-out'].includes((await http(sys, 'GET', `/v1/tasks/${id}`)).body.state), { timeoutMs: 30_000 });
}
// the two tasks with targets: wait until their deliveries are recorded too
for (const id of [ids[1], ids[3]]) {
  await waitFor(async () => (await http(sys, 'GET', `/v1/tasks/${id}`)).body.deliveries.every((d: { state: string }) => d.state !== 'pending'), { timeoutMs: 30_000 });
}
const c = await jetstream(sys.nc).consumers.get('ERRAND_EVENTS', { deliver_policy: DeliverPolicy.All });
const info = await c.info();
const last = info.num_pending;
const out: string[] = [];
for await (const m of await c.consume()) {
  out.push(JSON.stringify({ seq: m.seq, event: JSON.parse(new TextDecoder().decode(m.data)) }));
  if (out.length >= last) break;
}
process.stdout.write(out.join('\n') + '\n');
await sys.stop();
process.exit(0);
