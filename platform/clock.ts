import { performance } from 'node:perf_hooks';
import { instant, type Instant } from '../src/time';

/** The only clock in gleand: monotonic milliseconds, immune to wall-clock steps (NTP at boot). */
export const monotonicNow = (): Instant => instant(Math.floor(performance.now()));
