// The emulator's web phone: places calls, acts as the people on them, speaks what they hear, and shows each call's
// timeline live from /emulator/live/events (server-sent events). No build step: plain DOM and fetch.
"use strict";

const state = {
  calls: new Map(), // serverCallId -> call view
  selected: null, // serverCallId of the call shown on the right
  entries: new Map(), // index -> narrated entry, for the selected call
  deliveries: new Map(), // eventId -> latest delivery outcome, for the selected call
  me: null, // raw id of the person this page acts as on the selected call
  audio: null, // the audio file playing now, if any
  heard: [], // prompt texts the person has heard since their last key or phrase
};

const $ = (id) => document.getElementById(id);
const path = (value) => encodeURIComponent(value);

function rawId(number) {
  const value = number.trim();
  return /^\d+:/.test(value) ? value : `4:${value}`;
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error(data && data.error ? data.error.message : `${response.status} ${response.statusText}`);
  }
  return data;
}

async function attempt(action) {
  $("error").textContent = "";
  try {
    await action();
  } catch (error) {
    $("error").textContent = error.message;
  }
}

// --- calls ------------------------------------------------------------------------------------------------

function callTitle(call) {
  const people = call.participants.filter((p) => !p.isApp).map((p) => p.rawId);
  return people.join(" ↔ ") || call.participants.map((p) => p.rawId).join(", ") || "(nobody yet)";
}

function renderCalls() {
  const list = $("calls");
  list.replaceChildren();
  const calls = [...state.calls.values()].reverse();
  if (!calls.length) {
    list.append(element("li", { className: "empty" }, "no calls yet"));
    return;
  }
  for (const call of calls) {
    const item = element("li", { className: call.serverCallId === state.selected ? "selected" : "" });
    item.dataset.serverCallId = call.serverCallId;
    item.append(
      element("span", { className: "who" }, callTitle(call)),
      element("span", { className: `badge ${call.state}` }, call.state),
      element("span", { className: "ids" }, ` ${call.callConnectionIds.join(" ") || "not answered"}`),
    );
    item.addEventListener("click", () => select(call.serverCallId));
    list.append(item);
  }
}

async function select(serverCallId, me) {
  state.selected = serverCallId;
  state.entries = new Map();
  state.deliveries = new Map();
  state.me = me || null;
  renderCalls();
  const story = await api("GET", `/emulator/live/calls/${path(serverCallId)}`);
  if (state.selected !== serverCallId) return;
  state.calls.set(serverCallId, story.call);
  for (const entry of story.entries) state.entries.set(entry.index, entry);
  for (const delivery of story.deliveries) remember(delivery);
  renderCall();
  const history = [...state.entries.values()].sort((a, b) => a.index - b.index);
  state.heard = [];
  history.forEach((entry) => hear(entry, false));
  $("listening").textContent = "not listening";
  $("listening").className = "badge off";
  history.forEach(showListening);
}

function renderCall() {
  const call = state.calls.get(state.selected);
  if (!call) return;
  $("call-title").textContent = `Timeline · ${callTitle(call)} · ${call.state}`;
  renderParticipants(call);
  const body = $("timeline").tBodies[0];
  body.replaceChildren(...[...state.entries.values()].sort((a, b) => a.index - b.index).map(row));
}

