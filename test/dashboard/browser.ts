// A real browser for the dashboard's tests: Debian's chromium driven by
// playwright-core. browserOrSkip(test) declares tests that run when a
// chromium is found, show as skipped when none is, and fail saying why when
// KCS_REQUIRE_BROWSER=1 (CI), as the Docker tests do with KCS_REQUIRE_DOCKER.
// declare is how an available test is declared: dockerOrSkip(test) for one
// that needs Docker too.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext, Implementation, TestFn } from 'ava';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KCS_CHROMIUM ?? '/usr/bin/chromium';
export const browserAvailable = existsSync(CHROMIUM);
const browserRequired = process.env.KCS_REQUIRE_BROWSER === '1';

/** Where screenshots go: kept after the run, as the tests' artifacts. */
export const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/dashboard');

/** The flags chromium needs on these machines: as root, headless, and no calls to the outside. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export function browserOrSkip(test: TestFn, declare: (title: string, impl: Implementation<[]>) => void = test): (title: string, impl: Implementation<[]>) => void {
  return (title, impl) => {
    if (browserAvailable) declare(title, impl);
    else if (browserRequired) test(title, (t) => t.fail(`KCS_REQUIRE_BROWSER=1 but there is no chromium at ${CHROMIUM} (install Debian's chromium, or set KCS_CHROMIUM)`));
    else test.skip(title, impl);
  };
}

/** A fresh browser profile and one page; closed and removed at the test's end. */
export async function openBrowser(t: ExecutionContext, viewport = { width: 1440, height: 1000 }): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'kcs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport });
  t.teardown(async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); });
  const page = context.pages()[0] ?? await context.newPage();
  // Uncaught errors in the page's script: a test asserts there were none.
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { context, page, pageErrors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
