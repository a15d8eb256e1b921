// The round trip of the clients @hey-api/openapi-ts generates (fetch
// client) from the documents a started apikeyd serves: guild keys created,
// listed, used and deleted, settings, the audit log, and /apiKeys. Each
// step checks the status and the fields of the answer; the first failure
// ends the run with exit status 1.
//
// The seed makes DISCORD_TOKEN's user an administrator of GUILD_ID (./env).
import assert from "node:assert/strict";
import * as ak from "../gen/apikeys";
import { createClient as createApiKeysClient } from "../gen/apikeys/client";
import * as v1 from "../gen/v1";
import { createClient as createV1Client } from "../gen/v1/client";
import { base, env, guildId, run, user } from "./env";

// A /v1 client that sends token as the bearer credential every operation
// accepts; the cookie scheme is left out.
const v1As = (token: string) =>
  createV1Client({ baseUrl: `${base}/v1`, auth: (scheme) => (scheme.scheme === "bearer" ? token : undefined) });

function assertStatus(response: Response | undefined, want: number, body: unknown): void {
  assert.equal(response?.status, want, `status ${response?.status}, want ${want}: ${JSON.stringify(body)}`);
}

async function roundTrip(): Promise<void> {
  const admin = v1As(env("DISCORD_TOKEN"));
  const created = await v1.createApiKey({ client: admin, body: { guild_id: guildId } });
  assertStatus(created.response, 200, created.data ?? created.error);
  assert.equal(created.data?.success, true);
  assert.equal(created.data?.error, null);
  const key = created.data!.data.api_key;
  assert.equal(key.guild_id, guildId);
  assert.equal(key.last_use, null);

  const listed = await v1.listApiKeys({ client: admin, query: { guild_id: guildId } });
  assertStatus(listed.response, 200, listed.data ?? listed.error);
  assert.ok(listed.data!.data.api_keys.some((k) => k.api_key === key.api_key), "the new key is listed");

  const withKey = v1As(key.api_key);
  const changed = await v1.updateSettings({ client: withKey, body: { guild_id: guildId, language: "nl" } });
  assertStatus(changed.response, 200, changed.data ?? changed.error);
  assert.equal(changed.data!.data.settings.language, "nl");
  const read = await v1.getSettings({ client: withKey, query: { guild_id: guildId } });
  assertStatus(read.response, 200, read.data ?? read.error);
  assert.equal(read.data!.data.settings.guild_id, guildId);
  assert.equal(read.data!.data.settings.language, "nl");

  // fetch sends Accept: */*, so the problem comes as problem+json; the
  // client reads it as the document's Problem either way.
  const refused = await v1.listApiKeys({ client: withKey, query: { guild_id: guildId } });
  assertStatus(refused.response, 403, refused.data ?? refused.error);
  assert.equal(refused.response.headers.get("Content-Type"), "application/problem+json");
  assert.equal(refused.error?.status, 403);
  assert.equal(refused.error?.detail, "API keys cannot manage API keys.");

  const entries = await v1.listAuditEntries({ client: admin, query: { guild_id: guildId, limit: 2 } });
  assertStatus(entries.response, 200, entries.data ?? entries.error);
  const [newest, before] = entries.data!.data.entries;
  assert.equal(newest?.action, "settings.updated");
  assert.equal(newest?.actor, "An API key");
  assert.deepEqual(newest?.changes, { language: "nl" });
  assert.equal(before?.action, "api_key.created");

  const deleted = await v1.deleteApiKey({ client: admin, body: { guild_id: guildId, api_key: key.api_key } });
  assertStatus(deleted.response, 200, deleted.data ?? deleted.error);
  assert.equal(deleted.data!.data.api_key.id, key.id);
  const gone = await v1.getSettings({ client: withKey, query: { guild_id: guildId } });
  assertStatus(gone.response, 401, gone.data ?? gone.error);
  assert.equal(gone.response.headers.get("WWW-Authenticate"), "Bearer");

  const system = createApiKeysClient({ baseUrl: base, auth: env("SYSTEM_KEY") });
  const plain = await ak.createKey({ client: system, path: { user } });
  assertStatus(plain.response, 200, plain.data ?? plain.error);
  assert.match(plain.data!.token, /^akdu_[0-9A-Za-z]{36}$/);
  const noted = await ak.createKeyWithNote({ client: system, path: { user, note: "generated client" } });
  assertStatus(noted.response, 200, noted.data ?? noted.error);
  const mine = await ak.getUserKeys({ client: system, path: { user } });
  assertStatus(mine.response, 200, mine.data ?? mine.error);
  assert.deepEqual(mine.data!.keys.map((k) => [k.token, k.note]), [[plain.data!.token, ""], [noted.data!.token, "generated client"]]);
  const removed = await ak.removeUserKeys({ client: system, path: { user } });
  assertStatus(removed.response, 200, removed.data ?? removed.error);
  assert.deepEqual(removed.data, { deleted: 2 });
  const asUser = createApiKeysClient({ baseUrl: base, headers: { Authorization: plain.data!.token } });
  const forbidden = await ak.getKeys({ client: asUser });
  assertStatus(forbidden.response, 403, forbidden.data ?? forbidden.error);
  assert.deepEqual(forbidden.error, { error: { code: 403, message: "Invalid authorization key!" } });
}

run("@hey-api/openapi-ts", roundTrip);
