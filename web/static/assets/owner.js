// The owner's dashboard: sign-in with the platform's token (kept in
// sessionStorage, or taken once from a #token=... fragment, which never
// reaches a server), then 내 이벤트 and one campaign's screens, routed by the
// fragment (#/ and #/events/{id}).
import { api, h, $, show, NetworkError } from "./common.js";
import { renderList } from "./owner-list.js";
import { renderCampaign } from "./owner-campaign.js";

const KEY = "participation.ownerToken";
const app = $("#app");
let view = null; // AbortController of the current view: navigation ends its requests and streams
let expiryTimer = 0;

// Unauthorized is thrown by ctx.api after a 401 has sent the owner to sign-in.
export class Unauthorized extends Error {}

function tokenClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function token() { return sessionStorage.getItem(KEY) || ""; }

function signIn(t) {
  sessionStorage.setItem(KEY, t);
  armExpiry();
}

export function signOut(message) {
  sessionStorage.removeItem(KEY);
  clearTimeout(expiryTimer);
  if (view) view.abort();
  view = null;
  history.replaceState(null, "", "/owner/#/");
  renderSignIn(message);
}

// setTimeout fires a delay above 2^31-1 ms (about 24.8 days) at once, so a
// long token (the embedded banner's lasts 30 days) is waited for a day at a
// time.
const MAX_WAIT = 86400e3;

// msLeft is the time to the token's exp, or null when it has none.
function msLeft() {
  const c = tokenClaims(token());
  return c && typeof c.exp === "number" ? c.exp * 1000 - Date.now() : null;
}

// armExpiry signs out when the token's exp passes, so an owner who leaves
// the page open is not left with screens that fail one by one. The timer
// checks exp again when it fires and waits on if it came early.
function armExpiry() {
  clearTimeout(expiryTimer);
  const ms = msLeft();
  if (ms === null) return;
  expiryTimer = setTimeout(() => {
    if (msLeft() <= 0) signOut("로그인이 만료되었습니다. 토큰을 다시 입력해주세요.");
    else armExpiry();
  }, Math.min(Math.max(ms, 0), MAX_WAIT));
}

// ownerApi is api() with the token; a 401 ends the session with a message.
async function ownerApi(path, opts = {}) {
  const res = await api(path, { ...opts, token: token() });
  if (res.status === 401) {
    signOut("로그인이 만료되었거나 토큰이 올바르지 않습니다. 토큰을 다시 입력해주세요.");
    throw new Unauthorized();
  }
  return res;
}

function renderSignIn(message) {
  show($("#sign-out"), false);
  const err = h("p", { class: "field-error", id: "token-error" });
  const input = h("textarea", { id: "token", rows: 4, autocomplete: "off", spellcheck: "false", "aria-describedby": "token-help token-error" });
  const form = h("form", { id: "sign-in", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: "token" }, "토큰"),
      input,
      h("p", { class: "muted", id: "token-help" }, "플랫폼에서 받은 사장님 토큰을 붙여넣어주세요. 이 탭을 닫으면 로그아웃됩니다."),
      err),
    h("button", { type: "submit", class: "block" }, "로그인"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    const claims = tokenClaims(t);
    if (!claims) { err.textContent = "토큰 형식이 올바르지 않습니다."; input.focus(); return; }
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
      err.textContent = "만료된 토큰입니다. 새 토큰을 받아주세요."; input.focus(); return;
    }
    err.textContent = "";
    signIn(t);
    route();
  });
  app.replaceChildren(h("section", { class: "card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "사장님 로그인"),
    h("div", { class: "notice warn", role: "alert", id: "sign-in-notice" }, message || ""),
    form));
  input.focus();
}

async function route() {
  if (view) view.abort();
  view = new AbortController();
  if (!token()) { renderSignIn(); return; }
  show($("#sign-out"), true);
  const ctx = { api: ownerApi, signal: view.signal, token, Unauthorized };
  const m = location.hash.match(/^#\/events\/([^/?#]+)/);
  try {
    if (m) await renderCampaign(app, ctx, decodeURIComponent(m[1]));
    else await renderList(app, ctx);
  } catch (e) {
    if (e instanceof Unauthorized || e.name === "AbortError") return;
    if (e instanceof NetworkError) {
      app.replaceChildren(h("div", { class: "notice warn", role: "alert" }, "서버에 연결하지 못했습니다. 잠시 후 새로고침해주세요."));
      return;
    }
    throw e;
  }
}

function start() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (m) {
    signIn(decodeURIComponent(m[1]));
    history.replaceState(null, "", "/owner/#/"); // the token leaves the address bar and history
  } else if (token()) {
    armExpiry();
  }
  $("#sign-out").addEventListener("click", () => signOut("로그아웃했습니다."));
  // A suspended laptop or a throttled background tab may hold the timer
  // back: look at exp again when the owner comes back.
  document.addEventListener("visibilitychange", () => { if (!document.hidden && token()) armExpiry(); });
  window.addEventListener("hashchange", route);
  route();
}

start();
