// The card's life at the counter (issue 15): PIN setting on a new card, PIN reset, and
// renewal on the same card (also a new sign certificate after a move). Self-contained
// beside counter.js: it uses only MT (common.js), the reader the clerk picked, and the
// page's shared #error / #outcome. The card's admin commands behind these screens are a
// MODEL of the real issuer channel. New PINs are typed twice and never kept.
"use strict";

(() => {
  const { api, $ } = MT;
  const TEXT = {
    pins: { ja: "暗証番号の設定", en: "Set PINs" },
    "pins.help": { ja: "新しいカードの暗証番号を、本人が2回ずつ入力します。",
                   en: "The holder types each new PIN twice." },
    reset: { ja: "暗証番号の再設定", en: "Reset a PIN" },
    renew: { ja: "同じカードで更新", en: "Renew on this card" },
    "renew.help": { ja: "カードの中で新しい鍵を作り、新しい証明書を書き込みます。",
                    en: "New keys are made on the card and new certificates written to it." },
    "renew.auth": { ja: "利用者証明用電子証明書", en: "User-authentication certificate" },
    "renew.sign": { ja: "署名用電子証明書", en: "Signature certificate" },
    "renew.move": { ja: "転居による署名用電子証明書の再発行", en: "New signature certificate after a move" },
    resident_code: { ja: "住民票コード", en: "Resident-record code" },
    auth_pin: { ja: "利用者証明用パスワード（4桁）", en: "Auth PIN (4 digits)" },
    sign_pin: { ja: "署名用パスワード（英大文字・数字6〜16桁）", en: "Sign PIN (6-16 of A-Z, 0-9)" },
    cardinfo_pin: { ja: "券面事項入力補助用パスワード（4桁）", en: "Card-info PIN (4 digits)" },
    kind: { ja: "暗証番号", en: "PIN" },
    keep_value: { ja: "ロック解除のみ（暗証番号は変えない）", en: "Unlock only (keep the PIN)" },
    new_pin: { ja: "新しい暗証番号（2回）", en: "New PIN (twice)" },
    face_to_face: { ja: "本人確認を対面で行いました", en: "Identity verified face to face" },
    start: { ja: "開始", en: "Start" },
    reconcile: { ja: "中断された処理を完了", en: "Complete an interrupted operation" },
    done: { ja: "完了しました", en: "Done" },
    mismatch: { ja: "2回の入力が一致しません", en: "The two entries differ" },
    face_required: { ja: "本人確認の確認欄にチェックしてください",
                     en: "Confirm the face-to-face identity verification first" },
    no_reader: { ja: "カードリーダーを選んでください", en: "Pick a card reader" },
    "out.auth_serial": { ja: "利用者証明用シリアル番号", en: "auth serial" },
    "out.set": { ja: "設定した暗証番号", en: "PINs set" },
    "out.already_set": { ja: "設定済みだった暗証番号", en: "already set" },
    "out.kind": { ja: "暗証番号", en: "PIN" },
    "out.tries_left": { ja: "残り回数", en: "tries left" },
    "out.person": { ja: "団体内統合宛名番号", en: "person" },
    "out.old_auth": { ja: "旧利用者証明用シリアル番号", en: "old auth serial" },
    "out.new_auth": { ja: "新利用者証明用シリアル番号", en: "new auth serial" },
    "out.old_sign": { ja: "旧署名用シリアル番号", en: "old sign serial" },
    "out.new_sign": { ja: "新署名用シリアル番号", en: "new sign serial" },
    "out.changed": { ja: "変更あり", en: "changed" },
    "out.committed": { ja: "登録した利用者証明用シリアル番号", en: "committed auth serial" },
    "out.unused": { ja: "失効させた未使用の証明書", en: "revoked unused" },
  };
  const text = (key) => (TEXT[key] ? TEXT[key][MT.lang] || TEXT[key].en : key);
  let working = false;

  function applyTexts() {
    for (const el of document.querySelectorAll("[data-cl]")) el.textContent = text(el.dataset.cl);
  }

  function readerId() {
    const picked = document.querySelector("input[name=reader]:checked");
    return picked ? picked.value : null;
  }

  function setError(message) { $("#error").textContent = message || ""; }

  function showOutcome(entries) {
    const block = document.createElement("div");
    const done = document.createElement("p");
    done.className = "ok";
    done.id = "done";
    done.dataset.cl = "done";
    done.textContent = text("done");
    const table = document.createElement("table");
    for (const [label, value] of entries) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.dataset.cl = label;  // a text key: re-rendered when the language changes
      th.textContent = text(label);
      td.textContent = value === null || value === undefined ? "" : String(value);
      tr.append(th, td);
      table.append(tr);
    }
    block.append(done, table);
    $("#outcome").replaceChildren(block);
  }

  // Both entries of a new PIN must agree before anything is sent.
  function twice(form, name) {
    const first = form.elements[name].value;
    const again = form.elements[name + "_again"].value;
    if (first !== again) throw new Error(text("mismatch"));
    return { pin: first, again };
  }

  async function run(form, path, build, describe) {
    if (working) return;
    setError("");
    $("#outcome").replaceChildren();
    let body;
    try {
      if (!readerId()) throw new Error(text("no_reader"));
      if (!form.elements.face_to_face.checked) throw new Error(text("face_required"));
      body = build(form);
    } catch (err) {
      setError(err.message);
      return;
    }
    working = true;
    for (const el of form.elements) el.disabled = true;
    try {
      const result = await api("POST", path, { reader_id: readerId(), ...body });
      showOutcome(describe(result));
      form.reset();
    } catch (err) {
      setError(MT.errorText(err));
    } finally {
      working = false;
      for (const el of form.elements) el.disabled = false;
      // PINs never stay on the page, whatever happened.
      for (const el of form.querySelectorAll("input[type=password]")) el.value = "";
    }
  }

  function wire() {
    $("#pins-form").onsubmit = (event) => {
      event.preventDefault();
      run(event.target, "/api/counter/pins", (form) => ({
        resident_code: form.elements.resident_code.value,
        face_to_face_confirmed: true,
        auth: twice(form, "auth_pin"),
        sign: (() => {
          const pins = twice(form, "sign_pin");
          return { pin: pins.pin.toUpperCase(), again: pins.again.toUpperCase() };
        })(),
        cardinfo: twice(form, "cardinfo_pin"),
      }), (result) => [["out.auth_serial", result.auth_serial],
                       ["out.set", result.set.join(", ")],
                       ["out.already_set", result.already_set.join(", ")]]);
    };
    $("#pin-reset-form").onsubmit = (event) => {
      event.preventDefault();
      run(event.target, "/api/counter/pin-reset", (form) => {
        const body = { resident_code: form.elements.resident_code.value,
                       face_to_face_confirmed: true, kind: form.elements.kind.value };
        if (!form.elements.keep_value.checked) {
          const pins = twice(form, "new_pin");
          body.new_pin = body.kind === "sign"
            ? { pin: pins.pin.toUpperCase(), again: pins.again.toUpperCase() } : pins;
        }
        return body;
      }, (result) => [["out.auth_serial", result.auth_serial], ["out.kind", result.kind],
                      ["out.tries_left", result.tries_left]]);
    };
    $("#renew-card-form").onsubmit = (event) => {
      event.preventDefault();
      run(event.target, "/api/counter/renew-on-card", (form) => ({
        resident_code: form.elements.resident_code.value,
        face_to_face_confirmed: true,
        auth: form.elements.auth.checked,
        sign: form.elements.sign.checked,
        move: form.elements.move.checked,
      }), (result) => [["out.person", result.person_id],
                       ["out.old_auth", result.old_auth_serial],
                       ["out.new_auth", result.new_auth_serial],
                       ["out.old_sign", result.old_sign_serial],
                       ["out.new_sign", result.new_sign_serial]]);
    };
    $("#reconcile").onclick = async () => {
      if (working || !readerId()) { setError(text("no_reader")); return; }
      setError("");
      try {
        const result = await api("POST", "/api/counter/reconcile", { reader_id: readerId() });
        showOutcome([["out.changed", result.changed],
                     ["out.committed", result.committed_auth_serial],
                     ["out.unused", result.revoked_unused.join(", ")]]);
      } catch (err) {
        setError(MT.errorText(err));
      }
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    applyTexts();
    wire();
  });
  document.addEventListener("mt:lang", applyTexts);
})();
