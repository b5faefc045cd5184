import {
	type APIActionRowComponent,
	type APIButtonComponentWithCustomId,
	ButtonStyle,
	ComponentType,
} from 'discord-api-types/v10';
import { type AccountAction, type Event, isTicketEvent } from '../events/event.js';
import { truncate } from '../text.js';

/**
 * Buttons, and the custom ids they carry. A custom id comes back from Discord as data: each has one
 * strict pattern here, written next to the function that makes it, and nothing that does not match it
 * exactly is acted on. Whether the clicker may use the button is decided at click time, not here.
 */

export type ButtonRow = APIActionRowComponent<APIButtonComponentWithCustomId>;

/** Discord's limits: custom id length, buttons per row, rows per message, label length. */
export const COMPONENT_LIMITS = { customId: 100, perRow: 5, rows: 5, label: 80 } as const;

const USERNAME = '[a-z0-9][a-z0-9_.-]{0,63}';
const SNOWFLAKE = '\\d{17,20}';

/** `status:<vPanel username, lower case>`: the same answer as `/account status`. */
export const STATUS_BUTTON = new RegExp(`^status:(${USERNAME})$`);

export function statusButtonId(username: string): string {
	return `status:${username.toLowerCase()}`;
}

/**
 * `act:<suspend|unsuspend|cancel>:<key>:<linked 0|1>:<invoking user id>:<confirmation id>`: what will be
 * done to which account, who may confirm it, and which stored confirmation it answers.
 */
export const ACTION_BUTTON = new RegExp(
	`^act:(suspend|unsuspend|cancel):([A-Za-z0-9]{1,8}):([01]):(${SNOWFLAKE}):(${SNOWFLAKE})$`,
);

export interface ActionButton {
	verb: AccountAction | 'cancel';
	key: string;
	linked: boolean;
	userId: string;
	confirmationId: string;
}

export function actionButtonId(button: ActionButton): string {
	return `act:${button.verb}:${button.key}:${button.linked ? 1 : 0}:${button.userId}:${button.confirmationId}`;
}

export function parseActionButton(customId: string): ActionButton | undefined {
	const match = ACTION_BUTTON.exec(customId);
	if (!match) return undefined;
	const [, verb, key, linked, userId, confirmationId] = match as unknown as [
		string,
		ActionButton['verb'],
		string,
		string,
		string,
		string,
	];
	return { verb, key, linked: linked === '1', userId, confirmationId };
}

/** Confirm and Cancel under a suspend or unsuspend confirmation. */
export function confirmationRow(button: Omit<ActionButton, 'verb'> & { action: AccountAction }): ButtonRow {
	const { action, ...rest } = button;
	return {
		type: ComponentType.ActionRow,
		components: [
			{
				type: ComponentType.Button,
				style: action === 'suspend' ? ButtonStyle.Danger : ButtonStyle.Primary,
				label: action === 'suspend' ? 'Confirm suspension' : 'Confirm unsuspension',
				custom_id: actionButtonId({ verb: action, ...rest }),
			},
			{
				type: ComponentType.Button,
				style: ButtonStyle.Secondary,
				label: 'Cancel',
				custom_id: actionButtonId({ verb: 'cancel', ...rest }),
			},
		],
	};
}

/** `ticket:reply:<MOFH ticket id>`: opens the reply modal for that ticket (as `/ticket reply` does). */
export const REPLY_BUTTON = /^ticket:reply:(\d{1,12})$/;

export function replyButtonId(ticketId: string): string {
	return `ticket:reply:${ticketId}`;
}

/** A Reply button per ticket (members cannot click in an archived thread: `/ticket reply` works anywhere). */
export function replyButtons(ticketIds: readonly string[]): ButtonRow[] {
	const ids = [...new Set(ticketIds)].filter((id) => REPLY_BUTTON.test(replyButtonId(id)));
	const buttons = ids.slice(0, COMPONENT_LIMITS.perRow).map(
		(id): APIButtonComponentWithCustomId => ({
			type: ComponentType.Button,
			style: ButtonStyle.Primary,
			label: ids.length === 1 ? 'Reply' : truncate(`Reply · #${id}`, COMPONENT_LIMITS.label, { trim: true }),
			custom_id: replyButtonId(id),
		}),
	);
	return buttons.length > 0 ? [{ type: ComponentType.ActionRow, components: buttons }] : [];
}

/**
 * A Status button per account an alert message is about, and a Reply button per ticket (bot messages
 * only: Discord allows interactive components only on messages the application owns, not on webhook
 * messages). Labelled with the username (or ticket) when a batched message concerns several.
 */
export function alertComponents(events: readonly Event[]): ButtonRow[] {
	const replies = replyButtons(events.filter(isTicketEvent).map((event) => event.ticketId));
	const status = statusButtons(events.map((event) => ('username' in event ? event.username : undefined)));
	return [...replies, ...status].slice(0, COMPONENT_LIMITS.rows);
}

/** One Status button per distinct account (case-insensitive), at most what one message can hold. */
export function statusButtons(usernames: readonly (string | undefined)[]): ButtonRow[] {
	const names = new Map<string, string>();
	for (const username of usernames) {
		if (!username || !STATUS_BUTTON.test(statusButtonId(username))) continue;
		if (!names.has(username.toLowerCase())) names.set(username.toLowerCase(), username);
	}
	const buttons = [...names.values()].slice(0, COMPONENT_LIMITS.perRow * COMPONENT_LIMITS.rows).map(
		(username): APIButtonComponentWithCustomId => ({
			type: ComponentType.Button,
			style: ButtonStyle.Secondary,
			label:
				names.size === 1
					? 'Status'
					: truncate(`Status · ${username}`, COMPONENT_LIMITS.label, { trim: true }),
			custom_id: statusButtonId(username),
		}),
	);
	const rows: ButtonRow[] = [];
	for (let i = 0; i < buttons.length; i += COMPONENT_LIMITS.perRow)
		rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + COMPONENT_LIMITS.perRow) });
	return rows;
}

/** `fwd:<resend|skip>:<target key>:<pause id>`: a decision about the callback a forward target is paused at. */
export const FORWARD_BUTTON = /^fwd:(resend|skip):([0-9a-z]{12}):([0-9a-z]{20}-[0-9a-z]{1,12})$/;

export function forwardButtonId(decision: 'resend' | 'skip', target: string, pauseId: string): string {
	return `fwd:${decision}:${target}:${pauseId}`;
}

/** Send again and Skip under a paused forward target's OPS message. */
export function forwardDecisionRow(target: string, pauseId: string): ButtonRow {
	return {
		type: ComponentType.ActionRow,
		components: [
			{
				type: ComponentType.Button,
				style: ButtonStyle.Danger,
				label: 'Send again',
				custom_id: forwardButtonId('resend', target, pauseId),
			},
			{
				type: ComponentType.Button,
				style: ButtonStyle.Secondary,
				label: 'Skip',
				custom_id: forwardButtonId('skip', target, pauseId),
			},
		],
	};
}
