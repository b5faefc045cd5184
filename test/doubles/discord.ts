/**
 * A wire-faithful Discord test double for 127.0.0.1: REST under `/api(/v10)` and a JSON gateway on the same
 * port. Point discord.js at it with `new Client({ rest: { api: double.apiUrl } })`: the gateway URL is
 * whatever `GET /gateway/bot` returns, so nothing else needs patching (docs/discord.md §2 "How @discordjs/ws
 * finds the gateway").
 *
 * Facts mirrored here come from docs/discord.md §1 (limits, rate-limit headers, error
 * codes), §2 (discord.js conventions) and §4 (the handshake discord.js needs).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
	createServer,
	type IncomingHttpHeaders,
	type IncomingMessage,
	type ServerResponse,
	STATUS_CODES,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
	type APIApplicationCommandInteractionDataOption,
	type APIAttachment,
	type APIChatInputApplicationCommandGuildInteraction,
	type APIEmbed,
	type APIMessage,
	type APIUser,
	ApplicationCommandOptionType,
	ApplicationCommandType,
	ChannelType,
	ComponentType,
	EmbedType,
	GatewayCloseCodes,
	GatewayDispatchEvents,
	GatewayOpcodes,
	InteractionContextType,
	InteractionResponseType,
	InteractionType,
	Locale,
	MessageFlags,
	MessageType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { until } from '../poll.js';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

export interface DiscordDoubleOptions {
	/** Bot token the double accepts (`Authorization: Bot <token>` and gateway IDENTIFY). */
	token?: string;
	applicationId?: string;
	guildId?: string;
	/** Defaults to the application id: for current Discord apps the bot user id equals the application id. */
	botUserId?: string;
	/** Known text channel ids. When given, any other channel id answers 404 Unknown Channel (10003). */
	channels?: string[];
	/**
	 * Known webhooks. When given, any other id/token pair answers 404 Unknown Webhook (10015). A webhook
	 * belongs to `channelId` (a text or forum channel; default the first text channel).
	 */
	webhooks?: { id: string; token: string; channelId?: string }[];
	/** Forum channels (type 15): posts are threads made with a first message; nothing is posted in them directly. */
	forums?: string[];
	/** Active threads per guild before Discord answers 160006 (community reports say 1,000). */
	maxActiveThreads?: number;
	/** HELLO heartbeat interval; the 41250 ms default keeps heartbeats out of short tests (docs/discord.md §4.6). */
	heartbeatInterval?: number;
	/** How long an injected interaction may wait for its callback; Discord allows 3 s (docs/discord.md §1). */
	interactionDeadlineMs?: number;
	/**
	 * Each route's rate limit per top-level resource (channel, webhook, interaction): `X-RateLimit-Remaining`
	 * counts down within a window, and a request past the limit gets Discord's 429. Default 50 per second.
	 */
	rateLimit?: { limit: number; windowMs: number };
	/** Log every request and gateway frame to stderr. */
	debug?: boolean;
	/**
	 * Discord's per-channel message limit for bots, observed at about 5 per 5 s (docs/discord.md §1): a POST
	 * over it answers 429 with `retry_after`, and every answer carries the bucket's real remaining count
	 * and reset. `false` turns it off.
	 */
	channelRate?: { messages: number; perMs: number } | false;
	/** How long `enforce_nonce` remembers a nonce (Discord: "the past few minutes"); default 5 min. */
	nonceWindowMs?: number;
}

export interface UploadedFile {
	field: string;
	filename: string;
	size: number;
	contentType: string;
	/** The file's bytes as uploaded. */
	data: Buffer;
}

export interface RecordedRequest {
	method: string;
	/** Full path as sent, e.g. `/api/v10/channels/1/messages`. */
	path: string;
	query: Record<string, string>;
	headers: IncomingHttpHeaders;
	/** Parsed JSON (or `payload_json` of a multipart body), otherwise the raw text; `undefined` when empty. */
	body: unknown;
	files: UploadedFile[];
	at: number;
	/** Status answered; `undefined` while unanswered (or forever for `hang`/`reset` faults). */
	status?: number;
}

export interface CreatedMessage {
	id: string;
	channelId: string;
	nonce: string | number | null;
	body: MessageBody;
	message: APIMessage;
}

export interface WebhookMessage {
	id: string;
	webhookId: string;
	token: string;
	threadId: string | null;
	body: MessageBody;
	wait: boolean;
	message: APIMessage;
}

export interface InteractionResponse {
	interactionId: string;
	token: string;
	body: InteractionCallbackBody;
}

export interface FollowupMessage {
	id: string;
	applicationId: string;
	token: string;
	body: MessageBody;
	message: APIMessage;
}

export interface WebhookEdit {
	/** `@original` or a message id. */
	messageId: string;
	/** The application id for interaction tokens, otherwise the webhook id. */
	applicationId: string;
	token: string;
	body: MessageBody;
	message: APIMessage;
}

export interface ChannelMessageEdit {
	messageId: string;
	channelId: string;
	body: MessageBody;
	message: APIMessage;
}

export interface CommandRegistration {
	applicationId: string;
	/** `null` for global commands. */
	guildId: string | null;
	body: unknown;
	/** What the double answered: the same commands with ids. */
	commands: Record<string, unknown>[];
}

export type RateLimitScope = 'user' | 'shared' | 'global';

/** A thread (or forum post) as the double keeps it (docs/discord.md §6). */
export interface ThreadState {
	id: string;
	parentId: string;
	name: string;
	/** 11 public, 12 private. */
	type: ChannelType.PublicThread | ChannelType.PrivateThread;
	archived: boolean;
	locked: boolean;
	autoArchiveDuration: number;
	/** How it was made: from a message, without one, as a forum post, or by a webhook into a forum. */
	origin: 'message' | 'channel' | 'forum' | 'webhook';
	/** Times it went from archived back to active by a message posted into it. */
	unarchivedByPost: number;
}

/** A modal the bot answered an interaction with (callback type 9). */
export interface ModalShown {
	interactionId: string;
	token: string;
	channelId: string | null;
	body: { custom_id: string; title: string; components: unknown[] };
}

/** What a member submits in a modal: values by text input custom id. */
export interface ModalSubmitInit extends Omit<ChatInputInit, 'commandName' | 'options'> {
	values: Record<string, string>;
}

/** One scripted answer. Exactly one of `status`, `hang`, `reset` or `createThenFail` is meaningful. */
export interface FaultResponse {
	/** Answer with this status and Discord's error body for it (429, 401, 403, 404, 5xx, …). */
	status?: number;
	/** 429 only: seconds to wait (float). The header is rounded up like Discord's; the body keeps the float. */
	retryAfter?: number;
	/** 429 only; `global` also sends `X-RateLimit-Global: true`. Default `user`. */
	scope?: RateLimitScope;
	/** Override the JSON error `code` (for 429 it is only sent when given). */
	code?: number;
	/** Override the whole JSON body. */
	body?: unknown;
	/** Never answer; the socket is closed only when the double stops. */
	hang?: boolean;
	/** Destroy the TCP socket without answering (ECONNRESET on the client). */
	reset?: boolean;
	/** Do the real work (e.g. create the message), then answer with this status: a lost response. */
	createThenFail?: number;
	/** How many matching requests get this answer (default 1; `Infinity` for all). */
	times?: number;
}

export interface FaultRule extends FaultResponse {
	/** HTTP method; any when omitted. */
	method?: string;
	/**
	 * Matched against the full path (`/api/v10/channels/1/messages`) and against the route without the
	 * `/api/v10` prefix (`/channels/1/messages`); a string must equal one of them.
	 */
	path: RegExp | string;
	channelId?: string;
	webhookId?: string;
	/** A sequence of answers, consumed one per matching request. Overrides the single answer on the rule. */
	responses?: FaultResponse[];
}

export interface FaultHandle {
	/** How many requests this rule has answered so far. */
	readonly hits: number;
	/** True once every scripted answer was used. */
	readonly done: boolean;
}

export interface GatewayConnectionInfo {
	query: Record<string, string>;
	at: number;
}

export interface ChatInputInit {
	commandName: string;
	options?: APIApplicationCommandInteractionDataOption[];
	channelId?: string;
	userId?: string;
	username?: string;
	/** Role ids of the invoking member. */
	roles?: string[];
	/** Permission bitfield string of the invoking member; defaults to the @everyone permissions. */
	permissions?: string;
	locale?: Locale;
}

export interface MessageBody {
	content?: unknown;
	embeds?: unknown;
	nonce?: unknown;
	enforce_nonce?: unknown;
	components?: unknown;
	sticker_ids?: unknown;
	poll?: unknown;
	attachments?: unknown;
	flags?: unknown;
	tts?: unknown;
	username?: unknown;
	avatar_url?: unknown;
	[key: string]: unknown;
}

export interface InteractionCallbackBody {
	type?: number;
	data?: MessageBody;
	[key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

interface Reply {
	status: number;
	body?: unknown;
	headers?: Record<string, string>;
}

interface FieldError {
	code: string;
	message: string;
}

interface FormErrors {
	_errors?: FieldError[];
	[key: string]: FormErrors | FieldError[] | undefined;
}

const DISCORD_EPOCH = 1420070400000n;
let snowflakeIncrement = 0;

/** Real-looking snowflakes so discord.js derives sensible `createdAt` values. */
/** A guild member object as the gateway and interactions carry it. */
function guildMember(user: APIUser, roles: string[], joinedAt: string) {
	return {
		user,
		roles,
		joined_at: joinedAt,
		premium_since: null,
		nick: null,
		avatar: null,
		deaf: false,
		mute: false,
		flags: 0,
		pending: false,
		communication_disabled_until: null,
	};
}

export function snowflake(): string {
	snowflakeIncrement = (snowflakeIncrement + 1) % 4096;
	return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | BigInt(snowflakeIncrement)).toString();
}

const apiError = (status: number, message: string, code: number, errors?: FormErrors): Reply => ({
	status,
	body: errors ? { message, code, errors } : { message, code },
});

const unauthorized = (): Reply => apiError(401, '401: Unauthorized', 0);
const notFound = (): Reply => apiError(404, '404: Not Found', 0);
const unknownChannel = (): Reply => apiError(404, 'Unknown Channel', 10003);
const unknownMessage = (): Reply => apiError(404, 'Unknown Message', 10008);
const unknownWebhook = (): Reply => apiError(404, 'Unknown Webhook', 10015);
const unknownInteraction = (): Reply => apiError(404, 'Unknown interaction', 10062);
const wrongChannelType = (): Reply => apiError(400, 'Cannot execute action on this channel type', 50024);
const threadLocked = (): Reply => apiError(403, 'Thread is locked', 160005);
const tooManyThreads = (): Reply => apiError(400, 'Maximum number of active threads reached', 160006);
/** A thread's auto-archive duration in minutes: one of these four (docs/discord.md §6). */
const ARCHIVE_DURATIONS = new Set<unknown>([60, 1440, 4320, 10080]);

function asRecord(value: unknown): Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {};
}

function asArray(value: unknown): unknown[] {
	return Array.isArray(value) ? value : [];
}

/** Discord trims before counting (docs/discord.md §1); count code points, not UTF-16 units. */
function textLength(value: unknown): number {
	return typeof value === 'string' ? [...value.trim()].length : 0;
}

