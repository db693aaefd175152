// The price chart as server-rendered SVG (no library, no script needed to see it). The line lives in a nested
// SVG stretched to the chart's size; labels are placed in percent so they stay crisp at any width, the price
// labels left of the plot (chart.css reserves the margin) so the line never runs over them. Every part the
// browser script updates carries a data-role.

import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ChartData, GapView } from "./chart-data.ts";
import {
  CHART_BOX,
  type ChartPoint,
  chartLabel,
  chartModel,
  encodeGaps,
  encodeSeries,
} from "./chart-model.ts";
import { formatAge, formatChange } from "./format.ts";

/** Props of {@link Chart}. */
export interface ChartProps {
  /** The points to draw; ignored when `chart` is given (its own points are drawn). */
  points: ChartPoint[];
  currency: string;
  /** "Price of Beldex in USD over the last 24 hours", for the accessible label. */
  title: string;
  /** What one point stands for: "tick", "hourly close"…; ignored when `chart` is given. */
  resolution: string;
  /** The chart's data: range spanned, gaps, "data since". Without it the axis spans the points only. */
  chart?: ChartData | null;
}

/**
 * The list of gaps under the chart: from, to and length of each, or a line saying there are none.
 * @example <GapList gaps={chart.gaps} gapMs={chart.gapMs} range="24h" />
 */
