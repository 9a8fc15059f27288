// Landing page: shows /readyz checks so an operator sees at a glance whether the server is healthy.
fetch('/readyz')
  .then((r) => r.json())
  .then((body) => {
    const rows = Object.entries(body.checks).map(([name, c]) =>
      `<tr><th>${name}</th><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'ok' : 'failing'}</td><td>${c.detail ?? ''}</td></tr>`);
    rows.unshift(`<tr><th>version</th><td colspan="2">${body.version}</td></tr>`);
    document.querySelector('#checks tbody').innerHTML = rows.join('');
  })
  .catch(() => { document.querySelector('#checks tbody').innerHTML = '<tr><td class="bad">server unreachable</td></tr>'; });
