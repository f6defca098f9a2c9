import { ensureAptTool, which } from '../scripts/bootstrap.mjs';

/**
 * The path of a program the tests need (chromium, prometheus): from PATH, or
 * installed with apt-get when missing, as `npm test`'s bootstrap does.
 */
export function program(name: string, pkg = name): string {
  const found = which(name);
  if (found) return found;
  ensureAptTool(name, pkg);
  const installed = which(name);
  if (!installed) throw new Error(`${name} is not on PATH after installing ${pkg}`);
  return installed;
}
