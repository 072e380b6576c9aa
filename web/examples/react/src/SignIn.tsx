// The sign-in page: the QR login of `qrauth-token/sign-in`, with its own look. The session
// (create, long-poll, back-off, renewals, cancel on unmount) and the words are the package's.
import { useEffect, useState } from 'react';
import init, { countdown, describeLogin, renderQrSvg, startLogin, type Login } from 'qrauth-token/sign-in';

const loaded = init();

export function SignIn() {
  const [login, setLogin] = useState<Login>();
  const [qr, setQr] = useState('');
  const [link, setLink] = useState('');
  const [status, setStatus] = useState('Getting a code…');
  const [left, setLeft] = useState('');
  const [expired, setExpired] = useState(false);
  const [user, setUser] = useState<string>();

  useEffect(() => {
    // StrictMode mounts twice in development: the first login is cancelled, one remains.
    const leave = new AbortController();
    let timer = 0;
    const tick = (current: Login) => {
      const now = countdown(current.expiresInMs);
      setLeft(now.text);
      if (now.seconds > 0) timer = window.setTimeout(() => tick(current), now.nextInMs);
    };
    loaded
      .then(() => startLogin({ signal: leave.signal }))
      .then((started) => {
        // The QR changes every second (a picture of it is refused a few seconds later).
        const frame = (text: string) => {
          setQr(renderQrSvg(text, { label: "QR code to sign in: scan it with your phone's camera" }));
          setLink(text);
        };
        const draw = () => {
          frame(started.qrText);
          setStatus(describeLogin(started.state, null, started).message);
          setExpired(false);
          clearTimeout(timer);
          tick(started);
        };
        draw();
        started.on('frame', frame);
        started.on('renewed', draw);
        started.on('expired', () => setExpired(true));
        started.on('error', (e) =>
          setStatus(e.retryInMs === undefined ? describeLogin(started.state, e.message).message : describeLogin('RECONNECTING').message));
        started.on('state', async (state) => {
          // With number matching, SCANNED says the two digits to type on the phone.
          setStatus(describeLogin(state, null, started).message);
          if (state === 'APPROVED') setUser((await started.complete()).user);
        });
        setLogin(started);
      })
      .catch((e) => e.code !== 'aborted' && setStatus(e.message));
    return () => {
      leave.abort();
      clearTimeout(timer);
    };
  }, []);

  if (user) return <p role="status">Signed in as {user}.</p>;
  return (
    <section>
      <h1>Sign in</h1>
      <div className="qr" dangerouslySetInnerHTML={{ __html: qr }} />
      <p role="timer">{left}</p>
      <p role="status">{status}</p>
      {expired && <button onClick={() => login?.renew()}>Get a new code</button>}
      {login && <a href={link}>Open the token on this device</a>}
    </section>
  );
}
