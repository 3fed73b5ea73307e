// The consumer side of the sandbox: polls GET /sandbox/api/state and posts consumer actions.
// No framework, no build step. Text is always set with textContent (consumers type anything).
"use strict";

const API = "/sandbox/api";
const XCOMPOSE = /https:\/\/x\.com\/messages\/compose\?\S+/;
const MME = /https:\/\/m\.me\/[A-Za-z0-9.]+\?ref=([A-Za-z0-9_=\-]+)/;

let state = null;
let shownVersion = null;
const drafts = {};  // input key -> text typed so far, kept across redraws
const open = {};    // reply box key -> true while open

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function marker(kind) {
  return el("span", { class: `marker ${kind.toLowerCase()}`, text: kind });
}

function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

async function post(path, body) {
  const response = await fetch(API + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) toast(answer.error || `error ${response.status}`);
  await refresh(true);
  return answer;
}

function fbPersona() { return document.getElementById("fb-persona").value; }
function xPersona() { return document.getElementById("x-persona").value; }
function currentFacebook() { return state.personas.facebook.find((p) => p.key === fbPersona()); }
function currentX() { return state.personas.x.find((p) => p.key === xPersona()); }

// An input whose text survives the redraws of the polling loop.
function draftInput(key, placeholder, onSubmit) {
  const input = el("input", { placeholder, "data-draft": key });
  input.value = drafts[key] || "";
  input.addEventListener("input", () => { drafts[key] = input.value; });
  const form = el("form", { class: "inline" }, input, el("button", { type: "submit", text: "Send" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    const text = input.value;
    drafts[key] = "";
    open[key] = false;
    await onSubmit(text);
  });
  return form;
}

// Text with the platforms' private-message links turned into their buttons.
function richText(text, platform) {
  const box = el("div");
  const compose = platform === "x" && text.match(XCOMPOSE);
  const mme = platform === "facebook" && text.match(MME);
  box.append(el("div", { class: "text", text: compose ? text.replace(compose[0], "").trim() : text }));
  if (compose) {
    const prefill = new URL(compose[0]).searchParams.get("text") || "";
    box.append(el("button", {
      class: "cta", text: "✉ Send a private message",
      onclick: () => openDm(prefill),
    }));
  }
  if (mme) {
    box.append(el("button", {
      class: "cta messenger", text: "Continue in Messenger",
      onclick: () => openMessenger(mme[1]),
    }));
  }
  return box;
}

function openDm(prefill) {
  drafts["dm"] = prefill;
  const input = document.getElementById("dm-text");
  input.value = prefill;
  input.focus();
  document.getElementById("x-dms").scrollIntoView({ behavior: "smooth" });
}

async function openMessenger(ref) {
  document.getElementById("messenger").scrollIntoView({ behavior: "smooth" });
  await post("/facebook/referral", { persona: fbPersona(), ref });
  document.getElementById("messenger-text").focus();
}

function renderComment(parentPost, comment) {
  const mine = currentFacebook() && comment.author_name === currentFacebook().name;
  const key = `reply:${comment.id}`;
  const node = el("div", { class: `comment${comment.by_page ? " page" : ""}`, "data-comment-id": comment.id },
    el("div", { class: "bubble" },
      el("div", { class: "head" }, el("span", { text: comment.author_name }), marker("PUBLIC"),
        comment.by_page ? el("span", { class: "meta", text: "reply from the page" }) : null,
        comment.edited ? el("span", { class: "meta", text: "edited" }) : null,
        comment.liked_by_page ? el("span", { class: "meta", text: "👍 liked by Brightcart" }) : null,
        comment.private_reply ? el("span", { class: "meta", text: "✉ answered privately" }) : null),
      richText(comment.message, "facebook")),
    el("div", { class: "actions" },
      el("button", { class: "link", type: "button", text: "Reply", onclick: () => { open[key] = true; draw(true); } }),
      mine ? el("button", { class: "link", type: "button", text: "Edit", onclick: () => editComment(comment) }) : null,
      mine ? el("button", { class: "link", type: "button", text: "Remove", onclick: () => post(`/facebook/comments/${comment.id}/remove`, {}) }) : null));
  const replies = el("div", { class: "replies" });
  for (const reply of comment.replies || []) replies.append(renderComment(parentPost, reply));
  node.append(replies);
  if (open[key]) {
    node.append(draftInput(key, `Reply to ${comment.author_name}...`, (text) =>
      post("/facebook/comments", { user: fbPersona(), post_id: parentPost.id, parent_id: comment.id, text })));
  }
  return node;
}

async function editComment(comment) {
  const text = window.prompt("Edit your comment", comment.message);
  if (text && text !== comment.message) await post(`/facebook/comments/${comment.id}/edit`, { text });
}

function renderPosts() {
  const box = document.getElementById("fb-posts");
  box.replaceChildren();
  for (const item of state.posts) {
    const comments = el("div", { class: "comments" });
    for (const comment of item.comments) comments.append(renderComment(item, comment));
    const key = `comment:${item.id}`;
    comments.append(draftInput(key, "Write a comment...", (text) =>
      post("/facebook/comments", { user: fbPersona(), post_id: item.id, text })));
    box.append(el("article", { class: "card", "data-post-id": item.id },
      el("div", { class: "head" }, el("span", { text: item.author_name }), marker("PUBLIC"),
        el("span", { class: "meta", text: item.by_page ? "page post" : "visitor post" })),
      richText(item.message, "facebook"), comments));
  }
}

function messengerMessage(message) {
  const mine = !message.from_page;
  const node = el("div", { class: `msg ${mine ? "mine" : "theirs"}`, "data-mid": message.mid });
  if (message.kind === "private_reply" && message.comment_text) {
    node.append(el("div", { class: "context", text: `Replying to your comment: “${message.comment_text}”` }));
  }
  const label = { postback: "Tapped: ", quick_reply: "", referral: "Opened from a link: ref=" }[message.kind] || "";
  const text = message.kind === "referral" ? label + message.ref : label + (message.text || message.media_url || "");
  node.append(el("div", { class: "bubble" }, richText(text, "facebook")));
  if (message.buttons.length) {
    const buttons = el("div", { class: "buttons" });
    for (const button of message.buttons) {
      buttons.append(el("button", {
        type: "button", text: button.title,
        onclick: () => (button.type === "web_url"
          ? window.open(button.url, "_blank")
          : post("/facebook/postback", { persona: fbPersona(), title: button.title, payload: button.payload })),
      }));
    }
    node.append(buttons);
  }
  return node;
}

function renderMessenger() {
  const persona = currentFacebook();
  const box = document.getElementById("messenger-thread");
  box.replaceChildren();
  const thread = (persona && state.messenger[persona.psid]) || [];
  if (!thread.length) box.append(el("p", { class: "meta", text: "No messages yet." }));
  thread.forEach((message) => box.append(messengerMessage(message)));
  const last = thread[thread.length - 1];
  if (last && last.from_page && last.quick_replies.length) {
    const chips = el("div", { class: "chips" });
    for (const reply of last.quick_replies) {
      chips.append(el("button", {
        class: "chip", type: "button", text: reply.title,
        onclick: () => post("/facebook/quick_reply", { persona: fbPersona(), title: reply.title, payload: reply.payload }),
      }));
    }
    box.append(chips);
  }
  box.scrollTop = box.scrollHeight;
}

function renderTweet(tweet, withReplies) {
  const key = `tweet:${tweet.id}`;
  const node = el("div", { class: `tweet${tweet.by_brand ? " brand" : ""}`, "data-tweet-id": tweet.id },
    el("div", { class: "head" }, el("span", { text: tweet.author.name }),
      el("span", { class: "meta", text: `@${tweet.author.handle}` }), marker("PUBLIC"),
      tweet.retweet_of ? el("span", { class: "meta", text: "retweet" }) : null,
      tweet.quote_of ? el("span", { class: "meta", text: "quote" }) : null),
    richText(tweet.text, "x"),
    el("div", { class: "actions" },
      el("button", { class: "link", type: "button", text: "Reply", onclick: () => { open[key] = true; draw(true); } }),
      tweet.by_brand ? el("button", { class: "link", type: "button", text: "Quote", onclick: () => quote(tweet) }) : null,
      tweet.by_brand ? el("button", { class: "link", type: "button", text: "Retweet", onclick: () => post("/x/tweets", { user: xPersona(), retweet_of: tweet.id }) }) : null));
  if (open[key]) {
    node.append(draftInput(key, `Reply to @${tweet.author.handle}...`, (text) =>
      post("/x/tweets", { user: xPersona(), text, in_reply_to: tweet.id })));
  }
  if (withReplies && tweet.replies.length) {
    const replies = el("div", { class: "replies" });
    tweet.replies.forEach((reply) => replies.append(renderTweet(reply, false)));
    node.append(replies);
  }
  return node;
}

async function quote(tweet) {
  const text = window.prompt("Add a comment to your quote");
  if (text) await post("/x/tweets", { user: xPersona(), text, quote_of: tweet.id });
}

function renderTimeline() {
  const box = document.getElementById("x-posts");
  box.replaceChildren();
  state.timeline.forEach((tweet) => box.append(renderTweet(tweet, true)));
}

function renderDms() {
  const persona = currentX();
  const box = document.getElementById("dm-thread");
  box.replaceChildren();
  const conversation = (persona && state.dms[persona.id]) || [];
  if (!conversation.length) box.append(el("p", { class: "meta", text: "No messages yet." }));
  for (const message of conversation) {
    box.append(el("div", { class: `msg ${message.from_brand ? "theirs" : "mine"}`, "data-dm-id": message.id },
      el("div", { class: "bubble", text: message.text })));
  }
  if (persona && persona.dms_closed) box.append(el("p", { class: "meta", text: `@${persona.handle} does not accept DMs from Brightcart.` }));
  box.scrollTop = box.scrollHeight;
}

function renderChrome() {
  for (const [id, personas] of [["fb-persona", state.personas.facebook], ["x-persona", state.personas.x]]) {
    const select = document.getElementById(id);
    const chosen = select.value;
    const keys = personas.map((p) => p.key).join();
    if (select.dataset.keys !== keys) {
      select.replaceChildren(...personas.map((p) => el("option", {
        value: p.key,
        text: p.name + (p.restricted ? " (restricted profile)" : "") + (p.dms_closed ? " (DMs closed)" : "") + (p.blocked_page ? " (blocked the page)" : ""),
      })));
      select.dataset.keys = keys;
      if (chosen) select.value = chosen;
    }
  }
  const hooks = document.getElementById("webhooks");
  hooks.replaceChildren(...Object.entries(state.webhooks).map(([name, hook]) => el("span", {
    class: `webhook ${hook.state}`,
    title: hook.last_error ? `${hook.url}: ${hook.last_error}` : hook.url,
    text: `${name === "x" ? "X" : "Facebook"} webhook: ${hook.state === "ok" ? "verified" : "waiting for the bot"}`,
  })));
}

function draw(force) {
  if (!state) return;
  if (!force && state.version === shownVersion) return;
  const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.draft;
  shownVersion = state.version;
  renderChrome();
  renderPosts();
  renderMessenger();
  renderTimeline();
  renderDms();
  if (focused) {
    const again = document.querySelector(`[data-draft="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

async function refresh(force = false) {
  try {
    const response = await fetch(`${API}/state`);
    state = await response.json();
    draw(force);
  } catch (error) {
    toast("The sandbox is not answering");
  }
}

function bindComposers() {
  const forms = [
    ["visitor-post-form", "visitor-post-text", (text) => post("/facebook/posts", { user: fbPersona(), text })],
    ["messenger-form", "messenger-text", (text) => post("/facebook/messenger", { persona: fbPersona(), text })],
    ["tweet-form", "tweet-text", (text) => post("/x/tweets", { user: xPersona(), text })],
    ["dm-form", "dm-text", (text) => post("/x/dms", { user: xPersona(), text })],
  ];
  for (const [formId, inputId, send] of forms) {
    document.getElementById(formId).addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = document.getElementById(inputId);
      if (!input.value.trim()) return;
      const text = input.value;
      input.value = formId === "tweet-form" ? "@Brightcart " : "";
      await send(text);
    });
  }
  for (const id of ["fb-persona", "x-persona"]) {
    document.getElementById(id).addEventListener("change", () => draw(true));
  }
}

bindComposers();
refresh(true);
setInterval(refresh, 1000);
