// The owner's dashboard: sign-in with the platform's token (kept in
// sessionStorage, or taken once from a #token=... fragment, which never
// reaches a server; the header always names the owner signed in), then
// 내 이벤트 and one campaign's screens, routed by the fragment (#/ and
// #/events/{id}).
import { api, h, $, show, NetworkError, Unauthorized } from "./common.js";
import { renderList } from "./owner-list.js";
import { renderCampaign } from "./owner-campaign.js";

const KEY = "participation.ownerToken";
const app = $("#app");
let view = null; // AbortController of the current view: navigation ends its requests and streams
let expiryTimer = 0;

const EXPIRED = "로그인이 만료되었습니다. 토큰을 다시 입력해주세요.";
const REFUSED = "로그인이 만료되었거나 토큰이 올바르지 않습니다. 토큰을 다시 입력해주세요.";

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

// ownerOf is a token's sub (the owner id), or "" when it has none. It is
// read, not verified: the page only shows it; the server checks the token.
function ownerOf(t) {
  const c = tokenClaims(t);
  return c && typeof c.sub === "string" ? c.sub : "";
}

// showOwner puts the signed-in owner's id in the header, so an owner
// signed in through someone else's link sees whose dashboard this is.
function showOwner() {
  const who = token() ? ownerOf(token()) : "";
  $("#owner-id").textContent = who || "(알 수 없음)";
  show($("#signed-in-as"), !!token());
}

// activeOwner is the owner of a session that is still running (a token
// before its exp), or null when there is none to keep.
function activeOwner() {
  if (!token()) return null;
  const ms = msLeft();
  if (ms !== null && ms <= 0) return null;
  return ownerOf(token());
}

// takeFragmentToken signs in with a #token=... link. A link for another
// owner than the one signed in asks first (login CSRF: a link someone else
// made would otherwise sign this owner in as them); declined, the session
// stays. The same owner's link refreshes the token silently. Either way the
// token leaves the address bar and history.
function takeFragmentToken() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (!m) return;
  history.replaceState(null, "", "/owner/#/");
  let offered;
  try {
    offered = decodeURIComponent(m[1]);
  } catch {
    return; // a mangled link: nothing to sign in with
  }
  const current = activeOwner();
  const next = ownerOf(offered);
  if (current !== null && current !== next &&
      !confirm(`지금 '${current}' 계정으로 로그인되어 있습니다.\n링크의 '${next || "알 수 없는"}' 계정으로 바꾸시겠습니까?`)) {
    return;
  }
  signIn(offered);
}

export function signOut(message) {
  sessionStorage.removeItem(KEY);
  clearTimeout(expiryTimer);
  if (view) view.abort();
  view = null;
  history.replaceState(null, "", "/owner/#/");
  showOwner();
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
    if (msLeft() <= 0) signOut(EXPIRED);
    else armExpiry();
  }, Math.min(Math.max(ms, 0), MAX_WAIT));
}

// session is the token for an owner request. A token past its exp ends the
// session here (the timer may not have fired: a suspended laptop), without
// a request.
function session() {
  const ms = msLeft();
  if (ms !== null && ms <= 0) {
    signOut(EXPIRED);
    throw new Unauthorized();
  }
  return token();
}

// refused ends the session after a 401, unless the owner has signed in
// anew since the request left.
function refused(sent) {
  if (token() === sent) signOut(REFUSED);
  throw new Unauthorized();
}

// ownerApi is api() with the token; a 401 ends the session with a message.
async function ownerApi(path, opts = {}) {
  const t = session();
  const res = await api(path, { ...opts, token: t });
  if (res.status === 401) refused(t);
  return res;
}

// ownerFetch is fetch() with the token, for the answers that are not JSON
// (the CSV, the QR code, the analytics stream), with ownerApi's 401 and
// its NetworkError when no answer came.
async function ownerFetch(path, { headers = {}, ...opts } = {}) {
  const t = session();
  let res;
  try {
    res = await fetch(path, { cache: "no-store", ...opts, headers: { ...headers, Authorization: "Bearer " + t } });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new NetworkError(String(e));
  }
  if (res.status === 401) refused(t);
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
  showOwner();
  if (!token()) { renderSignIn(); return; }
  show($("#sign-out"), true);
  const ctx = { api: ownerApi, fetch: ownerFetch, signal: view.signal };
  const m = location.hash.match(/^#\/events\/([^/?#]+)/);
  try {
    if (m) await renderCampaign(app, ctx, decodeURIComponent(m[1]));
    else await renderList(app, ctx);
  } catch (e) {
    if (e instanceof Unauthorized || e.name === "AbortError") return;
    app.replaceChildren(h("div", { class: "notice warn", role: "alert" }, e instanceof NetworkError
      ? "서버에 연결하지 못했습니다. 잠시 후 새로고침해주세요."
      : "화면을 불러오지 못했습니다. 잠시 후 새로고침해주세요."));
    if (!(e instanceof NetworkError)) throw e; // a bug: shown, and thrown on
  }
}

function start() {
  takeFragmentToken();
  if (token()) armExpiry();
  $("#sign-out").addEventListener("click", () => signOut("로그아웃했습니다."));
  // A suspended laptop or a throttled background tab may hold the timer
  // back: look at exp again when the owner comes back.
  document.addEventListener("visibilitychange", () => { if (!document.hidden && token()) armExpiry(); });
  // A #token= link followed from another page of this tab changes only
  // the fragment: the same question as on a load.
  window.addEventListener("hashchange", () => { takeFragmentToken(); route(); });
  route();
}

start();
