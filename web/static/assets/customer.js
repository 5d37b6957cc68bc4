// The customer's form: GET /api/v1/events/{id}/public decides whether it is
// shown; POST /api/v1/participations sends it once the checks here pass.
import { CHANNELS, api, formatDate, fieldReasons, h, $, show, NetworkError, retryKey } from "./common.js";
import { checkName, checkPhone } from "./checks.js";
import { otpStep } from "./otp.js";

const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
const params = new URLSearchParams(location.search);

function setError(field, reason) {
  const input = $("#" + field);
  $("#" + field + "-error").textContent = reason || "";
  if (input) input.setAttribute("aria-invalid", reason ? "true" : "false");
}

const otp = otpStep({ eventId, phoneInput: $("#phone"), phoneError: (r) => setError("phone", r) });

function notice(kind, text) {
  const n = $("#form-notice");
  n.className = "notice " + kind;
  n.textContent = text;
}

function unavailable(title, text) {
  show($("#loading"), false);
  show($("#form-view"), false);
  $("#unavailable-title").textContent = title;
  $("#unavailable-text").textContent = text;
  show($("#unavailable"), true);
}

async function load() {
  $("#erase-link").href = "/p/" + encodeURIComponent(eventId) + "/erase";
  $("#result-link").href = $("#success-result-link").href = "/p/" + encodeURIComponent(eventId) + "/result";
  let res;
  try {
    res = await api("/api/v1/events/" + encodeURIComponent(eventId) + "/public");
  } catch (e) {
    unavailable("이벤트 정보를 불러오지 못했습니다", "네트워크 연결을 확인한 뒤 새로고침해주세요.");
    return;
  }
  if (res.status !== 200) {
    if (res.status === 404 || res.status === 400) unavailable("이벤트를 찾을 수 없습니다", "주소를 다시 확인해주세요.");
    else unavailable("이벤트 정보를 불러오지 못했습니다", "잠시 후 새로고침해주세요.");
    return;
  }
  const c = res.data;
  document.title = c.title + " - 이벤트 참여";
  $("#title").textContent = c.title;
  $("#period").textContent = formatDate(c.startsAt) + " ~ " + formatDate(c.endsAt);
  $("#announce").textContent = formatDate(c.announceAt);
  if (c.retention) $("#retention").textContent = retentionText(c.retention);
  show($("#loading"), false);
  show($("#campaign"), true);
  show($("#erase-link-wrap"), true);
  // Announced (by this device's clock; the result page asks the server's).
  show($("#result-link-wrap"), Date.now() >= new Date(c.announceAt).getTime());
  if (c.state === "scheduled") {
    unavailable("참여 기간이 아닙니다", "이벤트는 " + formatDate(c.startsAt) + "에 시작합니다.");
    return;
  }
  if (c.state === "closed" || c.state === "drawn") {
    unavailable("참여 기간이 아닙니다", c.state === "drawn"
      ? "당첨자 추첨이 끝난 이벤트입니다. 참여해주셔서 감사합니다."
      : "이벤트 참여 기간이 끝났습니다.");
    return;
  }
  const select = $("#entryPath");
  const from = (params.get("from") || "").toUpperCase();
  const known = CHANNELS.some(([code]) => code === from);
  if (!known) select.append(h("option", { value: "" }, "선택해주세요"));
  for (const [code, label] of CHANNELS) {
    select.append(h("option", { value: code, selected: code === from }, label));
  }
  if (c.phoneVerification === "otp") otp.enable();
  show($("#form-view"), true);
  $("#form").addEventListener("submit", submit);
  // Reasons show on 참여하기 and clear as the field is corrected; none on
  // blur, whose layout shift would move the next control under the finger.
  for (const f of ["name", "phone"]) {
    $("#" + f).addEventListener("input", () => {
      if ($("#" + f + "-error").textContent) setError(f, (f === "name" ? checkName : checkPhone)($("#" + f).value));
    });
  }
  $("#consent").addEventListener("change", () => { if ($("#consent").checked) setError("consent", ""); });
}

