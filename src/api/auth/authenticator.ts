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
import { type PasswordHasher, UNUSABLE_HASH } from "./password.js";
import { checkToken, issueToken, recordVersion, type TokenClaims } from "./token.js";
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

/** Every password-check slot is taken: the SDKs try another server on a 503, and a guess is not counted. */
const busy = (): NacosError => new NacosError(503, "server is busy checking passwords, please try again later!");

export class Authenticator {
  private readonly verified = new VerifiedCredentials();

  constructor(
    private readonly store: AuthStore,
    private readonly tokens: TokenSettings,
    private readonly clock: () => number,
    private readonly log: Log,
    private readonly hasher: PasswordHasher,
    private readonly throttle = new LoginThrottle(),
  ) {}

  /** The user a request acts as; 403 when it carries no valid credentials. */
  async identify(c: Credentials): Promise<string> {
    const token = c.bearer ?? c.accessToken;
    if (token !== undefined) {
      const checked = checkToken(this.tokens.key, token, this.clock());
      if (checked === "expired") throw denied("token expired!");
      if (checked === "invalid" || !this.isCurrent(checked)) throw denied("token invalid!");
      return checked.username;
    }
    if (c.username === undefined || c.password === undefined) throw denied("user not found!");
    await this.checkPassword(c.username, c.password, c.address);
    return c.username;
  }

  /**
   * Whether a token was issued for the user's record as it is now. One without `ver` (a Nacos 1.4 node's, or
   * ours from before the claim) cannot say which record it was for: it holds only if issued — its expiry less
   * this node's token lifetime, so every node needs the same lifetime — after the password was set.
   */
  private isCurrent(claims: TokenClaims): boolean {
    const user = this.store.user(claims.username);
    if (user === undefined) return false;
    if (claims.version !== undefined) return claims.version === recordVersion(this.tokens.key, user.record);
    return user.since === undefined || (claims.expiresAt - this.tokens.ttlSeconds) * 1000 >= user.since;
  }

  /** 1.4's login: the same resolution, answered with a new token. */
  async login(c: Credentials): Promise<LoginResult> {
    const username = await this.identify(c);
    const user = this.store.user(username);
    // The user was deleted while its password was being checked.
    if (user === undefined) throw denied("unknown user!");
    return {
      accessToken: issueToken(this.tokens.key, username, recordVersion(this.tokens.key, user.record), this.clock(), this.tokens.ttlSeconds),
      tokenTtl: this.tokens.ttlSeconds,
      globalAdmin: this.store.isAdmin(username),
      username,
    };
  }

  private async checkPassword(username: string, password: string, address: string): Promise<void> {
    const stored = this.store.passwordHashOf(username);
    const now = this.clock();
    // Before the cache: an address held back may not test guesses against it either (an SDK's password is
    // always there while the SDK runs). Others' failures hold back no address that sent no wrong password.
    if (this.throttle.waitMs(username, address, now) > 0) throw denied("unknown user!");
    // A pair proven right lately passes without cost.
    if (stored !== undefined && this.verified.has(username, password, stored, now)) return;
    const underway = this.verified.underway(username, password);
    if (underway !== undefined) {
      if (await underway) return;
      throw denied("unknown user!");
    }
    // Unknown users cost a check too, so the answer's timing does not tell which names exist.
    const verifying = this.hasher.tryVerify(password, stored ?? UNUSABLE_HASH);
    if (verifying === undefined) throw busy();
    // Counted before the check: attempts arriving together each see the ones admitted before them.
    const backoffMs = this.throttle.admit(username, address, now);
    const check = verifying.then((ok) => ok && stored !== undefined);
    this.verified.track(username, password, check);
    if (await check) {
      this.throttle.succeeded(username, address);
      this.verified.remember(username, password, stored!, this.clock());
      return;
    }
    if (backoffMs > 0) this.log.warn("failed logins: backing off", { username: username.slice(0, 64), address, backoffMs });
    throw denied("unknown user!");
  }
}
