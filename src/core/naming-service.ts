/**
 * Executes client writes on the node responsible for the service: the one place where instance lists
 * change. Every method reads the current datum, builds the next one and commits it as a single new version,
 * so a refused request never leaves a half-applied change behind.
 */
import { badRequest, NacosError } from "./errors.js";
import {
  identityOf,
  instanceKey,
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
import { EMPTY_SERVICE, type Registry, type RegistryChange } from "./registry.js";
import { TOMBSTONE_CONTENT, type ServiceContent } from "./service-datum.js";
import type { Switches } from "./switches.js";

const OK: WriteResult = Object.freeze({ type: "ok" });

const sameAddress = (i: Instance, a: InstanceAddress): boolean => i.ip === a.ip && i.port === a.port && i.clusterName === a.clusterName;

export class NamingService {
  constructor(
    private readonly registry: Registry,
    private readonly lastBeats: LastBeats,
    private readonly switches: Switches,
  ) {
    registry.onChange((change) => this.trackBeats(change));
  }

  execute(op: ClientWrite): WriteResult {
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
        this.removeInstances(serviceKey(op.service), (i) => sameAddress(i, op.address) && i.ephemeral === op.ephemeral);
        return OK;
      case "beat":
        return this.beat(op.service, op.address, op.beat);
      case "setHealth":
        this.setHealth(serviceKey(op.service), (i) => sameAddress(i, op.address), op.healthy);
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
    }
  }

  /** Health flips decided by the heartbeat checker; marked instances never change. */
  setHealth(key: string, match: (i: Instance) => boolean, healthy: boolean): void {
    this.mutate(key, (list) => list.map((i) => (match(i) && !i.marked && i.healthy !== healthy ? { ...i, healthy } : i)));
  }

  removeInstances(key: string, match: (i: Instance) => boolean): void {
    this.mutate(key, (list) => list.filter((i) => !match(i)));
  }

  private mutate(key: string, next: (list: readonly Instance[]) => readonly Instance[]): void {
    const current = this.registry.getLive(key);
    if (current === undefined) return;
    this.registry.commit(key, { ...current, instances: next(current.instances) });
  }

  private upsert(ref: ServiceRef, spec: InstanceSpec): Instance {
    checkGroupedName(ref.groupedName);
    const key = serviceKey(ref);
    const current: ServiceContent = this.registry.getLive(key) ?? EMPTY_SERVICE;
    const identity = identityOf(spec);
    const existing = current.instances.find((i) => identityOf(i) === identity);
    const instance: Instance = {
      instanceId: existing?.instanceId ?? this.newInstanceId(ref, spec, current.instances),
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
    const instances =
      existing === undefined ? [...current.instances, instance] : current.instances.map((i) => (i === existing ? instance : i));
    this.registry.commit(key, { ...current, deleted: false, instances });
    if (instance.ephemeral) this.lastBeats.touch(key, instanceKey(instance));
    return instance;
  }

  private newInstanceId(ref: ServiceRef, spec: InstanceSpec, list: readonly Instance[]): string {
    if (spec.metadata[PRESERVED_ID_GENERATOR] === "snowflake") {
      return snowflakeInstanceId(list.filter((i) => i.ephemeral === spec.ephemeral));
    }
    return simpleInstanceId(spec.ip, spec.port, spec.clusterName, ref.groupedName);
  }

  private requireInstance(ref: ServiceRef, spec: InstanceSpec): void {
    const datum = this.registry.getLive(serviceKey(ref));
    if (datum === undefined) {
      throw badRequest(`service not found, namespace: ${ref.namespaceId}, service: ${ref.groupedName}`);
    }
    if (!datum.instances.some((i) => identityOf(i) === identityOf(spec))) {
      throw badRequest(
        `instance not exist: ${JSON.stringify({ ip: spec.ip, port: spec.port, clusterName: spec.clusterName, ephemeral: spec.ephemeral })}`,
      );
    }
  }

  private patch(ref: ServiceRef, address: InstanceAddress, patch: InstancePatch): void {
    const key = serviceKey(ref);
    const datum = this.registry.getLive(key);
    const target = datum?.instances.find((i) => sameAddress(i, address));
    if (datum === undefined || target === undefined) throw badRequest("instance not found");
    const changed: Instance = { ...target, ...definedFields(patch) };
    this.registry.commit(key, { ...datum, instances: datum.instances.map((i) => (i === target ? changed : i)) });
    if (changed.ephemeral) this.lastBeats.touch(key, instanceKey(changed));
  }

  private beat(ref: ServiceRef, address: InstanceAddress, beat: InstanceSpecFromBeat | undefined): WriteResult {
    const key = serviceKey(ref);
    const where: InstanceAddress = beat ?? address;
    const atAddress = this.registry.getLive(key)?.instances.filter((i) => sameAddress(i, where)) ?? [];
    // A persistent instance at that address is found (as 1.4's getInstance finds it) but beats never touch it.
    let instance = atAddress.find((i) => i.ephemeral) ?? atAddress[0];
    if (instance === undefined) {
      if (beat === undefined) {
        return { type: "beat", code: BEAT_NOT_FOUND, clientBeatInterval: this.switches.clientBeatInterval };
      }
      // A full beat for an unknown instance re-creates it (1.4's "data compensation"); clients such as the
      // nacos npm SDK rely on it after a server restart because they ignore the beat's reply code.
      instance = this.upsert(ref, { ...beat, healthy: true, enabled: true, app: "DEFAULT" });
    }
    if (this.registry.getLive(key) === undefined) {
      throw new NacosError(500, `service not found: ${ref.groupedName}@${ref.namespaceId}`);
    }
    if (!instance.ephemeral) return this.beatAnswer(instance);
    this.lastBeats.touch(key, instanceKey(instance));
    if (!instance.healthy && !instance.marked) {
      this.setHealth(key, (i) => i.ephemeral && identityOf(i) === identityOf(instance), true);
    }
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
    const datum = this.registry.getLive(key);
    if (datum === undefined) throw badRequest(`service not found, namespace: ${ref.namespaceId}, service: ${ref.groupedName}`);
    const selected =
      typeof targets === "string"
        ? (i: Instance) => i.ephemeral === (targets === "ephemeral")
        : (i: Instance) => targets.some((t) => sameAddress(i, t) && t.ephemeral === i.ephemeral);
    const updated: string[] = [];
    const instances = datum.instances.map((i) => {
      if (!selected(i)) return i;
      updated.push(identityOf(i));
      return { ...i, metadata: remove ? withoutKeys(i.metadata, metadata) : { ...i.metadata, ...metadata } };
    });
    this.registry.commit(key, { ...datum, instances });
    return updated;
  }

  private createService(ref: ServiceRef, spec: ServiceSpec): void {
    checkGroupedName(ref.groupedName);
    const key = serviceKey(ref);
    if (this.registry.getLive(key) !== undefined) {
      throw badRequest(`specified service already exists, serviceName : ${ref.groupedName}`);
    }
    this.registry.commit(key, { deleted: false, meta: spec, instances: [] });
  }

  private updateService(ref: ServiceRef, spec: ServiceSpec): void {
    const key = serviceKey(ref);
    const datum = this.registry.getLive(key);
    if (datum === undefined) throw badRequest(`service ${ref.groupedName} not found!`);
    this.registry.commit(key, { ...datum, meta: spec });
  }

  private deleteService(ref: ServiceRef): void {
    const key = serviceKey(ref);
    if (this.registry.getLive(key) === undefined) {
      throw badRequest(`specified service not exist, serviceName : ${ref.groupedName}`);
    }
    this.registry.commit(key, TOMBSTONE_CONTENT);
  }

  /** Keeps last-beat records in step with the instances this node holds, whoever wrote them. */
  private trackBeats(change: RegistryChange): void {
    const before = change.previous?.instances ?? [];
    const after = new Set((change.current?.instances ?? []).filter((i) => i.ephemeral).map(instanceKey));
    for (const i of before) if (i.ephemeral && !after.has(instanceKey(i))) this.lastBeats.forget(change.key, instanceKey(i));
    for (const k of after) this.lastBeats.seen(change.key, k);
  }
}

type InstanceSpecFromBeat = NonNullable<Extract<ClientWrite, { type: "beat" }>["beat"]>;

function definedFields(patch: InstancePatch): Partial<Instance> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<Instance>;
}

function withoutKeys(metadata: Metadata, keys: Metadata): Metadata {
  return Object.fromEntries(Object.entries(metadata).filter(([k]) => !Object.hasOwn(keys, k)));
}
