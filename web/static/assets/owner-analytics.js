// 실시간 분석: totals, a bar per channel and the hourly line, live over the
// analytics SSE stream. EventSource cannot send an Authorization header, so
// the stream is read with fetch() and a stream reader, the token in the
// header as on every other route, and parsed here (event/data lines, blank
// line ends an event; comment lines are keep-alives).
import { CHANNELS, h, channelLabel, formatShort, Unauthorized } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export function renderAnalytics(sec, ctx, base, onChange) {
  const live = h("span", { class: "live", id: "live-status", role: "status" }, "연결 중…");
  const totals = h("div", { class: "totals", id: "totals" });
  const bars = h("ul", { class: "bars", id: "channel-bars", "aria-label": "참여 경로별 참여자 수" });
  const line = h("div", { id: "hourly" });
  const updated = h("p", { class: "muted", id: "analytics-updated" });
  sec.append(h("h2", { id: "analytics-title", tabindex: -1 }, "실시간 분석 ", live), totals,
    h("h3", {}, "참여 경로별"), bars, h("h3", {}, "시간대별 참여 (한국 시간)"), line, updated);

  let prev = null;
  function paint(a) {
    totals.replaceChildren(
      h("div", {}, h("b", { id: "total-participants" }, String(a.totalParticipants)), "총 참여자"),
      h("div", {}, h("b", {}, String(a.storeVisits)), "매장 방문"),
      h("div", {}, h("b", {}, String(a.winners)), "당첨자"),
      h("div", {}, h("b", { id: "claimed-count" }, String(a.claimed || 0)), "수령 신청"));
    const max = Math.max(1, ...Object.values(a.byChannel || {}));
    bars.replaceChildren(...CHANNELS.map(([code]) => {
      const n = (a.byChannel || {})[code] || 0;
      // Set through the CSSOM: the CSP forbids style attributes.
      const bar = h("span", { class: "bar", "aria-hidden": "true" });
      bar.style.width = `${(n / max) * 100}%`;
      return h("li", { "data-channel": code }, h("span", {}, channelLabel(code)), h("span", { class: "track" }, bar), h("span", { class: "n" }, String(n)));
    }));
    line.replaceChildren(hourly(a.byHour || []));
    updated.textContent = a.updatedAt ? "마지막 업데이트 " + formatShort(a.updatedAt) : "";
    onChange(a, prev);
    prev = a;
  }
  stream(ctx, base + "/analytics/stream", paint, (on) => {
    live.textContent = on ? "실시간" : "다시 연결 중…";
    live.className = "live" + (on ? " on" : "");
  });
}

// hourly draws the counts per hour as a line; hours with no entries are
// absent from the API's answer and drawn as zero.
function hourly(byHour) {
  const W = 320, H = 120, P = 24;
  const pts = byHour.map((x) => ({ t: new Date(x.hour).getTime(), n: x.count })).sort((a, b) => a.t - b.t);
  const chart = svg("svg", { class: "line", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "시간대별 참여자 수" });
  chart.append(svg("title", {}, pts.map((p) => `${formatShort(new Date(p.t).toISOString())} ${p.n}명`).join(", ") || "참여 없음"));
  chart.append(svg("line", { x1: P, y1: H - P, x2: W - 8, y2: H - P }));
  if (!pts.length) { chart.append(svg("text", { x: W / 2 - 24, y: H / 2 }, "참여 없음")); return chart; }
  const hour = 3600e3;
  const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
  const series = [];
  for (let t = t0, i = 0; t <= t1; t += hour) {
    while (i < pts.length && pts[i].t < t) i++;
    series.push({ t, n: i < pts.length && pts[i].t === t ? pts[i].n : 0 });
  }
  const max = Math.max(1, ...series.map((p) => p.n));
  // One hour alone is a dot in the middle.
  const x = (t) => (t1 === t0 ? (P + W - 8) / 2 : P + ((t - t0) / (t1 - t0)) * (W - 8 - P));
  const y = (n) => H - P - (n / max) * (H - 2 * P);
  chart.append(svg("polyline", { points: series.map((p) => `${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`).join(" ") }));
  for (const p of series) if (p.n) chart.append(svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.n).toFixed(1), r: 3 }));
  const label = (t) => new Intl.DateTimeFormat("ko-KR", { timeZone: "Asia/Seoul", hour: "numeric" }).format(new Date(t));
  chart.append(svg("text", { x: x(t0), y: H - 6, "text-anchor": t1 === t0 ? "middle" : "start" }, label(t0)));
  if (t1 !== t0) chart.append(svg("text", { x: W - 8, y: H - 6, "text-anchor": "end" }, label(t1)));
  chart.append(
    svg("text", { x: 0, y: P }, String(max)), svg("text", { x: 0, y: H - P }, "0"));
  return chart;
}

// stream reads an SSE route with the owner's token until the view's signal
// ends it, reconnecting after a pause when the server closes or the network
// drops; a 401 signs out (ctx.fetch) and ends it.
async function stream(ctx, path, onData, onLive) {
  while (!ctx.signal.aborted) {
    try {
      const res = await ctx.fetch(path, { headers: { Accept: "text/event-stream" }, signal: ctx.signal });
      if (!res.ok || !res.body) throw new Error("stream " + res.status);
      onLive(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "", data = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const lineText = buf.slice(0, i).replace(/\r$/, "");
          buf = buf.slice(i + 1);
          if (lineText === "") {
            if (data.length) { try { onData(JSON.parse(data.join("\n"))); } catch { /* a torn event: the next one repaints */ } }
            data = [];
          } else if (lineText.startsWith("data:")) {
            data.push(lineText.slice(5).replace(/^ /, ""));
          }
        }
      }
    } catch (e) {
      if (e.name === "AbortError" || e instanceof Unauthorized) return;
    }
    onLive(false);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
