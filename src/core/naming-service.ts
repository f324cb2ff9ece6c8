/**
 * Executes client writes on the node responsible for the service: the one place where instance lists
 * change. Each write names the instances it touches (by their entry id) and hands them to the registry as one
 * change, planned before anything is applied, so a refused request never leaves a half-applied change behind
 * and a write costs the same whatever the size of its service. While the node still loads what its peers hold,
 * a write whose outcome depends on what the node holds is refused (503) rather than decided on a partial view:
 * a full beat for an instance not loaded yet would re-create it (enabled, with the client's weight) under a
 * newer version than the loaded copy, undoing an operator's change everywhere; a patch would answer
 * "not found". Registrations and removals stand on their own and pass.
 */
import { settingsOf, type ClusterMap, type ClusterSettings } from "./cluster-settings.js";
import { badRequest, NacosError } from "./errors.js";
import {
  identityOf,
  PRESERVED_ID_GENERATOR,
  beatIntervalOf,
  simpleInstanceId,
  snowflakeInstanceId,
  type Instance,
  type Metadata,
} from "./instance.js";
import type { LastBeats } from "./last-beats.js";
import { checkGroupedName, serviceKey, type ServiceRef } from "./naming.js";
import {
  BEAT_NOT_FOUND,
  BEAT_OK,
  type ClientWrite,
  type InstanceAddress,
  type InstancePatch,
  type InstanceSpec,
  type MetadataTarget,
  type ServiceSpec,
  type WriteResult,
} from "./ops.js";
import type { Registry, RegistryChange } from "./registry.js";
import { DEFAULT_SERVICE_META, type ServiceMeta } from "./service-datum.js";
import type { ServiceState } from "./service-record.js";
import type { Switches } from "./switches.js";

const OK: WriteResult = Object.freeze({ type: "ok" });

/** The ids an instance at `address` may have: ephemeral first (as 1.4 looks there first), then persistent. */
const idsAt = (a: InstanceAddress): [string, string] => [identityOf({ ...a, ephemeral: true }), identityOf({ ...a, ephemeral: false })];

export class NamingService {
  constructor(
    private readonly registry: Registry,
    private readonly lastBeats: LastBeats,
    private readonly switches: Switches,
    /** False while the node loads what its peers hold (NamingNode.registryComplete). */
    private readonly registryComplete: () => boolean,
  ) {
    registry.onChange((change) => this.trackBeats(change));
  }

  execute(op: ClientWrite): WriteResult {
    if (dependsOnWhatItHolds(op) && !this.registryComplete()) throw stillLoading();
    switch (op.type) {
      case "register":
        this.upsert(op.service, op.instance);
        return OK;
      case "update":
        if (op.mustExist) this.requireInstance(op.service, op.instance);
        this.upsert(op.service, op.instance);
        return OK;
      case "patch":
        this.patch(op.service, op.address, op.patch);
        return OK;
      case "deregister":
        this.removeInstances(serviceKey(op.service), [identityOf({ ...op.address, ephemeral: op.ephemeral })]);
        return OK;
      case "beat":
        return this.beat(op.service, op.address, op.beat);
      case "setHealth":
        this.requireManualHealth(op.service, op.address.clusterName);
        this.setHealth(serviceKey(op.service), idsAt(op.address), op.healthy);
        return OK;
      case "updateMetadata":
        return { type: "updated", updated: this.updateMetadata(op.service, op.targets, op.metadata, op.remove) };
      case "createService":
        this.createService(op.service, op.spec);
        return OK;
      case "updateService":
        this.updateService(op.service, op.spec);
        return OK;
      case "deleteService":
        this.deleteService(op.service);
        return OK;
      case "updateCluster":
        this.updateCluster(op.service, op.clusterName, op.settings);
        return OK;
      // placeholder: owned by helper A (issue 17 design)
      case "batchRegister":
        for (const instance of op.instances) this.upsert(op.service, instance);
        return OK;
    }
  }

  /** Health flips (by entry id) decided here or by the heartbeat checker; marked instances never change. */
  setHealth(key: string, ids: Iterable<string>, healthy: boolean): void {
    const service = this.registry.liveService(key);
    if (service === undefined) return;
    const put: Instance[] = [];
    for (const id of ids) {
      const i = service.entry(id)?.instance;
      if (i !== undefined && !i.marked && i.healthy !== healthy) put.push({ ...i, healthy });
    }
    this.registry.update(key, { put });
  }

  removeInstances(key: string, ids: readonly string[]): void {
    this.registry.update(key, { remove: ids });
  }

