// The round trip of the clients swagger-typescript-api generates (its
// fetch client, enums as unions) from the documents a started apikeyd
// serves: guild keys created, listed, used and deleted, settings, the
// audit log, and /apiKeys. Each step checks the status and the fields of
// the answer; the first failure ends the run with exit status 1.
//
// The seed makes DISCORD_TOKEN's user an administrator of GUILD_ID (./env).
import assert from "node:assert/strict";
import { Api as ApiKeysApi, type HttpResponse } from "../gen/apikeys";
import { Api as V1Api } from "../gen/v1";
import { base, env, guildId, run, user } from "./env";


// A /v1 client that sends token after Bearer on every secured operation.
const v1As = (token: string) =>
  new V1Api({ baseUrl: `${base}/v1`, securityWorker: () => ({ headers: { Authorization: `Bearer ${token}` } }) });

// refusal is the answer of a call that must fail: the generated client
// throws the response, its error read as the document's type.
async function refusal<E>(call: Promise<HttpResponse<unknown, E>>): Promise<HttpResponse<unknown, E>> {
  try {
    const r = await call;
    throw new Error(`status ${r.status}, want a refusal: ${JSON.stringify(r.data)}`);
  } catch (err) {
    if (err instanceof Response) return err as HttpResponse<unknown, E>;
    throw err;
  }
}

async function roundTrip(): Promise<void> {
  const admin = v1As(env("DISCORD_TOKEN"));
  const created = await admin.auth.createApiKey({ guild_id: guildId });
  assert.equal(created.status, 200);
  // Success is `true` and NoError `null` as types: an envelope's constant
  // parts type-check as the values they are.
  const success: true = created.data.success;
  const noError: null = created.data.error;
  assert.equal(success, true);
  assert.equal(noError, null);
  const key = created.data.data.api_key;
  assert.equal(key.guild_id, guildId);
  assert.equal(key.last_use, null);

  const listed = await admin.auth.listApiKeys({ guild_id: guildId });
  assert.ok(listed.data.data.api_keys.some((k) => k.api_key === key.api_key), "the new key is listed");

  const withKey = v1As(key.api_key);
  const changed = await withKey.settings.updateSettings({ guild_id: guildId, language: "nl" });
  assert.equal(changed.data.data.settings.language, "nl");
  const read = await withKey.settings.getSettings({ guild_id: guildId });
  assert.equal(read.data.data.settings.guild_id, guildId);
  assert.equal(read.data.data.settings.language, "nl");

  // fetch sends Accept: */*, so the problem comes as problem+json.
  const refused = await refusal(withKey.auth.listApiKeys({ guild_id: guildId }));
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get("Content-Type"), "application/problem+json");
  assert.equal(refused.error.status, 403);
  assert.equal(refused.error.detail, "API keys cannot manage API keys.");

  const entries = await admin.modules.listAuditEntries({ guild_id: guildId, limit: 2 });
  const [newest, before] = entries.data.data.entries;
  assert.equal(newest?.action, "settings.updated");
  assert.equal(newest?.actor, "An API key");
  assert.deepEqual(newest?.changes, { language: "nl" });
  assert.equal(before?.action, "api_key.created");

  const deleted = await admin.auth.deleteApiKey({ guild_id: guildId, api_key: key.api_key });
  assert.equal(deleted.data.data.api_key.id, key.id);
  const gone = await refusal(withKey.settings.getSettings({ guild_id: guildId }));
  assert.equal(gone.status, 401);
  assert.equal(gone.headers.get("WWW-Authenticate"), "Bearer");

  const systemKey = env("SYSTEM_KEY");
  const system = new ApiKeysApi({ baseUrl: base, securityWorker: () => ({ headers: { Authorization: systemKey } }) });
  // createKey's answer is read as JSON: its 200 is written out in the
  // operation, where this generator looks for the media type.
  const plain = await system.apiKeys.createKey(user);
  assert.match(plain.data.token, /^akdu_[0-9A-Za-z]{36}$/);
  const noted = await system.apiKeys.createKeyWithNote(user, "generated client");
  assert.match(noted.data.token, /^akdu_[0-9A-Za-z]{36}$/);
  const mine = await system.apiKeys.getUserKeys(user);
  assert.deepEqual(mine.data.keys.map((k) => [k.token, k.note]), [[plain.data.token, ""], [noted.data.token, "generated client"]]);
  const removed = await system.apiKeys.removeUserKeys(user);
  assert.deepEqual(removed.data, { deleted: 2 });
  const forbidden = await refusal(system.apiKeys.getKeys({ secure: false, headers: { Authorization: plain.data.token } }));
  assert.equal(forbidden.status, 403);
  assert.deepEqual(forbidden.error, { error: { code: 403, message: "Invalid authorization key!" } });
}

run("swagger-typescript-api", roundTrip);
