// The status page, server-rendered with hono/jsx (which escapes every text and attribute value). No inline
// script or style: the CSP refuses them; the page's script and stylesheet come from /assets.
import { Chart } from "./chart.tsx";
import { displayName, STATE_LABELS } from "./format.ts";
import type { PageData, RowView } from "./page-data.ts";
import { PAGE_RANGES, type PageRange } from "./params.ts";
import type { CardView, HealthView, PairGroup } from "./view.ts";

/** URLs of the page's own assets (versioned, so browsers may cache them for good). */
export interface PageAssets {
  style: string;
  /** Null when the script could not be built: the page then works as a plain snapshot. */
  script: string | null;
  icon: string;
}

const RANGE_WORDS: Record<PageRange, string> = { "24h": "24 hours", "7d": "7 days", "30d": "30 days" };

/** Link to the page for a pair and a range. */
function pageHref(pair: string, range: PageRange): string {
  return `/?${new URLSearchParams({ pair, range })}`;
}

function ChangeBadge({ change, suffix }: { change: CardView["change"]; suffix: string }) {
  const arrow = change.direction === "up" ? "▲" : change.direction === "down" ? "▼" : "•";
  return (
    <span class={`change ${change.direction}`} data-field="change" data-direction={change.direction}>
      <span class="arrow" aria-hidden="true" data-field="arrow">
        {arrow}
      </span>
      <span aria-hidden="true" data-field="change-text">
        {change.text}
      </span>
      <span class="visually-hidden" data-field="change-label">
        {`${change.label}${suffix}`}
      </span>
    </span>
  );
}

/** Who computed a card's 24h change: CoinGecko, or the demo's random walk. */
function changeSource(card: CardView): string {
  return card.source === "demo" ? "demo 24h change" : "CoinGecko 24h change";
}

function PriceCard({ card, selected, range }: { card: CardView; selected: boolean; range: PageRange }) {
  return (
    <li>
      <a
        class="card"
        href={pageHref(card.pair, range)}
        data-nav=""
        data-pair={card.pair}
        data-p={card.p}
        aria-current={selected ? "true" : undefined}
      >
        <span class="card-head">
          <span class="name">{card.name}</span>
          <span class="currency">{card.currency.toUpperCase()}</span>
        </span>
        <span class="price" data-field="price">
          {card.price}
        </span>
        <span class="card-change">
          <ChangeBadge change={card.change} suffix=" in 24 hours" />
          <span class="muted" data-field="change-source">
            {changeSource(card)}
          </span>
        </span>
        <span class="facts">
          <span class="fact">
            <span class="fact-label">Market cap</span>
            <span class="fact-value" data-field="marketCap">
              {card.marketCap}
            </span>
          </span>
          <span class="fact">
            <span class="fact-label">Volume 24h</span>
            <span class="fact-value" data-field="volume">
              {card.volume}
            </span>
          </span>
        </span>
        <span class="updated">
          Updated{" "}
          <time datetime={card.iso} data-field="time">
            {card.time}
          </time>{" "}
          UTC · <span data-field="source">{card.source}</span>
        </span>
      </a>
    </li>
  );
}

/**
 * The pair selector: one row per asset, its currencies as segmented links. Plain links, so it works without the
 * script; the script turns them into in-page switches (client.ts).
 */
