// The TypeScript client round trip of .ci/sdk-ts: typed calls through
// openapi-fetch, with the types openapi-typescript generated from
// openapi/apikeys.yaml and openapi/v1.yaml, against a running apikeyd.
// Every step checks the status and the fields of the answer; the first
// failure ends the run with exit status 1.
//
// Environment: APIKEYD_URL (http://127.0.0.1:PORT), SYSTEM_KEY (the
// server's System key), and the fake Discord of fake-discord.mts behind
// the server: token ts-admin-token is user 310987654321098765, whom
// `apikeyd guild-admin add` made an administrator of GUILD_ID.
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { paths as ApiKeysPaths } from "../gen/apikeys.js";
import type { paths as V1Paths, components as V1 } from "../gen/v1.js";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("APIKEYD_URL");
const systemKey = env("SYSTEM_KEY");
const guildId = env("GUILD_ID"); // 1098765432109876543: above 2^53
const adminId = env("ADMIN_USER_ID");
const adminToken = env("DISCORD_TOKEN");

const userKeyRE = /^akdu_[0-9A-Za-z]{36}$/;
const guildKeyRE = /^akdg_[0-9A-Za-z]{36}$/;

let steps = 0;
async function step(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    console.error(`FAIL  ${name}`);
    throw err;
  }
  steps++;
  console.log(`ok    ${name}`);
}

// assertStatus checks the status first, showing the body when it is wrong.
function assertStatus(response: Response, want: number, body: unknown): void {
  assert.equal(response.status, want, `status ${response.status}, want ${want}: ${JSON.stringify(body)}`);
}

// ---------------------------------------------------------------- /apiKeys

async function apiKeys(): Promise<void> {
  // The System key, bare, on every request unless a call overrides it.
  const ak = createClient<ApiKeysPaths>({ baseUrl: base, headers: { Authorization: systemKey } });
  const alice = "ts-alice";
  const cafe = "café"; // UTF-8, percent-encoded in the path by openapi-fetch
  const note = "deploy bot ☃";
  let plain = "", noted = "", cafeKey = "";

  await step("createKey: a key without a note", async () => {
    const { data, error, response } = await ak.POST("/apiKeys/new/{user}", { params: { path: { user: alice } } });
    assertStatus(response, 200, data ?? error);
    assert.match(data?.token ?? "", userKeyRE);
    plain = data!.token;
  });

  await step("createKeyWithNote: a key with a note, System key after Bearer", async () => {
    const { data, error, response } = await ak.POST("/apiKeys/new/{user}/{note}", {
      params: { path: { user: alice, note } },
      headers: { Authorization: `Bearer ${systemKey}` },
    });
    assertStatus(response, 200, data ?? error);
    assert.match(data?.token ?? "", userKeyRE);
    noted = data!.token;
    assert.notEqual(noted, plain);
  });

  await step("createKey: a UTF-8 user name", async () => {
    const { data, error, response } = await ak.POST("/apiKeys/new/{user}", { params: { path: { user: cafe } } });
    assertStatus(response, 200, data ?? error);
    cafeKey = data?.token ?? "";
    assert.match(cafeKey, userKeyRE);
  });

  await step("createKey: System is not a user name", async () => {
    const { data, error, response } = await ak.POST("/apiKeys/new/{user}", { params: { path: { user: "sYsTeM" } } });
    assertStatus(response, 403, data ?? error);
    assert.deepEqual(error, { error: { code: 403, message: "Invalid name, name cannot be System!" } });
  });

  await step("getUserKeys: both keys, oldest first, with their notes", async () => {
    const { data, error, response } = await ak.GET("/apiKeys/getUserKeys/{user}", { params: { path: { user: alice } } });
    assertStatus(response, 200, data ?? error);
    const keys = data!.keys;
    assert.deepEqual(keys.map(k => [k.token, k.user, k.note]), [[plain, alice, ""], [noted, alice, note]]);
    for (const k of keys) assert.ok(!Number.isNaN(Date.parse(k.created_at)), `created_at ${k.created_at}`);
  });

  await step("getKeys: every key, and not the System key", async () => {
    const { data, error, response } = await ak.GET("/apiKeys/getKeys");
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data!.keys.map(k => [k.token, k.user]), [[plain, alice], [noted, alice], [cafeKey, cafe]]);
    assert.ok(!data!.keys.some(k => k.token === systemKey || k.user.toLowerCase() === "system"));
  });

  await step("getKeys with a user key: 403, the seed's message", async () => {
    const { data, error, response } = await ak.GET("/apiKeys/getKeys", { headers: { Authorization: plain } });
    assertStatus(response, 403, data ?? error);
    assert.deepEqual(error, { error: { code: 403, message: "Invalid authorization Key!" } });
  });

  await step("getKeys without a key: 403", async () => {
    const { data, error, response } = await ak.GET("/apiKeys/getKeys", { headers: { Authorization: null } });
    assertStatus(response, 403, data ?? error);
    assert.deepEqual(error, { error: { code: 403, message: "Please specify an authorization key!" } });
  });

  await step("removeUserKeys: the deleted count", async () => {
    const { data, error, response } = await ak.DELETE("/apiKeys/remove/{user}", { params: { path: { user: alice } } });
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data, { deleted: 2 });
  });

  await step("removeUserKeys again: nothing left to delete", async () => {
    const { data, error, response } = await ak.DELETE("/apiKeys/remove/{user}", { params: { path: { user: alice } } });
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data, { deleted: 0 });
  });

  await step("a removed key is refused at once; the other user's key remains", async () => {
    const refused = await ak.GET("/apiKeys/getKeys", { headers: { Authorization: noted } });
    assertStatus(refused.response, 403, refused.error);
    assert.deepEqual(refused.error, { error: { code: 403, message: "Invalid authorization key!" } });
    const { data, error, response } = await ak.GET("/apiKeys/getKeys");
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data!.keys.map(k => k.token), [cafeKey]);
  });

  await step("removeUserKeys: the UTF-8 user", async () => {
    const { data, error, response } = await ak.DELETE("/apiKeys/remove/{user}", { params: { path: { user: cafe } } });
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data, { deleted: 1 });
  });
}

