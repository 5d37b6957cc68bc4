// One campaign: 참여자 목록 and 공유 here; 당첨자 추첨, 추첨 로그 and 실시간 분석
// in their own modules. Every list is masked by the API; nothing here shows a
// raw name or phone (the winners' contact reveal is the one exception).
import { CHANNELS, h, channelLabel, formatDate, formatShort, STATE_LABELS, busy, report, Unauthorized } from "./common.js";
import { renderDraw } from "./owner-draw.js";
import { renderAnalytics } from "./owner-analytics.js";

const PAGE = 20;

export async function renderCampaign(root, ctx, eventId) {
  const base = "/api/v1/events/" + encodeURIComponent(eventId);
  const [pub, first] = await Promise.all([
    ctx.api(base + "/public", { signal: ctx.signal }),
    ctx.api(base + `/participants?page=1&size=${PAGE}`, { signal: ctx.signal }),
  ]);
  const back = h("p", {}, h("a", { href: "#/" }, "← 내 이벤트"));
  if (first.status === 403 || first.status === 404 || pub.status !== 200) {
    const msg = first.status === 403 ? "이 이벤트에 대한 권한이 없습니다" : "이벤트를 찾을 수 없습니다";
    root.replaceChildren(back, h("section", { class: "card", id: "denied" },
      h("h1", {}, msg), h("p", {}, first.status === 403 ? "다른 사장님의 이벤트입니다. 내 이벤트에서 이벤트를 선택해주세요." : "주소를 다시 확인해주세요.")));
    return;
  }
  const c = pub.data;
  document.title = c.title + " - 사장님 이벤트 관리";
  const sections = {
    participants: h("section", { class: "card", id: "participants", "aria-labelledby": "participants-title" }),
    share: h("section", { class: "card", id: "share", "aria-labelledby": "share-title" }),
    draw: h("section", { class: "card", id: "draw", "aria-labelledby": "draw-title" }),
    logs: h("section", { class: "card", id: "draw-logs", "aria-labelledby": "logs-title" }),
    analytics: h("section", { class: "card", id: "analytics", "aria-labelledby": "analytics-title" }),
  };
  const tabs = [["participants", "참여자 목록"], ["share", "공유"], ["draw", "당첨자 추첨"], ["logs", "추첨 로그"], ["analytics", "실시간 분석"]];
  root.replaceChildren(back,
    h("h1", { id: "campaign-title" }, c.title, " ", h("span", { class: "badge " + c.state, id: "campaign-state" }, STATE_LABELS[c.state] || c.state)),
    h("p", { class: "muted" }, `${formatDate(c.startsAt)} ~ ${formatDate(c.endsAt)} · 당첨 발표 ${formatDate(c.announceAt)}`),
    h("nav", { class: "tabs", "aria-label": "이벤트 메뉴" }, tabs.map(([id, label]) =>
      h("a", { href: "#/events/" + encodeURIComponent(eventId), onclick: (ev) => { ev.preventDefault(); sections[id].scrollIntoView(); sections[id].querySelector("h2").focus(); } }, label))),
    ...Object.values(sections));

  let expected = 0; // participants the analytics read model counts
  const list = participants(sections.participants, ctx, base, eventId, first.data, () => expected);
  share(sections.share, ctx, base, eventId);
  const draw = renderDraw(sections.draw, sections.logs, ctx, base, c);
  renderAnalytics(sections.analytics, ctx, base, (a, prev) => {
    // The analytics stream is the live signal: a new participant, visit or
    // draw reloads what shows it.
    expected = a.totalParticipants;
    if (!prev || a.totalParticipants !== prev.totalParticipants || a.storeVisits !== prev.storeVisits) list.reload();
    if (a.winners > 0 && (!prev || a.winners !== prev.winners)) { list.reload(); draw.reload(a.winners); }
  });
}

