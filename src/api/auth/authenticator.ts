/**
 * Who a request comes from, as Nacos 1.4's NacosAuthManager resolves it: an `Authorization: Bearer` token,
 * else an `accessToken` parameter, else `username` and `password` parameters (what the `nacos` npm SDK sends
 * on every call). Refusals are 403 with 1.4's words and say nothing more: not whether the user exists, nor
 * that a back-off is in force (that goes to the log).
 */
import { NacosError } from "../../core/errors.js";
import type { Log } from "../../core/log.js";
import type { AuthStore } from "./auth-store.js";
import { LoginThrottle } from "./login-throttle.js";
import { UNUSABLE_HASH, verifyPassword } from "./password.js";
import { checkToken, issueToken } from "./token.js";
import { VerifiedCredentials } from "./verified-credentials.js";

export interface Credentials {
  readonly bearer?: string | undefined;
  readonly accessToken?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** The client's address, for the back-off. */
  readonly address: string;
}

export interface TokenSettings {
  /** The HS256 key (token.ts). */
  readonly key: Buffer;
  readonly ttlSeconds: number;
}

export interface LoginResult {
  readonly accessToken: string;
  readonly tokenTtl: number;
  readonly globalAdmin: boolean;
  readonly username: string;
}

const denied = (message: string): NacosError => new NacosError(403, message);

export class Authenticator {
  private readonly throttle = new LoginThrottle();
  private readonly verified = new VerifiedCredentials();

  constructor(
    private readonly store: AuthStore,
    private readonly tokens: TokenSettings,
    private readonly clock: () => number,
    private readonly log: Log,
  ) {}

  /** The user a request acts as; 403 when it carries no valid credentials. */
  async identify(c: Credentials): Promise<string> {
    const token = c.bearer ?? c.accessToken;
    if (token !== undefined) {
      const checked = checkToken(this.tokens.key, token, this.clock());
      if (checked === "expired") throw denied("token expired!");
      if (checked === "invalid") throw denied("token invalid!");
      return checked.username;
    }
    if (c.username === undefined || c.password === undefined) throw denied("user not found!");
    await this.checkPassword(c.username, c.password, c.address);
    return c.username;
  }

  /** 1.4's login: the same resolution, answered with a new token. */
  async login(c: Credentials): Promise<LoginResult> {
    const username = await this.identify(c);
    return {
      accessToken: issueToken(this.tokens.key, username, this.clock(), this.tokens.ttlSeconds),
      tokenTtl: this.tokens.ttlSeconds,
      globalAdmin: this.store.isAdmin(username),
      username,
    };
  }

  private async checkPassword(username: string, password: string, address: string): Promise<void> {
    const stored = this.store.passwordHashOf(username);
    const now = this.clock();
    // A pair proven right lately passes without cost, and so even during a back-off others caused.
    if (stored !== undefined && this.verified.has(username, password, stored, now)) return;
    const waitMs = this.throttle.waitMs(username, address, now);
    if (waitMs > 0) throw denied("unknown user!");
    // Unknown users cost a check too, so the answer's timing does not tell which names exist.
    const ok = (await verifyPassword(password, stored ?? UNUSABLE_HASH)) && stored !== undefined;
    if (ok) {
      this.throttle.succeeded(username);
      this.verified.remember(username, password, stored, this.clock());
      return;
    }
    const backoffMs = this.throttle.failed(username, address, this.clock());
    if (backoffMs > 0) this.log.warn("failed logins: backing off", { username: username.slice(0, 64), address, backoffMs });
    throw denied("unknown user!");
  }
}
