/**
 * AMR-WB test encoder: VisualOn's encoder (Debian libvo-amrwbenc0, installed by .ci/run) through
 * koffi. Nothing in the runtime encodes AMR-WB; tests need it to stream AMR-WB like Telnyx does.
 */
import koffi from 'koffi';

/** RFC 4867 octet-aligned RTP payloads (CMR 15 = no request, one frame each) of 20 ms frames. */
export function encodeAmrWbOctetAligned(frames16k: Int16Array[], mode = 8): Uint8Array[] {
  const lib = koffi.load('libvo-amrwbenc.so.0');
  const init = lib.func('void *E_IF_init(void)');
  const encode = lib.func('int E_IF_encode(void *st, int mode, const int16_t *speech, uint8_t *out, int dtx)');
  const exit = lib.func('void E_IF_exit(void *st)');
  const st = init();
  const out = new Uint8Array(64);
  try {
    return frames16k.map((f) => {
      const n = encode(st, mode, f, out, 0) as number;
      // A storage frame is ToC + speech bits; the octet-aligned payload prepends the CMR byte.
      const payload = new Uint8Array(n + 1);
      payload[0] = 0xf0;
      payload.set(out.subarray(0, n), 1);
      return payload;
    });
  } finally {
    exit(st);
  }
}
