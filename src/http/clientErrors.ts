import http from 'node:http';
import { Duplex } from 'node:stream';

/**
 * Requests Node refuses before Express sees them (oversized headers, malformed HTTP) get the same
 * `{error, error_type}` body as every other error, instead of Node's bare status line.
 */
export function answerClientErrors(server: http.Server): void {
  // Node's own limit (--max-http-header-size), which is what overflowed.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, reason, type, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'payload_too_large', `request headers are larger than ${http.maxHeaderSize} bytes`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'timeout', 'the request was not received in time']
          : [400, 'Bad Request', 'validation', `malformed HTTP request: ${err.code ?? err.message}`];
    const body = JSON.stringify({ error: message, error_type: type });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
