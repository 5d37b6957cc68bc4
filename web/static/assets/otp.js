// The 인증번호 step (PHONE_VERIFICATION=otp, told by the public campaign's
// phoneVerification): 인증번호 받기 sends a code to the phone
// (POST /api/v1/participations/verification), then a 60-second countdown
// holds the resend back; the form sends the code as verificationCode and
// shows the server's refusals next to the field, in Korean.
import { api, $, NetworkError } from "./common.js";
import { checkPhone } from "./checks.js";

const CODE = /^[0-9]{6}$/;
const RESEND_SECONDS = 60;

// otpStep wires the #otp block of a page; phoneError shows a reason next
// to the page's phone field.
export function otpStep({ eventId, phoneInput, phoneError }) {
  const root = $("#otp"), input = $("#verificationCode"), send = $("#otp-send");
  const status = $("#verificationCode-status"), error = $("#verificationCode-error");
  let on = false, sentOnce = false, resendAt = 0, timer = 0, sending = false;

  function setError(reason) {
    error.textContent = reason || "";
    input.setAttribute("aria-invalid", reason ? "true" : "false");
  }

  // tick reads the clock each time, so a tab put to sleep counts right.
  function tick() {
    const left = Math.ceil((resendAt - Date.now()) / 1000);
    if (left > 0) {
      send.disabled = true;
      send.textContent = "다시 받기 (" + left + "초)";
      return;
    }
    clearInterval(timer);
    timer = 0;
    send.disabled = sending;
    send.textContent = sentOnce ? "인증번호 다시 받기" : "인증번호 받기";
  }

  function holdResend(seconds) {
    resendAt = Date.now() + seconds * 1000;
    tick();
    if (!timer) timer = setInterval(tick, 250);
  }

  send.addEventListener("click", async () => {
    const phone = phoneInput.value.trim();
    const reason = checkPhone(phone);
    phoneError(reason);
    if (reason) { phoneInput.focus(); return; }
    setError("");
    sending = true;
    send.disabled = true;
    try {
      const res = await api("/api/v1/participations/verification", { method: "POST", body: { eventId, phone } });
      const code = res.data && res.data.code;
      if (res.status === 202) {
        sentOnce = true;
        status.textContent = "인증번호를 보냈습니다. 문자로 받은 6자리를 3분 안에 입력해주세요.";
        input.focus();
        holdResend(RESEND_SECONDS);
      } else if (res.status === 429 && code === "VERIFICATION_TOO_SOON") {
        holdResend(parseInt(res.response.headers.get("Retry-After"), 10) || RESEND_SECONDS);
        setError("인증번호는 1분에 한 번 받을 수 있습니다. 남은 시간이 지나면 다시 받아주세요.");
      } else if (res.status === 400) {
        phoneError("휴대폰 번호는 010-1234-5678 형식으로 입력해주세요.");
      } else if (res.status === 409 && code === "EVENT_NOT_OPEN") {
        setError("지금은 인증번호를 받을 수 없는 이벤트입니다.");
      } else if (res.status === 429) {
        setError("요청이 많아 잠시 기다려야 합니다. 잠시 후 다시 받아주세요.");
      } else {
        setError("인증번호를 보내지 못했습니다. 잠시 후 다시 받아주세요.");
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setError("네트워크 연결이 불안정합니다. 잠시 후 다시 받아주세요.");
    } finally {
      sending = false;
      if (!timer) send.disabled = false;
    }
  });
  input.addEventListener("input", () => { if (error.textContent && CODE.test(input.value.trim())) setError(""); });

  return {
    enable() { on = true; root.hidden = false; },
    get on() { return on; },
    // check is the client's reason to hold the form back ("" when none).
    check() {
      if (!on) return "";
      const v = input.value.trim();
      const reason = !v ? (sentOnce ? "받으신 인증번호 6자리를 입력해주세요." : "인증번호 받기를 눌러 인증번호를 받아주세요.")
        : CODE.test(v) ? "" : "인증번호는 숫자 6자리입니다.";
      setError(reason);
      return reason;
    },
    focus() { input.focus(); },
    // add puts the code in a request body when the step is on.
    add(body) {
      if (on) body.verificationCode = input.value.trim();
      return body;
    },
    // refused shows the server's refusal of the code; false when the
    // answer was about something else.
    refused(res) {
      const code = res.data && res.data.code;
      if (code === "VERIFICATION_REQUIRED") setError("인증번호 받기를 눌러 인증번호를 받아주세요.");
      else if (code === "VERIFICATION_FAILED") setError("인증번호가 맞지 않거나 만료되었습니다. 다시 확인하시거나 인증번호를 다시 받아주세요.");
      else return false;
      input.focus();
      return true;
    },
    // used clears the code a successful request has used up.
    used() { input.value = ""; status.textContent = ""; setError(""); },
  };
}
