// 당첨자 추첨 (once: a draw is final, so its button goes away), the winners
// with their contact reveal and its audit list and 교체, the alternates in
// order, and 추첨 로그 with 검증.
import { h, formatDate, fieldReasons, busy, report, retryKey, REPLACE_REASONS } from "./common.js";
import { claimCell, deliveryCell, revealKind } from "./owner-claims.js";
import { replacer } from "./owner-replace.js";

export function renderDraw(sec, logsSec, ctx, base, campaign) {
  const notice = h("div", { class: "notice", role: "status", id: "draw-notice" });
  const winnersBox = h("div", { id: "winners" });
  const formBox = h("div", { id: "draw-form-box" });
  sec.append(h("h2", { id: "draw-title", tabindex: -1 }, "당첨자 추첨"), notice, formBox, winnersBox);
  const logList = h("div", { id: "draw-log-list" });
  logsSec.append(h("h2", { id: "logs-title", tabindex: -1 }, "추첨 로그"), logList);

  const key = retryKey(); // the view's, so a redrawn form keeps it
  function say(kind, text) { notice.className = "notice " + kind; notice.textContent = text; }
  // quietly runs a load nobody awaits: a failure is said, not left uncaught.
  const quietly = (p) => p.catch((e) => report(e, say));

  function drawForm() {
    const count = h("input", { type: "number", id: "winner-count", min: 1, step: 1, value: 1, required: true, inputmode: "numeric", "aria-describedby": "winner-count-error" });
    const countErr = h("p", { class: "field-error", id: "winner-count-error" });
    const alternates = h("input", { type: "number", id: "alternate-count", min: 0, step: 1, value: 0, inputmode: "numeric", "aria-describedby": "alternate-count-error" });
    const alternatesErr = h("p", { class: "field-error", id: "alternate-count-error" });
    const bonus = h("input", { type: "checkbox", id: "visit-bonus" });
    const dialogText = h("p", { id: "draw-dialog-detail" });
    const dialog = h("dialog", { id: "draw-dialog", "aria-labelledby": "draw-dialog-title", "aria-describedby": "draw-dialog-detail" },
      h("form", { method: "dialog" },
        h("h2", { id: "draw-dialog-title" }, "당첨자를 추첨하시겠습니까?"), dialogText,
        h("div", { class: "row" },
          h("button", { type: "submit", value: "cancel", class: "secondary", id: "draw-cancel" }, "취소"),
          h("button", { type: "submit", value: "confirm", id: "draw-confirm" }, "추첨하기"))));
    const open = h("button", { type: "submit", id: "draw-open" }, "추첨하기");
    const form = h("form", { id: "draw-form", novalidate: true },
      h("div", { class: "row" },
        h("div", { class: "field" }, h("label", { for: "winner-count" }, "당첨자 수"), count, countErr),
        h("div", { class: "field" }, h("label", { for: "alternate-count" }, "예비 당첨자 수"), alternates, alternatesErr)),
      h("p", { class: "muted" }, "예비 당첨자는 같은 추첨에서 당첨자 다음 순서로 정해지며, 당첨자가 경품을 받지 못하면 순서대로 대신합니다."),
      h("div", { class: "field" }, h("label", { class: "check", for: "visit-bonus" }, bonus, "매장 방문 고객 가산 (당첨 확률 2배)")),
      h("p", { class: "muted" }, "추첨은 한 번만 할 수 있고 되돌릴 수 없습니다. 추첨하면 참여 접수가 마감됩니다."),
      open, dialog);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const n = Number(count.value);
      countErr.textContent = Number.isInteger(n) && n >= 1 ? "" : "당첨자 수는 1 이상의 정수로 입력해주세요.";
      count.setAttribute("aria-invalid", countErr.textContent ? "true" : "false");
      const a = alternates.value === "" ? 0 : Number(alternates.value);
      alternatesErr.textContent = Number.isInteger(a) && a >= 0 ? "" : "예비 당첨자 수는 0 이상의 정수로 입력해주세요.";
      alternates.setAttribute("aria-invalid", alternatesErr.textContent ? "true" : "false");
      if (countErr.textContent) { count.focus(); return; }
      if (alternatesErr.textContent) { alternates.focus(); return; }
      dialogText.textContent = `당첨자 ${n}명, 예비 당첨자 ${a}명, 매장 방문 가산 ${bonus.checked ? "적용" : "미적용"}. 추첨은 한 번만 할 수 있습니다.`;
      dialog.returnValue = "";
      dialog.showModal();
      dialog.querySelector("#draw-cancel").focus();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "confirm") { open.focus(); return; }
      busy(open, say, async () => {
        say("", "");
        const body = { winnerCount: Number(count.value), alternateCount: alternates.value === "" ? 0 : Number(alternates.value), visitBonus: bonus.checked };
        const res = await ctx.api(base + "/draw-winners", {
          method: "POST", signal: ctx.signal, body, headers: { "Idempotency-Key": key.for(body) },
        });
        key.answered(res);
        if (res.status === 200) {
          formBox.replaceChildren();
          say("ok", "추첨이 완료되었습니다");
          showWinners(res.data.winners, res.data.alternates);
          quietly(loadLogs());
          return;
        }
        if (res.status === 202) { // drand: committed, the round is still to come
          formBox.replaceChildren();
          say("warn", `공개 난수 대기 중: drand 라운드 ${res.data.round} (공개 예정 ${formatDate(res.data.expectedAt)}). 난수가 공개되면 당첨자가 표시됩니다.`);
          quietly(loadLogs());
          watchPending(); // the draw log may not have the commit yet
          return;
        }
        const code = res.data && res.data.code;
        if (code === "ALREADY_DRAWN") { formBox.replaceChildren(); say("warn", "이미 추첨이 끝난 이벤트입니다"); quietly(loadWinners()); return; }
        if (code === "IDEMPOTENCY_KEY_IN_USE") { say("warn", "추첨을 처리하고 있습니다. 잠시 후 다시 눌러주세요."); return; }
        const r = fieldReasons(res.data);
        if (r.winnerCount) countErr.textContent = r.winnerCount;
        if (r.alternateCount) alternatesErr.textContent = r.alternateCount;
        say("err", (res.data && res.data.message) || "추첨하지 못했습니다.");
      });
    });
    formBox.replaceChildren(form);
  }

  let reveals = null; // the audit list, once the contact routes answer
  let shown = { winners: [], alternates: [] }; // what the tables show
  const replace = replacer(ctx, base, say, (r) => {
    // the answer updates the tables at once; the read model follows
    const winners = shown.winners.map((w) => w.entryNumber === r.replaced.entryNumber && w.state !== "REPLACED"
      ? { ...w, state: "REPLACED", reason: r.replaced.reason } : w);
    const at = winners.findIndex((w) => w.entryNumber === r.replaced.entryNumber);
    winners.splice(at + 1, 0, { entryNumber: r.winner.entryNumber, name: r.winner.name, phone: r.winner.phone,
      rank: r.rank, state: "WINNER", alternateRank: r.winner.alternateRank, claim: { state: "OPEN", deadline: r.winner.claimDeadline } });
    const alternates = shown.alternates.map((a) => a.entryNumber === r.winner.entryNumber ? { ...a, promotedRank: r.rank } : a);
    showWinners(winners, alternates);
  });
  function showWinners(winners, alternates = []) {
    shown = { winners, alternates };
    const rows = winners.map((w) => {
      const name = h("td", {}, w.erased ? "삭제됨" : w.name || ""), phone = h("td", {}, w.phone || "");
      if (w.state === "REPLACED") {
        return h("tr", { "data-entry": w.entryNumber, "data-state": "REPLACED", class: "replaced" }, h("td", {}, String(w.rank)),
          h("td", {}, h("s", {}, w.entryNumber)), name, phone,
          h("td", { class: "muted", colspan: 4 }, "교체됨 (" + (REPLACE_REASONS[w.reason] || w.reason) + ")"));
      }
      const reveal = h("button", { type: "button", class: "secondary small", "aria-label": `${w.entryNumber} 연락처 보기` }, "연락처 보기");
      reveal.addEventListener("click", () => busy(reveal, say, async () => {
        const res = await ctx.api(`${base}/winners/${encodeURIComponent(w.entryNumber)}/contact`, { method: "POST", signal: ctx.signal });
        if (res.status === 200) {
          name.textContent = res.data.name;
          phone.textContent = res.data.phone;
          reveal.replaceWith(h("span", { class: "muted" }, "열람 기록됨"));
          quietly(loadReveals());
        } else {
          say("err", (res.data && res.data.message) || "연락처를 불러오지 못했습니다.");
        }
      }));
      const note = h("td", { class: "notification" });
      paintNotification(note, w);
      const entry = w.alternateRank ? [w.entryNumber, h("span", { class: "muted" }, ` (예비 ${w.alternateRank}번)`)] : [w.entryNumber];
      return h("tr", { "data-entry": w.entryNumber, "data-state": "WINNER" }, h("td", {}, String(w.rank)), h("td", {}, entry), name, phone,
        h("td", {}, h("div", { class: "row" }, w.erased ? h("span", { class: "muted" }, "—") : reveal, replace.button(w))),
        claimCell(w), deliveryCell(w, ctx, base, say, () => quietly(loadReveals())), note);
    });
    reveals = h("div", { id: "contact-reveals" });
    winnersBox.dataset.count = String(winners.length);
    // the draw's answer has no claims: the list's replaces it
    winnersBox.dataset.claims = winners.length && winners[0].claim ? "1" : "";
    const holders = winners.filter((w) => w.state !== "REPLACED").length;
    winnersBox.replaceChildren(h("h3", {}, `당첨자 ${holders}명`),
      h("div", { class: "table-wrap" }, h("table", { id: "winner-table" },
        h("thead", {}, h("tr", {}, ["순위", "응모번호", "이름", "휴대폰 번호", "경품 발송용 연락처 · 교체", "수령 상태", "배송 정보", "당첨 알림"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows))),
      h("p", { class: "muted" }, "연락처 보기와 배송 정보 보기는 경품 발송을 위한 것이며 열람할 때마다 기록됩니다. 교체하면 남은 예비 당첨자가 순서대로 순위를 이어받습니다."),
      alternatesTable(alternates),
      replace.dialog,
      reveals);
    quietly(loadReveals());
  }

  // A winner's latest message: 대기 / 발송됨 / 실패 (with 다시 보내기), and in
  // the log mode the text that would have gone out, the phone masked.
  const noteStates = { PENDING: "대기", SENT: "발송됨", FAILED: "실패" };
  const noteTemplates = { WINNER: "당첨 안내", CLAIM_REMINDER: "수령 신청 알림" };
  function paintNotification(cell, w) {
    const n = w.notification;
    if (!n) { cell.replaceChildren(h("span", { class: "muted" }, "—")); return; }
    const parts = [h("span", { class: "note-state", "data-state": n.state }, `${noteTemplates[n.template] || n.template} ${noteStates[n.state] || n.state}`),
      h("span", { class: "muted" }, ` ${formatDate(n.at)}`)];
    if (n.state === "FAILED") {
      const again = h("button", { type: "button", class: "secondary small", "aria-label": `${w.entryNumber} 알림 다시 보내기` }, "다시 보내기");
      again.addEventListener("click", () => busy(again, say, async () => {
        const res = await ctx.api(`${base}/winners/${encodeURIComponent(w.entryNumber)}/notifications/resend`, { method: "POST", signal: ctx.signal });
        if (res.status === 202) {
          paintNotification(cell, { ...w, notification: res.data });
        } else {
          say("err", (res.data && res.data.message) || "알림을 다시 보내지 못했습니다.");
        }
      }));
      parts.push(" ", again);
    }
    if (n.preview) parts.push(h("div", { class: "muted small note-preview" }, `보낼 메시지(로그 모드): ${n.preview}`));
    cell.replaceChildren(...parts);
  }

  // The alternates in order: the first takes a winner's place first.
  function alternatesTable(alternates) {
    if (!alternates || !alternates.length) return h("div", { id: "alternates" });
    return h("div", { id: "alternates" }, h("h3", {}, `예비 당첨자 ${alternates.length}명`),
      h("div", { class: "table-wrap" }, h("table", { id: "alternate-table" },
        h("thead", {}, h("tr", {}, ["예비 순위", "응모번호", "이름", "휴대폰 번호", "상태"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, alternates.map((a) => h("tr", { "data-entry": a.entryNumber },
          h("td", {}, `예비 ${a.rank}번`), h("td", {}, a.entryNumber), h("td", {}, a.name || ""), h("td", {}, a.phone || ""),
          h("td", {}, a.promotedRank ? `${a.promotedRank}위 당첨 (교체)` : "대기")))))));
  }

  async function loadReveals() {
    if (!reveals) return;
    const res = await ctx.api(base + "/contact-reveals", { signal: ctx.signal });
    if (res.status !== 200) { reveals.replaceChildren(); return; }
    const items = (res.data && (res.data.reveals || res.data.contactReveals)) || [];
    reveals.replaceChildren(h("h3", {}, "연락처·배송 정보 열람 기록"), items.length
      ? h("ul", {}, items.map((r) => h("li", { "data-kind": r.kind || "CONTACT" },
        `${formatDate(r.revealedAt)} · ${revealKind(r.kind)} · 응모번호 ${r.entryNumber || ""} · ${r.revealedBy}`)))
      : h("p", { class: "muted" }, "아직 열람 기록이 없습니다."));
  }

  async function loadWinners() {
    const res = await ctx.api(base + "/winners", { signal: ctx.signal });
    if (res.status === 200 && res.data.winners.length) {
      formBox.replaceChildren();
      // Shown already (from the draw's answer or before): keep the table, and
      // any contact revealed in it.
      if (winnersBox.dataset.count !== String(res.data.winners.length) || !winnersBox.dataset.claims) showWinners(res.data.winners, res.data.alternates);
      else for (const w of res.data.winners) {
        const cell = winnersBox.querySelector(`tr[data-entry="${CSS.escape(w.entryNumber)}"] td.notification`);
        if (cell) paintNotification(cell, w);
      }
      return true;
    }
    return false;
  }

  async function loadLogs() {
    const res = await ctx.api(base + "/draw-logs", { signal: ctx.signal });
    if (res.status !== 200) { logList.replaceChildren(h("p", { class: "notice err" }, "추첨 로그를 불러오지 못했습니다.")); return false; }
    const logs = res.data.drawLogs || [];
    if (!logs.length) { logList.replaceChildren(h("p", { class: "muted" }, "아직 추첨하지 않았습니다.")); return false; }
    // A shown log keeps its card (and its 검증 result) when asked again,
    // until its state changes (a pending drand draw completed).
    const shownAs = logs[0].drawLogId + "/" + logs[0].state;
    if (logList.dataset.shownAs !== shownAs) {
      logList.replaceChildren(...logs.map(logCard));
      logList.dataset.shownAs = shownAs;
    }
    logList.dataset.drawLogId = logs[0].state === "COMMITTED" ? "" : logs[0].drawLogId;
    if (logs[0].state === "COMMITTED") watchPending();
    return true;
  }

  // watchPending asks every 2 s while the draw waits for its drand round:
  // the log's card as the read model has it (pending, then drawn), and the
  // winners once the relay's leader has completed the draw.
  let watching = false;
  function watchPending() {
    if (watching) return;
    watching = true;
    const tick = async () => {
      if (ctx.signal.aborted) return;
      await loadLogs(); // drawLogId is set once the latest log is drawn
      if (logList.dataset.drawLogId && await loadWinners()) {
        watching = false;
        say("ok", "추첨이 완료되었습니다");
        return;
      }
      setTimeout(() => quietly(tick()), 2000);
    };
    setTimeout(() => quietly(tick()), 1000);
  }

  function logCard(l) {
    const result = h("div", { class: "notice", role: "status", id: "verify-result" });
    const verify = h("button", { type: "button", class: "secondary", id: "verify-draw" }, "검증");
    const tell = (kind, text) => { result.className = "notice " + kind; result.textContent = text; };
    verify.addEventListener("click", () => busy(verify, tell, async () => {
      tell("", "");
      const res = await ctx.api(`/api/v1/draw-logs/${encodeURIComponent(l.drawLogId)}/verify`, { signal: ctx.signal });
      if (res.status !== 200) { tell("err", "검증하지 못했습니다."); return; }
      const v = res.data;
      result.className = "notice " + (v.verified ? "ok" : "err");
      result.textContent = v.verified
        ? `검증 결과: 일치합니다. 이벤트 저장소에서 다시 계산한 당첨자 ${v.recomputed.winners.length}명이 기록과 같습니다.`
        : `검증 결과: 일치하지 않습니다 (${(v.mismatches || []).join(", ")}).`;
    }));
    const pending = l.state === "COMMITTED";
    const rnd = l.randomness;
    const kv = [
      ["상태", pending ? `공개 난수 대기 중${rnd && rnd.round ? ` (라운드 ${rnd.round})` : ""}` : "추첨 완료"],
      ["추첨 시각", l.drawnAt ? formatDate(l.drawnAt) : "-"], ["당첨자 수", String(l.winnerCount)],
      ["예비 당첨자 수", String(l.alternateCount || 0)], ["후보 수", String(l.candidateCount)],
      ["매장 방문 가산", l.visitBonus ? `적용 (×${l.visitBonusWeight})` : "미적용"], ["알고리즘", l.algorithm],
      ...(rnd ? [["난수", rnd.source === "drand" ? `drand 라운드 ${rnd.round || ""}` : "서버 난수 (local)"]] : []),
      ["시드", l.seed || "-"],
      l.candidatesRoot ? ["후보 머클 루트", l.candidatesRoot] : ["후보 다이제스트", l.candidatesDigest || ""],
      ["컷오프 위치", String(l.cutoffPosition)], ["추첨 로그 ID", l.drawLogId],
    ];
    if (pending) verify.disabled = true;
    // the public certificate anyone can check, from the owner's log
    const cert = h("a", { href: `/p/${encodeURIComponent(l.eventId)}/draw`, id: "certificate-link", target: "_blank", rel: "noopener" }, "공개 추첨 인증서");
    return h("div", { class: "draw-log" }, h("dl", { class: "kv" }, kv.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])), h("p", { class: "row" }, verify, cert), result);
  }

  // load shows the draw once its read models have it; with expected
  // winners (the analytics stream saw them) it asks again while they lag.
  async function load(expected) {
    for (let i = 0; ; i++) {
      const shown = await loadWinners();
      const logs = await loadLogs();
      if ((shown && logs) || !expected || i >= 50 || ctx.signal.aborted) {
        if (!shown && !expected && campaign.state !== "drawn") drawForm();
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  // reload runs one load at a time, in order; a draw already shown in full
  // (its winners and its log) needs no request.
  let chain = Promise.resolve();
  function reload(expected = 0) {
    const complete = () => expected > 0 && Number(winnersBox.dataset.count || 0) >= expected && !!logList.dataset.drawLogId;
    chain = chain.catch(() => {}).then(() => (complete() ? undefined : load(expected)));
    return chain;
  }

  if (campaign.state === "drawn") {
    quietly(reload(1));
  } else {
    drawForm();
    quietly(loadLogs());
  }
  return { reload: (expected) => quietly(reload(expected)) };
}
