// The dashboard in Chromium, as a user goes through it: log in with the
// keyboard (through the fake Discord's authorize redirect), pick the
// server, create keys, copy them (the clipboard must hold the key the API
// holds), delete one behind its confirmation, log out. After every step
// no whole key or session id is in the page's DOM or visible text (a
// MutationObserver also watches every change in between); on each page
// axe-core finds no serious or critical violation, in light and dark
// colours, and a 360 px wide viewport does not scroll sideways. The page
// requests nothing from any origin but apikeyd's (the login's navigation
// to Discord's authorize page aside) and logs no error, so a violation of
// the Content-Security-Policy fails too. Screenshots of the signed-out
// page, the picker, the keys page and the delete confirmation go into
// SCREENSHOTS at a desktop width.
//
// Run by .ci/dashboard-browser, which starts apikeyd and the fake Discord
// and sets the environment below.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
// axe-core goes into the page by the DevTools protocol (page.evaluate),
// which the page's Content-Security-Policy does not govern:
// page.addScriptTag writes an inline <script>, which that policy rightly
// refuses, and a context made to bypass it would no longer prove it.
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

function env(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
}

const base = env("APIKEYD_URL");
const guild = env("GUILD_ID");
const otherGuild = env("OTHER_GUILD_ID");
const authorizeURL = new URL(env("DISCORD_AUTHORIZE_URL"));
const shots = env("SCREENSHOTS");
const chromiumPath = env("CHROMIUM");
const origin = new URL(base).origin;
const sessionCookie = "apikeyd_session";
// .ci/dashboard-browser starts apikeyd with --max-keys-per-guild at this.
const maxKeys = Number(env("MAX_KEYS"));

// A whole secret of ours, whichever kind: a prefix and more of its body
// than the masked form (prefix, "…", last four) shows.
const secretPattern = /akd[gus]_[0-9A-Za-z]{5,}/;

const desktop = { width: 1000, height: 700 };
const narrow = { width: 360, height: 740 };

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) {
    failures++;
  }
  return ok;
}

function step(what) {
  console.log(`\n-- ${what}`);
}

// keysHeld are the guild's keys as the API holds them, by id.
async function keysHeld(context) {
  const res = await context.request.get(`${base}/v1/auth/api-key?guild_id=${guild}`);
  if (!res.ok()) {
    throw new Error(`list keys: HTTP ${res.status()}: ${await res.text()}`);
  }
  const body = await res.json();
  return new Map(body.data.api_keys.map((k) => [String(k.id), k.api_key]));
}

// everyKey is every whole key the test has seen, deleted ones included:
// none may ever be in the page.
const everyKey = new Set();

async function noSecretInPage(page, context, where) {
  for (const key of (await keysHeld(context)).values()) {
    everyKey.add(key);
  }
  const seen = await page.evaluate(() => ({
    html: document.documentElement.outerHTML,
    text: document.body.innerText,
    cookie: document.cookie,
  }));
  const leaked = [...everyKey].filter((k) => seen.html.includes(k) || seen.text.includes(k));
  check(leaked.length === 0, `${where}: no whole key in the DOM or visible text (${everyKey.size} known)`);
  check(!secretPattern.test(seen.html) && !secretPattern.test(seen.text), `${where}: nothing shaped like a whole key or session id in the DOM`);
  check(!seen.cookie.includes(sessionCookie), `${where}: the session cookie is out of the page's reach`);
}

// axeClean runs axe-core on the page as it is, in light and dark colours.
async function axeClean(page, where) {
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    if (!(await page.evaluate(() => typeof window.axe === "object"))) {
      await page.evaluate(axeSource);
    }
    const violations = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")),
      }));
    });
    const grave = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of violations) {
      console.log(`     axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.join(", ")})`);
    }
    check(grave.length === 0, `${where} (${colorScheme}): axe-core finds no serious or critical violation (${violations.length} in all)`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

// fitsNarrow checks that at 360 px wide nothing makes the page, or any
// box in it, scroll sideways.
async function fitsNarrow(page, where) {
  await page.setViewportSize(narrow);
  const wide = await page.evaluate(() => {
    const out = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) {
      out.push(`the page (${root.scrollWidth} > ${root.clientWidth})`);
    }
    for (const e of document.body.querySelectorAll("*")) {
      const style = getComputedStyle(e);
      if (style.display !== "none" && e.scrollWidth > e.clientWidth + 1 && /auto|scroll/.test(style.overflowX)) {
        out.push(`${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className} (${e.scrollWidth} > ${e.clientWidth})`);
      }
    }
    return out;
  });
  check(wide.length === 0, `${where}: fits ${narrow.width} px without scrolling sideways${wide.length ? ": " + wide.join(", ") : ""}`);
  await page.setViewportSize(desktop);
}

