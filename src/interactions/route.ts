import type { APIInteraction, APIInteractionResponse } from 'discord-api-types/v10';
import { InteractionResponseType, InteractionType, MessageFlags } from 'discord-api-types/v10';
import type { FastifyInstance } from 'fastify';
import type { Refusals } from '../net/refusals.js';
import type { Dispatch } from './dispatch.js';
import { publicKeyFromHex, TIMESTAMP_TOLERANCE_S, verifyDiscordRequest } from './verify.js';

export interface InteractionsOptions {
	publicKey: string;
	dispatch: Dispatch;
	/** Keeps a handler that outlives its HTTP response (after a defer) until shutdown waits for it. */
	track: (work: Promise<unknown>) => void;
	/**
	 * True the first time an interaction id is offered (`createOnce` over the store, shared by every
	 * process on it): a signed request replayed within the timestamp window is answered 409, not run.
	 */
	once: (key: string, ttlMs: number) => Promise<boolean>;
	now: () => number;
}

/** A signed request is accepted while its timestamp is within ±tolerance of our clock: up to twice that. */
const REPLAY_WINDOW_MS = 2 * TIMESTAMP_TOLERANCE_S * 1000;
const SNOWFLAKE = /^\d{1,20}$/;

/**
 * `POST /interactions`: Discord's HTTP interactions. The signature is checked over the raw bytes before
 * anything is parsed (401 otherwise: Discord probes with bad signatures and drops endpoints that accept
 * them); an interaction id seen before gets 409 (a captured request replayed within the timestamp window
 * must not run a command twice); the first answer goes back inline in the HTTP response, later ones through the interaction
 * token, exactly as for interactions that arrive over the gateway.
 */
export async function interactionsRoutes(
	app: FastifyInstance,
	opts: InteractionsOptions & { refusals: Refusals },
): Promise<void> {
	const key = publicKeyFromHex(opts.publicKey);
	app.removeAllContentTypeParsers();
	app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, body, done) =>
		done(null, body),
	);

	// A bad signature counts against the client address; past HOOK_RATE_LIMIT a minute it gets 429 before
	// its body is read. Discord's own requests are signed, so they are never refused.
	app.post('/interactions', { onRequest: opts.refusals.gate }, async (request, reply) => {
		const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
		const { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp } = request.headers;
		if (!verifyDiscordRequest(key, signature, timestamp, raw, opts.now())) {
			return opts.refusals.refuse(request, reply, 'badSignature', 401, {
				error: 'invalid request signature',
			});
		}
		let interaction: APIInteraction;
		try {
			interaction = JSON.parse(raw.toString('utf8'));
		} catch {
			return reply.code(400).send({ error: 'body is not JSON' });
		}
		if (typeof interaction !== 'object' || interaction === null || typeof interaction.type !== 'number') {
			return reply.code(400).send({ error: 'not an interaction' });
		}
		if (interaction.type === InteractionType.Ping) return { type: InteractionResponseType.Pong };
		if (typeof interaction.id !== 'string' || !SNOWFLAKE.test(interaction.id)) {
			return reply.code(400).send({ error: 'not an interaction' });
		}
		let first: boolean;
		try {
			first = await opts.once(`interaction:${interaction.id}`, REPLAY_WINDOW_MS);
		} catch (error) {
			request.log.error({ err: error }, 'store unavailable: interaction refused');
			return reply.code(503).send({ error: 'store unavailable, retry later' });
		}
		if (!first) return reply.code(409).send({ error: 'interaction already received' });

		// The handler's first answer resolves `initial`; it is sent inline, and the handler goes on.
		let answer!: (response: APIInteractionResponse) => void;
		const initial = new Promise<APIInteractionResponse>((resolve) => {
			answer = resolve;
		});
		const flushed = new Promise<void>((resolve) => reply.raw.once('finish', resolve));
		const work = opts.dispatch(interaction, async (response) => {
			answer(response);
			await flushed;
		});
		opts.track(work);
		const fallback = work.then(
			() => failure('The command finished without answering.'),
			() => failure('Something went wrong; the details are in the log.'),
		);
		return reply.send(await Promise.race([initial, fallback]));
	});
}

function failure(content: string): APIInteractionResponse {
	return {
		type: InteractionResponseType.ChannelMessageWithSource,
		data: { content: `⚠️ ${content}`, flags: MessageFlags.Ephemeral },
	};
}
