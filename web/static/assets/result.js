// The public announcement (GET /api/v1/events/{id}/result): before the date
// a countdown; then the masked winners, the draw's certificate link and the
// 당첨 확인 form (POST .../result/check).
import { api, $, show, h, fieldReasons, formatDate, NetworkError, REPLACE_REASONS, lockedMessage } from "./common.js";
import { checkPhone } from "./checks.js";
import { drawLeafHash, verifyInclusion } from "./merkle.js";
import { otpStep } from "./otp.js";

const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = "/p/" + encodeURIComponent(eventId);
const apiBase = "/api/v1/events/" + encodeURIComponent(eventId);
$("#back").href = base;
$("#draw-link").href = base + "/draw";

const ENTRY = /^[A-Za-z0-9_-]{1,16}$/;
let timer = 0;

function unavailable(title, text) {
  show($("#loading"), false);
  $("#unavailable-title").textContent = title;
  $("#unavailable-text").textContent = text;
  show($("#unavailable"), true);
}

// countdown shows the time left in days, hours, minutes and seconds, and
// loads the result again once the date has come.
function countdown(announceAt) {
  const at = new Date(announceAt).getTime();
  const tick = () => {
    const left = Math.max(0, Math.floor((at - Date.now()) / 1000));
    const d = Math.floor(left / 86400), hh = Math.floor(left / 3600) % 24, mm = Math.floor(left / 60) % 60, ss = left % 60;
    $("#countdown").textContent = (d ? d + "일 " : "") + hh + "시간 " + mm + "분 " + ss + "초";
    if (left === 0) {
      clearInterval(timer);
      setTimeout(load, 1000); // the server's clock decides; ask again
    }
  };
  clearInterval(timer);
  tick();
  timer = setInterval(tick, 1000);
}

function render(r) {
  $("#announce").textContent = formatDate(r.announceAt);
  show($("#campaign"), true);
  if (!r.announced) {
    show($("#pending"), true);
    show($("#announced"), false);
    show($("#check-view"), false);
    countdown(r.announceAt);
    return;
  }
  show($("#pending"), false);
  $("#claim-deadline").textContent = formatDate(r.claimDeadline);
  show($("#not-drawn"), !r.drawn);
  // a replaced winner stays listed, struck, with the reason; the alternate
  // that took the rank follows it as that rank's winner
  $("#winners").replaceChildren(...r.winners.map((w) => w.state === "REPLACED"
    ? h("li", { class: "winner replaced", "data-state": "REPLACED" }, h("b", {}, w.rank + "등"), " ",
      h("s", {}, w.name || "삭제됨", " ", h("span", { class: "entry-masked" }, w.entryNumber)), " ",
      h("span", { class: "replaced-reason" }, "교체됨 (" + (REPLACE_REASONS[w.reason] || w.reason) + ")"))
    : h("li", { class: "winner", "data-state": "WINNER" }, h("b", {}, w.rank + "등"), " ", w.name || "삭제됨", " ", h("span", { class: "entry-masked" }, w.entryNumber))));
  show($("#announced"), true);
  show($("#check-view"), r.drawn);
}

async function load() {
  let campaign, result;
  try {
    [campaign, result] = await Promise.all([api(apiBase + "/public"), api(apiBase + "/result")]);
  } catch (e) {
    unavailable("당첨 결과를 불러오지 못했습니다", "네트워크 연결을 확인한 뒤 새로고침해주세요.");
    return;
  }
  if (result.status !== 200) {
    if (result.status === 404 || result.status === 400) unavailable("이벤트를 찾을 수 없습니다", "주소를 다시 확인해주세요.");
    else unavailable("당첨 결과를 불러오지 못했습니다", "잠시 후 새로고침해주세요.");
    return;
  }
  if (campaign.status === 200) {
    $("#title").textContent = campaign.data.title + " 당첨자 발표";
    const r = campaign.data.retention;
    if (r) {
      const keep = r.winnersHours % 24 === 0 ? `당첨자 발표일로부터 ${r.winnersHours / 24}일 뒤` : `당첨자 발표 ${r.winnersHours}시간 뒤`;
      $("#delivery-consent-text").textContent =
        `배송 정보(받는 분, 주소)를 경품 배송 목적으로 수집·이용하고, ${keep} 파기하는 데 동의합니다.`;
    }
    document.title = campaign.data.title + " - 당첨자 발표";
    if (campaign.data.phoneVerification === "otp") otp.enable();
  }
  show($("#loading"), false);
  render(result.data);
}

