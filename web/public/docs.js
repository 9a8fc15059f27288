// Renders /api/v1/openapi.json as a readable reference grouped by tag: no external scripts, so it
// works offline and inside the single executable.
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
fetch('/api/v1/openapi.json')
  .then((r) => r.json())
  .then((doc) => {
    const byTag = new Map();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const tag = (op.tags && op.tags[0]) || 'Other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method, op });
      }
    }
    const parts = [`<p>${esc(doc.info.description)} Version ${esc(doc.info.version)}. Errors are <code>application/problem+json</code> with a stable <code>code</code>.</p>`];
    for (const [tag, ops] of [...byTag].sort(([a], [b]) => a.localeCompare(b))) {
      parts.push(`<h2 id="${esc(tag)}">${esc(tag)}</h2>`);
      for (const { path, method, op } of ops) {
        const params = (op.parameters || []).map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})</li>`).join('');
        const body = op.requestBody ? `<h4>Request body</h4><pre>${esc(JSON.stringify(Object.values(op.requestBody.content)[0].schema, null, 2))}</pre>` : '';
        const ok = Object.entries(op.responses).find(([s]) => s !== 'default');
        const response = ok && ok[1].content ? `<h4>Response ${esc(ok[0])}</h4><pre>${esc(JSON.stringify(ok[1].content['application/json'].schema, null, 2))}</pre>` : '';
        const auth = op.security && op.security.length === 0 ? 'public' : op['x-required-scope'] ? `scope <code>${esc(op['x-required-scope'])}</code>` : 'authenticated';
        parts.push(`<details><summary><span class="method">${esc(method)}</span> <code>${esc(path)}</code> — ${esc(op.summary)} <small>(${auth})</small></summary>${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}${body}${response}</details>`);
      }
    }
    document.getElementById('reference').innerHTML = parts.join('\n');
  })
  .catch((err) => { document.getElementById('reference').textContent = `Could not load the API document: ${err}`; });
