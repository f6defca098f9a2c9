import type { IntakeContext } from '../context.ts';

const decoder = new TextDecoder();

/** The content behind a blob ref (`obj:<name>` in `errand_blobs`): JSON when it parses, else text. */
export async function loadBlob(ctx: Pick<IntakeContext, 'stores'>, ref: string | undefined): Promise<unknown> {
  if (!ref?.startsWith('obj:')) return undefined;
  const data = await ctx.stores.blobs.getBlob(ref.slice(4));
  if (!data) return undefined;
  const text = decoder.decode(data);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
