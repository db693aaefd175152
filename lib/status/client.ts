// Browser script of the status page, bundled by assets.ts into /assets/live.js. It listens to /api/stream and
// copies the server-formatted values into the page (textContent only: no markup ever comes from the stream),
// redraws the chart with the same code as the server, and keeps the "last tick" age ticking.
import {
  appendPoint,
  CHART_BOX,
  type ChartGap,
  type ChartModel,
  type ChartPoint,
  chartLabel,
  chartModel,
  decodeGaps,
  decodeSeries,
  encodeGaps,
  encodeSeries,
  position,
} from "./chart-model.ts";
import {
  type ChangeView,
  formatAge,
  formatChange,
  formatDateTime,
  formatPrice,
  formatTime,
  percentChange,
  STATE_LABELS,
  sourceLabel,
} from "./format.ts";
import type { CardView, HealthView, TickEvent } from "./view.ts";

const SVG_NS = "http://www.w3.org/2000/svg";

type LiveState = "connecting" | "live" | "reconnecting" | "off";
const LIVE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  off: "Offline",
};
const ARROWS: Record<ChangeView["direction"], string> = { up: "▲", down: "▼", flat: "•" };

function setText(root: ParentNode, selector: string, text: string): void {
  const element = root.querySelector(selector);
  if (element) element.textContent = text;
}

function setChange(root: ParentNode, change: ChangeView, suffix: string): void {
  const badge = root.querySelector<HTMLElement>('[data-field="change"]');
  if (!badge) return;
  badge.className = `change ${change.direction}`;
  badge.dataset.direction = change.direction;
  setText(badge, '[data-field="arrow"]', ARROWS[change.direction]);
  setText(badge, '[data-field="change-text"]', change.text);
  setText(badge, '[data-field="change-label"]', `${change.label}${suffix}`);
}

// Builds the same change badge as the server's ChangeBadge, element by element, inside `parent`.
function appendChangeBadge(doc: Document, parent: HTMLElement, change: ChangeView, suffix: string): void {
  const badge = doc.createElement("span");
  badge.dataset.field = "change";
  for (const [field, className, hidden] of [
    ["arrow", "arrow", true],
    ["change-text", "", true],
    ["change-label", "visually-hidden", false],
  ] as const) {
    const span = doc.createElement("span");
    span.dataset.field = field;
    if (className) span.className = className;
    if (hidden) span.setAttribute("aria-hidden", "true");
    badge.append(span);
  }
  parent.append(badge);
  setChange(parent, change, suffix);
}

function flash(element: HTMLElement, up: boolean): void {
  element.classList.remove("flash-up", "flash-down");
  // Reading layout restarts the CSS animation when two ticks come close together.
  void element.offsetWidth;
  element.classList.add(up ? "flash-up" : "flash-down");
}

/** Undoes what {@link start} set up (stream, timers, listeners), before the page's body is swapped. */
type Stop = () => void;

