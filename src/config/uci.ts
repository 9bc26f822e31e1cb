/**
 * UCI file parser and writer, following what OpenWrt's libuci file backend
 * (`file.c`: `uci_parse_line`, `parse_str`, `uci_export_package`) reads and writes.
 *
 * Accepted syntax (one statement per logical line):
 *
 *   package NAME
 *   config TYPE [NAME]
 *   option NAME VALUE
 *   list NAME VALUE
 *
 * - Keywords may be abbreviated to their first letter (`c`, `o`, `l`, `p`), as
 *   libuci's `uci_parse_line` allows. A keyword must not be quoted.
 * - A token is a run of adjacent pieces with no blank between them: unquoted text,
 *   'single-quoted' text (no escapes), "double-quoted" text (a backslash takes the
 *   next character literally; there are no C escapes, so `\n` is `n`). `'a'"b"c` is
 *   one token `abc`. An unquoted backslash also takes the next character literally.
 *   Backslash-newline outside single quotes joins the next line (libuci
 *   `parse_backslash`). A quoted string may span lines; the newline is kept in the
 *   value (libuci fetches the next line inside `parse_single_quote`).
 * - An unquoted `#` anywhere starts a comment to the end of the line, as in libuci's
 *   `parse_str` (so `option a b#c` has value `b`); inside quotes it is literal.
 *
 * Where this parser is deliberately stricter than libuci (each reported as an error):
 * - Identifiers: option and section names are `[A-Za-z0-9_]+` and the package name is
 *   `[A-Za-z0-9_-]+`, exactly libuci's `uci_validate_str`. Section types are
 *   `[A-Za-z0-9_-]+`: libuci accepts any printable ASCII there, but its own export
 *   writes the type unquoted, so a type such as `a#b` does not survive a round trip;
 *   `-` is kept because OpenWrt uses it (`wifi-device`).
 * - Control characters (C0 except tab, DEL, C1), unpaired UTF-16 surrogates and
 *   U+FFFD (what a lossy UTF-8 decode leaves behind) are rejected anywhere, even in
 *   comments. CR is accepted only as part of a CRLF line ending and is never part of
 *   a value, even inside a multi-line quote (libuci would keep it).
 * - An unquoted `;` is rejected: libuci treats it as a command separator, which no
 *   gleand config needs; quote the value instead.
 * - A value is required (`option a` is an error; `option a ''` is the empty value,
 *   which libuci's `uci_set` would treat as "delete the option").
 * - Any extra token, even an empty `''`, is "too many arguments" (libuci's
 *   `assert_eol` ignores an empty trailing argument).
 * - One `package` statement at most, before the first section (libuci's `uci_load`
 *   ignores it; its import mode switches packages, which gleand never needs).
 *
 * Bounds on hostile input: the parse is one left-to-right pass (no regular
 * expressions, no string concatenation in loops; tokens are joined from slices),
 * physical lines and tokens are capped, as are sections, statements and errors.
 * After an error the rest of that physical line is skipped and parsing resumes on
 * the next one, so one pass reports every independent problem. Statements on a line
 * with an error are dropped; options after a broken `config` line are checked but
 * not attached (and not reported as "outside a section").
 */
import type { UciDocument, UciPos, UciSection, UciStatement, UciSyntaxError } from './uci-ast';

export interface UciLimits {
  /** Longest physical line, in UTF-16 units (without the line ending). */
  readonly maxLineChars: number;
  /** Longest token, counted in source characters including quotes and escapes. */
  readonly maxTokenChars: number;
  readonly maxSections: number;
  /** `option` and `list` statements in the whole file. */
  readonly maxStatements: number;
  /** Errors reported before the parser gives up (one more error says it stopped). */
  readonly maxErrors: number;
}

export const DEFAULT_UCI_LIMITS: UciLimits = {
  maxLineChars: 65_536,
  maxTokenChars: 65_536,
  maxSections: 100_000,
  maxStatements: 1_000_000,
  maxErrors: 100,
};