async function screenshot(page, name, options = {}) {
  const file = path.join(shots, name);
  await page.screenshot({ path: file, ...options });
  console.log(`     screenshot ${file}`);
}

// tabTo presses Tab until the element with that id has the focus, and
// checks the focus can be seen.
async function tabTo(page, id) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const e = document.activeElement;
      return e ? { id: e.id, outline: getComputedStyle(e).outlineStyle } : {};
    });
    if (focused.id === id) {
      check(focused.outline !== "none", `#${id}: reached with Tab (${i + 1} presses), its focus outlined`);
      return;
    }
  }
  throw new Error(`#${id} is not reachable with Tab`);
}

function masked(key) {
  return `${key.slice(0, key.indexOf("_") + 1)}…${key.slice(-4)}`;
}

// copied does what copies key (press or click), the clipboard holding
// something else before, and returns what the clipboard holds once the
// page says it copied that key.
async function copied(page, key, copy) {
  await page.evaluate(() => navigator.clipboard.writeText("not the key"));
  await copy();
  await page.locator("#status").filter({ hasText: `Copied key ${masked(key)}` }).waitFor();
  return page.evaluate(() => navigator.clipboard.readText());
}

async function run(browser) {
  const context = await browser.newContext({
    viewport: desktop,
    locale: "en-GB",
    timezoneId: "UTC",
    colorScheme: "light",
    permissions: ["clipboard-read", "clipboard-write"],
  });
  context.setDefaultTimeout(15000);

  // What the page asks of other origins, and what goes wrong in it.
  const elsewhere = [];
  context.on("request", (req) => {
    const u = new URL(req.url());
    const login = req.isNavigationRequest() && u.origin === authorizeURL.origin && u.pathname === authorizeURL.pathname;
    if (u.origin !== origin && !login) {
      elsewhere.push(req.url());
    }
  });
  const problems = [];
  // The one refusal the checks provoke on purpose: a key asked of a full
  // server, answered 422 (Chromium also logs it as a failed resource).
  let refusalExpected = false;
  const expectedRefusal = (status, url) =>
    refusalExpected && status === 422 && url === `${base}/v1/auth/api-key`;
  const leaks = [];
  await context.exposeBinding("reportSecretInPage", ({ page }, what) => leaks.push(`${page.url()}: ${what}`));
  // Between the steps, too: every change of the DOM is looked at, in the
  // nodes it added even when they are gone again by the time it is seen,
  // and in the text or attribute value it replaced.
  await context.addInitScript((pattern) => {
    const re = new RegExp(pattern);
    const text = (node) => (node.nodeType === Node.ELEMENT_NODE ? node.outerHTML : node.textContent) ?? "";
    new MutationObserver((records) => {
      for (const r of records) {
        const seen =
          r.type === "childList"
            ? [...r.addedNodes].map(text).join("\n")
            : r.type === "attributes"
              ? (r.target.getAttribute(r.attributeName) ?? "")
              : r.target.data;
        if (re.test(seen) || re.test(r.oldValue ?? "")) {
          window.reportSecretInPage(`a ${r.type} change of <${r.target.nodeName.toLowerCase()}${r.target.id ? "#" + r.target.id : ""}>`);
        }
      }
    }).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      characterDataOldValue: true,
      attributes: true,
      attributeOldValue: true,
    });
  }, secretPattern.source);

  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") {
      const url = m.location()?.url ?? "";
      if (!(m.text().includes("status of 422") && expectedRefusal(422, url))) {
        problems.push(`console ${m.type()} at ${page.url()}: ${m.text()}`);
      }
    }
  });
  page.on("pageerror", (e) => problems.push(`uncaught at ${page.url()}: ${e.message}`));
  page.on("response", (r) => r.status() >= 400 && !expectedRefusal(r.status(), r.url()) && problems.push(`HTTP ${r.status()} for ${r.url()}`));

  step("signed out: GET /dashboard/");
  await page.goto(`${base}/dashboard/`);
  check(await page.locator("#login").isVisible(), "the Log in with Discord control is shown");
  check((await page.getAttribute("html", "lang")) === "en", "the page has a language");
  check((await page.title()).length > 0, `the page has a title: ${await page.title()}`);
  await axeClean(page, "signed out");
  await fitsNarrow(page, "signed out");
  await screenshot(page, "signed-out.png");

  step("log in with the keyboard: Tab to Log in with Discord, Enter");
  await tabTo(page, "login");
  const navigations = [];
  const onNavigation = (req) => req.isNavigationRequest() && navigations.push(new URL(req.url()));
  page.on("request", onNavigation);
  await page.keyboard.press("Enter");
  await page.locator("#logout").waitFor();
  page.off("request", onNavigation);
  const through = navigations.map((u) => u.origin + u.pathname);
  check(
    through.join(" ") === [`${base}/dashboard/login`, authorizeURL.href, `${base}/dashboard/callback`, `${base}/dashboard/`].join(" "),
    `through Discord's authorize page and back: ${through.join(" -> ")}`,
  );
  check(page.url() === `${base}/dashboard/`, `signed in at ${page.url()}`);
  const cookie = (await context.cookies(base)).find((c) => c.name === sessionCookie);
  check(cookie !== undefined, "a session cookie is set");
  check(cookie?.httpOnly && cookie?.sameSite === "Lax" && cookie?.path === "/", "it is HttpOnly, SameSite=Lax, Path=/");

  step("the server picker");
  await page.locator(`#guild-${guild}`).waitFor();
  await page.locator("#status").filter({ hasText: /You can manage/ }).waitFor();
  check(await page.locator(`#guild-${otherGuild}`).count() === 0, "a server not administered in apikeyd has no link");
  check((await page.locator("#guilds li").count()) === 2, "both of the user's Discord servers are listed");
  check(await page.locator("#logout").isVisible(), "the Log out control is shown");
  await noSecretInPage(page, context, "picker");
  await axeClean(page, "picker");
  await fitsNarrow(page, "picker");
  await screenshot(page, "picker.png");

  step("pick the server");
  await Promise.all([page.waitForURL(`${base}/dashboard/guilds/${guild}`), page.click(`#guild-${guild}`)]);
  await page.locator("#status").filter({ hasText: /This server has/ }).waitFor();
  check((await page.locator("#keys-body tr").count()) === 0, "the server has no keys yet");
  await noSecretInPage(page, context, "keys page, empty");

  step("create a key with the keyboard (Tab to Create API key, Enter), copy it with Enter");
  await tabTo(page, "create-key");
  await page.keyboard.press("Enter");
  await page.locator("#new-key").waitFor();
  await page.locator("#status").filter({ hasText: /Created key/ }).waitFor();
  const held = await keysHeld(context);
  check(held.size === 1, "the API holds one key");
  const [firstID, firstKey] = [...held][0];
  check(await page.locator(`#key-${firstID}`).isVisible(), `its row #key-${firstID} is listed`);
  await noSecretInPage(page, context, "after creating");
  const shown = (await page.locator(`#key-${firstID} code`).textContent()) ?? "";
  check(shown === masked(firstKey), `it is shown masked: ${shown}`);
  check((await page.evaluate(() => document.activeElement?.id)) === "copy-new-key", "the focus moved to Copy the new key");
  check((await copied(page, firstKey, () => page.keyboard.press("Enter"))) === firstKey, "the clipboard holds the key the API holds");
  await noSecretInPage(page, context, "after copying the new key");

  step("create a second key by clicking, copy it from its row");
  await page.click("#create-key");
  await page.locator("#keys-body tr").nth(1).waitFor();
  const second = [...(await keysHeld(context))].find(([id]) => id !== firstID);
  check(second !== undefined, "the API holds a second key");
  const [secondID, secondKey] = second;
  await noSecretInPage(page, context, "after creating the second key");
  check((await copied(page, secondKey, () => page.click(`#copy-${secondID}`))) === secondKey, "Copy in its row puts the second key on the clipboard");
  check((await copied(page, firstKey, () => page.click(`#copy-${firstID}`))) === firstKey, "Copy in the first row puts the first key on the clipboard");
  await page.click("#create-key");
  await page.locator("#keys-body tr").nth(2).waitFor();
  await page.locator("#audit li").nth(2).waitFor();
  const audit = (await page.locator("#audit").innerText()).split("\n");
  check(audit.length === 3 && audit.every((line) => line.endsWith("· you · api_key.created")), `the audit log lists the three creations by "you": ${audit[0]}`);
  await noSecretInPage(page, context, "keys page with three keys");
  await axeClean(page, "keys page");
  await fitsNarrow(page, "keys page");
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, "keys.png", { fullPage: true });

  step("delete the first key: Escape cancels, Delete key deletes");
  await page.click(`#delete-${firstID}`);
  const dialog = page.locator("#confirm-delete");
  await dialog.waitFor();
  check(await dialog.evaluate((d) => d.open && d.contains(document.activeElement)), "the confirmation is open, with the focus in it");
  check((await page.locator("#confirm-delete-text").textContent())?.includes(masked(firstKey)), "it names the key, masked");
  await noSecretInPage(page, context, "delete confirmation");
  await axeClean(page, "delete confirmation");
  await fitsNarrow(page, "delete confirmation");
  await screenshot(page, "delete-confirmation.png");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  check((await keysHeld(context)).has(firstID), "Escape closes it and the key stays");
  check((await page.evaluate(() => document.activeElement?.id)) === `delete-${firstID}`, "the focus is back on the key's Delete");
  await page.keyboard.press("Enter");
  await dialog.waitFor();
  await page.click("#confirm-delete-yes");
  await page.locator(`#key-${firstID}`).waitFor({ state: "detached" });
  await page.locator("#status").filter({ hasText: /Deleted key/ }).waitFor();
  const after = await keysHeld(context);
  check(!after.has(firstID) && after.size === 2, "the API no longer holds the deleted key, and holds the other two");
  await noSecretInPage(page, context, "after deleting");

  step(`fill the server to its ${maxKeys} keys; one more is refused, saying why and what to do`);
  for (let n = after.size; n < maxKeys; n++) {
    await page.click("#create-key");
    await page.locator("#keys-body tr").nth(n).waitFor();
  }
  check((await keysHeld(context)).size === maxKeys, `the API holds ${maxKeys} keys`);
  refusalExpected = true;
  await page.click("#create-key");
  const refusal = page.locator("#error");
  await refusal.waitFor();
  const said = (await refusal.textContent()) ?? "";
  check(said.includes(`maximum of ${maxKeys} API keys`) && said.endsWith("Delete a key you no longer use, then create one."), `the refusal says why and what to do: ${said}`);
  check((await keysHeld(context)).size === maxKeys && (await page.locator("#keys-body tr").count()) === maxKeys, "no key was added, in the API or the page");
  await noSecretInPage(page, context, "full server");
  await axeClean(page, "full server");
  await fitsNarrow(page, "full server");
  await screenshot(page, "full-server.png");

  step("log out");
  const oldSession = cookie?.value ?? "";
  await Promise.all([page.waitForURL(`${base}/dashboard/`), page.click("#logout")]);
  check(!(await context.cookies(base)).some((c) => c.name === sessionCookie), "the session cookie is gone");
  check(await page.locator("#login").isVisible(), "/dashboard/ shows Log in with Discord again");
  check(await page.locator("#logout").count() === 0, "and no Log out");
  await page.goto(`${base}/dashboard/`);
  check(await page.locator("#login").isVisible(), "a fresh load of /dashboard/ too");
  const replay = await fetch(`${base}/v1/auth/api-key?guild_id=${guild}`, { headers: { Cookie: `${sessionCookie}=${oldSession}` } });
  check(replay.status === 401, `the old session id is refused (HTTP ${replay.status})`);

  step("what the pages did besides");
  check(leaks.length === 0, `no whole secret appeared in the page at any moment${leaks.length ? ": " + leaks.join("; ") : ""}`);
  check(elsewhere.length === 0, `no request to another origin${elsewhere.length ? ": " + elsewhere.join(", ") : ""}`);
  check(problems.length === 0, `no error or warning in the console${problems.length ? ":\n  " + problems.join("\n  ") : ""}`);
  await context.close();
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  // As .ci/docs-browser: on a closed network, no background connections
  // of Chromium's own and no name lookups but loopback.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  ],
});
console.log(`chromium ${browser.version()}`);
try {
  await run(browser);
} catch (err) {
  console.log(`FAIL ${err.stack ?? err}`);
  failures++;
} finally {
  await browser.close();
}
console.log(failures ? `\n${failures} check(s) failed` : "\nevery check passed");
process.exit(failures ? 1 : 0);
