/**
 * When this node last heard from each ephemeral instance. Local state, never replicated: only the
 * responsible node acts on it, and a node that becomes responsible grants every instance a fresh grace
 * period (`graceFrom`) instead of trusting a peer's stale record, so a takeover never expires live clients.
 */
export class LastBeats {
  private readonly beats = new Map<string, number>();
  private graceFrom: number;

  constructor(private readonly clock: () => number) {
    this.graceFrom = clock();
  }

  private static id(serviceKey: string, instanceKey: string): string {
    return `${serviceKey}|${instanceKey}`;
  }

  touch(serviceKey: string, instanceKey: string): void {
    this.beats.set(LastBeats.id(serviceKey, instanceKey), this.clock());
  }

  /** Records a first sighting without refreshing an existing record. */
  seen(serviceKey: string, instanceKey: string): void {
    const id = LastBeats.id(serviceKey, instanceKey);
    if (!this.beats.has(id)) this.beats.set(id, this.clock());
  }

  forget(serviceKey: string, instanceKey: string): void {
    this.beats.delete(LastBeats.id(serviceKey, instanceKey));
  }

  /** Called whenever this node's share of responsibility may have changed. */
  startGrace(): void {
    this.graceFrom = this.clock();
  }

  /** Milliseconds since the instance last beat, counting from the grace start at most. */
  silenceOf(serviceKey: string, instanceKey: string): number {
    const last = this.beats.get(LastBeats.id(serviceKey, instanceKey)) ?? this.graceFrom;
    return this.clock() - Math.max(last, this.graceFrom);
  }

  lastBeat(serviceKey: string, instanceKey: string): number | undefined {
    return this.beats.get(LastBeats.id(serviceKey, instanceKey));
  }

  get size(): number {
    return this.beats.size;
  }
}
