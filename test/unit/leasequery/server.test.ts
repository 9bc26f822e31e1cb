// The per-server and per-message timers of RFC 4388 §6.3 (seed 003 §6.6), as scripts
// against simulated time (CONVENTIONS 9): which queries leave at which instants.
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, ServerPacer, type PacerStep } from '../../../src/leasequery/server';
import { instant, type Instant } from '../../../src/time';

const s = (n: number): Instant => instant(n * 1000);

/** Drive the pacer from `from` to `to` seconds, polling at every deadline; the sends and drops with their second. */
function run(p: ServerPacer, from: number, to: number, answerAt: (t: number, step: PacerStep) => boolean = () => false) {
  const out: [number, string][] = [];
  let now = s(from);
  for (let guard = 0; guard < 10_000; guard++) {
    let answered = false;
    for (const step of p.poll(now)) {
      out.push([now / 1000, step.kind === 'send' ? `${step.retransmission ? 'resend' : 'send'} q${step.query}` : `drop q${step.query}`]);
      if (step.kind === 'send' && answerAt(now / 1000, step)) answered = p.answered(step.xid, now) !== null || answered;
    }
    if (answered) continue; // the module polls again at once after an answer
    const next = p.nextDeadline();
    if (next === null || next > s(to)) break;
    now = next;
  }
  return out;
}

describe('ServerPacer (RFC 4388 §6.3)', () => {
  it('a dead server over 10 simulated minutes gets one query at 0, 10, 30, 70 s, then once a minute', () => {
    const p = new ServerPacer({ retryMs: 5000, maxOutstanding: 64 });
    for (let q = 1; q <= 5; q++) p.enqueue(q, 100 + q);
    const sent = run(p, 0, 600);
    expect(sent).toEqual([
      [0, 'send q1'], [10, 'resend q1'], [30, 'resend q1'], [70, 'resend q1'], [130, 'resend q1'], [190, 'resend q1'],
      [250, 'resend q1'], [310, 'resend q1'], [370, 'resend q1'], [430, 'resend q1'], [490, 'resend q1'], [550, 'resend q1'],
    ]);
    // never more than one per 10 s, never less than one a minute while queries wait
    const times = sent.map(([t]) => t);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(10);
      expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(BACKOFF_CAP_MS / 1000);
    }
    expect(p.supports).toBe('no');
    expect(p.status(s(600))).toMatchObject({ supports: 'no', outstanding: 1, queued: 4, sent: 12, retransmitted: 11, dropped: 0 });
  });

  it('the poll that is no longer needed is replaced by the next queued query at the poll pace, not at once', () => {
    const p = new ServerPacer({ retryMs: 5000, maxOutstanding: 64 });
    p.enqueue(1, 11);
    p.enqueue(2, 12);
    expect(run(p, 0, 5)).toEqual([[0, 'send q1']]);
    p.cancel(1);
    expect(p.poll(s(6))).toEqual([]);
    expect(p.nextDeadline()).toBe(s(10));
    expect(run(p, 10, 31)).toEqual([[10, 'send q2'], [30, 'resend q2']]);
  });

  it('an answer starts the per-server timer: up to max_outstanding in flight, each retried after 5, 10, 20, 40, 60, 60 s', () => {
    const p = new ServerPacer({ retryMs: 5000, maxOutstanding: 3 });
    for (let q = 1; q <= 5; q++) p.enqueue(q, 100 + q);
    // q1 polls and is answered at once; the server is then known to answer
    expect(run(p, 0, 0, (_t, st) => st.kind === 'send' && st.query === 1)).toEqual([[0, 'send q1'], [0, 'send q2'], [0, 'send q3'], [0, 'send q4']]);
    expect(p.supports).toBe('yes');
    expect(p.status(s(0))).toMatchObject({ outstanding: 3, queued: 1 });
    // q2 answered at 1 s: q5 goes (still 3 in flight)
    p.answered(102, s(1));
    expect(p.poll(s(1))).toEqual([{ kind: 'send', query: 5, xid: 105, retransmission: false }]);
    // keep the server alive with answers to unrelated xids; q3 and q4 back off per message
    const sent: [number, string][] = [];
    for (let t = 2; t <= 200; t++) {
      p.answered(999, s(t)); // an answer (e.g. a late one) restarts the per-server timer
      for (const st of p.poll(s(t))) if (st.kind === 'send' && st.query === 3) sent.push([t, 'resend q3']);
    }
    expect(sent.map(([t]) => t)).toEqual([5, 15, 35, 75, 135, 195]);
  });

  it('when the per-server timer expires, all outstanding queries but the oldest are dropped; that one polls', () => {
    const p = new ServerPacer({ retryMs: 5000, maxOutstanding: 10 });
    p.enqueue(1, 101);
    run(p, 0, 0, () => true); // answered at 0: running until 10 s
    for (let q = 2; q <= 5; q++) p.enqueue(q, 100 + q);
    const steps = run(p, 1, 120);
    expect(steps).toEqual([
      [1, 'send q2'], [1, 'send q3'], [1, 'send q4'], [1, 'send q5'],
      [6, 'resend q2'], [6, 'resend q3'], [6, 'resend q4'], [6, 'resend q5'],
      [10, 'drop q3'], [10, 'drop q4'], [10, 'drop q5'],
      // a server known to answer is polled from the retry interval: 11, then 10, 20, 40, 60 s apart
      [11, 'resend q2'], [16, 'resend q2'], [26, 'resend q2'], [46, 'resend q2'], [86, 'resend q2'],
    ]);
    expect(p.status(s(120))).toMatchObject({ supports: 'yes', outstanding: 1, dropped: 3, backoff: { state: 'expired' } });
  });

  it('an idle server whose timer ran out starts with one poll again, answered, then the queue flows', () => {
    const p = new ServerPacer({ retryMs: 2000, maxOutstanding: 2 });
    p.enqueue(1, 1);
    run(p, 0, 0, () => true);
    for (let q = 2; q <= 4; q++) p.enqueue(q, q);
    // 10 minutes later: the timer expired long ago, so only q2 goes
    expect(p.poll(s(600)).map((x) => x.kind === 'send' && x.query)).toEqual([2]);
    p.answered(2, s(600));
    expect(p.poll(s(600)).map((x) => x.kind === 'send' && x.query)).toEqual([3, 4]);
  });
});
