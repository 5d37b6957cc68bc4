// Shared by the pages: the API client, Korean labels and DOM helpers. Text
// always goes in as text nodes, never parsed as markup, so nothing an API
// returns can become markup.

export const CHANNELS = [
  ["WOORIDONGNE_TV", "우리동네TV"],
  ["RINGO_BIZ", "링고비즈"],
  ["INSTAGRAM", "인스타그램"],
  ["NAVER_BLOG", "네이버 블로그"],
  ["KAKAO", "카카오"],
  ["SNS_OTHER", "기타 SNS"],
  ["STORE_QR", "매장 QR"],
  ["OTHER", "기타"],
];

const channelNames = new Map(CHANNELS);

export function channelLabel(code) {
  return channelNames.get(code) || code;
}

export const STATE_LABELS = { scheduled: "시작 전", open: "진행 중", closed: "종료", drawn: "추첨 완료" };

const seoulDate = new Intl.DateTimeFormat("ko-KR", {
  timeZone: "Asia/Seoul", year: "numeric", month: "long", day: "numeric", weekday: "short",
  hour: "2-digit", minute: "2-digit",
});
const seoulShort = new Intl.DateTimeFormat("ko-KR", {
  timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});

// formatDate shows an RFC 3339 time in Asia/Seoul, as the customer reads it.
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : seoulDate.format(d);
}

export function formatShort(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : seoulShort.format(d);
}

// NetworkError is a request that got no answer at all.
export class NetworkError extends Error {}

// Unauthorized is thrown by the owner's requests once a 401 (or a token past
// its exp) has sent the owner back to sign-in, which says why.
export class Unauthorized extends Error {}

// report says in the page what a failed owner action means: nothing when the
// owner was signed out or the view left, a retry hint when no answer came.
// Anything else is a bug: said, and thrown on so that it shows.
export function report(e, say) {
  if (e instanceof Unauthorized || (e && e.name === "AbortError")) return;
  if (e instanceof NetworkError) {
    say("warn", "서버에 연결하지 못했습니다. 네트워크를 확인한 뒤 다시 시도해주세요.");
    return;
  }
  say("err", "요청을 처리하지 못했습니다. 잠시 후 다시 시도해주세요.");
  throw e;
}

// busy runs an action of the button: disabled meanwhile, usable again after,
// whatever happened; a failure goes through report.
export async function busy(button, say, action) {
  button.disabled = true;
  try {
    await action();
  } catch (e) {
    report(e, say);
  } finally {
    button.disabled = false;
  }
}

// api calls the REST API and returns {status, data}; data is the parsed JSON
// body (or null). It throws NetworkError when no answer came.
export async function api(path, { method = "GET", body, token, signal, headers = {} } = {}) {
  const h = { Accept: "application/json", ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (token) h.Authorization = "Bearer " + token;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: "no-store" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new NetworkError(String(e));
  }
  let data = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    // The body comes after the status: a view left (or a sign-out) while it
    // arrives aborts it, and the connection can drop. Neither is "no data":
    // callers would read a 200 without its body.
    try {
      data = await res.json();
    } catch (e) {
      if (e.name === "AbortError") throw e;
      if (!(e instanceof SyntaxError)) throw new NetworkError(String(e));
      data = null;
    }
  }
  return { status: res.status, data, response: res };
}

// retryKey gives a form its Idempotency-Key: one per input, kept while the
// outcome of a request with it is unknown (no answer, 429, 5xx, the first
// request still running), so a retry of the same input after a lost answer
// gets the server's first answer (the entry number, the winners) and not a
// conflict. A new input, or an answer the server kept, starts a new key: a
// kept 4xx is not replayed to a later try that may now succeed.
export function retryKey() {
  let last = null;
  return {
    for(body) {
      const input = JSON.stringify(body);
      if (!last || last.input !== input) last = { input, key: newKey() };
      return last.key;
    },
    answered(res) {
      const code = res.data && res.data.code;
      if (res.status < 500 && res.status !== 429 && code !== "IDEMPOTENCY_KEY_IN_USE") last = null;
    },
  };
}

// newKey: crypto.randomUUID exists only in a secure context; a phone that
// reaches the service over plain http on the shop's network has only
// getRandomValues.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// h builds an element: h("p", {class: "x"}, "text", child).
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function $(sel, root = document) { return root.querySelector(sel); }

export function show(el, visible) { el.hidden = !visible; }

// fieldReasons turns the API's error shape into {field: reason}.
export function fieldReasons(data) {
  const out = {};
  for (const e of (data && data.errors) || []) out[e.field] = e.reason;
  return out;
}

// Why a winner was replaced (교체), as WinnerReplaced.reason names it.
export const REPLACE_REASONS = {
  UNCLAIMED: "수령 기한 내 미신청",
  DECLINED: "당첨 포기",
  INELIGIBLE: "참여 자격 미충족",
  ERASED: "개인정보 삭제",
};

// lockedMessage: five wrong phones locked this entry number for an hour;
// Retry-After (seconds) says how much of it is left.
export function lockedMessage(retryAfter) {
  const minutes = Math.ceil((parseInt(retryAfter, 10) || 3600) / 60);
  return "잘못된 시도가 많아 1시간 동안 잠겼습니다. " + minutes + "분 후 다시 시도해주세요.";
}