export interface UciParseResult {
  /** Everything that parsed cleanly; only trustworthy when `errors` is empty. */
  readonly doc: UciDocument;
  readonly errors: UciSyntaxError[];
}

/** Parses UCI text. Never throws: every problem becomes an entry in `errors`. */
export function parseUci(text: string, limits: UciLimits = DEFAULT_UCI_LIMITS): UciParseResult {
  const parser = new Parser(text, limits);
  try {
    parser.run();
  } catch (e) {
    // Unreachable by design; kept so that a parser bug is a config error, not a crash.
    parser.report(parser.here(), `internal parser error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parser.result();
}

// ---------------------------------------------------------------------------
// Character classes

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DQUOTE = 0x22;
const HASH = 0x23;
const SQUOTE = 0x27;
const SEMICOLON = 0x3b;
const BACKSLASH = 0x5c;

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

const hex4 = (c: number): string => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why the character at `i` may not appear in a UCI file, or null if it may.
 * LF and CR are the caller's business (they are structure, not content).
 * `charCodeAt` past either end is NaN, which fails every surrogate test.
 */
function charProblem(text: string, i: number): string | null {
  const c = text.charCodeAt(i);
  if (c >= SPACE && c < 0x7f) return null; // printable ASCII: the common case
  if (c === TAB) return null;
  if (c === 0) return 'NUL character is not allowed';
  if (c < SPACE || (c >= 0x7f && c <= 0x9f)) return `control character ${hex4(c)} is not allowed`;
  if (isHighSurrogate(c)) {
    return isLowSurrogate(text.charCodeAt(i + 1)) ? null : `unpaired surrogate ${hex4(c)} (not valid UTF-8 text)`;
  }
  if (isLowSurrogate(c)) {
    return isHighSurrogate(text.charCodeAt(i - 1)) ? null : `unpaired surrogate ${hex4(c)} (not valid UTF-8 text)`;
  }
  if (c === 0xfffd) return 'replacement character U+FFFD (the file is not valid UTF-8)';
  return null;
}

/** Characters that end an unquoted run inside a token. */
function endsUnquotedRun(c: number): boolean {
  return (
    c === SPACE || c === TAB || c === LF || c === CR || c === HASH || c === SEMICOLON ||
    c === SQUOTE || c === DQUOTE || c === BACKSLASH
  );
}

const isWordChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;

/** libuci `uci_validate_str(name=true)`: `[A-Za-z0-9_]+`. */
function isIdentifier(s: string, allowDash: boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isWordChar(c) && !(allowDash && c === 0x2d)) return false;
  }
  return true;
}

const isOptionName = (s: string): boolean => isIdentifier(s, false);
const isSectionName = (s: string): boolean => isIdentifier(s, false);
const isSectionType = (s: string): boolean => isIdentifier(s, true);
const isPackageName = (s: string): boolean => isIdentifier(s, true);

/** A short, printable rendering of attacker-controlled text for error messages. */
function show(s: string): string {
  const clipped = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  let out = '';
  for (let i = 0; i < clipped.length; i++) {
    const c = clipped.charCodeAt(i);
    out += c >= SPACE && c < 0x7f ? clipped[i] : `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `'${out}'`;
}

// ---------------------------------------------------------------------------
// Parser

interface Token {
  /** Decoded text; '' for a token not kept (beyond the arguments we look at). */
  readonly text: string;
  /** True when the token had no quotes or escapes (keywords must be plain). */
  readonly plain: boolean;
  readonly pos: UciPos;
}

/** A lexical error: thrown inside a statement, caught by `statement()`. */
class LexError {
  constructor(readonly pos: UciPos, readonly message: string) {}
}

type Command = 'package' | 'config' | 'option' | 'list';

/** libuci `uci_parse_line`: the full keyword or its first letter. */
function commandOf(word: string): Command | null {
  switch (word) {
    case 'package': case 'p': return 'package';
    case 'config': case 'c': return 'config';
    case 'option': case 'o': return 'option';
    case 'list': case 'l': return 'list';
    default: return null;
  }
}

/** Tokens kept per statement: keyword, two arguments, and the first extra one. */
const KEPT_TOKENS = 4;

class Parser {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  /** Physical line whose length was last checked, so each line is scanned once. */
  private checkedLine = 0;

  private readonly errors: UciSyntaxError[] = [];
  private stopped = false;

  private pkg: string | null = null;
  private readonly sections: UciSection[] = [];
  private current: UciSection | null = null;
  /**
   * The last `config` line (or a line that may have been one) was rejected: the
   * options below it are still checked but dropped, without "outside a section" noise.
   */
  private currentBroken = false;
  private statementCount = 0;
  private readonly sectionTypes = new Map<string, { type: string; line: number }>();

  /** End of the last token read, for "missing argument" positions. */
  private lastTokenEnd: UciPos | null = null;
  /** Where the token being read starts, for its length cap. */
  private tokenStart = 0;
  private tokenPos: UciPos = { line: 1, column: 1 };

  constructor(private readonly text: string, private readonly limits: UciLimits) {}

  run(): void {
    const text = this.text;
    while (this.i < text.length && !this.stopped) {
      // Fast path for blank lines, the bulk of a padded or hostile file.
      if (text.charCodeAt(this.i) === LF) {
        this.i++;
        this.newLine();
      } else {
        this.statement();
      }
    }
  }

  result(): UciParseResult {
    return { doc: { package: this.pkg, sections: this.sections }, errors: this.errors };
  }

  here(): UciPos {
    return this.posAt(this.i);
  }

  private posAt(index: number): UciPos {
    return { line: this.line, column: index - this.lineStart + 1 };
  }

  /** Records an error; past `maxErrors` it adds one last error and stops the parse. */
  report(pos: UciPos, message: string): void {
    if (this.stopped) return;
    this.errors.push({ pos, message });
    if (this.errors.length >= this.limits.maxErrors) {
      this.errors.push({ pos, message: `too many errors (${this.limits.maxErrors}); stopped parsing` });
      this.stopped = true;
    }
  }

  /** A limit on the document was reached: nothing after this point is read. */
  private stopAt(pos: UciPos, message: string): void {
    this.report(pos, `${message}; stopped parsing`);
    this.stopped = true;
  }

  // --- statements ---------------------------------------------------------

  /** One logical line: tokens, then their meaning. Recovers from any error. */
  private statement(): void {
    const tokens: Token[] = [];
    try {
      this.checkLineLength();
      this.readTokens(tokens);
    } catch (e) {
      if (!(e instanceof LexError)) throw e;
      this.report(e.pos, e.message);
      this.skipPhysicalLine();
      this.afterBrokenLine(tokens[0]);
      return;
    }
    if (tokens.length > 0) this.interpret(tokens);
  }

  /**
   * A line that failed may have been meant as a `config` line (or the keyword itself
   * was unreadable): then the options below it must not land in the previous section
   * nor each report "outside of a config section". A broken option line changes
   * nothing.
   */
  private afterBrokenLine(keyword: Token | undefined): void {
    const command = keyword?.plain ? commandOf(keyword.text) : null;
    if (command === 'option' || command === 'list' || command === 'package') return;
    this.current = null;
    this.currentBroken = true;
  }

  private interpret(tokens: Token[]): void {
    const kw = tokens[0]!;
    const command = kw.plain ? commandOf(kw.text) : null;
    if (command === null) {
      const why = kw.plain ? '' : ' (keywords must not be quoted or escaped)';
      this.report(kw.pos, `unknown keyword ${show(kw.text)}${why}; expected package, config, option or list`);
      return this.afterBrokenLine(kw);
    }
    if (command === 'package') this.packageStatement(tokens);
    else if (command === 'config') this.configStatement(tokens);
    else this.optionStatement(command, tokens);
  }

  /** Reports "too many arguments" when a token follows the `max` expected ones. */
  private tooMany(tokens: Token[], max: number, usage: string): boolean {
    const extra = tokens[max + 1];
    if (extra === undefined) return false;
    this.report(extra.pos, `too many arguments; expected '${usage}'`);
    return true;
  }

  private packageStatement(tokens: Token[]): void {
    const [kw, name] = tokens as [Token, Token | undefined];
    if (name === undefined) return this.report(this.endOf(tokens), "missing package name after 'package'");
    if (!isPackageName(name.text)) {
      const what = name.text === '' ? 'empty package name' : `invalid package name ${show(name.text)}`;
      return this.report(name.pos, `${what}: use letters, digits, '_' and '-'`);
    }
    if (this.tooMany(tokens, 1, 'package NAME')) return;
    if (this.pkg !== null) return this.report(kw.pos, "duplicate 'package' statement");
    if (this.sections.length > 0) return this.report(kw.pos, "'package' must come before the first 'config'");
    this.pkg = name.text;
  }

  private configStatement(tokens: Token[]): void {
    // Until this line proves good, options below it belong to no section.
    this.current = null;
    this.currentBroken = true;
    const [kw, type, name] = tokens as [Token, Token | undefined, Token | undefined];
    if (type === undefined) return this.report(this.endOf(tokens), "missing section type after 'config'");
    if (!isSectionType(type.text)) {
      const what = type.text === '' ? 'empty section type' : `invalid section type ${show(type.text)}`;
      return this.report(type.pos, `${what}: use letters, digits, '_' and '-'`);
    }
    // libuci: an empty name (`config foo ''`) makes an anonymous section.
    const sectionName = name === undefined || name.text === '' ? null : name.text;
    if (sectionName !== null && !isSectionName(sectionName)) {
      return this.report(name!.pos, `invalid section name ${show(sectionName)}: use letters, digits and '_'`);
    }
    if (this.tooMany(tokens, 2, 'config TYPE [NAME]')) return;
    if (sectionName !== null && !this.checkRedefinition(sectionName, type)) return;
    if (this.sections.length >= this.limits.maxSections) {
      return this.stopAt(kw.pos, `too many sections (more than ${this.limits.maxSections})`);
    }
    const section: UciSection = { type: type.text, name: sectionName, pos: kw.pos, statements: [] };
    this.sections.push(section);
    this.current = section;
    this.currentBroken = false;
  }

  /**
   * libuci (strict mode, the default) rejects a named section declared again with a
   * different type; the same type merges, which the config layer resolves.
   */
  private checkRedefinition(name: string, type: Token): boolean {
    const earlier = this.sectionTypes.get(name);
    if (earlier === undefined) {
      this.sectionTypes.set(name, { type: type.text, line: type.pos.line });
      return true;
    }
    if (earlier.type === type.text) return true;
    this.report(type.pos, `section ${show(name)} redeclared with type ${show(type.text)}; ` +
      `it has type ${show(earlier.type)} at line ${earlier.line}`);
    return false;
  }

  private optionStatement(kind: 'option' | 'list', tokens: Token[]): void {
    const [kw, name, value] = tokens as [Token, Token | undefined, Token | undefined];
    if (this.current === null && !this.currentBroken) {
      return this.report(kw.pos, `'${kind}' outside of a config section`);
    }
    if (name === undefined) return this.report(this.endOf(tokens), `missing ${kind} name after '${kind}'`);
    if (!isOptionName(name.text)) {
      const what = name.text === '' ? `empty ${kind} name` : `invalid ${kind} name ${show(name.text)}`;
      return this.report(name.pos, `${what}: use letters, digits and '_'`);
    }
    if (value === undefined) return this.report(this.endOf(tokens), `missing value for ${kind} ${show(name.text)}`);
    if (this.tooMany(tokens, 2, `${kind} NAME VALUE`)) return;
    if (this.current === null) return; // under a broken `config`: already reported there
    if (this.statementCount >= this.limits.maxStatements) {
      return this.stopAt(kw.pos, `too many option/list statements (more than ${this.limits.maxStatements})`);
    }
    this.statementCount++;
    const statement: UciStatement = { kind, name: name.text, value: value.text, pos: kw.pos };
    this.current.statements.push(statement);
  }

  /** Where a missing argument should have been: just after the last token. */
  private endOf(tokens: Token[]): UciPos {
    return this.lastTokenEnd ?? tokens[tokens.length - 1]!.pos;
  }

  // --- lines ----------------------------------------------------------------

  private newLine(): void {
    this.line++;
    this.lineStart = this.i;
  }

  /** Caps the physical line the cursor is on; each line is measured once. */
  private checkLineLength(): void {
    if (this.checkedLine === this.line) return;
    this.checkedLine = this.line;
    const nl = this.text.indexOf('\n', this.lineStart);
    let end = nl < 0 ? this.text.length : nl;
    if (end > this.lineStart && this.text.charCodeAt(end - 1) === CR) end--;
    if (end - this.lineStart > this.limits.maxLineChars) {
      throw new LexError(
        { line: this.line, column: this.limits.maxLineChars + 1 },
        `line is longer than ${this.limits.maxLineChars} characters`,
      );
    }
  }

  /** Error recovery: drop the rest of the physical line the cursor is on. */
  private skipPhysicalLine(): void {
    const nl = this.text.indexOf('\n', this.i);
    if (nl < 0) {
      this.i = this.text.length;
      return;
    }
    this.i = nl + 1;
    this.newLine();
  }

  /** Consumes LF or CRLF at the cursor, if there is one, and starts the next line. */
  private eatLineEnd(): boolean {
    const c = this.text.charCodeAt(this.i);
    if (c === LF) {
      this.i += 1;
    } else if (c === CR && this.text.charCodeAt(this.i + 1) === LF) {
      this.i += 2;
    } else {
      return false;
    }
    this.newLine();
    return true;
  }

  private fail(message: string, index = this.i): never {
    throw new LexError(this.posAt(index), message);
  }

  private failOnBadChar(index = this.i): void {
    const problem = charProblem(this.text, index);
    if (problem !== null) this.fail(problem, index);
  }

  // --- tokens ---------------------------------------------------------------

  /**
   * Reads the tokens of one logical line and consumes its line ending. Keeps only
   * the first few: the rest are scanned (to find the line's end and any lexical
   * error) but not stored, so a line of a million tokens costs no memory.
   */
  private readTokens(tokens: Token[]): void {
    this.lastTokenEnd = null;
    for (;;) {
      this.skipBlanks();
      if (this.i >= this.text.length || this.eatLineEnd()) return;
      const c = this.text.charCodeAt(this.i);
      if (c === HASH) {
        this.skipComment();
        continue;
      }
      if (c === SEMICOLON) this.fail("unquoted ';' is not supported (libuci reads it as a command separator); quote the value");
      const token = this.readToken(tokens.length < KEPT_TOKENS);
      if (token !== null && tokens.length < KEPT_TOKENS) {
        tokens.push(token);
        this.lastTokenEnd = this.here();
      }
    }
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c !== SPACE && c !== TAB) return;
      this.i++;
    }
  }

  /** A comment runs to the end of the physical line; its characters are still checked. */
  private skipComment(): void {
    const text = this.text;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === LF || (c === CR && text.charCodeAt(this.i + 1) === LF)) return;
      this.failOnBadChar();
      this.i++;
    }
  }

  /**
   * One token (libuci `parse_str`): adjacent unquoted, single- and double-quoted
   * pieces. Returns null when the "token" was only backslash-newlines, which libuci
   * reads as no argument at all.
   */
  private readToken(keep: boolean): Token | null {
    const pos = this.here();
    this.tokenStart = this.i;
    this.tokenPos = pos;
    const parts: string[] = [];
    let plain = true;
    let seen = false;
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (this.i >= this.text.length || c === SPACE || c === TAB || c === LF || c === HASH) break;
      if (c === CR) {
        if (this.text.charCodeAt(this.i + 1) === LF) break;
        this.fail(`control character ${hex4(CR)} is not allowed`);
      }
      if (c === SEMICOLON) this.fail("unquoted ';' is not supported (libuci reads it as a command separator); quote the value");
      if (c === SQUOTE) {
        this.readSingleQuoted(parts);
        plain = false;
        seen = true;
      } else if (c === DQUOTE) {
        this.readDoubleQuoted(parts);
        plain = false;
        seen = true;
      } else if (c === BACKSLASH) {
        if (this.readEscape(parts)) seen = true;
        plain = false;
      } else {
        this.readUnquotedRun(parts);
        seen = true;
      }
      this.checkTokenLength();
    }
    if (!seen) return null;
    return { text: keep ? parts.join('') : '', plain, pos };
  }

  /**
   * Caps a token's source length (so `''''…`, a long source with an empty value, is
   * bounded too). Called after each piece and at each line break inside a piece;
   * as lines are capped, a token overshoots by at most one line before this fires.
   */
  private checkTokenLength(): void {
    if (this.i - this.tokenStart <= this.limits.maxTokenChars) return;
    const across = this.line !== this.tokenPos.line ? ` (it runs on to line ${this.line})` : '';
    throw new LexError(this.tokenPos, `token is longer than ${this.limits.maxTokenChars} characters${across}`);
  }

  private readUnquotedRun(parts: string[]): void {
    const text = this.text;
    const from = this.i;
    while (this.i < text.length && !endsUnquotedRun(text.charCodeAt(this.i))) {
      this.failOnBadChar();
      this.i++;
    }
    parts.push(text.slice(from, this.i));
  }

  /**
   * Backslash outside single quotes (libuci `parse_backslash`): at the end of a line
   * it joins the next line; at the end of the file it is ignored; otherwise the next
   * character is taken literally. Returns whether a character was produced.
   */
  private readEscape(parts: string[]): boolean {
    this.i++; // the backslash
    if (this.i >= this.text.length) return false;
    if (this.eatLineEnd()) {
      this.checkLineLength();
      this.checkTokenLength();
      return false;
    }
    const c = this.text.charCodeAt(this.i);
    if (c === CR) this.fail(`control character ${hex4(CR)} is not allowed`);
    this.failOnBadChar();
    // Keep a surrogate pair together.
    const width = isHighSurrogate(c) ? 2 : 1;
    parts.push(this.text.slice(this.i, this.i + width));
    this.i += width;
    return true;
  }

  /** 'single quotes': everything literal up to the next `'`, across lines. */
  private readSingleQuoted(parts: string[]): void {
    const open = this.here();
    const text = this.text;
    this.i++; // the opening quote
    let from = this.i;
    for (;;) {
      if (this.i >= text.length) this.failUnterminated(open, 'single');
      const c = text.charCodeAt(this.i);
      if (c === SQUOTE) break;
      if (c === LF || c === CR) {
        from = this.quotedLineBreak(parts, from);
        continue;
      }
      this.failOnBadChar();
      this.i++;
    }
    parts.push(text.slice(from, this.i));
    this.i++; // the closing quote
  }

  /** "double quotes": like single quotes, but a backslash escapes the next character. */
  private readDoubleQuoted(parts: string[]): void {
    const open = this.here();
    const text = this.text;
    this.i++;
    let from = this.i;
    for (;;) {
      if (this.i >= text.length) this.failUnterminated(open, 'double');
      const c = text.charCodeAt(this.i);
      if (c === DQUOTE) break;
      if (c === LF || c === CR) {
        from = this.quotedLineBreak(parts, from);
      } else if (c === BACKSLASH) {
        parts.push(text.slice(from, this.i));
        this.readEscape(parts);
        from = this.i;
      } else {
        this.failOnBadChar();
        this.i++;
      }
    }
    parts.push(text.slice(from, this.i));
    this.i++;
  }

  /**
   * A line break inside quotes becomes one LF in the value (a CRLF file must not
   * leak CRs into values). Returns where the next slice of the value starts.
   */
  private quotedLineBreak(parts: string[], from: number): number {
    parts.push(this.text.slice(from, this.i));
    if (!this.eatLineEnd()) this.fail(`control character ${hex4(CR)} is not allowed`);
    parts.push('\n');
    this.checkLineLength();
    this.checkTokenLength();
    return this.i;
  }

  private failUnterminated(open: UciPos, kind: 'single' | 'double'): never {
    const quote = kind === 'single' ? "'" : '"';
    throw new LexError(open, `unterminated ${kind}-quoted string: no closing ${quote} before the end of the file`);
  }
}

