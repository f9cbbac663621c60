// Reading a Prometheus counter and nginx's stub_status page, as the metrics-sidecar checks do.
import { describe, expect, it } from 'vitest';
import { metricValue, stubStatusRequests } from './metrics.ts';

describe('metricValue', () => {
  it('reads a sample line, skipping comments and other metrics', () => {
    const text = [
      '# HELP nginx_http_requests_total Requests nginx has handled.',
      '# TYPE nginx_http_requests_total counter',
      'nginx_connections_accepted 12',
      'nginx_http_requests_total 1027',
    ].join('\n');
    expect(metricValue(text, 'nginx_http_requests_total')).toBe(1027);
  });

  it('sums labelled series, and takes floats and a trailing timestamp', () => {
    const text = 'x{code="200"} 10\nx{code="404"} 2.5 1700000000000\r\n';
    expect(metricValue(text, 'x')).toBe(12.5);
  });

  it('finds nothing in a line without a number, a longer name, or a comment', () => {
    expect(metricValue('nginx_http_requests_total\n', 'nginx_http_requests_total')).toBeUndefined();
    expect(metricValue('nginx_http_requests_total_x 5', 'nginx_http_requests_total')).toBeUndefined();
    expect(metricValue('# nginx_http_requests_total 5', 'nginx_http_requests_total')).toBeUndefined();
    expect(metricValue('nginx_http_requests_total NaN', 'nginx_http_requests_total')).toBeUndefined();
    expect(metricValue('Active connections: 1', 'nginx_http_requests_total')).toBeUndefined();
  });
});

describe('stubStatusRequests', () => {
  it("takes the third number of nginx's status page", () => {
    const page =
      'Active connections: 1 \nserver accepts handled requests\n 7 7 31 \nReading: 0 Writing: 1 Waiting: 0 \n';
    expect(stubStatusRequests(page)).toBe(31);
  });

  it('finds nothing in another page', () => {
    expect(stubStatusRequests('<html>404 Not Found</html>')).toBeUndefined();
  });
});
