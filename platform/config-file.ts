import * as fs from 'node:fs';
import { loadConfig, type ConfigProblem, type LoadResult } from '../src/config/config';

/** Bound on the config file size: a UCI file of a large router is tens of KiB. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Read and validate a UCI file. I/O failures become problems like any other. */
export function readConfigFile(file: string): LoadResult {
  const fail = (message: string): LoadResult => ({
    ok: false, problems: [{ file, line: 0, column: 0, message } satisfies ConfigProblem], warnings: [],
  });
  let bytes: Buffer;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return fail('not a regular file');
    if (st.size > MAX_CONFIG_BYTES) return fail(`larger than ${MAX_CONFIG_BYTES} bytes`);
    bytes = fs.readFileSync(file);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  return loadConfig(bytes.toString('utf8'), file);
}