// ---------------------------------------------------------------------------
// Writer

/**
 * Writes `doc` the way libuci's `uci_export_package` does (what `uci commit` leaves
 * in /etc/config): an optional `package` line, then each section preceded by a
 * blank line, options indented by a tab, names and values in single quotes with
 * `'` written as `'\''`, and a final blank line.
 *
 * Throws a RangeError for a document that cannot be written so that `parseUci`
 * reads it back identically (a bad identifier, a forbidden character, a value
 * too long for the default limits): that is a bug in the caller, not bad input.
 */
export function writeUci(doc: UciDocument): string {
  const out: string[] = [];
  if (doc.package !== null) {
    requireName(doc.package, isPackageName(doc.package), 'package name');
    out.push(`package ${doc.package}\n`);
  }
  for (const section of doc.sections) out.push(writeSection(section));
  out.push('\n');
  return out.join('');
}

function writeSection(section: UciSection): string {
  requireName(section.type, isSectionType(section.type), 'section type');
  const lines = [`\nconfig ${section.type}`];
  if (section.name !== null) {
    requireName(section.name, isSectionName(section.name), 'section name');
    lines.push(` '${section.name}'`);
  }
  lines.push('\n');
  for (const st of section.statements) lines.push(writeStatement(st));
  return lines.join('');
}

