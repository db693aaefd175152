/** One parsed metric family of a Prometheus text exposition. */
export interface ParsedFamily {
  help: string;
  type: string;
  /** A histogram's samples carry which of its series they are: `_bucket`, `_sum` or `_count`. */
  samples: { labels: Record<string, string>; value: number; series?: string }[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;

function unescapeText(text: string): string {
  return text.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = LABEL.exec(rest);
    if (!match) throw new Error(`bad labels in: ${line}`);
    labels[match[1] as string] = unescapeText(match[2] as string);
    rest = rest.slice(match[0].length);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === "" || Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
  return value;
}

/**
 * Parses exposition text strictly, throwing on the first line out of place: it must end with one line feed,
 * hold no blank line, give each family's HELP then TYPE once before any of its samples, and quote labels
 * with the format's escapes. For tests of /metrics.
 * @example parsePrometheus(await (await fetch(url)).text()).get("belly_producer_cycles_total")
 */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n") || text.endsWith("\n\n"))
    throw new Error("text must end with exactly one line feed");
  const families = new Map<string, ParsedFamily & { typed: boolean }>();
  for (const line of text.slice(0, -1).split("\n")) {
    const help = HELP_LINE.exec(line);
    if (help) {
      const name = help[1] as string;
      if (families.has(name)) throw new Error(`second HELP for ${name}`);
      families.set(name, { help: unescapeText(help[2] as string), type: "", samples: [], typed: false });
      continue;
    }
    const type = TYPE_LINE.exec(line);
    if (type) {
      const family = families.get(type[1] as string);
      if (!family || family.typed) throw new Error(`TYPE without a HELP before it, or twice: ${line}`);
      family.type = type[2] as string;
      family.typed = true;
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`not a HELP, TYPE or sample line: ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    // A histogram's series are named after its family with _bucket, _sum or _count (a bucket carries `le`).
    const base = /_(bucket|sum|count)$/.test(name) ? name.replace(/_(bucket|sum|count)$/, "") : null;
    const histogram =
      base !== null && families.get(base)?.type === "histogram" ? families.get(base) : undefined;
    const family = histogram ?? families.get(name);
    if (!family?.typed) throw new Error(`sample before its HELP and TYPE: ${line}`);
    const labels = parseLabels(sample[2] ?? "", line);
    if (histogram && name.endsWith("_bucket") && labels.le === undefined)
      throw new Error(`histogram bucket without le: ${line}`);
    family.samples.push({
      labels,
      value: parseValue(sample[3] as string, line),
      ...(histogram ? { series: name.slice((base as string).length) } : {}),
    });
  }
  return new Map([...families].map(([name, { typed: _typed, ...family }]) => [name, family]));
}
