declare const __GLEAND_VERSION__: string | undefined;
/** Injected by the bundler (build/build.mjs); `dev` when run from source. */
export const VERSION: string = typeof __GLEAND_VERSION__ === 'string' ? __GLEAND_VERSION__ : 'dev';