// --------------------------------------------------------------------- /v1

type ApiKey = V1["schemas"]["ApiKey"];

function assertKey(k: ApiKey | undefined, want: Partial<ApiKey>): asserts k is ApiKey {
  assert.ok(k, "no api_key in the answer");
  assert.match(k.api_key, guildKeyRE);
  // The id comes back as a string with every digit: it is above 2^53.
  assert.equal(typeof k.guild_id, "string");
  assert.equal(k.guild_id, guildId);
  assert.equal(k.created_by, adminId);
  assert.ok(Number.isInteger(k.id) && k.id >= 1, `id ${k.id}`);
  assert.ok(!Number.isNaN(Date.parse(k.created_at)), `created_at ${k.created_at}`);
  for (const [field, value] of Object.entries(want)) {
    assert.deepEqual(k[field as keyof ApiKey], value, field);
  }
}

async function v1(): Promise<void> {
  const asAdmin = createClient<V1Paths>({ baseUrl: `${base}/v1`, headers: { Authorization: `Bearer ${adminToken}` } });
  let first: ApiKey | undefined, second: ApiKey | undefined;

  await step("the guild id is above 2^53: a JavaScript number would lose digits", async () => {
    assert.ok(BigInt(guildId) > BigInt(Number.MAX_SAFE_INTEGER));
    assert.notEqual(String(Number(guildId)), guildId);
  });

  await step("createApiKey as the administrator, guild_id as a string", async () => {
    const { data, error, response } = await asAdmin.POST("/auth/api-key", { body: { guild_id: guildId } });
    assertStatus(response, 200, data ?? error);
    assert.equal(data!.success, true);
    assert.equal(data!.error, null);
    assertKey(data!.data.api_key, { last_use: null });
    first = data!.data.api_key;
  });

  await step("createApiKey: a second key", async () => {
    const { data, error, response } = await asAdmin.POST("/auth/api-key", { body: { guild_id: guildId } });
    assertStatus(response, 200, data ?? error);
    assertKey(data!.data.api_key, { last_use: null });
    second = data!.data.api_key;
    assert.notEqual(second.api_key, first!.api_key);
    assert.ok(second.id > first!.id);
  });

  await step("createApiKey with guild_id as a number: it lost digits, so it names a guild the user does not administer", async () => {
    const { data, error, response } = await asAdmin.POST("/auth/api-key", { body: { guild_id: Number(guildId) } });
    assertStatus(response, 403, data ?? error);
    assert.equal(error?.detail, "You do not administer this guild.");
  });

  await step("listApiKeys: both keys, guild_id as a string in the query", async () => {
    const { data, error, response } = await asAdmin.GET("/auth/api-key", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 200, data ?? error);
    assert.equal(data!.success, true);
    const keys = data!.data.api_keys;
    assert.deepEqual(keys.map(k => [k.id, k.api_key]), [[first!.id, first!.api_key], [second!.id, second!.api_key]]);
    for (const k of keys) assertKey(k, {});
  });

  await step("an unknown Discord token: 401 with WWW-Authenticate", async () => {
    const { data, error, response } = await asAdmin.GET("/auth/api-key", {
      params: { query: { guild_id: guildId } },
      headers: { Authorization: "Bearer not-a-discord-token" },
    });
    assertStatus(response, 401, data ?? error);
    assert.equal(response.headers.get("WWW-Authenticate"), "Bearer");
    assert.equal(response.headers.get("Content-Type"), "application/problem+json");
    assert.equal(error?.detail, "Discord did not accept the access token.");
  });

  const asKey = createClient<V1Paths>({ baseUrl: `${base}/v1`, headers: { Authorization: `Bearer ${first!.api_key}` } });

  await step("getSettings with the guild key: the defaults", async () => {
    const { data, error, response } = await asKey.GET("/settings", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 200, data ?? error);
    const { metadata, settings, entitlements } = data!.data;
    assert.equal(metadata.id, guildId);
    assert.equal(settings.guild_id, guildId);
    assert.equal(settings.language, "en");
    assert.equal(settings.gmt, "UTC");
    assert.deepEqual(entitlements, []);
  });

  await step("updateSettings with the guild key: language nl", async () => {
    const { data, error, response } = await asKey.PUT("/settings", { body: { guild_id: guildId, language: "nl" } });
    assertStatus(response, 200, data ?? error);
    assert.equal(data!.success, true);
    assert.equal(data!.data.settings.guild_id, guildId);
    assert.equal(data!.data.settings.language, "nl");
    assert.equal(data!.data.settings.gmt, "UTC", "a field not sent keeps its value");
  });

  await step("getSettings: nl, read back", async () => {
    const { data, error, response } = await asKey.GET("/settings", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 200, data ?? error);
    assert.equal(data!.data.settings.guild_id, guildId);
    assert.equal(data!.data.settings.language, "nl");
  });

  await step("listAuditEntries: the change, made by an API key", async () => {
    const { data, error, response } = await asAdmin.GET("/modules/logging/entries", {
      params: { query: { guild_id: guildId, limit: 1 } },
    });
    assertStatus(response, 200, data ?? error);
    const [entry] = data!.data.entries;
    assert.ok(entry, "no audit entry");
    assert.equal(entry.guild_id, guildId);
    assert.equal(entry.actor, "An API key");
    assert.equal(entry.action, "settings.updated");
    assert.deepEqual(entry.changes, { language: "nl" });
  });

  await step("listApiKeys with the guild key: 403, keys cannot manage keys", async () => {
    const { data, error, response } = await asKey.GET("/auth/api-key", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 403, data ?? error);
    assert.equal(error?.success, false);
    assert.equal(error?.detail, "API keys cannot manage API keys.");
  });

  await step("deleteApiKey as the administrator: the deleted key", async () => {
    const { data, error, response } = await asAdmin.DELETE("/auth/api-key", {
      body: { guild_id: guildId, api_key: first!.api_key },
    });
    assertStatus(response, 200, data ?? error);
    assert.equal(data!.success, true);
    assertKey(data!.data.api_key, { id: first!.id, api_key: first!.api_key });
  });

  await step("the deleted key gets 401 at once", async () => {
    const { data, error, response } = await asKey.GET("/settings", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 401, data ?? error);
  });

  await step("listApiKeys: the second key is left", async () => {
    const { data, error, response } = await asAdmin.GET("/auth/api-key", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data!.data.api_keys.map(k => k.api_key), [second!.api_key]);
  });

  await step("deleteApiKey: the second key; the list is empty", async () => {
    const del = await asAdmin.DELETE("/auth/api-key", { body: { guild_id: guildId, api_key: second!.api_key } });
    assertStatus(del.response, 200, del.data ?? del.error);
    assertKey(del.data!.data.api_key, { id: second!.id, api_key: second!.api_key });
    const { data, error, response } = await asAdmin.GET("/auth/api-key", { params: { query: { guild_id: guildId } } });
    assertStatus(response, 200, data ?? error);
    assert.deepEqual(data!.data.api_keys, []);
  });
}

try {
  await apiKeys();
  await v1();
  console.log(`\n${steps} steps passed`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
