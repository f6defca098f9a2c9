#!/usr/bin/env node
// `npm test` / `pnpm test`: bootstrap, lint, typecheck, then the tests:
//   vitest run --project unit --project int        (in parallel)
//   vitest run --project e2e --no-file-parallelism (real processes: one file at a time)
// Extra arguments go to both vitest runs (`pnpm test -- -t cancel`).
// Every step runs even when an earlier one failed, so one run shows all that
// is wrong (ERRAND_TEST_FAIL_FAST=1 stops at the first failure). The exit code
// is non-zero when any step failed; the last line is `N passed, N failed`
// (test counts; a test file that failed to load counts as one failure) for CI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrap, ensureTestTools, ROOT } from './bootstrap.mjs';
import { ensureTestPostgres } from './postgres.mjs';

const extra = process.argv.slice(2).filter((a) => a !== '--');
const failFast = process.env.ERRAND_TEST_FAIL_FAST === '1';
const outDir = join(ROOT, '.data', 'test-results');
const say = (msg) => process.stdout.write(`\n[test] ${msg}\n`);

const steps = [];
let passed = 0;
let failed = 0;

function runStep(name, cmd, args) {
  say(`${name}: ${[cmd, ...args].join(' ')}`);
  const started = Date.now();
  // children see a pipe-free stdout anyway; with no TTY leave colour to the environment (FORCE_COLOR=0 would turn it on)
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const ok = r.status === 0;
  const why = r.error ? r.error.message : r.status === null ? `killed by ${r.signal}` : `exit code ${r.status}`;
  steps.push({ name, ok, why, secs: ((Date.now() - started) / 1000).toFixed(1) });
  return ok;
}

/** Test counts from vitest's JSON report; undefined when there is none. */
export function countResults(file) {
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  // a file that fails to import has no test results but is a failure
  const brokenFiles = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return { passed: report.numPassedTests ?? 0, failed: (report.numFailedTests ?? 0) + brokenFiles };
}

function vitestStep(name, projectArgs, report) {
  const file = join(outDir, report);
  rmSync(file, { force: true });
  const vitest = join(ROOT, 'node_modules', '.bin', 'vitest');
  const args = ['run', ...projectArgs, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`, ...extra];
  const ok = runStep(name, vitest, args);
  const counts = countResults(file);
  if (counts) {
    passed += counts.passed;
    failed += counts.failed;
  } else if (!ok) {
    failed += 1; // vitest itself broke before reporting: count it as one failure
  }
  return ok;
}

function main() {
  let pnpm;
  let postgres;
  try {
    ({ pnpm } = bootstrap());
    ensureTestTools();
    postgres = ensureTestPostgres();
  } catch (err) {
    process.stderr.write(`[test] bootstrap failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    return 1;
  }
  mkdirSync(outDir, { recursive: true });
  const [pn, ...pre] = pnpm;
  const plan = [
    () => runStep('lint', pn, [...pre, 'run', 'lint']),
    () => runStep('typecheck', pn, [...pre, 'run', 'typecheck']),
    () => vitestStep('unit + int', ['--project', 'unit', '--project', 'int'], 'unit-int.json'),
    () => vitestStep('e2e', ['--project', 'e2e', '--no-file-parallelism'], 'e2e.json'),
  ];
  try {
    for (const step of plan) {
      if (!step() && failFast) break;
    }
  } finally {
    postgres.stop();
  }
  say('summary');
  for (const s of steps) process.stdout.write(`  ${s.ok ? 'ok    ' : 'FAILED'} ${s.name} (${s.secs} s${s.ok ? '' : `, ${s.why}`})\n`);
  const allOk = steps.length === plan.length && steps.every((s) => s.ok);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return allOk ? 0 : 1;
}

process.exitCode = main();
