// The counter's identity check (issue 10). Before a card is linked the clerk sees who
// the card says its holder is (name and birth date as the card states them) next to the
// resident register's verdict per field, and confirms the face-to-face verification
// (本人確認). Only a matching card with the confirmation ticked can be linked; the
// service checks both again, so this page cannot be talked past.
"use strict";

(() => {
  const { t, api, $, show } = MT;
  const FIELDS = ["name", "birth_date", "sex", "address", "my_number"];
  let checked = null;  // {resident_code, reader_id, match} of the check on screen

  function rows(target, entries) {
    target.replaceChildren(...entries.map(([label, value, cls]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = label;
      td.textContent = value;
      if (cls) td.className = cls;
      tr.dataset.field = label;
      tr.append(th, td);
      return tr;
    }));
  }

  function body(form) {
    const v = MTCounter.formValues(form);
    const request = { reader_id: MTCounter.readerId(), resident_code: v.resident_code,
                      auth_pin: v.auth_pin };
    if (v.sign_pin) request.sign_pin = v.sign_pin;
    if (v.cardinfo_pin) request.cardinfo_pin = v.cardinfo_pin;
    return request;
  }

  function reset() {
    checked = null;
    show($("#identity-check"), false);
    $("#face-to-face").checked = false;
    $("#identity-link").disabled = true;
  }

  function updateLink() {
    $("#identity-link").disabled = !(checked && checked.match && $("#face-to-face").checked);
  }

  function render(result) {
    const holder = result.holder;
    rows($("#identity-holder"), [
      [t("identity.holder.name"), holder.name],
      [t("identity.holder.birth_date"), holder.birth_date],
      [t("identity.holder.source"), t("identity.source." + holder.source)],
    ]);
    rows($("#identity-verdict"), FIELDS.map((field) => {
      const verdict = result.fields[field] || "not_given";
      const cls = verdict === "match" ? "ok" : verdict === "mismatch" ? "error" : "";
      return [t("identity.field." + field), t("identity.verdict." + verdict), cls];
    }));
    const outcome = $("#identity-result");
    outcome.className = result.match ? "ok" : "error";
    outcome.textContent = t(result.match ? "identity.match" : "identity.mismatch");
    show($("#identity-check"), true);
  }

  async function check(form) {
    if (MTCounter.busy()) return;
    MTCounter.setError("");
    reset();
    const request = body(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const result = await api("POST", "/api/issuance/identity", request);
      checked = { resident_code: request.resident_code, reader_id: request.reader_id,
                  match: result.match };
      render(result);
    } catch (err) {
      MTCounter.setError(MT.errorText(err));
    } finally {
      button.disabled = false;
      updateLink();
    }
  }

  function link(form) {
    const request = body(form);
    if (!checked || checked.resident_code !== request.resident_code
        || checked.reader_id !== request.reader_id) {
      reset();  // the form changed since the check: check again
      return;
    }
    request.face_to_face_confirmed = $("#face-to-face").checked;
    reset();
    MTCounter.run(form, "/api/issuance", request, MTCounter.linkEntries);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("#issuance-form");
    form.onsubmit = (event) => { event.preventDefault(); check(form); };
    form.addEventListener("input", reset);  // a new resident code or card: a new check
    $("#face-to-face").onchange = updateLink;
    $("#identity-link").onclick = () => link(form);
  });
})();
