// openid-client, the OpenID Foundation-certified relying party, from web/'s packages for the
// end-to-end tests in tests/e2e, which have no packages of their own.
export * from 'openid-client';
