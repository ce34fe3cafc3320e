/**
 * The order in which samples are visited, as torchtune's recipes get it: `StatefulDistributedSampler(ds,
 * num_replicas=1, rank=0, shuffle, seed=0)` with `set_epoch(epoch)` → `torch.randperm(n, generator=
 * torch.Generator().manual_seed(0 + epoch))`, then a DataLoader with `drop_last=True`. Note the sampler seed is
 * always 0 in torchtune's single-device recipes (the config's `seed` drives model init and dropout, not the
 * order), so the same dataset gives the same batches on every run, and on a resumed run.
 *
 * torch's CPU generator is MT19937 seeded with the seed's low 32 bits; randperm is a Fisher–Yates pass drawing
 * `random() % (n - i)` (aten randperm_cpu).
 */

export class MT19937 {
  private readonly mt = new Uint32Array(624);
  private index = 625;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i in uint32 arithmetic (split to stay exact in doubles).
      this.mt[i] = ((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i;
    }
    this.index = 624;
  }

  /** Next 32-bit output. */
  next(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }
}

/** torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist() for n < 2^32 / 20. */
export function torchRandperm(n: number, seed: number): number[] {
  const r = Array.from({ length: n }, (_, i) => i);
  const g = new MT19937(seed);
  for (let i = 0; i < n - 1; i++) {
    const z = g.next() % (n - i);
    const t = r[i];
    r[i] = r[z + i];
    r[z + i] = t;
  }
  return r;
}

/** Sample indices of each micro-batch of `epoch` (drop_last=True). */
export function epochBatches(numSamples: number, batchSize: number, shuffle: boolean, epoch: number, samplerSeed = 0): number[][] {
  const order = shuffle ? torchRandperm(numSamples, samplerSeed + epoch) : Array.from({ length: numSamples }, (_, i) => i);
  const batches: number[][] = [];
  for (let s = 0; s + batchSize <= order.length; s += batchSize) batches.push(order.slice(s, s + batchSize));
  return batches;
}
