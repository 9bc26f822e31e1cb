import { describe, it, expect } from 'vitest';
import { DEFAULT_UCI_LIMITS, parseUci, writeUci } from '../../../src/config/uci';
import type { UciDocument, UciSection, UciStatement } from '../../../src/config/uci-ast';
import { prng } from '../prng';

// ---------------------------------------------------------------------------
// helpers

/** Parses text that must be valid and returns the document. */
function ok(text: string): UciDocument {
  const { doc, errors } = parseUci(text);
  expect(errors).toEqual([]);
  return doc;
}

/** The single value of the single statement in `text`. */
function valueOf(text: string): string {
  const doc = ok(`config t\n\toption v ${text}\n`);
  expect(doc.sections[0]!.statements).toHaveLength(1);
  return doc.sections[0]!.statements[0]!.value;
}

/** Errors as compact `line:column message` strings, so a failure shows all of them. */
function errorsOf(text: string, limits = DEFAULT_UCI_LIMITS): string[] {
  return parseUci(text, limits).errors.map((e) => `${e.pos.line}:${e.pos.column} ${e.message}`);
}

/** The one error `text` produces. */
function oneError(text: string): string {
  const errors = errorsOf(text);
  expect(errors).toHaveLength(1);
  return errors[0]!;
}

type Bare = { package: string | null; sections: { type: string; name: string | null; statements: Omit<UciStatement, 'pos'>[] }[] };

function withoutPositions(doc: UciDocument): Bare {
  return {
    package: doc.package,
    sections: doc.sections.map((s) => ({
      type: s.type,
      name: s.name,
      statements: s.statements.map(({ kind, name, value }) => ({ kind, name, value })),
    })),
  };
}

/** Hostile input: must not throw, must stay within the error cap, positions must be sane. */
function survives(text: string, limits = DEFAULT_UCI_LIMITS): ReturnType<typeof parseUci> {
  let result: ReturnType<typeof parseUci> | undefined;
  expect(() => { result = parseUci(text, limits); }).not.toThrow();
  const r = result!;
  expect(r.errors.length).toBeLessThanOrEqual(limits.maxErrors + 1);
  expect(r.doc.sections.length).toBeLessThanOrEqual(limits.maxSections);
  for (const e of r.errors) {
    expect(e.pos.line).toBeGreaterThanOrEqual(1);
    expect(e.pos.column).toBeGreaterThanOrEqual(1);
    expect(e.message.length).toBeLessThan(300);
  }
  return r;
}


const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

// ---------------------------------------------------------------------------
// accepted syntax

