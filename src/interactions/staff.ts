import { type APIInteraction, PermissionFlagsBits } from 'discord-api-types/v10';
import type { Config } from '../config.js';

/** Who may run staff commands: the configured servers, and staff roles or server managers in them. */
export interface StaffPolicy {
	/** `DISCORD_GUILD_ID`: interactions from any other server, or from a DM, are refused. */
	guildIds: readonly string[];
	/** `STAFF_ROLE_IDS`: when set, one of these roles is required (and enough). */
	staffRoleIds: readonly string[];
}

export function staffPolicy(config: Pick<Config, 'discord' | 'staffRoleIds'>): StaffPolicy {
	return { guildIds: config.discord.guildIds, staffRoleIds: config.staffRoleIds };
}

const MANAGERS = PermissionFlagsBits.ManageGuild | PermissionFlagsBits.Administrator;

/**
 * Why this interaction may not run a staff action, or undefined when it may. The one gate for every
 * interaction (slash commands, autocomplete, button clicks) on both paths: anyone can add the bot to a
 * server of their own, and Discord's `default_member_permissions` is only a default that each server's
 * admins change, so the server and the member are checked here, from the interaction itself.
 */
export function refuseStaff(interaction: APIInteraction, policy: StaffPolicy): string | undefined {
	if (policy.guildIds.length === 0)
		return 'Staff commands are switched off: set DISCORD_GUILD_ID to the id of the staff server and restart hookcord.';
	const guildId = interaction.guild_id;
	const member = interaction.member;
	if (!guildId || !member || !policy.guildIds.includes(guildId))
		return 'Staff commands work only in the staff server this hookcord is set up for.';
	const staff = policy.staffRoleIds;
	if (staff.length > 0) {
		if (Array.isArray(member.roles) && member.roles.some((role) => staff.includes(role))) return undefined;
		return `This command is for staff: you need one of the roles ${staff.map((id) => `<@&${id}>`).join(', ')}.`;
	}
	if ((permissions(member.permissions) & MANAGERS) !== 0n) return undefined;
	return 'This command is for staff: you need the Manage Server permission (or set STAFF_ROLE_IDS).';
}

/** The member's permission bitfield in the channel; anything malformed counts as no permission. */
function permissions(bitfield: unknown): bigint {
	return typeof bitfield === 'string' && /^\d{1,30}$/.test(bitfield) ? BigInt(bitfield) : 0n;
}
