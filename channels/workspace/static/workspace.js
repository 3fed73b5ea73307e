// The agents' workspace: plain JavaScript over the JSON API, live through server-sent events.
// Consumer text is only ever set with textContent, never parsed as HTML.
"use strict";

const BASE = "/webhooks/workspace/";
const CHANNELS = { facebook: ["f", "Facebook"], twitter: ["𝕏", "X"], rest: ["REST", "REST channel"] };

const state = { me: null, queues: null, openId: null, view: null, stream: null, target: null };
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(BASE + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function waited(seconds) {
  if (seconds < 60) return `${Math.max(0, Math.floor(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function percent(confidence) {
  return `${Math.round((confidence || 0) * 100 + 1e-9)}%`;
}

function channelIcon(platform) {
  const [glyph, title] = CHANNELS[platform] || ["?", platform];
  const icon = el("span", `icon ${platform}`, glyph);
  icon.title = title;
  return icon;
}

function consumerName(consumer) {
  if (!consumer) return "Consumer";
  return consumer.name || (consumer.handle ? `@${consumer.handle}` : "Consumer");
}

// --- signing in ---------------------------------------------------------------------------

function showSignIn() {
  $("sign-in-view").hidden = false;
  $("work-view").hidden = true;
  $("who").hidden = true;
  if (state.stream) state.stream.close();
}

function showWork() {
  $("sign-in-view").hidden = true;
  $("work-view").hidden = false;
  $("who").hidden = false;
  $("agent-name").textContent = state.me.name + (state.me.is_admin ? " (admin)" : "");
  $("online").checked = state.me.status === "online";
  $("online-label").textContent = state.me.status === "online" ? "Online" : "Offline";
  connect();
}

async function boot() {
  try {
    state.me = await api("GET", "api/me");
    showWork();
  } catch (error) {
    if (error.status === 401) showSignIn();
    else $("sign-in-error").textContent = error.message;
  }
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  try {
    const answer = await api("POST", "api/session", { name: $("name").value, password: $("password").value });
    state.me = answer.agent;
    showWork();
  } catch (error) {
    $("sign-in-error").textContent = error.message;
  }
});

$("sign-out").addEventListener("click", async () => {
  await api("DELETE", "api/session").catch(() => null);
  state.me = null;
  showSignIn();
});

$("online").addEventListener("change", async () => {
  state.me = await api("PUT", "api/me/status", { status: $("online").checked ? "online" : "offline" });
  $("online-label").textContent = state.me.status === "online" ? "Online" : "Offline";
});

// --- live updates -------------------------------------------------------------------------

function connect() {
  if (state.stream) state.stream.close();
  const query = state.openId ? `?handoff=${state.openId}` : "";
  const stream = new EventSource(`${BASE}api/events${query}`);
  stream.addEventListener("queues", (event) => renderQueues(JSON.parse(event.data)));
  stream.addEventListener("conversation", (event) => {
    const data = JSON.parse(event.data);
    if (data.id === state.openId && (!state.view || state.view.version !== data.version)) loadConversation();
  });
  stream.addEventListener("problem", (event) => {
    $("action-error").textContent = JSON.parse(event.data).error;
  });
  state.stream = stream;
}

setInterval(() => {
  for (const node of document.querySelectorAll("[data-queued-at]")) {
    node.textContent = `waiting ${waited((Date.now() - Date.parse(node.dataset.queuedAt)) / 1000)}`;
  }
}, 1000);

// --- queues -------------------------------------------------------------------------------

function entryNode(entry, withPosition) {
  const item = el("li", "entry");
  if (entry.id === state.openId) item.classList.add("selected");
  item.dataset.handoff = entry.id;
  item.append(channelIcon(entry.platform));
  item.append(el("span", "who-line", consumerName(entry.consumer)));
  const badges = el("span", "inline");
  badges.append(el("span", "badge priority", `P${entry.priority}`));
  if (entry.visibility === "public") badges.append(el("span", "badge public", "public"));
  item.append(badges);
  const meta = el("span", "meta");
  const since = el("span", null, "");
  if (entry.status === "queued") {
    since.dataset.queuedAt = entry.queued_at;
    since.textContent = `waiting ${waited(entry.waiting_seconds)}`;
  } else {
    since.textContent = `with ${entry.agent}`;
  }
  meta.append(since, document.createTextNode(` · ${entry.reason.replace("_", " ")}`));
  if (withPosition) meta.append(document.createTextNode(` · #${entry.position}`));
  item.append(meta);
  item.addEventListener("click", () => openConversation(entry.id));
  return item;
}

function renderQueues(data) {
  state.queues = data;
  const mine = $("mine");
  mine.replaceChildren(...data.mine.map((entry) => entryNode(entry, false)));
  if (!data.mine.length) mine.append(el("li", "empty", "None yet: accept one from a queue."));
  const skills = $("skills");
  skills.replaceChildren();
  for (const skill of data.skills) {
    const section = el("section");
    const title = el("h2", null, skill.name.replace("_", " "));
    title.append(el("span", `badge ${skill.open ? "open" : "closed"}`, skill.open ? "open" : "closed"));
    title.append(el("span", "badge", `${skill.agents_online} online`));
    section.append(title);
    const list = el("ul", "entries");
    list.append(...skill.queued.map((entry) => entryNode(entry, true)));
    if (!skill.queued.length) list.append(el("li", "empty", "Nobody waiting."));
    section.append(list);
    skills.append(section);
  }
}

// --- one conversation ---------------------------------------------------------------------

async function openConversation(id) {
  state.openId = id;
  state.target = null;
  $("text").value = "";
  for (const node of document.querySelectorAll(".entry")) {
    node.classList.toggle("selected", Number(node.dataset.handoff) === id);
  }
  await loadConversation();
  connect();
}

async function loadConversation() {
  if (!state.openId) return;
  try {
    state.view = await api("GET", `api/handoffs/${state.openId}`);
    renderConversation(state.view);
  } catch (error) {
    $("action-error").textContent = error.message;
    if (error.status === 403 || error.status === 404) {
      state.openId = null;
      $("conversation-body").hidden = true;
      $("nothing-open").hidden = false;
    }
  }
}

function chips(values) {
  const box = el("div", "chips");
  for (const value of values) box.append(el("span", "chip", value));
  return box;
}

function renderConversation(view) {
  $("nothing-open").hidden = true;
  $("conversation-body").hidden = false;
  $("action-error").textContent = "";
  const { handoff, consumer } = view;
  $("consumer-name").textContent = consumerName(consumer);
  $("consumer-handle").textContent = consumer.handle ? `@${consumer.handle}` : "";
  $("picture").hidden = !consumer.picture;
  if (consumer.picture) $("picture").src = consumer.picture;
  const [, channel] = CHANNELS[consumer.platform] || ["", consumer.platform];
  $("consumer-channel").textContent = `${channel}, ${handoff.visibility}`;
  $("handoff-state").textContent = handoff.status === "queued"
    ? `queued in ${handoff.skill}, #${handoff.position}, priority ${handoff.priority}`
    : `${handoff.status}${handoff.agent ? `, with ${handoff.agent}` : ""} (${handoff.skill})`;

  const rule = view.rule ? `rule "${view.rule}"` : "the default route";
  const reason = `${view.reason.replace("_", " ")}; ${rule} → ${handoff.skill}`;
  $("reason").textContent = handoff.transfer_note ? `${reason}. Note: ${handoff.transfer_note}` : reason;

  const understood = $("understood");
  understood.replaceChildren(
    chips(view.understood.intents.map((intent) => `${intent.name} ${percent(intent.confidence)}`)),
    chips(Object.entries(view.understood.entities).map(([name, values]) => `${name}: ${values.join(", ")}`)),
    chips(Object.entries(view.understood.slots).map(([name, value]) => `${name} = ${value}`)),
  );
  $("window").textContent = view.window.explanation;

  const actions = view.actions;
  $("accept").hidden = !actions.accept;
  $("close-box").hidden = !actions.close;
  $("transfer-box").hidden = !actions.transfer;
  $("transfer-skill").replaceChildren(
    ...view.all_skills.filter((name) => name !== handoff.skill).map((name) => {
      const option = el("option", null, name);
      option.value = name;
      return option;
    }),
  );
  $("composer").hidden = !actions.reply_private && !actions.reply_public;
  renderTimeline(view);
  renderTarget();
}

function publicActions(item, actions) {
  const box = el("div", "public-actions");
  if (actions.reply_public) {
    const reply = el("button", "small", "Reply publicly");
    reply.type = "button";
    reply.addEventListener("click", () => { state.target = item; renderTarget(); $("text").focus(); });
    box.append(reply);
  }
  if (actions.like) {
    const like = el("button", "small", "Like");
    like.type = "button";
    like.addEventListener("click", () => act(`api/handoffs/${state.openId}/like`, { object_id: item.event_id }));
    box.append(like);
  }
  if (actions.cta) {
    const cta = el("button", "small", "Invite to private");
    cta.type = "button";
    cta.addEventListener("click", () => act(`api/handoffs/${state.openId}/cta`, { in_reply_to: item.event_id }));
    box.append(cta);
  }
  return box;
}

function renderTimeline(view) {
  const list = $("timeline");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const firstRender = list.dataset.handoff !== String(view.handoff.id);
  list.dataset.handoff = view.handoff.id;
  list.replaceChildren();
  for (const item of view.timeline) {
    const node = el("li", `item ${item.from === "cta" ? "agent" : item.from}`);
    if (item.status === "failed" || item.status === "refused") node.classList.add("failed");
    if (item.from === "system") {
      node.textContent = item.text;
      list.append(node);
      continue;
    }
    const by = el("div", "by");
    const who = item.from === "agent" ? (item.agent || "agent") : item.from;
    by.append(el("span", null, who));
    if (item.visibility === "public") by.append(el("span", "badge public", "public"));
    if (item.at) by.append(el("span", null, new Date(item.at).toLocaleString()));
    node.append(by);
    if (item.parent) {
      const parentText = item.parent.text
        || (item.parent.is_thread_root ? `on the post or tweet ${item.parent.event_id}` : `in reply to ${item.parent.event_id}`);
      node.append(el("div", "parent", `↳ ${parentText}`));
      if (!item.parent.is_thread_root) node.classList.add("nested");
    }
    node.append(el("div", "bubble", item.text || "(no text)"));
    if (item.intent) {
      const entities = (item.entities || []).map((entity) => `${entity.entity}=${entity.value}`).join(", ");
      node.append(el("div", "understood-line",
        `understood: ${item.intent.name} ${percent(item.intent.confidence)}${entities ? `; ${entities}` : ""}`));
    }
    if (item.error) node.append(el("div", "error-line", `not sent: ${item.error}`));
    if (item.from === "consumer" && item.visibility === "public" && item.event_id) {
      node.append(publicActions(item, view.actions));
    }
    list.append(node);
  }
  if (firstRender || atBottom) list.scrollTop = list.scrollHeight;  // follow the newest message
}

function renderTarget() {
  const target = state.target;
  $("reply-target").textContent = target
    ? `Public reply to "${(target.text || "").slice(0, 60)}"`
    : "Private reply";
  $("back-to-private").hidden = !target;
  $("mention-box").hidden = !target;
  $("send").disabled = !target && !(state.view && state.view.actions.reply_private);
}

$("back-to-private").addEventListener("click", () => { state.target = null; renderTarget(); });

async function act(path, body) {
  $("action-error").textContent = "";
  try {
    const answer = await api("POST", path, body);
    await loadConversation();
    return answer;
  } catch (error) {
    await loadConversation();
    $("action-error").textContent = error.message;
    return null;
  }
}

$("accept").addEventListener("click", () => act(`api/handoffs/${state.openId}/accept`));
$("transfer").addEventListener("click", () =>
  act(`api/handoffs/${state.openId}/transfer`, { skill: $("transfer-skill").value, note: $("transfer-note").value }));
$("close").addEventListener("click", () =>
  act(`api/handoffs/${state.openId}/close`, { closing_question: $("closing-question").checked }));

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  const body = state.target
    ? { text, visibility: "public", in_reply_to: state.target.event_id, mention: $("mention").checked }
    : { text };
  if (await act(`api/handoffs/${state.openId}/reply`, body)) {
    $("text").value = "";
    state.target = null;
    renderTarget();
  }
});

boot();
