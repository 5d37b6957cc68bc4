// The customer's erasure request: POST /api/v1/participations/erase with the
// phone and the entry number (both must match; 204).
import { api, $, show, fieldReasons, NetworkError, lockedMessage } from "./common.js";
import { checkPhone } from "./checks.js";
import { otpStep } from "./otp.js";

const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
$("#back").href = "/p/" + encodeURIComponent(eventId);

const ENTRY = /^[A-Za-z0-9_-]{1,16}$/;

function setError(field, reason) {
  $("#" + field + "-error").textContent = reason || "";
  $("#" + field).setAttribute("aria-invalid", reason ? "true" : "false");
}

const otp = otpStep({ eventId, phoneInput: $("#phone"), phoneError: (r) => setError("phone", r) });

// The page asks for a code only when the service does (the public campaign
// says so). The form shows once this script handles it and the code field
// is settled: a form sent before (a slow network) reloaded the page and
// lost what was typed, and a code field coming late moved 삭제 요청 under
// the finger.
api("/api/v1/events/" + encodeURIComponent(eventId) + "/public").then((res) => {
  if (res.status === 200 && res.data.phoneVerification === "otp") otp.enable();
}).catch((e) => { if (!(e instanceof NetworkError)) throw e; })
  .finally(() => {
    show($("#erase-loading"), false);
    show($("#erase-form"), true);
  });

function notice(kind, text) {
  const n = $("#erase-notice");
  n.className = "notice " + kind;
  n.textContent = text;
}

$("#erase-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  notice("", "");
  const phone = $("#phone").value.trim(), entryNumber = $("#entryNumber").value.trim();
  const reasons = {
    phone: checkPhone(phone),
    entryNumber: !entryNumber ? "응모번호를 입력해주세요." : ENTRY.test(entryNumber) ? "" : "응모번호를 다시 확인해주세요.",
  };
  for (const [f, r] of Object.entries(reasons)) setError(f, r);
  const first = Object.keys(reasons).find((f) => reasons[f]);
  const codeReason = otp.check();
  if (first) { $("#" + first).focus(); return; }
  if (codeReason) { otp.focus(); return; }
  $("#erase-submit").disabled = true;
  try {
    const res = await api("/api/v1/participations/erase", { method: "POST", body: otp.add({ eventId, phone, entryNumber }) });
    const code = res.data && res.data.code;
    if (res.status === 400 && otp.refused(res)) {
      notice("err", res.data.message);
    } else if (res.status === 204) {
      otp.used();
      show($("#erase-view"), false);
      show($("#erased"), true);
      $("#erased").focus();
    } else if (res.status === 404 && code !== "NOT_FOUND") {
      notice("err", "일치하는 참여 정보가 없습니다. 휴대폰 번호와 응모번호를 확인해주세요.");
    } else if (res.status === 400) {
      const r = fieldReasons(res.data);
      for (const f of ["phone", "entryNumber"]) if (r[f]) setError(f, r[f]);
      notice("err", (res.data && res.data.message) || "입력값을 확인해주세요");
    } else if (res.status === 429 && code === "ENTRY_LOCKED") {
      notice("err", lockedMessage(res.response.headers.get("Retry-After")));
    } else if (res.status === 429) {
      notice("warn", "요청이 많아 잠시 기다려야 합니다. 잠시 후 다시 눌러주세요.");
    } else {
      notice("warn", "지금은 삭제 요청을 처리할 수 없습니다. 잠시 후 다시 시도해주세요.");
    }
  } catch (e) {
    if (!(e instanceof NetworkError)) throw e;
    notice("warn", "네트워크 연결이 불안정합니다. 입력하신 내용은 그대로 있으니 잠시 후 다시 눌러주세요.");
  } finally {
    $("#erase-submit").disabled = false;
  }
});
