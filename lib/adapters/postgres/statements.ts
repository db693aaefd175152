/**
 * Splits a SQL file into statements the way the Supabase CLI (3.1.0) does before it runs a migration and records
 * it (`supabase_migrations.schema_migrations.statements`), so that `bun run migrate` stores the very array
 * `supabase db push` would. The rules are the CLI's, quirks included, because a different split would record a
 * different history (tests/fixtures/supabase-cli holds what the CLI itself recorded):
 * - `;` ends a statement, except inside '…' or "…" (a doubled quote stays inside; a backslash escapes only in an
 *   E'…' string), $tag$…$tag$, a `--` line comment, a nested block comment, after a backslash outside quotes,
 *   inside parentheses (closed by the first `)` met, however deep) and inside a BEGIN ATOMIC body (closed by the
 *   first END word outside quotes and comments);
 * - BEGIN ATOMIC and END count as words only: `atomic` alone, `legend` or `ending` open or close nothing;
 * - each piece loses its trailing semicolons, then surrounding whitespace; empty pieces are dropped, while a
 *   piece of comments only is kept (the CLI sends it too, and Postgres accepts an empty query).
 */

/** One state of the scanner; `next` returns the state after `char`, or null where a statement ends. */
interface State {
  next(char: string, text: string): State | null;
}

// Whitespace as the CLI's Go parser trims it (unicode.IsSpace: JavaScript's \s without U+FEFF, plus U+0085);
// CLI 3.1.0 was checked with ASCII whitespace only.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const TAG_CHAR = /[\p{L}\p{Nd}_]/u;
const WORD_CHAR = /[\p{L}\p{Nd}_$]/u;
const BEGIN_ATOMIC = /(?:^|[^\p{L}\p{Nd}_$])begin\s+atomic$/iu;

/** Outside any literal: where `;` ends the statement. */
const ready: State = {
  next(char, text) {
    switch (char) {
      case "$":
        return tagState(text.length - 1);
      case "'":
        return quoteState(char, isEscapePrefix(text));
      case '"':
        return quoteState(char, false);
      case "-":
        return dashState;
      case "/":
        return slashState();
      case "\\":
        return escapeState;
      case ";":
        return null;
      case "(":
        return groupState(")");
    }
    // The cheap test first: the pattern scans the whole statement so far.
    if (
      (char === "c" || char === "C") &&
      text.slice(-6).toLowerCase() === "atomic" &&
      BEGIN_ATOMIC.test(text)
    )
      return groupState("end");
    return ready;
  },
};

/** After one `-`: a second one opens a line comment, anything else is read as usual. */
const dashState: State = {
  next: (char, text) => (char === "-" ? untilState("\n") : ready.next(char, text)),
};

/** Inside a literal that only `close` ends (a dollar-quoted body, a line comment); nothing is escaped. */
function untilState(close: string): State {
  const state: State = { next: (_char, text) => (text.endsWith(close) ? ready : state) };
  return state;
}

/** After `/`: `/*` opens a block comment, which nests; anything else is read as usual. */
function slashState(): State {
  let depth = 0;
  const state: State = {
    next(char, text) {
      const pair = text.slice(-2);
      if (pair === "/*") {
        depth++;
        return state;
      }
      if (depth === 0) return ready.next(char, text);
      if (pair === "*/" && --depth === 0) return ready;
      return state;
    },
  };
  return state;
}

/** Whether the quote just read opens an E'…' string: an E or e right before it, itself not inside a word. */
function isEscapePrefix(text: string): boolean {
  const prefix = text.at(-2);
  const before = text.at(-3);
  return (prefix === "e" || prefix === "E") && (before === undefined || !WORD_CHAR.test(before));
}

/**
 * Inside '…' or "…": the quote closes it unless the next character is the quote again; in an E'…' string a
 * backslash also keeps the next character inside.
 */
function quoteState(quote: string, backslashEscapes: boolean): State {
  let closing = false;
  let escaped = false;
  const state: State = {
    next(char, text) {
      if (escaped) {
        escaped = false;
        return state;
      }
      if (closing) {
        if (char === quote) {
          closing = false;
          return state;
        }
        return ready.next(char, text);
      }
      if (char === quote) closing = true;
      else if (backslashEscapes && char === "\\") escaped = true;
      return state;
    },
  };
  return state;
}

/** After `$`: letters, digits and `_` make a tag, a second `$` opens the dollar quote it names. */
function tagState(start: number): State {
  const state: State = {
    next(char, text) {
      if (char === "$") return untilState(text.slice(start));
      if (TAG_CHAR.test(char)) return state;
      return ready.next(char, text);
    },
  };
  return state;
}

/** After a backslash: the next character is taken as it is. */
const escapeState: State = { next: () => ready };

/**
 * Inside parentheses or a BEGIN ATOMIC body: literals and comments are followed as outside and `;` ends nothing.
 * `)` ends the group as soon as it is met outside a literal; END only as a whole word, so the character after
 * it decides, and is then read outside the group.
 */
function groupState(close: ")" | "end"): State {
  let inner: State = ready;
  let endWord = false;
  const state: State = {
    next(char, text) {
      if (endWord) {
        endWord = false;
        if (!WORD_CHAR.test(char)) return ready.next(char, text);
      }
      const after = inner.next(char, text);
      if (after) inner = after;
      if (inner !== ready) return state;
      if (close === ")") return char === ")" ? ready : state;
      const before = text.at(-4);
      if (text.slice(-3).toLowerCase() === "end" && (before === undefined || !WORD_CHAR.test(before)))
        endWord = true;
      return state;
    },
  };
  return state;
}

/**
 * The statements of `sql` as the Supabase CLI records them: split where it splits, each without trailing
 * semicolons and surrounding whitespace, empty ones left out.
 * @example splitStatements("select 1; -- done\nselect ';'") // ["select 1", "-- done\nselect ';'"]
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let state: State = ready;
  let text = "";
  const push = (piece: string) => {
    const trimmed = trimSpace(piece.replace(/;+$/, ""));
    if (trimmed) statements.push(trimmed);
  };
  for (const char of sql) {
    text += char;
    const after = state.next(char, text);
    if (after === null) {
      push(text);
      text = "";
      state = ready;
    } else state = after;
  }
  push(text);
  return statements;
}

function trimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && SPACE.test(text[start] as string)) start++;
  while (end > start && SPACE.test(text[end - 1] as string)) end--;
  return text.slice(start, end);
}
