// The price chart as server-rendered SVG (no library, no script needed to see it). The line lives in a nested
// SVG stretched to the chart's size; labels are placed in percent so they stay crisp at any width. Every part
// the browser script updates carries a data-role.
import { CHART_BOX, type ChartPoint, chartLabel, chartModel, encodeSeries } from "./chart-model.ts";
import { formatChange } from "./format.ts";

/** Props of {@link Chart}. */
export interface ChartProps {
  points: ChartPoint[];
  currency: string;
  /** "Price of Beldex in USD over the last 24 hours", for the accessible label. */
  title: string;
  /** What one point stands for: "tick", "hourly close"… */
  resolution: string;
}

/** The chart figure: range statistics, the SVG plot, and time labels under it. */
export function Chart({ points, currency, title, resolution }: ChartProps) {
  const model = chartModel(points, currency);
  const change = formatChange(model.changePct);
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
          <dt>Change</dt>
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
          data-currency={currency}
          data-resolution={resolution}
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
              <text class="ylabel" x="6" y={`${tick.at}%`} dy="-5">
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
            <path class="area" data-role="area" d={model.area} />
            <polyline class="line" data-role="line" points={model.line} vector-effect="non-scaling-stroke" />
          </svg>
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
      <div class="xaxis" aria-hidden="true">
        {model.xTicks.map((tick) => (
          <span data-role="xtick">{tick.label}</span>
        ))}
      </div>
    </figure>
  );
}
