import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { waitFor } from '@errand/testing';
import { System, http } from './harness.ts';
import { program } from './tools.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const ARTIFACTS = join(ROOT, '.data', 'test-results');
const KEYS = { acme: 'k-dash-acme-0123', other: 'k-dash-other-4567' };
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium, driven by playwright-core, with an empty profile of its own. */
async function openBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'errand-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: program('chromium'),
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.locator('#key-input').fill(key);
  await page.locator('#key-form button[type=submit]').click();
  await page.locator('#key-dialog').waitFor({ state: 'hidden' });
}

describe('the dashboard in a real browser', () => {
  let sys: System;
  let browser: Awaited<ReturnType<typeof openBrowser>>;

  beforeAll(async () => {
    sys = await System.start({
      env: {
        ERRAND_API_KEYS: `${KEYS.acme}=acme,${KEYS.other}=other`,
        ERRAND_SECRET_KEY: 'dashboard-e2e-secret-key-0123456789',
      },
    });
    browser = await openBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  });

  it("shows a running task's bar move, cancels it with the button, and shows the partial result; another tenant sees none of it", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, sys.url, KEYS.acme);

    // submitted after the page is open: it appears through the live list, not a reload
    const acme = { authorization: `Bearer ${KEYS.acme}` };
    const done = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 300, steps: 3 }, user: 'ada' }, acme);
    const sub = await http(sys, 'POST', '/v1/tasks', { type: 'demo.sleep', params: { durationMs: 12_000, steps: 40 }, user: 'grace' }, acme);
    expect(sub.status).toBe(202);
    const id = sub.body.id as string;
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await page.locator(`tr[data-id="${done.body.id}"][data-state="completed"]`).waitFor({ timeout: 15_000 });
    const bar = row.locator('[role=progressbar]');
    // the bar moves by pushed changes alone: the page is never reloaded
    await waitFor(async () => Number(await bar.getAttribute('aria-valuenow')) > 50, {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the progress bar to pass 50 %',
    });
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(50);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-list.png'), fullPage: true });

    // its page: live progress, timeline, cancel
    await row.locator('a').first().click();
    await page.locator('[data-action=cancel]').waitFor();
    await page.locator('ol.tl li.run').first().waitFor();
    await page.locator('[data-action=cancel]').click();
    await page.locator('h1 .pill.s-cancelled').waitFor({ timeout: 20_000 });
    const partial = page.locator('[data-result=partial] pre');
    await partial.waitFor({ timeout: 10_000 });
    expect(JSON.parse(await partial.innerText())).toBeGreaterThan(20); // steps done before the cancel
    await page.locator('[data-action=retry]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // the types and metrics pages render with their data (and chart.js draws)
    await page.goto(`${sys.url}/#/types`);
    await page.locator('section.type[data-type="demo.sleep"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-types.png'), fullPage: true });
    await page.goto(`${sys.url}/#/metrics`);
    await page.locator('tr[data-type="demo.sleep"]').waitFor();
    await page.locator('canvas').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-metrics.png'), fullPage: true });
    expect(errors).toEqual([]);

    // another tenant's key: an empty list, and the task is not found
    await page.locator('button.link', { hasText: 'change key' }).click();
    await page.locator('#key-input').fill(KEYS.other);
    await page.locator('#key-form button[type=submit]').click();
    await page.locator('#key-dialog').waitFor({ state: 'hidden' });
    await page.goto(`${sys.url}/#/`);
    await page.locator('p.empty').waitFor({ state: 'visible' });
    expect(await page.locator('tr[data-id]').count()).toBe(0);
    await page.goto(`${sys.url}/#/tasks/${id}`);
    await page.locator('.error-card').waitFor();
    expect(await page.locator('.error-card').innerText()).toMatch(/no task/);
    await page.close();
  });
});