function setError(field, reason) {
  $("#" + field + "-error").textContent = reason || "";
  $("#" + field).setAttribute("aria-invalid", reason ? "true" : "false");
}

function notice(kind, text) {
  const n = $("#check-notice");
  n.className = "notice " + kind;
  n.textContent = text;
}

const CLAIM_STATES = { OPEN: "경품 수령 신청 기한", CLAIMED: "경품 수령 신청 완료", CLOSED: "경품 수령 신청 마감" };

function outcome(o) {
  const title = o.outcome === "WON" ? "당첨되셨습니다"
    : o.outcome === "ALTERNATE" ? "예비 당첨자 " + o.rank + "번입니다"
    : o.outcome === "REPLACED" ? "당첨이 취소되었습니다"
    : "아쉽게도 당첨되지 않았습니다";
  $("#outcome-title").textContent = title;
  $("#outcome-claim").textContent = o.claim ? CLAIM_STATES[o.claim.state] + ": " + formatDate(o.claim.deadline)
    : o.outcome === "REPLACED" ? "사유: " + (REPLACE_REASONS[o.reason] || o.reason) + ". " + o.rank + "등은 예비 당첨자에게 돌아갔습니다."
    : "";
  show($("#claim-form"), !!o.claim && o.claim.state === "OPEN");
  show($("#outcome"), true);
  $("#outcome").focus();
}

// canonicalEntry spells an entry number as the draw's leaves do (ABCD-EFGH),
// whatever case or dash the participant typed.
function canonicalEntry(s) {
  s = s.toUpperCase();
  return s.length === 8 ? s.slice(0, 4) + "-" + s.slice(4) : s;
}

// checkProof verifies the answer's inclusion proof here, with WebCrypto:
// the leaf from the entry number typed, the root the public certificate's
// (the proof's own when the certificate cannot be read).
async function checkProof(proof, entryNumber) {
  const line = $("#outcome-proof");
  show(line, false);
  if (!proof) return;
  let root;
  try {
    const cert = await api(apiBase + "/draw-certificate");
    if (cert.status === 200) root = cert.data.candidatesRoot;
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
  }
  let ok = false;
  try {
    ok = await verifyInclusion(await drawLeafHash(proof.drawId, canonicalEntry(entryNumber), proof.weight), proof, root);
  } catch (e) {
    ok = false; // a malformed proof is a failed one
  }
  line.className = "notice " + (ok ? "ok" : "warn");
  line.textContent = ok ? "내 응모가 추첨에 포함되었습니다 (가중치 " + proof.weight + ")"
    : "포함 증명을 확인하지 못했습니다. 추첨 검증 페이지에서 직접 확인해주세요.";
  show(line, true);
}