  private upsert(ref: ServiceRef, spec: InstanceSpec): Instance {
    checkGroupedName(ref.groupedName);
    const key = serviceKey(ref);
    const service = this.registry.liveService(key);
    const id = identityOf(spec);
    const existing = service?.entry(id)?.instance;
    const instance: Instance = {
      instanceId: existing?.instanceId ?? this.newInstanceId(ref, spec, service),
      ip: spec.ip,
      port: spec.port,
      weight: spec.weight,
      // Re-registration keeps the health this node decided (1.4 keeps local health on every update).
      healthy: existing !== undefined && !existing.marked ? existing.healthy : spec.healthy,
      enabled: spec.enabled,
      ephemeral: spec.ephemeral,
      clusterName: spec.clusterName,
      serviceName: ref.groupedName,
      metadata: spec.metadata,
      app: spec.app,
      marked: existing?.marked ?? false,
    };
    this.registry.update(key, { put: [instance] });
    if (instance.ephemeral) this.lastBeats.touch(key, id);
    return instance;
  }

  private newInstanceId(ref: ServiceRef, spec: InstanceSpec, service: ServiceState | undefined): string {
    if (spec.metadata[PRESERVED_ID_GENERATOR] === "snowflake") {
      return snowflakeInstanceId([...(service?.instances() ?? [])].filter((i) => i.ephemeral === spec.ephemeral));
    }
    return simpleInstanceId(spec.ip, spec.port, spec.clusterName, ref.groupedName);
  }

  private requireInstance(ref: ServiceRef, spec: InstanceSpec): void {
    const service = this.registry.liveService(serviceKey(ref));
    if (service === undefined) {
      throw badRequest(`service not found, namespace: ${ref.namespaceId}, service: ${ref.groupedName}`);
    }
    if (service.entry(identityOf(spec))?.instance === undefined) {
      throw badRequest(
        `instance not exist: ${JSON.stringify({ ip: spec.ip, port: spec.port, clusterName: spec.clusterName, ephemeral: spec.ephemeral })}`,
      );
    }
  }

  /** The instance at an address, ephemeral first. */
  private instanceAt(service: ServiceState | undefined, address: InstanceAddress): Instance | undefined {
    if (service === undefined) return undefined;
    const [ephemeral, persistent] = idsAt(address);
    return service.entry(ephemeral)?.instance ?? service.entry(persistent)?.instance;
  }

  private patch(ref: ServiceRef, address: InstanceAddress, patch: InstancePatch): void {
    const key = serviceKey(ref);
    const target = this.instanceAt(this.registry.liveService(key), address);
    if (target === undefined) throw badRequest("instance not found");
    const changed: Instance = { ...target, ...definedFields(patch) };
    this.registry.update(key, { put: [changed] });
    if (changed.ephemeral) this.lastBeats.touch(key, identityOf(changed));
  }

  private beat(ref: ServiceRef, address: InstanceAddress, beat: InstanceSpecFromBeat | undefined): WriteResult {
    const key = serviceKey(ref);
    // A persistent instance at that address is found (as 1.4's getInstance finds it) but beats never touch it.
    let instance = this.instanceAt(this.registry.liveService(key), beat ?? address);
    if (instance === undefined) {
      // Not loaded yet is not gone: the loaded copy keeps its grace (last-beats.ts), the client beats again.
      if (!this.registryComplete()) throw stillLoading();
      if (beat === undefined) {
        return { type: "beat", code: BEAT_NOT_FOUND, clientBeatInterval: this.switches.clientBeatInterval };
      }
      // A full beat for an unknown instance re-creates it (1.4's "data compensation"); clients such as the
      // nacos npm SDK rely on it after a server restart because they ignore the beat's reply code.
      instance = this.upsert(ref, { ...beat, healthy: true, enabled: true, app: "DEFAULT" });
    }
    if (this.registry.liveService(key) === undefined) {
      throw new NacosError(500, `service not found: ${ref.groupedName}@${ref.namespaceId}`);
    }
    if (!instance.ephemeral) return this.beatAnswer(instance);
    const id = identityOf(instance);
    this.lastBeats.touch(key, id);
    if (!instance.healthy && !instance.marked) this.setHealth(key, [id], true);
    return this.beatAnswer(instance);
  }

  private beatAnswer(instance: Instance): WriteResult {
    return {
      type: "beat",
      code: BEAT_OK,
      clientBeatInterval: beatIntervalOf(instance, this.switches.clientBeatInterval),
      lightBeatEnabled: this.switches.lightBeatEnabled,
    };
  }

