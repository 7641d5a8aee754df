// 券面事項確認 on the counter page: the holder (or the clerk, from the card) types
// 照合番号A or B; the service reads the card face, checks its signature and returns the
// photo as PNG, shown here for face-to-face verification. Self-contained: it reads the
// selected reader from the page and uses MT (texts.json, api, say).
"use strict";

(() => {
  const { t, say, $ } = MT;

  function readerId() {
    const reader = document.querySelector("input[name=reader]:checked");
    return reader ? reader.value : null;
  }

  function showFace(face) {
    $("#surface-photo").src = face.photo_png;
    $("#surface-name").src = face.name_png;
    $("#surface-address").src = face.address_png;
    // A message spec, so a language switch re-renders it with the rest of the page.
    say($("#surface-facts"), { parts: [
      { key: "surface.born", vars: { date: { date: face.birth_date } } }, { text: " · " },
      { key: `surface.sex.${face.sex}` }, { text: " · " },
      { key: "surface.expiry", vars: { date: { date: face.expiry } } }, { text: " · " },
      { key: `surface.signature.${face.signature}` },
    ] });
    $("#surface-face").dataset.signature = face.signature;
    $("#surface-face").hidden = false;
  }

  async function readFace(event) {
    event.preventDefault();
    const form = event.target;
    say($("#surface-error"), null);
    $("#surface-face").hidden = true;
    const reader = readerId();
    if (reader === null) { say($("#surface-error"), "surface.noreader"); return; }
    const body = { credential: form.credential.value, code: form.code.value };
    form.code.value = "";  // the code is used once and not kept on the page
    try {
      showFace(await MT.api("POST", `/api/readers/${reader}/surface`, body));
    } catch (err) {
      say($("#surface-error"), MT.describeError(err));
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await MT.ready;
    $("#surface-form").addEventListener("submit", readFace);
    $("#surface-photo").alt = t("surface.photo");
    document.addEventListener("mt:lang", () => { $("#surface-photo").alt = t("surface.photo"); });
  });
})();
