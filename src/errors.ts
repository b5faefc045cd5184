/**
 * An error whose message is written for staff: a provider's refusal, a missing configuration. The
 * command dispatcher shows its message as it is; every other error stays in the log.
 */
export class UserFacingError extends Error {
	override name = 'UserFacingError';
}
