import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
(async () => { const { scenario } = await import(process.argv[2]); const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-')); const t=Date.now();
 const e = await scenario.run({ quick: process.argv[3]==='quick', tiny: process.argv[3]==='tiny', tmp }, (m: string) => console.error(m));
 console.log(JSON.stringify(e.ratio), JSON.stringify(e.tables[0].table.rows), (Date.now()-t)/1000); fs.rmSync(tmp,{recursive:true}); })();
