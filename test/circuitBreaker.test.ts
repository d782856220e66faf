import { AsideError } from '../src/errors';
import { CircuitBreaker } from '../src/search/sources/circuitBreaker';

const refused = () => Promise.reject(new AsideError('unavailable', 'Elasticsearch at http://127.0.0.1:9 is unreachable', { cause: 'connection' }));

describe('circuit breaker', () => {
  it('opens on an outage and then fails fast without calling the dependency', async () => {
    const b = new CircuitBreaker('Elasticsearch', 60_000);
    let calls = 0;
    const down = () => (calls++, refused());
    await expect(b.call(down)).rejects.toMatchObject({ details: { cause: 'connection' } });
    await expect(b.call(down)).rejects.toMatchObject({ status: 503, details: { cause: 'circuit_open', retryAfterSeconds: 60 } });
    expect(calls).toBe(1);
    expect(b.describe()).toMatchObject({ state: 'open', last_error: expect.stringMatching(/unreachable/) });
  });

  it('stays closed for errors that are about the request, not the dependency', async () => {
    const b = new CircuitBreaker('Elasticsearch', 60_000);
    await expect(b.call(() => Promise.reject(new AsideError('not_found', 'no such index')))).rejects.toMatchObject({ status: 404 });
    expect(b.state).toBe('closed');
  });

  it('after the cooldown lets one probe through: success closes the circuit, failure opens it again', async () => {
    const b = new CircuitBreaker('Elasticsearch', 0);
    await expect(b.call(refused)).rejects.toThrow();
    expect(b.state).toBe('half-open');
    await expect(b.call(refused)).rejects.toMatchObject({ details: { cause: 'connection' } });
    await expect(b.call(() => Promise.resolve('hits'))).resolves.toBe('hits');
    expect(b.state).toBe('closed');
  });

  it('fails other calls fast while the probe is out', async () => {
    const b = new CircuitBreaker('Elasticsearch', 0);
    await expect(b.call(refused)).rejects.toThrow();
    let release!: () => void;
    const probe = b.call(() => new Promise<string>((r) => (release = () => r('ok'))));
    await expect(b.call(() => Promise.resolve('second'))).rejects.toMatchObject({ details: { cause: 'circuit_open' } });
    release();
    await expect(probe).resolves.toBe('ok');
  });
});
