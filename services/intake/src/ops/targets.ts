import { ErrandError, type StoredTarget, type TargetInput } from '@errand/contracts';
import { checkTargetUrl, UrlRefused } from '@errand/netguard';
import { SecretStore, secretHint } from '@errand/secrets';
import { natsSubjectProblem } from '../domain/submit-plan.ts';
import type { IntakeContext } from '../context.ts';

function refused(index: number, message: string): ErrandError {
  return new ErrandError('invalid', `deliver[${index}]: ${message}`, { details: [{ path: `deliver.${index}`, message }] });
}

/** Check every target before anything is stored; a refused one is `invalid`. */
export function checkTargets(ctx: Pick<IntakeContext, 'allow' | 'config'>, tenant: string, deliver: readonly TargetInput[]): void {
  deliver.forEach((t, i) => {
    if (t.kind === 'nats') {
      const problem = natsSubjectProblem(t.subject, tenant);
      if (problem) throw refused(i, `subject ${problem}`);
    } else if (t.kind === 'email') {
      if (!ctx.config.ERRAND_SMTP_URL) throw refused(i, 'email delivery is not configured on this server (ERRAND_SMTP_URL)');
    } else if (t.kind !== 'memory') {
      try {
        checkTargetUrl(t.url, ctx.allow);
      } catch (err) {
        if (err instanceof UrlRefused) throw refused(i, `the ${t.kind} URL is refused: ${err.message}`);
        throw err;
      }
    }
  });
}

/**
 * The targets as the `submitted` event keeps them: a webhook's secret, and a
 * Slack or Discord URL (itself a credential), are stored encrypted and
 * replaced by `secretRef` + `secretHint`.
 */
export async function storeTargets(
  ctx: Pick<IntakeContext, 'secrets'>,
  tenant: string,
  taskId: string,
  deliver: readonly TargetInput[],
): Promise<StoredTarget[]> {
  return await Promise.all(
    deliver.map(async (t, i): Promise<StoredTarget> => {
      if (t.kind === 'nats' || t.kind === 'memory' || t.kind === 'email') return t;
      const ref = SecretStore.ref(tenant, taskId, i);
      const name = t.name === undefined ? {} : { name: t.name };
      if (t.kind === 'webhook') {
        await ctx.secrets.put(ref, t.secret);
        return { kind: 'webhook', ...name, url: t.url, secretRef: ref, secretHint: secretHint(t.secret) };
      }
      await ctx.secrets.put(ref, t.url);
      return { kind: t.kind, ...name, host: new URL(t.url).host, secretRef: ref, secretHint: secretHint(t.url) };
    }),
  );
}
