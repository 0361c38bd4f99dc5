/**
 * Loads `type: module` authenticators at start-up (and on reload): the module's default
 * export, or its `createAuthenticator` export, is a factory `(options, context) =>
 * Authenticator`. Anything else is a start-up error naming the entry, never a request failure.
 */
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Authenticator, AuthenticatorContext, AuthenticatorFactory } from './types.js';

export class PluginLoadError extends Error {
  constructor(index: number, path: string, problem: string) {
    super(`authenticators[${index}] (${path}): ${problem}`);
    this.name = 'PluginLoadError';
  }
}

export async function loadPlugin(
  index: number,
  path: string,
  options: Readonly<Record<string, unknown>>,
  configFile: string,
  log: AuthenticatorContext['log'],
): Promise<Authenticator> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new PluginLoadError(index, path, `cannot be loaded: ${err instanceof Error ? err.message : String(err)}`);
  }
  const factory = (typeof mod.default === 'function' ? mod.default : mod.createAuthenticator) as
    | AuthenticatorFactory
    | undefined;
  if (typeof factory !== 'function') {
    throw new PluginLoadError(index, path, 'exports no factory; export default (options, context) => authenticator');
  }
  let authenticator: Authenticator;
  try {
    authenticator = await factory(options, { configDir: dirname(configFile), log });
  } catch (err) {
    throw new PluginLoadError(index, path, `factory failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (
    typeof authenticator !== 'object' ||
    authenticator === null ||
    typeof authenticator.name !== 'string' ||
    typeof authenticator.authenticate !== 'function'
  ) {
    throw new PluginLoadError(index, path, 'factory must return { name: string, authenticate(request) }');
  }
  return authenticator;
}
