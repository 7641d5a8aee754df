// The counter's identity check (issue 10). Before a card is linked (issuance) or
// chained to an old one (renewal) the clerk sees who the card says its holder is (name
// and birth date as the card states them) next to the resident register's verdict per
// field, and confirms the face-to-face verification (本人確認). Only a matching card with
// the confirmation ticked can be linked; the service checks both again, so this page
// cannot be talked past.
"use strict";

(() => {
  const { t, api, $, show } = MT;
  const FIELDS = ["name", "birth_date", "sex", "address", "my_number"];
  // `field`: the form's input naming the subject; `param`: its name in the request.
  const FLOWS = [
    { form: "#issuance-form", panel: "#identity-check", field: "resident_code",
      param: "resident_code", check: "/api/issuance/identity", link: "/api/issuance" },
    { form: "#renewal-form", panel: "#renewal-identity-check", field: "serial",
      param: "old_auth_serial", check: "/api/renewal/identity", link: "/api/renewal",
      missing: "renewal.pick_first" },
  ];

  function rows(target, entries) {
    target.replaceChildren(...entries.map(([label, value, cls]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = label;
      td.textContent = value;
      if (cls) td.className = cls;
      tr.append(th, td);
      return tr;
    }));
  }

  function attach(flow) {
    const form = $(flow.form);
    const panel = $(flow.panel);
    const part = (cls) => panel.querySelector("." + cls);
    let checked = null;  // {subject, reader_id, match} of the check on screen

    function body() {
      const v = MTCounter.formValues(form);
      const request = { reader_id: MTCounter.readerId(), [flow.param]: v[flow.field],
                        auth_pin: v.auth_pin };
      if (v.sign_pin) request.sign_pin = v.sign_pin;
      if (v.cardinfo_pin) request.cardinfo_pin = v.cardinfo_pin;
      return request;
    }

    function reset() {
      checked = null;
      show(panel, false);
      part("face-to-face").checked = false;
      part("identity-link").disabled = true;
    }

    function updateLink() {
      part("identity-link").disabled = !(checked && checked.match && part("face-to-face").checked);
    }

    function render(result) {
      const holder = result.holder;
      rows(part("identity-holder"), [
        [t("identity.holder.name"), holder.name],
        [t("identity.holder.birth_date"), MT.formatDate(holder.birth_date)],
        [t("identity.holder.source"), t("identity.source." + holder.source)],
      ]);
      rows(part("identity-verdict"), FIELDS.map((field) => {
        const verdict = result.fields[field] || "not_given";
        const cls = verdict === "match" ? "ok" : verdict === "mismatch" ? "error" : "";
        return [t("identity.field." + field), t("identity.verdict." + verdict), cls];
      }));
      const outcome = part("identity-result");
      outcome.className = "identity-result " + (result.match ? "ok" : "error");
      outcome.textContent = t(result.match ? "identity.match" : "identity.mismatch");
      show(panel, true);
    }

    async function check() {
      if (MTCounter.busy()) return;
      MTCounter.setError(null);
      reset();
      const request = body();
      if (!request[flow.param]) { MTCounter.setError({ key: flow.missing }); return; }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const result = await api("POST", flow.check, request);
        checked = { subject: request[flow.param], reader_id: request.reader_id,
                    match: result.match };
        render(result);
      } catch (err) {
        MTCounter.setError(MT.describeError(err));
      } finally {
        button.disabled = false;
        updateLink();
      }
    }

    function link() {
      const request = body();
      if (!checked || checked.subject !== request[flow.param]
          || checked.reader_id !== request.reader_id) {
        reset();  // the form or the reader changed since the check: check again
        return;
      }
      request.face_to_face_confirmed = part("face-to-face").checked;
      reset();
      MTCounter.run(form, flow.link, request, MTCounter.linkEntries);
    }

    form.onsubmit = (event) => { event.preventDefault(); check(); };
    form.addEventListener("input", reset);  // a new code, serial or PIN: a new check
    part("face-to-face").onchange = updateLink;
    part("identity-link").onclick = link;
  }

  document.addEventListener("DOMContentLoaded", () => FLOWS.forEach(attach));
})();
