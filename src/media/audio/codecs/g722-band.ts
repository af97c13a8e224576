/**
 * ITU-T G.722 (09/2012) sub-band ADPCM, 64 kbit/s (mode 1): the state of one sub-band and the
 * blocks both the encoder and the decoder run on it. Block names (INVQAL, LOGSCL, …) and table
 * names follow the Recommendation so each line can be checked against it. Integer arithmetic is
 * exactly the spec's (16-bit saturation, arithmetic shifts), which is what makes us bit-exact.
 */

/** Clamp to the int16 range (the spec's 16-bit saturation). */
export const sat16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
/** Clamp to the 15-bit range used for reconstructed sub-band signals (RL, RH). */
export const sat15 = (v: number): number => (v > 16383 ? 16383 : v < -16384 ? -16384 : v);

/** Table 14 (ILB): inverse-log table for SCALEL/SCALEH. */
const ILB = new Int32Array([
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025,
  3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
]);

/** Table 7 (QM4): 4-bit low-band inverse quantizer, indexed by ILOW >> 2. */
export const QM4 = new Int32Array([
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
]);

/** Table 6 (QM6): 6-bit low-band inverse quantizer (decoder output in mode 1), indexed by ILOW. */
export const QM6 = new Int32Array([
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576,
  -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040,
  -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
]);

/** Table 10 (QM2): high-band inverse quantizer, indexed by IHIGH. */
export const QM2 = new Int32Array([-7408, -1616, 7408, 1616]);

/** Tables 8/9 (WL through RIL4 → RL42): low-band log-scale-factor steps, indexed by ILOW >> 2. */
const WL = new Int32Array([-60, -30, 58, 172, 334, 538, 1198, 3042]);
const RL42 = new Int32Array([0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0]);
/** Table 12 (WH through RH2): high-band log-scale-factor steps, indexed by IHIGH. */
const WH = new Int32Array([0, -214, 798]);
const RH2 = new Int32Array([2, 1, 2, 1]);

/** NBL / NBH upper limits (LOGSCL / LOGSCH). */
const NB_MAX_LOW = 18432;
const NB_MAX_HIGH = 22528;

/** One sub-band's ADPCM state (the low band uses the DETL/NBL names, the high band DETH/NBH). */
export class SubBand {
  /** PREDIC output: the signal estimate SL / SH. */
  s = 0;
  /** FILTEZ output: the zero-section estimate SZL / SZH. */
  private sz = 0;
  /** Log and linear quantizer scale factors (NBL/DETL, NBH/DETH). */
  nb = 0;
  det: number;
  /** Pole-section coefficients A1, A2; reconstructed-signal delays R1, R2; partial P1, P2. */
  private a1 = 0;
  private a2 = 0;
  private r1 = 0;
  private r2 = 0;
  private p1 = 0;
  private p2 = 0;
  // Zero-section coefficients B1..B6 and quantized-difference delays D1..D6, as scalar fields:
  // this runs twice per byte for every call, and fields beat typed-array loops by ~3× here.
  private b1 = 0;
  private b2 = 0;
  private b3 = 0;
  private b4 = 0;
  private b5 = 0;
  private b6 = 0;
  private d1 = 0;
  private d2 = 0;
  private d3 = 0;
  private d4 = 0;
  private d5 = 0;
  private d6 = 0;

  constructor(high: boolean) {
    this.det = high ? 8 : 32; // reset values of DETH / DETL
  }

  /** Low band: INVQAL, LOGSCL, SCALEL, then block 4 with the 4-bit quantized difference. */
  adaptLow(ilow: number): void {
    const i4 = ilow >> 2;
    const dlt = (this.det * QM4[i4]!) >> 15;
    const nb = ((this.nb * 127) >> 7) + WL[RL42[i4]!]!;
    this.nb = nb < 0 ? 0 : nb > NB_MAX_LOW ? NB_MAX_LOW : nb;
    this.det = scale(this.nb, 8);
    this.predict(dlt);
  }

