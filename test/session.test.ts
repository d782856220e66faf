import { openSession } from '../src/inference/session';
import { resolveModel } from '../src/models/catalog';
import { log } from '../src/log';

describe('execution providers', () => {
  it('asked for CUDA where it cannot load, falls back to CPU and says so in the log', async () => {
    const warn = jest.spyOn(log, 'warn');
    const { session, provider } = await openSession(resolveModel().modelPath, { provider: 'cuda', intraOpThreads: 1, graphOptimization: 'all' });
    expect(provider).toBe('cpu');
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ provider: 'cpu', requested: 'cuda' }), expect.stringMatching(/falling back to CPU/));
    expect(session.inputNames).toContain('input_ids');
    await session.release();
  });
});
