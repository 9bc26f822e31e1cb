/** Poll `f` every `everyMs` until it yields a value (not null/undefined/false) or `timeoutMs` passes. */
export async function until<T>(
  what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== null && v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