  /** High band: LOGSCH, SCALEH, then block 4 with DH (already computed by INVQAH). */
  adaptHigh(ihigh: number, dh: number): void {
    const nb = ((this.nb * 127) >> 7) + WH[RH2[ihigh]!]!;
    this.nb = nb < 0 ? 0 : nb > NB_MAX_HIGH ? NB_MAX_HIGH : nb;
    this.det = scale(this.nb, 10);
    this.predict(dh);
  }

  /** Block 4: RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC. */
  private predict(dq: number): void {
    const r0 = sat16(this.s + dq);
    const p0 = sat16(this.sz + dq);
    const sg0 = p0 < 0;
    const sg1 = this.p1 < 0;
    const sg2 = this.p2 < 0;

    // UPPOL2 (written 0 − x rather than −x: a −0 would push V8 into float arithmetic)
    const wa = sat16(this.a1 * 4);
    let wb = sg0 === sg1 ? 0 - wa : wa;
    if (wb > 32767) wb = 32767;
    let a2 = (wb >> 7) + (sg0 === sg2 ? 128 : -128) + ((this.a2 * 32512) >> 15);
    a2 = a2 > 12288 ? 12288 : a2 < -12288 ? -12288 : a2;

    // UPPOL1
    let a1 = sat16((sg0 === sg1 ? 192 : -192) + ((this.a1 * 32640) >> 15));
    const lim = 15360 - a2;
    a1 = a1 > lim ? lim : a1 < 0 - lim ? 0 - lim : a1;

    // UPZERO: leak each Bi and step it towards agreement between the signs of Di and DQ.
    const up = dq === 0 ? 0 : 128;
    const down = 0 - up;
    const neg = dq < 0;
    const b1 = sat16((this.d1 < 0 === neg ? up : down) + ((this.b1 * 32640) >> 15));
    const b2 = sat16((this.d2 < 0 === neg ? up : down) + ((this.b2 * 32640) >> 15));
    const b3 = sat16((this.d3 < 0 === neg ? up : down) + ((this.b3 * 32640) >> 15));
    const b4 = sat16((this.d4 < 0 === neg ? up : down) + ((this.b4 * 32640) >> 15));
    const b5 = sat16((this.d5 < 0 === neg ? up : down) + ((this.b5 * 32640) >> 15));
    const b6 = sat16((this.d6 < 0 === neg ? up : down) + ((this.b6 * 32640) >> 15));

    // DELAYA
    const d6 = this.d5;
    const d5 = this.d4;
    const d4 = this.d3;
    const d3 = this.d2;
    const d2 = this.d1;
    const d1 = dq;
    this.d6 = d6;
    this.d5 = d5;
    this.d4 = d4;
    this.d3 = d3;
    this.d2 = d2;
    this.d1 = d1;
    this.b1 = b1;
    this.b2 = b2;
    this.b3 = b3;
    this.b4 = b4;
    this.b5 = b5;
    this.b6 = b6;
    this.r2 = this.r1;
    this.r1 = r0;
    this.p2 = this.p1;
    this.p1 = p0;
    this.a1 = a1;
    this.a2 = a2;

    // FILTEP, FILTEZ, PREDIC
    const sp = sat16(((a1 * sat16(r0 * 2)) >> 15) + ((a2 * sat16(this.r2 * 2)) >> 15));
    const sz = sat16(
      ((b1 * sat16(d1 * 2)) >> 15) +
        ((b2 * sat16(d2 * 2)) >> 15) +
        ((b3 * sat16(d3 * 2)) >> 15) +
        ((b4 * sat16(d4 * 2)) >> 15) +
        ((b5 * sat16(d5 * 2)) >> 15) +
        ((b6 * sat16(d6 * 2)) >> 15),
    );
    this.sz = sz;
    this.s = sat16(sp + sz);
  }
}

/** SCALEL / SCALEH: log scale factor → linear DET (bias 8 for the low band, 10 for the high). */
function scale(nb: number, bias: number): number {
  const mant = ILB[(nb >> 6) & 31]!;
  const shift = bias - (nb >> 11);
  return (shift < 0 ? mant << -shift : mant >> shift) << 2;
}
