// The game page: each action is one fetch() to the /v1 API.
// Every action carries its own Idempotency-Key, kept for retries: the API derives
// the event id from (player, key), so a retried action can never count twice.
"use strict";

(() => {
  const API = document.body.dataset.apiBase;
  const STORAGE = "questline.play.v1";
  const KEEP_EVENTS = 25;
  const PLAYER_PATTERN = /^[A-Za-z0-9_.:@-]{1,64}$/;
  const ITEMS = {
    sword: { strength: 5, types: ["longsword", "katana", "rapier", "claymore"] },
    axe: { strength: 7, types: ["battleaxe", "hatchet", "bardiche"] },
    shield: { strength: 3, types: ["kite", "buckler", "tower"] },
  };

  const $ = (id) => document.getElementById(id);
  const answer = $("answer");
  const retryButton = $("retry");
  let saved = load();
  let pending = null; // the last action that got no final answer: {action, key}
  let retryTimer = null;

  function load() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE)) || { player: null, guild: "", events: {} };
    } catch {
      return { player: null, guild: "", events: {} };
    }
  }

  function store() {
    try {
      localStorage.setItem(STORAGE, JSON.stringify(saved));
    } catch {
      // Private mode or full storage: the page still works, it just forgets on reload.
    }
  }

  // crypto.randomUUID exists only in secure contexts (https, localhost); the kind
  // ingress serves plain http, so fall back to the same v4 layout from getRandomValues.
  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props);
    for (const child of children) node.append(child);
    return node;
  }

  // ---------------------------------------------------------------- token
  // The page logs in as a real client does: POST /v1/dev/login hands a token for the chosen
  // player (the local stack and kind only). An API without that login (404) gets no credential.
  // Tokens live in memory only; a 401 drops the player's, and the next try logs in again.
  const tokens = {};

  async function authorization(player) {
    if (!(player in tokens)) {
      const r = await fetch(API + "/dev/login", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify({ player_id: player }),
      });
      tokens[player] = r.ok ? (await r.json()).access_token : null;
    }
    return tokens[player] ? { Authorization: `Bearer ${tokens[player]}` } : {};
  }

  // ---------------------------------------------------------------- player

  function choosePlayer(name) {
    saved.player = name;
    saved.events[name] ||= [];
    store();
    $("player-name").value = name;
    $("player-current").textContent = `Playing as ${name}.`;
    $("actions").disabled = false;
    renderEvents();
  }

  $("player-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("player-name").value.trim();
    if (!PLAYER_PATTERN.test(name)) {
      $("player-name").setAttribute("aria-invalid", "true");
      $("player-current").textContent =
        "That name cannot be used: 1–64 letters, digits or _ . : @ - (no spaces).";
      $("player-name").focus();
      return;
    }
    $("player-name").removeAttribute("aria-invalid");
    choosePlayer(name);
  });

  $("player-random").addEventListener("click", () => {
    const knights = ["arthur", "lancelot", "gawain", "percival", "galahad", "tristan", "bedivere"];
    const name = `${knights[Math.floor(Math.random() * knights.length)]}-${newKey().slice(0, 6)}`;
    choosePlayer(name);
  });

  // ---------------------------------------------------------------- actions

  function actionFor(form, button) {
    const player = encodeURIComponent(saved.player);
    const data = new FormData(form);
    const text = (name) => (data.get(name) || "").toString().trim();
    // Numbers go as typed: the server, not the page, decides what is valid.
    const number = (name) => (text(name) === "" ? null : Number(text(name)));
    switch (button.dataset.action || form.dataset.action) {
      case "purchase": {
        const item = text("item");
        const body = { item, strength: number("strength") };
        if (text("item_type")) body.item_type = text("item_type");
        if (number("price") !== null) body.price = number("price");
        return {
          label: `Buy ${item}${body.item_type ? ` (${body.item_type})` : ""}`,
          method: "POST",
          path: `/players/${player}/purchases`,
          body,
        };
      }
      case "join":
        return {
          label: `Join guild ${text("guild_name")}`,
          method: "POST",
          path: `/players/${player}/guild-memberships`,
          body: { guild_name: text("guild_name") },
          guild: text("guild_name"),
        };
      case "leave":
        return {
          label: `Leave guild ${text("guild_name")}`,
          method: "DELETE",
          path: `/players/${player}/guild-memberships/${encodeURIComponent(text("guild_name"))}`,
        };
      case "war":
      case "peace": {
        const war = button.dataset.action === "war";
        return {
          label: `${war ? "War" : "Peace"}: ${text("guild_name")} → ${text("target_guild")}`,
          method: "POST",
          path: `/guilds/${encodeURIComponent(text("guild_name"))}/${war ? "wars" : "peace"}`,
          body: { target_guild: text("target_guild"), player_id: saved.player },
        };
      }
      default:
        throw new Error(`unknown action on ${form.id}`);
    }
  }

  function missingField(action) {
    // Path segments cannot be empty; the API would answer 404 or 405 for them.
    if (action.method === "DELETE" && action.path.endsWith("/guild-memberships/")) return "guild-name";
    if (action.path.startsWith("/guilds//")) return "own-guild";
    return null;
  }

  for (const form of document.querySelectorAll("#actions form")) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const action = actionFor(form, e.submitter || form.querySelector("button[type=submit]"));
      const empty = missingField(action);
      if (empty) {
        show("problem", [el("p", { textContent: `Fill in “${$(empty).labels[0].textContent}” first.` })]);
        $(empty).focus();
        return;
      }
      send(action, newKey());
    });
  }

  document.querySelectorAll("input[name=item]").forEach((radio) =>
    radio.addEventListener("change", () => {
      const item = ITEMS[radio.value];
      $("strength").value = item.strength;
      $("item-type").placeholder = item.types[0];
      $("item-types").replaceChildren(...item.types.map((t) => el("option", { value: t })));
    }),
  );

  retryButton.addEventListener("click", () => {
    if (pending) send(pending.action, pending.key);
  });

  // ---------------------------------------------------------------- talking to the API

  async function send(action, key) {
    clearTimeout(retryTimer);
    retryButton.hidden = true;
    pending = { action, key };
    clearInvalid();
    show("sending", [el("p", { textContent: `${action.label}: sending…` })]);
    $("actions").setAttribute("aria-busy", "true");
    let response;
    let body;
    try {
      const credential = await authorization(saved.player);
      response = await fetch(API + action.path, {
        method: action.method,
        headers: {
          Accept: "application/json, application/problem+json",
          "Idempotency-Key": key,
          ...credential,
          ...(action.body ? { "Content-Type": "application/json" } : {}),
        },
        body: action.body ? JSON.stringify(action.body) : undefined,
      });
      const type = response.headers.get("Content-Type") || "";
      body = type.includes("json") ? await response.json() : { detail: await response.text() };
    } catch (err) {
      $("actions").removeAttribute("aria-busy");
      show("unavailable", [
        el("p", { className: "headline", textContent: `${action.label}: the game server could not be reached.` }),
        el("p", { textContent: `${err.message}. Your action may or may not have arrived; retrying is safe.` }),
      ]);
      offerRetry(0);
      return;
    }
    $("actions").removeAttribute("aria-busy");
    if (response.status === 401) delete tokens[saved.player];
    if (response.ok) {
      pending = null;
      acknowledged(action, key, body);
    } else if (response.status === 503) {
      const wait = Number.parseInt(response.headers.get("Retry-After") || "2", 10);
      show("unavailable", [
        el("p", { className: "headline", textContent: `${action.label}: not confirmed (503 ${body.title || "Service unavailable"}).` }),
        el("p", { textContent: `${body.detail || ""} The server asks to retry after ${wait} s; the retry reuses this action's Idempotency-Key, so it cannot count twice.` }),
      ]);
      offerRetry(wait);
    } else {
      pending = null;
      problem(action, response.status, body);
    }
  }

  function acknowledged(action, key, body) {
    if (action.guild) {
      saved.guild = action.guild;
      if (!$("own-guild").value) $("own-guild").value = action.guild;
    }
    const events = (saved.events[saved.player] ||= []);
    const repeat = events.some((e) => e.event_id === body.event_id);
    if (!repeat) {
      events.unshift({
        event_id: body.event_id,
        event_type: body.event_type,
        label: action.label,
        at: new Date().toISOString(),
        key,
      });
      events.length = Math.min(events.length, KEEP_EVENTS);
    }
    store();
    renderEvents();
    show("accepted", [
      el("p", { className: "headline", textContent: `${action.label}: accepted (202).` }),
      el("p", {}, "Event ", el("code", { className: "event-id", textContent: body.event_id }),
        ` (${body.event_type})${repeat ? " — the same event as before: this retry was not counted twice." : "."}`),
    ]);
  }

  function problem(action, status, body) {
    const errors = Array.isArray(body.errors) ? body.errors : [];
    const parts = [
      el("p", { className: "headline", textContent: `${action.label}: refused (${status} ${body.title || ""}).` }),
    ];
    if (errors.length) {
      parts.push(el("ul", {}, ...errors.map((e) => el("li", {}, el("strong", { textContent: e.field }), `: ${e.reason}`))));
      markInvalid(errors);
    } else if (body.detail) {
      parts.push(el("p", { textContent: body.detail }));
    }
    parts.push(el("p", { className: "hint", textContent: "Nothing was recorded. Change the form and try again." }));
    show("problem", parts);
  }

  const FIELD_INPUTS = {
    strength: "strength",
    item_type: "item-type",
    price: "price",
    item: "item-type",
    guild_name: "guild-name",
    target_guild: "target-guild",
  };

  function markInvalid(errors) {
    for (const e of errors) {
      const input = $(FIELD_INPUTS[e.field] || "");
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }

  function clearInvalid() {
    document.querySelectorAll("#actions [aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }

  function offerRetry(seconds) {
    let left = seconds;
    const tick = () => {
      retryButton.hidden = false;
      retryButton.disabled = left > 0;
      retryButton.textContent = left > 0 ? `Retry in ${left} s (same Idempotency-Key)` : "Retry with the same Idempotency-Key";
      if (left-- > 0) retryTimer = setTimeout(tick, 1000);
    };
    tick();
  }

  function show(state, children) {
    answer.dataset.state = state;
    answer.replaceChildren(...children);
  }

  function renderEvents() {
    const events = saved.events[saved.player] || [];
    $("events").replaceChildren(
      ...events.map((e) =>
        el(
          "li",
          { className: "event" },
          el("time", { dateTime: e.at, textContent: new Date(e.at).toLocaleTimeString() }),
          el("span", { className: "event-type", textContent: e.event_type }),
          el("span", { className: "event-label", textContent: e.label }),
          el("code", { className: "event-id", textContent: e.event_id }),
        ),
      ),
    );
    $("events-empty").hidden = events.length > 0;
  }

  // ---------------------------------------------------------------- start

  document.querySelector("input[name=item]:checked").dispatchEvent(new Event("change"));
  if (saved.guild) {
    $("guild-name").value = saved.guild;
    $("own-guild").value = saved.guild;
  }
  if (saved.player) choosePlayer(saved.player);
  else $("player-name").value = "";
})();
