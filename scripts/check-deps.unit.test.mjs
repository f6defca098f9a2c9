// The house rules check-deps adds for issue #11, tested on small sources (pnpm lint runs the check itself).
import { describe, expect, it } from 'vitest';
import { conventionFindings } from './check-deps.mjs';

const NATS = "import { EventLog } from '@errand/nats';\n";

describe('check-deps conventions', () => {
  it('finds process.env outside packages/config, and not in tests or the config package', () => {
    expect(conventionFindings('services/a/src/app.ts', '/* a\n comment */\nconst u = process.env.X;\n')).toEqual([
      expect.stringMatching(/^services\/a\/src\/app\.ts:3: reads process\.env/),
    ]);
    expect(conventionFindings('packages/config/src/env.ts', 'const u = process.env.X;\n')).toEqual([]);
    expect(conventionFindings('services/a/src/app.int.test.ts', 'const u = process.env.X;\n')).toEqual([]);
    expect(conventionFindings('services/a/src/app.ts', '// process.env.X in a comment\n')).toEqual([]);
  });

  it('finds export * in a package entry only', () => {
    const src = "export * from './a.ts';\nexport type * from './b.ts';\nexport { c } from './c.ts';\n";
    expect(conventionFindings('packages/x/src/index.ts', src)).toHaveLength(2);
    expect(conventionFindings('packages/x/src/other.ts', src)).toEqual([]);
  });

  it('finds a regular expression over an error message in a file that talks to NATS', () => {
    for (const line of [
      "if (!/wrong last sequence|key exists/i.test((err as Error).message)) x();",
      "const isExists = (err: unknown) => /10071/i.test((err as Error)?.message ?? '');",
      'const m = err.message.match(/not found/);',
    ]) {
      expect(conventionFindings('services/a/src/x.ts', NATS + line + '\n'), line).toHaveLength(1);
    }
    expect(conventionFindings('services/a/src/x.ts', NATS + "if (/^\\d+$/.test(value)) x();\n")).toEqual([]);
    // no NATS import: a message regex there is not about NATS errors
    expect(conventionFindings('services/a/src/x.ts', 'if (/boom/.test(err.message)) x();\n')).toEqual([]);
  });
});
