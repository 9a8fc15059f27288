// Distribution of the one-sample Kolmogorov-Smirnov statistic, ported from scipy: the Kolmogorov
// limit (Cephes kolmogorov.c), Smirnov's one-sided exact sum, and scipy.stats._ksstats._kolmogn
// (Simard & L'Ecuyer's choice among Ruben-Gambino, Durbin/MTW matrix, Pomeranz, Pelz-Good and
// 2·smirnov). kstwo.sf(D, round(en)) is the asymptotic p-value of scipy's two-sample KS test.

import { ldexp, pairwiseSum } from './numeric.js';

const MIN_EXPABLE = -708 - 38;
const KOLMOG_CUTOVER = 0.82;

/**
 * Kolmogorov's limiting survival function Q(x) = 2 Σ_{k>=1} (-1)^{k-1} exp(-2k²x²)
 * (scipy.special.kolmogorov), evaluated with the two theta-function series as scipy does.
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1.0;
  if (x <= Math.PI / Math.sqrt(-MIN_EXPABLE * 8)) return 1.0;
  let sf: number;
  if (x <= KOLMOG_CUTOVER) {
    // cdf = sqrt(2π)/x · Σ exp(-(2k-1)²π²/(8x²)), good for small x.
    const w = Math.sqrt(2 * Math.PI) / x;
    const logu8 = (-Math.PI * Math.PI) / (x * x);
    const u = Math.exp(logu8 / 8);
    let P: number;
    if (u === 0) {
      P = Math.exp(logu8 / 8 + Math.log(w));
    } else {
      const u8 = Math.exp(logu8);
      const u8cub = Math.pow(u8, 3);
      P = 1.0;
      P = 1 + u8cub * P;
      P = 1 + u8 * u8 * P;
      P = 1 + u8 * P;
      P = w * u * P;
    }
    sf = 1 - P;
  } else {
    const v = Math.exp(-2 * x * x);
    const vsq = v * v;
    const v3 = Math.pow(v, 3);
    let P = 1.0;
    P = 1 - v3 * v3 * v * P;
    P = 1 - v3 * vsq * P;
    P = 1 - v3 * P;
    sf = 2 * v * P;
  }
  return Math.min(1, Math.max(0, sf));
}

const MINLOG = -7.08396418532264106224e2;
const EPS = 2.220446049250313e-16;

/** Exact floor(n·x) and its fractional part, using an error-free product (Dekker). */
function modNX(n: number, x: number): { nxfl: number; alpha: number } {
  const hi = n * x;
  // Veltkamp split for the exact low part of n·x.
  const split = (a: number): [number, number] => {
    const c = 134217729 * a;
    const ah = c - (c - a);
    return [ah, a - ah];
  };
  const [nh, nl] = split(n);
  const [xh, xl] = split(x);
  const lo = nh * xh - hi + nh * xl + nl * xh + nl * xl;
  let fl = Math.floor(hi);
  let alpha = hi - fl + lo;
  if (alpha < 0) {
    fl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    fl += 1;
    alpha -= 1;
  }
  return { nxfl: fl, alpha };
}

