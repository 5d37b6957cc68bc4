// 내 이벤트: the owner's campaigns (GET /api/v1/events) and the form that
// opens one (POST /api/v1/events).
import { h, formatDate, STATE_LABELS, fieldReasons, busy, report } from "./common.js";

const PAGE = 20;

// seoulLocal is a datetime-local value ("2026-12-01T15:00") for a Date, in
// Asia/Seoul (UTC+9 all year).
function seoulLocal(d) {
  return new Date(d.getTime() + 9 * 3600e3).toISOString().slice(0, 16);
}

export async function renderList(root, ctx, page = 1) {
  const list = h("ul", { class: "events", id: "events" });
  const pager = h("div", { class: "pager" });
  const notice = h("div", { class: "notice", role: "status" });
  root.replaceChildren(
    h("h1", {}, "내 이벤트"),
    h("section", { class: "card", "aria-labelledby": "events-title" },
      h("h2", { id: "events-title" }, "이벤트 목록"), notice, list, pager),
    openForm(ctx));

  const say = (kind, text) => { notice.className = "notice " + kind; notice.textContent = text; };
  let res;
  try {
    res = await ctx.api(`/api/v1/events?page=${page}&size=${PAGE}`, { signal: ctx.signal });
  } catch (e) {
    report(e, say);
    return;
  }
  if (res.status !== 200) {
    say("err", "이벤트 목록을 불러오지 못했습니다. 잠시 후 새로고침해주세요.");
    return;
  }
  const { events, totalCount } = res.data;
  if (!events.length) {
    list.append(h("li", { class: "muted" }, "아직 연 이벤트가 없습니다. 아래에서 새 이벤트를 열어보세요."));
  }
  for (const e of events) {
    list.append(h("li", {},
      h("a", { href: "#/events/" + encodeURIComponent(e.eventId) }, e.title), " ",
      h("span", { class: "badge " + e.state }, STATE_LABELS[e.state] || e.state),
      h("div", { class: "muted" }, `참여자 ${e.participantCount}명 · ${formatDate(e.startsAt)} ~ ${formatDate(e.endsAt)}`)));
  }
  const pages = Math.max(1, Math.ceil(totalCount / PAGE));
  if (pages > 1) {
    pager.append(
      h("button", { type: "button", class: "secondary small", disabled: page <= 1, onclick: () => renderList(root, ctx, page - 1) }, "이전"),
      h("span", {}, `${page} / ${pages}`),
      h("button", { type: "button", class: "secondary small", disabled: page >= pages, onclick: () => renderList(root, ctx, page + 1) }, "다음"));
  }
}

function openForm(ctx) {
  const now = new Date();
  const fields = [
    ["title", "이벤트 제목", h("input", { type: "text", id: "ev-title", maxlength: 100, required: true })],
    ["startsAt", "시작", h("input", { type: "datetime-local", id: "ev-startsAt", value: seoulLocal(now), required: true })],
    ["endsAt", "종료", h("input", { type: "datetime-local", id: "ev-endsAt", value: seoulLocal(new Date(now.getTime() + 7 * 86400e3)), required: true })],
    ["announceAt", "당첨 발표", h("input", { type: "datetime-local", id: "ev-announceAt", value: seoulLocal(new Date(now.getTime() + 8 * 86400e3)), required: true })],
  ];
  const errors = {};
  const notice = h("div", { class: "notice", role: "alert" });
  const say = (kind, text) => { notice.className = "notice " + kind; notice.textContent = text; };
  const submit = h("button", { type: "submit" }, "이벤트 열기");
  const form = h("form", { id: "open-form", novalidate: true }, notice,
    fields.map(([name, label, input]) => {
      errors[name] = h("p", { class: "field-error", id: `ev-${name}-error` });
      input.setAttribute("aria-describedby", `ev-${name}-error`);
      return h("div", { class: "field" }, h("label", { for: input.id }, label), input, errors[name]);
    }),
    h("p", { class: "muted" }, "시간은 한국 시간(KST) 기준입니다."),
    submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(submit, say, () => send());
  });
  async function send() {
    say("", "");
    for (const e of Object.values(errors)) e.textContent = "";
    const body = {};
    let bad = false;
    for (const [name, , input] of fields) {
      const v = input.value.trim();
      if (!v) { errors[name].textContent = "입력해주세요."; bad = true; continue; }
      body[name] = name === "title" ? v : v + ":00+09:00";
    }
    if (bad) return;
    const res = await ctx.api("/api/v1/events", { method: "POST", body, signal: ctx.signal });
    if (res.status === 201) {
      location.hash = "#/events/" + encodeURIComponent(res.data.eventId);
      return;
    }
    const r = fieldReasons(res.data);
    for (const [name] of fields) if (r[name]) errors[name].textContent = r[name];
    say("err", (res.data && res.data.message) || "이벤트를 열지 못했습니다.");
  }
  return h("section", { class: "card", "aria-labelledby": "open-title" }, h("h2", { id: "open-title" }, "새 이벤트 열기"), form);
}
