// Compiles PoolSnapshotReader.sol into ../src/titan_ingest/snapshot/helper.json (runtime code).
// Needs the npm package solc 0.8.28: NODE_PATH=services/devnet/node_modules node services/ingest/contracts/compile.js
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const file = "PoolSnapshotReader.sol";
const input = {
  language: "Solidity",
  sources: { [file]: { content: fs.readFileSync(path.join(__dirname, file), "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    viaIR: true,
    outputSelection: { "*": { "*": ["abi", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const c = output.contracts[file].PoolSnapshotReader;
const out = {
  source: `services/ingest/contracts/${file}`,
  compiler: `solc ${solc.version()}`,
  abi: c.abi,
  runtime: "0x" + c.evm.deployedBytecode.object,
};
const target = path.join(__dirname, "..", "src", "titan_ingest", "snapshot", "helper.json");
fs.writeFileSync(target, JSON.stringify(out, null, 1) + "\n");
console.log(`wrote ${target}`);
