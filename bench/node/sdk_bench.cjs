// Times the official Uniswap SDKs on Titan's benchmark cases: node sdk_bench.cjs cases.json
// Prints JSON: {case name: {"ns_per_op": ..., "amount_out": "..."}}.
// CommonJS: the SDKs' ESM builds do not resolve under node 20.
const { readFileSync } = require("node:fs");
const { CurrencyAmount, Token } = require("@uniswap/sdk-core");
const { Pair } = require("@uniswap/v2-sdk");
const { Pool, TickListDataProvider } = require("@uniswap/v3-sdk");

const { cases } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = {};

function tokens(state) {
  return [new Token(31337, state.token0, 18), new Token(31337, state.token1, 18)];
}

async function timeIt(fn, minMs = 500) {
  let out = await fn();
  for (let i = 0; i < 200; i++) out = await fn(); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(minMs) * 1_000_000n) {
    for (let i = 0; i < 20; i++) out = await fn();
    n += 20;
    elapsed = process.hrtime.bigint() - start;
  }
  return { ns_per_op: Number(elapsed) / n, amount_out: out };
}

async function main() {
for (const c of cases) {
  const s = c.state;
  const [t0, t1] = tokens(s);
  const tokenIn = c.zero_for_one ? t0 : t1;
  if (s.kind === "v2") {
    const pair = new Pair(
      CurrencyAmount.fromRawAmount(t0, s.reserve0),
      CurrencyAmount.fromRawAmount(t1, s.reserve1),
    );
    results[c.name] = await timeIt(async () =>
      pair.getOutputAmount(CurrencyAmount.fromRawAmount(tokenIn, c.amount_in))[0].quotient.toString(),
    );
  } else {
    const ticks = s.ticks.map((t) => ({ index: t.index, liquidityNet: t.liquidity_net, liquidityGross: t.liquidity_net.replace("-", "") }));
    const provider = new TickListDataProvider(ticks, s.tick_spacing);
    const pool = new Pool(t0, t1, s.fee, s.sqrt_price_x96, s.liquidity, s.tick, provider);
    results[c.name] = await timeIt(async () => {
      const [out] = await pool.getOutputAmount(CurrencyAmount.fromRawAmount(tokenIn, c.amount_in));
      return out.quotient.toString();
    });
  }
}
console.log(JSON.stringify(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
