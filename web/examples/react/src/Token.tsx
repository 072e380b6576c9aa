// The browser token at /token: activate it once with an activation code, then approve the
// sign-ins whose QR links (`/token#scan=…`) open this page.
import { useEffect, useState, type FormEvent } from 'react';
import init, { SoftwareToken, onScanLink, type LoginRequest } from 'qrauth-token';

const opened = init().then(() => SoftwareToken.open());

export default function Token() {
  const [activationId, setActivationId] = useState<string | null>();
  const [request, setRequest] = useState<LoginRequest>();
  const [message, setMessage] = useState('');

  useEffect(() => {
    let stop: (() => void) | undefined;
    let left = false;
    opened.then(async (token) => {
      setActivationId((await token.activations()).at(-1)?.activationId ?? null);
      if (left) return;
      stop = onScanLink((link) => token.attachLogin(link).then(setRequest, (e) => setMessage(e.message)));
    });
    return () => {
      left = true;
      stop?.();
    };
  }, []);

  const activate = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const [code, pin] = [String(form.get('code')), String(form.get('pin'))];
    try {
      const token = await opened;
      setActivationId((await token.activate({ code, pin, pinAgain: pin })).activationId);
      setMessage('This browser is now your token.');
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  const approve = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const [pin, number] = [String(form.get('pin')), form.get('number')?.toString()];
    try {
      const decision = await (await opened).approveLogin(activationId!, request!, pin, number);
      setMessage(decision.state === 'APPROVED' ? 'Approved: the page signs you in.' : 'Denied.');
      setRequest(undefined);
    } catch (e) {
      setMessage((e as Error).message);
    }
  };

  if (activationId === undefined) return <p>Opening the token…</p>;
  return (
    <section>
      <h1>Token</h1>
      <p role="status">{message}</p>
      {activationId === null && (
        <form onSubmit={activate}>
          <label>Activation code <input name="code" autoComplete="off" /></label>
          <label>New PIN <input name="pin" type="password" inputMode="numeric" /></label>
          <button>Activate</button>
        </form>
      )}
      {request && (
        <form onSubmit={approve}>
          <p>
            Sign in to {request.service} from {request.browser} ({request.address})?
          </p>
          {request.numberMatching && (
            <label>
              Number on the sign-in page <input name="number" inputMode="numeric" maxLength={2} autoComplete="off" />
            </label>
          )}
          <label>PIN <input name="pin" type="password" inputMode="numeric" /></label>
          <button>Approve</button>
        </form>
      )}
    </section>
  );
}