describe('parseUci: statements', () => {
  it('reads package, named and anonymous sections, options and lists with positions', () => {
    const doc = ok([
      'package gleand',
      '',
      "config relay 'lan'",
      "\toption interface 'br-lan'",
      "\tlist server '192.0.2.1'",
      "\tlist server '192.0.2.2'",
      '',
      'config subscriber',
      '  option mac 00:11:22:33:44:55',
      '',
    ].join('\n'));
    expect(doc).toEqual({
      package: 'gleand',
      sections: [
        {
          type: 'relay', name: 'lan', pos: { line: 3, column: 1 },
          statements: [
            { kind: 'option', name: 'interface', value: 'br-lan', pos: { line: 4, column: 2 } },
            { kind: 'list', name: 'server', value: '192.0.2.1', pos: { line: 5, column: 2 } },
            { kind: 'list', name: 'server', value: '192.0.2.2', pos: { line: 6, column: 2 } },
          ],
        },
        {
          type: 'subscriber', name: null, pos: { line: 8, column: 1 },
          statements: [{ kind: 'option', name: 'mac', value: '00:11:22:33:44:55', pos: { line: 9, column: 3 } }],
        },
      ],
    });
  });

  it('accepts the one-letter keywords libuci accepts', () => {
    const doc = ok('p pkg\nc t n\no a 1\nl b 2\n');
    expect(withoutPositions(doc)).toEqual({
      package: 'pkg',
      sections: [{ type: 't', name: 'n', statements: [{ kind: 'option', name: 'a', value: '1' }, { kind: 'list', name: 'b', value: '2' }] }],
    });
  });

  it('accepts an empty file, blank lines and comment-only files', () => {
    expect(ok('')).toEqual({ package: null, sections: [] });
    expect(ok('\n\n   \n\t\n')).toEqual({ package: null, sections: [] });
    expect(ok('# only a comment\n  # indented\n#no newline')).toEqual({ package: null, sections: [] });
  });

  it('accepts a file without a trailing newline', () => {
    const doc = ok("config t\n\toption a 'b'");
    expect(doc.sections[0]!.statements[0]!.value).toBe('b');
  });

  it('accepts CRLF line endings and keeps positions per line', () => {
    const doc = ok("config t 'n'\r\n\toption a 'b'\r\n\r\n\tlist c d\r\n");
    expect(withoutPositions(doc).sections[0]!.statements).toEqual([
      { kind: 'option', name: 'a', value: 'b' },
      { kind: 'list', name: 'c', value: 'd' },
    ]);
    expect(doc.sections[0]!.statements[1]!.pos).toEqual({ line: 4, column: 2 });
  });

  it("treats config TYPE '' as anonymous, like libuci", () => {
    expect(ok("config t ''\n").sections[0]!.name).toBeNull();
  });

  it("allows '-' in section types and package names (OpenWrt's wifi-device)", () => {
    const doc = ok("package my-pkg\nconfig wifi-device 'radio0'\n");
    expect(doc.package).toBe('my-pkg');
    expect(doc.sections[0]!.type).toBe('wifi-device');
  });

  it('keeps a named section declared twice with the same type (the config layer merges)', () => {
    const doc = ok("config t 'a'\n\toption x 1\nconfig t 'a'\n\toption y 2\n");
    expect(doc.sections).toHaveLength(2);
  });
});

describe('parseUci: tokens and quoting', () => {
  it('reads unquoted, single- and double-quoted values', () => {
    expect(valueOf('plain')).toBe('plain');
    expect(valueOf("'with space'")).toBe('with space');
    expect(valueOf('"with space"')).toBe('with space');
  });

  it('concatenates adjacent pieces into one token, like libuci parse_str', () => {
    expect(valueOf(`'a'"b"c`)).toBe('abc');
    expect(valueOf(`x'y z'"w"v`)).toBe('xy zwv');
    expect(valueOf(`''""''`)).toBe('');
  });

  it('reads the empty value', () => {
    expect(valueOf("''")).toBe('');
    expect(valueOf('""')).toBe('');
  });

  it('takes backslashes literally inside single quotes', () => {
    expect(valueOf(String.raw`'a\b\'`)).toBe('a\\b\\');
  });

  it('lets a backslash escape the next character in double quotes (no C escapes)', () => {
    expect(valueOf(String.raw`"a\"b"`)).toBe('a"b');
    expect(valueOf(String.raw`"a\\b"`)).toBe(String.raw`a\b`);
    expect(valueOf(String.raw`"a\nb"`)).toBe('anb');
  });

  it('lets an unquoted backslash escape the next character', () => {
    expect(valueOf(String.raw`a\ b`)).toBe('a b');
    expect(valueOf(String.raw`a\#b`)).toBe('a#b');
    expect(valueOf(String.raw`\'x`)).toBe("'x");
    expect(valueOf(String.raw`a\;b`)).toBe('a;b');
  });

  it("reads the writer's '\\'' idiom as a single quote", () => {
    expect(valueOf(String.raw`'it'\''s'`)).toBe("it's");
  });

  it('starts a comment at an unquoted # anywhere, as libuci does', () => {
    expect(valueOf('value # comment')).toBe('value');
    expect(valueOf('value#comment')).toBe('value');
    expect(valueOf("'q'#comment")).toBe('q');
  });

  it('keeps # inside quotes', () => {
    expect(valueOf("'a # b'")).toBe('a # b');
    expect(valueOf('"#"')).toBe('#');
  });

  it('joins lines on backslash-newline (LF and CRLF)', () => {
    expect(valueOf('ab\\\ncd')).toBe('abcd');
    expect(valueOf('ab\\\r\ncd')).toBe('abcd');
    expect(valueOf('"ab\\\ncd"')).toBe('abcd');
    const doc = ok('config t\n\toption \\\n  name \\\n  value\n\toption next 1\n');
    expect(withoutPositions(doc).sections[0]!.statements).toEqual([
      { kind: 'option', name: 'name', value: 'value' },
      { kind: 'option', name: 'next', value: '1' },
    ]);
    expect(doc.sections[0]!.statements[1]!.pos).toEqual({ line: 5, column: 2 });
  });

  it('ignores a trailing backslash-newline and a backslash at end of file', () => {
    expect(valueOf('v \\')).toBe('v');
    expect(ok('config t\n\toption a v\\').sections[0]!.statements[0]!.value).toBe('v');
  });

  it('reads multi-line quoted values with LF (a CRLF file gives LF too)', () => {
    expect(valueOf("'line1\nline2'")).toBe('line1\nline2');
    expect(valueOf('"line1\r\nline2"')).toBe('line1\nline2');
    const doc = ok("config t\n\toption a 'x\ny'\n\toption b z\n");
    expect(doc.sections[0]!.statements[1]!.pos).toEqual({ line: 4, column: 2 });
  });

  it('accepts tabs and non-ASCII text, including surrogate pairs', () => {
    expect(valueOf("'a\tb'")).toBe('a\tb');
    expect(valueOf("'grüße 🚀'")).toBe('grüße 🚀');
    expect(valueOf('"\\🚀"')).toBe('🚀');
  });
});

