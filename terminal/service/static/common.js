// Shared by the counter and kiosk pages: API calls, live reader events, Japanese/English.
"use strict";

const MT = (() => {
  const TEXT = {
    ja: {
      "title.kiosk": "マイナポータル ログイン",
      "title.counter": "交付窓口",
      "lang.toggle": "English",
      "signin.title": "職員サインイン",
      "signin.kiosk": "端末サインイン（設置担当者）",
      "signin.user": "ユーザー名",
      "signin.password": "パスワード",
      "signin.submit": "サインイン",
      "signout": "サインアウト",
      "reader": "カードリーダー",
      "reader.none": "カードリーダーがありません",
      "card.insert": "マイナンバーカードをカードリーダーに置いてください",
      "card.present": "カードを読み取れます",
      "card.busy": "カードを処理中です。カードを動かさないでください",
      "pin.prompt": "利用者証明用パスワード（数字4桁）を入力してください",
      "pin.remaining": "残り {n} 回",
      "pin.clear": "訂正",
      "pin.ok": "確定",
      "login.ok": "ログインしました",
      "login.symbol": "ポータル符号（一部）",
      "login.again": "最初に戻る",
      "step.verify-pin": "暗証番号を確認しています",
      "step.sign": "カードで署名しています",
      "step.validate": "証明書を確認しています",
      "step.link": "利用者を照会しています",
      "step.connecting": "カードに接続しています",
      "issuance": "交付",
      "renewal": "更新",
      "revocation": "失効",
      "person": "利用者照会",
      "auth_pin": "利用者証明用パスワード（4桁）",
      "sign_pin": "署名用パスワード（6〜16文字）",
      "resident_code": "住民票コード（11桁）",
      "start": "開始",
      "old_serial": "旧利用者証明用証明書のシリアル番号",
      "cardinfo_pin.reveal": "本人のカードの券面事項入力補助用パスワード（4桁）",
      "cardinfo_pin": "券面事項入力補助用パスワード（4桁・任意）",
      "step.read-certificates": "証明書を読み取っています",
      "step.read-mynumber": "個人番号を読み取っています",
      "err.LINK_CONFLICT": "この証明書はすでに紐付けられています",
      "err.CHALLENGE_EXPIRED": "時間切れです。もう一度お試しください",
      "err.CHALLENGE_REPLAYED": "この要求はすでに使われました。もう一度お試しください",
      "done": "完了しました",
      "serial": "シリアル番号",
      "reason": "理由",
      "reveal": "個人番号を表示（記録されます）",
      "sim.title": "シミュレーター",
      "sim.insert": "カードを置く",
      "sim.remove": "カードを取る",
      "err.PIN_INCORRECT": "暗証番号が違います。残り {remaining} 回です",
      "err.PIN_BLOCKED": "暗証番号がロックされています。市区町村の窓口で初期化してください",
      "err.PIN_FORMAT": "暗証番号の形式が違います",
      "err.CARD_REMOVED": "処理中にカードが取り外されました。カードを置いて、もう一度お試しください",
      "err.NO_CARD": "カードがありません。カードを置いてください",
      "err.NO_READER": "カードリーダーが見つかりません",
      "err.READER_BUSY": "カードリーダーは使用中です。しばらくお待ちください",
      "err.NOT_A_MYNUMBER_CARD": "マイナンバーカードではありません",
      "err.CERT_REVOKED": "電子証明書は失効しています",
      "err.CERT_EXPIRED": "電子証明書の有効期限が切れています",
      "err.CERT_UNTRUSTED": "電子証明書を確認できません",
      "err.REVOCATION_UNKNOWN": "失効確認ができませんでした。しばらくしてからお試しください",
      "err.NOT_LINKED": "このカードは利用登録されていません",
      "err.UNAUTHENTICATED": "サインインしてください（ユーザー名またはパスワードが違います）",
      "err.TOO_MANY_ATTEMPTS": "失敗が続いたため、しばらくサインインできません",
      "err.FORBIDDEN": "この操作の権限がありません",
      "err.generic": "エラーが発生しました（{code}）",
    },
    en: {
      "title.kiosk": "Portal login",
      "title.counter": "Issuance counter",
      "lang.toggle": "日本語",
      "signin.title": "Staff sign-in",
      "signin.kiosk": "Kiosk machine sign-in (installer)",
      "signin.user": "User name",
      "signin.password": "Password",
      "signin.submit": "Sign in",
      "signout": "Sign out",
      "reader": "Card reader",
      "reader.none": "No card reader",
      "card.insert": "Please place your My Number Card on the reader",
      "card.present": "Card ready",
      "card.busy": "Working with the card. Please do not move it",
      "pin.prompt": "Enter your user-authentication PIN (4 digits)",
      "pin.remaining": "{n} tries left",
      "pin.clear": "Clear",
      "pin.ok": "OK",
      "login.ok": "Login OK",
      "login.symbol": "Portal symbol (partial)",
      "login.again": "Start over",
      "step.verify-pin": "Checking the PIN",
      "step.sign": "The card is signing",
      "step.validate": "Checking the certificate",
      "step.link": "Looking up the account",
      "step.connecting": "Connecting to the card",
      "issuance": "Issuance",
      "renewal": "Renewal",
      "revocation": "Revocation",
      "person": "Person lookup",
      "auth_pin": "User-authentication PIN (4 digits)",
      "sign_pin": "Signature PIN (6-16 characters)",
      "resident_code": "Resident record code (11 digits)",
      "start": "Start",
      "old_serial": "Serial of the old auth certificate",
      "cardinfo_pin.reveal": "Card-info PIN of the person's card (4 digits)",
      "cardinfo_pin": "Card-info PIN (4 digits, optional)",
      "step.read-certificates": "Reading the certificates",
      "step.read-mynumber": "Reading the My Number",
      "err.LINK_CONFLICT": "This certificate is already linked",
      "err.CHALLENGE_EXPIRED": "Timed out. Please try again",
      "err.CHALLENGE_REPLAYED": "This request was already used. Please try again",
      "done": "Done",
      "serial": "Serial number",
      "reason": "Reason",
      "reveal": "Reveal the My Number (audited)",
      "sim.title": "Simulator",
      "sim.insert": "Insert card",
      "sim.remove": "Pull card",
      "err.PIN_INCORRECT": "Wrong PIN. {remaining} tries left",
      "err.PIN_BLOCKED": "The PIN is locked. It can be reset at the municipal office",
      "err.PIN_FORMAT": "The PIN has the wrong format",
      "err.CARD_REMOVED": "The card was removed during the operation. Place it again and retry",
      "err.NO_CARD": "No card. Please place your card on the reader",
      "err.NO_READER": "Card reader not found",
      "err.READER_BUSY": "The reader is busy. Please wait",
      "err.NOT_A_MYNUMBER_CARD": "This is not a My Number Card",
      "err.CERT_REVOKED": "The certificate has been revoked",
      "err.CERT_EXPIRED": "The certificate has expired",
      "err.CERT_UNTRUSTED": "The certificate could not be trusted",
      "err.REVOCATION_UNKNOWN": "Revocation status could not be checked. Please try later",
      "err.NOT_LINKED": "This card is not registered for the portal",
      "err.UNAUTHENTICATED": "Please sign in (unknown user or wrong password)",
      "err.TOO_MANY_ATTEMPTS": "Too many failed sign-ins; please wait and try again",
      "err.FORBIDDEN": "Your role does not allow this",
      "err.generic": "An error occurred ({code})",
    },
  };

  let lang = localStorage.getItem("mynaterm.lang") || "ja";

  function t(key, vars) {
    let text = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
    for (const [name, value] of Object.entries(vars || {})) {
      text = text.replace("{" + name + "}", String(value));
    }
    return text;
  }

  function applyLang() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
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

  async function api(method, path, body) {
    const init = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  function errorText(err) {
    if (!(err instanceof ApiError)) return t("err.generic", { code: "NETWORK" });
    const key = "err." + err.code;
    const text = t(key, err.fields);
    return text === key ? t("err.generic", { code: err.code }) : text;
  }

  // Live reader state. Calls onEvent(event) for the snapshot and every change;
  // EventSource reconnects by itself and the server re-sends a snapshot.
  function watchReaders(onEvent) {
    const source = new EventSource("/api/events");
    const types = ["snapshot", "reader_added", "reader_removed", "card_inserted",
                   "card_removed", "busy", "idle", "progress"];
    for (const type of types) {
      source.addEventListener(type, (message) => onEvent(JSON.parse(message.data)));
    }
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
      return await api("GET", "/api/session");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  }

  async function signIn(form) {
    const data = new FormData(form);
    const result = await api("POST", "/api/session", {
      username: data.get("username"),
      password: data.get("password"),
    });
    form.reset();
    return result;
  }

  // Simulator controls (dev/demo): absent unless the service enables them.
  async function setupSimulator(panel, readerId) {
    let cards;
    try {
      cards = await api("GET", "/api/simulator/cards");
    } catch (_) {
      return;
    }
    if (!cards.length) return;
    const select = panel.querySelector("select");
    select.replaceChildren(...cards.map((card) => {
      const option = document.createElement("option");
      option.value = card.label;
      option.textContent = card.label;
      return option;
    }));
    panel.querySelector("[data-sim=insert]").onclick = () =>
      api("POST", `/api/simulator/readers/${readerId()}/insert`, { card: select.value })
        .catch(() => {});
    panel.querySelector("[data-sim=remove]").onclick = () =>
      api("POST", `/api/simulator/readers/${readerId()}/remove`).catch(() => {});
    show(panel, true);
  }

  return { t, applyLang, toggleLang, api, ApiError, errorText, watchReaders, $, show,
           currentSession, signIn, setupSimulator, get lang() { return lang; } };
})();
