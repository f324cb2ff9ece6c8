/** What turning authentication on configures (runtime/options.ts reads it from flags and the environment). */
export interface AuthSettings {
  /** The HS256 key tokens are signed with (token.ts). */
  readonly tokenKey: Buffer;
  readonly tokenTtlSeconds: number;
  /** The first administrator's password; a random one is printed when absent. */
  readonly adminPassword: string | undefined;
}
