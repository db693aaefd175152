/**
 * Splits a SQL file into statements the way the Supabase CLI does before it runs a migration and records it
 * (`supabase_migrations.schema_migrations.statements`), so that `bun run migrate` stores the very array
 * `supabase db push` would. The rules are the CLI's, quirks included, because a different split would
 * record a different history:
 * - `;` ends a statement, except inside '…' or "…" (a doubled quote stays inside), $tag$…$tag$, a `--` line
 *   comment, a nested block comment, after a backslash, inside parentheses (closed by the first `)` met,
 *   however deep) and inside a BEGIN ATOMIC body (closed by the first END outside quotes and comments);
 * - ATOMIC counts only after whitespace, so `public.atomic_test` or `is_atomic` open nothing;
 * - each piece loses its trailing semicolons, then surrounding whitespace; empty pieces are dropped, while a
 *   piece of comments only is kept (the CLI sends it too, and Postgres accepts an empty query).
 */

/** One state of the scanner; `next` returns the state after `char`, or null where a statement ends. */
interface State {
  next(char: string, text: string): State | null;
}

// Go's unicode.IsSpace: JavaScript's \s without U+FEFF, plus U+0085.
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const TAG_CHAR = /[\p{L}\p{Nd}_]/u;
const ATOMIC = "atomic";

/** Outside any literal: where `;` ends the statement. */
const ready: State = {
  next(char, text) {
    switch (char) {
      case "$":
        return tagState(text.length - 1);
      case "'":
      case '"':
        return quoteState(char);
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
    if (char === "c" || char === "C") {
      const start = text.length - ATOMIC.length;
      if (start > 0 && text.slice(start).toLowerCase() === ATOMIC && SPACE.test(text[start - 1] as string))
        return groupState("end");
    }
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

/** Inside '…' or "…": the quote closes it unless the next character is the quote again. */
function quoteState(quote: string): State {
  let closing = false;
  const state: State = {
    next(char, text) {
      if (closing) {
        if (char === quote) {
          closing = false;
          return state;
        }
        return ready.next(char, text);
      }
      if (char === quote) closing = true;
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
 * Inside parentheses or a BEGIN ATOMIC body: literals and comments are followed as outside, `;` ends
 * nothing, and `close` (any case) ends the group when met outside a literal.
 */
function groupState(close: string): State {
  let inner: State = ready;
  const state: State = {
    next(char, text) {
      const after = inner.next(char, text);
      if (after) inner = after;
      if (inner === ready && text.slice(-close.length).toLowerCase() === close) return ready;
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