$("#check-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  notice("", "");
  show($("#outcome"), false);
  show($("#outcome-proof"), false);
  show($("#claim-form"), false);
  const phone = $("#phone").value.trim(), entryNumber = $("#entryNumber").value.trim();
  const reasons = {
    phone: checkPhone(phone),
    entryNumber: !entryNumber ? "응모번호를 입력해주세요." : ENTRY.test(entryNumber) ? "" : "응모번호를 다시 확인해주세요.",
  };
  for (const [f, r] of Object.entries(reasons)) setError(f, r);
  const first = Object.keys(reasons).find((f) => reasons[f]);
  if (first) { $("#" + first).focus(); return; }
  $("#check-submit").disabled = true;
  try {
    const res = await api(apiBase + "/result/check", { method: "POST", body: { phone, entryNumber } });
    const code = res.data && res.data.code;
    if (res.status === 200) {
      outcome(res.data);
      await checkProof(res.data.proof, entryNumber);
    } else if (res.status === 404 && code === "PARTICIPANT_NOT_FOUND") {
      notice("err", "일치하는 참여 정보가 없습니다. 휴대폰 번호와 응모번호를 확인해주세요.");
    } else if (res.status === 409 && code === "NOT_ANNOUNCED") {
      notice("warn", "아직 발표 전입니다.");
    } else if (res.status === 400) {
      const r = fieldReasons(res.data);
      for (const f of ["phone", "entryNumber"]) if (r[f]) setError(f, r[f]);
      notice("err", (res.data && res.data.message) || "입력값을 확인해주세요");
    } else if (res.status === 429 && code === "ENTRY_LOCKED") {
      notice("err", lockedMessage(res.response.headers.get("Retry-After")));
    } else if (res.status === 429) {
      notice("warn", "요청이 많아 잠시 기다려야 합니다. 잠시 후 다시 눌러주세요.");
    } else {
      notice("warn", "지금은 당첨 확인을 할 수 없습니다. 잠시 후 다시 시도해주세요.");
    }
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    notice("warn", "네트워크 연결이 불안정합니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 눌러주세요.");
  } finally {
    $("#check-submit").disabled = false;
  }
});

// The claim's code goes to the phone of the 당첨 확인 form above.
const otp = otpStep({ eventId, phoneInput: $("#phone"), phoneError: (r) => setError("phone", r) });

function claimNotice(kind, text) {
  const n = $("#claim-notice");
  n.className = "notice " + kind;
  n.textContent = text;
}

const CLAIM_FIELDS = ["recipientName", "postcode", "address1", "address2", "deliveryConsent"];

$("#claim-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  claimNotice("", "");
  const body = {
    phone: $("#phone").value.trim(), entryNumber: $("#entryNumber").value.trim(),
    recipientName: $("#recipientName").value, postcode: $("#postcode").value.trim(),
    address1: $("#address1").value, address2: $("#address2").value, deliveryConsent: $("#deliveryConsent").checked,
  };
  const reasons = {
    recipientName: body.recipientName.trim() ? "" : "받는 분을 입력해주세요.",
    postcode: /^[0-9]{5}$/.test(body.postcode) ? "" : "우편번호 5자리를 입력해주세요.",
    address1: body.address1.trim() ? "" : "주소를 입력해주세요.",
    address2: "",
    deliveryConsent: body.deliveryConsent ? "" : "경품 배송을 위해 동의가 필요합니다.",
  };
  for (const [f, r] of Object.entries(reasons)) setError(f, r);
  const first = CLAIM_FIELDS.find((f) => reasons[f]);
  const codeReason = otp.check();
  if (first) { $("#" + first).focus(); return; }
  if (codeReason) { otp.focus(); return; }
  $("#claim-submit").disabled = true;
  try {
    const res = await api(apiBase + "/claims", { method: "POST", body: otp.add(body) });
    const code = res.data && res.data.code;
    if (res.status === 400 && otp.refused(res)) {
      claimNotice("err", res.data.message);
    } else if (res.status === 201 || (res.status === 409 && code === "ALREADY_CLAIMED")) {
      otp.used();
      show($("#claim-form"), false);
      $("#outcome-claim").textContent = "경품 수령 신청이 완료되었습니다.";
    } else if (res.status === 409 && code === "CLAIM_CLOSED") {
      claimNotice("err", "경품 수령 신청 기간이 지났습니다.");
    } else if (res.status === 400) {
      const r = fieldReasons(res.data);
      for (const f of CLAIM_FIELDS) if (r[f]) setError(f, r[f]);
      claimNotice("err", (res.data && res.data.message) || "입력값을 확인해주세요");
    } else if (res.status === 404) {
      claimNotice("err", "일치하는 당첨 정보가 없습니다. 휴대폰 번호와 응모번호를 확인해주세요.");
    } else {
      claimNotice("warn", "지금은 신청할 수 없습니다. 잠시 후 다시 시도해주세요.");
    }
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    claimNotice("warn", "네트워크 연결이 불안정합니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 눌러주세요.");
  } finally {
    $("#claim-submit").disabled = false;
  }
});

load();
