/**
 * At most `messages` sends per `perMs` to one destination (Discord allows about 5 per 5 s per channel):
 * the worker never sends faster, so Discord never answers 429, and what arrives meanwhile is folded.
 */
export class RateWindow {
	/** When the latest attempts ended (at most `messages`). */
	#attempts: number[] = [];

	constructor(private readonly rate: { messages: number; perMs: number }) {}

	/** When the destination may take its next send (0: now). */
	nextSlot(): number {
		const { messages, perMs } = this.rate;
		return this.#attempts.length < messages ? 0 : (this.#attempts[0] as number) + perMs;
	}

	attempted(at: number): void {
		this.#attempts.push(at);
		if (this.#attempts.length > this.rate.messages) this.#attempts.shift();
	}
}
