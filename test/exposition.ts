/**
 * A reader of Prometheus' text exposition format (version 0.0.4), for tests: every sample as its name,
 * its labels and its value, and the HELP/TYPE lines as they were declared. Written from the format's
 * description, not from prom-client, so the tests check what a scraper would read.
 */
export interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

export interface Exposition {
	samples: Sample[];
	types: Map<string, string>;
	/** The value of the one sample with this name and exactly these labels; undefined when absent. */
	value(name: string, labels?: Record<string, string>): number | undefined;
	/** Every sample of a name. */
	series(name: string): Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

function unescapeLabel(text: string): string {
	return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * A sample value as Prometheus reads it (Go's strconv.ParseFloat): NaN and Inf in any case, so prom-client's
 * `Nan` (an event-loop gauge before its first sample, on newer Node lines) is read as NaN, as a server would.
 */
function number(text: string): number {
	const word = text.toLowerCase();
	if (word === '+inf' || word === 'inf') return Number.POSITIVE_INFINITY;
	if (word === '-inf') return Number.NEGATIVE_INFINITY;
	if (word === 'nan') return Number.NaN;
	const value = Number(text);
	if (Number.isNaN(value)) throw new Error(`not a sample value: ${text}`);
	return value;
}

export function parseExposition(text: string): Exposition {
	const samples: Sample[] = [];
	const types = new Map<string, string>();
	for (const line of text.split('\n')) {
		if (line.trim() === '') continue;
		if (line.startsWith('#')) {
			const type = /^# TYPE (\S+) (\S+)$/.exec(line);
			if (type) types.set(type[1] as string, type[2] as string);
			continue;
		}
		const match = SAMPLE.exec(line);
		if (!match) throw new Error(`not an exposition line: ${line}`);
		const labels: Record<string, string> = {};
		const body = match[2] ?? '';
		LABEL.lastIndex = 0;
		while (LABEL.lastIndex < body.length) {
			const at = LABEL.lastIndex;
			const label = LABEL.exec(body);
			if (!label || label.index !== at) throw new Error(`bad labels in: ${line}`);
			labels[label[1] as string] = unescapeLabel(label[2] as string);
		}
		samples.push({ name: match[1] as string, labels, value: number(match[3] as string) });
	}
	const same = (a: Record<string, string>, b: Record<string, string>) =>
		Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
	return {
		samples,
		types,
		value: (name, labels = {}) =>
			samples.find((sample) => sample.name === name && same(sample.labels, labels))?.value,
		series: (name) => samples.filter((sample) => sample.name === name),
	};
}
