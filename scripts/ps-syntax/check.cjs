// Syntax check of PowerShell scripts with the tree-sitter PowerShell grammar
// (WebAssembly, through web-tree-sitter): node check.cjs <modules dir> <file>...
// <modules dir> holds the packages of package.json (scripts/test.sh installs
// them). Prints file:line:column for every error or missing token; exits 1
// when a file has one, 2 when the checker cannot run.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    throw new Error('usage: node check.cjs <modules dir> <file>...');
  }
  const req = createRequire(path.join(path.resolve(modules), 'package.json'));
  const { Parser, Language } = req('web-tree-sitter');
  await Parser.init();
  const grammar = path.join(path.dirname(req.resolve('tree-sitter-powershell/package.json')), 'tree-sitter-powershell.wasm');
  const parser = new Parser();
  parser.setLanguage(await Language.load(grammar));
  let failed = 0;
  for (const file of files) {
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const found = [];
    const walk = (n) => {
      if (n.isError || n.isMissing) {
        found.push(n);
      } else if (n.hasError) {
        for (const c of n.children) walk(c);
      }
    };
    walk(tree.rootNode);
    for (const n of found) {
      const what = n.isMissing ? `missing ${n.type}` : `syntax error at ${JSON.stringify(n.text.slice(0, 60))}`;
      console.log(`${file}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${what}`);
    }
    if (found.length > 0) failed++;
    tree.delete();
  }
  return failed > 0 ? 1 : 0;
}

main().then((rc) => process.exit(rc), (err) => {
  console.error(`check.cjs: ${err.message}`);
  process.exit(2);
});
