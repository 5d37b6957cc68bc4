// The public draw certificate page: the commitment, the randomness, the
// picks by leaf index, the leaves to download, and a check an entrant runs
// in the browser (their leaf's hash, found among the public leaves).
import { api, $, h, show, formatDate, NetworkError } from "./common.js";
import { drawLeafHash, hex } from "./merkle.js";

const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
$("#back").href = "/p/" + encodeURIComponent(eventId);
const certURL = "/api/v1/events/" + encodeURIComponent(eventId) + "/draw-certificate";
const ENTRY = /^[A-Za-z0-9_-]{1,16}$/;
// A visitor's weight is the campaign's visit bonus (1 to 10): the check
// tries each, so the entrant need not know theirs.
const WEIGHTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

let cert = null;

function notice(sel, kind, text) {
  const n = $(sel);
  n.className = "notice " + kind;
  n.textContent = text;
}

function text(sel, value) { $(sel).textContent = value; }

function render(c) {
  cert = c;
  show($("#commitment"), true);
  text("#state", c.state === "DRAWN" ? "추첨 완료" : "공개 난수 대기 중");
  text("#committed-at", formatDate(c.committedAt));
  text("#candidate-count", c.candidateCount.toLocaleString("ko-KR") + "명");
  text("#cutoff", String(c.cutoffPosition));
  text("#root", c.candidatesRoot || (c.candidatesDigest ? "(이전 방식: 후보 요약값 " + c.candidatesDigest + ")" : ""));
  text("#algorithm", c.algorithm);

  show($("#randomness"), true);
  const r = $("#randomness-text");
  r.textContent = "";
  if (c.randomness.source === "drand") {
    const url = "https://api.drand.sh/" + c.randomness.chainHash + "/public/" + c.randomness.round;
    r.append("후보를 확정한 뒤에 나오는 drand 공개 난수 ",
      h("a", { href: url, rel: "noopener noreferrer", id: "drand-link" }, "라운드 " + c.randomness.round),
      "를 썼습니다. 운영자도 미리 알 수 없는 값입니다.");
  } else {
    r.append("운영자 서버의 난수(crypto/rand)를 후보 확정 직후에 썼습니다. 이 방식에서는 운영자가 난수를 고르지 않았다고 믿어야 합니다.");
  }
  show($("#seed-row"), !!c.seed);
  text("#seed", c.seed || "");

  show($("#result"), true);
  const rows = $("#pick-rows");
  rows.textContent = "";
  if (!c.seed) {
    text("#result-note", c.state === "DRAWN" ? "당첨 결과는 발표 시각 이후에 공개됩니다." : "공개 난수를 기다리고 있습니다.");
    show($("#leaves-link"), false);
    return;
  }
  text("#result-note", "당첨자는 후보 목록의 순서(잎 번호)로 표시합니다. 시드와 후보 목록의 가중치로 누구나 같은 결과를 다시 계산할 수 있습니다.");
  for (const [label, picks] of [["당첨", c.winners], ["예비 당첨", c.alternates]]) {
    for (const p of picks) rows.append(h("tr", {}, h("td", {}, label), h("td", {}, p.rank + "위"), h("td", {}, "#" + p.leafIndex)));
  }
  const hasLeaves = !!c.candidatesRoot;
  show($("#leaves-link"), hasLeaves);
  $("#leaves-link").href = certURL + "/leaves";
  show($("#check"), hasLeaves);
}

async function load() {
  try {
    const res = await api(certURL);
    if (res.status === 200) { render(res.data); return; }
    const code = res.data && res.data.code;
    if (res.status === 404 && code === "NOT_DRAWN") notice("#draw-notice", "warn", "아직 추첨하지 않은 이벤트입니다.");
    else if (res.status === 404 || res.status === 400) notice("#draw-notice", "err", "이벤트를 찾을 수 없습니다.");
    else notice("#draw-notice", "warn", "지금은 인증서를 불러올 수 없습니다. 잠시 후 다시 시도해주세요.");
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    notice("#draw-notice", "warn", "네트워크 연결이 불안정합니다. 잠시 후 새로고침해주세요.");
  }
}

$("#check-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  notice("#check-notice", "", "");
  const entry = $("#check-entry").value.trim();
  const reason = !entry ? "응모번호를 입력해주세요." : ENTRY.test(entry) ? "" : "응모번호를 다시 확인해주세요.";
  text("#check-entry-error", reason);
  $("#check-entry").setAttribute("aria-invalid", reason ? "true" : "false");
  if (reason || !cert) { $("#check-entry").focus(); return; }
  $("#check-submit").disabled = true;
  try {
    const wanted = new Map();
    for (const w of WEIGHTS) wanted.set(hex(await drawLeafHash(cert.drawId, entry, w)), w);
    let res;
    try {
      res = await fetch(certURL + "/leaves", { cache: "no-store" });
    } catch (e) {
      throw new NetworkError(String(e));
    }
    if (res.status !== 200) {
      notice("#check-notice", "warn", "후보 목록을 불러오지 못했습니다. 잠시 후 다시 시도해주세요.");
      return;
    }
    const { findLeaf } = await import("./merkle.js");
    const found = await findLeaf(res, wanted);
    if (found) {
      const picked = [...cert.winners.map((p) => ["당첨 " + p.rank + "위", p]), ...cert.alternates.map((p) => ["예비 당첨 " + p.rank + "위", p])]
        .find(([, p]) => p.leafIndex === found.index);
      notice("#check-notice", "ok", "내 응모가 추첨에 포함되었습니다: 후보 #" + found.index + ", 가중치 " + found.weight +
        (picked ? " — " + picked[0] + "입니다." : "."));
    } else {
      notice("#check-notice", "err", "후보 목록에서 이 응모번호를 찾지 못했습니다. 응모번호를 확인해주세요.");
    }
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    notice("#check-notice", "warn", "네트워크 연결이 불안정합니다. 잠시 후 다시 눌러주세요.");
  } finally {
    $("#check-submit").disabled = false;
  }
});

load();
