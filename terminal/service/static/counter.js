// Counter (交付窓口): staff sign in, pick a reader, the holder enters the PINs, the
// service reads and checks the certificates and records the links. Serials are picked
// from the person's record, revocation is confirmed first, a revealed My Number hides
// again, an idle desk locks. Every message is a spec re-rendered on a language switch.
"use strict";

(() => {
  const { api, $, show, say, render } = MT;
  const params = new URLSearchParams(location.search);

  function seconds(name, fallback) {
    const value = Number(params.get(name));
    return Number.isFinite(value) && value >= 1 && value <= 86400 ? value : fallback;
  }

  const config = {
    revealSeconds: seconds("reveal", 30),  // a revealed My Number hides again
    lockSeconds: seconds("lock", 300),     // no activity -> the desk locks
  };
  // Reasons that end every certificate of the card (terminal.linkage RevocationReason).
  const WHOLE_CARD = new Set(["loss", "death", "card_returned", "key_compromise"]);

  const state = {
    readers: new Map(), readerId: null, session: null, working: false, cardSerial: null,
    summary: null, outcome: null, people: {}, revealed: null, timers: {}, source: null,
    lastActivity: Date.now(), locked: false, simRefresh: null,
  };

  function readerId() { return state.readerId; }
  // A spec (re-rendered on a language switch) or, from older callers, a plain text.
  function setError(spec) { say($("#error"), typeof spec === "string" ? (spec ? { text: spec } : null) : spec); }

  function clearTimer(name) {
    if (state.timers[name]) {
      clearInterval(state.timers[name]);
      delete state.timers[name];
    }
  }

  // ---- tables built from specs (re-rendered on a language switch) --------------------

  function table(entries) {
    const tableEl = document.createElement("table");
    for (const [label, value] of entries) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = render(label);
      td.textContent = render(value);
      tr.append(th, td);
      tableEl.append(tr);
    }
    return tableEl;
  }

  const text = (value) => ({ text: value === null || value === undefined ? "" : String(value) });
  const pinName = (kind) => ({ key: "pin.name." + kind });
  const certKind = (kind) => ({ key: "cert.kind." + kind });
  const certStatus = (status) => ({ key: "cert.status." + status });

  // ---- readers and the card -----------------------------------------------------------

  function renderReaders() {
    const list = $("#readers");
    list.replaceChildren(...[...state.readers.values()].map((reader) => {
      const li = document.createElement("li");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "reader";
      input.value = reader.id;
      input.id = "reader-" + reader.id;
      input.checked = reader.id === state.readerId;
      input.onchange = () => {
        state.readerId = reader.id;
        state.cardSerial = undefined;
        hideReveal();
        refreshCard();
      };
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.className = "inline";
      // Card presence in words, not by a symbol alone.
      label.textContent = MT.t(reader.busy ? "reader.label.busy" : "reader.label", {
        name: reader.name,
        state: { key: reader.card_present ? "reader.card_present" : "reader.card_absent" },
      });
      li.append(input, label);
      return li;
    }));
  }

  function renderSummary() {
    const target = $("#card-summary");
    const summary = state.summary;
    if (!summary) { target.replaceChildren(); return; }
    if (summary.message) {
      const p = document.createElement("p");
      say(p, summary.message);
      target.replaceChildren(p);
      return;
    }
    const card = summary.card;
    const auth = card.certificates.find((c) => c.kind === "auth");
    const entries = [[{ key: "card.kind" }, { key: card.mynumber_card ? "card.mynumber" : "card.other" }]];
    if (auth) {
      entries.push([{ key: "card.auth_serial" }, text(auth.serial)],
                   [{ key: "card.auth_valid_until" }, { date: auth.not_after }]);
    }
    for (const pin of card.pins) {
      let value = { key: "pin.tries", vars: { remaining: pin.remaining, max: pin.max_tries } };
      if (pin.is_set === false) value = { key: "pin.not_set" };  // a new card (issue 15)
      else if (pin.blocked) value = { key: "pin.blocked" };
      else if (pin.remaining === null) value = { key: "pin.verified" };  // the card hides the count
      entries.push([pinName(pin.kind), value]);
    }
    target.replaceChildren(table(entries));
  }

  async function refreshCard() {
    const reader = state.readers.get(state.readerId);
    if (!reader || !reader.card_present) {
      state.summary = { message: { key: "card.none" } };
      renderSummary();
      return;
    }
    try {
      const card = await api("GET", `/api/readers/${state.readerId}/card`);
      state.summary = { card };
    } catch (err) {
      if (err.code === "READER_BUSY") return;
      state.summary = { message: MT.describeError(err) };
    }
    renderSummary();
  }

  function onReaderEvent(event) {
    if (event.type === "snapshot") {
      state.readers = new Map(event.readers.map((r) => [r.id, r]));
      if (!state.readers.has(state.readerId)) {
        state.readerId = state.readers.size ? [...state.readers.keys()][0] : null;
      }
    } else if (event.type === "reader_removed") {
      state.readers.delete(event.reader.id);
    } else if (event.reader && event.reader.name) {
      state.readers.set(event.reader.id, event.reader);
    }
    if ((event.type === "card_inserted" || event.type === "card_removed") && state.simRefresh) {
      state.simRefresh();
    }
    renderReaders();
    const reader = state.readers.get(state.readerId);
    if (event.type === "progress" && reader && event.reader.id === state.readerId && state.working) {
      const key = "step." + event.step;
      say($("#progress"), { key: MT.t(key) === key ? "step.other" : key });
    }
    const serial = reader && reader.card_present ? reader.card_serial : null;
    if (serial !== state.cardSerial) {
      const hadCard = state.cardSerial !== undefined && state.cardSerial !== null;
      state.cardSerial = serial;
      if (hadCard) hideReveal();  // the card left (or another came): the number goes
      if (serial === null && state.working) setError({ key: "err.CARD_REMOVED" });
      if (!state.working) refreshCard();
    }
  }

  // ---- outcomes -----------------------------------------------------------------------

  function showOutcome(outcome) {
    state.outcome = outcome;
    renderOutcome();
  }

  function renderOutcome() {
    const outcome = state.outcome;
    if (!outcome) { $("#outcome").replaceChildren(); return; }
    const block = document.createElement("div");
    const head = document.createElement("p");
    head.className = "ok";
    head.id = "done";
    head.dataset.outcome = outcome.kind;
    head.textContent = render(outcome.title);
    block.append(head);
    for (const note of outcome.notes || []) {
      const p = document.createElement("p");
      p.textContent = render(note);
      block.append(p);
    }
    block.append(table(outcome.entries));
    $("#outcome").replaceChildren(block);
  }

  function linkEntries(result) {
    const entries = [[{ key: "outcome.person" }, text(result.person_id)]];
    for (const cert of result.certificates || []) {
      entries.push([{ key: "outcome." + cert.kind }, text(cert.serial)]);
    }
    if (result.portal_symbol_hint) entries.push([{ key: "outcome.symbol" }, text(result.portal_symbol_hint)]);
    if (result.my_number) entries.push([{ key: "outcome.mynumber" }, text(result.my_number)]);
    for (const old of result.replaces || []) {
      entries.push([{ key: "outcome.replaces." + old.kind }, text(old.serial)]);
    }
    return { kind: "link", title: { key: "done" }, entries,
             notes: result.replayed ? [{ key: "outcome.replayed" }] : [] };
  }

  async function run(form, path, body, describe) {
    if (state.working) return null;
    state.working = true;
    setError(null);
    showOutcome(null);
    for (const el of form.elements) el.disabled = true;
    try {
      const result = await api("POST", path, body);
      clearSecrets(form);
      showOutcome(describe(result));
      return result;
    } catch (err) {
      setError(MT.describeError(err));
      return null;
    } finally {
      state.working = false;
      for (const el of form.elements) el.disabled = false;
      clearSecrets(form);  // PINs never stay in a form, right or wrong
      say($("#progress"), null);
      refreshCard();
    }
  }

  function clearSecrets(root) {
    for (const input of root.querySelectorAll("input[type=password]")) input.value = "";
  }

  function formValues(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  // ---- persons and certificates -------------------------------------------------------

  async function lookUp(personId) {
    return api("GET", `/api/persons/${encodeURIComponent(personId)}`);
  }

  function certLabel(cert) {
    return { key: "cert.label", vars: { kind: certKind(cert.kind), serial: cert.serial,
                                        status: certStatus(cert.status),
                                        until: { date: cert.not_after } } };
  }

  // Radio buttons for the certificates a task may pick (renewal: active auth
  // certificates; revocation: every active certificate).
  function renderChoices(task) {
    const box = document.querySelector(`[data-choices=${task}]`);
    const person = state.people[task];
    if (!person) { box.replaceChildren(); return; }
    const certs = person.certificates.filter((c) => c.status === "active"
      && (task !== "renewal" || c.kind === "auth"));
    if (!certs.length) {
      const p = document.createElement("p");
      p.className = "note-strong";
      p.textContent = MT.t(task === "renewal" ? "cert.none" : "revocation.none_active");
      box.replaceChildren(p);
      return;
    }
    const previous = box.querySelector("input:checked");
    box.replaceChildren(...certs.map((cert, index) => {
      const id = `${task}-cert-${index}`;
      const wrap = document.createElement("div");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "serial";
      input.value = cert.serial;
      input.id = id;
      input.required = true;
      input.checked = previous ? previous.value === cert.serial : certs.length === 1;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.className = "inline";
      label.textContent = render(certLabel(cert));
      wrap.append(input, label);
      return wrap;
    }));
  }

  async function findFor(task, form) {
    setError(null);
    try {
      state.people[task] = await lookUp(formValues(form).person_id);
    } catch (err) {
      state.people[task] = null;
      setError(MT.describeError(err));
    }
    renderChoices(task);
  }

  function renderPerson() {
    const person = state.people.person;
    if (!person) { $("#person").replaceChildren(); return; }
    const symbols = Object.entries(person.symbols).map(([agency, symbol]) => {
      const name = MT.t("agency." + agency);
      return MT.t("person.symbol", { agency: name === "agency." + agency ? agency : name, symbol });
    }).join(MT.t("list.sep"));
    const head = table([[{ key: "outcome.person" }, text(person.person_id)],
                        [{ key: "person.symbols" }, text(symbols)]]);
    const certs = document.createElement("table");
    const headRow = document.createElement("tr");
    for (const key of ["cert.kind", "serial", "cert.status", "cert.valid_until"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = MT.t(key);
      headRow.append(th);
    }
    certs.append(headRow);
    for (const cert of person.certificates) {
      const tr = document.createElement("tr");
      for (const value of [render(certKind(cert.kind)), cert.serial, render(certStatus(cert.status)),
                           MT.formatDate(cert.not_after)]) {
        const td = document.createElement("td");
        td.textContent = value;
        tr.append(td);
      }
      certs.append(tr);
    }
    const caption = document.createElement("h3");
    caption.textContent = MT.t("person.certificates");
    $("#person").replaceChildren(head, caption, certs);
  }

  // The person tab looks up by resident code (through the symbol core), certificate
  // serial or integrated number; each lookup is audited by the service.
  async function showPerson(by, value) {
    hideReveal(false);
    state.people.person = await api("POST", "/api/persons/lookup", { [by]: value });
    renderPerson();
    const roles = state.session.roles;
    const canReveal = roles.some((r) => r === "officer" || r === "admin");
    show($("#reveal-form"), canReveal && state.people.person.has_mynumber_index);
  }

  // ---- the revealed My Number -------------------------------------------------------

  async function revealMyNumber(form) {
    const v = formValues(form);
    clearSecrets(form);
    const person = state.people.person;
    const result = await api("POST", `/api/persons/${encodeURIComponent(person.person_id)}/reveal`,
                             { reader_id: state.readerId, cardinfo_pin: v.cardinfo_pin });
    show($("#reveal-form"), false);  // one reveal per lookup, each one audited
    state.revealed = { until: Date.now() + config.revealSeconds * 1000 };
    $("#mynumber").textContent = result.my_number;
    say($("#reveal-note"), null);
    show($("#revealed"), true);
    const tick = () => {
      const left = Math.max(0, Math.ceil((state.revealed.until - Date.now()) / 1000));
      say($("#reveal-countdown"), { key: "reveal.hides", vars: { n: left } });
      if (left === 0) hideReveal();
    };
    tick();
    state.timers.reveal = setInterval(tick, 250);
  }

  function hideReveal(note = true) {
    const wasShown = state.revealed !== null;
    clearTimer("reveal");
    state.revealed = null;
    $("#mynumber").textContent = "";
    say($("#reveal-countdown"), null);
    show($("#revealed"), false);
    say($("#reveal-note"), wasShown && note ? { key: "reveal.hidden" } : null);
  }

  // ---- revocation with confirmation -------------------------------------------------

  function revocationTargets(person, serial, reason) {
    const chosen = person.certificates.find((c) => c.serial === serial);
    if (!chosen) return [];
    if (!WHOLE_CARD.has(reason)) return [chosen];
    return person.certificates.filter((c) => c.card_id === chosen.card_id && c.status === "active");
  }

  async function revoke(form) {
    const person = state.people.revocation;
    const v = formValues(form);
    if (!person || !v.serial) { setError({ key: "renewal.pick_first" }); return; }
    const targets = revocationTargets(person, v.serial, v.reason);
    say($("#revoke-reason"), { key: "reason." + v.reason });
    $("#revoke-list").replaceChildren(...targets.map((cert) => {
      const li = document.createElement("li");
      li.textContent = render(certLabel(cert));
      return li;
    }));
    if (!(await MT.confirmDialog($("#revoke-dialog")))) return;
    const result = await run(form, "/api/revocation", { serial: v.serial, reason: v.reason },
      (answer) => {
        // Revoking again changes nothing: say so instead of "done" with an empty list.
        const fresh = answer.revoked.length > 0;
        const entries = [[{ key: "outcome.person" }, text(answer.person_id)]];
        const list = (serials) => ({ parts: serials.flatMap((serial, i) =>
          (i ? [{ key: "list.sep" }, { text: serial }] : [{ text: serial }])) });
        if (fresh) entries.push([{ key: "revocation.revoked_list" }, list(answer.revoked)]);
        if (answer.already.length) entries.push([{ key: "revocation.already_list" }, list(answer.already)]);
        return { kind: fresh ? "revoked" : "already",
                 title: { key: fresh ? "revocation.done" : "revocation.already" }, entries };
      });
    if (result) {
      state.people.revocation = await lookUp(person.person_id).catch(() => null);
      renderChoices("revocation");
    }
  }

  // ---- tabs (role=tab, arrow keys) --------------------------------------------------

  function selectTab(tab, focus = false) {
    for (const other of document.querySelectorAll("[role=tab]")) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      show($("#" + other.getAttribute("aria-controls")), selected);
    }
    if (focus) tab.focus();
  }

  function wireTabs() {
    const tabs = [...document.querySelectorAll("[role=tab]")];
    for (const tab of tabs) {
      tab.onclick = () => selectTab(tab);
      tab.onkeydown = (event) => {
        const index = tabs.indexOf(tab);
        const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        selectTab(tabs[(next + tabs.length) % tabs.length], true);
      };
    }
  }

  // ---- forms --------------------------------------------------------------------------

  function wireForms() {
    // The issuance and renewal forms belong to the identity check (identity-check.js):
    // the card's holder and the register's verdict come first, the link after the
    // clerk confirms the face-to-face verification (本人確認).
    $("#renewal-find").onsubmit = (event) => { event.preventDefault(); findFor("renewal", event.target); };
    $("#revocation-find").onsubmit = (event) => { event.preventDefault(); findFor("revocation", event.target); };
    $("#revocation-form").onsubmit = (event) => {
      event.preventDefault();
      revoke(event.target).catch((err) => setError(MT.describeError(err)));
    };
    $("#person-form").onsubmit = async (event) => {
      event.preventDefault();
      setError(null);
      const v = formValues(event.target);
      try { await showPerson(v.by, v.value); }
      catch (err) { setError(MT.describeError(err)); }
    };
    $("#reveal-form").onsubmit = async (event) => {
      event.preventDefault();
      setError(null);
      try { await revealMyNumber(event.target); }
      catch (err) { setError(MT.describeError(err)); }
    };
  }

  // ---- session, idle lock ---------------------------------------------------------------

  function activity() { state.lastActivity = Date.now(); }

  // Nothing of the last person stays on the desk: outcome, record, revealed number.
  function wipeDesk() {
    hideReveal(false);
    state.people = {};
    state.summary = null;
    showOutcome(null);
    setError(null);
    for (const form of document.querySelectorAll("#desk form")) form.reset();
    renderPerson();
    for (const task of ["renewal", "revocation"]) renderChoices(task);
  }

  function endSession() {
    state.session = null;
    if (state.source) { state.source.close(); state.source = null; }
    clearTimer("idle");
  }

  // An idle desk locks: the session is signed out (a locked desk holds no live
  // session) and the desk wiped; the same clerk's password opens a new one.
  function lock() {
    if (state.locked || !state.session || state.working) return;
    const username = state.session.username;
    state.locked = true;
    api("DELETE", "/api/session").catch(() => {});
    endSession();
    wipeDesk();
    show($("#desk"), false);
    $("#lock-form").elements.username.value = username;
    $("#lock-user").textContent = username;
    say($("#lock-error"), null);
    show($("#lock"), true);
    document.body.dataset.state = "locked";
  }

  function watchIdle() {
    clearTimer("idle");
    state.timers.idle = setInterval(() => {
      if (Date.now() - state.lastActivity >= config.lockSeconds * 1000) lock();
    }, 500);
  }

  // The session ended (expiry, idle timeout at the service, sign-out elsewhere): back to
  // the sign-in with a staff message; nothing of the desk stays.
  function lost() {
    if (!state.session || state.locked) return;
    endSession();
    wipeDesk();
    show($("#desk"), false);
    show($("#lock"), false);
    show($("#signout"), false);
    $("#operator").textContent = "";
    say($("#signin-note"), { key: "counter.expired" });
    show($("#signin"), true);
    document.body.dataset.state = "signin";
  }

  // What the counter's other panels (identity check, card surface, card life) use of
  // this page.
  window.MTCounter = { run, linkEntries, formValues, setError, readerId, showOutcome,
                       busy: () => state.working };

  function rolesText(roles) {
    return roles.map((role) => MT.t("role." + role)).join("、");
  }

  async function start(session) {
    const roles = session.roles || [];
    if (!roles.some((role) => ["clerk", "officer", "admin"].includes(role))) {
      // A kiosk account never opens the counter.
      await api("DELETE", "/api/session").catch(() => {});
      say($("#signin-error"), { key: "signin.kiosk_only" });
      show($("#signin"), true);
      document.body.dataset.state = "signin";
      return;
    }
    state.session = session;
    state.locked = false;
    show($("#lock"), false);
    renderOperator();
    say($("#signin-error"), null);
    say($("#signin-note"), null);
    show($("#signout"), true);
    show($("#signin"), false);
    show($("#desk"), true);
    document.body.dataset.state = "desk";
    activity();
    watchIdle();
    state.cardSerial = undefined;
    state.source = MT.watchReaders(onReaderEvent, async () => {
      if ((await MT.currentSession().catch(() => undefined)) === null) lost();
    });
    state.simRefresh = await MT.setupSimulator($("#simulator"), readerId, {
      all: () => [...state.readers.values()].map((r) => [r.id, r.name]),
    });
  }

  function renderOperator() {
    if (!state.session) return;
    $("#operator").textContent = MT.t("signed_in_as",
      { user: state.session.username, roles: rolesText(state.session.roles) });
  }

  function rerender() {
    renderOperator();
    renderReaders();
    renderSummary();
    renderOutcome();
    renderPerson();
    for (const task of ["renewal", "revocation"]) renderChoices(task);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await MT.ready;
    MT.applyLang();
    $("#lang").onclick = MT.toggleLang;
    document.addEventListener("mt:lang", rerender);
    document.addEventListener("keydown", activity, true);
    document.addEventListener("pointerdown", activity, true);
    MT.onSessionLost(lost);
    wireTabs();
    wireForms();
    $("#signout").onclick = async () => {
      await api("DELETE", "/api/session").catch(() => {});
      location.reload();
    };
    $("#lock-form").onsubmit = async (event) => {
      event.preventDefault();
      try {
        await MT.signIn(event.target);
        start(await MT.currentSession());
      } catch (err) {
        say($("#lock-error"), MT.signInError(err));
      }
    };
    $("#lock-other").onclick = async () => {
      await api("DELETE", "/api/session").catch(() => {});
      location.reload();
    };
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
    else { show($("#signin"), true); document.body.dataset.state = "signin"; }
  });
})();