function writeStatement(st: UciStatement): string {
  requireName(st.name, isOptionName(st.name), `${st.kind} name`);
  const line = `\t${st.kind} ${st.name} ${quoteValue(st.value)}\n`;
  requireLinesFit(line, st.name);
  return line;
}

function requireName(value: string, ok: boolean, what: string): void {
  if (!ok) throw new RangeError(`writeUci: invalid ${what} ${show(value)}`);
}

/** Single-quotes a value; `'` becomes `'\''` (close, escaped quote, reopen), as libuci's `uci_escape`. */
function quoteValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === LF) continue; // a multi-line quoted value reads back with its LF
    const problem = charProblem(value, i);
    if (problem !== null) throw new RangeError(`writeUci: value ${show(value)}: ${problem}`);
  }
  const token = `'${value.split("'").join("'\\''")}'`;
  if (token.length > DEFAULT_UCI_LIMITS.maxTokenChars) {
    throw new RangeError(`writeUci: value ${show(value)} is too long to read back`);
  }
  return token;
}

/** Every physical line written must fit the parser's default line limit. */
function requireLinesFit(text: string, name: string): void {
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    if (nl - start > DEFAULT_UCI_LIMITS.maxLineChars) {
      throw new RangeError(`writeUci: option ${show(name)} makes a line too long to read back`);
    }
    start = nl + 1;
  }
}
