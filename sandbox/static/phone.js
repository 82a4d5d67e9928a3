// Phone simulator: send through the customer API and poll the conversation every 2 s.
// Everything is built with DOM nodes and textContent: nothing received is parsed as HTML.
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat) { return; }
  const pollUrl = chat.dataset.poll;
  const sendUrl = chat.dataset.send;
  const notice = document.getElementById("notice");
  const LINK = /https?:\/\/[^\s<>"']+/g;
  let lastRendered = "";

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function isHttp(url) {
    return typeof url === "string" && /^https?:\/\//.test(url);
  }

  function linkify(parent, text) {
    let position = 0;
    for (const match of text.matchAll(LINK)) {
      parent.append(document.createTextNode(text.slice(position, match.index)));
      const a = document.createElement("a");
      a.href = match[0];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = match[0];
      parent.append(a);
      position = match.index + match[0].length;
    }
    parent.append(document.createTextNode(text.slice(position)));
  }

  function buttonNode(button) {
    if (button.action !== null && button.action !== undefined) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = button.label;
      b.addEventListener("click", () => send({ action: button.action }));
      return b;
    }
    const link = document.createElement(isHttp(button.url) ? "a" : "span");
    link.className = "button-link" + (isHttp(button.url) ? "" : " disabled");
    link.textContent = button.label + (isHttp(button.url) ? " ↗" : "");
    if (isHttp(button.url)) {
      link.href = button.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    return link;
  }

  function messageNode(entry) {
    const wrapper = document.createElement("div");
    wrapper.className = "msg " + (entry.from === "bot" ? "bot" : "customer");
    if (entry.template) {
      const tag = document.createElement("div");
      tag.className = "template-tag";
      tag.textContent = "Modèle approuvé · " + entry.template;
      wrapper.append(tag);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    linkify(bubble, entry.text);
    wrapper.append(bubble);
    if (entry.from === "bot" && entry.buttons.length) {
      const buttons = document.createElement("div");
      buttons.className = "buttons";
      entry.buttons.forEach((button) => buttons.append(buttonNode(button)));
      wrapper.append(buttons);
    }
    const time = document.createElement("div");
    time.className = "time";
    const when = new Date(entry.time);
    time.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) +
      (entry.status ? " · " + entry.status : "");
    wrapper.append(time);
    return wrapper;
  }

  function render(entries) {
    const snapshot = JSON.stringify(entries);
    if (snapshot === lastRendered) { return; }
    lastRendered = snapshot;
    chat.replaceChildren();
    if (!entries.length) {
      const empty = document.createElement("p");
      empty.className = "empty";
      empty.textContent = chat.dataset.empty || "Pas encore de message.";
      chat.append(empty);
    }
    entries.forEach((entry) => chat.append(messageNode(entry)));
    chat.scrollTop = chat.scrollHeight;
    window.scrollTo(0, document.body.scrollHeight);
  }

  // WhatsApp: the 24 h window's state, as WhatsApp (the emulator) sees it.
  const windowNote = document.getElementById("window");

  async function refreshWindow() {
    if (!windowNote) { return; }
    const response = await fetch(windowNote.dataset.poll, { headers: { Accept: "application/json" } });
    if (!response.ok) { return; }
    const state = await response.json();
    windowNote.textContent = state.text;
    windowNote.className = "window " + (state.open ? "open" : "closed");
  }

  async function refresh() {
    try {
      const response = await fetch(pollUrl, { headers: { Accept: "application/json" } });
      if (response.ok) { render(await response.json()); }
      await refreshWindow();
    } catch (error) {
      showNotice("Serveur injoignable : " + error);
    }
  }

  async function send(payload) {
    showNotice("");
    try {
      const response = await fetch(sendUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ to: chat.dataset.to || null }, payload)),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        showNotice("Réponse " + response.status + (body.error ? " : " + body.error : ""));
      }
    } catch (error) {
      showNotice("Envoi impossible : " + error);
    }
    await refresh();
  }

  document.querySelectorAll("form.js-send").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const action = data.get("action");
      if (action) {
        send({ action: action });
        return;
      }
      const text = (data.get("text") || "").toString();
      if (!text.trim()) { return; }
      form.reset();
      send({ text: text });
    });
  });

  refresh();
  setInterval(refresh, 2000);
}());
