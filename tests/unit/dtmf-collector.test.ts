import { DtmfCollector, MAX_DTMF_DIGITS } from '../../src/media/conversation/dtmf-collector';

describe('DtmfCollector', () => {
  it('cuts an endless burst into inputs of at most MAX_DTMF_DIGITS digits', () => {
    const inputs: string[] = [];
    const c = new DtmfCollector((t) => inputs.push(t), 1000, 300, () => 0);
    for (let i = 0; i < 1000; i += 1) c.push(String(i % 10), 'media');
    c.close();
    expect(inputs.length).toBe(Math.floor(1000 / MAX_DTMF_DIGITS));
    for (const t of inputs) expect(t).toMatch(new RegExp(`^\\[DTMF \\d{${MAX_DTMF_DIGITS}}\\]$`));
  });

  it('still ends a short entry on # at once', () => {
    const inputs: string[] = [];
    const c = new DtmfCollector((t) => inputs.push(t), 1000, 300, () => 0);
    for (const d of '1234#') c.push(d, 'media');
    expect(inputs).toEqual(['[DTMF 1234#]']);
    c.close();
  });
});
