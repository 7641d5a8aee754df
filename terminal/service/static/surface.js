// 券面事項確認 on the counter page: the holder (or the clerk, from the card) types
// 照合番号A or B; the service reads the card face, checks its signature and returns the
// photo as PNG, shown here for face-to-face verification. Self-contained: it only
// reads the selected reader from the page and uses MT.api.
"use strict";

(() => {
  const TEXT = {
    ja: { title: "券面事項確認", "code.a": "照合番号A（個人番号12桁）",
          "code.b": "照合番号B（14桁）", read: "券面を読む", photo: "顔写真",
          valid: "署名を確認しました", "not-checked": "署名は未確認です（発行者鍵がありません）",
          noreader: "カードリーダーを選んでください" },
    en: { title: "Card face check", "code.a": "Code A (12-digit My Number)",
          "code.b": "Code B (14 digits)", read: "Read the card face", photo: "Face photo",
          valid: "Signature verified", "not-checked": "Signature not checked (no issuer keys)",
          noreader: "Choose a card reader" },
  };
  const text = (key) => (TEXT[document.documentElement.lang] || TEXT.ja)[key] || key;
  const $ = (selector) => document.querySelector(selector);

  let lastFace = null;

  function renderFacts() {
    if (!lastFace) return;
    $("#surface-facts").textContent =
      `${lastFace.birth_date} · ${lastFace.sex_text} · ${lastFace.expiry} · ${text(lastFace.signature)}`;
  }

  function applyLang() {
    for (const el of document.querySelectorAll("[data-surface]")) el.textContent = text(el.dataset.surface);
    $("#surface-photo").alt = text("photo");
    renderFacts();
  }

  async function readFace(event) {
    event.preventDefault();
    const form = event.target;
    const reader = document.querySelector("input[name=reader]:checked");
    $("#surface-error").textContent = "";
    $("#surface-face").hidden = true;
    lastFace = null;
    if (!reader) { $("#surface-error").textContent = text("noreader"); return; }
    const body = { credential: form.credential.value, code: form.code.value };
    form.code.value = ""; // the code is used once and not kept on the page
    try {
      const face = await MT.api("POST", `/api/readers/${reader.value}/surface`, body);
      $("#surface-photo").src = face.photo_png;
      $("#surface-name").src = face.name_png;
      $("#surface-address").src = face.address_png;
      lastFace = { birth_date: face.birth_date, sex_text: face.sex_text, expiry: face.expiry,
                   signature: face.signature };
      renderFacts();
      $("#surface-face").dataset.signature = face.signature;
      $("#surface-face").hidden = false;
    } catch (err) {
      $("#surface-error").textContent = MT.errorText(err);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("#surface-form").addEventListener("submit", readFace);
    document.addEventListener("mt:lang", applyLang);
    applyLang();
  });
})();
