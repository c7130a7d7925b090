// Interoperability test: the OpenTelemetry JS SDK (`@opentelemetry/sdk-logs`
// with `@opentelemetry/exporter-logs-otlp-http`, OTLP's JSON encoding,
// gzip-compressed) exports a few records at several levels to zenserver;
// then the session is read back over the sessions API and every record,
// level, attribute and the resource metadata is checked.
//
// Run by `cargo xtask interop`, which starts the server and sets
// ZENSERVER_URL (http://127.0.0.1:PORT), ZENSERVER_TOKEN and SESSION_ID (24
// hex digits, given to the SDK as `service.instance.id`).

import assert from 'node:assert/strict';

import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';

const url = required('ZENSERVER_URL');
const token = required('ZENSERVER_TOKEN');
const sessionId = required('SESSION_ID');
const authorization = { Authorization: `Bearer ${token}` };

const resourceAttributes = {
  'service.name': 'interop-node',
  'service.instance.id': sessionId,
  'service.version': '2.0.1',
  'zen.mode': 'interop',
  'deployment.environment.name': 'test',
  'host.cores': 2,
};

// What is logged, and what each record must become.
const records = [
  {
    record: { severityNumber: SeverityNumber.TRACE, severityText: 'TRACE', body: 'entering checkout' },
    entry: { level: 'debug', message: 'entering checkout', data: { severity: 'TRACE' } },
  },
  {
    record: {
      severityNumber: SeverityNumber.DEBUG,
      severityText: 'DEBUG',
      body: 'cart loaded',
      attributes: { 'cart.items': 3, 'cart.total': 59.5, 'cart.express': true },
    },
    entry: {
      level: 'debug',
      message: 'cart loaded',
      data: { 'cart.items': 3, 'cart.total': 59.5, 'cart.express': true },
    },
  },
  {
    record: {
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'payment authorized',
      attributes: { 'payment.provider': 'acme', tags: ['card', 'eu'] },
    },
    entry: {
      level: 'info',
      message: 'payment authorized',
      data: { 'payment.provider': 'acme', tags: ['card', 'eu'] },
    },
  },
  {
    record: {
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: 'inventory service slow',
      attributes: { 'http.route': '/inventory', 'duration.ms': 1250 },
    },
    entry: {
      level: 'warn',
      message: 'inventory service slow',
      data: { 'http.route': '/inventory', 'duration.ms': 1250 },
    },
  },
  {
    record: {
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      eventName: 'checkout.failed',
      body: { reason: 'card declined', retryable: false },
      attributes: { 'order.id': 'A-1001' },
    },
    entry: {
      level: 'error',
      message: '{"reason":"card declined","retryable":false}',
      data: { 'order.id': 'A-1001', event_name: 'checkout.failed' },
    },
  },
  {
    record: { severityNumber: SeverityNumber.FATAL, severityText: 'FATAL', body: 'giving up' },
    entry: { level: 'error', message: 'giving up', data: { severity: 'FATAL' } },
  },
];

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set; run this through \`cargo xtask interop\``);
  }
  return value;
}

async function getJson(path) {
  const response = await fetch(`${url}${path}`, { headers: authorization });
  const text = await response.text();
  assert.equal(response.status, 200, `GET ${path}: ${text}`);
  return JSON.parse(text);
}

const started = Date.now();
const exporter = new OTLPLogExporter({
  url: `${url}/v1/logs`,
  headers: authorization,
  compression: 'gzip',
});
const provider = new LoggerProvider({
  resource: resourceFromAttributes(resourceAttributes),
  // One batch, so the records arrive as one export request, in order.
  processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 60_000 })],
});
const logger = provider.getLogger('interop.checkout', '1.0.0');
for (const { record } of records) {
  logger.emit(record);
}
await provider.forceFlush();
await provider.shutdown();
const finished = Date.now();

const session = await getJson(`/sessions/${sessionId}`);
assert.equal(session.appname, 'interop-node');
assert.equal(session.mode, 'interop');
assert.equal(session.status, 'active');
// Every resource attribute but the two that name the session and its mode.
const { 'service.name': _name, 'zen.mode': _mode, ...expectedMetadata } = resourceAttributes;
assert.deepEqual(session.metadata, expectedMetadata);

const log = await getJson(`/sessions/${sessionId}/log`);
assert.equal(log.entries.length, records.length, JSON.stringify(log.entries));
log.entries.forEach((actual, index) => {
  const { entry } = records[index];
  assert.equal(actual.seq, index + 1);
  assert.equal(actual.level, entry.level, `entry ${index}`);
  assert.equal(actual.message, entry.message, `entry ${index}`);
  assert.deepEqual(actual.data, { ...entry.data, scope: 'interop.checkout' }, `entry ${index}`);
  const time = Date.parse(actual.timestamp);
  assert.ok(time >= started - 1000 && time <= finished + 1000, `entry ${index}: ${actual.timestamp}`);
});
console.log(`node: ${records.length} records checked in session ${sessionId}`);
