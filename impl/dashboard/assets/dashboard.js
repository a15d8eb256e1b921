// The dashboard's pages are a client of apikeyd's documented /v1 API
// (openapi/v1.yaml), authenticated by the session cookie: the server
// renders only the frame. Keys are held in this script's memory and never
// written into the page: the page shows each masked, and Copy puts the
// whole key on the clipboard. Text goes into the page as text only
// (textContent), never as HTML.
"use strict";

(() => {
  const app = document.getElementById("app");
  if (!app) {
    return;
  }
  const byId = (id) => document.getElementById(id);

  class ApiError extends Error {
    // detail is the problem's own sentence, when the API sent one.
    constructor(status, message, detail = "") {
      super(message);
      this.status = status;
      this.detail = detail;
    }
  }

  // api calls /v1 and returns the answer's data, or throws an ApiError
  // whose message says in a sentence what the API refused.
  async function api(method, path, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/problem+json, application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch("/v1" + path, init);
    } catch {
      throw new ApiError(0, "apikeyd could not be reached. Check your connection and try again.");
    }
    let json = null;
    try {
      json = await res.json();
    } catch {
      // An answer that is not JSON is explained by its status alone.
    }
    if (res.ok && json && json.success) {
      return json.data;
    }
    throw new ApiError(res.status, explain(res, json), detailOf(json));
  }

  function detailOf(problem) {
    return problem && typeof problem.detail === "string" ? problem.detail : "";
  }

  function explain(res, problem) {
    const detail = detailOf(problem);
    switch (res.status) {
      case 401:
        return "Your session has ended. Log in again to go on.";
      case 403:
        return "Not allowed: " + (detail || "you cannot do this here.");
      case 422:
        return "Not possible: " + (detail || "the API refused this.");
      case 429: {
        const wait = res.headers.get("Retry-After");
        return "Too many attempts. Try again" + (wait ? " in " + wait + " seconds." : " in a moment.");
      }
      case 503:
        return "Discord or apikeyd is not available right now" + (detail ? " (" + detail.replace(/\.$/, "") + ")" : "") + ". Try again in a moment.";
    }
    return detail ? "Something went wrong: " + detail : "Something went wrong (HTTP " + res.status + "). Try again later.";
  }

  const status = byId("status");
  const errorBox = byId("error");

  function say(text) {
    status.textContent = text;
  }

  // fail shows what went wrong; after a 401, with a way to log in again
  // that comes back to this page.
  function fail(err) {
    errorBox.hidden = false;
    errorBox.textContent = err.message;
    if (err.status === 401) {
      const link = document.createElement("a");
      link.id = "login-again";
      link.href = "/dashboard/login?next=" + encodeURIComponent(location.pathname);
      link.textContent = "Log in with Discord";
      errorBox.append(" ", link);
    }
    say("");
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  // initials stand for a guild's icon, which would have to come from
  // Discord's servers.
  function initials(name) {
    return name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => Array.from(w)[0])
      .join("")
      .toUpperCase();
  }

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined) {
      e.textContent = text;
    }
    if (className) {
      e.className = className;
    }
    return e;
  }

  function time(iso) {
    if (!iso) {
      return el("span", "Never");
    }
    const t = el("time", new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
    t.dateTime = iso;
    return t;
  }

  const userID = app.dataset.userId;

  // ---- The server picker ----

  async function picker() {
    let data;
    try {
      data = await api("GET", "/helpers/get-husqy-for-guild");
    } catch (err) {
      fail(err);
      return;
    }
    const list = byId("guilds");
    const guilds = [...data.guilds].sort((a, b) => Number(b.active) - Number(a.active));
    for (const g of guilds) {
      const item = el("li", undefined, g.active ? "guild active" : "guild");
      const badge = el("span", initials(g.name), "initials");
      badge.setAttribute("aria-hidden", "true");
      let target;
      if (g.active) {
        target = el("a");
        target.href = "/dashboard/guilds/" + g.id;
        target.id = "guild-" + g.id;
      } else {
        target = el("span");
      }
      target.append(badge, el("span", g.name, "name"));
      if (!g.active) {
        target.append(el("span", "not administered by you in apikeyd", "note"));
      }
      item.append(target);
      list.append(item);
    }
    const active = guilds.filter((g) => g.active).length;
    say(
      guilds.length === 0
        ? "Discord lists no servers for you."
        : active === 0
          ? "You administer none of your servers in apikeyd. An operator grants that with apikeyd guild-admin add."
          : "You can manage the keys of " + active + (active === 1 ? " server." : " servers."),
    );
  }

  // ---- A guild's keys ----

  function mask(key) {
    return key.slice(0, key.indexOf("_") + 1) + "…" + key.slice(-4);
  }

  async function copy(key) {
    try {
      await navigator.clipboard.writeText(key);
      clearError();
      say("Copied key " + mask(key) + " to the clipboard.");
    } catch {
      fail(new ApiError(0, "The browser did not let the page write to the clipboard."));
    }
  }

  function guildPage() {
    const guildID = app.dataset.guildId;
    // keys are the guild's keys by id: the only place a whole key is.
    const keys = new Map();
    const body = byId("keys-body");
    const columns = [...document.querySelectorAll("#keys thead th")].map((th) => th.textContent);
    const createButton = byId("create-key");
    const dialog = byId("confirm-delete");
    let newKey = "";
    let deleting = null;

    function row(k) {
      keys.set(k.id, k.api_key);
      const tr = el("tr");
      tr.id = "key-" + k.id;
      const keyCell = el("td");
      keyCell.append(el("code", mask(k.api_key)));
      const actions = el("td", undefined, "actions");
      const copyButton = el("button", "Copy");
      copyButton.type = "button";
      copyButton.id = "copy-" + k.id;
      copyButton.setAttribute("aria-label", "Copy key " + mask(k.api_key));
      copyButton.addEventListener("click", () => copy(keys.get(k.id)));
      const deleteButton = el("button", "Delete", "danger");
      deleteButton.type = "button";
      deleteButton.id = "delete-" + k.id;
      deleteButton.setAttribute("aria-label", "Delete key " + mask(k.api_key));
      deleteButton.addEventListener("click", () => confirmDelete(k.id));
      actions.append(copyButton, " ", deleteButton);
      const by = el("td", userName(k.created_by));
      const created = el("td");
      created.append(time(k.created_at));
      const used = el("td");
      used.append(time(k.last_use));
      tr.append(keyCell, created, by, used, actions);
      // The roles keep it a table for screen readers where a narrow
      // screen's style sheet lays rows out as cards; the labels head each
      // line of a card.
      tr.setAttribute("role", "row");
      for (const [i, td] of [...tr.children].entries()) {
        td.setAttribute("role", "cell");
        if (td !== actions) {
          td.dataset.label = columns[i];
        }
      }
      return tr;
    }

    function userName(id) {
      return id === userID ? "you" : "user " + id;
    }

    // actorName names an audit entry's actor; users are written as
    // Discord mentions (<@USER_ID>), which a page outside Discord does not
    // turn into names.
    function actorName(actor) {
      const mention = /^<@(\d+)>$/.exec(actor);
      return mention ? userName(mention[1]) : actor;
    }

    function counted() {
      const n = keys.size;
      return n === 0 ? "This server has no API keys yet." : "This server has " + n + (n === 1 ? " API key." : " API keys.");
    }

    async function load() {
      try {
        const data = await api("GET", "/auth/api-key?guild_id=" + encodeURIComponent(guildID));
        body.replaceChildren(...data.api_keys.map(row));
        say(counted());
      } catch (err) {
        fail(err);
      }
    }

    async function name() {
      try {
        const data = await api("GET", "/helpers/get-husqy-for-guild");
        const g = data.guilds.find((x) => x.id === guildID);
        if (g) {
          byId("guild-name").textContent = "API keys of " + g.name;
          document.title = g.name + " · apikeyd dashboard";
        }
      } catch {
        // The heading stays generic; the key list says what failed.
      }
    }

    // audits counts the audit log's loads: each change reloads it, and an
    // answer that arrives after a later load's is older, so it is dropped.
    let audits = 0;

    async function audit() {
      const list = byId("audit");
      const auditStatus = byId("audit-status");
      const mine = ++audits;
      let data;
      try {
        data = await api("GET", "/modules/logging/entries?limit=10&guild_id=" + encodeURIComponent(guildID));
      } catch (err) {
        if (mine === audits) {
          auditStatus.textContent = "The audit log could not be loaded. " + err.message;
        }
        return;
      }
      if (mine !== audits) {
        return;
      }
      list.replaceChildren(
        ...data.entries.map((e) => {
          const item = el("li");
          item.append(time(e.created_at), " · ", el("span", actorName(e.actor), "actor"), " · ", el("code", e.action));
          return item;
        }),
      );
      auditStatus.textContent = data.entries.length === 0 ? "Nothing has changed yet." : "The latest " + data.entries.length + " changes, newest first.";
    }

    createButton.addEventListener("click", async () => {
      createButton.disabled = true;
      clearError();
      say("Creating a key…");
      try {
        const data = await api("POST", "/auth/api-key", { guild_id: guildID });
        const k = data.api_key;
        body.append(row(k));
        newKey = k.api_key;
        byId("new-key-text").textContent = "Created key " + mask(k.api_key) + ". Copy it now, or later from the list.";
        byId("new-key").hidden = false;
        say("Created key " + mask(k.api_key) + ". " + counted());
        byId("copy-new-key").focus();
        audit();
      } catch (err) {
        // The one 422 createApiKey answers (openapi/v1.yaml): the server
        // holds its maximum of keys.
        fail(err.status === 422 && err.detail ? new ApiError(422, err.detail + " Delete a key you no longer use, then create one.") : err);
      } finally {
        createButton.disabled = false;
      }
    });

    byId("copy-new-key").addEventListener("click", () => copy(newKey));

    function confirmDelete(id) {
      deleting = id;
      byId("confirm-delete-text").textContent =
        "Key " + mask(keys.get(id)) + " stops working at once for every program that uses it. This cannot be undone.";
      dialog.returnValue = "";
      dialog.showModal();
    }

    dialog.addEventListener("close", async () => {
      const id = deleting;
      deleting = null;
      if (dialog.returnValue !== "delete" || id === null) {
        const back = byId("delete-" + id);
        if (back) {
          back.focus();
        }
        return;
      }
      const key = keys.get(id);
      clearError();
      say("Deleting key " + mask(key) + "…");
      try {
        await api("DELETE", "/auth/api-key", { guild_id: guildID, api_key: key });
        keys.delete(id);
        byId("key-" + id).remove();
        if (newKey === key) {
          newKey = "";
          byId("new-key").hidden = true;
        }
        say("Deleted key " + mask(key) + ". " + counted());
        createButton.focus();
        audit();
      } catch (err) {
        fail(err);
      }
    });

    name();
    load();
    audit();
  }

  if (app.dataset.page === "picker") {
    picker();
  } else if (app.dataset.page === "guild") {
    guildPage();
  }
})();