function participants(sec, ctx, base, eventId, firstPage, expected) {
  let page = 1;
  const channel = h("select", { id: "filter-channel" }, h("option", { value: "" }, "전체"),
    CHANNELS.map(([code, label]) => h("option", { value: code }, label)));
  const winner = h("select", { id: "filter-winner" }, h("option", { value: "" }, "전체"),
    h("option", { value: "true" }, "당첨자"), h("option", { value: "false" }, "미당첨자"));
  const total = h("b", { id: "total-count" }, "0");
  const body = h("tbody", { id: "participant-rows" });
  const pageInfo = h("span", { id: "page-info" });
  const prev = h("button", { type: "button", class: "secondary small", id: "page-prev" }, "이전");
  const next = h("button", { type: "button", class: "secondary small", id: "page-next" }, "다음");
  const status = h("div", { class: "notice", role: "status" });
  const csv = h("button", { type: "button", class: "secondary small", id: "csv-download" }, "CSV 다운로드");
  sec.append(
    h("h2", { id: "participants-title", tabindex: -1 }, "참여자 목록"),
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: "filter-channel" }, "참여 경로"), channel),
      h("div", { class: "field" }, h("label", { for: "filter-winner" }, "당첨 여부"), winner)),
    h("div", { class: "row" }, h("p", {}, "총 ", total, "명"), csv),
    status,
    h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { class: "visually-hidden" }, "참여자 목록 (개인정보는 가려서 표시합니다)"),
      h("thead", {}, h("tr", {}, ["응모번호", "이름", "휴대폰 번호", "참여 경로", "참여 시각", "매장 방문", "당첨"].map((t) => h("th", { scope: "col" }, t)))),
      body)),
    h("div", { class: "pager" }, prev, pageInfo, next));

  function query() {
    const q = new URLSearchParams({ page: String(page), size: String(PAGE) });
    if (channel.value) q.set("entryPath", channel.value);
    if (winner.value) q.set("winner", winner.value);
    return q;
  }

  // The stream asks for the list at every change, often for the rows shown
  // already: those are kept, not rebuilt, so a click on one of their
  // buttons on its way (mousedown, mouseup) still lands on it.
  let shownAs = "";
  function draw(data) {
    const as = JSON.stringify([page, data]);
    if (as === shownAs) return;
    shownAs = as;
    total.textContent = String(data.totalCount);
    const pages = Math.max(1, Math.ceil(data.totalCount / PAGE));
    pageInfo.textContent = `${page} / ${pages} 페이지`;
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
    body.replaceChildren(...data.participants.map(row));
    if (!data.participants.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "참여자가 없습니다.")));
  }

  function row(p) {
    const visit = p.storeVisited
      ? h("span", {}, "방문 완료")
      : h("button", { type: "button", class: "small", "data-entry": p.entryNumber, "aria-label": `${p.entryNumber} 방문 확인`, onclick: (ev) => recordVisit(ev.currentTarget, p) }, "방문 확인");
    return h("tr", { "data-entry": p.entryNumber },
      h("td", {}, p.entryNumber), h("td", {}, p.erased ? "(삭제됨)" : p.name), h("td", {}, p.erased ? "" : p.phone),
      h("td", {}, channelLabel(p.entryPath)), h("td", {}, formatShort(p.participatedAt)),
      h("td", {}, visit), h("td", {}, p.winner ? "당첨" : ""));
  }

  function recordVisit(button, p) {
    return busy(button, say, async () => {
      say("", "");
      const res = await ctx.api(`${base}/participants/${encodeURIComponent(p.entryNumber)}/visit`, { method: "POST", signal: ctx.signal });
      if (res.status === 200) button.replaceWith(h("span", {}, "방문 완료"));
      else say("err", (res.data && res.data.message) || "방문을 기록하지 못했습니다.");
    });
  }

  function say(kind, text) { status.className = "notice " + kind; status.textContent = text; }
  // The list's loads share the notice with the row actions (방문 확인, CSV),
  // and a load runs whenever the stream says something changed: a load
  // clears only what a load said, never an action's message it answers after.
  let loadSaid = "";
  function sayLoad(kind, text) { say(kind, text); loadSaid = status.textContent; }
  function loaded() {
    if (loadSaid && status.textContent === loadSaid) say("", "");
    loadSaid = "";
  }

  let loading = null, again = false;
  async function reload() {
    if (loading) { again = true; return loading; } // one in flight; the latest change wins
    loading = (async () => {
      do {
        again = false;
        const res = await ctx.api(`${base}/participants?${query()}`, { signal: ctx.signal });
        if (res.status === 200) { loaded(); draw(res.data); } else sayLoad("err", "참여자 목록을 불러오지 못했습니다.");
        // Each read model follows the store on its own: when the list is
        // behind the count the stream announced, it is asked again shortly.
        if (res.status === 200 && !channel.value && !winner.value && res.data.totalCount < expected()) {
          await new Promise((r) => setTimeout(r, 300));
          again = true;
        }
      } while (again && !ctx.signal.aborted);
    })().catch((e) => report(e, sayLoad))
      .finally(() => { loading = null; });
    return loading;
  }

  prev.addEventListener("click", () => { page--; reload(); });
  next.addEventListener("click", () => { page++; reload(); });
  channel.addEventListener("change", () => { page = 1; reload(); });
  winner.addEventListener("change", () => { page = 1; reload(); });
  // The CSV needs the token, so it is fetched and handed over as a blob.
  csv.addEventListener("click", () => busy(csv, say, async () => {
    say("", "");
    const res = await ctx.fetch(`${base}/participants.csv`, { signal: ctx.signal });
    if (!res.ok) { say("err", "CSV를 내려받지 못했습니다."); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: `participants-${eventId}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60e3);
  }));
  draw(firstPage);
  return { reload };
}

function share(sec, ctx, base, eventId) {
  sec.append(h("h2", { id: "share-title", tabindex: -1 }, "공유"),
    h("p", { class: "muted" }, "채널마다 다른 링크를 쓰면 참여 경로가 미리 선택됩니다."));
  // The links come from the server (PUBLIC_BASE_URL), never from the
  // address this dashboard happens to be open at: they are what the QR
  // code encodes and what customers will open. Their rows and the QR
  // code's box are laid out before the answers come, so a slow answer
  // does not push 당첨자 추첨 down under the owner's click.
  const links = h("div", { id: "share-links", "aria-busy": "true" });
  const inputs = new Map();
  for (const [code, label] of CHANNELS) {
    const id = "share-" + code;
    const input = h("input", { type: "text", id, readonly: true, placeholder: "불러오는 중…" });
    const copy = h("button", { type: "button", class: "secondary small", "aria-label": `${label} 링크 복사`, disabled: true }, "복사");
    copy.addEventListener("click", async () => {
      input.select();
      try { await navigator.clipboard.writeText(input.value); copy.textContent = "복사됨"; } catch { copy.textContent = "선택됨"; }
    });
    inputs.set(code, { input, copy });
    links.append(h("div", { class: "share-item" }, h("label", { for: id }, label), h("div", { class: "row" }, input, copy)));
  }
  const linksNotice = h("div", { class: "notice err", role: "status" });
  sec.append(links, linksNotice);
  ctx.api(`${base}/share-links`, { signal: ctx.signal })
    .then((res) => {
      if (res.status !== 200 || !res.data) throw new Error("share links " + res.status);
      const byPath = new Map(res.data.links.map((l) => [l.entryPath, l.url]));
      for (const [code, { input, copy }] of inputs) {
        if (!byPath.has(code)) continue;
        input.value = byPath.get(code);
        copy.disabled = false;
      }
    })
    .catch((e) => { if (e.name !== "AbortError" && !(e instanceof Unauthorized)) linksNotice.textContent = "공유 링크를 불러오지 못했습니다."; })
    .finally(() => {
      links.removeAttribute("aria-busy");
      for (const { input } of inputs.values()) input.removeAttribute("placeholder");
    });
  const slot = h("div", { class: "qr-slot" });
  const save = h("a", { class: "button secondary", "aria-disabled": "true" }, "QR 코드 저장");
  const qr = h("div", { class: "qr", id: "store-qr" }, h("h3", {}, "매장 QR 코드"), h("p", { class: "muted" }, "매장에 붙여두면 참여 경로가 매장 QR로 기록됩니다."), slot, save);
  sec.append(qr);
  ctx.fetch(`${base}/qr.png`, { signal: ctx.signal })
    .then(async (res) => {
      if (!res.ok) throw new Error("qr " + res.status);
      const url = URL.createObjectURL(await res.blob());
      slot.replaceWith(h("img", { src: url, alt: "매장 QR 코드: 매장 QR 참여 링크", width: 192, height: 192 }));
      save.href = url;
      save.download = `store-qr-${eventId}.png`;
      save.removeAttribute("aria-disabled");
    })
    .catch((e) => { if (e.name !== "AbortError" && !(e instanceof Unauthorized)) slot.replaceChildren(h("p", { class: "notice err" }, "QR 코드를 불러오지 못했습니다.")); });
}