// retentionText spells out the service's retention (RETENTION_NON_WINNERS,
// RETENTION_WINNERS) as the consent must: the real periods, not a guess.
function retentionText(r) {
  const span = (hours) => hours === 0 ? "당첨자 발표 직후"
    : hours % 24 === 0 ? `당첨자 발표일로부터 ${hours / 24}일 뒤` : `당첨자 발표 ${hours}시간 뒤`;
  return `${span(r.nonWinnersHours)} 파기합니다. 당첨되신 분의 정보는 경품 전달을 위해 ${span(r.winnersHours)} 파기합니다. 언제든 삭제를 요청하실 수 있습니다.`;
}

let sending = false;
const key = retryKey();

async function submit(ev) {
  ev.preventDefault();
  if (sending) return;
  notice("", "");
  const name = $("#name").value, phone = $("#phone").value, entryPath = $("#entryPath").value;
  const consent = $("#consent").checked;
  const reasons = {
    name: checkName(name),
    phone: checkPhone(phone),
    entryPath: entryPath ? "" : "참여 경로를 선택해주세요.",
    consent: consent ? "" : "개인정보 수집·이용에 동의해주셔야 참여하실 수 있습니다.",
  };
  for (const [f, r] of Object.entries(reasons)) setError(f, r);
  const first = Object.keys(reasons).find((f) => reasons[f]);
  const codeReason = otp.check();
  if (first || codeReason) {
    if (first) $("#" + first).focus();
    else otp.focus();
    return; // blocked: nothing is sent
  }
  sending = true;
  $("#submit").disabled = true;
  $("#submit").textContent = "보내는 중…";
  try {
    const body = otp.add({ eventId, name: name.trim(), phone: phone.trim(), entryPath, privacyConsent: true });
    const res = await api("/api/v1/participations", { method: "POST", body, headers: { "Idempotency-Key": key.for(body) } });
    key.answered(res);
    handle(res);
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    notice("warn", "네트워크 연결이 불안정합니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 참여하기를 눌러주세요.");
  } finally {
    sending = false;
    $("#submit").disabled = false;
    $("#submit").textContent = "참여하기";
  }
}

function handle(res) {
  const code = res.data && res.data.code;
  if (res.status === 201) {
    otp.used();
    show($("#form-view"), false);
    $("#entry-number").textContent = res.data.entryNumber;
    $("#success-announce").textContent = formatDate(res.data.announceAt);
    show($("#success"), true);
    $("#success").focus();
    return;
  }
  if (res.status === 409 && code === "ALREADY_PARTICIPATED") {
    notice("err", "이미 참여하신 이벤트입니다");
    return;
  }
  if (res.status === 409 && code === "EVENT_NOT_OPEN") {
    unavailable("참여 기간이 아닙니다", "지금은 이 이벤트에 참여하실 수 없습니다.");
    return;
  }
  if (res.status === 404) {
    unavailable("이벤트를 찾을 수 없습니다", "주소를 다시 확인해주세요.");
    return;
  }
  if (res.status === 400 && otp.refused(res)) {
    notice("err", res.data.message);
    return;
  }
  if (res.status === 400) {
    const reasons = fieldReasons(res.data);
    for (const f of ["name", "phone", "entryPath"]) if (reasons[f]) setError(f, reasons[f]);
    if (reasons.privacyConsent) setError("consent", reasons.privacyConsent);
    notice("err", (res.data && res.data.message) || "입력값을 확인해주세요");
    return;
  }
  // 429, 5xx: the input stays; the customer can simply press the button again.
  notice("warn", res.status === 429
    ? "요청이 많아 잠시 기다려야 합니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 참여하기를 눌러주세요."
    : "일시적인 오류가 발생했습니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 참여하기를 눌러주세요.");
}

load();
