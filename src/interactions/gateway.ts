import { Client, Events, GatewayDispatchEvents, GatewayIntentBits, Options, Routes } from 'discord.js';
import type { APIInteraction } from 'discord-api-types/v10';
import type { FastifyBaseLogger } from 'fastify';
import type { Dispatch } from './dispatch.js';

export interface Gateway {
	client: Client;
	/** Connected and READY: what `/readyz` reports. */
	isReady(): boolean;
	close(): Promise<void>;
}

/**
 * The discord.js client: Guilds intent only, caches that keep nothing the bot does not read, REST base
 * `DISCORD_API_URL` (the gateway URL then comes from `GET /gateway/bot`, so a proxy or a test double
 * works unpatched). Interactions are taken as the raw payload, the same JSON `POST /interactions`
 * receives, and answered through the callback route.
 */
export function startGateway(options: {
	token: string;
	apiUrl: string;
	dispatch: Dispatch;
	track: (work: Promise<unknown>) => void;
	log: FastifyBaseLogger;
}): Gateway {
	const { dispatch, log, track } = options;
	const client = new Client({
		intents: [GatewayIntentBits.Guilds],
		rest: { api: options.apiUrl },
		allowedMentions: { parse: [] },
		makeCache: Options.cacheWithLimits({
			...Options.DefaultMakeCacheSettings,
			MessageManager: 0,
			PresenceManager: 0,
			ReactionManager: 0,
			GuildMessageManager: 0,
			DMMessageManager: 0,
			UserManager: 0,
			GuildEmojiManager: 0,
			GuildStickerManager: 0,
			GuildScheduledEventManager: 0,
			GuildInviteManager: 0,
			GuildBanManager: 0,
			VoiceStateManager: 0,
			StageInstanceManager: 0,
			ThreadManager: 0,
			ThreadMemberManager: 0,
			AutoModerationRuleManager: 0,
			GuildMemberManager: { maxSize: 1, keepOverLimit: (member) => member.id === member.client.user.id },
		}),
	});

	client.ws.on(GatewayDispatchEvents.InteractionCreate, (interaction: APIInteraction) => {
		const work = dispatch(interaction, async (response) => {
			await client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
				body: response,
				auth: false,
			});
		}).catch((error) => log.error({ err: error }, 'interaction failed'));
		track(work);
	});
	let closed = false;
	client.once(Events.ClientReady, (ready) => {
		// Closed while the handshake was under way (see close()): end the session now that it can be.
		if (closed) return void client.destroy();
		log.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'Discord gateway ready');
	});
	client.on(Events.ShardDisconnect, (event) =>
		log.warn({ code: event.code }, 'Discord gateway disconnected'),
	);
	client.on(Events.ShardResume, () => log.info('Discord gateway resumed'));
	client.on(Events.Error, (error) => log.error({ err: error }, 'Discord client error'));
	client
		.login(options.token)
		.catch((error) =>
			log.error({ err: error }, 'Discord login failed; commands over the gateway are unavailable'),
		);

	return {
		client,
		isReady: () => client.isReady(),
		async close() {
			closed = true;
			if (client.isReady()) return client.destroy();
			// Still connecting (a stop or a handover right after start-up). discord.js's destroy() during the
			// handshake reconnects instead, and never returns: the session is ended once READY arrives
			// (above), and a login that fails ends it anyway. A process that exits takes it along.
			log.info('the Discord gateway session is still connecting: it is closed as soon as it is ready');
		},
	};
}
