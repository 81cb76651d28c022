#!/usr/bin/env node
// Runs graphql-http's GraphQL-over-HTTP server audits against a running server:
//
//   node tools/graphql-http-audit/audit.mjs http://127.0.0.1:PORT/graphql
//
// Prints one line per audit, in graphql-http's order:
//
//   <status>  <id>  <name>[  <reason>]
//
// where status is graphql-http's own: ok, error (a MUST failed), warn (a
// SHOULD failed) or notice (a MAY failed). Then a summary line and the closing
// line "audit: N passed, M failed", where M counts the failed MUSTs and N all
// the other audits (warnings and notices do not fail the run).
//
// Exit status: 0 when no MUST failed; 1 when one or more did; 2 when the audit
// could not run at all (no or bad URL, server unreachable, a request timed out,
// or any other fatal error thrown by graphql-http).
import { auditServer } from 'graphql-http';

const REQUEST_TIMEOUT_MS = 10_000;

function fatal(message) {
  console.error(`audit: error: ${message}`);
  process.exit(2);
}

// Node's fetch hides the reason (ECONNREFUSED, …) in err.cause.
function describe(err) {
  let text = String(err?.message ?? err);
  for (let c = err?.cause; c; c = c.cause) {
    text += `: ${c.message ?? c}`;
    if (c.code && !String(c.message).includes(c.code)) text += ` (${c.code})`;
  }
  return text;
}

const oneLine = (s) => String(s).replace(/\s+/g, ' ').trim();

const url = process.argv[2];
if (!url) fatal('usage: node audit.mjs <graphql endpoint URL, e.g. http://127.0.0.1:8080/graphql>');
try {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
} catch {
  fatal(`not an http(s) URL: ${url}`);
}

// Plain fetch, but no audit request may hang the run.
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

let results;
try {
  results = await auditServer({ url, fetchFn });
} catch (err) {
  fatal(`cannot audit ${url}: ${describe(err)}`);
}

const counts = { ok: 0, error: 0, warn: 0, notice: 0 };
for (const r of results) {
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  const line = [r.status, r.id, r.name];
  if (r.status !== 'ok') line.push(oneLine(r.reason));
  console.log(line.join('  '));
}

const failed = counts.error;
const passed = results.length - failed;
console.log(
  `audit: ${results.length} audits against ${url}: ${counts.ok} ok, ` +
    `${counts.error} error (MUST), ${counts.warn} warn (SHOULD), ${counts.notice} notice (MAY)`,
);
console.log(`audit: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