function start(doc: Document): Stop {
  const cleanups: (() => void)[] = [];
  const body = doc.body;
  const selectedPair = body.dataset.pair ?? "";
  const svg = doc.querySelector<SVGSVGElement>("svg.plot-svg");
  const plot = svg?.parentElement ?? null;
  const currency = svg?.dataset.currency ?? "";
  let series: ChartPoint[] = decodeSeries(svg?.dataset.series);
  let gaps: ChartGap[] = decodeGaps(svg?.dataset.gaps);
  // The range the server drew: its start stays, its end follows the newest point.
  const from = Number(svg?.dataset.from) || undefined;
  const renderedTo = Number(svg?.dataset.to) || undefined;
  const gapMs = Number(svg?.dataset.gapMs) || undefined;
  const options = () => ({
    from,
    to: Math.max(renderedTo ?? 0, series[series.length - 1]?.t ?? 0) || undefined,
    gaps,
    gapMs,
  });
  let model: ChartModel = chartModel(series, currency, options());

  // --- Chart -------------------------------------------------------------------------------------------------
  /** SVG elements made like chart.tsx makes them; tick counts change with the range, so they are rebuilt. */
  const svgElement = (name: string, attributes: Record<string, string | number>, text?: string) => {
    const element = doc.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const drawChart = () => {
    if (!svg) return;
    model = chartModel(series, currency, options());
    svg.dataset.series = encodeSeries(series);
    svg.dataset.gaps = encodeGaps(gaps);
    svg.dataset.points = String(model.count);
    svg.setAttribute("aria-label", chartLabel(svg.dataset.title ?? "", model));
    svg.querySelector('[data-role="line"]')?.setAttribute("d", model.line);
    svg.querySelector('[data-role="area"]')?.setAttribute("d", model.area);
    const dot = svg.querySelector('[data-role="dot"]');
    if (dot && model.last) {
      dot.setAttribute("cx", `${model.last.x}%`);
      dot.setAttribute("cy", `${model.last.y}%`);
      dot.setAttribute("visibility", "visible");
    }
    const inner = svg.querySelector(":scope > svg");
    for (const old of svg.querySelectorAll('[data-role="ytick"], [data-role="xtick"], [data-role="gap"]'))
      old.remove();
    for (const tick of model.yTicks) {
      const group = svgElement("g", { "data-role": "ytick" });
      group.append(
        svgElement("line", { class: "grid", x1: 0, x2: "100%", y1: `${tick.at}%`, y2: `${tick.at}%` }),
        svgElement(
          "text",
          { class: "ylabel", x: -8, y: `${tick.at}%`, dy: "0.32em", "text-anchor": "end" },
          tick.label,
        ),
      );
      svg.insertBefore(group, inner);
    }
    const cursorLine = svg.querySelector('[data-role="cursor"]');
    for (const tick of model.xTicks)
      svg.insertBefore(
        svgElement(
          "text",
          {
            class: "xlabel",
            "data-role": "xtick",
            x: `${tick.at}%`,
            y: "100%",
            dy: -8,
            "text-anchor": "middle",
          },
          tick.label,
        ),
        cursorLine,
      );
    const area = inner?.querySelector('[data-role="area"]') ?? null;
    for (const gap of model.gaps) {
      const band = svgElement("rect", {
        class: "gap",
        "data-role": "gap",
        x: (gap.x / 100) * CHART_BOX.width,
        y: CHART_BOX.top,
        width: Math.max(1, (gap.width / 100) * CHART_BOX.width),
        height: CHART_BOX.height - CHART_BOX.top - CHART_BOX.bottom,
        "vector-effect": "non-scaling-stroke",
      });
      band.append(svgElement("title", {}, gap.title));
      inner?.insertBefore(band, area);
    }
    setText(doc, '[data-role="high"]', model.high);
    setText(doc, '[data-role="low"]', model.low);
    setText(doc, '[data-role="count"]', String(model.count));
    const change = formatChange(model.changePct);
    const changeCell = doc.querySelector<HTMLElement>('[data-role="change"]');
    if (changeCell) {
      changeCell.className = `change ${change.direction}`;
      changeCell.dataset.direction = change.direction;
      changeCell.textContent = change.text;
    }
    const empty = doc.querySelector<HTMLElement>('[data-role="empty"]');
    if (empty) empty.hidden = model.count > 0;
  };

  const addPoint = (card: CardView) => {
    const last = series[series.length - 1];
    // The feed may repeat a tick (replays, unchanged prices): one point per source time.
    if (last && card.t <= last.t) return;
    // A tick after a silence longer than the gap threshold breaks the line, as the server would draw it.
    ({ points: series, gaps } = appendPoint(series, gaps, { t: card.t, p: card.p }, gapMs));
    drawChart();
  };

  // Pointer readout: the nearest point's price and time, without any markup from data.
  const tooltip = doc.querySelector<HTMLElement>('[data-role="tooltip"]');
  const cursor = svg?.querySelector('[data-role="cursor"]');
  if (svg && plot && tooltip && cursor) {
    const hide = () => {
      tooltip.hidden = true;
      cursor.setAttribute("visibility", "hidden");
    };
    svg.addEventListener("pointermove", (event) => {
      const scale = model.scale;
      if (!scale || series.length === 0) return hide();
      const rect = svg.getBoundingClientRect();
      const at = ((event.clientX - rect.left) / rect.width) * 100;
      let nearest = series[0] as ChartPoint;
      let best = Number.POSITIVE_INFINITY;
      for (const point of series) {
        const distance = Math.abs(position(point, scale, CHART_BOX).x - at);
        if (distance < best) {
          best = distance;
          nearest = point;
        }
      }
      const { x } = position(nearest, scale, CHART_BOX);
      cursor.setAttribute("x1", `${x}%`);
      cursor.setAttribute("x2", `${x}%`);
      cursor.setAttribute("visibility", "visible");
      const price = doc.createElement("strong");
      price.textContent = formatPrice(nearest.p, currency);
      // A backfilled point says so: it was read from CoinGecko's price history, not polled.
      const when = `${formatDateTime(nearest.t)} UTC${nearest.h ? " · backfill (CoinGecko price history)" : ""}`;
      tooltip.replaceChildren(price, when);
      // CSSOM writes are allowed by the CSP (only style="" markup is refused); clamped to stay inside the plot.
      tooltip.style.left = `${Math.min(Math.max(x, 12), 88)}%`;
      tooltip.hidden = false;
    });
    svg.addEventListener("pointerleave", hide);
  }

  // --- Cards, table, title -----------------------------------------------------------------------------------
  // The pair's card and, for the selected pair, its summary above the chart carry the same fields.
  const updateCard = (card: CardView) => {
    const pair = CSS.escape(card.pair);
    for (const element of doc.querySelectorAll<HTMLElement>(
      `a.card[data-pair="${pair}"], [data-role="summary"][data-pair="${pair}"]`,
    )) {
      const priceElement = element.querySelector<HTMLElement>('[data-field="price"]');
      const before = Number(element.dataset.p ?? priceElement?.dataset.p);
      element.dataset.p = String(card.p);
      setText(element, '[data-field="price"]', card.price);
      setText(element, '[data-field="marketCap"]', card.marketCap);
      setText(element, '[data-field="volume"]', card.volume);
      setText(element, '[data-field="source"]', card.source);
      const time = element.querySelector('[data-field="time"]');
      if (time) {
        time.textContent = card.time;
        time.setAttribute("datetime", card.iso);
      }
      setChange(element, card.change, " in 24 hours");
      if (priceElement && Number.isFinite(before) && before !== card.p) flash(priceElement, card.p > before);
    }
  };

  const rows = doc.querySelector<HTMLTableSectionElement>('[data-role="rows"]');
  const maxRows = Math.max(rows?.rows.length ?? 0, 12);
  const addRow = (card: CardView) => {
    if (!rows) return;
    const newest = rows.rows[0];
    if (newest && Number(newest.dataset.t) >= card.t) return;
    const row = doc.createElement("tr");
    row.dataset.t = String(card.t);
    row.dataset.p = String(card.p);
    row.className = "new";
    const cell = (className?: string) => {
      const td = doc.createElement("td");
      if (className) td.className = className;
      row.append(td);
      return td;
    };
    const time = doc.createElement("time");
    time.setAttribute("datetime", card.iso);
    time.textContent = formatTime(card.t);
    cell().append(time);
    cell("num").textContent = card.price;
    const previous = newest ? Number(newest.dataset.p) : Number.NaN;
    const change = formatChange(Number.isFinite(previous) ? percentChange(previous, card.p) : null);
    appendChangeBadge(doc, cell("num"), change, " from the previous point");
    const source = cell();
    source.dataset.field = "source";
    source.dataset.source = card.source;
    source.title = `source: ${card.source}`;
    source.textContent = sourceLabel(card.source);
    rows.prepend(row);
    while (rows.rows.length > maxRows) rows.rows[rows.rows.length - 1]?.remove();
  };

  // --- Health --------------------------------------------------------------------------------------------------
  const ageElement = doc.querySelector<HTMLElement>('[data-health="age"]');
  const badge = doc.querySelector<HTMLElement>('[data-health="state"]');
  const parsedAge = ageElement?.dataset.ageMs ? Number(ageElement.dataset.ageMs) : Number.NaN;
  let age = {
    ms: Number.isFinite(parsedAge) ? parsedAge : null,
    at: performance.now(),
    staleAfter: Number(ageElement?.dataset.staleAfterMs ?? Number.POSITIVE_INFINITY),
  };
  const drawAge = () => {
    if (!ageElement || age.ms === null) return;
    const ms = age.ms + (performance.now() - age.at);
    ageElement.textContent = `${formatAge(ms)} ago`;
    const state = ms > age.staleAfter ? "stale" : "fresh";
    if (badge && badge.dataset.state !== state) {
      badge.dataset.state = state;
      badge.className = `badge ${state}`;
      badge.textContent = STATE_LABELS[state];
    }
  };
  // Set by the stream section below, which owns the live pill.
  let setDown: (headline: string | null) => void = () => {};
  // The alert of down dependencies: built like the server's, text only, removed once all are up.
  const healthPanel = doc.querySelector('[data-health="age"]')?.closest("section") ?? null;
  const drawDownDetails = (lines: string[]) => {
    let alert = doc.querySelector<HTMLElement>('[data-health="down"]');
    if (lines.length === 0) {
      alert?.remove();
      return;
    }
    if (!alert) {
      if (!healthPanel) return;
      alert = doc.createElement("div");
      alert.className = "alert";
      alert.setAttribute("role", "alert");
      alert.dataset.health = "down";
      const ageLine = healthPanel.querySelector(".age-line");
      if (ageLine) ageLine.after(alert);
      else healthPanel.append(alert);
    }
    alert.replaceChildren(
      ...lines.map((line) => {
        const p = doc.createElement("p");
        p.textContent = line;
        return p;
      }),
    );
  };
  const updateHealth = (health: HealthView) => {
    setDown(health.down);
    drawDownDetails(health.downDetails);
    age = { ms: health.ageMs, at: performance.now(), staleAfter: health.staleAfterMs };
    for (const field of [
      "consumed",
      "written",
      "duplicates",
      "deadLettered",
      "sinkErrors",
      "lag",
      "lastBatch",
      "uptime",
    ] as const)
      setText(doc, `[data-health="${field}"]`, health[field]);
    if (badge && health.state === "waiting") {
      badge.dataset.state = "waiting";
      badge.className = "badge waiting";
      badge.textContent = STATE_LABELS.waiting;
    }
    drawAge();
  };
  const ageTimer = setInterval(drawAge, 1000);
  cleanups.push(() => clearInterval(ageTimer));
  const stop: Stop = () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };

  // --- Stream --------------------------------------------------------------------------------------------------
  // The pill tells the stream's state, except that while a dependency is down it names it and its fix instead
  // of "Live" (a reconnecting or closed stream is still told as such: the headline may be out of date then).
  const live = doc.querySelector<HTMLElement>('[data-role="live"]');
  let stream: LiveState = "connecting";
  let down: string | null = live?.dataset.down || null;
  const drawLive = () => {
    if (!live) return;
    const showDown = down !== null && (stream === "live" || stream === "connecting");
    live.dataset.state = showDown ? "down" : stream;
    setText(live, '[data-role="live-text"]', showDown ? (down as string) : LIVE_TEXT[stream]);
  };
  const setLive = (state: LiveState) => {
    stream = state;
    drawLive();
  };
  setDown = (headline) => {
    down = headline;
    if (live) live.dataset.down = headline ?? "";
    drawLive();
  };
  const url = body.dataset.stream;
  if (!url) return stop;
  const source = new EventSource(url);
  cleanups.push(() => source.close());
  source.addEventListener("open", () => setLive("live"));
  source.addEventListener("error", () =>
    setLive(source.readyState === EventSource.CLOSED ? "off" : "reconnecting"),
  );
  const onHealth = (event: MessageEvent<string>) => updateHealth(JSON.parse(event.data) as HealthView);
  source.addEventListener("hello", onHealth);
  source.addEventListener("health", onHealth);
  // A page rendered before the first tick has no card, chart or table to fill in: it reloads once data exists.
  const waiting = doc.querySelector("a.card") === null;
  // The source time each card shows, from its <time datetime>, so an older tick never replaces it.
  const shownAt = new Map<string, number>();
  for (const card of doc.querySelectorAll<HTMLElement>("a.card[data-pair]")) {
    const at = Date.parse(card.querySelector('[data-field="time"]')?.getAttribute("datetime") ?? "");
    if (card.dataset.pair && Number.isFinite(at)) shownAt.set(card.dataset.pair, at);
  }
  source.addEventListener("tick", (event: MessageEvent<string>) => {
    const { card, health } = JSON.parse(event.data) as TickEvent;
    if (waiting) {
      source.close();
      location.reload();
      return;
    }
    // A backfill streams older ticks too: the card keeps the newest price it shows.
    if (card.t >= (shownAt.get(card.pair) ?? Number.NEGATIVE_INFINITY)) {
      shownAt.set(card.pair, card.t);
      updateCard(card);
    }
    if (card.pair === selectedPair) {
      addPoint(card);
      addRow(card);
      doc.title = `${card.name} ${card.price} · belly-stream`;
    }
    updateHealth(health);
  });
  // Closing on the way out avoids a reconnect attempt (and its console noise) while the next page loads.
  const close = () => source.close();
  addEventListener("pagehide", close);
  cleanups.push(() => removeEventListener("pagehide", close));
  return stop;
}

