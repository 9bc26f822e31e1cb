import { describe, expect, it } from 'vitest';
import { formatLine, Logger } from '../../../platform/log';

describe('logger', () => {
  it('formats level, subsystem, message and key=value, quoting where needed', () => {
    expect(formatLine('warn', 'relay', 'dropped', { port: 'lan1', reason: 'bad option', n: 3 }))
      .toBe('warn relay: dropped port=lan1 reason="bad option" n=3');
  });

  it('hostile text cannot forge a second log line', () => {
    expect(formatLine('info', 'relay', 'x', { circuit: 'a\nerror main: forged' })).not.toContain('\n');
  });

  it('rate-limits per key and reports what it suppressed', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new Logger('debug', () => now, (l) => lines.push(l));
    for (let i = 0; i < 100; i++) log.log('warn', 'relay', 'drop', { i }, 'drop:lan1');
    expect(lines.length).toBe(10);
    log.log('warn', 'relay', 'other cause', undefined, 'drop:lan2');
    expect(lines.length).toBe(11);
    now += 60_000;
    log.log('warn', 'relay', 'drop', { i: 100 }, 'drop:lan1');
    expect(lines.slice(-2)).toEqual([
      'warn relay: log lines suppressed by rate limit key=drop:lan1 suppressed=90',
      'warn relay: drop i=100',
    ]);
  });

  it('drops lines below the level', () => {
    const lines: string[] = [];
    const log = new Logger('notice', () => 0, (l) => lines.push(l));
    log.log('info', 'a', 'hidden');
    log.log('error', 'a', 'shown');
    expect(lines).toEqual(['error a: shown']);
  });
});
