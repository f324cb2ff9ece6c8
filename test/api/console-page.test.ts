/** The console's static files: where they are served, as what, and under which security headers. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { testApp, type TestApp } from "./support.js";

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => {
  await t.app.close();
});

test("/nacos redirects to /nacos/, which serves the page", async () => {
  const redirect = await t.app.inject({ url: "/nacos" });
  assert.equal(redirect.statusCode, 302);
  assert.equal(redirect.headers.location, "/nacos/");
  for (const url of ["/nacos/", "/nacos/index.html"]) {
    const page = await t.app.inject({ url });
    assert.equal(page.statusCode, 200, url);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(page.body, /<script type="module" src="console.js"><\/script>/);
  }
});

test("the script and the style sheet come with their types; nothing else of the folder is served", async () => {
  const script = await t.app.inject({ url: "/nacos/console.js" });
  assert.equal(script.statusCode, 200);
  assert.match(String(script.headers["content-type"]), /^text\/javascript/);
  const css = await t.app.inject({ url: "/nacos/console.css" });
  assert.match(String(css.headers["content-type"]), /^text\/css/);
  assert.equal((await t.app.inject({ url: "/nacos/../package.json" })).statusCode, 404);
  assert.equal((await t.app.inject({ url: "/nacos/console.js.map" })).statusCode, 404);
});

test("a policy that allows no inline or foreign script, no framing and no sniffing", async () => {
  const page = await t.app.inject({ url: "/nacos/" });
  const csp = String(page.headers["content-security-policy"]);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(page.headers["x-content-type-options"], "nosniff");
});
