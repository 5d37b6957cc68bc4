// The winners' claims on the owner's winners tab: each winner's claim
// state and deadline, and 배송 정보 보기 for a winner who claimed (each reveal
// is recorded by the server and listed with the contact reveals).
import { h, formatDate, busy } from "./common.js";

const STATES = { CLAIMED: "수령 신청 완료", OPEN: "신청 대기", CLOSED: "기한 만료" };

// claimCell is the 수령 상태 cell: the state, then the deadline (or when the
// winner claimed). A row from the draw's answer has no claim yet: 신청 대기.
export function claimCell(w) {
  const c = w.claim || { state: "OPEN" };
  const when = c.state === "CLAIMED" && c.claimedAt ? `신청 ${formatDate(c.claimedAt)}`
    : c.deadline ? `기한 ${formatDate(c.deadline)}` : "";
  return h("td", { class: "claim", "data-state": c.state },
    h("span", { class: "badge claim-" + c.state.toLowerCase() }, STATES[c.state] || c.state),
    when ? h("span", { class: "muted claim-when" }, when) : "");
}

// deliveryCell is the 배송 정보 cell: for a winner who claimed, a button that
// reveals the delivery details in place; nothing to reveal otherwise.
export function deliveryCell(w, ctx, base, say, revealed) {
  const cell = h("td", { class: "delivery" });
  if (!w.claim || w.claim.state !== "CLAIMED") {
    cell.append(h("span", { class: "muted" }, "-"));
    return cell;
  }
  const button = h("button", { type: "button", class: "secondary small", "aria-label": `${w.entryNumber} 배송 정보 보기` }, "배송 정보 보기");
  button.addEventListener("click", () => busy(button, say, async () => {
    const res = await ctx.api(`${base}/winners/${encodeURIComponent(w.entryNumber)}/delivery`, { method: "POST", signal: ctx.signal });
    if (res.status !== 200) {
      say("err", (res.data && res.data.message) || "배송 정보를 불러오지 못했습니다.");
      return;
    }
    const d = res.data;
    cell.replaceChildren(h("span", { class: "delivery-details" },
      h("b", {}, d.recipientName), ` (${d.postcode}) ${d.address1}${d.address2 ? " " + d.address2 : ""}`),
    h("span", { class: "muted" }, " 열람 기록됨"));
    revealed();
  }));
  cell.append(button);
  return cell;
}

// revealKind names a reveal of the audit list.
export function revealKind(kind) {
  return kind === "DELIVERY" ? "배송 정보" : "연락처";
}