// ---------------------------------------------------------------------------
// errors

describe('parseUci: errors with positions', () => {
  it('unknown and quoted keywords', () => {
    expect(oneError('conifg t\n')).toBe("1:1 unknown keyword 'conifg'; expected package, config, option or list");
    expect(oneError("\n  'config' t\n")).toBe(
      "2:3 unknown keyword 'config' (keywords must not be quoted or escaped); expected package, config, option or list");
  });

  it('option or list outside a section', () => {
    expect(oneError('\toption a b\n')).toBe("1:2 'option' outside of a config section");
    expect(oneError('list a b\n')).toBe("1:1 'list' outside of a config section");
  });

  it('package problems', () => {
    expect(oneError('package\n')).toBe("1:8 missing package name after 'package'");
    expect(oneError('package a.b\n')).toBe("1:9 invalid package name 'a.b': use letters, digits, '_' and '-'");
    expect(oneError('package a b\n')).toBe("1:11 too many arguments; expected 'package NAME'");
    expect(oneError('package a\npackage b\n')).toBe("2:1 duplicate 'package' statement");
    expect(oneError('config t\npackage b\n')).toBe("2:1 'package' must come before the first 'config'");
  });

  it('config problems', () => {
    expect(oneError('config\n')).toBe("1:7 missing section type after 'config'");
    expect(oneError('config   # type in a comment\n')).toBe("1:7 missing section type after 'config'");
    expect(oneError("config ''\n")).toBe("1:8 empty section type: use letters, digits, '_' and '-'");
    expect(oneError('config a.b\n')).toBe("1:8 invalid section type 'a.b': use letters, digits, '_' and '-'");
    expect(oneError('config t my-name\n')).toBe("1:10 invalid section name 'my-name': use letters, digits and '_'");
    expect(oneError('config t n extra\n')).toBe("1:12 too many arguments; expected 'config TYPE [NAME]'");
    expect(oneError("config t n ''\n")).toBe("1:12 too many arguments; expected 'config TYPE [NAME]'");
  });

  it('a named section redeclared with a different type (libuci strict mode)', () => {
    expect(oneError("config a 'x'\nconfig b 'x'\n")).toBe(
      "2:8 section 'x' redeclared with type 'b'; it has type 'a' at line 1");
  });

  it('option and list problems', () => {
    const at = (line: string): string => oneError(`config t\n${line}\n`);
    expect(at('\toption')).toBe("2:8 missing option name after 'option'");
    expect(at("\toption ''")).toBe("2:9 empty option name: use letters, digits and '_'");
    expect(at('\toption a-b c')).toBe("2:9 invalid option name 'a-b': use letters, digits and '_'");
    expect(at('\toption a')).toBe("2:10 missing value for option 'a'");
    expect(at('\toption a # no value')).toBe("2:10 missing value for option 'a'");
    expect(at('\toption a b c')).toBe("2:13 too many arguments; expected 'option NAME VALUE'");
    expect(at("\tlist a 'b' \"c\"")).toBe("2:13 too many arguments; expected 'list NAME VALUE'");
    expect(at("\toption a b ''")).toBe("2:13 too many arguments; expected 'option NAME VALUE'");
  });

  it('unterminated quotes point at the opening quote', () => {
    expect(oneError("config t\n\toption a 'abc\n")).toBe(
      "2:11 unterminated single-quoted string: no closing ' before the end of the file");
    expect(oneError('config t\n\toption a x"abc\\"\n\n')).toBe(
      '2:12 unterminated double-quoted string: no closing " before the end of the file');
  });

  it("unquoted ';' (libuci's command separator)", () => {
    expect(oneError('config t\n\toption a b;c\n')).toBe(
      "2:12 unquoted ';' is not supported (libuci reads it as a command separator); quote the value");
    expect(oneError('config t; option a b\n')).toBe(
      "1:9 unquoted ';' is not supported (libuci reads it as a command separator); quote the value");
    expect(valueOf("'a;b'")).toBe('a;b');
  });

  it('control characters, in any context, name their column', () => {
    const bad = (value: string): string => oneError(`config t\n\toption a ${value}\n`);
    expect(bad('x\0y')).toBe('2:12 NUL character is not allowed');
    expect(bad("'x\0y'")).toBe('2:13 NUL character is not allowed');
    expect(bad('"x\x01y"')).toBe('2:13 control character U+0001 is not allowed');
    expect(bad('x\\\x07')).toBe('2:13 control character U+0007 is not allowed');
    expect(bad('x\x7f')).toBe('2:12 control character U+007F is not allowed');
    expect(bad('x\u0085')).toBe('2:12 control character U+0085 is not allowed');
    expect(bad('x\ry')).toBe('2:12 control character U+000D is not allowed');
    expect(bad("'x\ry'")).toBe('2:13 control character U+000D is not allowed');
    expect(bad('x\x0b')).toBe('2:12 control character U+000B is not allowed');
    expect(oneError('config t # comment \x1b[31m\n')).toBe('1:20 control character U+001B is not allowed');
  });

  it('unpaired surrogates and U+FFFD (text that was not valid UTF-8)', () => {
    const bad = (value: string): string => oneError(`config t\n\toption a ${value}\n`);
    expect(bad('x\ud800')).toBe('2:12 unpaired surrogate U+D800 (not valid UTF-8 text)');
    expect(bad("'\ud800x'")).toBe('2:12 unpaired surrogate U+D800 (not valid UTF-8 text)');
    expect(bad('x\udc00')).toBe('2:12 unpaired surrogate U+DC00 (not valid UTF-8 text)');
    expect(bad('\\\udc00')).toBe('2:12 unpaired surrogate U+DC00 (not valid UTF-8 text)');
    expect(bad('\udbff\udbff\udc00')).toBe('2:11 unpaired surrogate U+DBFF (not valid UTF-8 text)');
    expect(bad('x\ufffd')).toBe('2:12 replacement character U+FFFD (the file is not valid UTF-8)');
  });

  it('overlong lines and tokens', () => {
    const limits = { ...DEFAULT_UCI_LIMITS, maxLineChars: 40, maxTokenChars: 20 };
    expect(errorsOf(`config t\n\toption a '${'x'.repeat(40)}'\n`, limits)).toEqual(['2:41 line is longer than 40 characters']);
    expect(errorsOf(`config t\n\toption a ${'x'.repeat(21)}\n`, limits)).toEqual(['2:11 token is longer than 20 characters']);
    expect(errorsOf(`config t\n\toption a '${'x\n'.repeat(12)}'\n`, limits)).toEqual([
      '2:11 token is longer than 20 characters (it runs on to line 12)',
      // recovery resumes on the next physical line, which is inside the runaway quote
      "13:1 unknown keyword 'x'; expected package, config, option or list",
      "14:1 unterminated single-quoted string: no closing ' before the end of the file",
    ]);
    // A CRLF ending is not part of the line's length.
    expect(errorsOf(`config ${'t'.repeat(18)} ${'n'.repeat(14)}\r\n`, limits)).toEqual([]);
  });

  it('recovers after each error and reports every problem in one pass', () => {
    const text = [
      'package ok',             // 1
      'config t a',             // 2
      '\toption x 1 2',         // 3 too many
      '\toption y-z 1',         // 4 bad name
      "\toption q 'ok'",        // 5 good
      'bogus',                  // 6 unknown keyword
      'config t b',             // 7
      '\toption n \0',          // 8 NUL
      "\toption m 'fine'",      // 9 good
      'config a.b',             // 10 bad type
      '\toption lost 1',        // 11 dropped silently (its section is broken)
      '\toption bad- 1',        // 12 still checked
      'config t c',             // 13
      "\toption last 'open",    // 14 unterminated
    ].join('\n');
    const { doc, errors } = parseUci(text);
    expect(errors.map((e) => `${e.pos.line}:${e.pos.column}`)).toEqual([
      '3:13', '4:9', '6:1', '8:11', '10:8', '12:9', '14:14',
    ]);
    expect(withoutPositions(doc)).toEqual({
      package: 'ok',
      sections: [
        { type: 't', name: 'a', statements: [{ kind: 'option', name: 'q', value: 'ok' }] },
        { type: 't', name: 'b', statements: [{ kind: 'option', name: 'm', value: 'fine' }] },
        { type: 't', name: 'c', statements: [] },
      ],
    });
  });

  it('does not attach options to the previous section after a broken config line', () => {
    const { doc, errors } = parseUci("config t a\n\toption x 1\nconfig t 'b\0'\n\toption y 2\n");
    expect(errors).toHaveLength(1);
    expect(withoutPositions(doc).sections).toEqual([
      { type: 't', name: 'a', statements: [{ kind: 'option', name: 'x', value: '1' }] },
    ]);
  });

  it('does not report every option as outside a section after a misspelt first config', () => {
    expect(errorsOf('confg t\n\toption a 1\n\toption b 2\n')).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------
// writer

describe('writeUci', () => {
  it("writes libuci's export format", () => {
    const doc = ok("package gleand\nconfig relay lan\n option iface br-lan\n list server \"it's\"\nconfig subscriber\n");
    expect(writeUci(doc)).toBe([
      'package gleand',
      '',
      "config relay 'lan'",
      "\toption iface 'br-lan'",
      "\tlist server 'it'\\''s'",
      '',
      'config subscriber',
      '',
      '',
    ].join('\n'));
  });

  it('writes an empty document as libuci does', () => {
    expect(writeUci({ package: null, sections: [] })).toBe('\n');
  });

  it('refuses documents it could not read back', () => {
    const pos = { line: 1, column: 1 };
    const section = (s: Partial<UciSection>): UciDocument => ({
      package: null, sections: [{ type: 't', name: null, pos, statements: [], ...s }],
    });
    const option = (name: string, value: string): UciDocument =>
      section({ statements: [{ kind: 'option', name, value, pos }] });
    expect(() => writeUci({ package: 'a b', sections: [] })).toThrow(RangeError);
    expect(() => writeUci(section({ type: "x'" }))).toThrow(/invalid section type/);
    expect(() => writeUci(section({ name: '' }))).toThrow(/invalid section name/);
    expect(() => writeUci(option('a.b', 'v'))).toThrow(/invalid option name/);
    expect(() => writeUci(option('a', 'x\0'))).toThrow(/NUL/);
    expect(() => writeUci(option('a', 'x\r\n'))).toThrow(/U\+000D/);
    expect(() => writeUci(option('a', '\ud800'))).toThrow(/surrogate/);
    expect(() => writeUci(option('a', 'x'.repeat(70_000)))).toThrow(/too long/);
    expect(() => writeUci(option('a', "'".repeat(20_000)))).toThrow(/too long/);
  });
});

describe('round trip', () => {
  const VALUE_PIECES = [
    'a', 'Z', '0', ' ', '\t', '\n', "'", '"', '\\', '#', ';', '$', '`', '-', '_', '.', ':', '/',
    'ü', '€', '🚀', '\u00a0', "'\\''", '\\\n', 'option', 'config',
  ];
  const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

  function identifier(rnd: () => number, extra = ''): string {
    const chars = NAME_CHARS + extra;
    const n = 1 + Math.floor(rnd() * 12);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(rnd, [...chars]);
    return s;
  }

  function value(rnd: () => number): string {
    const n = Math.floor(rnd() * 10);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(rnd, VALUE_PIECES);
    return s;
  }

  function document(rnd: () => number): UciDocument {
    const pos = { line: 0, column: 0 };
    const sections: UciSection[] = [];
    const sectionCount = Math.floor(rnd() * 6);
    for (let s = 0; s < sectionCount; s++) {
      const statements: UciStatement[] = [];
      const statementCount = Math.floor(rnd() * 6);
      for (let k = 0; k < statementCount; k++) {
        statements.push({ kind: rnd() < 0.5 ? 'option' : 'list', name: identifier(rnd), value: value(rnd), pos });
      }
      // Distinct names per section keep libuci's "same name, different type" rule out of the way.
      const name = rnd() < 0.5 ? null : `s${s}_${identifier(rnd)}`;
      sections.push({ type: identifier(rnd, '-'), name, pos, statements });
    }
    return { package: rnd() < 0.3 ? identifier(rnd, '-') : null, sections };
  }

  it('parseUci(writeUci(doc)) equals doc for 1000 generated documents', () => {
    const rnd = prng(0x5eed);
    for (let n = 0; n < 1000; n++) {
      const doc = document(rnd);
      const text = writeUci(doc);
      const back = parseUci(text);
      expect(back.errors, text).toEqual([]);
      expect(withoutPositions(back.doc), text).toEqual(withoutPositions(doc));
      expect(writeUci(back.doc)).toBe(text);
    }
  });

  it('normalises any valid spelling to the canonical text in one step', () => {
    const text = "p x\nc t 'n' # c\n o a \"b\\\"c\"'d'\n l e f\\ g\n\n\nconfig u\r\n";
    const canonical = writeUci(ok(text));
    expect(canonical).toBe("package x\n\nconfig t 'n'\n\toption a 'b\"cd'\n\tlist e 'f g'\n\nconfig u\n\n");
    expect(writeUci(ok(canonical))).toBe(canonical);
  });
});

// ---------------------------------------------------------------------------
// hostile input (bounded and non-throwing; no timing assertions)

describe('parseUci: hostile input', () => {
  const MIB = 1024 * 1024;

  it('a 20 MB file of statements stops at the statement limit', () => {
    const text = 'config t\n' + '\toption k v\n'.repeat(Math.ceil((20 * MIB) / 11));
    const r = survives(text);
    expect(r.errors).toEqual([{
      pos: { line: DEFAULT_UCI_LIMITS.maxStatements + 2, column: 2 },
      message: `too many option/list statements (more than ${DEFAULT_UCI_LIMITS.maxStatements}); stopped parsing`,
    }]);
    expect(r.doc.sections[0]!.statements).toHaveLength(DEFAULT_UCI_LIMITS.maxStatements);
  });

  it('stops at the section limit', () => {
    const text = "config t 'n'\n".repeat(DEFAULT_UCI_LIMITS.maxSections + 5);
    const r = survives(text);
    expect(r.doc.sections).toHaveLength(DEFAULT_UCI_LIMITS.maxSections);
    expect(r.errors).toEqual([{
      pos: { line: DEFAULT_UCI_LIMITS.maxSections + 1, column: 1 },
      message: `too many sections (more than ${DEFAULT_UCI_LIMITS.maxSections}); stopped parsing`,
    }]);
  });

  it('a 20 MB single line is one error at the line limit', () => {
    for (const text of ['x'.repeat(20 * MIB), '#'.repeat(20 * MIB), "''".repeat(10 * MIB), '\0'.repeat(20 * MIB)]) {
      expect(survives(text).errors.map((e) => `${e.pos.line}:${e.pos.column} ${e.message}`)).toEqual([
        `1:${DEFAULT_UCI_LIMITS.maxLineChars + 1} line is longer than ${DEFAULT_UCI_LIMITS.maxLineChars} characters`,
      ]);
    }
  });

  it('20 MB of newlines, blanks or comments is an empty document', () => {
    expect(survives('\n'.repeat(20 * MIB))).toEqual({ doc: { package: null, sections: [] }, errors: [] });
    expect(survives('  # c\r\n'.repeat(3 * MIB)).errors).toEqual([]);
  });

  it('a quote left open over a huge file is bounded by the token limit and the error cap', () => {
    const r = survives("config t\n\toption a '" + 'y\n'.repeat(10 * MIB));
    expect(r.errors[0]!.message).toMatch(/^token is longer than 65536 characters/);
    expect(r.errors.at(-1)!.message).toMatch(/too many errors/);
  });

  it('backslash-newline chains and escaped quotes are bounded too', () => {
    expect(survives('config t\n\toption a ' + '\\\n'.repeat(5 * MIB)).errors[0]!.message).toMatch(/^token is longer/);
    expect(survives('config t\n\toption a "' + '\\"'.repeat(5 * MIB)).errors[0]!.message).toMatch(/^line is longer/);
  });

  it("thousands of empty quotes make one empty token ('''' … and alternating kinds)", () => {
    expect(valueOf("''".repeat(30_000))).toBe('');
    expect(valueOf(`''""`.repeat(15_000))).toBe('');
    expect(valueOf(`'a'"b"`.repeat(10_000))).toBe('ab'.repeat(10_000));
    expect(valueOf(`"'"'"'`.repeat(10_000))).toBe(`'"`.repeat(10_000));
  });

  it('only the first tokens of a line are kept; a line full of tokens is one error', () => {
    expect(errorsOf('config t\n\toption a b' + ' c'.repeat(30_000) + '\n')).toEqual([
      "2:13 too many arguments; expected 'option NAME VALUE'",
    ]);
  });

  it('caps the number of errors', () => {
    const r = survives('nonsense\n'.repeat(10_000));
    expect(r.errors).toHaveLength(DEFAULT_UCI_LIMITS.maxErrors + 1);
    expect(r.errors.at(-1)).toEqual({
      pos: { line: DEFAULT_UCI_LIMITS.maxErrors, column: 1 },
      message: `too many errors (${DEFAULT_UCI_LIMITS.maxErrors}); stopped parsing`,
    });
  });

  it('NUL and binary bytes never throw (random UTF-16 soup)', () => {
    const rnd = prng(1);
    for (let n = 0; n < 300; n++) {
      const len = Math.floor(rnd() * 400);
      const codes: number[] = [];
      for (let i = 0; i < len; i++) {
        codes.push(rnd() < 0.5 ? Math.floor(rnd() * 0x10000) : pick(rnd, [0, 9, 10, 13, 32, 34, 35, 39, 59, 92, 0xd800, 0xdc00, 0xfffd]));
      }
      survives(String.fromCharCode(...codes));
    }
  });

  it('mutated valid files never throw', () => {
    const rnd = prng(2);
    const base = "package p\n\nconfig t 'n'\n\toption a 'b c'\n\tlist d \"e\\\"f\"\n\toption g h\\\n i # x\n";
    const alphabet = [...`'"\\#; \t\n\r\0xo`, '\ud800', '\udc00', '🚀', 'config', 'option'];
    for (let n = 0; n < 2000; n++) {
      const chars = [...base];
      const edits = 1 + Math.floor(rnd() * 5);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * (chars.length + 1));
        if (rnd() < 0.5) chars.splice(at, 1);
        else chars.splice(at, 0, pick(rnd, alphabet));
      }
      survives(chars.join(''));
    }
  });

  it('uses small limits consistently (sections, statements, errors)', () => {
    const limits = { maxLineChars: 100, maxTokenChars: 50, maxSections: 3, maxStatements: 4, maxErrors: 2 };
    expect(survives('config t\n'.repeat(10), limits).doc.sections).toHaveLength(3);
    expect(survives('config t\n' + 'option a b\n'.repeat(10), limits).doc.sections[0]!.statements).toHaveLength(4);
    expect(survives('x\n'.repeat(10), limits).errors).toHaveLength(3);
  });
});
