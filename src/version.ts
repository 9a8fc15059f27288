/** The running version. esbuild replaces DRIFTSHIELD_VERSION at bundle time; tests read package.json's. */
declare const DRIFTSHIELD_VERSION: string | undefined;

export const VERSION: string = typeof DRIFTSHIELD_VERSION === 'string' ? DRIFTSHIELD_VERSION : (process.env.npm_package_version ?? '0.0.0-dev');
