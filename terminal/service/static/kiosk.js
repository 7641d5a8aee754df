// Kiosk: an explicit state machine, one screen per state, driven by the service's reader
// events (SSE):
//
//   signin -> waiting -> checking -> pin -> working -> result -> take-card -> waiting
//                          \-> refused (not a My Number card, unregistered, revoked,
//                              PIN locked: before any PIN is asked) -> waiting
//
// Pulling the card and the idle timeout return to `waiting` from every state and wipe
// the resident's data from the page and from memory. Each card insertion opens a new
// generation; an answer that arrives for an older generation is dropped.
"use strict";

(() => {
  const { api, $, show, say } = MT;
  const params = new URLSearchParams(location.search);

  function seconds(name, fallback) {
    const value = Number(params.get(name));
    return Number.isFinite(value) && value >= 1 && value <= 3600 ? value : fallback;
  }

  // The installer's kiosk URL sets these (e.g. /kiosk?reader=1&idle=60).
  const config = {
    idleSeconds: seconds("idle", 60),      // no activity -> back to waiting
    resultSeconds: seconds("result", 10),  // the result stays this long, then "take card"
    noticeSeconds: 8,                      // "the card was removed" note on the waiting screen
    sessionCheckSeconds: 60,               // staff session still valid?
  };
  const IDLE_STATES = new Set(["pin", "refused", "result", "take-card"]);
  const PIN_LENGTH = 4;

  // The station: readers, the session, the state. No resident data here.
  const station = {
    readers: new Map(), readerId: null, state: "loading", gen: 0, source: null,
    leftoverSerial: null, lastSerial: null, timers: {}, idleLeft: 0, simRefresh: null,
    boundReader: null,
  };
  // The current resident: everything that must vanish when they leave. Only ever
  // replaced as a whole (`resident = null`), never partly reset.
  let resident = null;

  // ---- screens ----------------------------------------------------------------------

  function clearTimer(name) {
    if (station.timers[name]) {
      clearTimeout(station.timers[name]);
      clearInterval(station.timers[name]);
      delete station.timers[name];
    }
  }

  function enter(state) {
    station.state = state;
    document.body.dataset.state = state;
    for (const screen of document.querySelectorAll("[data-screen]")) {
      show(screen, screen.dataset.screen === state);
    }
    if (resident) resident.pin = [];  // the entered PIN never survives a state change
    const focused = document.activeElement;
    if (focused && focused !== document.body && focused.closest("[hidden]")) focused.blur();
    clearTimer("result");
    if (state === "result") {
      station.timers.result = setTimeout(() => {
        if (station.state === "result") enter("take-card");
      }, config.resultSeconds * 1000);
    }
    restartIdle();
    renderPin();
    show($("#staff"), state !== "signin" && state !== "loading");
  }

  // Every element that may hold something of a resident, emptied.
  function wipeDom() {
    for (const selector of ["#refusal", "#pin-error", "#pin-remaining", "#progress", "#symbol"]) {
      say($(selector), null);
    }
    $("#pin-display").replaceChildren();
  }

  function forgetResident() {
    resident = null;
    station.gen += 1;  // answers still in flight for the old card are now stale
    wipeDom();
  }

  function toWaiting(notice) {
    forgetResident();
    clearTimer("notice");
    say($("#waiting-note"), notice ? { key: notice } : null);
    if (notice) {
      station.timers.notice = setTimeout(() => say($("#waiting-note"), null),
                                         config.noticeSeconds * 1000);
    }
    renderWaiting();
    enter("waiting");
  }

  // A card left in the reader (after an idle timeout) is asked out, not for.
  function renderWaiting() {
    const leftover = station.leftoverSerial !== null;
    say($("#waiting-title"), { key: leftover ? "kiosk.leftover" : "kiosk.waiting" });
    show($("#waiting-hint"), !leftover);
  }

  function refuse(spec) {
    say($("#refusal"), spec);
    enter("refused");
  }

  // ---- idle timeout -------------------------------------------------------------------

  function renderIdle() {
    const visible = IDLE_STATES.has(station.state);
    show($("#idle"), visible);
    if (visible) say($("#idle"), { key: "kiosk.idle", vars: { n: station.idleLeft } });
  }

  function restartIdle() {
    clearTimer("idle");
    station.idleLeft = config.idleSeconds;
    renderIdle();
    if (!IDLE_STATES.has(station.state)) return;
    const started = Date.now();
    station.timers.idle = setInterval(() => {
      station.idleLeft = Math.max(0, config.idleSeconds - Math.floor((Date.now() - started) / 1000));
      renderIdle();
      if (station.idleLeft === 0) idleTimeout();
    }, 250);
  }

  function idleTimeout() {
    clearTimer("idle");
    const reader = station.readers.get(station.readerId);
    // A card left in the reader is not offered to the next person: it has to be taken
    // out (and placed again) before it is read.
    station.leftoverSerial = reader && reader.card_present ? reader.card_serial : null;
    toWaiting(null);
  }

  function activity() {
    if (IDLE_STATES.has(station.state)) restartIdle();
  }

  // ---- the card ---------------------------------------------------------------------

  async function cardArrived(serial) {
    forgetResident();
    station.leftoverSerial = null;
    say($("#waiting-note"), null);
    renderWaiting();
    const gen = station.gen;
    resident = { gen, cardSerial: serial, pin: [], remaining: null, maxTries: null };
    enter("checking");
    try {
      const check = await api("GET",
        `/api/readers/${station.readerId}/kiosk-check?card_serial=${serial}`,
        undefined, { timeoutMs: 30000 });
      if (!current(gen, "checking")) return;
      resident.remaining = check.remaining;
      resident.maxTries = check.max_tries;
      enter("pin");
    } catch (err) {
      if (!current(gen, "checking")) return;
      if (err.code === "CARD_REMOVED" || err.code === "NO_CARD") { toWaiting("kiosk.removed"); return; }
      if (isSessionError(err)) return;  // the session handler took over
      refuse(MT.describeError(err));
    }
  }

  function current(gen, state) {
    return resident !== null && resident.gen === gen && station.state === state;
  }

  function isSessionError(err) {
    return err instanceof MT.ApiError && err.status === 401;
  }

  function onReaderEvent(event) {
    if (event.type === "snapshot") {
      station.readers = new Map(event.readers.map((r) => [r.id, r]));
      fillReaders();
    } else if (event.type === "reader_removed") {
      station.readers.delete(event.reader.id);
      fillReaders();
    } else if (event.reader && event.reader.name) {
      station.readers.set(event.reader.id, event.reader);
      if (event.type === "reader_added") fillReaders();
    }
    if (station.state === "signin" || station.state === "loading") return;
    const reader = station.readers.get(station.readerId);
    renderReaderState(reader);
    if (event.type === "progress" && event.reader.id === station.readerId
        && station.state === "working") {
      const key = "step." + event.step;
      say($("#progress"), { key: MT.t(key) === key ? "step.other" : key });
    }
    if ((event.type === "card_inserted" || event.type === "card_removed") && station.simRefresh) {
      station.simRefresh();
    }
    const present = Boolean(reader && reader.card_present);
    const serial = present ? reader.card_serial : null;
    if (serial === station.lastSerial) return;
    station.lastSerial = serial;
    if (serial === null) {
      const interrupted = ["checking", "working"].includes(station.state);
      station.leftoverSerial = null;
      toWaiting(interrupted ? "kiosk.removed" : null);
    } else if (serial !== station.leftoverSerial) {
      cardArrived(serial);
    }
  }

  function renderReaderState(reader) {
    say($("#reader-state"), reader ? {
      key: reader.card_present ? "reader.card_present" : "reader.card_absent",
    } : { key: "reader.none" });
  }

  function fillReaders() {
    const select = $("#reader");
    // A kiosk account bound to a reader (the session names it) uses that one.
    const bound = station.boundReader
      && [...station.readers.values()].find((r) => r.name === station.boundReader);
    const wanted = bound ? bound.id : params.get("reader");
    select.replaceChildren(...[...station.readers.values()].map((reader) => {
      const option = document.createElement("option");
      option.value = reader.id;
      option.textContent = reader.name;
      return option;
    }));
    if (station.readerId === null || !station.readers.has(station.readerId)) {
      station.readerId = station.readers.has(wanted) ? wanted
        : (select.options[0] || {}).value || null;
      station.lastSerial = undefined;  // re-read the new reader's card state
    }
    select.value = station.readerId || "";
  }

  // ---- the PIN pad --------------------------------------------------------------------

  function renderPin() {
    const digits = resident && station.state === "pin" ? resident.pin.length : 0;
    const dots = document.createElement("span");
    dots.setAttribute("aria-hidden", "true");
    dots.textContent = "●".repeat(digits) + "○".repeat(PIN_LENGTH - digits);
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    say(spoken, { key: "kiosk.pin.entered", vars: { n: digits } });
    $("#pin-display").replaceChildren(dots, spoken);
    $("#pin-ok").disabled = digits !== PIN_LENGTH;
    $("#pin-ok").setAttribute("aria-disabled", String(digits !== PIN_LENGTH));
    if (resident && resident.remaining !== null && station.state === "pin") {
      say($("#pin-remaining"), { key: "pin.remaining", vars: { n: resident.remaining } });
    }
  }

  function press(key) {
    if (station.state !== "pin" || !resident) return;
    activity();
    if (key === "ok") { confirmPin(); return; }
    if (key === "delete") resident.pin.pop();
    else if (/^[0-9]$/.test(key) && resident.pin.length < PIN_LENGTH) resident.pin.push(key);
    renderPin();
  }

  // One confirm, one VERIFY: the state leaves `pin` before anything is sent, so a
  // second Enter or tap finds no PIN pad.
  async function confirmPin() {
    if (station.state !== "pin" || !resident || resident.pin.length !== PIN_LENGTH) return;
    const pin = resident.pin.join("");
    const { gen, cardSerial } = resident;
    say($("#pin-error"), null);
    say($("#progress"), { key: "step.connecting" });
    enter("working");
    try {
      const challenge = await api("POST", "/api/auth/challenge");
      if (!current(gen, "working")) return;
      const result = await api("POST", `/api/readers/${station.readerId}/login`,
                               { pin, nonce: challenge.nonce, card_serial: cardSerial });
      if (!current(gen, "working")) return;  // the card left meanwhile: drop the answer
      say($("#symbol"), { text: result.portal_symbol_hint || "" });
      enter("result");
    } catch (err) {
      if (!current(gen, "working")) return;
      if (isSessionError(err)) return;
      if (err.code === "PIN_INCORRECT") {
        resident.remaining = err.fields.remaining;
        enter("pin");
        say($("#pin-error"), MT.describeError(err));
      } else if (err.code === "CARD_REMOVED" || err.code === "NO_CARD") {
        toWaiting("kiosk.removed");
      } else {
        refuse(MT.describeError(err));
      }
    }
  }

  function onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    activity();
    if (station.state !== "pin") return;
    const target = event.target;
    const onControl = target instanceof HTMLElement && target !== document.body
      && target.matches("button, select, input, a, textarea") && !target.closest("#keys");
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      press(event.key);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      press("delete");
    } else if (event.key === "Enter" && !onControl) {
      event.preventDefault();  // never re-presses a focused key
      press("ok");
    }
  }

  // ---- the session ------------------------------------------------------------------

  function lose(noteKey) {
    if (station.source) { station.source.close(); station.source = null; }
    forgetResident();
    clearTimer("session");
    station.lastSerial = undefined;
    show($("#station"), false);
    show($("#simulator"), false);
    show($("#unavailable"), true);
    say($("#signin-note"), { key: noteKey });
    enter("signin");
  }

  async function checkSession() {
    const session = await MT.currentSession().catch(() => undefined);
    if (session === null && station.state !== "signin") lose("kiosk.expired");
  }

  async function start(session) {
    const roles = session.roles || [];
    if (!roles.some((role) => ["kiosk", "clerk", "officer", "admin"].includes(role))) {
      say($("#signin-error"), { key: "signin.counter_only" });
      return;
    }
    say($("#signin-error"), null);
    say($("#signin-note"), null);
    show($("#unavailable"), false);
    station.boundReader = session.reader || null;
    station.lastSerial = undefined;
    station.leftoverSerial = null;
    toWaiting(null);
    station.source = MT.watchReaders(onReaderEvent, checkSession);
    station.timers.session = setInterval(checkSession, config.sessionCheckSeconds * 1000);
    const refresh = await MT.setupSimulator($("#simulator"), () => station.readerId, {
      all: () => [...station.readers.values()].map((r) => [r.id, r.name]),
    });
    show($("#station"), refresh !== null);
    station.simRefresh = refresh;
  }

  async function staffSignOut() {
    if (!(await MT.confirmDialog($("#staff-dialog")))) return;
    await api("DELETE", "/api/session").catch(() => {});
    lose("kiosk.signed_out");
    show($("#unavailable"), false);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await MT.ready;
    MT.applyLang();
    $("#lang").onclick = MT.toggleLang;
    document.addEventListener("mt:lang", renderPin);
    MT.onSessionLost(() => lose("kiosk.expired"));
    for (const button of document.querySelectorAll("[data-key]")) {
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => { button.blur(); press(button.dataset.key); });
    }
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("pointerdown", activity);
    $("#reader").onchange = (event) => {
      station.readerId = event.target.value;
      station.lastSerial = undefined;
      station.leftoverSerial = null;
      onReaderEvent({ type: "select" });
    };
    $("#finish").onclick = () => { if (station.state === "result") enter("take-card"); };
    $("#staff").onclick = staffSignOut;
    $("#signin-form").onsubmit = async (event) => {
      event.preventDefault();
      try {
        await MT.signIn(event.target);
        start(await MT.currentSession());
      } catch (err) {
        say($("#signin-error"), MT.signInError(err));
      }
    };
    const session = await MT.currentSession().catch(() => null);
    if (session) start(session);
    else enter("signin");
  });
})();