  private updateMetadata(
    ref: ServiceRef,
    targets: readonly MetadataTarget[] | "ephemeral" | "persist",
    metadata: Metadata,
    remove: boolean,
  ): string[] {
    const key = serviceKey(ref);
    const service = this.registry.liveService(key);
    if (service === undefined) throw badRequest(`service not found, namespace: ${ref.namespaceId}, service: ${ref.groupedName}`);
    const selected = new Map<string, Instance>();
    if (typeof targets === "string") {
      for (const e of service.entries()) if (e.instance?.ephemeral === (targets === "ephemeral")) selected.set(e.id, e.instance);
    } else {
      for (const t of targets) {
        const id = identityOf(t);
        const i = service.entry(id)?.instance;
        if (i !== undefined) selected.set(id, i);
      }
    }
    const put = [...selected.values()].map((i) => ({
      ...i,
      metadata: remove ? withoutKeys(i.metadata, metadata) : { ...i.metadata, ...metadata },
    }));
    this.registry.update(key, { put });
    return [...selected.keys()].sort();
  }

  private createService(ref: ServiceRef, spec: ServiceSpec): void {
    checkGroupedName(ref.groupedName);
    const key = serviceKey(ref);
    if (this.registry.liveService(key) !== undefined) {
      throw badRequest(`specified service already exists, serviceName : ${ref.groupedName}`);
    }
    this.registry.writeMeta(key, false, metaOf(spec, DEFAULT_SERVICE_META.clusters));
  }

  /** A replace of the service's own settings, as 1.4's; its clusters keep theirs. */
  private updateService(ref: ServiceRef, spec: ServiceSpec): void {
    const key = serviceKey(ref);
    const service = this.registry.liveService(key);
    if (service === undefined) throw badRequest(`service ${ref.groupedName} not found!`);
    this.registry.writeMeta(key, false, metaOf(spec, service.meta.clusters));
  }

  private updateCluster(ref: ServiceRef, clusterName: string, settings: ClusterSettings): void {
    const key = serviceKey(ref);
    const service = this.registry.liveService(key);
    if (service === undefined) throw badRequest(`service not found:${ref.groupedName}`);
    const meta = service.meta;
    this.registry.writeMeta(key, false, { ...meta, clusters: { ...meta.clusters, [clusterName]: settings } });
  }

  /** 1.4 lets clients set health only where no server-side check would overrule them. */
  private requireManualHealth(ref: ServiceRef, clusterName: string): void {
    const service = this.registry.liveService(serviceKey(ref));
    if (service === undefined) throw badRequest(`service not found, namespace: ${ref.namespaceId}, service: ${ref.groupedName}`);
    if (settingsOf(service.meta.clusters, clusterName).healthChecker.type !== "NONE") {
      throw badRequest(`health check is still working, service: ${ref.groupedName}`);
    }
  }

  private deleteService(ref: ServiceRef): void {
    const key = serviceKey(ref);
    if (this.registry.liveService(key) === undefined) {
      throw badRequest(`specified service not exist, serviceName : ${ref.groupedName}`);
    }
    this.registry.writeMeta(key, true, DEFAULT_SERVICE_META);
  }

  /** Keeps last-beat records in step with the ephemeral instances this node holds, whoever wrote them. */
  private trackBeats(change: RegistryChange): void {
    for (const { before, after } of change.entries) {
      if (after?.instance?.ephemeral === true) this.lastBeats.seen(change.key, after.id);
      else if (before?.instance?.ephemeral === true) this.lastBeats.forget(change.key, before.id);
    }
  }
}

/** Writes that read what the node holds before deciding (a beat reads it only for an unknown instance). */
function dependsOnWhatItHolds(op: ClientWrite): boolean {
  switch (op.type) {
    case "register":
    case "deregister":
    case "beat":
      return false;
    case "update":
      return op.mustExist;
    default:
      return true;
  }
}

const stillLoading = (): NacosError =>
  new NacosError(
    503,
    "server is STARTING now: it is still loading the registry its peers hold and this write depends on what it holds, please try again later!",
  );

type InstanceSpecFromBeat = NonNullable<Extract<ClientWrite, { type: "beat" }>["beat"]>;

function metaOf(spec: ServiceSpec, clusters: ClusterMap): ServiceMeta {
  return { protectThreshold: spec.protectThreshold, metadata: spec.metadata, selector: spec.selector, clusters };
}

function definedFields(patch: InstancePatch): Partial<Instance> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<Instance>;
}

function withoutKeys(metadata: Metadata, keys: Metadata): Metadata {
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !Object.hasOwn(keys, k)));
}
