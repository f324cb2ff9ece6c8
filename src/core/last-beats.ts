/**
 * When this node last heard from each ephemeral instance, by service key and entry id (the id strings the
 * registry already holds, so a record costs no new string). Local state, never replicated: only the
 * responsible node acts on it, and a node that becomes responsible grants every instance a fresh grace
 * period (`graceFrom`) instead of trusting a peer's stale record, so a takeover never expires live clients.
 */
export class LastBeats {
  private readonly beats = new Map<string, Map<string, number>>();
  private graceFrom: number;
  private count = 0;

  constructor(private readonly clock: () => number) {
    this.graceFrom = clock();
  }

  touch(serviceKey: string, id: string): void {
    this.set(serviceKey, id, false);
  }

  /** Records a first sighting without refreshing an existing record. */
  seen(serviceKey: string, id: string): void {
    this.set(serviceKey, id, true);
  }

  forget(serviceKey: string, id: string): void {
    const service = this.beats.get(serviceKey);
    if (service?.delete(id) !== true) return;
    this.count--;
    if (service.size === 0) this.beats.delete(serviceKey);
  }

  /** Called whenever this node's share of responsibility may have changed. */
  startGrace(): void {
    this.graceFrom = this.clock();
  }

  /** Milliseconds since the instance last beat, counting from the grace start at most. */
  silenceOf(serviceKey: string, id: string): number {
    const last = this.beats.get(serviceKey)?.get(id) ?? this.graceFrom;
    return this.clock() - Math.max(last, this.graceFrom);
  }

  lastBeat(serviceKey: string, id: string): number | undefined {
    return this.beats.get(serviceKey)?.get(id);
  }

  get size(): number {
    return this.count;
  }

  private set(serviceKey: string, id: string, onlyIfNew: boolean): void {
    let service = this.beats.get(serviceKey);
    if (service === undefined) {
      service = new Map();
      this.beats.set(serviceKey, service);
    }
    const had = service.has(id);
    if (had && onlyIfNew) return;
    service.set(id, this.clock());
    if (!had) this.count++;
  }
}