/**
 * Smirnov's one-sided survival function P(D_n^+ >= x) (scipy.special.smirnov), via the
 * Birnbaum-Tingey lower sum. Terms are combined in log space so tails near 1e-300 keep their
 * relative accuracy; scipy uses double-double arithmetic for the same purpose.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0.0 && x <= 1.0)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0.0) return 1.0;
  if (x === 1.0) return 0.0;
  const { nxfl, alpha } = modNX(n, x);
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const t = Math.pow(1 + x, n - 1);
    return 1 - x * t;
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return Math.pow(1 - x, n);
  if (n > 1000000) {
    const logp = -Math.pow(6.0 * n * x + 1, 2) / 18.0 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 - -Math.expm1(logp);
  }
  const nTerms = n1mxfl + 1;
  // A_v = C(n,v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v); sf = x · Σ A_v.
  let logC = 0;
  const offset = n * Math.log1p(-x) - Math.log(x);
  let off = offset;
  let sum = 1; // A_0 relative to exp(off)
  for (let j = 1; j < nTerms; j++) {
    logC += Math.log((n - j + 1) / j);
    const t1x = x + j / n;
    const lt = logC + (j - 1) * Math.log(t1x) + (n - j) * Math.log1p(-t1x);
    let rel: number;
    if (lt > off) {
      sum *= Math.exp(off - lt);
      off = lt;
      rel = 1;
    } else {
      rel = Math.exp(lt - off);
    }
    sum += rel;
    // Cephes' early exit: the remaining terms cannot move the sum.
    if (rel !== 0) {
      if (4 * (nTerms - j) * rel < EPS * sum && j !== nTerms - 1) break;
    } else if (j > n / 2) {
      break;
    }
  }
  const sf = Math.exp(Math.log(x) + off + Math.log(sum));
  return Math.min(1, Math.max(0, sf));
}

const E128 = 128;
const EP128 = 2 ** 128;
const EM128 = 2 ** -128;

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** Durbin's matrix method as Marsaglia-Tsang-Wang compute it: CDF P(D_n <= d). */
function kolmognDMTW(n: number, d: number): number {
  if (d >= 1.0) return 1.0;
  const nd = n * d;
  if (nd <= 0.5) return 0.0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1.0;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1.0 - Math.pow(h, j);
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.pow(Math.max(2 * h - 1.0, 0), m) - 2 * Math.pow(h, m);
  v[m - 1] = (1.0 + tt) * fac;
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  let Hpwr = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Hpwr[i * m + i] = 1;
  let tmp = new Float64Array(m * m);
  const matmul = (A: Float64Array, B: Float64Array, out: Float64Array): void => {
    out.fill(0);
    for (let i = 0; i < m; i++) {
      const io = i * m;
      for (let l = 0; l < m; l++) {
        const a = A[io + l]!;
        if (a === 0) continue;
        const lo = l * m;
        for (let j = 0; j < m; j++) out[io + j]! += a * B[lo + j]!;
      }
    }
  };
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      matmul(Hpwr, H, tmp);
      [Hpwr, tmp] = [tmp, Hpwr];
      expnt += Hexpnt;
    }
    matmul(H, H, tmp);
    [H, tmp] = [tmp, H];
    Hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > EP128) {
      for (let i = 0; i < H.length; i++) H[i]! /= EP128;
      Hexpnt += E128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      expnt -= E128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pomeranz's recursion: CDF P(D_n <= x). Used by scipy for n <= 140. */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = 1.0 * (t - ll);
  const g = Math.min(f, 1.0 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1.0;
  twogpower[0] = 1.0;
  onem2gpower[0] = 1.0;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  let j2: number;
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0.0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]), entries conv_start .. conv_start+conv_len-1.
      const aStart = k1 - V0s;
      const aLen = Math.max(0, Math.min(ln2, npwrs - aStart));
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let maxV = 0;
      for (let q = 0; q < convLen; q++) {
        const kk = convStart + q;
        let s = 0;
        const iLo = Math.max(0, kk - (bLen - 1));
        const iHi = Math.min(aLen - 1, kk);
        for (let ii = iLo; ii <= iHi; ii++) s += V0[aStart + ii]! * pwrs[kk - ii]!;
        V1[q] = s;
        if (s > maxV) maxV = s;
      }
      if (0 < maxV && maxV < EM128) {
        for (let q = 0; q < npwrs; q++) V1[q]! *= EP128;
        expnt -= E128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > EP128) {
      ans *= EM128;
      expnt += E128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

const SQRT2PI = Math.sqrt(2 * Math.PI);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
const SQRT3 = Math.sqrt(3);

/** Pelz-Good approximation to the CDF P(D_n <= x). */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < -708) return 0.0;
  let q = Math.exp(qlog);
  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = Math.pow(q, 8 * k);
    const c1 = k1a + k1b * msquared;
    const c2 = k2a + k2b * msquared + k2c * mfour;
    const c3 = k3a + k3b * msquared + k3c * mfour + k3d * msix;
    K[0] = K[0]! * qpower + 1.0;
    K[1] = K[1]! * qpower + c1;
    K[2] = K[2]! * qpower + c2;
    K[3] = K[3]! * qpower + c3;
  }
  const div = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  const sq = new Float64Array(maxk);
  const s3 = new Float64Array(maxk);
  const sqrt3z = SQRT3 * z;
  for (let idx = 0; idx < maxk; idx++) {
    const k = maxk - idx;
    const ksq = k * k;
    const qp = Math.pow(q, ksq);
    const kspi = Math.PI * k;
    sq[idx] = ksq * qp;
    s3[idx] = (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K[2] = K[2]! + pairwiseSum(sq) * ((PI_SQUARED * SQRT2PI) / (-36 * zthree));
  K[3] = K[3]! + pairwiseSum(s3) * ((PI_SQUARED * SQRT2PI) / (216 * zsix));
  for (let i = 1; i < 4; i++) K[i] = K[i]! / Math.pow(n * 1.0, i / 2.0);
  return K[0]! + K[1]! + K[2]! + K[3]!;
}

// Stirling coefficients for ln(n!/n^n), highest power of 1/n² first (np.polyval order).
const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
  8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
  -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

function logNFactorialDivNPowN(n: number): number {
  const rn = 1.0 / n;
  const y = rn / n;
  let pv = 0;
  for (const c of STIRLING_COEFFS) pv = pv * y + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * pv;
}

/** Which branch of scipy's `_kolmogn` produced a survival probability. */
export type KolmognMethod =
  | 'trivial'
  | 'ruben-gambino'
  | 'smirnov'
  | 'durbin-matrix'
  | 'pomeranz'
  | 'pelz-good'
  | 'underflow';

/**
 * Survival function P(D_n >= x) of the one-sample two-sided KS statistic for integer n
 * (scipy.stats._ksstats._kolmogn(n, x, cdf=False)).
 */
export function kolmognSf(n: number, x: number): { sf: number; method: KolmognMethod } {
  if (Number.isNaN(n) || Number.isNaN(x)) return { sf: NaN, method: 'trivial' };
  if (Math.floor(n) !== n || n <= 0) return { sf: NaN, method: 'trivial' };
  if (x >= 1.0) return { sf: 0, method: 'trivial' };
  if (x <= 0.0) return { sf: 1, method: 'trivial' };
  const t = n * x;
  if (t <= 1.0) {
    if (t <= 0.5) return { sf: 1, method: 'trivial' };
    let prob: number;
    if (n <= 140) {
      prob = 1;
      const c = 2 * t - 1;
      for (let i = 1; i <= n; i++) prob *= i * (1.0 / n) * c;
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return { sf: clip01(1.0 - prob), method: 'ruben-gambino' };
  }
  if (t >= n - 1) return { sf: clip01(2 * Math.pow(1.0 - x, n)), method: 'ruben-gambino' };
  if (x >= 0.5) return { sf: clip01(2 * smirnovSf(n, x)), method: 'smirnov' };
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return { sf: clip01(1.0 - kolmognDMTW(n, x)), method: 'durbin-matrix' };
    if (nxsquared <= 4) return { sf: clip01(1.0 - kolmognPomeranz(n, x)), method: 'pomeranz' };
    return { sf: clip01(2 * smirnovSf(n, x)), method: 'smirnov' };
  }
  if (nxsquared >= 370.0) return { sf: 0.0, method: 'underflow' };
  if (nxsquared >= 2.2) return { sf: clip01(2 * smirnovSf(n, x)), method: 'smirnov' };
  if (nxsquared >= 18.0) return { sf: 0, method: 'trivial' };
  if (n <= 100000 && n * Math.pow(x, 1.5) <= 1.4) {
    return { sf: clip01(1.0 - kolmognDMTW(n, x)), method: 'durbin-matrix' };
  }
  return { sf: clip01(1.0 - kolmognPelzGood(n, x)), method: 'pelz-good' };
}

/** scipy.stats.kstwo.sf(d, n): 1 at or below the support's lower end 0.5/n, 0 at or above 1. */
export function kstwoSf(d: number, n: number): { sf: number; method: KolmognMethod } {
  if (!(n >= 1) || Math.round(n) !== n || Number.isNaN(d)) return { sf: NaN, method: 'trivial' };
  if (d <= 0.5 / n) return { sf: 1.0, method: 'trivial' };
  if (d >= 1.0) return { sf: 0.0, method: 'trivial' };
  return kolmognSf(n, d);
}
