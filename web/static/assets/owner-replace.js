// 교체: the owner replaces a winner by the first alternate not yet used
// (POST .../winners/{entryNumber}/replace), behind a confirm dialog that
// asks the reason.
import { h, formatDate, busy, REPLACE_REASONS } from "./common.js";

// replacer returns the dialog (to place once) and a button factory per
// winner row; onReplaced gets the answer (the new holder and the replaced).
export function replacer(ctx, base, say, onReplaced) {
  const detail = h("p", { id: "replace-dialog-detail" });
  const reason = h("select", { id: "replace-reason", required: true },
    Object.entries(REPLACE_REASONS).map(([v, t]) => h("option", { value: v }, t)));
  const dialog = h("dialog", { id: "replace-dialog", "aria-labelledby": "replace-dialog-title", "aria-describedby": "replace-dialog-detail" },
    h("form", { method: "dialog" },
      h("h2", { id: "replace-dialog-title" }, "당첨자를 교체하시겠습니까?"), detail,
      h("div", { class: "field" }, h("label", { for: "replace-reason" }, "교체 사유"), reason),
      h("p", { class: "muted" }, "첫 번째로 남은 예비 당첨자가 이 순위를 이어받으며, 교체 기록은 당첨자 발표에 공개됩니다. 되돌릴 수 없습니다."),
      h("div", { class: "row" },
        h("button", { type: "submit", value: "cancel", class: "secondary", id: "replace-cancel" }, "취소"),
        h("button", { type: "submit", value: "confirm", id: "replace-confirm" }, "교체하기"))));
  let target = null; // { winner, button } the dialog was opened for
  dialog.addEventListener("close", () => {
    const t = target;
    target = null;
    if (!t) return;
    if (dialog.returnValue !== "confirm") { t.button.focus(); return; }
    busy(t.button, say, async () => {
      say("", "");
      const res = await ctx.api(`${base}/winners/${encodeURIComponent(t.winner.entryNumber)}/replace`,
        { method: "POST", signal: ctx.signal, body: { reason: reason.value } });
      if (res.status === 200) {
        const w = res.data.winner;
        say("ok", `${res.data.rank}위 당첨자를 교체했습니다: 예비 ${w.alternateRank}번 (응모번호 ${w.entryNumber}), 수령 신청 기한 ${formatDate(w.claimDeadline)}`);
        onReplaced(res.data);
        return;
      }
      say("err", (res.data && res.data.message) || "당첨자를 교체하지 못했습니다.");
    });
  });
  function button(winner) {
    const b = h("button", { type: "button", class: "secondary small", "aria-label": `${winner.entryNumber} 교체` }, "교체");
    b.addEventListener("click", () => {
      target = { winner, button: b };
      detail.textContent = `${winner.rank}위 · 응모번호 ${winner.entryNumber} ${winner.name || ""}`;
      reason.value = "UNCLAIMED";
      dialog.returnValue = "";
      dialog.showModal();
      dialog.querySelector("#replace-cancel").focus();
    });
    return b;
  }
  return { dialog, button };
}
