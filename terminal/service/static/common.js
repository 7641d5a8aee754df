// Shared by the counter and kiosk pages: texts in two languages (texts.json, the one
// table of every wording and every error code), API calls, live reader events, the
// simulator panel of the dev/demo service.
"use strict";

const MT = (() => {
  let TEXT = {};
  let lang = localStorage.getItem("mynaterm.lang") === "en" ? "en" : "ja";

  // Pages await this before rendering anything.
  const ready = fetch("/static/texts.json", { credentials: "same-origin" })
    .then((response) => response.json())
    .then((table) => { TEXT = table; })
    .catch(() => { TEXT = {}; });

  function has(key) {
    return Object.prototype.hasOwnProperty.call(TEXT, key);
  }

  // A value inside `vars` may itself be a message spec ({key, vars}) or a date
  // ({date: iso}); both are rendered in the current language.
  function renderValue(value) {
    if (value && typeof value === "object") return render(value);
    return value === null || value === undefined ? "" : String(value);
  }

  function t(key, vars) {
    const entry = TEXT[key];
    let text = entry ? (entry[lang] || entry.en || key) : key;
    for (const [name, value] of Object.entries(vars || {})) {
      text = text.split("{" + name + "}").join(renderValue(value));
    }
    return text;
  }

  // A message spec: a key ("key" or {key, vars}), a literal ({text}), a date ({date})
  // or a sequence of specs ({parts: [...]}).
  function render(spec) {
    if (!spec) return "";
    if (typeof spec === "string") return t(spec);
    if ("text" in spec) return spec.text;
    if ("date" in spec) return formatDate(spec.date);
    if ("parts" in spec) return spec.parts.map(render).join("");
    return t(spec.key, spec.vars);
  }

  // Dates as a resident reads them: 2031年2月17日 / 17 February 2031 (Japan time).
  function formatDate(iso) {
    const when = new Date(iso);
    if (!iso || Number.isNaN(when.getTime())) return t("date.unknown");
    const locale = lang === "ja" ? "ja-JP" : "en-GB";
    return new Intl.DateTimeFormat(locale, {
      timeZone: "Asia/Tokyo", year: "numeric", month: "long", day: "numeric",
    }).format(when);
  }

  // Elements showing a message spec; re-rendered when the language changes, so an
  // error already on screen switches language with the rest of the page.
  const spoken = new Map();

  function say(el, spec) {
    if (!spec) {
      spoken.delete(el);
      el.textContent = "";
      return;
    }
    spoken.set(el, spec);
    el.textContent = render(spec);
    if (spoken.size > 500) {  // elements replaced since (e.g. re-rendered tables) go
      for (const other of spoken.keys()) if (!other.isConnected) spoken.delete(other);
    }
  }

  function applyLang() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const el of document.querySelectorAll("[data-i18n-label]")) {
      el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    }
    for (const [el, spec] of spoken) {
      if (el.isConnected) el.textContent = render(spec);
      else spoken.delete(el);
    }
  }

  function toggleLang() {
    lang = lang === "ja" ? "en" : "ja";
    localStorage.setItem("mynaterm.lang", lang);
    applyLang();
    document.dispatchEvent(new CustomEvent("mt:lang"));
  }

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || { code: "INTERNAL_ERROR", message: "error" };
      super(error.message);
      this.status = status;
      this.code = error.code;
      this.fields = error;
    }
  }

  // Told when a call (not a sign-in) answers that the session is gone.
  let sessionLost = null;
  function onSessionLost(handler) { sessionLost = handler; }

  // Which page this is: the service keeps one session cookie per page and picks it by
  // this header, so a kiosk sign-in and a counter sign-in never stand in for each other.
  function page() {
    return document.body && document.body.classList.contains("kiosk") ? "kiosk" : "counter";
  }

  async function api(method, path, body, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs || 60000);
    const init = { method, credentials: "same-origin", headers: { "X-Mynaterm-Page": page() },
                   signal: controller.signal };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, { error: { code: "NETWORK", message: "network" } });
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) {
      const err = new ApiError(response.status, payload);
      if (response.status === 401 && !options.signIn && sessionLost) sessionLost(err);
      throw err;
    }
    return payload;
  }

  // The message spec of an API error: the PIN concerned is named when the service
  // says which one; an unknown code gets a generic text (the raw code only in English).
  function describeError(err) {
    if (!(err instanceof ApiError)) return { key: "err.NETWORK" };
    const fields = err.fields || {};
    const vars = { ...fields, code: err.code };
    if (fields.pin) {
      vars.pin = { key: has("pin.name." + fields.pin) ? "pin.name." + fields.pin : "pin.name.unknown" };
      if (has(`err.${err.code}.${fields.pin}`)) return { key: `err.${err.code}.${fields.pin}`, vars };
      if (has(`err.${err.code}.named`)) return { key: `err.${err.code}.named`, vars };
    }
    if (has("err." + err.code)) return { key: "err." + err.code, vars };
    return { key: "err.generic", vars: { code: err.code } };
  }

  function errorText(err) { return render(describeError(err)); }

  // Live reader state: onEvent(event) for the snapshot and every change (EventSource
  // reconnects by itself and the server re-sends a snapshot); onClosed() when the
  // stream is refused for good (session gone).
  function watchReaders(onEvent, onClosed) {
    // EventSource sends no headers: the page is named in the query as well.
    const source = new EventSource("/api/events?page=" + page());
    const types = ["snapshot", "reader_added", "reader_removed", "card_inserted",
                   "card_removed", "busy", "idle", "progress"];
    for (const type of types) {
      source.addEventListener(type, (message) => onEvent(JSON.parse(message.data)));
    }
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && onClosed) onClosed();
    };
    return source;
  }

  function $(selector) {
    return document.querySelector(selector);
  }

  function show(el, visible) {
    el.hidden = !visible;
  }

  async function currentSession() {
    try {
      return await api("GET", "/api/session", undefined, { signIn: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  }

  async function signIn(form, path = "/api/session") {
    const data = new FormData(form);
    try {
      return await api("POST", path, {
        username: data.get("username"),
        password: data.get("password"),
        page: page(),
      }, { signIn: true });
    } finally {
      form.querySelector("input[type=password]").value = "";
    }
  }

  // The sign-in form's own failure: a wrong password says so (that is the one place
  // it may); any other code says what it is.
  function signInError(err) {
    if (err instanceof ApiError && err.code === "UNAUTHENTICATED") return { key: "signin.failed" };
    // The service refuses a kiosk-only account on the counter page.
    if (err instanceof ApiError && err.code === "FORBIDDEN" && page() === "counter") {
      return { key: "signin.kiosk_only" };
    }
    return describeError(err);
  }

  // A modal confirmation (<dialog> with [data-answer] buttons): resolves true or false.
  function confirmDialog(dialog) {
    return new Promise((resolve) => {
      const answer = (value) => {
        dialog.close();
        for (const button of dialog.querySelectorAll("[data-answer]")) button.onclick = null;
        resolve(value);
      };
      for (const button of dialog.querySelectorAll("[data-answer]")) {
        button.onclick = () => answer(button.dataset.answer === "yes");
      }
      dialog.oncancel = (event) => { event.preventDefault(); answer(false); };
      dialog.showModal();
      const safe = dialog.querySelector("[data-answer=no]");
      if (safe) safe.focus();  // the irreversible choice is never the default
    });
  }

  // Simulator controls (dev/demo): absent unless the service enables them. Shows
  // which persona's card sits in which reader.
  async function setupSimulator(panel, readerId, readerName) {
    let cards;
    try {
      cards = await api("GET", "/api/simulator/cards");
    } catch (_) {
      return null;
    }
    if (!cards.length) return null;
    const select = panel.querySelector("[data-sim=card]");
    const where = panel.querySelector("[data-sim=where]");
    select.replaceChildren(...cards.map((card) => {
      const option = document.createElement("option");
      option.value = card.label;
      option.textContent = card.label;
      return option;
    }));
    async function refresh() {
      try {
        cards = await api("GET", "/api/simulator/cards");
      } catch (_) {
        return;
      }
      const byReader = new Map(cards.filter((c) => c.in_reader !== null)
        .map((c) => [c.in_reader, c.label]));
      where.replaceChildren(...readerName.all().map(([id, name]) => {
        const li = document.createElement("li");
        const card = byReader.get(id);
        say(li, card ? { key: "sim.in_reader", vars: { reader: name, card } }
                     : { key: "sim.empty", vars: { reader: name } });
        return li;
      }));
    }
    panel.querySelector("[data-sim=insert]").onclick = () =>
      api("POST", `/api/simulator/readers/${readerId()}/insert`, { card: select.value })
        .catch(() => {}).then(refresh);
    panel.querySelector("[data-sim=remove]").onclick = () =>
      api("POST", `/api/simulator/readers/${readerId()}/remove`).catch(() => {}).then(refresh);
    show(panel, true);
    await refresh();
    return refresh;
  }

  return { ready, page, t, render, say, formatDate, applyLang, toggleLang, api, ApiError,
           describeError, errorText, signInError, onSessionLost, watchReaders, $, show,
           currentSession, signIn, confirmDialog, setupSimulator,
           get lang() { return lang; } };
})();
