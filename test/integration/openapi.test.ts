/**
 * SPEC §2: every route declares its request and response schemas and the OpenAPI document is
 * generated from them. This keeps the generated reference honest: each operation says what it
 * does and what a success looks like.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../src/server/test-support/app-harness.ts';

interface Response {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3 and gives every operation a summary and a documented success response', async () => {
    const doc = (await t.request({ url: '/openapi.json' })).json as { openapi: string; paths: Record<string, Record<string, { summary?: string; responses?: Record<string, Response> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const problems: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const label = `${method.toUpperCase()} ${path}`;
        if (!op.summary) problems.push(`${label}: no summary`);
        const success = Object.entries(op.responses ?? {}).filter(([status]) => status.startsWith('2'));
        if (success.length === 0) problems.push(`${label}: no 2xx response`);
        // 204 No Content is the one success that has no body to describe.
        else if (success.every(([status, r]) => r.content === undefined && status !== '204')) problems.push(`${label}: 2xx response without a schema`);
      }
    }
    expect(problems).toEqual([]);
  });
});
