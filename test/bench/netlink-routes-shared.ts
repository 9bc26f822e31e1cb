/** The benchmark's route set: 2001:db8:XXXX:XX00::/56, one per index. */
export function pdPrefix(i: number): string {
  return `2001:db8:${((i >> 8) & 0xffff).toString(16)}:${((i & 0xff) << 8).toString(16)}::`;
}
