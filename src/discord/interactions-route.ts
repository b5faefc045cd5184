import type { APIInteraction, APIInteractionResponse } from 'discord-api-types/v10';
import { InteractionResponseType, InteractionType } from 'discord-api-types/v10';
import type { FastifyInstance } from 'fastify';
import type { Dispatch } from './dispatch.js';
import { publicKeyFromHex, verifyDiscordRequest } from './verify.js';

export interface InteractionsOptions {
	publicKey: string;
	dispatch: Dispatch;
	/** Keeps a handler that outlives its HTTP response (after a defer) until shutdown waits for it. */
	track: (work: Promise<unknown>) => void;
	now?: () => number;
}

/**
 * `POST /interactions`: Discord's HTTP interactions. The signature is checked over the raw bytes before
 * anything is parsed (401 otherwise: Discord probes with bad signatures and drops endpoints that accept
 * them); the first answer goes back inline in the HTTP response, later ones through the interaction
 * token, exactly as for interactions that arrive over the gateway.
 */
export async function interactionsRoutes(app: FastifyInstance, opts: InteractionsOptions): Promise<void> {
	const key = publicKeyFromHex(opts.publicKey);
	const now = opts.now ?? Date.now;
	app.removeAllContentTypeParsers();
	app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, body, done) =>
		done(null, body),
	);

	app.post('/interactions', async (request, reply) => {
		const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
		const { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp } = request.headers;
		if (!verifyDiscordRequest(key, signature, timestamp, raw, now())) {
			return reply.code(401).send({ error: 'invalid request signature' });
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
		data: { content: `⚠️ ${content}`, flags: 64 },
	};
}
