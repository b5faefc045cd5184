import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../state/ingest.js';
import { PROVIDER_FACTS, type Provider, type ProviderFacts } from '../vocabulary/providers.js';
import type { HookRouteOptions } from './guard.js';
import { mofhRoutes } from './mofh/route.js';
import { wooxyRoutes } from './wooxy/route.js';
import { xolphinRoutes } from './xolphin/route.js';

export interface ProviderSpec extends ProviderFacts {
	/** The Fastify plugin that receives this provider's callbacks (`POST /hooks/<provider>/:secret`). */
	routes: (app: FastifyInstance, options: HookRouteOptions & { ingest: Ingest }) => Promise<void>;
}

/**
 * Every provider: what vocabulary/providers.ts knows of it, plus its routes. The app registers each, and
 * the configuration, callback URLs, banner and `npm run urls` iterate the same list. Adding a provider:
 * `src/providers/<name>/{parse,route}.ts`, `src/vocabulary/<name>.ts`, its events in events/event.ts, and
 * an entry here and in PROVIDER_FACTS.
 */
export const PROVIDERS = {
	mofh: { ...PROVIDER_FACTS.mofh, routes: mofhRoutes },
	xolphin: { ...PROVIDER_FACTS.xolphin, routes: xolphinRoutes },
	wooxy: { ...PROVIDER_FACTS.wooxy, routes: wooxyRoutes },
} satisfies Record<Provider, ProviderSpec>;
