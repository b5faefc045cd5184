import { TimestampStyles, time } from '@discordjs/formatters';
import {
	type APIEmbed,
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { Config } from '../src/config.js';
import { readForwardStatus } from '../src/delivery/forward/status.js';
import { defineCommand } from '../src/interactions/define-command.js';
import { FORWARD_BUTTON } from '../src/render/components.js';
import { renderForwardStatus } from '../src/render/forwards.js';
import { line } from '../src/render/markdown.js';
import type { Decision, Forwards } from '../src/state/forwards.js';
import { actor } from './account-actions.js';

export const FORWARDS = {
	name: 'forwards',
	description: 'Forwarding of callbacks to your own panel',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'status',
			description: 'Every forward target: state, callbacks waiting, the oldest, the last answer',
		},
	],
} as const;

export interface ForwardsCommandDeps {
	/** The store side of forwarding (unfenced: a decision is recorded by whoever takes it). */
	forwards: Forwards;
	forwardTargets: Config['forward']['targets'];
	now?: () => number;
}

const LABELS: Record<Decision, string> = { resend: 'Send again', skip: 'Skip' };

/**
 * `/forwards status`, and the Send again and Skip buttons under a paused target's OPS message. A click
 * records the decision once (the first, across instances); the forwarding leader carries it out, and the
 * message shows who decided what, without its buttons.
 */
export function forwards({ forwards: store, forwardTargets, now = Date.now }: ForwardsCommandDeps) {
	return defineCommand(
		FORWARDS,
		{
			status: {
				async execute(_args, { respond }) {
					await respond.defer(true);
					const rows = await readForwardStatus(store, forwardTargets, now());
					await respond.reply({ embeds: [renderForwardStatus(rows, now())] });
				},
			},
		},
		[
			{
				pattern: FORWARD_BUTTON,
				async execute(match, { interaction, respond }) {
					const [, decision, key, pauseId] = match as unknown as [string, Decision, string, string];
					const target = forwardTargets.find((candidate) => candidate.key === key);
					if (!target) {
						await respond.reply({ content: 'This forward target is no longer configured.' });
						return;
					}
					await respond.deferUpdate();
					const [state, earlier] = await Promise.all([store.state(key), store.decision(key, pauseId)]);
					const stamp = (at: number) => time(Math.floor(at / 1000), TimestampStyles.ShortDateTime);
					let note: string;
					if (earlier)
						note = `Already decided: **${LABELS[earlier.decision]}** by ${line(earlier.by)} ${stamp(earlier.at)}.`;
					else if (state.paused?.id !== pauseId)
						note = 'This pause is over: the target is no longer waiting on it.';
					else {
						const who = actor(interaction);
						const by = `${who.name} (${who.id})`;
						const { recorded, decision: taken } = await store.decide(key, pauseId, {
							decision,
							by,
							at: now(),
						});
						note = recorded
							? `**${LABELS[decision]}** — decided by ${line(by)} ${stamp(taken.at)}; the forwarding leader carries it out within seconds, once.`
							: `Already decided: **${LABELS[taken.decision]}** by ${line(taken.by)} ${stamp(taken.at)}.`;
					}
					const embeds = (interaction.message?.embeds ?? []) as APIEmbed[];
					await respond.reply({ content: note, embeds, components: [] });
				},
			},
		],
	);
}
