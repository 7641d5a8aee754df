// Counter (交付窓口): staff sign in, pick a reader, the holder enters the PINs, the
// service reads and checks the certificates and records the links.
"use strict";

(() => {
  const { t, api, $, show } = MT;
  const state = { readers: new Map(), readerId: null, session: null, working: false,
                  personId: null, cardSerial: null };

  function readerId() { return state.readerId; }
  function setError(text) { $("#error").textContent = text || ""; }

  function row(label, value) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    const td = document.createElement("td");
    th.textContent = label;
    td.textContent = value === null || value === undefined ? "" : String(value);
    tr.append(th, td);
    return tr;
  }

  function table(entries) {
    const tableEl = document.createElement("table");
    for (const [label, value] of entries) tableEl.append(row(label, value));
    return tableEl;
  }

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
      input.onchange = () => { state.readerId = reader.id; state.cardSerial = undefined; refreshCard(); };
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.style.display = "inline";
      const card = reader.card_present ? "●" : "○";
      label.textContent = ` ${reader.name} ${card}${reader.busy ? " …" : ""}`;
      li.append(input, label);
      return li;
    }));
  }

  async function refreshCard() {
    const target = $("#card-summary");
    const reader = state.readers.get(state.readerId);
    if (!reader || !reader.card_present) {
      target.replaceChildren(document.createTextNode(t("card.insert")));
      return;
    }
    try {
      const summary = await api("GET", `/api/readers/${state.readerId}/card`);
      const auth = summary.certificates.find((c) => c.kind === "auth");
      const entries = [["token", summary.token_info]];
      if (auth) entries.push([t("serial"), auth.serial], ["not after", auth.not_after]);
      for (const pin of summary.pins) {
        entries.push([`PIN ${pin.kind}`, pin.is_set === false ? "not set / 未設定"
          : pin.blocked ? "blocked" : `${pin.remaining} / ${pin.max_tries}`]);
      }
      target.replaceChildren(table(entries));
    } catch (err) {
      if (err.code !== "READER_BUSY") target.replaceChildren(document.createTextNode(MT.errorText(err)));
    }
  }

  function onReaderEvent(event) {
    if (event.type === "snapshot") {
      state.readers = new Map(event.readers.map((r) => [r.id, r]));
      if (!state.readers.has(state.readerId)) {
        state.readerId = state.readers.size ? [...state.readers.keys()][0] : null;
      }
    } else if (event.reader && event.reader.name) {
      state.readers.set(event.reader.id, event.reader);
    }
    renderReaders();
    const reader = state.readers.get(state.readerId);
    if (event.type === "progress" && reader && event.reader.id === state.readerId) {
      $("#progress").textContent = t("step." + event.step) === "step." + event.step
        ? event.step : t("step." + event.step);
      show($("#progress"), state.working);
    }
    const serial = reader && reader.card_present ? reader.card_serial : null;
    if (serial !== state.cardSerial && !state.working) {
      state.cardSerial = serial;
      refreshCard();
    }
    if (serial === null && state.working) setError(t("err.CARD_REMOVED"));
  }

  function showOutcome(entries) {
    const block = document.createElement("div");
    const done = document.createElement("p");
    done.className = "ok";
    done.id = "done";
    done.textContent = t("done");
    block.append(done, table(entries));
    $("#outcome").replaceChildren(block);
  }

  async function run(form, path, body, describe) {
    if (state.working) return;
    state.working = true;
    setError("");
    $("#outcome").replaceChildren();
    for (const el of form.elements) el.disabled = true;
    try {
      const result = await api("POST", path, body);
      form.reset();
      showOutcome(describe(result));
    } catch (err) {
      setError(MT.errorText(err));
    } finally {
      state.working = false;
      for (const el of form.elements) el.disabled = false;
      show($("#progress"), false);
      refreshCard();
    }
  }

  function linkEntries(result) {
    const entries = [["person", result.person_id]];
    for (const cert of result.certificates || []) {
      entries.push([`${cert.kind} ${t("serial")}`, cert.serial]);
    }
    if (result.portal_symbol_hint) entries.push([t("login.symbol"), result.portal_symbol_hint]);
    if (result.my_number) entries.push(["My Number", result.my_number]);
    for (const old of result.replaces || []) entries.push([`replaces ${old.kind}`, old.serial]);
    return entries;
  }

  function formValues(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  async function showPerson(personId) {
    const person = await api("GET", `/api/persons/${encodeURIComponent(personId)}`);
    state.personId = personId;
    const symbols = Object.entries(person.symbols).map(([k, v]) => `${k}: ${v}`).join(", ");
    $("#person").replaceChildren(table([
      ["ID", person.person_id], ["symbols", symbols],
      ["certificates", person.certificates.map((c) => `${c.kind}:${c.serial} (${c.status})`).join(", ")],
    ]));
    const canReveal = state.session.roles.some((r) => r === "officer" || r === "admin");
    show($("#reveal-form"), canReveal && person.has_mynumber_index);
  }

  async function revealMyNumber(form) {
    const v = formValues(form);
    form.reset();
    const result = await api("POST", `/api/persons/${encodeURIComponent(state.personId)}/reveal`,
                             { reader_id: state.readerId, cardinfo_pin: v.cardinfo_pin });
    $("#person").append(table([["My Number", result.my_number]]));
    show($("#reveal-form"), false);  // one reveal per lookup, each one audited
  }

  function wireForms() {
    $("#issuance-form").onsubmit = (event) => {
      event.preventDefault();
      const v = formValues(event.target);
      const body = { reader_id: state.readerId, resident_code: v.resident_code,
                     auth_pin: v.auth_pin, sign_pin: v.sign_pin };
      if (v.cardinfo_pin) body.cardinfo_pin = v.cardinfo_pin;
      run(event.target, "/api/issuance", body, linkEntries);
    };
    $("#renewal-form").onsubmit = (event) => {
      event.preventDefault();
      const v = formValues(event.target);
      run(event.target, "/api/renewal",
          { reader_id: state.readerId, old_auth_serial: v.old_auth_serial,
            auth_pin: v.auth_pin, sign_pin: v.sign_pin }, linkEntries);
    };
    $("#revocation-form").onsubmit = (event) => {
      event.preventDefault();
      const v = formValues(event.target);
      run(event.target, "/api/revocation", { serial: v.serial, reason: v.reason },
          (result) => [["person", result.person_id], [t("serial"), result.serial],
                       ["revoked", result.revoked.join(", ")],
                       ["already", result.already.join(", ")]]);
    };
    $("#person-form").onsubmit = async (event) => {
      event.preventDefault();
      setError("");
      try { await showPerson(formValues(event.target).person_id); }
      catch (err) { setError(MT.errorText(err)); }
    };
    $("#reveal-form").onsubmit = async (event) => {
      event.preventDefault();
      setError("");
      try { await revealMyNumber(event.target); }
      catch (err) { setError(MT.errorText(err)); }
    };
    for (const tab of document.querySelectorAll("[data-tab]")) {
      tab.onclick = () => {
        for (const other of document.querySelectorAll("[data-tab]")) {
          other.setAttribute("aria-selected", String(other === tab));
          show($("#tab-" + other.dataset.tab), other === tab);
        }
      };
    }
  }

  async function start(session) {
    state.session = session;
    $("#operator").textContent = `${session.username} (${session.roles.join(", ")})`;
    show($("#signout"), true);
    show($("#signin"), false);
    show($("#desk"), true);
    MT.watchReaders(onReaderEvent);
    MT.setupSimulator($("#simulator"), readerId);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    MT.applyLang();
    $("#lang").onclick = MT.toggleLang;
    wireForms();
    $("#signout").onclick = async () => {
      await api("DELETE", "/api/session").catch(() => {});
      location.reload();
    };
    $("#signin-form").onsubmit = async (event) => {
      event.preventDefault();
      try {
        await MT.signIn(event.target);
        start(await MT.currentSession());
      } catch (err) {
        $("#signin-error").textContent = MT.errorText(err);
      }
    };
    const session = await MT.currentSession();
    if (session) start(session); else show($("#signin"), true);
  });
})();