// --- Navigation ------------------------------------------------------------------------------------------------
// The pair selector, the cards and the range links are plain links (the page works without this script). Here
// they switch in place: the next page is fetched, its body replaces this one, the URL is pushed to the history,
// and the back button comes back the same way. Anything unexpected falls back to an ordinary navigation.
function navigation(doc: Document, restart: () => void): void {
  let pending: AbortController | null = null;
  const go = async (href: string, push: boolean, focus: string | null) => {
    pending?.abort();
    const controller = new AbortController();
    pending = controller;
    try {
      const response = await fetch(href, { signal: controller.signal, headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      if (controller.signal.aborted) return;
      if (push) history.pushState(null, "", href);
      doc.title = next.title;
      doc.body.replaceWith(doc.adoptNode(next.body));
      restart();
      // Keyboard users stay on the control they used, now in the new page.
      if (focus) doc.querySelector<HTMLElement>(`a[data-nav][href="${CSS.escape(focus)}"]`)?.focus();
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn("in-page navigation failed, loading the page instead", error);
      location.assign(href);
    }
  };
  doc.addEventListener("click", (event) => {
    const link = (event.target as Element | null)?.closest?.("a[data-nav]");
    if (!(link instanceof HTMLAnchorElement)) return;
    // A new tab, a download or any modified click keeps the browser's own behaviour.
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    if (link.origin !== location.origin) return;
    event.preventDefault();
    if (link.href === location.href) return;
    void go(link.href, true, link.getAttribute("href"));
  });
  addEventListener("popstate", () => void go(location.href, false, null));
}

// Only in a browser: importing this file elsewhere (a type check, a test) must not touch a DOM.
if (typeof document !== "undefined") {
  let stop = start(document);
  navigation(document, () => {
    stop();
    stop = start(document);
  });
}
