import type { REST } from '@discordjs/rest';
import {
	type APIActionRowComponent,
	type APIApplicationCommandOptionChoice,
	type APIButtonComponentWithCustomId,
	type APIEmbed,
	type APIInteractionResponse,
	type APIModalInteractionResponseCallbackData,
	InteractionResponseType,
	MessageFlags,
	Routes,
} from 'discord-api-types/v10';

export interface Reply {
	content?: string;
	embeds?: APIEmbed[];
	/** Only the invoking member sees it. Account and API data are always ephemeral. */
	ephemeral?: boolean;
	/** Buttons under the message; `[]` removes the ones an edited message had. */
	components?: APIActionRowComponent<APIButtonComponentWithCustomId>[];
	/** Files sent with the message (multipart); an embed shows one as `attachment://<name>`. */
	files?: { name: string; data: Buffer }[];
}

/** How the first answer to an interaction travels: inline in the HTTP response, or the callback route. */
export type SendInitial = (response: APIInteractionResponse) => Promise<void>;

/**
 * One interaction's answers, the same for the gateway and HTTP interactions: the first answer through
 * `sendInitial`, later ones by editing the original message with the interaction token (no bot token).
 */
export class Responder {
	#acknowledged = false;
	/** Set for a repeated delivery of an interaction being answered elsewhere: nothing more is sent. */
	#silent = false;

	constructor(
		private readonly interaction: { application_id: string; token: string },
		private readonly sendInitial: SendInitial,
		private readonly rest: REST,
	) {}

	get acknowledged(): boolean {
		return this.#acknowledged;
	}

	/**
	 * Answers nothing, now or later: for a second delivery of an interaction whose first delivery is being
	 * answered (Discord takes one answer per interaction; a second would fail, and an edit through the same
	 * token would overwrite the first delivery's answer).
	 */
	stayQuiet(): void {
		this.#acknowledged = true;
		this.#silent = true;
	}

	/** Shows "thinking…": handlers that do I/O call this first, so the 3-second window never runs out. */
	async defer(ephemeral = true): Promise<void> {
		if (this.#acknowledged) return;
		this.#acknowledged = true;
		await this.sendInitial({
			type: InteractionResponseType.DeferredChannelMessageWithSource,
			data: ephemeral ? { flags: MessageFlags.Ephemeral } : {},
		});
	}

	/**
	 * A button's "I'm on it": the message carrying the button stays, and the next `reply` edits it
	 * (for a component interaction, the original message is the one the button is on).
	 */
	async deferUpdate(): Promise<void> {
		if (this.#acknowledged) return;
		this.#acknowledged = true;
		await this.sendInitial({ type: InteractionResponseType.DeferredMessageUpdate });
	}

	async reply(reply: Reply): Promise<void> {
		if (this.#silent) return;
		const body = {
			...(reply.content !== undefined && { content: reply.content }),
			...(reply.embeds && { embeds: reply.embeds }),
			...(reply.components && { components: reply.components }),
			allowed_mentions: { parse: [] },
		};
		const files = reply.files ?? [];
		// A first answer travels inline or as JSON: files go in the edit of a deferred answer.
		if (!this.#acknowledged && files.length > 0) await this.defer(reply.ephemeral ?? true);
		if (!this.#acknowledged) {
			this.#acknowledged = true;
			const ephemeral = reply.ephemeral ?? true;
			await this.sendInitial({
				type: InteractionResponseType.ChannelMessageWithSource,
				data: { ...body, ...(ephemeral && { flags: MessageFlags.Ephemeral }) },
			});
			return;
		}
		// After a defer the visibility was fixed by the defer itself (docs/discord.md §1).
		await this.rest.patch(Routes.webhookMessage(this.interaction.application_id, this.interaction.token), {
			body,
			auth: false,
			...(files.length > 0 && { files: files.map(({ name, data }) => ({ name, data })) }),
		});
	}

	/**
	 * Opens a modal: only as the first answer, and never to a modal submit (docs/discord.md §6), so a handler
	 * that shows one does no slow work before it.
	 */
	async modal(modal: APIModalInteractionResponseCallbackData): Promise<void> {
		if (this.#acknowledged) throw new Error('a modal can only be the first answer to an interaction');
		this.#acknowledged = true;
		await this.sendInitial({ type: InteractionResponseType.Modal, data: modal });
	}

	async choices(choices: APIApplicationCommandOptionChoice[]): Promise<void> {
		if (this.#acknowledged) return;
		this.#acknowledged = true;
		await this.sendInitial({
			type: InteractionResponseType.ApplicationCommandAutocompleteResult,
			data: { choices },
		});
	}
}
