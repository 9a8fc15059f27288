// First-run admin: signs the server's SIWS challenge with the browser wallet, passing the
// one-time token from the URL fragment (the fragment never reaches the server's logs).
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  const digits = [0];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] << 8;
      digits[i] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '';
  for (const byte of bytes) {
    if (byte !== 0) break;
    out += '1';
  }
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]];
  return out;
}

const status = document.getElementById('status');
const token = new URLSearchParams(location.hash.slice(1)).get('token');
if (!token) status.textContent = 'This page needs the setup link printed by the server (…/setup#token=…).';

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.detail || json.title || `HTTP ${res.status}`);
  return json;
}

document.getElementById('connect').addEventListener('click', async () => {
  const wallet = (window.phantom && window.phantom.solana) || window.solana;
  if (!wallet) {
    status.textContent = 'No Solana wallet extension found in this browser.';
    return;
  }
  try {
    status.textContent = 'Connecting…';
    const { publicKey } = await wallet.connect();
    const address = publicKey.toString();
    const challenge = await post('/api/v1/auth/challenge', { address, setupToken: token });
    status.textContent = 'Approve the message in your wallet…';
    const signed = await wallet.signMessage(new TextEncoder().encode(challenge.message), 'utf8');
    const result = await post('/api/v1/auth/verify', { message: challenge.message, signature: base58(signed.signature || signed), address });
    status.textContent = `Done: ${result.user.address} is now the administrator. You can close this page.`;
    history.replaceState(null, '', '/setup');
  } catch (err) {
    status.textContent = `Setup failed: ${err.message}`;
  }
});
