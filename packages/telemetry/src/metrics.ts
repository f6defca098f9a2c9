import { monitorEventLoopDelay } from 'node:perf_hooks';
import { metrics, type Attributes } from '@opentelemetry/api';

const METER = 'errand';

/**
 * An observable gauge read at each export (a no-op when no meter provider is
 * registered). Returns its removal. `read` answers undefined to skip a round.
 */
export function observeGauge(name: string, description: string, unit: string, read: () => number | undefined, attributes: Attributes = {}): () => void {
  const gauge = metrics.getMeter(METER).createObservableGauge(name, { description, unit });
  const callback = (r: { observe: (v: number, a?: Attributes) => void }) => {
    const v = read();
    if (v !== undefined && Number.isFinite(v)) r.observe(v, attributes);
  };
  gauge.addCallback(callback);
  return () => gauge.removeCallback(callback);
}

/**
 * Event-loop lag of this process (`errand.runtime.event_loop.lag`, seconds:
 * mean, p99 and max of the delay since the last export), from
 * `perf_hooks.monitorEventLoopDelay`. Every service starts it with its telemetry.
 */
export function startRuntimeMetrics(): () => void {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  const gauge = metrics.getMeter(METER).createObservableGauge('errand.runtime.event_loop.lag', {
    description: 'Delay of the event loop since the last export (mean, p99, max)',
    unit: 's',
  });
  const callback = (r: { observe: (v: number, a?: Attributes) => void }) => {
    if (h.count === 0) return;
    r.observe(h.mean / 1e9, { stat: 'mean' });
    r.observe(h.percentile(99) / 1e9, { stat: 'p99' });
    r.observe(h.max / 1e9, { stat: 'max' });
    h.reset();
  };
  gauge.addCallback(callback);
  return () => {
    gauge.removeCallback(callback);
    h.disable();
  };
}
