/** Bare Fastify on the same Node and Fastify versions: the baseline the receiver is compared with. */
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const app = Fastify();
await app.register(formbody);
app.post('/hooks/mofh/:secret', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on http://127.0.0.1:${(app.server.address() as { port: number }).port}\n`);