function renderParticipants(call) {
  const people = call.participants.filter((p) => !p.isApp && p.state === "connected");
  if (!state.me || !people.some((p) => p.rawId === state.me)) state.me = people.length ? people[0].rawId : state.me;
  const chooser = $("person");
  chooser.replaceChildren(...people.map((p) => element("option", { value: p.rawId, selected: p.rawId === state.me }, p.rawId)));
  const box = $("participants");
  box.replaceChildren();
  for (const person of call.participants) {
    const card = element("div", { className: "participant" });
    card.dataset.rawId = person.rawId;
    card.append(element("span", {}, person.isApp ? `app ${person.rawId}` : person.rawId));
    card.append(element("span", { className: `badge ${person.state}` }, person.state));
    if (person.isOnHold) card.append(element("span", { className: "badge hold" }, "on hold"));
    if (person.isMuted) card.append(element("span", { className: "badge hold" }, "muted"));
    if (!person.isApp && person.state === "ringing") {
      card.append(button("Answer", () => act(person.rawId, "answer")), button("Decline", () => act(person.rawId, "decline")));
    }
    if (!person.isApp && person.state === "connected" && person.rawId !== state.me) {
      card.append(button("Hang up", () => act(person.rawId, "hangup")));
    }
    box.append(card);
  }
}

// --- the timeline -------------------------------------------------------------------------------------------

function row(entry) {
  const tr = element("tr", { className: `${entry.kind}${entry.heard.length ? " heard" : ""}` });
  tr.dataset.index = entry.index;
  const what = element("td", { className: "what" });
  const details = element("details");
  details.append(element("summary", {}, entry.text));
  details.append(element("pre", {}, JSON.stringify(entry.detail, null, 2)));
  what.append(details);
  tr.append(
    element("td", { className: "time" }, `${(entry.elapsedMs / 1000).toFixed(3)}s`),
    element("td", { className: "kind" }, entry.kind),
    what,
    deliveryCell(entry),
  );
  return tr;
}

function deliveryCell(entry) {
  const cell = element("td", { className: "delivery" });
  const delivery = entry.detail.eventId && state.deliveries.get(entry.detail.eventId);
  if (!delivery) {
    if (entry.kind === "callback" || entry.kind === "eventgrid") cell.append(element("span", {}, "…"));
    return cell;
  }
  const outcome = delivery.ok ? `✓ ${delivery.status}` : `✗ ${delivery.status ?? delivery.error}`;
  const attempts = delivery.attempts > 1 ? ` ×${delivery.attempts}` : "";
  cell.append(element("span", { className: delivery.ok ? "ok" : "failed", title: delivery.url }, outcome + attempts), " ");
  cell.append(button("redeliver", () => attempt(() => api("POST", `/emulator/deliveries/${delivery.id}/redeliver`)), "small"));
  return cell;
}

function remember(delivery) {
  for (const eventId of delivery.eventIds) state.deliveries.set(eventId, delivery);
}

// --- what the caller hears ----------------------------------------------------------------------------------

function heardByMe(entry) {
  return entry.heard.length > 0 && (entry.listeners.length === 0 || entry.listeners.includes(state.me));
}

// What the person hears since they last pressed or said something: prompts queue and play in this order.
function hear(entry, aloud) {
  if (entry.kind === "person" && (entry.summary.startsWith(`${state.me} pressed`) || entry.summary.startsWith(`${state.me} said`))) {
    state.heard = [];
    stopSound();
  } else if (heardByMe(entry)) {
    state.heard.push(...entry.heard.map((prompt) => prompt.text));
    if (aloud && $("speak").checked) speak(entry.heard);
  } else {
    return;
  }
  const items = state.heard.map((text) => element("li", {}, text));
  $("heard").replaceChildren(...(items.length ? items : [element("li", { className: "empty" }, "nothing yet")]));
}

function showListening(entry) {
  // The emulator says when a recognize starts listening to someone; anything keyed before that is ignored.
  let listening = null;
  if (entry.kind === "emulator" && entry.summary === `recognize listening to ${state.me}`) listening = true;
  if (entry.kind === "callback" && /^Recognize(Completed|Failed|Canceled)$/.test(entry.summary)) listening = false;
  if (state.calls.get(state.selected)?.state === "ended") listening = false;
  if (listening === null) return;
  $("listening").textContent = listening ? "listening" : "not listening";
  $("listening").className = `badge ${listening ? "on" : "off"}`;
}