export function GapList({ gaps, gapMs, range }: { gaps: GapView[]; gapMs: number; range: string }) {
  const threshold = formatAge(gapMs);
  if (gaps.length === 0)
    return (
      <p class="gaps-none" data-role="gaps">
        {`No gaps longer than ${threshold} in the last ${range}.`}
      </p>
    );
  return (
    <div class="gaps" data-role="gaps">
      <h3 class="gaps-title">
        {`${gaps.length === 1 ? "1 gap" : `${gaps.length} gaps`} longer than ${threshold} in the last ${range}`}
      </h3>
      <ul class="gaps-list">
        {gaps.map((gap) => (
          <li data-from={gap.from} data-to={gap.to}>
            <time datetime={gap.fromIso}>{gap.fromLabel}</time> to{" "}
            <time datetime={gap.toIso}>{gap.toLabel}</time> UTC <span class="muted">({gap.length})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

// The markup of each kept chart, per title and currency: the chart's data is reused until the pair's next tick,
// so its SVG (most of the page's bytes and of its rendering time) is too.
const rendered = new WeakMap<ChartData, Map<string, HtmlEscapedString>>();

/** The chart figure: range statistics, the SVG plot with its axes, gap bands and "data since", the gap list. */
export function Chart(props: ChartProps) {
  const chart = props.chart ?? null;
  if (!chart) return <ChartFigure {...props} chart={null} />;
  let byTitle = rendered.get(chart);
  if (!byTitle) {
    byTitle = new Map();
    rendered.set(chart, byTitle);
  }
  const key = `${props.currency}\n${props.title}`;
  let html = byTitle.get(key);
  if (!html) {
    // Synchronous components only, so the element renders to a string at once.
    html = raw((<ChartFigure {...props} chart={chart} />).toString());
    byTitle.set(key, html);
  }
  return html;
}

function ChartFigure(props: ChartProps & { chart: ChartData | null }) {
  const { chart } = props;
  const points = chart?.points ?? props.points;
  const { currency, title } = props;
  const model = chartModel(points, currency, {
    from: chart?.from,
    to: chart?.to,
    gaps: chart?.gaps,
    gapMs: chart?.gapMs,
  });
  const change = formatChange(model.changePct);
  const range = chart?.range;
  return (
    <figure class="chart" data-role="chart">
      <dl class="chart-stats">
        <div>
          <dt>High</dt>
          <dd data-role="high">{model.high}</dd>
        </div>
        <div>
          <dt>Low</dt>
          <dd data-role="low">{model.low}</dd>
        </div>
        <div>
          {/* The chart's own change, first to last point of the range: not CoinGecko's 24h figure of the card. */}
          <dt data-role="change-title">{range ? `${range} change (chart)` : "Change (chart)"}</dt>
          <dd class={`change ${change.direction}`} data-role="change" data-direction={change.direction}>
            {change.text}
          </dd>
        </div>
        <div>
          <dt>Points</dt>
          <dd data-role="count">{model.count}</dd>
        </div>
      </dl>
      <div class="plot">
        <svg
          xmlns="http://www.w3.org/2000/svg"
          class="plot-svg"
          role="img"
          aria-label={chartLabel(title, model)}
          data-title={title}
          data-points={model.count}
          data-series={encodeSeries(points)}
          data-gaps={encodeGaps(chart?.gaps ?? [])}
          data-from={chart?.from ?? ""}
          data-to={chart?.to ?? ""}
          data-gap-ms={chart?.gapMs ?? ""}
          data-range={range ?? ""}
          data-currency={currency}
          data-resolution={chart?.resolution ?? props.resolution}
        >
          <defs>
            <linearGradient id="area-fill" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0" class="fill-top" />
              <stop offset="1" class="fill-bottom" />
            </linearGradient>
          </defs>
          {model.yTicks.map((tick) => (
            <g data-role="ytick">
              <line class="grid" x1="0" x2="100%" y1={`${tick.at}%`} y2={`${tick.at}%`} />
              <text class="ylabel" x="-8" y={`${tick.at}%`} dy="0.32em" text-anchor="end">
                {tick.label}
              </text>
            </g>
          ))}
          <svg
            viewBox={`0 0 ${CHART_BOX.width} ${CHART_BOX.height}`}
            preserveAspectRatio="none"
            width="100%"
            height="100%"
            aria-hidden="true"
          >
            {model.since ? (
              <rect
                class="before-data"
                data-role="before-data"
                x={CHART_BOX.left}
                y={CHART_BOX.top}
                width={(model.since.x / 100) * CHART_BOX.width - CHART_BOX.left}
                height={CHART_BOX.height - CHART_BOX.top - CHART_BOX.bottom}
              />
            ) : null}
            {model.gaps.map((gap) => (
              <rect
                class="gap"
                data-role="gap"
                x={(gap.x / 100) * CHART_BOX.width}
                y={CHART_BOX.top}
                width={Math.max(1, (gap.width / 100) * CHART_BOX.width)}
                height={CHART_BOX.height - CHART_BOX.top - CHART_BOX.bottom}
                vector-effect="non-scaling-stroke"
              >
                <title>{gap.title}</title>
              </rect>
            ))}
            <path class="area" data-role="area" d={model.area} />
            <path class="line" data-role="line" d={model.line} vector-effect="non-scaling-stroke" />
          </svg>
          {model.since ? (
            <text
              class="since-label"
              data-role="since"
              x={`${model.since.x}%`}
              y="12%"
              dx={model.since.x >= 20 ? "-6" : "6"}
              text-anchor={model.since.x >= 20 ? "end" : "start"}
            >
              {model.since.label}
            </text>
          ) : null}
          {model.xTicks.map((tick) => (
            <text class="xlabel" data-role="xtick" x={`${tick.at}%`} y="100%" dy="-8" text-anchor="middle">
              {tick.label}
            </text>
          ))}
          <line class="cursor" data-role="cursor" x1="0" x2="0" y1="0" y2="100%" visibility="hidden" />
          <circle
            class="dot"
            data-role="dot"
            cx={`${model.last?.x ?? 0}%`}
            cy={`${model.last?.y ?? 0}%`}
            r="4.5"
            visibility={model.last ? "visible" : "hidden"}
          />
        </svg>
        <p class="chart-empty" data-role="empty" hidden={model.count > 0}>
          No history in this range yet.
        </p>
        <div class="tooltip" data-role="tooltip" hidden aria-hidden="true" />
      </div>
      {chart ? <GapList gaps={chart.gaps} gapMs={chart.gapMs} range={chart.range} /> : null}
    </figure>
  );
}