function addError(errors: FormErrors, path: (string | number)[], code: string, message: string): void {
	let node = errors;
	for (const key of path) {
		const child = node[String(key)];
		const next: FormErrors = child && !Array.isArray(child) ? child : {};
		node[String(key)] = next;
		node = next;
	}
	node._errors = [...(node._errors ?? []), { code, message }];
}

const bucketHash = (method: string, template: string): string =>
	createHash('sha256').update(`${method} ${template}`).digest('hex').slice(0, 32);

const epochSeconds = (inSeconds: number): string => ((Date.now() + inSeconds * 1000) / 1000).toFixed(3);

// ---------------------------------------------------------------------------------------------------------
// Body validation, like Create Message / Execute Webhook (docs/discord.md §1 "Embeds and message size")
// ---------------------------------------------------------------------------------------------------------

interface ValidateOptions {
	/** Create calls need content, embeds, components, stickers, a poll or a file; edits do not. */
	requireContent: boolean;
	/** Webhook `username` overrides may not contain "discord" or "clyde" (docs/discord.md §5). */
	webhook?: boolean;
	hasFiles?: boolean;
}

function validateMessageBody(body: MessageBody, options: ValidateOptions): Reply | null {
	const errors: FormErrors = {};
	const maxLength = (path: (string | number)[], value: unknown, max: number) => {
		if (textLength(value) > max)
			addError(errors, path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
	};
	const required = (path: (string | number)[], value: unknown) => {
		if (textLength(value) === 0) addError(errors, path, 'BASE_TYPE_REQUIRED', 'This field is required');
	};

	maxLength(['content'], body.content, 2000);
	if (body.nonce !== undefined && [...String(body.nonce)].length > 25) {
		addError(errors, ['nonce'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
	}
	if (options.webhook && typeof body.username === 'string') {
		const username = body.username.toLowerCase();
		const banned = ['discord', 'clyde'].find((word) => username.includes(word));
		if (banned) {
			addError(errors, ['username'], 'USERNAME_INVALID_CONTAINS', `Username cannot contain "${banned}"`);
		}
		maxLength(['username'], body.username, 80);
	}

	const embeds = asArray(body.embeds);
	if (embeds.length > 10)
		addError(errors, ['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
	let total = 0;
	embeds.forEach((raw, i) => {
		const embed = asRecord(raw);
		const footer = asRecord(embed.footer);
		const author = asRecord(embed.author);
		const fields = asArray(embed.fields);
		maxLength(['embeds', i, 'title'], embed.title, 256);
		maxLength(['embeds', i, 'description'], embed.description, 4096);
		maxLength(['embeds', i, 'footer', 'text'], footer.text, 2048);
		maxLength(['embeds', i, 'author', 'name'], author.name, 256);
		if (fields.length > 25) {
			addError(errors, ['embeds', i, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
		}
		total +=
			textLength(embed.title) +
			textLength(embed.description) +
			textLength(footer.text) +
			textLength(author.name);
		fields.forEach((rawField, j) => {
			const field = asRecord(rawField);
			// Empty field names/values are a classic alert-bot 400, so they are checked too.
			required(['embeds', i, 'fields', j, 'name'], field.name);
			required(['embeds', i, 'fields', j, 'value'], field.value);
			maxLength(['embeds', i, 'fields', j, 'name'], field.name, 256);
			maxLength(['embeds', i, 'fields', j, 'value'], field.value, 1024);
			total += textLength(field.name) + textLength(field.value);
		});
	});
	// The 6000 total spans all embeds of one message (docs/discord.md §1).
	if (total > 6000) {
		addError(errors, ['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
	}
	if (Object.keys(errors).length > 0) return apiError(400, 'Invalid Form Body', 50035, errors);

	const empty =
		textLength(body.content) === 0 &&
		embeds.length === 0 &&
		asArray(body.components).length === 0 &&
		asArray(body.sticker_ids).length === 0 &&
		body.poll === undefined &&
		!options.hasFiles;
	// Discord answers an empty message with its own code, not 50035 (docs/discord.md §1 error codes).
	if (options.requireContent && empty) return apiError(400, 'Cannot send an empty message', 50006);
	return null;
}

/**
 * An autocomplete answer: at most 25 choices, each name 1-100 characters and a string value 1-100
 * characters (DDocs application-commands.mdx § Application Command Option Choice Structure; the client
 * does not check them, Discord's API does).
 */
function validateChoices(raw: unknown): Reply | null {
	const errors: FormErrors = {};
	const choices = asArray(raw);
	if (choices.length > 25)
		addError(errors, ['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
	choices.forEach((rawChoice, i) => {
		const choice = asRecord(rawChoice);
		const name = textLength(choice.name);
		if (typeof choice.name !== 'string' || name < 1 || name > 100)
			addError(
				errors,
				['data', 'choices', i, 'name'],
				'BASE_TYPE_BAD_LENGTH',
				'Must be between 1 and 100 in length.',
			);
		if (typeof choice.value === 'string') {
			const value = textLength(choice.value);
			if (value < 1 || value > 100)
				addError(
					errors,
					['data', 'choices', i, 'value'],
					'BASE_TYPE_BAD_LENGTH',
					'Must be between 1 and 100 in length.',
				);
		} else if (typeof choice.value !== 'number') {
			addError(errors, ['data', 'choices', i, 'value'], 'BASE_TYPE_REQUIRED', 'This field is required');
		}
	});
	return Object.keys(errors).length > 0 ? apiError(400, 'Invalid Form Body', 50035, errors) : null;
}

/**
 * A modal answer (callback type 9): `custom_id` 1-100, `title` 1-45, 1-5 components, each an action row
 * holding one text input or a label (title <= 45) wrapping one, or a text display; text inputs with a
 * custom id 1-100, style 1 or 2, lengths within 0-4000 (docs/discord.md §6).
 */
function validateModal(data: Record<string, unknown>): Reply | null {
	const errors: FormErrors = {};
	const between = (path: (string | number)[], value: unknown, min: number, max: number) => {
		const length = textLength(value);
		if (typeof value !== 'string' || length < min || length > max)
			addError(errors, path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
	};
	between(['data', 'custom_id'], data.custom_id, 1, 100);
	between(['data', 'title'], data.title, 1, 45);
	const components = asArray(data.components);
	if (components.length < 1 || components.length > 5)
		addError(errors, ['data', 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
	const textInput = (path: (string | number)[], raw: unknown, labelled: boolean) => {
		const input = asRecord(raw);
		if (input.type !== ComponentType.TextInput) {
			addError(errors, [...path, 'type'], 'COMPONENT_TYPE_INVALID', 'Only text inputs are handled here.');
			return;
		}
		between([...path, 'custom_id'], input.custom_id, 1, 100);
		if (input.style !== 1 && input.style !== 2)
			addError(errors, [...path, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2}.');
		// Inside a label the label carries the text; a text input in an action row has its own (deprecated).
		if (!labelled) between([...path, 'label'], input.label, 1, 45);
		for (const bound of ['min_length', 'max_length'] as const) {
			const value = input[bound];
			if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 4000))
				addError(errors, [...path, bound], 'NUMBER_TYPE_MAX', 'Must be between 0 and 4000.');
		}
		if (input.value !== undefined && textLength(input.value) > 4000)
			addError(errors, [...path, 'value'], 'BASE_TYPE_MAX_LENGTH', 'Must be 4000 or fewer in length.');
		if (input.placeholder !== undefined && textLength(input.placeholder) > 100)
			addError(errors, [...path, 'placeholder'], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
	};
	components.forEach((raw, i) => {
		const component = asRecord(raw);
		const path = ['data', 'components', i];
		if (component.type === ComponentType.ActionRow) {
			const inner = asArray(component.components);
			if (inner.length !== 1)
				addError(
					errors,
					[...path, 'components'],
					'BASE_TYPE_BAD_LENGTH',
					'Must be between 1 and 1 in length.',
				);
			inner.forEach((input, j) => {
				textInput([...path, 'components', j], input, false);
			});
		} else if (component.type === ComponentType.Label) {
			between([...path, 'label'], component.label, 1, 45);
			textInput([...path, 'component'], component.component, true);
		} else if (component.type !== ComponentType.TextDisplay) {
			addError(errors, [...path, 'type'], 'COMPONENT_TYPE_INVALID', 'Invalid component type for a modal.');
		}
	});
	return Object.keys(errors).length > 0 ? apiError(400, 'Invalid Form Body', 50035, errors) : null;
}

// ---------------------------------------------------------------------------------------------------------
// Command registration, like Bulk Overwrite Application Commands (DDocs application-commands.mdx)
// ---------------------------------------------------------------------------------------------------------

/** Chat-input command and option names: 1-32 of letters, digits, `-` and `_`, lower case where it exists. */
const COMMAND_NAME = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const OPTION_TYPES = new Set(
	Object.values(ApplicationCommandOptionType).filter((value) => typeof value === 'number'),
);
const NESTING = new Set<unknown>([
	ApplicationCommandOptionType.Subcommand,
	ApplicationCommandOptionType.SubcommandGroup,
]);
const WITH_CHOICES = new Set<unknown>([
	ApplicationCommandOptionType.String,
	ApplicationCommandOptionType.Integer,
	ApplicationCommandOptionType.Number,
]);

function validateName(value: unknown, path: (string | number)[], errors: FormErrors): void {
	const name = typeof value === 'string' ? value : '';
	if (!COMMAND_NAME.test(name) || name !== name.toLowerCase())
		addError(errors, [...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
}

function validateDescription(value: unknown, path: (string | number)[], errors: FormErrors): void {
	const length = textLength(value);
	if (typeof value !== 'string' || length < 1 || length > 100)
		addError(
			errors,
			[...path, 'description'],
			'BASE_TYPE_BAD_LENGTH',
			'Must be between 1 and 100 in length.',
		);
}

function validateCommand(
	command: Record<string, unknown>,
	path: (string | number)[],
	errors: FormErrors,
): void {
	const type = command.type ?? ApplicationCommandType.ChatInput;
	if (type !== ApplicationCommandType.ChatInput) return;
	validateName(command.name, path, errors);
	validateDescription(command.description, path, errors);
	validateOptions(command.options, path, 'command', errors);
}

/**
 * One level of options. At the top, either only subcommands and groups or none of them; in a group only
 * subcommands; in a subcommand no subcommands or groups. At most 25, names unique, required before
 * optional, choices (at most 25, names and string values 1-100) only on strings and numbers and never
 * with autocomplete.
 */
function validateOptions(
	raw: unknown,
	path: (string | number)[],
	level: 'command' | 'group' | 'subcommand',
	errors: FormErrors,
): void {
	if (raw === undefined) return;
	const options = asArray(raw);
	const at = [...path, 'options'];
	if (options.length > 25) addError(errors, at, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
	const nesting = options.filter((option) => NESTING.has(asRecord(option).type)).length;
	if (level === 'command' && nesting > 0 && nesting < options.length)
		addError(
			errors,
			at,
			'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
			'Sub-command and sub-command group option types are mutually exclusive to all other types',
		);
	const names = new Set<string>();
	let optionalSeen = false;
	options.forEach((rawOption, j) => {
		const option = asRecord(rawOption);
		const here = [...at, j];
		if (!OPTION_TYPES.has(option.type as number)) {
			addError(
				errors,
				[...here, 'type'],
				'BASE_TYPE_CHOICES',
				`Value must be one of ${[...OPTION_TYPES].join(', ')}.`,
			);
			return;
		}
		validateName(option.name, here, errors);
		validateDescription(option.description, here, errors);
		if (typeof option.name === 'string') {
			if (names.has(option.name))
				addError(
					errors,
					[...here, 'name'],
					'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
					'Option names must be unique',
				);
			names.add(option.name);
		}
		const allowed =
			level === 'command'
				? true
				: level === 'group'
					? option.type === ApplicationCommandOptionType.Subcommand
					: !NESTING.has(option.type);
		if (!allowed)
			addError(
				errors,
				[...here, 'type'],
				'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
				`Option type ${option.type} cannot be nested here`,
			);
		if (NESTING.has(option.type)) {
			const inner = option.type === ApplicationCommandOptionType.SubcommandGroup ? 'group' : 'subcommand';
			validateOptions(option.options, here, inner, errors);
			return;
		}
		if (option.required === true && optionalSeen)
			addError(
				errors,
				here,
				'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
				'Required options must be placed before non-required options',
			);
		if (option.required !== true) optionalSeen = true;
		if (option.choices === undefined) return;
		const choices = asArray(option.choices);
		if (!WITH_CHOICES.has(option.type) || option.autocomplete === true)
			addError(
				errors,
				[...here, 'choices'],
				'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
				'Choices are not allowed here',
			);
		if (choices.length > 25)
			addError(errors, [...here, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
		choices.forEach((rawChoice, k) => {
			const choice = asRecord(rawChoice);
			const name = textLength(choice.name);
			if (name < 1 || name > 100)
				addError(
					errors,
					[...here, 'choices', k, 'name'],
					'BASE_TYPE_BAD_LENGTH',
					'Must be between 1 and 100 in length.',
				);
			const value = typeof choice.value === 'string' ? textLength(choice.value) : 1;
			if (value < 1 || value > 100)
				addError(
					errors,
					[...here, 'choices', k, 'value'],
					'BASE_TYPE_BAD_LENGTH',
					'Must be between 1 and 100 in length.',
				);
		});
	});
}

// ---------------------------------------------------------------------------------------------------------
// Request body parsing
// ---------------------------------------------------------------------------------------------------------

/** Discord's default upload limit per file (interactions carry `attachment_size_limit`). */
export const ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;

/**
 * Uploaded files as Discord checks them: at most 10 per message, each within the size limit, named with
 * ASCII letters, digits, `_`, `-` and `.` (PLATFORM.md §7). A 413 or 400 otherwise; undefined when fine.
 */
function validateFiles(files: UploadedFile[]): Reply | undefined {
	if (files.length > 10)
		return apiError(400, 'Invalid Form Body', 50035, {
			files: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 10 or fewer in length.' }] },
		});
	for (const file of files) {
		if (file.size > ATTACHMENT_SIZE_LIMIT) return apiError(413, 'Request entity too large', 40005);
		if (!/^[A-Za-z0-9_.-]{1,100}$/.test(file.filename))
			return apiError(400, 'Invalid Form Body', 50035, {
				[file.field]: { _errors: [{ code: 'INVALID_FILENAME', message: 'Invalid file name.' }] },
			});
	}
	return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

interface ParsedBody {
	body: unknown;
	files: UploadedFile[];
	invalidJson: boolean;
}

async function parseBody(contentType: string | undefined, raw: Buffer): Promise<ParsedBody> {
	if (raw.length === 0) return { body: undefined, files: [], invalidJson: false };
	const text = raw.toString('utf8');
	if (contentType?.startsWith('application/json')) {
		try {
			return { body: JSON.parse(text), files: [], invalidJson: false };
		} catch {
			return { body: text, files: [], invalidJson: true };
		}
	}
	if (contentType?.startsWith('multipart/form-data')) {
		// Attachments arrive as multipart with the JSON in `payload_json`; undici's Request parses it.
		const form = await new Request('http://double.invalid/', {
			method: 'POST',
			headers: { 'content-type': contentType },
			body: raw,
		}).formData();
		const files: UploadedFile[] = [];
		let body: unknown;
		let invalidJson = false;
		for (const [field, value] of form) {
			if (typeof value !== 'string') {
				files.push({
					field,
					filename: value.name,
					size: value.size,
					contentType: value.type,
					data: Buffer.from(await value.arrayBuffer()),
				});
			} else if (field === 'payload_json') {
				try {
					body = JSON.parse(value);
				} catch {
					body = value;
					invalidJson = true;
				}
			}
		}
		return { body, files, invalidJson };
	}
	return { body: text, files: [], invalidJson: false };
}

// ---------------------------------------------------------------------------------------------------------
// The double
// ---------------------------------------------------------------------------------------------------------

interface RouteContext {
	params: Record<string, string>;
	query: URLSearchParams;
	body: unknown;
	files: UploadedFile[];
}

interface Route {
	method: string;
	template: string;
	pattern: RegExp;
	keys: string[];
	/** Bot routes need `Authorization: Bot <token>`; webhook and interaction routes do not. */
	auth: boolean;
	handler: (ctx: RouteContext) => Reply;
}

interface RouteMatch {
	route: Route;
	params: Record<string, string>;
	/** Path without `/api` and version, e.g. `/channels/1/messages`. */
	routePath: string;
}

interface ActiveFault {
	rule: FaultRule;
	queue: FaultResponse[];
	left: number;
	hits: number;
}

interface GatewaySession {
	id: string;
	seq: number;
	log: { op: number; t: string; s: number; d: unknown }[];
	socket: WebSocket | null;
}

interface InjectedInteraction {
	token: string;
	/** The interaction type (2 command, 3 component, 5 modal submit, …): a modal cannot answer a submit. */
	type: number;
	channelId: string | null;
	at: number;
	acknowledged: boolean;
	/** Id of the `@original` response message, fixed at acknowledgement so edits keep it. */
	originalId: string | null;
	/** The message the first answer created, if it carried one. */
	response?: APIMessage;
}

interface StoredMessage {
	message: APIMessage;
	nonce: string | number | null;
	createdAt: number;
}

/** How long `enforce_nonce` remembers a nonce: "the past few minutes" (docs/discord.md §2 Deduplication). */
const NONCE_WINDOW_MS = 5 * 60_000;

/** Permissions every member (including the bot) gets through @everyone in the fake guild. */
const EVERYONE_PERMISSIONS = (
	PermissionFlagsBits.ViewChannel |
	PermissionFlagsBits.SendMessages |
	PermissionFlagsBits.SendMessagesInThreads |
	PermissionFlagsBits.EmbedLinks |
	PermissionFlagsBits.AttachFiles |
	PermissionFlagsBits.ReadMessageHistory |
	PermissionFlagsBits.AddReactions |
	PermissionFlagsBits.UseApplicationCommands
).toString();

export class DiscordDouble {
	readonly token: string;
	readonly applicationId: string;
	readonly guildId: string;
	readonly botUserId: string;
	/** Text channels announced in GUILD_CREATE (the known channels, or one generated channel). */
	readonly channelIds: string[];
	/** The human user injected interactions come from by default. */
	readonly userId = snowflake();
	readonly ownerId = snowflake();
	apiUrl = '';
	gatewayUrl = '';

	readonly requests: RecordedRequest[] = [];
	readonly messages: CreatedMessage[] = [];
	/** Message posts refused with 429 by the per-channel limit. */
	rateLimited = 0;
	readonly webhookMessages: WebhookMessage[] = [];
	readonly interactionResponses: InteractionResponse[] = [];
	readonly followups: FollowupMessage[] = [];
	readonly edits: WebhookEdit[] = [];
	readonly channelEdits: ChannelMessageEdit[] = [];
	readonly commandRegistrations: CommandRegistration[] = [];
	/** Forum channels announced in GUILD_CREATE. */
	readonly forumIds: string[];
	/** Every thread and forum post, by id (a thread started from a message has that message's id). */
	readonly threads = new Map<string, ThreadState>();
	/** Thread creations refused: 160004 (a second thread for one message) and 429s. */
	readonly threadRefusals: { code: number | 'rate_limited'; path: string }[] = [];
	/** Modals the bot answered with, in order. */
	readonly modals: ModalShown[] = [];
	/** While set, every thread creation answers 429 with this `retry_after` (seconds): the bucket observed for minutes. */
	threadRateLimitSeconds: number | null = null;
	readonly identifies: Record<string, unknown>[] = [];
	/** While true, an IDENTIFY is recorded but not answered with READY until `releaseReady()`: a handshake that hangs. */
	holdReady = false;
	readonly #heldReady: (() => void)[] = [];

	/** Completes the handshakes `holdReady` held: READY and GUILD_CREATE, as Discord would have sent them. */
	releaseReady(): void {
		for (const ready of this.#heldReady.splice(0)) ready();
	}
	readonly gatewayConnectionLog: GatewayConnectionInfo[] = [];
	/** Every frame a client sent over the gateway, parsed. */
	readonly gatewayFrames: { op: number; d: unknown }[] = [];

	readonly #options: DiscordDoubleOptions;
	readonly #strictChannels: boolean;
	readonly #routes: Route[] = [];
	readonly #faults: ActiveFault[] = [];
	readonly #channelMessages = new Map<string, StoredMessage[]>();
	/** Per channel: when its current rate-limit window opened and how many posts it has taken. */
	readonly #channelWindows = new Map<string, { start: number; count: number }>();
	readonly #interactions = new Map<string, InjectedInteraction>();
	readonly #sessions = new Map<string, GatewaySession>();
	readonly #hanging = new Set<ServerResponse>();
	readonly #commands = new Map<string, Record<string, unknown>[]>();
	/** Requests counted per bucket and top-level resource in the current window. */
	readonly #buckets = new Map<string, { windowEnds: number; used: number }>();
	readonly #server = createServer((req, res) => {
		void this.#onRequest(req, res).catch((error: unknown) => {
			this.#log('handler crashed', error);
			if (!res.headersSent) this.#send(res, apiError(500, '500: Internal Server Error', 0));
		});
	});
	readonly #wss = new WebSocketServer({ server: this.#server });
	#closed = false;

	constructor(options: DiscordDoubleOptions = {}) {
		this.#options = options;
		this.token = options.token ?? 'test-token';
		this.applicationId = options.applicationId ?? snowflake();
		this.botUserId = options.botUserId ?? this.applicationId;
		this.guildId = options.guildId ?? snowflake();
		this.#strictChannels = options.channels !== undefined;
		this.channelIds = options.channels ?? [snowflake()];
		this.forumIds = options.forums ?? [];
		this.#wss.on('connection', (socket, req) => this.#onGatewayConnection(socket, req));
		this.#defineRoutes();
	}

	/** The bot user, as Discord returns it from `/users/@me` and READY. */
	get botUser(): APIUser {
		return {
			id: this.botUserId,
			username: 'hookcord-test',
			discriminator: '0000',
			avatar: null,
			global_name: null,
			bot: true,
			verified: true,
			mfa_enabled: false,
		};
	}

	/** Total gateway connections accepted so far (reconnects count again). */
	get gatewayConnections(): number {
		return this.gatewayConnectionLog.length;
	}

	/** Gateway sockets currently open. */
	get openGatewaySockets(): number {
		return this.#wss.clients.size;
	}

	async listen(): Promise<this> {
		await new Promise<void>((resolve, reject) => {
			this.#server.once('error', reject);
			this.#server.listen(0, '127.0.0.1', () => resolve());
		});
		const { port } = this.#server.address() as AddressInfo;
		this.apiUrl = `http://127.0.0.1:${port}/api`;
		// Discord's gateway URL has no path; discord.js appends `?v=10&encoding=json` (docs/discord.md §2).
		this.gatewayUrl = `ws://127.0.0.1:${port}`;
		return this;
	}

	// ----- fault injection ---------------------------------------------------------------------------------

	/** Script answers for matching REST requests; they are consumed in order, before normal handling. */
	fail(rule: FaultRule): FaultHandle {
		const queue = rule.responses ? [...rule.responses] : [rule];
		const first = queue[0];
		const fault: ActiveFault = { rule, queue, left: first?.times ?? 1, hits: 0 };
		this.#faults.push(fault);
		return {
			get hits() {
				return fault.hits;
			},
			get done() {
				return fault.queue.length === 0;
			},
		};
	}

	clearFaults(): void {
		this.#faults.length = 0;
	}

	#takeFault(method: string, path: string, match: RouteMatch | null): FaultResponse | null {
		for (const fault of this.#faults) {
			const { rule } = fault;
			if (fault.queue.length === 0) continue;
			if (rule.method && rule.method.toUpperCase() !== method) continue;
			const candidates = [path, match?.routePath ?? path];
			const pathMatches = candidates.some((p) =>
				typeof rule.path === 'string' ? p === rule.path : rule.path.test(p),
			);
			if (!pathMatches) continue;
			if (rule.channelId && match?.params.channel !== rule.channelId) continue;
			if (rule.webhookId && match?.params.webhook !== rule.webhookId) continue;
			const response = fault.queue[0] as FaultResponse;
			fault.hits++;
			fault.left--;
			if (fault.left <= 0) {
				fault.queue.shift();
				fault.left = fault.queue[0]?.times ?? 1;
			}
			return response;
		}
		return null;
	}

	#faultReply(fault: FaultResponse, status: number, match: RouteMatch | null): Reply {
		if (fault.body !== undefined) return { status, body: fault.body };
		if (status === 429) return this.#rateLimited(fault, match);
		const error = (message: string, code: number) => apiError(status, message, fault.code ?? code);
		if (status === 401) return error('401: Unauthorized', 0);
		if (status === 403) return error('Missing Access', 50001);
		if (status === 404) {
			const template = match?.route.template ?? '';
			if (template.startsWith('/channels')) return error('Unknown Channel', 10003);
			if (template.startsWith('/webhooks')) return error('Unknown Webhook', 10015);
			if (template.startsWith('/interactions')) return error('Unknown interaction', 10062);
			return error('404: Not Found', 0);
		}
		return error(`${status}: ${STATUS_CODES[status] ?? 'Error'}`, 0);
	}

	/**
	 * Counts a message post against its channel's window. Returns a 429 when the window is full, else the
	 * bucket headers for the answer (remaining, reset); undefined for other routes or with no limit.
	 */
	#channelLimit(method: string, match: RouteMatch): Reply | undefined {
		const rate = this.#options.channelRate ?? { messages: 5, perMs: 5_000 };
		if (!rate || method !== 'POST' || match.route.template !== '/channels/:channel/messages')
			return undefined;
		const channel = match.params.channel as string;
		const now = Date.now();
		let window = this.#channelWindows.get(channel);
		if (!window || now >= window.start + rate.perMs) {
			window = { start: now, count: 0 };
			this.#channelWindows.set(channel, window);
		}
		const resetAfter = (window.start + rate.perMs - now) / 1000;
		if (window.count >= rate.messages) {
			this.rateLimited++;
			return this.#rateLimited({ retryAfter: resetAfter, scope: 'user' }, match);
		}
		window.count++;
		return {
			status: 200,
			headers: {
				'x-ratelimit-limit': String(rate.messages),
				'x-ratelimit-remaining': String(rate.messages - window.count),
				'x-ratelimit-reset-after': resetAfter.toFixed(3),
				'x-ratelimit-reset': ((window.start + rate.perMs) / 1000).toFixed(3),
			},
		};
	}

	/** A 429 shaped like Discord's (docs/discord.md §1 "Rate limits (REST)"). */
	#rateLimited(fault: FaultResponse, match: RouteMatch | null): Reply {
		const retryAfter = fault.retryAfter ?? 1;
		const scope = fault.scope ?? 'user';
		const global = scope === 'global';
		const headers: Record<string, string> = {
			// Discord sends whole seconds in the header (its docs show `Retry-After: 65` next to
			// `retry_after: 64.57`); @discordjs/rest reads the header, not the body (docs/discord.md §2).
			'retry-after': String(Math.ceil(retryAfter)),
			'x-ratelimit-scope': scope,
			'x-ratelimit-limit': '5',
			'x-ratelimit-remaining': '0',
			'x-ratelimit-reset-after': String(retryAfter),
			'x-ratelimit-reset': epochSeconds(retryAfter),
			'x-ratelimit-bucket': bucketHash(match?.route.method ?? 'ANY', match?.route.template ?? 'unknown'),
		};
		if (global) headers['x-ratelimit-global'] = 'true';
		const body: Record<string, unknown> = {
			message: 'You are being rate limited.',
			retry_after: retryAfter,
			global,
		};
		if (fault.code !== undefined) body.code = fault.code;
		return { status: 429, body, headers };
	}

	// ----- gateway -------------------------------------------------------------------------------------------

	/** Send a dispatch (`op: 0`) to every identified gateway socket; returns how many got it. */
	dispatch(t: string, d: unknown): number {
		let sent = 0;
		for (const session of this.#sessions.values()) {
			if (session.socket && session.socket.readyState === session.socket.OPEN) {
				this.#dispatchTo(session, t, d);
				sent++;
			}
		}
		return sent;
	}

	/**
	 * Send INTERACTION_CREATE over every connected gateway socket (docs/discord.md §4.7) and remember the token
	 * so the callback can be checked (3 s deadline, single acknowledgement). Throws when nobody listens.
	 */
	injectInteraction<T extends { id: string; token: string; channel_id?: string; type?: number }>(
		payload: T,
	): T {
		this.#interactions.set(payload.id, {
			token: payload.token,
			type: typeof payload.type === 'number' ? payload.type : InteractionType.ApplicationCommand,
			channelId: payload.channel_id ?? null,
			at: Date.now(),
			acknowledged: false,
			originalId: null,
		});
		const sent = this.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
		if (sent === 0) throw new Error('injectInteraction: no identified gateway connection to send to');
		return payload;
	}

	/** A complete guild chat-input interaction payload, as Discord sends it (docs/discord.md §4.7). */
	makeChatInputInteraction(init: ChatInputInit): APIChatInputApplicationCommandGuildInteraction {
		const channelId = init.channelId ?? (this.channelIds[0] as string);
		const channelIndex = Math.max(this.channelIds.indexOf(channelId), 0);
		if (this.threads.get(channelId)?.archived && init.commandName !== 'modal')
			throw new Error('members cannot use application commands in an archived thread');
		const registered = [...this.#commands.values()]
			.flat()
			.find((command) => command.name === init.commandName);
		const user = {
			id: init.userId ?? this.userId,
			username: init.username ?? 'oncall-engineer',
			discriminator: '0',
			global_name: null,
			avatar: null,
		};
		const payload = {
			id: snowflake(),
			application_id: this.applicationId,
			type: InteractionType.ApplicationCommand,
			token: randomBytes(32).toString('base64url'),
			version: 1,
			guild_id: this.guildId,
			guild: { id: this.guildId, locale: Locale.EnglishUS, features: [] },
			channel_id: channelId,
			channel: this.#anyChannelObject(channelId) ?? this.#channelObject(channelId, channelIndex),
			member: {
				...guildMember(user, init.roles ?? [], new Date().toISOString()),
				permissions: init.permissions ?? EVERYONE_PERMISSIONS,
			},
			app_permissions: EVERYONE_PERMISSIONS,
			locale: init.locale ?? Locale.EnglishUS,
			guild_locale: Locale.EnglishUS,
			entitlements: [],
			authorizing_integration_owners: { '0': this.guildId },
			context: InteractionContextType.Guild,
			attachment_size_limit: 10 * 1024 * 1024,
			data: {
				id: typeof registered?.id === 'string' ? registered.id : snowflake(),
				name: init.commandName,
				type: ApplicationCommandType.ChatInput,
				...(init.options ? { options: init.options } : {}),
			},
		};
		// Discord knows the interactions it sends: a callback for any other id answers 10062.
		this.#interactions.set(payload.id, {
			token: payload.token,
			type: payload.type,
			channelId,
			at: Date.now(),
			acknowledged: false,
			originalId: null,
		});
		return payload as unknown as APIChatInputApplicationCommandGuildInteraction;
	}

	/**
	 * The member fills in and submits `modal` (one the bot showed): an INTERACTION_CREATE of type 5 with
	 * what Discord sends back, in the modal's own layout (action rows, or labels as discord.js 14.2x builds
	 * them). Throws when Discord's client would not let the member submit (a required input empty, a value
	 * outside its length bounds), so a test cannot send what no member could.
	 */
	makeModalSubmit(
		modal: ModalShown,
		init: ModalSubmitInit,
	): Record<string, unknown> & { id: string; token: string } {
		const base = this.makeChatInputInteraction({
			...init,
			commandName: 'modal',
			...(modal.channelId && !init.channelId && { channelId: modal.channelId }),
		}) as unknown as Record<string, unknown> & { id: string; token: string };
		const submitted = asArray(modal.body.components).map((raw) => {
			const component = asRecord(raw);
			if (component.type === ComponentType.Label) {
				const input = asRecord(component.component);
				return {
					type: ComponentType.Label,
					id: component.id ?? 0,
					component: this.#submitted(input, init.values),
				};
			}
			if (component.type === ComponentType.ActionRow)
				return {
					type: ComponentType.ActionRow,
					id: component.id ?? 0,
					components: asArray(component.components).map((input) =>
						this.#submitted(asRecord(input), init.values),
					),
				};
			return { type: component.type, id: component.id ?? 0 };
		});
		const payload = {
			...base,
			type: InteractionType.ModalSubmit,
			data: { custom_id: modal.body.custom_id, components: submitted },
		};
		this.#interactions.set(payload.id, {
			token: payload.token,
			type: InteractionType.ModalSubmit,
			channelId: (base.channel_id as string | undefined) ?? null,
			at: Date.now(),
			acknowledged: false,
			originalId: null,
		});
		return payload;
	}

	#submitted(input: Record<string, unknown>, values: Record<string, string>) {
		const customId = String(input.custom_id);
		const value = values[customId] ?? '';
		const length = [...value].length;
		const required = input.required !== false;
		if (required && length === 0) throw new Error(`modal: "${customId}" is required`);
		const min = typeof input.min_length === 'number' ? input.min_length : 0;
		const max = typeof input.max_length === 'number' ? input.max_length : 4000;
		if (length > 0 && (length < min || length > max))
			throw new Error(`modal: "${customId}" must be ${min}-${max} characters, got ${length}`);
		return { type: ComponentType.TextInput, id: input.id ?? 0, custom_id: customId, value };
	}

	/**
	 * A button click (MESSAGE_COMPONENT) on `message`, a message the bot posted. Members cannot use buttons in
	 * an archived thread (docs/discord.md §6): that throws, as there would be no click to send.
	 */
	makeButtonClick(
		message: APIMessage,
		customId: string,
		init: Omit<ChatInputInit, 'commandName' | 'options' | 'channelId'> = {},
	): Record<string, unknown> & { id: string; token: string } {
		const thread = this.threads.get(message.channel_id);
		if (thread?.archived) throw new Error('members cannot use buttons in an archived thread');
		const buttons = asArray(message.components).flatMap((row) => asArray(asRecord(row).components));
		if (!buttons.some((button) => asRecord(button).custom_id === customId))
			throw new Error(`the message has no button ${customId}`);
		const base = this.makeChatInputInteraction({
			...init,
			commandName: 'button',
			channelId: message.channel_id,
		}) as unknown as Record<string, unknown> & { id: string; token: string };
		const payload = {
			...base,
			type: InteractionType.MessageComponent,
			data: { custom_id: customId, component_type: ComponentType.Button },
			message,
		};
		const injected = this.#interactions.get(payload.id);
		if (injected) injected.type = InteractionType.MessageComponent;
		return payload;
	}

	/** Close every gateway socket with `code` (e.g. 4000 to make discord.js resume). */
	closeGateway(code = 4000): void {
		for (const socket of this.#wss.clients) socket.close(code);
	}

	#onGatewayConnection(socket: WebSocket, req: IncomingMessage): void {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		this.gatewayConnectionLog.push({ query: Object.fromEntries(url.searchParams), at: Date.now() });
		let session: GatewaySession | null = null;
		const send = (payload: unknown) => {
			this.#log('gateway <-', payload);
			socket.send(JSON.stringify(payload));
		};
		send({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.#options.heartbeatInterval ?? 41_250 } });

		socket.on('message', (raw: RawData) => {
			let frame: { op: number; d: unknown };
			try {
				frame = JSON.parse(raw.toString());
			} catch {
				socket.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
				return;
			}
			this.gatewayFrames.push(frame);
			this.#log('gateway ->', frame);
			const d = asRecord(frame.d);
			switch (frame.op) {
				case GatewayOpcodes.Heartbeat:
					send({ op: GatewayOpcodes.HeartbeatAck });
					return;
				case GatewayOpcodes.Identify: {
					if (session) return socket.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
					// discord.js sends the bare token in IDENTIFY (it strips "Bot "), so compare it as is.
					if (d.token !== this.token)
						return socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
					this.identifies.push(d);
					session = { id: randomBytes(16).toString('hex'), seq: 0, log: [], socket };
					this.#sessions.set(session.id, session);
					const identified = session;
					const ready = () => {
						this.#dispatchTo(identified, GatewayDispatchEvents.Ready, this.#readyData(identified.id));
						// READY promises the guild as unavailable; without GUILD_CREATE discord.js waits
						// waitGuildTimeout (15 s) before ClientReady (docs/discord.md §4.5).
						this.#dispatchTo(identified, GatewayDispatchEvents.GuildCreate, this.#guildCreateData());
					};
					if (this.holdReady) this.#heldReady.push(ready);
					else ready();
					return;
				}
				case GatewayOpcodes.Resume: {
					if (d.token !== this.token)
						return socket.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
					const known = this.#sessions.get(String(d.session_id));
					if (!known) return send({ op: GatewayOpcodes.InvalidSession, d: false });
					session = known;
					session.socket?.terminate();
					session.socket = socket;
					const from = Number(d.seq);
					for (const event of session.log) if (event.s > from) send(event);
					this.#dispatchTo(session, GatewayDispatchEvents.Resumed, {});
					return;
				}
				case GatewayOpcodes.PresenceUpdate:
				case GatewayOpcodes.RequestGuildMembers:
				case GatewayOpcodes.VoiceStateUpdate:
					if (!session) socket.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
					return;
				default:
					socket.close(GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
			}
		});
		socket.on('close', () => {
			if (session?.socket === socket) session.socket = null;
		});
	}

	#dispatchTo(session: GatewaySession, t: string, d: unknown): void {
		const payload = { op: GatewayOpcodes.Dispatch, t, s: ++session.seq, d };
		session.log.push(payload);
		this.#log('gateway <-', payload);
		session.socket?.send(JSON.stringify(payload));
	}

	/** READY fields per docs/discord.md §4.4; discord.js reads `user`, `guilds` and `application`. */
	#readyData(sessionId: string) {
		return {
			v: 10,
			user: this.botUser,
			guilds: [{ id: this.guildId, unavailable: true }],
			session_id: sessionId,
			resume_gateway_url: this.gatewayUrl,
			shard: [0, 1],
			application: { id: this.applicationId, flags: 0 },
			private_channels: [],
			relationships: [],
			user_settings: {},
			presences: [],
			guild_join_requests: [],
			geo_ordered_rtc_regions: [],
		};
	}

	#channelObject(id: string, index: number) {
		return {
			id,
			type: ChannelType.GuildText,
			guild_id: this.guildId,
			name: index === 0 ? 'alerts' : `alerts-${index + 1}`,
			position: index,
			permission_overwrites: [],
			nsfw: false,
			topic: null,
			last_message_id: null,
			rate_limit_per_user: 0,
			parent_id: null,
			flags: 0,
		};
	}

	/** A forum channel (type 15) object, with the fields discord.js reads for one. */
	#forumObject(id: string) {
		const index = this.forumIds.indexOf(id);
		return {
			...this.#channelObject(id, this.channelIds.length + Math.max(index, 0)),
			type: ChannelType.GuildForum,
			name: index <= 0 ? 'tickets' : `tickets-${index + 1}`,
			available_tags: [],
			default_reaction_emoji: null,
			default_sort_order: null,
			default_forum_layout: 0,
			default_thread_rate_limit_per_user: 0,
		};
	}

	/** A thread channel object (docs/discord.md §6): its parent, its metadata, archived or not. */
	#threadObject(thread: ThreadState) {
		return {
			id: thread.id,
			type: thread.type,
			guild_id: this.guildId,
			parent_id: thread.parentId,
			owner_id: this.botUserId,
			name: thread.name,
			last_message_id: this.#channelMessages.get(thread.id)?.at(-1)?.message.id ?? null,
			rate_limit_per_user: 0,
			message_count: this.#channelMessages.get(thread.id)?.length ?? 0,
			member_count: 1,
			total_message_sent: this.#channelMessages.get(thread.id)?.length ?? 0,
			flags: 0,
			thread_metadata: {
				archived: thread.archived,
				auto_archive_duration: thread.autoArchiveDuration,
				archive_timestamp: new Date().toISOString(),
				locked: thread.locked,
				...(thread.type === ChannelType.PrivateThread && { invitable: true }),
				create_timestamp: new Date().toISOString(),
			},
			applied_tags: [],
		};
	}

	/** Any channel the double knows, as GET /channels/{id} answers it; undefined when unknown. */
	#anyChannelObject(id: string): Record<string, unknown> | undefined {
		const thread = this.threads.get(id);
		if (thread) return this.#threadObject(thread);
		if (this.forumIds.includes(id)) return this.#forumObject(id);
		const index = this.channelIds.indexOf(id);
		if (index >= 0 || !this.#strictChannels) return this.#channelObject(id, Math.max(index, 0));
		return undefined;
	}

	/** Text channels, forums and threads the double knows (with `channels` given, nothing else exists). */
	#knownChannel(id: string): boolean {
		return (
			!this.#strictChannels ||
			this.channelIds.includes(id) ||
			this.forumIds.includes(id) ||
			this.threads.has(id)
		);
	}

	#guildCreateData() {
		const now = new Date().toISOString();
		// Real GUILD_CREATE channels lack guild_id; discord.js fills it in from the guild.
		const channels = [
			...this.channelIds.map((id, i) => this.#channelObject(id, i)),
			...this.forumIds.map((id) => this.#forumObject(id)),
		].map(({ guild_id: _omit, ...channel }) => channel);
		// Only active threads are in GUILD_CREATE; archived ones are fetched by id (docs/discord.md §6).
		const threads = [...this.threads.values()]
			.filter((thread) => !thread.archived)
			.map((thread) => this.#threadObject(thread));
		return {
			id: this.guildId,
			name: 'hookcord test guild',
			icon: null,
			icon_hash: null,
			splash: null,
			discovery_splash: null,
			banner: null,
			description: null,
			owner_id: this.ownerId,
			afk_channel_id: null,
			afk_timeout: 300,
			widget_enabled: false,
			verification_level: 0,
			default_message_notifications: 0,
			explicit_content_filter: 0,
			mfa_level: 0,
			nsfw_level: 0,
			premium_tier: 0,
			premium_subscription_count: 0,
			premium_progress_bar_enabled: false,
			application_id: null,
			system_channel_id: this.channelIds[0] ?? null,
			system_channel_flags: 0,
			rules_channel_id: null,
			public_updates_channel_id: null,
			safety_alerts_channel_id: null,
			vanity_url_code: null,
			preferred_locale: Locale.EnglishUS,
			max_members: 500_000,
			max_video_channel_users: 25,
			max_stage_video_channel_users: 50,
			hub_type: null,
			incidents_data: null,
			features: [],
			joined_at: now,
			large: false,
			lazy: true,
			unavailable: false,
			member_count: 2,
			roles: [
				{
					// @everyone's role id is the guild id.
					id: this.guildId,
					name: '@everyone',
					color: 0,
					colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
					hoist: false,
					icon: null,
					unicode_emoji: null,
					position: 0,
					permissions: EVERYONE_PERMISSIONS,
					managed: false,
					mentionable: false,
					flags: 0,
				},
			],
			// Discord always includes the current user's own member, so `guild.members.me` works.
			members: [guildMember(this.botUser, [], now)],
			channels,
			threads,
			presences: [],
			voice_states: [],
			emojis: [],
			stickers: [],
			stage_instances: [],
			guild_scheduled_events: [],
			soundboard_sounds: [],
			embedded_activities: [],
		};
	}

	// ----- REST ----------------------------------------------------------------------------------------------

	#route(method: string, template: string, auth: boolean, handler: (ctx: RouteContext) => Reply): void {
		const keys: string[] = [];
		const source = template.replace(/:(\w+)/g, (_, key: string) => {
			keys.push(key);
			return '([^/]+)';
		});
		this.#routes.push({ method, template, pattern: new RegExp(`^${source}$`), keys, auth, handler });
	}

	#match(method: string, pathname: string): RouteMatch | null {
		// Everything lives under /api; the version segment is optional because webhook URLs copied from
		// Discord look like https://discord.com/api/webhooks/ID/TOKEN.
		const prefix = /^\/api(?:\/v\d+)?(\/.*)$/.exec(pathname);
		if (!prefix?.[1]) return null;
		const routePath = prefix[1];
		for (const route of this.#routes) {
			if (route.method !== method) continue;
			const found = route.pattern.exec(routePath);
			if (!found) continue;
			const params = Object.fromEntries(
				route.keys.map((key, i) => [key, decodeURIComponent(found[i + 1] ?? '')]),
			);
			return { route, params, routePath };
		}
		return null;
	}

	async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const method = req.method ?? 'GET';
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const parsed = await parseBody(req.headers['content-type'], await readBody(req));
		const recorded: RecordedRequest = {
			method,
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			headers: req.headers,
			body: parsed.body,
			files: parsed.files,
			at: Date.now(),
		};
		this.requests.push(recorded);
		this.#log(`${method} ${url.pathname}${url.search}`, parsed.body ?? '');

		const match = this.#match(method, url.pathname);
		const fault = this.#takeFault(method, url.pathname, match);
		if (fault?.hang) {
			this.#hanging.add(res);
			return;
		}
		if (fault?.reset) {
			req.socket.destroy();
			return;
		}

		const limit = match ? this.#countRequest(match) : undefined;
		let reply: Reply;
		if (limit && limit.remaining < 0) {
			reply = this.#rateLimited({ retryAfter: limit.resetAfter, scope: 'user' }, match);
		} else if (fault && fault.createThenFail === undefined) {
			reply = this.#faultReply(fault, fault.status ?? 500, match);
		} else if (!match) {
			reply = notFound();
		} else if (match.route.auth && req.headers.authorization !== `Bot ${this.token}`) {
			reply = unauthorized();
		} else if (parsed.invalidJson) {
			reply = apiError(400, 'The request body contains invalid JSON.', 50109);
		} else {
			// Over the channel's message limit: refused before any work, as Discord does.
			const limit = this.#channelLimit(method, match);
			if (limit?.status === 429) reply = limit;
			else {
				reply = match.route.handler({
					params: match.params,
					query: url.searchParams,
					body: parsed.body,
					files: parsed.files,
				});
				// The work is done; now "lose" the answer.
				if (fault?.createThenFail !== undefined) reply = this.#faultReply(fault, fault.createThenFail, match);
				if (limit) reply = { ...reply, headers: { ...limit.headers, ...reply.headers } };
			}
		}
		recorded.status = reply.status;
		this.#send(res, reply, match, limit);
	}

	/**
	 * Counts a request against its bucket: limits hold per route and top-level resource (docs/discord.md §1
	 * "Rate limits"), so `/channels/A` and `/channels/B` count apart. `remaining` below 0 means over.
	 */
	#countRequest(match: RouteMatch): { limit: number; remaining: number; resetAfter: number } {
		const { limit, windowMs } = this.#options.rateLimit ?? { limit: 50, windowMs: 1000 };
		const { params } = match;
		const resource = params.channel ?? params.webhook ?? params.interaction ?? params.guild ?? '';
		const key = `${bucketHash(match.route.method, match.route.template)}:${resource}`;
		const now = Date.now();
		let bucket = this.#buckets.get(key);
		if (!bucket || bucket.windowEnds <= now) {
			bucket = { windowEnds: now + windowMs, used: 0 };
			this.#buckets.set(key, bucket);
		}
		bucket.used++;
		return { limit, remaining: limit - bucket.used, resetAfter: (bucket.windowEnds - now) / 1000 };
	}

	#send(
		res: ServerResponse,
		reply: Reply,
		match?: RouteMatch | null,
		limit?: { limit: number; remaining: number; resetAfter: number },
	): void {
		const headers: Record<string, string> = {};
		if (match && limit) {
			// Bucket headers (docs/discord.md §1 Headers), counting down in the window; a 429 overrides them below.
			headers['x-ratelimit-limit'] = String(limit.limit);
			headers['x-ratelimit-remaining'] = String(Math.max(0, limit.remaining));
			headers['x-ratelimit-reset-after'] = limit.resetAfter.toFixed(3);
			headers['x-ratelimit-reset'] = epochSeconds(limit.resetAfter);
			headers['x-ratelimit-bucket'] = bucketHash(match.route.method, match.route.template);
		}
		Object.assign(headers, reply.headers);
		if (reply.body === undefined) {
			// No Content-Type without a body: a 204 with `application/json` crashes discord.js (docs/discord.md §4.8).
			res.writeHead(reply.status, headers);
			res.end();
			return;
		}
		headers['content-type'] = 'application/json';
		res.writeHead(reply.status, headers);
		res.end(JSON.stringify(reply.body));
	}

	#defineRoutes(): void {
		this.#route('GET', '/gateway', false, () => ({ status: 200, body: { url: this.gatewayUrl } }));
		// discord.js only calls this during login (docs/discord.md §4.1); `remaining` must be > 0 (§2).
		this.#route('GET', '/gateway/bot', true, () => ({
			status: 200,
			body: {
				url: this.gatewayUrl,
				shards: 1,
				session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
			},
		}));
		this.#route('GET', '/users/@me', true, () => ({ status: 200, body: this.botUser }));
		this.#route('GET', '/applications/@me', true, () => ({
			status: 200,
			body: {
				id: this.applicationId,
				name: 'hookcord-test',
				icon: null,
				description: '',
				bot_public: false,
				bot_require_code_grant: false,
				verify_key: randomBytes(32).toString('hex'),
				flags: 0,
				team: null,
				owner: { ...this.botUser, id: this.ownerId, username: 'owner', bot: false },
				bot: this.botUser,
			},
		}));

		this.#route('GET', '/channels/:channel', true, ({ params }) => {
			const channel = this.#anyChannelObject(params.channel as string);
			return channel ? { status: 200, body: channel } : unknownChannel();
		});
		this.#route('PATCH', '/channels/:channel', true, (ctx) => this.#modifyChannel(ctx));
		this.#route('POST', '/channels/:channel/messages/:message/threads', true, (ctx) =>
			this.#startThreadFromMessage(ctx),
		);
		this.#route('POST', '/channels/:channel/threads', true, (ctx) => this.#startThread(ctx));
		// List Active Guild Threads: every unarchived thread of the guild, with the bot's membership omitted.
		this.#route('GET', '/guilds/:guild/threads/active', true, ({ params }) => {
			if (params.guild !== this.guildId) return apiError(404, 'Unknown Guild', 10004);
			const threads = [...this.threads.values()]
				.filter((thread) => !thread.archived)
				.map((thread) => this.#threadObject(thread));
			return { status: 200, body: { threads, members: [] } };
		});
		this.#route('POST', '/channels/:channel/messages', true, (ctx) => this.#createChannelMessage(ctx));
		// Newest first, at most `limit` (1-100, default 50); like Discord's list, without nonces.
		this.#route('GET', '/channels/:channel/messages', true, ({ params, query }) => {
			if (!this.#knownChannel(params.channel as string)) return unknownChannel();
			const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 50) || 50));
			const list = this.#channelMessages.get(params.channel as string) ?? [];
			const body = list
				.slice(-limit)
				.reverse()
				.map(({ message }) => {
					const { nonce: _, ...listed } = message;
					return listed;
				});
			return { status: 200, body };
		});
		this.#route('GET', '/channels/:channel/messages/:message', true, ({ params }) => {
			const stored = this.#findChannelMessage(params.channel as string, params.message as string);
			return stored ? { status: 200, body: stored.message } : unknownMessage();
		});
		this.#route('PATCH', '/channels/:channel/messages/:message', true, (ctx) =>
			this.#editChannelMessage(ctx),
		);
		this.#route('DELETE', '/channels/:channel/messages/:message', true, ({ params }) => {
			const list = this.#channelMessages.get(params.channel as string) ?? [];
			const index = list.findIndex((stored) => stored.message.id === params.message);
			if (index < 0) return unknownMessage();
			list.splice(index, 1);
			return { status: 204 };
		});

		for (const guild of [false, true]) {
			const template = guild ? '/applications/:app/guilds/:guild/commands' : '/applications/:app/commands';
			this.#route('PUT', template, true, (ctx) => this.#registerCommands(ctx));
			this.#route('GET', template, true, ({ params }) => ({
				status: 200,
				body: this.#commands.get(`${params.app}:${params.guild ?? ''}`) ?? [],
			}));
		}

		// Interaction endpoints take no Authorization header (docs/discord.md §1, observed in the prototype).
		this.#route('POST', '/interactions/:interaction/:token/callback', false, (ctx) =>
			this.#interactionCallback(ctx),
		);
		this.#route('POST', '/webhooks/:webhook/:token', false, (ctx) =>
			ctx.params.webhook === this.applicationId ? this.#followup(ctx) : this.#executeWebhook(ctx),
		);
		this.#route('PATCH', '/webhooks/:webhook/:token/messages/:message', false, (ctx) =>
			this.#editWebhookMessage(ctx),
		);
		this.#route('DELETE', '/webhooks/:webhook/:token/messages/:message', false, () => ({ status: 204 }));
	}

	// ----- REST handlers -------------------------------------------------------------------------------------

	#messageObject(
		channelId: string,
		body: MessageBody,
		files: UploadedFile[],
		extra: Partial<APIMessage> = {},
	): APIMessage {
		const url = (file: UploadedFile) => `${this.apiUrl}/attachments/${file.filename}`;
		// Discord shows `attachment://<name>` as the file uploaded with the message under that name, and
		// hands back its URL; a name matching no file stays as sent (and shows nothing).
		const resolve = (media: unknown) => {
			const ref = asRecord(media).url;
			const file =
				typeof ref === 'string' && ref.startsWith('attachment://')
					? files.find((candidate) => `attachment://${candidate.filename}` === ref)
					: undefined;
			return file ? { ...asRecord(media), url: url(file), proxy_url: url(file) } : media;
		};
		const embeds = asArray(body.embeds).map((raw) => {
			const embed = { type: EmbedType.Rich, ...asRecord(raw) } as APIEmbed;
			if (embed.image) embed.image = resolve(embed.image) as APIEmbed['image'];
			if (embed.thumbnail) embed.thumbnail = resolve(embed.thumbnail) as APIEmbed['thumbnail'];
			return embed;
		});
		const attachments = files.map(
			(file) =>
				({
					id: snowflake(),
					filename: file.filename,
					size: file.size,
					content_type: file.contentType,
					url: url(file),
					proxy_url: url(file),
				}) satisfies APIAttachment,
		);
		return {
			id: snowflake(),
			type: MessageType.Default,
			channel_id: channelId,
			author: this.botUser,
			content: typeof body.content === 'string' ? body.content : '',
			embeds,
			attachments,
			mentions: [],
			mention_roles: [],
			mention_everyone: false,
			pinned: false,
			tts: body.tts === true,
			timestamp: new Date().toISOString(),
			edited_timestamp: null,
			flags: typeof body.flags === 'number' ? body.flags : 0,
			components: asArray(body.components) as APIMessage['components'],
			...extra,
		};
	}

	/**
	 * A message a member (not the bot) posts in a channel, as the Discord client would: listed by
	 * `GET /channels/:channel/messages` with that member as its author.
	 */
	postAsMember(channelId: string, body: MessageBody, author: APIUser): APIMessage {
		const list = this.#channelMessages.get(channelId) ?? [];
		this.#channelMessages.set(channelId, list);
		const message = this.#messageObject(channelId, body, [], { author });
		list.push({ message, nonce: null, createdAt: Date.now() });
		return message;
	}

	#findChannelMessage(channelId: string, messageId: string): StoredMessage | undefined {
		return this.#channelMessages.get(channelId)?.find((stored) => stored.message.id === messageId);
	}

	#createChannelMessage({ params, body: raw, files }: RouteContext): Reply {
		const channelId = params.channel as string;
		if (!this.#knownChannel(channelId)) return unknownChannel();
		const body = asRecord(raw) as MessageBody;
		const invalid = validateMessageBody(body, { requireContent: true, hasFiles: files.length > 0 });
		if (invalid) return invalid;
		// Nothing is posted into a forum itself: a post is a thread with a first message.
		if (this.forumIds.includes(channelId)) return wrongChannelType();
		const closed = this.#postIntoThread(channelId);
		if (closed) return closed;

		const nonce = typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : null;
		const list = this.#channelMessages.get(channelId) ?? [];
		this.#channelMessages.set(channelId, list);
		if (body.enforce_nonce === true && nonce !== null) {
			// Same nonce within a few minutes → Discord returns the existing message (docs/discord.md §2).
			const existing = list.find(
				(stored) =>
					stored.nonce === nonce &&
					Date.now() - stored.createdAt < (this.#options.nonceWindowMs ?? NONCE_WINDOW_MS),
			);
			if (existing) return { status: 200, body: existing.message };
		}
		const message = this.#messageObject(channelId, body, files, nonce === null ? {} : { nonce });
		list.push({ message, nonce, createdAt: Date.now() });
		this.messages.push({ id: message.id, channelId, nonce, body, message });
		return { status: 200, body: message };
	}

	#editChannelMessage({ params, body: raw, files }: RouteContext): Reply {
		const channelId = params.channel as string;
		if (!this.#knownChannel(channelId)) return unknownChannel();
		const stored = this.#findChannelMessage(channelId, params.message as string);
		if (!stored) return unknownMessage();
		const body = asRecord(raw) as MessageBody;
		const invalid = validateMessageBody(body, { requireContent: false });
		if (invalid) return invalid;
		const next = this.#messageObject(channelId, { ...stored.message, ...body }, files, {
			id: stored.message.id,
			timestamp: stored.message.timestamp,
			edited_timestamp: new Date().toISOString(),
			...(stored.nonce === null ? {} : { nonce: stored.nonce }),
		});
		if (files.length === 0) next.attachments = stored.message.attachments;
		stored.message = next;
		this.channelEdits.push({ messageId: next.id, channelId, body, message: next });
		return { status: 200, body: next };
	}

	// ----- threads and forum posts (docs/discord.md §6) ----------------------------------------------------------

	/**
	 * A message posted into a thread: a locked thread refuses it (160005), an archived one is un-archived
	 * by it. Null when the post may go ahead (also for a channel that is no thread).
	 */
	#postIntoThread(channelId: string): Reply | null {
		const thread = this.threads.get(channelId);
		if (!thread) return null;
		if (thread.locked) return threadLocked();
		if (thread.archived) {
			if (this.#activeThreadsFull()) return tooManyThreads();
			thread.archived = false;
			thread.unarchivedByPost++;
		}
		return null;
	}

	#activeThreadsFull(): boolean {
		const max = this.#options.maxActiveThreads;
		if (max === undefined) return false;
		return [...this.threads.values()].filter((thread) => !thread.archived).length >= max;
	}

	/**
	 * What a thread creation is refused with before any work: the long 429 while `threadRateLimitSeconds` is
	 * set (observed 145-280 s on `POST …/threads`), the active-thread cap (160006), a bad name or archive
	 * duration (50035).
	 */
	#threadPreconditions(raw: Record<string, unknown>, path: string, limited = true): Reply | null {
		if (limited && this.threadRateLimitSeconds !== null) {
			this.threadRefusals.push({ code: 'rate_limited', path });
			return this.#rateLimited({ retryAfter: this.threadRateLimitSeconds, scope: 'shared' }, null);
		}
		const errors: FormErrors = {};
		const name = textLength(raw.name);
		if (typeof raw.name !== 'string' || name < 1 || name > 100)
			addError(errors, ['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
		if (raw.auto_archive_duration !== undefined && !ARCHIVE_DURATIONS.has(raw.auto_archive_duration))
			addError(
				errors,
				['auto_archive_duration'],
				'BASE_TYPE_CHOICES',
				`Value must be one of {${[...ARCHIVE_DURATIONS].join(', ')}}.`,
			);
		if (Object.keys(errors).length > 0) return apiError(400, 'Invalid Form Body', 50035, errors);
		if (this.#activeThreadsFull()) return tooManyThreads();
		return null;
	}

	#newThread(
		id: string,
		parentId: string,
		raw: Record<string, unknown>,
		origin: ThreadState['origin'],
		type: ThreadState['type'] = ChannelType.PublicThread,
	): ThreadState {
		const thread: ThreadState = {
			id,
			parentId,
			name: String(raw.name ?? raw.thread_name).trim(),
			type,
			archived: false,
			locked: false,
			autoArchiveDuration: Number(raw.auto_archive_duration ?? 4320),
			origin,
			unarchivedByPost: 0,
		};
		this.threads.set(id, thread);
		if (!this.#channelMessages.has(id)) this.#channelMessages.set(id, []);
		return thread;
	}

	/**
	 * Start Thread from Message: a public thread whose id is the message's; only in a text channel; a second
	 * one for the same message answers 160004, which makes the call safe to repeat.
	 */
	#startThreadFromMessage({ params, body: raw }: RouteContext): Reply {
		const channelId = params.channel as string;
		const path = `/channels/${channelId}/messages/${params.message}/threads`;
		if (!this.#knownChannel(channelId)) return unknownChannel();
		if (this.forumIds.includes(channelId) || this.threads.has(channelId)) return wrongChannelType();
		const stored = this.#findChannelMessage(channelId, params.message as string);
		if (!stored) return unknownMessage();
		const body = asRecord(raw);
		const refused = this.#threadPreconditions(body, path);
		if (refused) return refused;
		if (this.threads.has(stored.message.id)) {
			this.threadRefusals.push({ code: 160004, path });
			return apiError(400, 'A thread has already been created for this message', 160004);
		}
		const thread = this.#newThread(stored.message.id, channelId, body, 'message');
		const object = this.#threadObject(thread);
		stored.message = {
			...stored.message,
			flags: (stored.message.flags ?? 0) | MessageFlags.HasThread,
			thread: object as unknown as APIMessage['thread'],
		};
		return { status: 201, body: object };
	}

	/**
	 * Start Thread without Message: in a text channel a thread of `type` (default private, 12); in a forum a
	 * post, which needs `message` (its first message, whose id is the post's).
	 */
	#startThread({ params, body: raw, files }: RouteContext): Reply {
		const channelId = params.channel as string;
		const path = `/channels/${channelId}/threads`;
		if (!this.#knownChannel(channelId)) return unknownChannel();
		if (this.threads.has(channelId)) return wrongChannelType();
		const body = asRecord(raw);
		const refused = this.#threadPreconditions(body, path);
		if (refused) return refused;
		if (!this.forumIds.includes(channelId)) {
			const type = body.type ?? ChannelType.PrivateThread;
			if (type !== ChannelType.PublicThread && type !== ChannelType.PrivateThread)
				return apiError(400, 'Invalid Form Body', 50035, {
					type: { _errors: [{ code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {11, 12}.' }] },
				});
			const thread = this.#newThread(snowflake(), channelId, body, 'channel', type as ThreadState['type']);
			return { status: 201, body: this.#threadObject(thread) };
		}
		const first = asRecord(body.message) as MessageBody;
		if (body.message === undefined)
			return apiError(400, 'Invalid Form Body', 50035, {
				message: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] },
			});
		const invalid = validateMessageBody(first, { requireContent: true, hasFiles: files.length > 0 });
		if (invalid) return invalid;
		const id = snowflake();
		const thread = this.#newThread(id, channelId, body, 'forum');
		const message = this.#messageObject(id, first, files, { id });
		this.#channelMessages.get(id)?.push({ message, nonce: null, createdAt: Date.now() });
		this.messages.push({ id, channelId: id, nonce: null, body: first, message });
		return { status: 201, body: { ...this.#threadObject(thread), message } };
	}

	/** Modify Channel, for threads: archive, lock, rename (other channels answer as they are). */
	#modifyChannel({ params, body: raw }: RouteContext): Reply {
		const channelId = params.channel as string;
		const thread = this.threads.get(channelId);
		if (!thread) {
			const channel = this.#anyChannelObject(channelId);
			return channel ? { status: 200, body: channel } : unknownChannel();
		}
		const body = asRecord(raw);
		if (body.name !== undefined) {
			const name = textLength(body.name);
			if (typeof body.name !== 'string' || name < 1 || name > 100)
				return apiError(400, 'Invalid Form Body', 50035, {
					name: {
						_errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }],
					},
				});
		}
		// A locked thread stays as it is for anyone without Manage Threads, which the bot has not here.
		if (thread.locked && body.archived === false) return threadLocked();
		if (body.archived === false && thread.archived && this.#activeThreadsFull()) return tooManyThreads();
		if (typeof body.archived === 'boolean') thread.archived = body.archived;
		if (typeof body.locked === 'boolean') thread.locked = body.locked;
		if (typeof body.name === 'string') thread.name = body.name.trim();
		if (ARCHIVE_DURATIONS.has(body.auto_archive_duration))
			thread.autoArchiveDuration = body.auto_archive_duration as number;
		return { status: 200, body: this.#threadObject(thread) };
	}

	/** The thread messages of `threadId`, oldest first (tests read a conversation with it). */
	threadMessages(threadId: string): APIMessage[] {
		return (this.#channelMessages.get(threadId) ?? []).map((stored) => stored.message);
	}

	/** A channel's own messages, oldest first. */
	channelMessages(channelId: string): APIMessage[] {
		return this.threadMessages(channelId);
	}

	/** Make a thread archived (as Discord does after its auto-archive duration) or lock it. */
	setThread(threadId: string, change: Partial<Pick<ThreadState, 'archived' | 'locked'>>): void {
		const thread = this.threads.get(threadId);
		if (!thread) throw new Error(`setThread: no thread ${threadId}`);
		Object.assign(thread, change);
	}

	/** The channel a webhook posts into. */
	#webhookChannel(webhookId: string): string {
		return (
			this.#options.webhooks?.find((hook) => hook.id === webhookId)?.channelId ??
			this.channelIds[0] ??
			snowflake()
		);
	}

	/**
	 * Where a webhook message goes: `?thread_id=` into that thread of the webhook's channel (un-archiving
	 * it), `thread_name` makes a post only in a forum (220003 elsewhere), and a forum takes nothing without
	 * one of them (220001).
	 */
	#webhookTarget(
		webhookId: string,
		threadId: string | null,
		body: MessageBody,
	): { reply: Reply } | { channelId: string; threadId: string | null; newThread?: true } {
		const channelId = this.#webhookChannel(webhookId);
		const forum = this.forumIds.includes(channelId);
		const threadName = body.thread_name;
		if (threadId !== null) {
			if (threadName !== undefined)
				return {
					reply: apiError(400, 'Invalid Form Body', 50035, {
						thread_name: {
							_errors: [{ code: 'BASE_TYPE_INVALID', message: 'Cannot be used together with thread_id.' }],
						},
					}),
				};
			const thread = this.threads.get(threadId);
			if (!thread || thread.parentId !== channelId) return { reply: unknownChannel() };
			const closed = this.#postIntoThread(threadId);
			return closed ? { reply: closed } : { channelId: threadId, threadId };
		}
		if (threadName !== undefined) {
			if (!forum)
				return { reply: apiError(400, 'Webhooks can only create threads in forum channels', 220003) };
			// The long 429s were observed on the bot's thread routes; a webhook's post is not counted there.
			const refused = this.#threadPreconditions({ name: threadName }, `/webhooks/${webhookId}`, false);
			if (refused) return { reply: refused };
			return { channelId, threadId: null, newThread: true };
		}
		if (forum)
			return {
				reply: apiError(
					400,
					'Webhooks posted to forum channels must have a thread_name or thread_id',
					220001,
				),
			};
		return { channelId, threadId: null };
	}

	#executeWebhook({ params, query, body: raw, files }: RouteContext): Reply {
		const webhookId = params.webhook as string;
		const token = params.token as string;
		const known = this.#options.webhooks;
		if (known && !known.some((hook) => hook.id === webhookId && hook.token === token))
			return unknownWebhook();
		const body = asRecord(raw) as MessageBody;
		const invalid = validateMessageBody(body, {
			requireContent: true,
			webhook: true,
			hasFiles: files.length > 0,
		});
		if (invalid) return invalid;

		const target = this.#webhookTarget(webhookId, query.get('thread_id'), body);
		if ('reply' in target) return target.reply;
		let { channelId, threadId } = target;
		const author = {
			id: webhookId,
			username: typeof body.username === 'string' ? body.username : 'Captain Hook',
			avatar: null,
			discriminator: '0000',
			global_name: null,
			bot: true,
		} as APIUser;
		const { thread_name: _name, ...shown } = body;
		let message = this.#messageObject(channelId, shown, files, { author, webhook_id: webhookId });
		if (target.newThread) {
			// A forum post by a webhook: the post and its first message share the message's id.
			this.#newThread(message.id, channelId, { name: body.thread_name }, 'webhook');
			threadId = message.id;
			channelId = message.id;
			message = { ...message, channel_id: channelId };
		}
		if (threadId !== null)
			this.#channelMessages.get(threadId)?.push({ message, nonce: null, createdAt: Date.now() });
		const wait = query.get('wait') === 'true';
		this.webhookMessages.push({ id: message.id, webhookId, token, threadId, body, wait, message });
		// Without ?wait=true Discord answers 204 and no body (docs/discord.md §5).
		return wait ? { status: 200, body: message } : { status: 204 };
	}

	#interactionCallback({ params, query, body: raw, files }: RouteContext): Reply {
		const interactionId = params.interaction as string;
		const reply = this.#acknowledge(interactionId, params.token as string, raw, files);
		if (reply.status !== 204) return reply;
		const body = asRecord(raw) as InteractionCallbackBody;
		const data = asRecord(body.data) as MessageBody;
		const message = this.#interactions.get(interactionId)?.response;
		// Discord answers 204 unless the caller asked for the callback response.
		if (query.get('with_response') !== 'true') return { status: 204 };
		return {
			status: 200,
			body: {
				interaction: {
					id: interactionId,
					type: InteractionType.ApplicationCommand,
					activity_instance_id: null,
					response_message_id: message?.id ?? null,
					response_message_loading: body.type === InteractionResponseType.DeferredChannelMessageWithSource,
					response_message_ephemeral:
						((typeof data.flags === 'number' ? data.flags : 0) & MessageFlags.Ephemeral) !== 0,
				},
				resource: { type: body.type, ...(message ? { message } : {}) },
			},
		};
	}

	/**
	 * The first answer to an interaction of ours, as Discord checks it: 10062 Unknown interaction for an id
	 * or token it never sent (or past the 3 s deadline), 40060 for a second answer, 400 Invalid Form Body
	 * for a message or autocomplete answer over the limits. 204 when taken.
	 */
	#acknowledge(interactionId: string, token: string, raw: unknown, files: UploadedFile[] = []): Reply {
		const sent = this.#interactions.get(interactionId);
		if (!sent || sent.token !== token) return unknownInteraction();
		const deadline = this.#options.interactionDeadlineMs ?? 3000;
		if (sent.acknowledged) return apiError(400, 'Interaction has already been acknowledged.', 40060);
		if (Date.now() - sent.at > deadline) return unknownInteraction();
		const body = asRecord(raw) as InteractionCallbackBody;
		const data = asRecord(body.data) as MessageBody;
		if (body.type === InteractionResponseType.Modal) {
			// A modal is only ever a first answer, and never to a modal submit or an autocomplete (docs/discord.md §6).
			if (
				sent.type === InteractionType.ModalSubmit ||
				sent.type === InteractionType.ApplicationCommandAutocomplete
			)
				return apiError(400, 'Invalid Form Body', 50035, {
					type: {
						_errors: [
							{ code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: 'Invalid interaction response type.' },
						],
					},
				});
			const refusedModal = validateModal(data);
			if (refusedModal) return refusedModal;
			sent.acknowledged = true;
			sent.originalId = null;
			this.modals.push({
				interactionId,
				token,
				channelId: sent.channelId,
				body: data as unknown as ModalShown['body'],
			});
			this.interactionResponses.push({ interactionId, token, body });
			return { status: 204 };
		}
		const invalid =
			body.type === InteractionResponseType.ApplicationCommandAutocompleteResult
				? validateChoices(data.choices)
				: (validateFiles(files) ?? validateMessageBody(data, { requireContent: false }));
		if (invalid) return invalid;
		const carriesMessage =
			body.type === InteractionResponseType.ChannelMessageWithSource ||
			body.type === InteractionResponseType.DeferredChannelMessageWithSource;
		sent.acknowledged = true;
		sent.response = carriesMessage ? this.#interactionMessage(token, data, files) : undefined;
		sent.originalId = sent.response?.id ?? null;
		this.interactionResponses.push({ interactionId, token, body });
		return { status: 204 };
	}

	/**
	 * An HTTP-interactions answer (the body of the bot's HTTP response to Discord's POST), checked and
	 * recorded exactly like a callback: what Discord would do with it. `{ status: 204 }` when taken.
	 */
	answerInline(
		interaction: { id: string; token: string },
		response: unknown,
	): { status: number; body?: unknown } {
		return this.#acknowledge(interaction.id, interaction.token, response);
	}

	#injectedByToken(token: string): InjectedInteraction | undefined {
		return [...this.#interactions.values()].find((injected) => injected.token === token);
	}

	/** A message posted through an interaction token lands in the interaction's channel. */
	#interactionMessage(
		token: string,
		body: MessageBody,
		files: UploadedFile[],
		extra: Partial<APIMessage> = {},
	): APIMessage {
		const channelId = this.#injectedByToken(token)?.channelId ?? this.channelIds[0] ?? snowflake();
		return this.#messageObject(channelId, body, files, {
			webhook_id: this.applicationId,
			application_id: this.applicationId,
			...extra,
		});
	}

	#followup({ params, body: raw, files }: RouteContext): Reply {
		// An interaction token Discord never issued is no webhook at all.
		if (!this.#injectedByToken(params.token as string)) return unknownWebhook();
		const body = asRecord(raw) as MessageBody;
		const invalid =
			validateFiles(files) ?? validateMessageBody(body, { requireContent: true, hasFiles: files.length > 0 });
		if (invalid) return invalid;
		const message = this.#interactionMessage(params.token as string, body, files);
		this.followups.push({
			id: message.id,
			applicationId: this.applicationId,
			token: params.token as string,
			body,
			message,
		});
		return { status: 200, body: message };
	}

	#editWebhookMessage({ params, body: raw, files }: RouteContext): Reply {
		const webhookId = params.webhook as string;
		const token = params.token as string;
		const known = this.#options.webhooks;
		const isInteraction = webhookId === this.applicationId;
		if (!isInteraction && known && !known.some((hook) => hook.id === webhookId && hook.token === token)) {
			return unknownWebhook();
		}
		if (isInteraction && !this.#injectedByToken(token)) return unknownWebhook();
		const body = asRecord(raw) as MessageBody;
		const invalid =
			validateFiles(files) ?? validateMessageBody(body, { requireContent: false, webhook: !isInteraction });
		if (invalid) return invalid;
		const messageId = params.message as string;
		const originalId = isInteraction ? this.#injectedByToken(token)?.originalId : null;
		const id = messageId === '@original' ? originalId : messageId;
		const message = this.#interactionMessage(token, body, files, {
			...(id ? { id } : {}),
			edited_timestamp: new Date().toISOString(),
			...(isInteraction ? {} : { webhook_id: webhookId, application_id: undefined }),
		});
		this.edits.push({ messageId, applicationId: webhookId, token, body, message });
		return { status: 200, body: message };
	}

	#registerCommands({ params, body }: RouteContext): Reply {
		if (!Array.isArray(body))
			return apiError(400, 'Invalid Form Body', 50035, {
				_errors: [{ code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }],
			});
		const guildId = params.guild ?? null;
		const errors: FormErrors = {};
		const names = new Set<string>();
		body.forEach((raw, i) => {
			const command = asRecord(raw);
			validateCommand(command, [i], errors);
			const key = `${command.type ?? ApplicationCommandType.ChatInput}:${command.name}`;
			if (names.has(key))
				addError(
					errors,
					[i, 'name'],
					'APPLICATION_COMMANDS_DUPLICATE_NAME',
					'Application command names must be unique',
				);
			names.add(key);
		});
		if (Object.keys(errors).length > 0) return apiError(400, 'Invalid Form Body', 50035, errors);

		const commands = body.map((raw) => {
			const command = asRecord(raw);
			return {
				id: snowflake(),
				application_id: params.app,
				...(guildId ? { guild_id: guildId } : {}),
				type: ApplicationCommandType.ChatInput,
				description: '',
				default_member_permissions: null,
				nsfw: false,
				version: snowflake(),
				...command,
			};
		});
		this.#commands.set(`${params.app}:${guildId ?? ''}`, commands);
		this.commandRegistrations.push({ applicationId: params.app as string, guildId, body, commands });
		return { status: 200, body: commands };
	}

	// ----- helpers for tests ---------------------------------------------------------------------------------

	/**
	 * Resolve with the predicate's first truthy result, polling every 10 ms; reject after `timeoutMs` with
	 * a message that names the predicate and summarises what the double saw.
	 */
	waitFor<T>(
		predicate: (double: this) => T | undefined | null | false,
		timeoutMs = 2000,
		label?: string,
	): Promise<T> {
		return until(
			() => {
				try {
					return predicate(this);
				} catch {
					return undefined;
				}
			},
			label ?? predicate.toString(),
			{ timeoutMs, everyMs: 10, detail: () => this.summary() },
		);
	}

	/** One line per recorded request plus counters, for failure messages. */
	summary(): string {
		const lines = this.requests.slice(-20).map((r) => `  ${r.method} ${r.path} -> ${r.status ?? 'pending'}`);
		return [
			`requests=${this.requests.length} messages=${this.messages.length} webhookMessages=${this.webhookMessages.length}` +
				` interactionResponses=${this.interactionResponses.length} gatewayConnections=${this.gatewayConnections}`,
			...lines,
		].join('\n');
	}

	/** Terminate gateway sockets, drop hanging requests and stop listening. Safe to call twice. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		for (const socket of this.#wss.clients) socket.terminate();
		for (const res of this.#hanging) res.socket?.destroy();
		this.#hanging.clear();
		await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
		this.#server.closeAllConnections();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	#log(...args: unknown[]): void {
		if (this.#options.debug) console.error('[discord-double]', ...args);
	}
}

/** Start a Discord double on 127.0.0.1 (random port). Always `close()` it, e.g. in `t.after`. */
export async function startDiscordDouble(options: DiscordDoubleOptions = {}): Promise<DiscordDouble> {
	return new DiscordDouble(options).listen();
}
