import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createErrandMcpServer } from '@errand/mcp';
import type { IntakeContext } from '../context.ts';
import { intakeMcpBackend } from '../ops/mcp-backend.ts';
import { tenantOf } from './auth.ts';

/** A session nobody has used for this long is closed (a client that left without DELETE). */
const IDLE_MS = 60 * 60_000;

interface Session {
  tenant: string;
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
}

function rpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** True without an Origin header (not a browser) or when it names this server's own host. */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false; // "null" and other opaque origins
  }
}

/**
 * The MCP server on `POST/GET/DELETE /mcp` (Streamable HTTP, one session per
 * client, each bound to its API key's tenant: another key never reaches it).
 */
export function mcpRoutes(ctx: IntakeContext, version: string) {
  return async (app: FastifyInstance) => {
    const sessions = new Map<string, Session>();

    const open = async (tenant: string): Promise<StreamableHTTPServerTransport> => {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { tenant, transport, lastUsed: Date.now() });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      const server = createErrandMcpServer(intakeMcpBackend(ctx, tenant), {
        budgetMs: ctx.config.ERRAND_MCP_BUDGET_MS,
        historyDays: ctx.config.ERRAND_HISTORY_DAYS,
        version,
        onError: (err) => ctx.log.warn('MCP notification not sent', { err: err as Error }),
      });
      await server.connect(transport);
      return transport;
    };

    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      const tenant = tenantOf(req, ctx); // 401 without a valid key, before anything MCP
      // a web page of another origin (DNS rebinding, a local intake in development mode) is refused, as MCP requires
      if (!sameOrigin(req)) return rpcError(reply, 403, -32000, 'Forbidden: the Origin header names another site');
      const sid = req.headers['mcp-session-id'];
      let transport: StreamableHTTPServerTransport;
      if (typeof sid === 'string') {
        const s = sessions.get(sid);
        // another tenant's session is no session at all
        if (!s || s.tenant !== tenant) return rpcError(reply, 404, -32001, 'Session not found');
        s.lastUsed = Date.now();
        transport = s.transport;
      } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
        transport = await open(tenant);
        reply.hijack();
        await transport.handleRequest(req.raw, reply.raw, req.body);
        // an initialize that did not open a session leaves nothing behind
        if (!transport.sessionId || !sessions.has(transport.sessionId)) await transport.close();
        return;
      } else {
        return rpcError(reply, 400, -32000, 'Bad Request: no valid session ID; send initialize first');
      }
      reply.hijack();
      await transport.handleRequest(req.raw, reply.raw, req.body);
    };

    app.post('/mcp', { schema: { summary: 'MCP (Streamable HTTP): client messages', tags: ['mcp'], security: [{ bearer: [] }] } }, handle);
    app.get('/mcp', { schema: { summary: 'MCP (Streamable HTTP): server notifications (SSE)', tags: ['mcp'], security: [{ bearer: [] }] } }, handle);
    app.delete('/mcp', { schema: { summary: 'MCP (Streamable HTTP): end the session', tags: ['mcp'], security: [{ bearer: [] }] } }, handle);

    const sweep = setInterval(() => {
      const now = Date.now();
      for (const s of sessions.values()) if (now - s.lastUsed > IDLE_MS) void s.transport.close().catch(() => undefined);
    }, 60_000);
    sweep.unref();
    app.addHook('onClose', async () => {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
      sessions.clear();
    });
  };
}