function PairSelector({
  groups,
  selected,
  range,
}: {
  groups: PairGroup[];
  selected: string;
  range: PageRange;
}) {
  return (
    <nav class="pairs" aria-label="Pairs" data-role="pairs">
      <ul class="pair-groups">
        {groups.map((group) => (
          <li class="pair-group" data-asset={group.asset}>
            <span class="pair-asset">{group.name}</span>
            <ul class="segmented">
              {group.options.map((option) => (
                <li>
                  <a
                    href={pageHref(option.pair, range)}
                    data-nav=""
                    data-pair-option={option.pair}
                    data-priced={String(option.priced)}
                    aria-current={option.pair === selected ? "page" : undefined}
                  >
                    <span class="visually-hidden">{`${group.name} in `}</span>
                    {option.code}
                    {option.priced ? null : <span class="visually-hidden"> (no price yet)</span>}
                  </a>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The selected pair's price and CoinGecko's 24h change, above its chart (kept live like its card). */
function PairSummary({ card }: { card: CardView }) {
  return (
    <p class="summary" data-role="summary" data-pair={card.pair}>
      <span class="summary-price" data-field="price">
        {card.price}
      </span>
      <ChangeBadge change={card.change} suffix=" in 24 hours" />
      <span class="muted" data-field="change-source">
        {changeSource(card)}
      </span>
    </p>
  );
}

function RecentTable({ rows, caption }: { rows: RowView[]; caption: string }) {
  return (
    <table class="recent" data-role="recent">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Time (UTC)</th>
          <th scope="col" class="num">
            Price
          </th>
          <th scope="col" class="num">
            Change
          </th>
          <th scope="col">Source</th>
        </tr>
      </thead>
      <tbody data-role="rows">
        {rows.map((row) => (
          <tr data-t={row.t} data-p={row.p}>
            <td>
              <time datetime={row.iso}>{row.time}</time>
            </td>
            <td class="num">{row.price}</td>
            <td class="num">
              <ChangeBadge change={row.change} suffix=" from the previous point" />
            </td>
            <td data-field="source" data-source={row.rawSource} title={`source: ${row.rawSource}`}>
              {row.source}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HealthPanel({ health }: { health: HealthView }) {
  const stat = (label: string, field: keyof HealthView, value: string) => (
    <div class="stat">
      <dt>{label}</dt>
      <dd data-health={field}>{value}</dd>
    </div>
  );
  return (
    <section class="panel" aria-labelledby="health-title">
      <div class="panel-head">
        <h2 id="health-title">Pipeline health</h2>
        <span class={`badge ${health.state}`} data-health="state" data-state={health.state} role="status">
          {STATE_LABELS[health.state]}
        </span>
      </div>
      <p class="age-line">
        Last tick{" "}
        <strong data-health="age" data-age-ms={health.ageMs ?? ""} data-stale-after-ms={health.staleAfterMs}>
          {health.ageMs === null ? "not yet received" : `${health.age} ago`}
        </strong>
        <span class="muted"> · stale after {health.staleAfter}</span>
      </p>
      {health.downDetails.length > 0 ? (
        <div class="alert" role="alert" data-health="down">
          {health.downDetails.map((line) => (
            <p>{line}</p>
          ))}
        </div>
      ) : null}
      <dl class="stats">
        {stat("Ticks consumed", "consumed", health.consumed)}
        {stat("Written", "written", health.written)}
        {stat("Duplicates", "duplicates", health.duplicates)}
        {stat("Dead-lettered", "deadLettered", health.deadLettered)}
        {stat("Sink errors", "sinkErrors", health.sinkErrors)}
        {stat("Consumer lag", "lag", health.lag)}
        {stat("Last batch", "lastBatch", health.lastBatch)}
        {stat("Uptime", "uptime", health.uptime)}
      </dl>
    </section>
  );
}

const Logo = () => (
  <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
    <rect width="32" height="32" rx="8" class="logo-bg" />
    <polyline points="6,21 12,15 17,18 26,9" class="logo-line" />
  </svg>
);

/**
 * The whole page.
 * @example c.html(renderDocument(<Page data={data} assets={assets} />))
 */
export function Page({ data, assets }: { data: PageData; assets: PageAssets }) {
  const { selected, range } = data;
  const selectedCard = data.cards.find((card) => card.pair === selected?.pair);
  const name = selected ? displayName(selected.asset) : "";
  const currencyCode = selected?.currency.toUpperCase() ?? "";
  const down = data.health.down;
  const pairCount = data.pairs.reduce((count, group) => count + group.options.length, 0);
  const title = selectedCard
    ? `${selectedCard.name} ${selectedCard.price} · belly-stream`
    : "belly-stream status";
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="description" content="Live prices and pipeline health of belly-stream." />
        <title>{title}</title>
        <link rel="icon" href={assets.icon} type="image/svg+xml" />
        <link rel="stylesheet" href={assets.style} />
        {assets.script && data.live ? <script type="module" src={assets.script} /> : null}
      </head>
      <body data-pair={selected?.pair ?? ""} data-stream={data.live ? "/api/stream" : ""}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <div class="brand">
            <Logo />
            <h1 class="brand-name">belly-stream</h1>
            <span class="brand-sub">live prices</span>
          </div>
          {/* A down dependency is told instead of "Live": a green pill over a stalled pipeline would mislead. */}
          <span
            class="live"
            data-role="live"
            data-state={down ? "down" : data.live ? "connecting" : "off"}
            data-down={down ?? ""}
            role="status"
          >
            <span class="live-dot" aria-hidden="true" />
            <span data-role="live-text">{down ?? (data.live ? "Connecting…" : "Snapshot")}</span>
          </span>
        </header>
        <main id="main">
          {/* Inside the main landmark, so that assistive technology finds them with the content they qualify. */}
          {data.health.demo ? (
            <p class="banner" role="note">
              <strong>Demo data.</strong> These prices are generated for a demonstration, not read from
              CoinGecko.
            </p>
          ) : null}
          {data.problems.map((problem) => (
            <p class="alert" role="alert">
              {problem}
            </p>
          ))}
          {pairCount > 1 && selected ? (
            <PairSelector groups={data.pairs} selected={selected.pair} range={range} />
          ) : null}
          {/* The selected pair's chart comes before the cards, so that a phone shows it without scrolling past them. */}
          {selected ? (
            <section
              class="panel"
              aria-labelledby="chart-title"
              data-role="pair-panel"
              data-pair={selected.pair}
            >
              <div class="panel-head">
                <div class="panel-title">
                  <h2 id="chart-title">
                    {name} <span class="muted">in {currencyCode}</span>
                  </h2>
                  {selectedCard ? <PairSummary card={selectedCard} /> : null}
                </div>
                <nav class="ranges" aria-label="Chart range">
                  {(Object.keys(PAGE_RANGES) as PageRange[]).map((option) => (
                    <a
                      href={pageHref(selected.pair, option)}
                      data-nav=""
                      aria-current={option === range ? "page" : undefined}
                    >
                      {option}
                    </a>
                  ))}
                </nav>
              </div>
              <Chart
                chart={data.chart}
                points={data.chart?.points ?? []}
                currency={selected.currency}
                title={`Price of ${name} in ${currencyCode} over the last ${RANGE_WORDS[range]}`}
                resolution={data.chart?.resolution ?? "tick"}
              />
              <p class="note">
                {`Last ${RANGE_WORDS[range]}, one point per ${data.chart?.resolution ?? "tick"}; times in UTC.`}
              </p>
            </section>
          ) : null}
          <section aria-labelledby="prices-title">
            <h2 id="prices-title" class={data.cards.length > 1 ? "section-title" : "visually-hidden"}>
              Latest prices
            </h2>
            {data.cards.length > 0 ? (
              <ul class="cards">
                {data.cards.map((card) => (
                  <PriceCard card={card} selected={card.pair === selected?.pair} range={range} />
                ))}
              </ul>
            ) : (
              <p class="empty">
                Waiting for the first tick… prices appear here as soon as the consumer stores one.
              </p>
            )}
          </section>
          {selected ? (
            <div class="columns">
              <section class="panel" aria-labelledby="recent-title">
                <div class="panel-head">
                  <h2 id="recent-title">Recent points</h2>
                </div>
                <RecentTable rows={data.rows} caption={`Most recent prices of ${name} in ${currencyCode}`} />
              </section>
              <HealthPanel health={data.health} />
            </div>
          ) : (
            <HealthPanel health={data.health} />
          )}
        </main>
        <footer class="foot">
          <span>
            JSON: <a href="/api/pairs">/api/pairs</a> · <a href="/openapi.json">OpenAPI</a> ·{" "}
            <a href="/metrics">metrics</a> · <a href="/readyz">readiness</a>
          </span>
          <span class="muted">
            {data.health.demo ? "Demo prices, not CoinGecko's" : "Prices from CoinGecko"} · rendered{" "}
            {new Date(data.now).toISOString()}
          </span>
        </footer>
      </body>
    </html>
  );
}

/**
 * The page as an HTML document string (hono/jsx renders elements only, so the doctype is added here).
 * @example return c.html(await renderPage(data, assets));
 */
export async function renderPage(data: PageData, assets: PageAssets): Promise<string> {
  return `<!doctype html>${await (<Page data={data} assets={assets} />)}`;
}
