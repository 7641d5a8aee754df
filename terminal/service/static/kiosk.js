// Kiosk: the resident places the card, types the 4-digit PIN on the pad, the card signs
// a fresh challenge and the service answers with the login result.
"use strict";

(() => {
  const { t, api, $, show } = MT;
  const state = { readers: new Map(), readerId: null, pin: "", remaining: null,
                  working: false, done: false, cardSerial: null, status: "card.insert" };

  function readerId() { return state.readerId; }

  function setStatus(key) {
    state.status = key;
    $("#status").textContent = t(key);
  }

  function setError(text) { $("#error").textContent = text || ""; }

  function renderPin() {
    $("#pin-display").textContent = "●".repeat(state.pin.length);
    $("#pin-ok").disabled = state.pin.length !== 4 || state.working;
    $("#pin-remaining").textContent =
      state.remaining === null ? "" : t("pin.remaining", { n: state.remaining });
  }

  function reset(clearError = true) {
    state.pin = "";
    state.done = false;
    show($("#result"), false);
    show($("#progress"), false);
    if (clearError) setError("");
    renderPin();
  }

  async function cardArrived() {
    reset();
    setStatus("card.present");
    try {
      const summary = await api("GET", `/api/readers/${state.readerId}/card`);
      const auth = summary.pins.find((pin) => pin.kind === "auth");
      state.remaining = auth ? auth.remaining : null;
      if (auth && auth.blocked) {
        setError(t("err.PIN_BLOCKED"));
        show($("#pinpad"), false);
        return;
      }
      show($("#pinpad"), true);
      renderPin();
    } catch (err) {
      setError(MT.errorText(err));
    }
  }

  function cardLeft() {
    // Keep a message such as "the card was removed during the operation" on screen
    // until the next card comes.
    reset(false);
    state.remaining = null;
    show($("#pinpad"), false);
    setStatus("card.insert");
  }

  function onReaderEvent(event) {
    if (event.type === "snapshot") {
      state.readers = new Map(event.readers.map((r) => [r.id, r]));
      fillReaders();
    } else if (event.reader && event.reader.name) {
      state.readers.set(event.reader.id, event.reader);
    }
    const reader = state.readers.get(state.readerId);
    if (!reader) return;
    if (event.type === "progress" && event.reader.id === state.readerId) {
      $("#progress").textContent = t("step." + event.step);
      show($("#progress"), state.working);
    }
    const serial = reader.card_present ? reader.card_serial : null;
    if (serial !== state.cardSerial) {
      state.cardSerial = serial;
      if (serial === null) {
        if (state.working) {
          setError(t("err.CARD_REMOVED"));
        } else {
          cardLeft();
        }
      } else if (!state.working) {
        cardArrived();
      }
    }
  }

  function fillReaders() {
    const select = $("#reader");
    const wanted = new URLSearchParams(location.search).get("reader");
    select.replaceChildren(...[...state.readers.values()].map((reader) => {
      const option = document.createElement("option");
      option.value = reader.id;
      option.textContent = reader.name;
      return option;
    }));
    if (state.readerId === null || !state.readers.has(state.readerId)) {
      state.readerId = state.readers.has(wanted) ? wanted : (select.options[0] || {}).value || null;
      state.cardSerial = undefined;
    }
    select.value = state.readerId || "";
    if (state.readerId === null) setStatus("reader.none");
  }

  async function login() {
    if (state.pin.length !== 4 || state.working) return;
    const pin = state.pin;
    state.pin = "";
    state.working = true;
    setError("");
    renderPin();
    show($("#progress"), true);
    $("#progress").textContent = t("step.connecting");
    setStatus("card.busy");
    try {
      const challenge = await api("POST", "/api/auth/challenge");
      const result = await api("POST", `/api/readers/${state.readerId}/login`,
                               { pin, nonce: challenge.nonce });
      state.done = true;
      $("#symbol").textContent = result.portal_symbol_hint || "";
      show($("#pinpad"), false);
      show($("#result"), true);
      setStatus("card.present");
    } catch (err) {
      if (err.code === "PIN_INCORRECT") state.remaining = err.fields.remaining;
      if (err.code === "PIN_BLOCKED") { state.remaining = 0; show($("#pinpad"), false); }
      setError(MT.errorText(err));
      const reader = state.readers.get(state.readerId);
      setStatus(reader && reader.card_present ? "card.present" : "card.insert");
      if (err.code === "CARD_REMOVED" || err.code === "NO_CARD") show($("#pinpad"), false);
    } finally {
      state.working = false;
      show($("#progress"), false);
      renderPin();
    }
  }

  function onKey(key) {
    if (key === "clear") state.pin = "";
    else if (key === "ok") { login(); return; }
    else if (state.pin.length < 4) state.pin += key;
    renderPin();
  }

  async function start() {
    show($("#signin"), false);
    show($("#kiosk"), true);
    MT.watchReaders(onReaderEvent);
    MT.setupSimulator($("#simulator"), readerId);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    MT.applyLang();
    $("#lang").onclick = MT.toggleLang;
    document.addEventListener("mt:lang", () => { setStatus(state.status); renderPin(); });
    for (const button of document.querySelectorAll("[data-key]")) {
      button.onclick = () => onKey(button.dataset.key);
    }
    document.addEventListener("keydown", (event) => {
      if (!$("#pinpad").hidden && /^[0-9]$/.test(event.key)) onKey(event.key);
      if (!$("#pinpad").hidden && event.key === "Enter") onKey("ok");
      if (!$("#pinpad").hidden && event.key === "Backspace") onKey("clear");
    });
    $("#reader").onchange = (event) => {
      state.readerId = event.target.value;
      state.cardSerial = undefined;
      onReaderEvent({ type: "select" });
    };
    $("#again").onclick = () => { reset(); cardArrived(); };
    $("#signin-form").onsubmit = async (event) => {
      event.preventDefault();
      try {
        await MT.signIn(event.target);
        start();
      } catch (err) {
        $("#signin-error").textContent = MT.errorText(err);
      }
    };
    setStatus("card.insert");
    const session = await MT.currentSession();
    if (session) start(); else show($("#signin"), true);
  });
})();
