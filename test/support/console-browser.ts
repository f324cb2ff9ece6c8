/**
 * The web console in a real browser for end-to-end tests: Debian's Chromium (/usr/bin/chromium; `npm test`
 * installs it when missing), headless, driven by playwright-core against a real node. Every wait is bounded and
 * the browser and node are stopped whatever happens.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { nacos, type NodeProcess, startNode } from "./node-process.js";

const CHROMIUM = "/usr/bin/chromium";
/** Without the background-networking flags Chromium keeps dialling Google, which this closed network refuses. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const WAIT_MS = 10_000;
/** The bootstrap administrator of a node started with `AUTH_ARGS`. */
export const ADMIN = { username: "nacos", password: "console-test-Passw0rd" };
/** A node's options for auth on, with ADMIN as its administrator. */
export const AUTH_ARGS: readonly string[] = [
  "--auth-enabled",
  "--auth-token-secret",
  Buffer.alloc(32, "console").toString("base64"),
  "--admin-password",
  ADMIN.password,
];

/** Calls the node's API as a client, with the token when there is one. */
export type Client = (method: string, path: string, params?: Record<string, string>) => ReturnType<typeof nacos>;

export function clientOf(node: NodeProcess, token: string | undefined): Client {
  return (method, path, params = {}) => nacos(node.url, method, path, token === undefined ? params : { ...params, accessToken: token });
}

export async function loginToken(node: NodeProcess, user: { username: string; password: string } = ADMIN): Promise<string> {
  const res = await nacos(node.url, "POST", "/nacos/v1/auth/users/login", user);
  assert.equal(res.status, 200, res.text);
  return res.json().accessToken as string;
}

/** How the browser presents itself: `locale` (e.g. "zh-CN") sets its preferred language, en-US when not given. */
export interface BrowserOptions {
  readonly locale?: string;
}

/** A fresh headless Chromium (its own profile) for `body`, closed and removed whatever happens. */
export async function withBrowser(options: BrowserOptions, body: (page: Page) => Promise<void>): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), "ts-nacos-chromium-"));
  try {
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      headless: true,
      timeout: WAIT_MS * 3,
      viewport: { width: 1200, height: 400 },
      locale: options.locale ?? "en-US",
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      page.setDefaultTimeout(WAIT_MS);
      page.setDefaultNavigationTimeout(WAIT_MS);
      await body(page);
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Starts a node and a fresh headless Chromium, runs `body`, and stops both whatever happens. */
export async function withConsole(
  nodeArgs: readonly string[],
  body: (page: Page, node: NodeProcess) => Promise<void>,
  options: BrowserOptions = {},
): Promise<void> {
  const node = await startNode({ args: nodeArgs });
  try {
    await withBrowser(options, (page) => body(page, node));
  } finally {
    await node.stop();
  }
}

/**
 * With `CONSOLE_SCREENSHOTS=<dir>` (e.g. `docs/`), saves the whole page as `<dir>/console-<view>.png` for the
 * README; without it, does nothing.
 */
export async function screenshot(page: Page, view: string): Promise<void> {
  const dir = process.env.CONSOLE_SCREENSHOTS;
  if (dir === undefined || dir === "") return;
  await page.screenshot({ path: join(dir, `console-${view}.png`), fullPage: true });
}