function speak(prompts) {
  for (const prompt of prompts) {
    if (prompt.kind === "file") {
      if (state.audio) state.audio.pause();
      state.audio = new Audio(prompt.text);
      state.audio.play().catch(() => {}); // a browser may refuse audio before the page is used; the text stays
    } else if ("speechSynthesis" in window) {
      window.speechSynthesis.speak(new SpeechSynthesisUtterance(prompt.text));
    }
  }
}

function stopSound() {
  if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  if (state.audio) state.audio.pause();
  state.audio = null;
}

// --- the live feed ------------------------------------------------------------------------------------------

function connect() {
  const feed = new EventSource("/emulator/live/events");
  feed.addEventListener("open", () => setFeed("live", "on"));
  feed.addEventListener("error", () => setFeed("reconnecting…", "off"));
  feed.addEventListener("hello", (message) => {
    const { calls } = JSON.parse(message.data);
    state.calls = new Map(calls.map((call) => [call.serverCallId, call]));
    renderCalls();
    if (state.selected && state.calls.has(state.selected)) select(state.selected, state.me);
  });
  feed.addEventListener("entry", (message) => {
    const { call, entry } = JSON.parse(message.data);
    state.calls.set(call.serverCallId, call);
    renderCalls();
    if (call.serverCallId !== state.selected) return;
    state.entries.set(entry.index, entry);
    renderCall();
    hear(entry, true);
    showListening(entry);
    if (call.state === "ended") stopSound();
  });
  feed.addEventListener("delivery", (message) => {
    const delivery = JSON.parse(message.data);
    if (delivery.serverCallId !== state.selected) return;
    remember(delivery);
    renderCall();
  });
}

function setFeed(text, className) {
  const badge = $("feed-state");
  badge.textContent = text;
  badge.className = `badge ${className}`;
}

// --- acting as people ---------------------------------------------------------------------------------------

function act(who, action, body) {
  return attempt(async () => {
    if (!state.selected) throw new Error("Place or select a call first.");
    if (!who) throw new Error("Nobody to act as: no person is connected on this call.");
    const url = `/emulator/calls/${path(state.selected)}/participants/${path(who)}/${action}`;
    const call = await api("POST", url, body || {});
    state.calls.set(call.serverCallId, call);
    renderCall();
  });
}

async function loadPeople() {
  const known = await api("GET", "/emulator/people");
  const list = $("people");
  list.replaceChildren(...known.people.map((p) => element("li", {}, p.rawId, element("span", { className: "badge" }, p.answer))));
  if (!known.people.length) list.append(element("li", { className: "empty" }, "everyone answers at once"));
}

function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function button(label, onClick, className = "small") {
  const node = element("button", { type: "button", className }, label);
  node.addEventListener("click", onClick);
  return node;
}

document.addEventListener("DOMContentLoaded", () => {
  $("dial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const placed = await api("POST", "/emulator/calls", { from: $("from").value.trim(), to: $("to").value.trim() });
      $("heard").replaceChildren(element("li", { className: "empty" }, "ringing…"));
      await select(placed.serverCallId, rawId($("from").value));
    });
  });
  for (const key of document.querySelectorAll("#keypad button")) {
    key.addEventListener("click", () => act(state.me, "dtmf", { tones: key.dataset.key }));
  }
  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("phrase").value.trim();
    if (text) act(state.me, "speech", { text }).then(() => { $("phrase").value = ""; });
  });
  $("keys").addEventListener("click", () => {
    const tones = $("phrase").value.replace(/\s+/g, "");
    if (tones) act(state.me, "dtmf", { tones }).then(() => { $("phrase").value = ""; });
  });
  $("hangup").addEventListener("click", () => { stopSound(); act(state.me, "hangup"); });
  $("person").addEventListener("change", (event) => { state.me = event.target.value; });
  $("people-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      await api("PUT", `/emulator/people/${path($("identity").value.trim())}`, { answer: $("behaviour").value });
      await loadPeople();
    });
  });
  connect();
  attempt(loadPeople);
});
